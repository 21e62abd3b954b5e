<?php
/**
 * Admin: notices, the connection test action and the product's POS Sync notes.
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Apply\StockApplier;
use PosSync\Jobs\Connection;
use PosSync\Jobs\NodeCheck;
use PosSync\Jobs\OutboxActions;
use PosSync\Jobs\Runner;
use PosSync\Jobs\SiteGuard;
use PosSync\Orders\References;
use PosSync\Store\Catalogue;
use PosSync\Store\Lookups;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Admin screens and actions (manage_woocommerce and a nonce on every action).
 */
final class Notices {

	/**
	 * Wires the admin hooks.
	 */
	public static function hooks(): void {
		add_action( 'admin_notices', array( self::class, 'last_run_notice' ) );
		add_action( 'admin_notices', array( self::class, 'host_notice' ) );
		add_action( 'admin_post_pos_sync_test_connection', array( self::class, 'test_connection' ) );
		add_action( 'add_meta_boxes_product', array( self::class, 'add_notes_box' ) );
		OrdersAdmin::hooks();
		OutboxActions::hooks();
		SiteGuard::hooks();
		Lookups::hooks();
		Catalogue::hooks();
	}

	/**
	 * WooCommerce is not active: the plugin does nothing.
	 */
	public static function woocommerce_missing_notice(): void {
		if ( ! current_user_can( 'activate_plugins' ) ) {
			return;
		}
		printf(
			'<div class="notice notice-error"><p>%s</p></div>',
			esc_html__( 'POS Sync for WooCommerce needs WooCommerce 9.0 or later to be active; until then it does nothing.', 'pos-sync' )
		);
	}

