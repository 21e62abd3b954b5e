<?php
/**
 * WooCommerce → Settings → POS Sync, on the WooCommerce settings API.
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Apply\Publisher;
use PosSync\Jobs\Connection;
use PosSync\Jobs\Prune;
use PosSync\Jobs\Runner;
use PosSync\Orders\References;
use PosSync\Plugin;
use PosSync\Store\Lookups;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * The settings tab. Secrets are never put back into the page.
 */
final class SettingsPage extends \WC_Settings_Page {

	/**
	 * Registers the tab.
	 */
	public function __construct() {
		$this->id    = 'pos_sync';
		$this->label = __( 'POS Sync', 'pos-sync' );
		parent::__construct();
		add_action( 'woocommerce_admin_field_pos_sync_test_connection', array( $this, 'output_test_connection' ) );
	}

	/**
	 * The fields. Secret fields always render empty, with a hint when a value is saved.
	 */
	protected function get_settings_for_default_section() {
		$s      = Settings::all();
		$tokens = Settings::tokens();
		$saved  = __( 'saved — leave blank to keep', 'pos-sync' );
		$field  = static fn( string $key ): string => Settings::OPTION . '[' . $key . ']';

		$fields = array(
			array(
				'title' => __( 'Lightspeed Retail connection', 'pos-sync' ),
				'type'  => 'title',
				'desc'  => __( 'The POS is the master of products and stock; this shop is one more sales channel.', 'pos-sync' ),
				'id'    => 'pos_sync_connection',
			),
			Connection::field(
				array(
					'title'   => __( 'API base URL', 'pos-sync' ),
					'id'      => $field( 'api_base' ),
					'type'    => 'url',
					'default' => Settings::defaults()['api_base'],
					'value'   => $s['api_base'],
					'css'     => 'min-width:420px;',
				),
				'api_base'
			),
			Connection::field(
				array(
					'title'   => __( 'Token URL', 'pos-sync' ),
					'id'      => $field( 'token_url' ),
					'type'    => 'url',
					'default' => Settings::defaults()['token_url'],
					'value'   => $s['token_url'],
					'css'     => 'min-width:420px;',
				),
				'token_url'
			),
			Connection::field(
				array(
					'title' => __( 'Account ID', 'pos-sync' ),
					'id'    => $field( 'account_id' ),
					'type'  => 'text',
					'value' => $s['account_id'],
				),
				'account_id'
			),
			Connection::field(
				array(
					'title' => __( 'Client ID', 'pos-sync' ),
					'id'    => $field( 'client_id' ),
					'type'  => 'text',
					'value' => $s['client_id'],
				),
				'client_id'
			),
			Connection::field(
				array(
					'title'             => __( 'Client secret', 'pos-sync' ),
					'id'                => $field( 'client_secret' ),
					'type'              => 'password',
					'value'             => '',
					'placeholder'       => '' !== $s['client_secret'] ? $saved : '',
					'desc'              => '' !== $s['client_secret'] ? '' : __( 'not set', 'pos-sync' ),
					'custom_attributes' => array( 'autocomplete' => 'new-password' ),
				),
				'client_secret'
			),
			Connection::field(
				array(
					'title'             => __( 'Refresh token', 'pos-sync' ),
					'id'                => $field( 'refresh_token' ),
					'type'              => 'password',
					'value'             => '',
					'placeholder'       => '' !== (string) $tokens['refresh_token'] ? $saved : '',
					'desc'              => '' !== (string) $tokens['refresh_token'] ? '' : __( 'not set', 'pos-sync' ),
					'custom_attributes' => array( 'autocomplete' => 'new-password' ),
				),
				'refresh_token'
			),
			array(
				'type' => 'pos_sync_test_connection',
				'id'   => 'pos_sync_test_connection',
			),
			array(
				'type' => 'pos_sync_lookups',
				'id'   => 'pos_sync_lookups',
			),
			array(
				'type' => 'sectionend',
				'id'   => 'pos_sync_connection',
			),
			array(
				'title' => __( 'Stock', 'pos-sync' ),
				'type'  => 'title',
				'id'    => 'pos_sync_stock',
			),
			Lookups::field(
				'shops',
				array(
					'title'       => __( 'Shops to sum', 'pos-sync' ),
					'id'          => $field( 'shop_ids' ),
					'type'        => 'text',
					'value'       => $s['shop_ids'],
					'placeholder' => __( 'every shop', 'pos-sync' ),
					'desc_tip'    => __( 'The POS shops whose stock is summed for the web shop; none chosen sums every shop.', 'pos-sync' ),
				),
				true
			),
			array(
				'title'             => __( 'Safety buffer', 'pos-sync' ),
				'id'                => $field( 'safety_buffer' ),
				'type'              => 'number',
				'value'             => (string) $s['safety_buffer'],
				'custom_attributes' => array(
					'min'  => '0',
					'step' => '1',
				),
				'desc_tip'          => __( 'Units kept back from the web shop for every product.', 'pos-sync' ),
			),
			array(
				'title'             => __( 'Keep the stock log for (days)', 'pos-sync' ),
				'id'                => $field( 'log_days' ),
				'type'              => 'number',
				'value'             => (string) $s['log_days'],
				'custom_attributes' => array(
					'min'  => '1',
					'step' => '1',
				),
			),
			array(
				'type' => 'sectionend',
				'id'   => 'pos_sync_stock',
			),
			array(
				'title' => __( 'Runner', 'pos-sync' ),
				'type'  => 'title',
				'id'    => 'pos_sync_runner',
			),
			Connection::field(
				array(
					'title'       => __( 'Node.js binary', 'pos-sync' ),
					'id'          => $field( 'node_path' ),
					'type'        => 'text',
					'value'       => $s['node_path'],
					'placeholder' => (string) ( Runner::find_node( '' ) ?? __( 'not found on this server', 'pos-sync' ) ),
					'desc_tip'    => __( 'Leave empty to look in the usual places.', 'pos-sync' ),
				),
				'node_path'
			),
			Connection::field(
				array(
					'title'             => __( 'Time budget per run (seconds)', 'pos-sync' ),
					'id'                => $field( 'budget_seconds' ),
					'type'              => 'number',
					'value'             => (string) $s['budget_seconds'],
					'custom_attributes' => array(
						'min'  => '5',
						'max'  => '300',
						'step' => '1',
					),
				),
				'budget_seconds'
			),
			array(
				'type' => 'sectionend',
				'id'   => 'pos_sync_runner',
			),
		);
		return array_merge( $fields, OrdersAdmin::settings_fields( $field ), Publisher::settings_fields( $field ), Prune::settings_fields( $field ) );
	}

