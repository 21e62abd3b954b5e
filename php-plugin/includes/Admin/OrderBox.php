<?php
/**
 * The POS box on the order screen (HPOS and legacy), in the merchant's words: every
 * outbox row of the order — the sale, sales of items added after posting, refunds,
 * returns of removed items, the return for a cancel — with its reference, what it is,
 * where it stands and why, and the buttons that resolve it (OutboxActions: Retry,
 * "Entered in the POS by hand", Cancel; POST + nonce, manage_woocommerce).
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Jobs\Outbox;
use PosSync\Jobs\OutboxActions;
use PosSync\Orders\References;
use PosSync\Store\Log;
use PosSync\Store\Schema;

defined( 'ABSPATH' ) || exit;

/**
 * Outbox rows in words.
 */
final class OrderBox {

	/**
	 * What a row is, for the merchant.
	 *
	 * @param array $row Outbox row (`kind`, `part`, `refund_id`, `payload`).
	 */
	public static function role( array $row ): string {
		$part = (int) ( $row['part'] ?? 0 );
		if ( 'order' === $row['kind'] ) {
			return 0 === $part ? __( 'Sale', 'pos-sync' ) : __( 'Sale of items added after posting', 'pos-sync' );
		}
		if ( (int) ( $row['refund_id'] ?? 0 ) > 0 ) {
			/* translators: %d: WooCommerce refund ID */
			return sprintf( __( 'Return for refund %d', 'pos-sync' ), (int) $row['refund_id'] );
		}
		$payload = json_decode( (string) ( $row['payload'] ?? '' ), true );
		return ! empty( $payload['full'] ) ? __( 'Return for the cancel', 'pos-sync' ) : __( 'Return of items removed after posting', 'pos-sync' );
	}

	/**
	 * Where a row stands, in a sentence (with the cause when it is stuck).
	 *
	 * @param array $row Outbox row.
	 */
	public static function describe( array $row ): string {
		$state = (string) $row['state'];
		$cause = self::cause( $row );
		if ( (int) ( $row['cancel_requested'] ?? 0 ) && 'posted' !== $state ) {
			return __( 'Cancelled while it may be on its way to the POS — it is only looked up: if the POS has it, it gets its return; if not, it is never sent.', 'pos-sync' );
		}
		switch ( $state ) {
			case 'held':
				return (int) ( $row['part'] ?? 0 ) > 0
					? __( 'Held for stock — sent once the order\'s sale is confirmed by the POS', 'pos-sync' )
					: __( 'Held for stock — sent when paid', 'pos-sync' );
			case 'pending':
				return __( 'Waiting to be sent to the POS', 'pos-sync' );
			case 'sending':
				return __( 'Being sent to the POS', 'pos-sync' );
			case 'retry':
				$when = ! empty( $row['retry_at_ms'] ) ? wp_date( 'Y-m-d H:i', (int) ( (int) $row['retry_at_ms'] / 1000 ) ) : __( 'the next run', 'pos-sync' );
				/* translators: 1: attempts so far, 2: date and time (or "the next run"), 3: cause */
				return sprintf( __( 'Not in the POS yet — attempt %1$d failed, tried again at %2$s: %3$s', 'pos-sync' ), (int) ( $row['attempts'] ?? 0 ), $when, $cause );
			case 'attention':
				/* translators: %s: cause */
				return sprintf( __( 'Needs attention — not in the POS and holding its stock: %s', 'pos-sync' ), $cause );
			case 'posted':
				/* translators: %s: POS sale ID */
				return sprintf( __( 'in the POS — POS sale ID %s', 'pos-sync' ), (string) $row['pos_sale_id'] );
			case Schema::CANCELLED_STATE:
				return __( 'Cancelled — never sent to the POS, stock released', 'pos-sync' );
			case 'manual':
				return __( 'Entered in the POS by hand', 'pos-sync' );
		}
		return $state;
	}

	/**
	 * The last error of a row, without secrets ("no cause recorded" when empty).
	 *
	 * @param array $row Outbox row.
	 */
	private static function cause( array $row ): string {
		$error = trim( (string) ( $row['last_error'] ?? '' ) );
		return '' !== $error ? Log::scrub( $error ) : __( 'no cause recorded', 'pos-sync' );
	}

	/**
	 * The box itself.
	 *
	 * @param \WC_Order|null $order Order.
	 */
	public static function render( ?\WC_Order $order ): void {
		$rows = $order ? Outbox::rows_of_order( $order->get_id() ) : array();
		if ( ! $rows ) {
			$message = $order && ! References::after_cutoff( $order )
				/* translators: %s: date */
				? sprintf( __( 'Not sent to the POS: the order was created before %s (setting “Post orders created after”).', 'pos-sync' ), References::cutoff_date() )
				: __( 'Not sent to the POS (not paid yet).', 'pos-sync' );
			echo '<p class="pos-sync-order-state">' . esc_html( $message ) . '</p>';
			return;
		}
		echo '<ul class="pos-sync-order-rows">';
		foreach ( $rows as $row ) {
			$buttons = OutboxActions::row_buttons( $row );
			printf(
				'<li class="pos-sync-order-state" data-state="%1$s" data-reference="%2$s"><strong>%3$s</strong> %2$s: <span class="pos-sync-order-words">%4$s</span>%5$s</li>',
				esc_attr( (string) $row['state'] ),
				esc_html( (string) $row['reference_number'] ),
				esc_html( self::role( $row ) ),
				esc_html( self::describe( $row ) ),
				'' !== $buttons ? '<br>' . $buttons : '' // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in row_buttons().
			);
		}
		echo '</ul>';
	}
}
