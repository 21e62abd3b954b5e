<?php
/**
 * Orders changed after their row was made (docs/PROTOCOL.md, "WordPress side"): before
 * the row was sent its payload and lines are rewritten (same reference); after it was
 * posted the POS gets the difference only — an extra `order` row with the added units
 * and a `refund` row returning the removed ones, each with its own stored reference —
 * and a cancel after posting is one return of everything the POS still holds.
 *
 * @package PosSync
 */

namespace PosSync\Orders;

use PosSync\Jobs\Outbox;
use PosSync\Jobs\OutboxRows;
use PosSync\Store\Ledger;
use PosSync\Store\Log;
use PosSync\Store\Schema;

defined( 'ABSPATH' ) || exit;

/**
 * What the POS holds of an order, and the rows that bring it to what WooCommerce holds.
 */
final class OrderEdits {

	/**
	 * Orders in these statuses are not edited towards the POS (they are being cancelled).
	 */
	private const CLOSED = array( 'cancelled', 'failed', 'refunded', 'trash', 'checkout-draft' );

	/**
	 * Wires the hooks WooCommerce 10 fires when items change: the order screen's save
	 * and its add / remove item buttons, and any saved order (REST, code).
	 */
	public static function hooks(): void {
		add_action( 'woocommerce_saved_order_items', array( self::class, 'changed' ), 20, 1 );
		add_action( 'woocommerce_ajax_order_items_added', array( self::class, 'items_added' ), 20, 2 );
		add_action( 'woocommerce_ajax_order_items_removed', array( self::class, 'item_removed' ), 20, 4 );
		add_action( 'woocommerce_update_order', array( self::class, 'changed' ), 20, 1 );
	}

	/**
	 * An order's items may have changed.
	 *
	 * @param mixed $order_id Order.
	 */
	public static function changed( $order_id ): void {
		$order = wc_get_order( $order_id );
		if ( $order instanceof \WC_Order && ! $order instanceof \WC_Order_Refund ) {
			self::sync( $order );
		}
	}

	/**
	 * `woocommerce_ajax_order_items_added`.
	 *
	 * @param mixed $items Items.
	 * @param mixed $order Order.
	 */
	public static function items_added( $items, $order ): void {
		if ( $order instanceof \WC_Order ) {
			self::changed( $order->get_id() );
		}
	}

	/**
	 * `woocommerce_ajax_order_items_removed`.
	 *
	 * @param mixed $item_id       Item.
	 * @param mixed $item          Item object.
	 * @param mixed $changed_stock Stock changes.
	 * @param mixed $order         Order.
	 */
	public static function item_removed( $item_id, $item, $changed_stock, $order ): void {
		if ( $order instanceof \WC_Order ) {
			self::changed( $order->get_id() );
		}
	}