	/**
	 * The last sync failed: say why.
	 */
	public static function last_run_notice(): void {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			return;
		}
		$run = get_option( Runner::LAST_RUN_OPTION );
		if ( ! is_array( $run ) || ! empty( $run['ok'] ) || empty( $run['error'] ) ) {
			return;
		}
		printf(
			'<div class="notice notice-error pos-sync-notice"><p><strong>%1$s</strong> %2$s <a href="%3$s">%4$s</a></p></div>',
			esc_html__( 'POS Sync:', 'pos-sync' ),
			esc_html(
				sprintf(
					/* translators: 1: date and time, 2: cause */
					__( 'the last sync (%1$s) failed: %2$s', 'pos-sync' ),
					wp_date( 'Y-m-d H:i:s', (int) $run['finished_at'] ),
					(string) $run['error']
				)
			),
			esc_url( admin_url( 'admin.php?page=wc-settings&tab=pos_sync' ) ),
			esc_html__( 'Settings', 'pos-sync' )
		);
	}

	/**
	 * This PHP cannot start the sidecar (proc_open disabled): say what the host must allow.
	 */
	public static function host_notice(): void {
		$problem = current_user_can( 'manage_woocommerce' ) ? NodeCheck::php_problem() : null;
		if ( null !== $problem ) {
			printf( '<div class="notice notice-error pos-sync-notice" id="pos-sync-host-notice"><p><strong>%1$s</strong> %2$s</p></div>', esc_html__( 'POS Sync:', 'pos-sync' ), esc_html( $problem ) );
		}
	}

	/**
	 * admin-post (POST, manage_options): runs the test_connection job and goes back to the settings tab.
	 */
	public static function test_connection(): void {
		// The test sends the saved secret and refresh token to the configured host: administrators only.
		Actions::guard( 'pos_sync_test_connection', Connection::CAPABILITY );
		$run = Runner::run( 'test_connection' );
		if ( ! empty( $run['ok'] ) ) {
			References::note_connected();
			$account = (array) ( $run['result']['account'] ?? array() );
			// Connected: read the pick-lists (shops, registers …) the settings choose from.
			$lists  = Lookups::refresh();
			$result = array(
				'ok'      => true,
				'message' => sprintf(
					/* translators: 1: account name, 2: account ID */
					__( 'Connected to the Lightspeed account “%1$s” (ID %2$s).', 'pos-sync' ),
					(string) ( $account['name'] ?? '?' ),
					(string) ( $account['id'] ?? '?' )
				) . ' ' . $lists['message'],
			);
		} else {
			$result = array(
				'ok'      => false,
				/* translators: %s: cause */
				'message' => sprintf( __( 'Connection failed: %s', 'pos-sync' ), (string) $run['error'] ),
			);
		}
		set_transient( 'pos_sync_test_result_' . get_current_user_id(), $result, 5 * MINUTE_IN_SECONDS );
		wp_safe_redirect( admin_url( 'admin.php?page=wc-settings&tab=pos_sync&pos_sync_tested=1' ) );
		exit;
	}

	/**
	 * Shows (once) the result of the last connection test.
	 */
	public static function test_result_notice(): void {
		$key    = 'pos_sync_test_result_' . get_current_user_id();
		$result = get_transient( $key );
		if ( ! is_array( $result ) ) {
			return;
		}
		delete_transient( $key );
		printf(
			'<div id="pos-sync-test-result" class="notice %1$s inline"><p>%2$s</p></div>',
			$result['ok'] ? 'notice-success' : 'notice-error',
			esc_html( (string) $result['message'] )
		);
	}

	/**
	 * The stock audit log: the latest writes, newest first.
	 */
	public static function stock_log_table(): void {
		global $wpdb;
		$table = Schema::stock_log();
		$rows  = $wpdb->get_results( "SELECT l.*, p.post_title, p.post_parent FROM {$table} l LEFT JOIN {$wpdb->posts} p ON p.ID = l.product_id ORDER BY l.id DESC LIMIT 200", ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		echo '<h2>' . esc_html__( 'Stock log', 'pos-sync' ) . '</h2>';
		echo '<p>' . esc_html(
			sprintf(
				/* translators: %d: days */
				__( 'Every stock figure POS Sync wrote (the latest 200; rows are kept for %d days). Web stock = POS stock (minus the safety buffer) − online orders and refunds not yet in the POS, never below 0.', 'pos-sync' ),
				(int) Settings::get( 'log_days' )
			)
		) . '</p>';
		if ( ! $rows ) {
			echo '<p><em>' . esc_html__( 'No stock written yet.', 'pos-sync' ) . '</em></p>';
			return;
		}
		$headers = array( __( 'Time (UTC)', 'pos-sync' ), __( 'Product', 'pos-sync' ), __( 'POS item', 'pos-sync' ), __( 'From', 'pos-sync' ), __( 'To', 'pos-sync' ), __( 'POS stock', 'pos-sync' ), __( 'Pending online', 'pos-sync' ), __( 'Buffer', 'pos-sync' ), __( 'Run', 'pos-sync' ) );
		echo '<table class="widefat striped pos-sync-stock-log"><thead><tr>';
		foreach ( $headers as $header ) {
			echo '<th>' . esc_html( $header ) . '</th>';
		}
		echo '</tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$edit_id = (int) ( $row['post_parent'] ? $row['post_parent'] : $row['product_id'] );
			printf(
				'<tr><td>%1$s</td><td><a href="%2$s">%3$s</a>%4$s</td><td>%5$s</td><td>%6$s</td><td>%7$s</td><td>%8$s</td><td>%9$s</td><td>%10$s</td><td><code>%11$s</code></td></tr>',
				esc_html( (string) $row['created_at'] ),
				esc_url( (string) get_edit_post_link( $edit_id ) ),
				esc_html( (string) ( $row['post_title'] ?? '#' . $row['product_id'] ) ),
				$row['overwrote_edit'] ? ' <mark>' . esc_html__( 'overwrote a hand edit', 'pos-sync' ) . '</mark>' : '',
				esc_html( (string) $row['item_id'] ),
				esc_html( null === $row['from_qty'] ? '—' : (string) $row['from_qty'] ),
				esc_html( (string) $row['to_qty'] ),
				esc_html( (string) ( (int) $row['pos_base'] + (int) $row['safety_buffer'] ) ),
				esc_html( (string) $row['pending'] ),
				esc_html( (string) $row['safety_buffer'] ),
				esc_html( (string) $row['run_id'] )
			);
		}
		echo '</tbody></table>';
	}

	/**
	 * The product's POS Sync notes (stock overwritten and why).
	 */
	public static function add_notes_box(): void {
		add_meta_box( 'pos-sync-notes', __( 'POS Sync', 'pos-sync' ), array( self::class, 'notes_box' ), 'product', 'side', 'low' );
	}

	/**
	 * Renders the notes box.
	 *
	 * @param \WP_Post $post Product post.
	 */
	public static function notes_box( $post ): void {
		if ( ! $post instanceof \WP_Post || ! current_user_can( 'edit_product', $post->ID ) ) {
			return;
		}
		$item  = (string) get_post_meta( $post->ID, StockApplier::ITEM_META, true );
		$notes = get_post_meta( $post->ID, StockApplier::NOTES_META, true );
		echo '<p>' . ( '' !== $item
			/* translators: %s: POS item ID */
			? esc_html( sprintf( __( 'Linked to POS item %s.', 'pos-sync' ), $item ) )
			: esc_html__( 'Not linked to a POS item (matched by SKU on the next sync).', 'pos-sync' ) ) . '</p>';
		if ( is_array( $notes ) && $notes ) {
			echo '<ul class="pos-sync-notes">';
			foreach ( $notes as $note ) {
				printf( '<li><small>%1$s</small><br>%2$s</li>', esc_html( wp_date( 'Y-m-d H:i', (int) $note['time'] ) ), esc_html( (string) $note['message'] ) );
			}
			echo '</ul>';
		}
	}
}
