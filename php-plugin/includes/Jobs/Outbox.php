<?php
/**
 * The outbox: paid orders and refunds waiting for the POS (docs/PROTOCOL.md,
 * "Orders and refunds"). Hooks write one row per order or refund with the raw
 * WooCommerce facts as its payload; the runner hands due rows to a post_orders job
 * and records what the POS answered. Its lines are the pending ledger (Ledger.php).
 * Rows are never deleted.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Apply\StockApplier;
use PosSync\Orders\OrderFees;
use PosSync\Orders\OrderLife;
use PosSync\Store\Ledger;
use PosSync\Store\Log;
use PosSync\Store\Schema;

defined( 'ABSPATH' ) || exit;

/**
 * Outbox rows: written by hooks, claimed by the runner, settled by events.
 */
final class Outbox {

	/**
	 * held → pending → sending → posted | retry (retry_at_ms) | attention; cancelled and
	 * manual never go (Schema::STATES). A row still `sending` whose lease is free or
	 * expired (Lease.php) was left by a run that ended or died: it is due again (the core
	 * looks its reference up before posting anything); one with `cancel_requested` goes
	 * with `lookup_only`.
	 */
	public const DUE_STATES = array( 'pending', 'sending', 'retry' );

	/**
	 * Rows per post_orders job.
	 */
	public const BATCH = 50;

	/**
	 * Wires the order and refund hooks (OrderLife.php, OrderEdits.php).
	 */
	public static function hooks(): void {
		OrderLife::hooks();
	}

	/**
	 * The POS item linked to a product or variation.
	 *
	 * @param int $product_id Product or variation.
	 */
	private static function item_of( int $product_id ): ?string {
		$item = $product_id ? (string) get_post_meta( $product_id, StockApplier::ITEM_META, true ) : '';
		return '' === $item ? null : $item;
	}

	/**
	 * Money as a plain decimal string.
	 *
	 * @param mixed $amount Amount.
	 */
	private static function money( $amount ): string {
		return (string) wc_format_decimal( (float) $amount, wc_get_price_decimals() );
	}

	/**
	 * The raw facts of an order (src/flows/orders.rs, OrderPayload): every rule about
	 * them (prices, taxes, shipping, customer) is the core's.
	 *
	 * @param \WC_Order $order Order.
	 */
	public static function order_payload( \WC_Order $order ): array {
		$lines = array();
		foreach ( $order->get_items( 'line_item' ) as $line_id => $item ) {
			$qty        = (int) $item->get_quantity();
			$product_id = (int) ( $item->get_variation_id() ? $item->get_variation_id() : $item->get_product_id() );
			$product    = $item->get_product();
			$lines[]    = array(
				'line_id'    => (string) $line_id,
				'product_id' => (string) $product_id,
				'item_id'    => self::item_of( $product_id ),
				'sku'        => $product ? (string) $product->get_sku() : '',
				'name'       => (string) $item->get_name(),
				'qty'        => $qty,
				'unit_price' => self::money( $qty ? (float) $item->get_subtotal() / $qty : 0 ),
				'total'      => self::money( $item->get_total() ),
				'tax'        => self::money( $item->get_total_tax() ),
			);
		}
		return array(
			'number'             => (string) $order->get_order_number(),
			'order_id'           => $order->get_id(),
			'currency'           => $order->get_currency(),
			'customer'           => array(
				'email'      => (string) $order->get_billing_email(),
				'first_name' => (string) $order->get_billing_first_name(),
				'last_name'  => (string) $order->get_billing_last_name(),
				'phone'      => (string) $order->get_billing_phone(),
				'billing'    => array(
					'address1' => (string) $order->get_billing_address_1(),
					'address2' => (string) $order->get_billing_address_2(),
					'city'     => (string) $order->get_billing_city(),
					'state'    => (string) $order->get_billing_state(),
					'postcode' => (string) $order->get_billing_postcode(),
					'country'  => (string) $order->get_billing_country(),
				),
			),
			'lines'              => $lines,
			'fees'               => OrderFees::of( $order ),
			'shipping_total'     => self::money( $order->get_shipping_total() ),
			'shipping_tax'       => self::money( $order->get_shipping_tax() ),
			'discount_total'     => self::money( $order->get_discount_total() ),
			'total'              => self::money( $order->get_total() ),
			'total_tax'          => self::money( $order->get_total_tax() ),
			'gateway'            => (string) $order->get_payment_method(),
			'prices_include_tax' => (bool) $order->get_prices_include_tax(),
		);
	}