	/**
	 * Brings the POS side of an order to its current items: an unsent own row is
	 * rewritten; once posted, the difference gets its own rows. Rows sent but not yet
	 * settled wait (their sale_posted calls this again).
	 *
	 * @param \WC_Order $order Order.
	 */
	public static function sync( \WC_Order $order ): void {
		if ( in_array( $order->get_status(), self::CLOSED, true ) ) {
			return;
		}
		$rows = OutboxRows::of_order( $order->get_id() );
		$own  = null;
		foreach ( $rows as $row ) {
			if ( 'order' === $row['kind'] && 0 === (int) $row['part'] ) {
				$own = $row;
			}
		}
		if ( ! $own || ( (int) $own['released'] && null === $own['posted_at_ms'] ) ) {
			return;
		}
		if ( OutboxRows::rewritable( $own ) ) {
			$payload = Outbox::order_payload( $order );
			$stored  = json_decode( (string) $own['payload'], true );
			if ( self::quantities( (array) ( $stored['lines'] ?? array() ) ) !== self::quantities( $payload['lines'] ) || ( $stored['total'] ?? '' ) !== $payload['total'] ) {
				OutboxRows::rewrite( (int) $own['id'], $payload, OutboxRows::order_ledger( $payload ) );
			}
			return;
		}
		$in_flight = false;
		foreach ( $rows as $row ) {
			if ( 'order' === $row['kind'] && 'posted' !== $row['state'] && null === $row['posted_at_ms'] && ! (int) $row['released'] && null !== $row['first_attempt_at_ms'] ) {
				$in_flight = true;
			}
		}
		if ( ! $in_flight ) {
			self::release_held_edits( $rows );
		}
		$held    = self::held_by_pos( $rows );
		$current = array();
		foreach ( Outbox::order_payload( $order )['lines'] as $line ) {
			$current[ (string) $line['line_id'] ] = $line;
		}
		$added   = array();
		$removed = array();
		foreach ( $current as $line_id => $line ) {
			$diff = (int) $line['qty'] - self::held_qty( $held, $line_id );
			if ( $diff > 0 ) {
				$added[] = array_diff_key( self::share( $line, $diff ), array( 'posted_qty' => 0 ) );
			} elseif ( $diff < 0 ) {
				$removed[ $line_id ] = -$diff;
			}
		}
		foreach ( $held as $source ) {
			foreach ( $source['lines'] as $line_id => $line ) {
				if ( ! isset( $current[ $line_id ] ) && $line['qty'] > 0 ) {
					$removed[ $line_id ] = self::held_qty( $held, $line_id );
				}
			}
		}
		/* translators: %s: order number */
		$why = sprintf( __( 'Order #%s was edited after it was posted', 'pos-sync' ), $order->get_order_number() );
		if ( $in_flight ) {
			// A sale is on its way and its answer is not in: WooCommerce has taken the added
			// units already, so they are held now (a POS reading cannot give them back) and
			// sent once the sale is confirmed. Removed units wait: the sale in flight still
			// holds them (never an oversell), and its sale_posted sends their return.
			if ( $added ) {
				/* translators: %s: order number */
				self::add_sale( $order, $own, $added, sprintf( __( 'Order #%s was edited while its sale was on its way to the POS', 'pos-sync' ), $order->get_order_number() ), 'held' );
			}
			return;
		}
		if ( $added ) {
			self::add_sale( $order, $own, $added, $why );
		}
		if ( $removed ) {
			self::add_returns( $order, $held, $removed, false, $why );
		}
	}

	/**
	 * A cancel (or a full refund without a WooCommerce refund) after posting: one return
	 * of every unit the POS still holds, exactly once (afterwards it holds none).
	 *
	 * @param \WC_Order $order Order.
	 * @param string    $why   What happened.
	 */
	public static function return_remaining( \WC_Order $order, string $why ): void {
		$rows = OutboxRows::of_order( $order->get_id() );
		$held = self::held_by_pos( $rows, true );
		$all  = array();
		foreach ( $held as $source ) {
			foreach ( $source['lines'] as $line_id => $line ) {
				$all[ $line_id ] = self::held_qty( $held, $line_id );
			}
		}
		$all = array_filter( $all );
		if ( $all ) {
			self::add_returns( $order, $held, $all, true, $why );
		}
	}

