<?php
/**
 * Writing outbox rows (docs/PROTOCOL.md, "WordPress side"): a row and its ledger lines
 * in one transaction, rewriting an unsent row, releasing a row's hold, asking for the
 * cancel of a row that may be in flight. One row per (kind, order, refund, part); its
 * reference is stored here once and never recomputed.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Store\Ledger;
use PosSync\Store\Log;
use PosSync\Store\Schema;

defined( 'ABSPATH' ) || exit;

/**
 * The outbox's writes.
 */
final class OutboxRows {

	/**
	 * A row by its key, every column.
	 *
	 * @param string $kind      order | refund.
	 * @param int    $order_id  Order.
	 * @param int    $refund_id Refund (0: none).
	 * @param int    $part      Part (0: the order or refund itself).
	 */
	public static function get( string $kind, int $order_id, int $refund_id = 0, int $part = 0 ): ?array {
		global $wpdb;
		$outbox = Schema::outbox();
		$row    = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$outbox} WHERE kind = %s AND order_id = %d AND refund_id = %d AND part = %d", $kind, $order_id, $refund_id, $part ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return $row ? $row : null;
	}

	/**
	 * A row by id, every column.
	 *
	 * @param int $id Row.
	 */
	public static function by_id( int $id ): ?array {
		global $wpdb;
		$outbox = Schema::outbox();
		$row    = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$outbox} WHERE id = %d", $id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return $row ? $row : null;
	}

	/**
	 * Every row of an order (its own, its parts, its refunds), oldest first, every column.
	 *
	 * @param int $order_id Order.
	 */
	public static function of_order( int $order_id ): array {
		global $wpdb;
		$outbox = Schema::outbox();
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$outbox} WHERE order_id = %d ORDER BY id", $order_id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * The next free part of an order's own rows (edits and cancel returns).
	 *
	 * @param int $order_id Order.
	 */
	public static function next_part( int $order_id ): int {
		global $wpdb;
		$outbox = Schema::outbox();
		return 1 + (int) $wpdb->get_var( $wpdb->prepare( "SELECT MAX( part ) FROM {$outbox} WHERE order_id = %d AND refund_id = 0", $order_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Ledger lines of an order payload: − qty per linked or unlinked product line.
	 *
	 * @param array $payload Order payload.
	 * @return array[] [product id, item id, signed qty] each.
	 */
	public static function order_ledger( array $payload ): array {
		$ledger = array();
		foreach ( (array) ( $payload['lines'] ?? array() ) as $line ) {
			if ( (int) $line['product_id'] > 0 && (int) $line['qty'] > 0 ) {
				$ledger[] = array( (int) $line['product_id'], $line['item_id'] ?? null, -(int) $line['qty'] );
			}
		}
		return $ledger;
	}

	/**
	 * Ledger lines of a refund payload: + qty per restocked line.
	 *
	 * @param array $payload Refund payload.
	 * @return array[] [product id, item id, signed qty] each.
	 */
	public static function refund_ledger( array $payload ): array {
		$ledger = array();
		foreach ( (array) ( $payload['lines'] ?? array() ) as $line ) {
			if ( ! empty( $line['restock'] ) && (int) $line['qty'] > 0 && (int) ( $line['product_id'] ?? 0 ) > 0 ) {
				$ledger[] = array( (int) $line['product_id'], $line['item_id'] ?? null, (int) $line['qty'] );
			}
		}
		return $ledger;
	}

	/**
	 * Inserts a row and its ledger lines in one transaction (a savepoint when the caller
	 * already has one open, e.g. WooCommerce's own). A row that exists already (its key or
	 * reference) adds nothing. A failure is rolled back and logged with the order number;
	 * the sweep (Sweep.php) makes the row at the next tick.
	 *
	 * @param array $row    `kind, reference, order_id, refund_id, part, state, payload, placed_at_ms, number`.
	 * @param array $ledger [product id, item id, signed qty] each.
	 * @return int|null The new row's id, 0 when it existed, null when the database refused.
	 */
	public static function insert( array $row, array $ledger ): ?int {
		global $wpdb;
		$outbox = Schema::outbox();
		$now    = current_time( 'mysql', true );
		$nested = '1' === (string) $wpdb->get_var( 'SELECT @@in_transaction' );
		$wpdb->query( $nested ? 'SAVEPOINT pos_sync_row' : 'START TRANSACTION' );
		$error = '';
		$id    = 0;
		// INSERT IGNORE on the unique key and reference: a hook fired twice adds nothing.
		$inserted = $wpdb->query(
			$wpdb->prepare(
				"INSERT IGNORE INTO {$outbox} (reference_number, kind, order_id, refund_id, part, state, attempts, placed_at_ms, payload, created_at, updated_at) VALUES (%s, %s, %d, %d, %d, %s, 0, " . ( null === ( $row['placed_at_ms'] ?? null ) ? 'NULL' : (int) $row['placed_at_ms'] ) . ', %s, %s, %s)', // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				(string) $row['reference'],
				(string) $row['kind'],
				(int) $row['order_id'],
				(int) ( $row['refund_id'] ?? 0 ),
				(int) ( $row['part'] ?? 0 ),
				(string) ( $row['state'] ?? 'pending' ),
				wp_json_encode( $row['payload'] ),
				$now,
				$now
			)
		);
		if ( false === $inserted ) {
			$error = $wpdb->last_error;
		} elseif ( 1 === (int) $inserted ) {
			$id = (int) $wpdb->insert_id;
			if ( $ledger && false === self::write_lines( $id, $ledger ) ) {
				$error = $wpdb->last_error;
			}
		}
		if ( '' !== $error ) {
			$wpdb->query( $nested ? 'ROLLBACK TO SAVEPOINT pos_sync_row' : 'ROLLBACK' );
			Log::error(
				sprintf(
					/* translators: 1: order or refund, 2: order number, 3: reference, 4: database error */
					__( 'Order #%2$s: its %1$s row %3$s could not be recorded (%4$s); the sweep of the next run records it.', 'pos-sync' ),
					(string) $row['kind'],
					(string) ( $row['number'] ?? $row['order_id'] ),
					(string) $row['reference'],
					Log::scrub( $error )
				)
			);
			return null;
		}
		$wpdb->query( $nested ? 'RELEASE SAVEPOINT pos_sync_row' : 'COMMIT' );
		if ( $id ) {
			/* translators: 1: order or refund, 2: reference number, 3: state */
			Log::info( sprintf( __( 'Outbox: %1$s %2$s recorded (%3$s).', 'pos-sync' ), (string) $row['kind'], (string) $row['reference'], (string) ( $row['state'] ?? 'pending' ) ) );
		}
		return $id;
	}

	/**
	 * Writes ledger lines of a row.
	 *
	 * @param int   $id     Row.
	 * @param array $ledger [product id, item id, signed qty] each.
	 * @return int|false
	 */
	private static function write_lines( int $id, array $ledger ) {
		global $wpdb;
		$values = array();
		foreach ( $ledger as list( $product_id, $item_id, $qty ) ) {
			$values[] = null === $item_id
				? $wpdb->prepare( '(%d, %d, NULL, %d)', $id, $product_id, $qty )
				: $wpdb->prepare( '(%d, %d, %s, %d)', $id, $product_id, $item_id, $qty );
		}
		$lines = Schema::outbox_lines();
		return $wpdb->query( "INSERT INTO {$lines} (outbox_id, product_id, item_id, qty) VALUES " . implode( ',', $values ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.PreparedSQL.NotPrepared
	}

	/**
	 * True when the POS surely does not have a row that is still to go: never sent, or
	 * refused by the POS (a retry or attention row that did not end in a write with no
	 * clear answer). Such a row can take a new payload under its reference.
	 *
	 * @param array $row Row.
	 */
	public static function rewritable( array $row ): bool {
		return null === $row['posted_at_ms'] && ! (int) $row['released'] && ! (int) $row['cancel_requested'] && (
			( in_array( $row['state'], array( 'held', 'pending' ), true ) && null === $row['first_attempt_at_ms'] )
			|| ( in_array( $row['state'], array( 'retry', 'attention' ), true ) && ! str_starts_with( (string) $row['last_error'], 'maybe_posted' ) )
		);
	}

	/**
	 * Rewrites the payload and lines of a row that was never handed to the POS (same
	 * reference), optionally moving it to a new state; in one transaction. A row that
	 * was sent in the meantime is left alone (false).
	 *
	 * @param int         $id      Row.
	 * @param array       $payload New payload.
	 * @param array       $ledger  New ledger lines.
	 * @param string|null $state   New state (held → pending, cancelled → held/pending), or null.
	 */
	public static function rewrite( int $id, array $payload, array $ledger, ?string $state = null ): bool {
		global $wpdb;
		$outbox = Schema::outbox();
		$lines  = Schema::outbox_lines();
		$nested = '1' === (string) $wpdb->get_var( 'SELECT @@in_transaction' );
		$wpdb->query( $nested ? 'SAVEPOINT pos_sync_rewrite' : 'START TRANSACTION' );
		$set = null === $state ? '' : $wpdb->prepare( ', state = %s, released = 0, cancel_requested = 0, last_error = NULL', $state );
		// Never sent: held or pending without a first attempt, or cancelled and released
		// without a confirmation (reopened).
		$ok = $wpdb->query(
			$wpdb->prepare(
				"UPDATE {$outbox} SET payload = %s, updated_at = %s{$set} WHERE id = %d AND posted_at_ms IS NULL AND ( ( state IN ('held', 'pending') AND first_attempt_at_ms IS NULL ) OR ( state IN ('retry', 'attention') AND cancel_requested = 0 AND COALESCE( last_error, '' ) NOT LIKE 'maybe\\_posted%%' ) OR ( state = 'cancelled' AND released = 1 ) )", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				wp_json_encode( $payload ),
				current_time( 'mysql', true ),
				$id
			)
		);
		$done = 1 === (int) $ok
			&& false !== $wpdb->query( $wpdb->prepare( "DELETE FROM {$lines} WHERE outbox_id = %d", $id ) ) // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			&& ( ! $ledger || false !== self::write_lines( $id, $ledger ) );
		if ( ! $done ) {
			if ( false === $ok || '' !== $wpdb->last_error ) {
				/* translators: 1: row id, 2: database error */
				Log::error( sprintf( __( 'Outbox row %1$d could not be rewritten (%2$s); it stays as it was.', 'pos-sync' ), $id, Log::scrub( $wpdb->last_error ) ) );
			}
			$wpdb->query( $nested ? 'ROLLBACK TO SAVEPOINT pos_sync_rewrite' : 'ROLLBACK' );
			return false;
		}
		$wpdb->query( $nested ? 'RELEASE SAVEPOINT pos_sync_rewrite' : 'COMMIT' );
		Ledger::request_recheck( self::items_of( $id ) );
		return true;
	}

	/**
	 * Releases a row that the POS surely does not have: `cancelled` (or `manual`),
	 * `released`, never sent; its items are read afresh at the next sync.
	 *
	 * @param int    $id    Row.
	 * @param string $why   Said in the row's last error and the log.
	 * @param string $state cancelled | manual.
	 */
	public static function release( int $id, string $why, string $state = Schema::CANCELLED_STATE ): bool {
		global $wpdb;
		$outbox = Schema::outbox();
		$ok     = $wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET state = %s, released = 1, cancel_requested = 0, retry_at_ms = NULL, last_error = %s, updated_at = %s WHERE id = %d AND posted_at_ms IS NULL AND state <> 'posted'", $state, $why, current_time( 'mysql', true ), $id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( 1 !== (int) $ok ) {
			return false;
		}
		Ledger::request_recheck( self::items_of( $id ) );
		Log::info( $why );
		return true;
	}

	/**
	 * Asks for the cancel of a row that may be in flight: the next job sends it with
	 * `lookup_only` (the core only looks it up; `outbox_absent` → released, `sale_posted`
	 * → posted, then the order's cancel after posting).
	 *
	 * @param int    $id  Row.
	 * @param string $why Said in the log.
	 */
	public static function request_cancel( int $id, string $why ): bool {
		global $wpdb;
		$outbox = Schema::outbox();
		$ok     = $wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET cancel_requested = 1, retry_at_ms = NULL, state = IF( state = 'attention', 'retry', state ), updated_at = %s WHERE id = %d AND posted_at_ms IS NULL AND released = 0 AND cancel_requested = 0", current_time( 'mysql', true ), $id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( 1 === (int) $ok ) {
			Log::info( $why );
		}
		return 1 === (int) $ok;
	}

	/**
	 * The POS items of a row's ledger lines.
	 *
	 * @param int $id Row.
	 * @return string[]
	 */
	public static function items_of( int $id ): array {
		global $wpdb;
		$lines = Schema::outbox_lines();
		return array_map( 'strval', (array) $wpdb->get_col( $wpdb->prepare( "SELECT DISTINCT item_id FROM {$lines} WHERE outbox_id = %d AND item_id IS NOT NULL", $id ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}
}