	/**
	 * Two sections: the settings and the stock audit log.
	 */
	protected function get_own_sections() {
		return array(
			''    => __( 'Settings', 'pos-sync' ),
			'log' => __( 'Stock log', 'pos-sync' ),
		);
	}

	/**
	 * The page, with the result of the last connection test on top; or the stock log.
	 */
	public function output() {
		global $current_section;
		if ( 'log' === $current_section ) {
			$GLOBALS['hide_save_button'] = true; // phpcs:ignore WordPress.WP.GlobalVariablesOverride
			Notices::stock_log_table();
			return;
		}
		Notices::test_result_notice();
		parent::output();
	}

	/**
	 * Saves through our own validation (blank secrets keep their value).
	 */
	public function save() {
		global $current_section;
		if ( 'log' === $current_section ) {
			return;
		}
		// WC_Admin_Settings::save() has checked the nonce and capability before calling this.
		$posted = isset( $_POST[ Settings::OPTION ] ) ? (array) wp_unslash( $_POST[ Settings::OPTION ] ) : array(); // phpcs:ignore WordPress.Security.NonceVerification.Missing, WordPress.Security.ValidatedSanitizedInput.InputNotSanitized
		// The connection and the runner only for manage_options (Connection::protect).
		foreach ( Settings::save_form( $posted, Connection::can_manage() ) as $error ) {
			\WC_Admin_Settings::add_error( $error );
		}
		if ( Settings::is_configured() ) {
			References::note_connected();
			Plugin::ensure_scheduled();
		}
		$this->do_update_options_action();
	}

	/**
	 * The "Test connection" row.
	 *
	 * @param array $field Field definition.
	 */
	public function output_test_connection( $field ): void {
		unset( $field );
		?>
		<tr valign="top">
			<th scope="row" class="titledesc"><?php esc_html_e( 'Connection', 'pos-sync' ); ?></th>
			<td class="forminp">
				<?php if ( Connection::can_manage() ) : ?>
					<?php echo Actions::button( 'pos_sync_test_connection', 'pos_sync_test_connection', __( 'Test connection', 'pos-sync' ), array(), array( 'id' => 'pos-sync-test-connection' ) ); // phpcs:ignore WordPress.Security.EscapeOutput -- escaped by Actions::button. ?>
					<p class="description"><?php esc_html_e( 'Uses the saved settings: save first.', 'pos-sync' ); ?></p>
				<?php else : ?>
					<p class="description" id="pos-sync-keys-read-only"><?php esc_html_e( 'The connection and the runner are set by an administrator; you can change every other setting.', 'pos-sync' ); ?></p>
				<?php endif; ?>
				<p class="description"><?php esc_html_e( 'A change of the API or token host discards the saved client secret and tokens: they must be entered again for the new host.', 'pos-sync' ); ?></p>
			</td>
		</tr>
		<?php
	}
}