	/**
	 * What the POS holds of an order, by the order row that put it there (oldest first):
	 * posted or still to be posted `order` rows, minus our own returns (refund rows of
	 * part > 0) and, for a cancel, minus WooCommerce refunds that restocked.
	 *
	 * @param array $rows       The order's rows.
	 * @param bool  $wc_refunds Subtract WooCommerce refunds too.
	 * @return array<string,array{row:array,lines:array}> by reference.
	 */
	private static function held_by_pos( array $rows, bool $wc_refunds = false ): array {
		$held = array();
		foreach ( $rows as $row ) {
			if ( 'order' !== $row['kind'] || ( (int) $row['released'] && null === $row['posted_at_ms'] ) || ( 'posted' !== $row['state'] && $wc_refunds ) ) {
				continue;
			}
			$payload = json_decode( (string) $row['payload'], true );
			$lines   = array();
			foreach ( (array) ( $payload['lines'] ?? array() ) as $line ) {
				$line['qty']                        = (int) $line['qty'];
				$line['posted_qty']                 = $line['qty'];
				$lines[ (string) $line['line_id'] ] = $line;
			}
			$held[ (string) $row['reference_number'] ] = array(
				'row'   => $row,
				'lines' => $lines,
			);
		}
		$first = array_key_first( $held );
		foreach ( $rows as $row ) {
			$ours = 'refund' === $row['kind'] && (int) $row['part'] > 0;
			if ( 'refund' !== $row['kind'] || ( (int) $row['released'] && null === $row['posted_at_ms'] ) || ( ! $ours && ! $wc_refunds ) ) {
				continue;
			}
			$payload = json_decode( (string) $row['payload'], true );
			$source  = (string) ( $payload['order_reference'] ?? '' );
			$source  = isset( $held[ $source ] ) ? $source : $first;
			foreach ( (array) ( $payload['lines'] ?? array() ) as $line ) {
				$line_id = (string) ( $line['line_id'] ?? '' );
				if ( null !== $source && ! empty( $line['restock'] ) && isset( $held[ $source ]['lines'][ $line_id ] ) ) {
					$held[ $source ]['lines'][ $line_id ]['qty'] -= (int) $line['qty'];
				}
			}
		}
		return $held;
	}

	/**
	 * Units of one order line the POS holds, over all source rows.
	 *
	 * @param array  $held    held_by_pos().
	 * @param string $line_id Order line.
	 */
	private static function held_qty( array $held, string $line_id ): int {
		$qty = 0;
		foreach ( $held as $source ) {
			$qty += max( 0, (int) ( $source['lines'][ $line_id ]['qty'] ?? 0 ) );
		}
		return $qty;
	}

	/**
	 * Quantities by line of payload lines.
	 *
	 * @param array $lines Payload lines.
	 */
	private static function quantities( array $lines ): array {
		$out = array();
		foreach ( $lines as $line ) {
			$out[ (string) $line['line_id'] ] = (int) $line['qty'];
		}
		ksort( $out );
		return $out;
	}

	/**
	 * A share of an order line: $qty of its units, amounts in proportion.
	 *
	 * @param array $line Payload line.
	 * @param int   $qty  Units.
	 */
	private static function share( array $line, int $qty ): array {
		$of            = max( 1, (int) $line['qty'] );
		$line['total'] = wc_format_decimal( (float) $line['total'] * $qty / $of, wc_get_price_decimals() );
		$line['tax']   = wc_format_decimal( (float) $line['tax'] * $qty / $of, wc_get_price_decimals() );
		$line['qty']   = $qty;
		return $line;
	}

	/**
	 * The extra sale of added units: an `order` row of its own (`<reference>-E<part>`),
	 * no shipping, no fees, total = Σ its lines with tax.
	 *
	 * @param \WC_Order $order Order.
	 * @param array     $own   The order's own row.
	 * @param array     $lines Added lines.
	 * @param string    $why   What happened.
	 */
	private static function add_sale( \WC_Order $order, array $own, array $lines, string $why, string $state = 'pending' ): void {
		$part    = OutboxRows::next_part( $order->get_id() );
		$ref     = References::for_part( (string) $own['reference_number'], 'E', $part );
		$payload = Outbox::order_payload( $order );
		$total   = 0.0;
		$tax     = 0.0;
		foreach ( $lines as $line ) {
			$total += (float) $line['total'] + (float) $line['tax'];
			$tax   += (float) $line['tax'];
		}
		$decimals = wc_get_price_decimals();
		$payload  = array_merge(
			$payload,
			array(
				'number'         => $order->get_order_number() . '-E' . $part,
				'lines'          => $lines,
				'shipping_total' => '0',
				'shipping_tax'   => '0',
				'discount_total' => '0',
				'fees'           => array(),
				'total'          => wc_format_decimal( $total, $decimals ),
				'total_tax'      => wc_format_decimal( $tax, $decimals ),
			)
		);
		OutboxRows::insert(
			array(
				'kind'         => 'order',
				'reference'    => $ref,
				'order_id'     => $order->get_id(),
				'part'         => $part,
				'state'        => $state,
				'payload'      => $payload,
				'placed_at_ms' => Ledger::now_ms(),
				'number'       => $order->get_order_number(),
			),
			OutboxRows::order_ledger( $payload )
		);
		/* translators: 1: what happened, 2: reference number */
		Log::info( sprintf( 'held' === $state ? __( '%1$s: the added units are held and go to the POS as %2$s once its sale is confirmed.', 'pos-sync' ) : __( '%1$s: the added units go to the POS as %2$s.', 'pos-sync' ), $why, $ref ) );
	}

