<?php
/**
 * The life of an order on the POS side (docs/PROTOCOL.md, "WordPress side"): its row is
 * made the moment WooCommerce takes its stock (`held`) and becomes `pending` once it is
 * paid; a cancel, a failure, a trash or a delete before it was sent releases it; a cancel
 * after it was posted makes one return; refunds get their own rows, and a deleted refund
 * is released or reported.
 *
 * @package PosSync
 */

namespace PosSync\Orders;

use PosSync\Jobs\Lease;
use PosSync\Jobs\Outbox;
use PosSync\Jobs\OutboxRows;
use PosSync\Store\Log;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * WooCommerce order hooks → outbox rows.
 */
final class OrderLife {

	/**
	 * Statuses after which the POS should not keep the sale: a posted order gets its return.
	 */
	public const CANCEL_STATUSES = array( 'cancelled', 'failed' );

	/**
	 * Wires the hooks.
	 */
	public static function hooks(): void {
		// WooCommerce reduces stock for processing, completed and on-hold (and payment_complete).
		add_action( 'woocommerce_reduce_order_stock', array( self::class, 'stock_reduced' ), 20, 1 );
		foreach ( Settings::paid_statuses() as $status ) {
			add_action( 'woocommerce_order_status_' . $status, array( self::class, 'order_paid' ), 20, 1 );
		}
		add_action( 'woocommerce_restore_order_stock', array( self::class, 'stock_restored' ), 20, 1 );
		foreach ( self::CANCEL_STATUSES as $status ) {
			add_action( 'woocommerce_order_status_' . $status, array( self::class, 'order_cancelled' ), 20, 1 );
		}
		// After wc_order_fully_refunded (priority 10) made its refund object, if it did.
		add_action( 'woocommerce_order_status_refunded', array( self::class, 'order_refunded' ), 20, 1 );
		add_action( 'woocommerce_trash_order', array( self::class, 'order_gone' ), 10, 1 );
		add_action( 'woocommerce_before_delete_order', array( self::class, 'order_gone' ), 10, 1 );
		add_action( 'wp_trash_post', array( self::class, 'post_gone' ), 10, 1 );
		add_action( 'before_delete_post', array( self::class, 'post_gone' ), 10, 1 );
		add_action( 'woocommerce_refund_created', array( self::class, 'refund_created' ), 20, 2 );
		add_action( 'woocommerce_refund_deleted', array( self::class, 'refund_gone' ), 10, 1 );
		add_action( 'woocommerce_delete_order_refund', array( self::class, 'refund_gone' ), 10, 1 );
		add_action( 'woocommerce_rest_delete_shop_order_refund_object', array( self::class, 'refund_object_gone' ), 10, 1 );
		OrderEdits::hooks();
	}

	/**
	 * An order (not a refund) by id.
	 *
	 * @param mixed $order_id Order id or object.
	 */
	private static function order( $order_id ): ?\WC_Order {
		$order = $order_id instanceof \WC_Order ? $order_id : wc_get_order( $order_id );
		return $order instanceof \WC_Order && ! $order instanceof \WC_Order_Refund ? $order : null;
	}

	/**
	 * True when the order's status is one of the paid statuses (setting).
	 *
	 * @param \WC_Order $order Order.
	 */
	public static function is_paid( \WC_Order $order ): bool {
		return in_array( $order->get_status(), Settings::paid_statuses(), true );
	}

	/**
	 * `woocommerce_reduce_order_stock`: WooCommerce took the units, whatever the status;
	 * the row holds them in the ledger from now on (`held`, or `pending` when paid).
	 *
	 * @param mixed $order Order.
	 */
	public static function stock_reduced( $order ): void {
		$order = self::order( $order );
		if ( $order ) {
			self::record_order( $order, self::is_paid( $order ) );
		}
	}

	/**
	 * `woocommerce_order_status_<paid>`: the row goes to the POS (`pending`).
	 *
	 * @param mixed $order_id Order.
	 */
	public static function order_paid( $order_id ): void {
		$order = self::order( $order_id );
		if ( $order ) {
			self::record_order( $order, true );
		}
	}

