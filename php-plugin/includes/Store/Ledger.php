<?php
/**
 * The pending ledger (online orders and restocking refunds the POS may not have
 * counted in a reading yet) and the recheck requests that end its doubt.
 *
 * The rule is the core's (src/flows/ledger.rs, cases in tests/fixtures/ledger-cases.json);
 * here it is evaluated in SQL inside the transaction that writes the stock.
 *
 * @package PosSync
 */

namespace PosSync\Store;

defined( 'ABSPATH' ) || exit;

/**
 * Ledger term per product, and the recheck table.
 */
final class Ledger {

	/**
	 * Milliseconds since the epoch, PHP's clock.
	 */
	public static function now_ms(): int {
		return (int) floor( microtime( true ) * 1000 );
	}

	/**
	 * The ledger term of each product for its own reading, in one locking query:
	 * - an order line (qty < 0) counts unless its row was confirmed (`posted_at_ms`)
	 *   before the reading's request was sent (`read_from_ms`);
	 * - a restocking refund line (qty > 0) counts only if its row was never sent, or
	 *   first sent (`first_attempt_at_ms`) after the reading's answer came back
	 *   (`read_until_ms`).
	 * Web stock = max(0, base + term). A released row (cancelled before it was sent,
	 * entered in the POS by hand, or reported absent by the POS) counts 0, unless the POS
	 * confirmed it (`posted_at_ms`): then the rules above apply.
	 *
	 * A locking read, so an order recorded (or confirmed) while the stock is being
	 * written waits for this transaction instead of slipping between read and write.
	 *
	 * @param array<int,array{0:int,1:int}> $readings product id => [read_from_ms, read_until_ms].
	 * @return array<int,int> product id => signed term (non-zero ones only).
	 */
	public static function for_readings( array $readings ): array {
		global $wpdb;
		$window = array();
		foreach ( $readings as $product_id => $reading ) {
			$window[] = sprintf( 'SELECT %d AS product_id, %d AS read_from_ms, %d AS read_until_ms', (int) $product_id, (int) $reading[0], (int) $reading[1] );
		}
		if ( ! $window ) {
			return array();
		}
		$outbox = Schema::outbox();
		$lines  = Schema::outbox_lines();
		$rows   = $wpdb->get_results(
			// phpcs:disable WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.PreparedSQL.NotPrepared -- the window holds integers only.
			"SELECT w.product_id, SUM( CASE
				   WHEN l.qty < 0 THEN IF( o.posted_at_ms IS NOT NULL AND o.posted_at_ms < w.read_from_ms, 0, l.qty )
				   WHEN o.first_attempt_at_ms IS NULL THEN IF( o.posted_at_ms IS NULL, l.qty, 0 )
				   WHEN o.first_attempt_at_ms > w.read_until_ms THEN l.qty
				   ELSE 0 END ) AS ledger
				 FROM ( " . implode( ' UNION ALL ', $window ) . " ) w
				 JOIN {$lines} l ON l.product_id = w.product_id
				 JOIN {$outbox} o ON o.id = l.outbox_id
				 WHERE ( o.released = 0 OR o.posted_at_ms IS NOT NULL )
				 GROUP BY w.product_id
				 FOR UPDATE",
			// phpcs:enable
			ARRAY_A
		);
		if ( '' !== $wpdb->last_error ) {
			throw new \RuntimeException( 'pending ledger: ' . $wpdb->last_error );
		}
		$ledger = array();
		foreach ( (array) $rows as $row ) {
			$ledger[ (int) $row['product_id'] ] = (int) $row['ledger'];
		}
		return array_filter( $ledger );
	}

	/**
	 * Asks for a fresh reading of some POS items at the next sync (a row became posted,
	 * or someone typed a linked product's stock into WooCommerce).
	 *
	 * @param string[] $item_ids POS item ids.
	 * @param int|null $at_ms    When (default: now).
	 */
	public static function request_recheck( array $item_ids, ?int $at_ms = null ): void {
		global $wpdb;
		$at_ms    = $at_ms ?? self::now_ms();
		$item_ids = array_values( array_unique( array_filter( array_map( 'strval', $item_ids ), 'strlen' ) ) );
		if ( ! $item_ids ) {
			return;
		}
		$values = array();
		foreach ( $item_ids as $item_id ) {
			$values[] = $wpdb->prepare( '(%s, %d)', $item_id, $at_ms );
		}
		$table = Schema::recheck();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.PreparedSQL.NotPrepared
		$wpdb->query( "INSERT INTO {$table} (item_id, requested_at_ms) VALUES " . implode( ',', $values ) . ' ON DUPLICATE KEY UPDATE requested_at_ms = GREATEST( requested_at_ms, VALUES( requested_at_ms ) )' );
	}

	/**
	 * The items to read afresh in the next sync job (`recheck_item_ids`), oldest request first.
	 *
	 * @param int $limit At most this many.
	 * @return string[]
	 */
	public static function recheck_item_ids( int $limit = 500 ): array {
		global $wpdb;
		$table = Schema::recheck();
		return array_map( 'strval', (array) $wpdb->get_col( $wpdb->prepare( "SELECT item_id FROM {$table} ORDER BY requested_at_ms, item_id LIMIT %d", $limit ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Forgets the requests of items sent in a sync job that read every recheck it was
	 * given: an item the POS no longer returns would otherwise be asked for forever.
	 * Requests made after the job was built stay.
	 *
	 * @param string[] $item_ids Items the job was asked to recheck.
	 * @param int      $asked_ms When the job read the requests.
	 */
	public static function forget_rechecks( array $item_ids, int $asked_ms ): void {
		global $wpdb;
		if ( ! $item_ids || $asked_ms <= 0 ) {
			return;
		}
		$table = Schema::recheck();
		$in    = implode( ',', array_map( static fn( $id ) => $wpdb->prepare( '%s', (string) $id ), $item_ids ) );
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE item_id IN ({$in}) AND requested_at_ms <= %d", $asked_ms ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Clears the recheck requests answered by these levels: a level read (request sent)
	 * after the request was made. Runs inside the apply transaction.
	 *
	 * @param array $levels Levels of a stock event (`item_id`, `read_from_ms`).
	 * @throws \RuntimeException When the database refuses.
	 */
	public static function clear_answered_rechecks( array $levels ): void {
		global $wpdb;
		$by_reading = array();
		foreach ( $levels as $level ) {
			$item_id = (string) ( $level['item_id'] ?? '' );
			$from    = (int) ( $level['read_from_ms'] ?? 0 );
			if ( '' !== $item_id && $from > 0 ) {
				$by_reading[ $from ][] = $item_id;
			}
		}
		$table = Schema::recheck();
		foreach ( $by_reading as $from => $item_ids ) {
			$in = implode( ',', array_map( static fn( $id ) => $wpdb->prepare( '%s', $id ), array_unique( $item_ids ) ) );
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			if ( false === $wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE item_id IN ({$in}) AND requested_at_ms < %d", $from ) ) ) {
				throw new \RuntimeException( 'recheck requests: ' . $wpdb->last_error );
			}
		}
	}
}