	/**
	 * The raw facts of a refund (src/flows/orders.rs, RefundPayload): positive quantities
	 * and amounts (tax included), whether each line was restocked.
	 *
	 * @param \WC_Order_Refund $refund          Refund.
	 * @param \WC_Order        $order           Its order.
	 * @param bool             $restocked       WooCommerce restocked the refunded items.
	 * @param string           $order_reference The order row's stored reference.
	 */
	public static function refund_payload( \WC_Order_Refund $refund, \WC_Order $order, bool $restocked, string $order_reference ): array {
		$lines = array();
		foreach ( $refund->get_items( 'line_item' ) as $item ) {
			$qty        = abs( (int) $item->get_quantity() );
			$amount     = abs( (float) $item->get_total() ) + abs( (float) $item->get_total_tax() );
			$product_id = (int) ( $item->get_variation_id() ? $item->get_variation_id() : $item->get_product_id() );
			$product    = $item->get_product();
			if ( 0 === $qty && $amount <= 0 ) {
				continue;
			}
			$lines[] = array(
				'line_id'    => (string) $item->get_meta( '_refunded_item_id' ),
				'product_id' => (string) $product_id,
				'item_id'    => self::item_of( $product_id ),
				'qty'        => $qty,
				'amount'     => self::money( $amount ),
				// WooCommerce restocks only products that manage stock (wc_restock_refunded_items).
				'restock'    => $restocked && $qty > 0 && $product && $product->managing_stock(),
			);
		}
		$amount = abs( (float) $refund->get_amount() );
		return array(
			'number'          => (string) $refund->get_id(),
			'order_number'    => (string) $order->get_order_number(),
			'order_reference' => $order_reference,
			'order_sale_id'   => null,
			'amount'          => self::money( $amount ),
			'reason'          => (string) $refund->get_reason(),
			'lines'           => $lines,
			'full'            => abs( (float) $order->get_total() - (float) $order->get_total_refunded() ) < 0.005 && abs( $amount - (float) $order->get_total() ) < 0.005,
		);
	}