	/**
	 * Makes, promotes or reopens the order's own row (part 0). Its reference is made
	 * here once: a later prefix change never makes a second row.
	 *
	 * @param \WC_Order $order Order.
	 * @param bool      $paid  Paid (pending) or only stock-reduced (held).
	 * @return bool False when the database refused the insert.
	 */
	public static function record_order( \WC_Order $order, bool $paid ): bool {
		if ( ! References::after_cutoff( $order ) ) {
			return true;
		}
		$state   = $paid ? 'pending' : 'held';
		$row     = OutboxRows::get( 'order', $order->get_id() );
		$payload = Outbox::order_payload( $order );
		if ( $row ) {
			if ( 'held' === $row['state'] && $paid ) {
				OutboxRows::rewrite( (int) $row['id'], $payload, OutboxRows::order_ledger( $payload ), 'pending' );
			} elseif ( Schema::CANCELLED_STATE === $row['state'] && null === $row['posted_at_ms'] ) {
				// Cancelled before the POS had it, now taken again (re-paid, stock reduced again).
				if ( OutboxRows::rewrite( (int) $row['id'], $payload, OutboxRows::order_ledger( $payload ), $state ) ) {
					/* translators: 1: order number, 2: reference number */
					Log::info( sprintf( __( 'Order #%1$s is live again: %2$s goes to the POS after all.', 'pos-sync' ), $order->get_order_number(), $row['reference_number'] ) );
				}
			} elseif ( 'posted' === $row['state'] ) {
				OrderEdits::sync( $order );
			}
			return true;
		}
		References::pin_prefix();
		$id = OutboxRows::insert(
			array(
				'kind'         => 'order',
				'reference'    => References::for_order( $order ),
				'order_id'     => $order->get_id(),
				'part'         => 0,
				'state'        => $state,
				'payload'      => $payload,
				'placed_at_ms' => References::placed_at_ms( $order ),
				'number'       => $order->get_order_number(),
			),
			OutboxRows::order_ledger( $payload )
		);
		return null !== $id;
	}

	/**
	 * `woocommerce_restore_order_stock`: WooCommerce gave the units back (cancelled, or
	 * back to pending payment): the hold ends; a posted order gets its return only when
	 * cancelled or failed.
	 *
	 * @param mixed $order Order.
	 */
	public static function stock_restored( $order ): void {
		$order = self::order( $order );
		if ( $order ) {
			/* translators: %s: order number */
			self::release_order( $order, in_array( $order->get_status(), self::CANCEL_STATUSES, true ), sprintf( __( 'Order #%s: WooCommerce restored its stock', 'pos-sync' ), $order->get_order_number() ) );
		}
	}

	/**
	 * `woocommerce_order_status_cancelled` / `_failed`.
	 *
	 * @param mixed $order_id Order.
	 */
	public static function order_cancelled( $order_id ): void {
		$order = self::order( $order_id );
		if ( $order ) {
			/* translators: 1: order number, 2: status */
			self::release_order( $order, true, sprintf( __( 'Order #%1$s: %2$s', 'pos-sync' ), $order->get_order_number(), wc_get_order_status_name( $order->get_status() ) ) );
		}
	}

	/**
	 * `woocommerce_order_status_refunded`: when no WooCommerce refund object covers the
	 * whole order (wc_order_fully_refunded made none), the POS gets a full return.
	 *
	 * @param mixed $order_id Order.
	 */
	public static function order_refunded( $order_id ): void {
		$order = self::order( $order_id );
		if ( $order && (float) $order->get_total() - (float) $order->get_total_refunded() > 0.005 ) {
			/* translators: %s: order number */
			self::release_order( $order, true, sprintf( __( 'Order #%s: refunded without a refund', 'pos-sync' ), $order->get_order_number() ) );
		}
	}

	/**
	 * `woocommerce_trash_order`, `woocommerce_before_delete_order`: unsent rows are
	 * released; a posted sale stays in the POS (trashing is housekeeping).
	 *
	 * @param mixed $order_id Order.
	 */
	public static function order_gone( $order_id ): void {
		$order = self::order( $order_id );
		if ( $order ) {
			/* translators: %s: order number */
			self::release_order( $order, false, sprintf( __( 'Order #%s was trashed or deleted', 'pos-sync' ), $order->get_order_number() ) );
		}
	}

