<?php
/**
 * Admin for the full reconcile and for orders and refunds: their settings, the
 * "Reconcile now" and "Retry now" actions, the outbox failures and the POS box on
 * the order screen (HPOS and legacy). manage_woocommerce and a nonce on every action.
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Jobs\Outbox;
use PosSync\Jobs\OutboxActions;
use PosSync\Jobs\Reconcile;
use PosSync\Jobs\Runner;
use PosSync\Orders\References;
use PosSync\Store\Log;
use PosSync\Store\Lookups;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Screens and actions of the reconcile and the outbox.
 */
final class OrdersAdmin {

	/**
	 * Wires the admin hooks.
	 */
	public static function hooks(): void {
		add_action( 'admin_post_pos_sync_reconcile_now', array( self::class, 'reconcile_now' ) );
		add_action( 'woocommerce_admin_field_pos_sync_reconcile_now', array( self::class, 'output_reconcile_now' ) );
		add_action( 'woocommerce_admin_field_pos_sync_outbox_failures', array( self::class, 'output_failures' ) );
		add_action( 'add_meta_boxes', array( self::class, 'add_order_box' ), 10, 2 );
		add_action( 'admin_notices', array( self::class, 'failed_run_notice' ) );
	}

	/**
	 * The last post_orders or reconcile run failed (the sync has its own notice): say why.
	 */
	public static function failed_run_notice(): void {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			return;
		}
		$runs  = (array) get_option( Runner::LAST_RUNS_OPTION, array() );
		$names = array(
			'post_orders' => __( 'sending orders and refunds to the POS', 'pos-sync' ),
			'reconcile'   => __( 'the full reconcile', 'pos-sync' ),
		);
		foreach ( $names as $kind => $name ) {
			$run = $runs[ $kind ] ?? null;
			if ( ! is_array( $run ) || ! empty( $run['ok'] ) || empty( $run['error'] ) ) {
				continue;
			}
			printf(
				'<div class="notice notice-warning pos-sync-notice"><p><strong>%1$s</strong> %2$s</p></div>',
				esc_html__( 'POS Sync:', 'pos-sync' ),
				esc_html(
					sprintf(
						/* translators: 1: what ran, 2: date and time, 3: cause */
						__( '%1$s (%2$s) failed: %3$s — nothing is lost; the next run carries on.', 'pos-sync' ),
						$name,
						wp_date( 'Y-m-d H:i:s', (int) $run['finished_at'] ),
						(string) $run['error']
					)
				)
			);
		}
	}

	/**
	 * Settings fields: the reconcile schedule and the orders block.
	 *
	 * @param callable $field Setting key → field name.
	 */
	public static function settings_fields( callable $field ): array {
		$s = Settings::all();
		return array_merge(
			array(
				array(
					'title' => __( 'Full reconcile', 'pos-sync' ),
					'type'  => 'title',
					'desc'  => __( 'Reads the stock of every POS item and corrects every difference; a pass spreads over as many runs as it needs and resumes after errors.', 'pos-sync' ),
					'id'    => 'pos_sync_reconcile',
				),
				array(
					'title'   => __( 'Run a full reconcile', 'pos-sync' ),
					'id'      => $field( 'reconcile_every' ),
					'type'    => 'select',
					'value'   => (string) $s['reconcile_every'],
					'options' => array(
						'hourly' => __( 'Every hour', 'pos-sync' ),
						'daily'  => __( 'Every day', 'pos-sync' ),
						'weekly' => __( 'Every week', 'pos-sync' ),
						'off'    => __( 'Never (only when asked)', 'pos-sync' ),
					),
				),
				array(
					'type' => 'pos_sync_reconcile_now',
					'id'   => 'pos_sync_reconcile_now',
				),
				array(
					'type' => 'sectionend',
					'id'   => 'pos_sync_reconcile',
				),
				array(
					'title' => __( 'Orders and refunds', 'pos-sync' ),
					'type'  => 'title',
					'desc'  => __( 'Each paid order becomes one POS sale and each refund a POS return, exactly once. Orders wait in the outbox until shop, register and employee are set.', 'pos-sync' ),
					'id'    => 'pos_sync_orders',
				),
				array(
					'title'    => __( 'Paid order statuses', 'pos-sync' ),
					'id'       => $field( 'order_statuses' ),
					'type'     => 'text',
					'value'    => (string) $s['order_statuses'],
					'desc_tip' => __( 'Order statuses (comma separated) at which an order is sent to the POS.', 'pos-sync' ),
				),
				array(
					'title'             => __( 'Reference prefix', 'pos-sync' ),
					'id'                => $field( 'reference_prefix' ),
					'type'              => 'text',
					'value'             => References::prefix(),
					'desc'              => References::prefix_locked() ? __( 'Orders were handed to the POS with this prefix, so it can no longer change (each row keeps the reference it was made with).', 'pos-sync' ) : __( 'Unique to this site by default; it can change only until the first order is handed to the POS.', 'pos-sync' ),
					'desc_tip'          => __( 'POS reference number = prefix + order number (refunds: prefix + R + refund ID), stored when the order\'s row is made.', 'pos-sync' ),
					'custom_attributes' => References::prefix_locked() ? array( 'readonly' => 'readonly' ) : array(),
				),
				array(
					'title'       => __( 'Post orders created after', 'pos-sync' ),
					'id'          => $field( 'orders_after' ),
					'type'        => 'date',
					'value'       => (string) $s['orders_after'],
					'placeholder' => References::cutoff_date(),
					'desc'        => sprintf(
						/* translators: %s: date */
						__( 'Orders created before this day are never posted and never hold stock. Empty: the day the connection was first made (%s).', 'pos-sync' ),
						'' !== (string) get_option( References::CONNECTED_OPTION ) ? (string) get_option( References::CONNECTED_OPTION ) : __( 'not yet', 'pos-sync' )
					),
				),
			),
			array(
				Lookups::field(
					'shops',
					array(
						'title'    => __( 'POS shop of web sales', 'pos-sync' ),
						'id'       => $field( 'pos_shop_id' ),
						'type'     => 'text',
						'value'    => (string) $s['pos_shop_id'],
						'desc_tip' => __( 'The POS shop each web sale is recorded in.', 'pos-sync' ),
					),
					false,
					__( 'not chosen: orders wait', 'pos-sync' )
				),
				Lookups::field(
					'registers',
					array(
						'title'    => __( 'POS register', 'pos-sync' ),
						'id'       => $field( 'register_id' ),
						'type'     => 'text',
						'value'    => (string) $s['register_id'],
						'desc_tip' => __( 'A register of that shop.', 'pos-sync' ),
					),
					false,
					__( 'not chosen: orders wait', 'pos-sync' )
				),
				Lookups::field(
					'employees',
					array(
						'title'    => __( 'POS employee', 'pos-sync' ),
						'id'       => $field( 'employee_id' ),
						'type'     => 'text',
						'value'    => (string) $s['employee_id'],
						'desc_tip' => __( 'The employee web sales are recorded under (for example one named “Web Store”).', 'pos-sync' ),
					),
					false,
					__( 'not chosen: orders wait', 'pos-sync' )
				),
			),
			Lookups::payment_type_fields(
				$field,
				array(
					'title'       => __( 'Payment types', 'pos-sync' ),
					'id'          => $field( 'payment_types' ),
					'type'        => 'text',
					'value'       => (string) $s['payment_types'],
					'placeholder' => 'bacs=7, stripe=3, default=1',
					'desc_tip'    => __( 'WooCommerce gateway ID = POS payment type ID, comma separated; "default" for every other gateway.', 'pos-sync' ),
					'css'         => 'min-width:420px;',
				)
			),
			array(
				array(
					'title'    => __( 'Shipping item ID', 'pos-sync' ),
					'id'       => $field( 'shipping_item_id' ),
					'type'     => 'text',
					'value'    => (string) $s['shipping_item_id'],
					'desc_tip' => __( 'A non-inventory POS item that carries shipping as a sale line; empty leaves shipping out of the sale.', 'pos-sync' ),
				),
				array(
					'title'    => __( 'Refund item ID', 'pos-sync' ),
					'id'       => $field( 'refund_item_id' ),
					'type'     => 'text',
					'value'    => (string) $s['refund_item_id'],
					'desc_tip' => __( 'A non-inventory POS item for money refunded without restocking; empty uses the shipping item.', 'pos-sync' ),
				),
				array(
					'title'    => __( 'Fee item ID', 'pos-sync' ),
					'id'       => $field( 'fee_item_id' ),
					'type'     => 'text',
					'value'    => (string) $s['fee_item_id'],
					'desc_tip' => __( 'A non-inventory POS item that carries each WooCommerce fee line (payment surcharge, gift wrap, discount fee) as a sale line at its total with tax; empty: orders with fees need attention.', 'pos-sync' ),
				),
				array(
					'title'             => __( 'Attempts before attention', 'pos-sync' ),
					'id'                => $field( 'max_attempts' ),
					'type'              => 'number',
					'value'             => (string) $s['max_attempts'],
					'custom_attributes' => array(
						'min'  => '1',
						'max'  => '50',
						'step' => '1',
					),
				),
				array(
					'type' => 'pos_sync_outbox_failures',
					'id'   => 'pos_sync_outbox_failures',
				),
				array(
					'type' => 'sectionend',
					'id'   => 'pos_sync_orders',
				),
			)
		);
	}

	/**
	 * The "Reconcile now" row, with where the pass stands.
	 *
	 * @param array $field Field definition.
	 */
	public static function output_reconcile_now( $field ): void {
		unset( $field );
		$state = Reconcile::state();
		if ( $state['running'] ) {
			/* translators: %s: date and time */
			$status = sprintf( __( 'A pass started at %s is under way.', 'pos-sync' ), wp_date( 'Y-m-d H:i', (int) $state['started_at'] ) );
		} elseif ( $state['finished_at'] ) {
			/* translators: %s: date and time */
			$status = sprintf( __( 'The last pass finished at %s.', 'pos-sync' ), wp_date( 'Y-m-d H:i', (int) $state['finished_at'] ) );
		} else {
			$status = __( 'No pass has run yet.', 'pos-sync' );
		}
		?>
		<tr valign="top">
			<th scope="row" class="titledesc"><?php esc_html_e( 'Reconcile', 'pos-sync' ); ?></th>
			<td class="forminp">
				<?php echo Actions::button( 'pos_sync_reconcile_now', 'pos_sync_reconcile_now', __( 'Reconcile now', 'pos-sync' ), array(), array( 'id' => 'pos-sync-reconcile-now' ) ); // phpcs:ignore WordPress.Security.EscapeOutput -- escaped by Actions::button. ?>
				<p class="description" id="pos-sync-reconcile-status"><?php echo esc_html( $status ); ?></p>
			</td>
		</tr>
		<?php
	}

	/**
	 * admin-post (POST): starts a pass (the next tick runs it) and goes back to the settings tab.
	 */
	public static function reconcile_now(): void {
		Actions::guard( 'pos_sync_reconcile_now' );
		Reconcile::start();
		Log::info( __( 'Full reconcile requested from the admin; it starts with the next run.', 'pos-sync' ) );
		wp_safe_redirect( admin_url( 'admin.php?page=wc-settings&tab=pos_sync&pos_sync_reconcile=1' ) );
		exit;
	}

	/**
	 * The outbox rows that failed, with their cause and the actions that resolve them
	 * (OutboxActions: Retry, "Entered in the POS by hand", Cancel; per row and in bulk).
	 *
	 * @param array $field Field definition.
	 */
	public static function output_failures( $field ): void {
		unset( $field );
		?>
		<tr valign="top">
			<th scope="row" class="titledesc"><?php esc_html_e( 'Not yet in the POS', 'pos-sync' ); ?></th>
			<td class="forminp"><?php OutboxActions::table( Outbox::failures() ); ?></td>
		</tr>
		<?php
	}

	/**
	 * The order's edit screen (HPOS or legacy).
	 *
	 * @param int $order_id Order.
	 */
	private static function order_url( int $order_id ): string {
		$order = $order_id ? wc_get_order( $order_id ) : false;
		return $order ? (string) $order->get_edit_order_url() : admin_url( 'admin.php?page=wc-orders' );
	}

	/**
	 * A state in the merchant's words.
	 *
	 * @param string $state Outbox state.
	 */
	public static function state_label( string $state ): string {
		$labels = array(
			'held'      => __( 'held for stock — sent when paid', 'pos-sync' ),
			'pending'   => __( 'waiting to be sent', 'pos-sync' ),
			'sending'   => __( 'being sent', 'pos-sync' ),
			'retry'     => __( 'failed, will retry', 'pos-sync' ),
			'attention' => __( 'needs attention', 'pos-sync' ),
			'posted'    => __( 'in the POS', 'pos-sync' ),
			'cancelled' => __( 'cancelled', 'pos-sync' ),
			'manual'    => __( 'entered in the POS by hand', 'pos-sync' ),
		);
		return $labels[ $state ] ?? $state;
	}

	/**
	 * The POS box on the order screen (HPOS `wc-orders` page and the legacy post screen).
	 *
	 * @param string $screen_or_post_type Screen id or post type.
	 * @param mixed  $post_or_order       Post or order.
	 */
	public static function add_order_box( $screen_or_post_type, $post_or_order = null ): void {
		unset( $post_or_order );
		$hpos_screen = function_exists( 'wc_get_page_screen_id' ) ? wc_get_page_screen_id( 'shop-order' ) : 'woocommerce_page_wc-orders';
		if ( ! in_array( $screen_or_post_type, array( 'shop_order', $hpos_screen ), true ) ) {
			return;
		}
		add_meta_box( 'pos-sync-order', __( 'POS Sync', 'pos-sync' ), array( self::class, 'order_box' ), $screen_or_post_type, 'side', 'default' );
	}

	/**
	 * Renders the POS box: each row of the order in words, with its buttons (OrderBox).
	 *
	 * @param mixed $post_or_order WP_Post (legacy) or WC_Order (HPOS).
	 */
	public static function order_box( $post_or_order ): void {
		$order = $post_or_order instanceof \WC_Order ? $post_or_order : wc_get_order( $post_or_order instanceof \WP_Post ? $post_or_order->ID : 0 );
		OrderBox::render( $order instanceof \WC_Order ? $order : null );
	}
}