	/**
	 * Edit sales held while the order's sale was in flight go to the POS now that nothing
	 * of the order is in flight (they keep their reference and lines).
	 *
	 * @param array $rows The order's rows.
	 */
	private static function release_held_edits( array $rows ): void {
		global $wpdb;
		$outbox = Schema::outbox();
		foreach ( $rows as $row ) {
			if ( 'order' === $row['kind'] && (int) $row['part'] > 0 && 'held' === $row['state'] && ! (int) $row['released'] ) {
				$wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET state = 'pending', updated_at = %s WHERE id = %d AND state = 'held'", current_time( 'mysql', true ), (int) $row['id'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			}
		}
	}

	/**
	 * Returns of units the POS holds: one `refund` row per order row that put them there
	 * (newest first), restocked, at the unit price that was posted.
	 *
	 * @param \WC_Order $order   Order.
	 * @param array     $held    held_by_pos().
	 * @param array     $removed line id => units to return.
	 * @param bool      $full    A cancel: everything goes back.
	 * @param string    $why     What happened.
	 */
	private static function add_returns( \WC_Order $order, array $held, array $removed, bool $full, string $why ): void {
		$decimals = wc_get_price_decimals();
		foreach ( array_reverse( $held, true ) as $reference => $source ) {
			$lines  = array();
			$amount = 0.0;
			foreach ( $removed as $line_id => $qty ) {
				$line = $source['lines'][ $line_id ] ?? null;
				$take = $line ? min( $qty, max( 0, (int) $line['qty'] ) ) : 0;
				if ( $take <= 0 ) {
					continue;
				}
				$removed[ $line_id ] -= $take;
				$unit                 = ( (float) $line['total'] + (float) $line['tax'] ) / max( 1, (int) $line['posted_qty'] );
				$amount              += $unit * $take;
				$lines[]              = array(
					'line_id'    => (string) $line_id,
					'product_id' => (string) $line['product_id'],
					'item_id'    => $line['item_id'] ?? null,
					'qty'        => $take,
					'amount'     => wc_format_decimal( $unit * $take, $decimals ),
					'restock'    => true,
				);
			}
			if ( ! $lines ) {
				continue;
			}
			$part    = OutboxRows::next_part( $order->get_id() );
			$ref     = References::for_part( (string) $reference, $full ? 'C' : 'E', $part );
			$payload = array(
				'number'          => $order->get_order_number() . ( $full ? '-C' : '-E' ) . $part,
				'order_number'    => (string) $order->get_order_number(),
				'order_reference' => (string) $reference,
				'order_sale_id'   => null,
				'amount'          => wc_format_decimal( $amount, $decimals ),
				'reason'          => $why,
				'lines'           => $lines,
				'full'            => $full,
			);
			OutboxRows::insert(
				array(
					'kind'         => 'refund',
					'reference'    => $ref,
					'order_id'     => $order->get_id(),
					'part'         => $part,
					'state'        => 'pending',
					'payload'      => $payload,
					'placed_at_ms' => Ledger::now_ms(),
					'number'       => $order->get_order_number(),
				),
				OutboxRows::refund_ledger( $payload )
			);
			/* translators: 1: what happened, 2: reference number */
			Log::info( sprintf( __( '%1$s: the POS gets the return %2$s.', 'pos-sync' ), $why, $ref ) );
		}
	}
}