	/**
	 * `wp_trash_post`, `before_delete_post` (orders stored as posts).
	 *
	 * @param mixed $post_id Post.
	 */
	public static function post_gone( $post_id ): void {
		if ( 'shop_order' === get_post_type( (int) $post_id ) ) {
			self::order_gone( (int) $post_id );
		}
	}

	/**
	 * The end of an order's hold: each row not yet sent is cancelled and released (its
	 * items rechecked); one that may be in flight (`sending`, or a `maybe_posted` retry)
	 * is sent once more with `lookup_only`; a posted one gets one return when $return.
	 *
	 * @param \WC_Order $order  Order.
	 * @param bool      $return Posted rows get their return (cancelled, failed, refunded).
	 * @param string    $why    What happened, for the rows' last error and the log.
	 */
	public static function release_order( \WC_Order $order, bool $return, string $why ): void {
		$rows      = OutboxRows::of_order( $order->get_id() );
		$posted    = false;
		$in_flight = false;
		foreach ( $rows as $row ) {
			if ( 'order' !== $row['kind'] || ( (int) $row['released'] && null === $row['posted_at_ms'] ) ) {
				continue;
			}
			if ( 'posted' === $row['state'] ) {
				$posted = true;
			} elseif ( self::may_be_in_pos( $row ) ) {
				$in_flight = true;
				/* translators: 1: what happened, 2: reference number */
				OutboxRows::request_cancel( (int) $row['id'], sprintf( __( '%1$s while %2$s may be on its way to the POS: it is only looked up; if the POS has it, it gets its return.', 'pos-sync' ), $why, $row['reference_number'] ) );
			} elseif ( in_array( $row['state'], Schema::UNSENT_STATES, true ) ) {
				/* translators: 1: what happened, 2: reference number */
				OutboxRows::release( (int) $row['id'], sprintf( __( '%1$s: %2$s is cancelled and never goes to the POS; its stock hold is released.', 'pos-sync' ), $why, $row['reference_number'] ) );
			}
		}
		if ( ! $posted && ! $in_flight ) {
			// The POS never had the order: its refunds have nothing to return.
			foreach ( $rows as $row ) {
				if ( 'refund' === $row['kind'] && in_array( $row['state'], Schema::UNSENT_STATES, true ) ) {
					/* translators: 1: what happened, 2: reference number */
					OutboxRows::release( (int) $row['id'], sprintf( __( '%1$s: %2$s is cancelled and never goes to the POS; its stock hold is released.', 'pos-sync' ), $why, $row['reference_number'] ) );
				}
			}
		}
		if ( $posted && $return ) {
			OrderEdits::return_remaining( $order, $why );
		}
	}

	/**
	 * A row that may be in the POS without our knowing: handed to a sidecar and not
	 * settled, or parked after a write with no clear answer.
	 *
	 * @param array $row Row.
	 */
	private static function may_be_in_pos( array $row ): bool {
		return 'sending' === $row['state']
			|| ( in_array( $row['state'], array( 'retry', 'attention' ), true ) && str_starts_with( (string) $row['last_error'], 'maybe_posted' ) );
	}

	/**
	 * `woocommerce_refund_created` (its arguments say whether it restocked): one row for
	 * a refund of an order the POS has (or will have).
	 *
	 * @param int   $refund_id Refund.
	 * @param array $args      wc_create_refund() arguments.
	 * @return bool False when the database refused the insert.
	 */
	public static function refund_created( $refund_id, $args = array() ): bool {
		$refund = wc_get_order( $refund_id );
		if ( ! $refund instanceof \WC_Order_Refund ) {
			return true;
		}
		$order = self::order( $refund->get_parent_id() );
		$row   = $order ? OutboxRows::get( 'order', $order->get_id() ) : null;
		if ( ! $order || ! $row || ( (int) $row['released'] && null === $row['posted_at_ms'] ) ) {
			if ( $order ) {
				/* translators: 1: refund id, 2: order number */
				Log::info( sprintf( __( 'Refund %1$d of order #%2$s is not sent to the POS: the POS does not have that order (created before the cut-off, never paid, or cancelled before it was sent).', 'pos-sync' ), $refund->get_id(), $order->get_order_number() ) );
			}
			return true;
		}
		$payload = Outbox::refund_payload( $refund, $order, ! empty( $args['restock_items'] ), (string) $row['reference_number'] );
		$full    = self::full_return( $order->get_id() );
		$id      = OutboxRows::insert(
			array(
				'kind'         => 'refund',
				'reference'    => References::for_refund( $refund ),
				'order_id'     => $order->get_id(),
				'refund_id'    => $refund->get_id(),
				'part'         => 0,
				'state'        => 'pending',
				'payload'      => $payload,
				'placed_at_ms' => References::placed_at_ms( $refund ),
				'number'       => $order->get_order_number(),
			),
			OutboxRows::refund_ledger( $payload )
		);
		if ( $id && $full ) {
			// The POS got everything back already (a cancel or refunded status after posting):
			// a second return would count the units twice there, and its hold would keep them
			// on the web that the POS does not have.
			/* translators: 1: refund id, 2: order number, 3: reference number of the full return */
			OutboxRows::release( $id, sprintf( __( 'Refund %1$d of order #%2$s is not sent to the POS: the whole order went back to the POS already with the return %3$s.', 'pos-sync' ), $refund->get_id(), $order->get_order_number(), (string) $full['reference_number'] ) );
		}
		return null !== $id;
	}