	/**
	 * A row by its reference number.
	 *
	 * @param string $reference Reference number.
	 */
	public static function row_by_reference( string $reference ): ?array {
		global $wpdb;
		$outbox = Schema::outbox();
		$row    = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$outbox} WHERE reference_number = %s", $reference ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return $row ? $row : null;
	}

	/**
	 * The rows of an order (its own and its refunds'), oldest first.
	 *
	 * @param int $order_id Order.
	 */
	public static function rows_of_order( int $order_id ): array {
		global $wpdb;
		$outbox = Schema::outbox();
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT id, reference_number, kind, refund_id, part, state, released, cancel_requested, attempts, last_error, retry_at_ms, pos_sale_id, posted_at_ms, payload FROM {$outbox} WHERE order_id = %d ORDER BY id", $order_id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Claims the due rows for one post_orders job under the run's lease (Lease.php):
	 * marks them `sending`, stamps `first_attempt_at_ms` the first time, and returns them
	 * as the job's `outbox`.
	 *
	 * @param Lease $lease The run's lease.
	 * @param int   $limit Rows at most.
	 * @return array[] `{id, kind, reference, attempts, payload, placed_at_ms, lookup_only}`.
	 */
	public static function claim_due( Lease $lease, int $limit = self::BATCH ): array {
		$rows = $lease->claim( $limit );
		if ( ! $rows ) {
			return array();
		}
		$job = array();
		foreach ( $rows as $row ) {
			$payload = json_decode( (string) $row['payload'], true );
			$payload = is_array( $payload ) ? $payload : array();
			if ( 'refund' === $row['kind'] && ! empty( $payload['order_reference'] ) ) {
				$order_row                = self::row_by_reference( (string) $payload['order_reference'] );
				$payload['order_sale_id'] = $order_row && '' !== (string) $order_row['pos_sale_id'] ? (string) $order_row['pos_sale_id'] : null;
			}
			$job[] = array(
				'id'           => (string) $row['id'],
				'kind'         => (string) $row['kind'],
				'reference'    => (string) $row['reference_number'],
				'attempts'     => (int) $row['attempts'],
				'payload'      => (object) $payload,
				'placed_at_ms' => null === $row['placed_at_ms'] ? null : (int) $row['placed_at_ms'],
				'lookup_only'  => (bool) (int) $row['cancel_requested'],
			);
		}
		return $job;
	}

	/**
	 * `sale_posted`: the row is in the POS. In one transaction: state, sale id, posted_at_ms
	 * (the event's time when it carries one, else now) and a recheck of its items, so
	 * a reading taken after the confirmation ends the ledger's doubt.
	 *
	 * Applied only while the row is still held by the run that sent the event (its claim
	 * token): a run whose lease expired and was taken over changes nothing.
	 *
	 * @param array  $event Event.
	 * @param string $token Claim token of the run.
	 * @throws \RuntimeException When the database refuses (rolled back).
	 */
	public static function apply_posted( array $event, string $token ): void {
		global $wpdb;
		$outbox = Schema::outbox();
		$lines  = Schema::outbox_lines();
		$id     = (int) ( $event['outbox_id'] ?? 0 );
		$at_ms  = (int) ( $event['posted_at_ms'] ?? $event['at_ms'] ?? 0 );
		$at_ms  = $at_ms > 0 ? $at_ms : Ledger::now_ms();
		$wpdb->query( 'START TRANSACTION' );
		try {
			$ok = $wpdb->query(
				$wpdb->prepare(
					"UPDATE {$outbox} SET state = 'posted', pos_sale_id = %s, pos_customer_id = %s, posted_at_ms = COALESCE( posted_at_ms, %d ), posted_at = COALESCE( posted_at, %s ), retry_at_ms = NULL, last_error = NULL, resumable = 0, claim_token = NULL, claimed_until_ms = NULL, updated_at = %s WHERE id = %d AND reference_number = %s AND " . Lease::held_by( $token ), // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
					(string) ( $event['sale_id'] ?? '' ),
					(string) ( $event['customer_id'] ?? '' ),
					$at_ms,
					current_time( 'mysql', true ),
					current_time( 'mysql', true ),
					$id,
					(string) ( $event['reference'] ?? '' )
				)
			);
			if ( false === $ok ) {
				throw new \RuntimeException( $wpdb->last_error );
			}
			if ( 0 === (int) $ok ) {
				$wpdb->query( 'ROLLBACK' );
				self::not_held( $event );
				return;
			}
			$items = (array) $wpdb->get_col( $wpdb->prepare( "SELECT DISTINCT item_id FROM {$lines} WHERE outbox_id = %d AND item_id IS NOT NULL", $id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			Ledger::request_recheck( $items, $at_ms );
			$wpdb->query( 'COMMIT' );
		} catch ( \Throwable $e ) {
			$wpdb->query( 'ROLLBACK' );
			throw $e;
		}
		Log::info(
			sprintf(
				/* translators: 1: reference number, 2: POS sale ID, 3: "(found in the POS)" or "" */
				__( '%1$s is POS sale %2$s%3$s.', 'pos-sync' ),
				(string) ( $event['reference'] ?? '' ),
				(string) ( $event['sale_id'] ?? '' ),
				! empty( $event['existing'] ) ? ' ' . __( '(found in the POS, not posted again)', 'pos-sync' ) : ''
			)
		);
		OrderLife::after_posted( $id );
	}

	/**
	 * `outbox_failed`: one more attempt, its cause, and when to try again (or parked
	 * for attention). In one transaction; the row stays. `resumable` (parked only because
	 * transient failures reached max_attempts) is kept: such rows go back to `retry` once
	 * the POS answers well again (OutboxActions::resume_parked()). Only while the run
	 * still holds the row (see apply_posted()).
	 *
	 * @param array  $event Event.
	 * @param string $token Claim token of the run.
	 * @throws \RuntimeException When the database refuses.
	 */
	public static function apply_failed( array $event, string $token ): void {
		global $wpdb;
		$outbox   = Schema::outbox();
		$retry_at = isset( $event['retry_at_ms'] ) && null !== $event['retry_at_ms'] ? (int) $event['retry_at_ms'] : null;
		$parked   = ! empty( $event['attention'] ) || null === $retry_at;
		$message  = Log::scrub( (string) ( $event['message'] ?? '' ) );
		$code     = sanitize_key( (string) ( $event['code'] ?? '' ) );
		$ok       = $wpdb->query(
			$wpdb->prepare(
				"UPDATE {$outbox} SET attempts = attempts + 1, last_error = %s, state = %s, retry_at_ms = " . ( $parked ? 'NULL' : '%d' ) . ", resumable = %d, claim_token = NULL, claimed_until_ms = NULL, updated_at = %s WHERE id = %d AND state <> 'posted' AND " . Lease::held_by( $token ), // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				array_merge(
					array( ( '' !== $code ? $code . ': ' : '' ) . $message, $parked ? 'attention' : 'retry' ),
					$parked ? array() : array( $retry_at ),
					array( $parked && ! empty( $event['resumable'] ) ? 1 : 0, current_time( 'mysql', true ), (int) ( $event['outbox_id'] ?? 0 ) )
				)
			)
		);
		if ( false === $ok ) {
			throw new \RuntimeException( $wpdb->last_error );
		}
		if ( 0 === (int) $ok ) {
			self::not_held( $event );
			return;
		}
		if ( $parked ) {
			Log::error( $message );
		} else {
			Log::warning( $message );
		}
	}

	/**
	 * An event for a row this run no longer holds (its lease expired and another run
	 * took the row, or the merchant resolved it): nothing changes; said in the log (not for
	 * the failure of a row released while in flight, which is settled already).
	 *
	 * @param array $event Event.
	 */
	public static function not_held( array $event ): void {
		$row = OutboxRows::by_id( (int) ( $event['outbox_id'] ?? 0 ) );
		if ( $row && (int) $row['released'] && null === $row['posted_at_ms'] && 'outbox_failed' === ( $event['type'] ?? '' ) ) {
			return; // Settled while in flight (cancelled, entered by hand): its failure changes nothing.
		}
		Log::warning(
			sprintf(
				/* translators: 1: event type, 2: reference number */
				__( 'A %1$s answer for %2$s was not recorded: the row is no longer held by the run that sent it (its lease ran out or it was resolved by hand); the run holding it now looks it up in the POS.', 'pos-sync' ),
				sanitize_key( (string) ( $event['type'] ?? '' ) ),
				(string) ( $event['reference'] ?? '?' )
			)
		);
	}

	/**
	 * Rows that failed (retrying or parked), newest first, for the admin.
	 *
	 * @param int $limit Rows at most.
	 */
	public static function failures( int $limit = 50 ): array {
		global $wpdb;
		$outbox = Schema::outbox();
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT id, reference_number, kind, order_id, state, attempts, last_error, retry_at_ms, updated_at FROM {$outbox} WHERE state IN ('attention', 'retry') OR ( state IN ('pending', 'sending') AND attempts > 0 ) ORDER BY id DESC LIMIT %d", $limit ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}
}