	/**
	 * The return of a whole order after posting (a cancel, or refunded without a refund
	 * object) that stands: not released before it was sent.
	 *
	 * @param int $order_id Order.
	 */
	private static function full_return( int $order_id ): ?array {
		foreach ( OutboxRows::of_order( $order_id ) as $row ) {
			if ( 'refund' === $row['kind'] && 0 === (int) $row['refund_id'] && (int) $row['part'] > 0 && ( ! (int) $row['released'] || null !== $row['posted_at_ms'] ) ) {
				$payload = json_decode( (string) $row['payload'], true );
				if ( ! empty( $payload['full'] ) ) {
					return $row;
				}
			}
		}
		return null;
	}

	/**
	 * REST DELETE of a refund.
	 *
	 * @param mixed $refund Refund object.
	 */
	public static function refund_object_gone( $refund ): void {
		if ( $refund instanceof \WC_Order_Refund ) {
			self::refund_gone( $refund->get_id() );
		}
	}

	/**
	 * A refund was deleted (`woocommerce_refund_deleted`, `woocommerce_delete_order_refund`):
	 * its unsent row is released; a posted one stays in the POS, and the order says so.
	 *
	 * @param mixed $refund_id Refund.
	 */
	public static function refund_gone( $refund_id ): void {
		global $wpdb;
		$outbox = Schema::outbox();
		$row    = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$outbox} WHERE kind = 'refund' AND refund_id = %d AND part = 0", (int) $refund_id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( ! $row || (int) $row['released'] ) {
			return;
		}
		$ref = (string) $row['reference_number'];
		if ( 'posted' === $row['state'] ) {
			/* translators: 1: refund id, 2: reference number, 3: POS sale ID */
			$message = sprintf( __( 'Refund %1$d was deleted in WooCommerce, but its POS return %2$s (POS sale %3$s) stays in the POS: reverse it there by hand if it should not stand.', 'pos-sync' ), (int) $refund_id, $ref, (string) $row['pos_sale_id'] );
			$wpdb->update( $outbox, array( 'last_error' => 'refund_deleted: ' . $message ), array( 'id' => (int) $row['id'] ) );
			Log::error( $message );
			$order = self::order( (int) $row['order_id'] );
			if ( $order ) {
				$order->add_order_note( $message );
			}
		} elseif ( self::may_be_in_pos( $row ) ) {
			/* translators: 1: refund id, 2: reference number */
			OutboxRows::request_cancel( (int) $row['id'], sprintf( __( 'Refund %1$d was deleted while %2$s may be on its way to the POS: it is only looked up.', 'pos-sync' ), (int) $refund_id, $ref ) );
		} elseif ( in_array( $row['state'], Schema::UNSENT_STATES, true ) ) {
			/* translators: 1: refund id, 2: reference number */
			OutboxRows::release( (int) $row['id'], sprintf( __( 'Refund %1$d was deleted: %2$s is cancelled and never goes to the POS.', 'pos-sync' ), (int) $refund_id, $ref ) );
		}
	}

	/**
	 * After `sale_posted`: a row whose cancel was asked while it was in flight is in the
	 * POS after all; a cancelled (or failed) order gets its return now. Any edit made
	 * while the row was in flight is sent as the difference.
	 *
	 * @param int $id Row.
	 */
	public static function after_posted( int $id ): void {
		global $wpdb;
		$row = OutboxRows::by_id( $id );
		if ( ! $row || 'posted' !== $row['state'] ) {
			return;
		}
		$order = self::order( (int) $row['order_id'] );
		if ( (int) $row['cancel_requested'] ) {
			$wpdb->update( Schema::outbox(), array( 'cancel_requested' => 0 ), array( 'id' => $id ) );
			if ( ! $order || ! in_array( $order->get_status(), self::CANCEL_STATUSES, true ) ) {
				/* translators: %s: reference number */
				Log::warning( sprintf( __( '%s reached the POS before its order was trashed or deleted; the POS sale stays.', 'pos-sync' ), (string) $row['reference_number'] ) );
				return;
			}
			if ( 'order' === $row['kind'] ) {
				/* translators: 1: order number */
				OrderEdits::return_remaining( $order, sprintf( __( 'Order #%s was cancelled while it was on its way to the POS', 'pos-sync' ), $order->get_order_number() ) );
			}
			return;
		}
		if ( $order && 'order' === $row['kind'] && ! in_array( $order->get_status(), self::CANCEL_STATUSES, true ) ) {
			OrderEdits::sync( $order );
		}
	}

	/**
	 * `outbox_absent {outbox_id, reference}`: the POS does not have a row sent with
	 * `lookup_only`: cancelled and released, never posted. Applied only while the run
	 * that sent the event still holds the row (its claim token, Lease.php).
	 *
	 * @param array  $event Event.
	 * @param string $token Claim token of the run.
	 */
	public static function apply_absent( array $event, string $token ): void {
		global $wpdb;
		$outbox = Schema::outbox();
		$id     = (int) ( $event['outbox_id'] ?? 0 );
		$ref    = (string) ( $event['reference'] ?? '' );
		$row    = OutboxRows::by_id( $id );
		if ( ! $row || $row['reference_number'] !== $ref ) {
			return;
		}
		$held = $wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET claim_token = NULL, claimed_until_ms = NULL WHERE id = %d AND reference_number = %s AND state <> 'posted' AND ", $id, $ref ) . Lease::held_by( $token ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( ! $held ) {
			Outbox::not_held( $event );
			return;
		}
		/* translators: %s: reference number */
		$released = OutboxRows::release( $id, sprintf( __( '%s is not in the POS: its order was cancelled, so it is never posted; its stock hold is released.', 'pos-sync' ), $ref ) );
		if ( $released && 'order' === $row['kind'] && 0 === (int) $row['part'] ) {
			self::release_refunds_of_absent( (int) $row['order_id'], $ref, $token );
		}
	}

	/**
	 * The POS never had the order (its sale was looked up and is absent, and the order is
	 * cancelled): a return has no sale to go against, so its refunds' rows not in the POS
	 * are released — unsent ones, and ones this same run holds (their own failure answer
	 * then finds them settled). A row held by another live run is left to that run.
	 *
	 * @param int    $order_id  Order.
	 * @param string $reference The order's reference.
	 * @param string $token     Claim token of the run.
	 */
	private static function release_refunds_of_absent( int $order_id, string $reference, string $token ): void {
		global $wpdb;
		$outbox = Schema::outbox();
		foreach ( OutboxRows::of_order( $order_id ) as $refund ) {
			if ( 'refund' !== $refund['kind'] || (int) $refund['released'] || null !== $refund['posted_at_ms'] ) {
				continue;
			}
			$ours = 'sending' === $refund['state'] && ( (string) $refund['claim_token'] === $token || '' === (string) $refund['claim_token'] );
			if ( ! $ours && ! in_array( $refund['state'], Schema::UNSENT_STATES, true ) ) {
				continue;
			}
			$wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET claim_token = NULL, claimed_until_ms = NULL WHERE id = %d", (int) $refund['id'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			/* translators: 1: reference number of the refund, 2: reference number of the order */
			OutboxRows::release( (int) $refund['id'], sprintf( __( '%1$s is cancelled and never goes to the POS: its order %2$s is not in the POS and was cancelled, so there is no sale to return against.', 'pos-sync' ), $refund['reference_number'], $reference ) );
		}
	}
}
