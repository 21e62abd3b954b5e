<?php
/**
 * Tables: the outbox (orders and refunds waiting for the POS, which is also the
 * pending ledger) and the stock audit log.
 *
 * @package PosSync
 */

namespace PosSync\Store;

defined( 'ABSPATH' ) || exit;

/**
 * Creates the tables and reads the pending ledger.
 */
final class Schema {

	public const DB_VERSION        = '5';
	public const DB_VERSION_OPTION = 'pos_sync_db_version';

	/**
	 * A row in this state never reaches the POS (`released` is set with it).
	 */
	public const CANCELLED_STATE = 'cancelled';

	/**
	 * Outbox states (docs/PROTOCOL.md, "WordPress side"): `held` (stock reduced, order not
	 * paid: counted, never sent) → `pending` (paid) → `sending` (claimed) → `posted` |
	 * `retry` | `attention`; `cancelled` and `manual` (entered in the POS by hand) are
	 * released and never sent.
	 */
	public const STATES = array( 'held', 'pending', 'sending', 'posted', 'retry', 'attention', 'cancelled', 'manual' );

	/**
	 * States of a row that was surely never handed to the POS, or may be again.
	 */
	public const UNSENT_STATES = array( 'held', 'pending', 'retry', 'attention' );

	/**
	 * Table names.
	 */
	public static function outbox(): string {
		return $GLOBALS['wpdb']->prefix . 'pos_sync_outbox';
	}

	/**
	 * Outbox lines: one product and a signed quantity each.
	 */
	public static function outbox_lines(): string {
		return $GLOBALS['wpdb']->prefix . 'pos_sync_outbox_lines';
	}

	/**
	 * Items to read afresh at the next sync (`recheck_item_ids`), with when it was asked.
	 */
	public static function recheck(): string {
		return $GLOBALS['wpdb']->prefix . 'pos_sync_recheck';
	}

	/**
	 * The POS catalogue as the publish flow last saw it (Catalogue).
	 */
	public static function catalogue(): string {
		return $GLOBALS['wpdb']->prefix . 'pos_sync_catalogue';
	}

	/**
	 * Every stock write the plugin makes.
	 */
	public static function stock_log(): string {
		return $GLOBALS['wpdb']->prefix . 'pos_sync_stock_log';
	}

	/**
	 * Creates or upgrades the tables (dbDelta).
	 */
	public static function install(): void {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$collate = $wpdb->get_charset_collate();
		$outbox  = self::outbox();
		$lines   = self::outbox_lines();
		$log     = self::stock_log();
		$recheck = self::recheck();
		$items   = self::catalogue();
		$from    = (string) get_option( self::DB_VERSION_OPTION );

		// qty in outbox lines is signed as the core's ledger rule wants it (src/flows/ledger.rs):
		// − for an order line, + for a restocking refund line; money-only refunds have none.
		// first_attempt_at_ms / posted_at_ms (ms since the epoch) say when a row was first
		// handed to the sidecar and when the POS confirmed it. One row per (kind, order,
		// refund, part): part 0 is the order or refund itself, 1.. its edits and its return
		// for a cancel. reference_number is fixed when the row is made and never recomputed.
		// released: the POS surely does not have the sale (never sent, or looked up absent),
		// so the row counts 0 in the ledger. claim_token / claimed_until_ms: the lease of the
		// run posting it (Lease.php). resumable: parked only because transient failures
		// reached max_attempts (OutboxActions::resume_parked()).
		if ( '' !== $from && version_compare( $from, '4', '<' ) ) {
			self::number_parts();
		}
		dbDelta(
			"CREATE TABLE {$outbox} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  reference_number varchar(64) NOT NULL,
  kind varchar(16) NOT NULL DEFAULT 'order',
  order_id bigint(20) unsigned NOT NULL DEFAULT 0,
  refund_id bigint(20) unsigned NOT NULL DEFAULT 0,
  part int(10) unsigned NOT NULL DEFAULT 0,
  state varchar(16) NOT NULL DEFAULT 'pending',
  attempts int(10) unsigned NOT NULL DEFAULT 0,
  last_error text NULL,
  next_attempt_at datetime NULL,
  retry_at_ms bigint(20) unsigned NULL,
  claim_token varchar(40) NULL,
  claimed_until_ms bigint(20) unsigned NULL,
  placed_at_ms bigint(20) unsigned NULL,
  released tinyint(1) unsigned NOT NULL DEFAULT 0,
  cancel_requested tinyint(1) unsigned NOT NULL DEFAULT 0,
  resumable tinyint(1) unsigned NOT NULL DEFAULT 0,
  first_attempt_at_ms bigint(20) unsigned NULL,
  posted_at_ms bigint(20) unsigned NULL,
  pos_sale_id varchar(32) NULL,
  pos_customer_id varchar(32) NULL,
  payload longtext NULL,
  created_at datetime NOT NULL,
  updated_at datetime NOT NULL,
  posted_at datetime NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY reference_number (reference_number),
  UNIQUE KEY row_key (kind,order_id,refund_id,part),
  KEY state (state),
  KEY order_id (order_id),
  KEY claim_token (claim_token)
) {$collate};
CREATE TABLE {$lines} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  outbox_id bigint(20) unsigned NOT NULL,
  product_id bigint(20) unsigned NOT NULL,
  item_id varchar(32) NULL,
  qty int(11) NOT NULL,
  PRIMARY KEY  (id),
  KEY outbox_id (outbox_id),
  KEY product_id (product_id)
) {$collate};
CREATE TABLE {$recheck} (
  item_id varchar(32) NOT NULL,
  requested_at_ms bigint(20) unsigned NOT NULL,
  PRIMARY KEY  (item_id)
) {$collate};
CREATE TABLE {$log} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  product_id bigint(20) unsigned NOT NULL,
  item_id varchar(32) NULL,
  from_qty int(11) NULL,
  to_qty int(11) NOT NULL,
  pos_base int(11) NOT NULL,
  pending int(11) NOT NULL DEFAULT 0,
  safety_buffer int(11) NOT NULL DEFAULT 0,
  overwrote_edit tinyint(1) NOT NULL DEFAULT 0,
  run_id varchar(40) NOT NULL DEFAULT '',
  created_at datetime NOT NULL,
  PRIMARY KEY  (id),
  KEY product_id (product_id),
  KEY created_at (created_at)
) {$collate};
CREATE TABLE {$items} (
  pos_key varchar(40) NOT NULL,
  name varchar(255) NOT NULL DEFAULT '',
  sku varchar(255) NOT NULL DEFAULT '',
  type varchar(10) NOT NULL DEFAULT 'simple',
  visibility varchar(10) NOT NULL DEFAULT 'hidden',
  hidden_reason varchar(20) NOT NULL DEFAULT '',
  variants int(10) unsigned NOT NULL DEFAULT 0,
  product_id bigint(20) unsigned NOT NULL DEFAULT 0,
  pos_timestamp varchar(40) NOT NULL DEFAULT '',
  first_seen_at datetime NOT NULL,
  PRIMARY KEY  (pos_key),
  KEY name (name(40)),
  KEY sku (sku(40))
) {$collate};"
		);
		if ( '1' === $from ) {
			// Version 1 signed lines the other way (+ for orders) and had no ms timestamps:
			// flip the signs; a row posted then counts as confirmed long before any reading.
			$wpdb->query( "UPDATE {$lines} SET qty = -qty" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			$wpdb->query( "UPDATE {$outbox} SET posted_at_ms = 1, first_attempt_at_ms = COALESCE( first_attempt_at_ms, 1 ) WHERE state = 'posted' AND posted_at_ms IS NULL" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		}
		if ( '' !== $from && version_compare( $from, '4', '<' ) ) {
			self::migrate_to_4();
		}
		update_option( self::DB_VERSION_OPTION, self::DB_VERSION );
	}

	/**
	 * Before the unique (kind, order, refund, part) key of version 4 exists: the column,
	 * and distinct parts for the rows an older version made twice for one order (a prefix
	 * changed between two paid statuses made WEB-21 and SHOP-21), oldest row part 0.
	 */
	private static function number_parts(): void {
		global $wpdb;
		$outbox = self::outbox();
		if ( ! $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $outbox ) ) ) {
			return;
		}
		if ( ! $wpdb->get_var( "SHOW COLUMNS FROM {$outbox} LIKE 'part'" ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			$wpdb->query( "ALTER TABLE {$outbox} ADD COLUMN part int(10) unsigned NOT NULL DEFAULT 0 AFTER refund_id" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		}
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$groups = (array) $wpdb->get_results( "SELECT kind, order_id, refund_id, GROUP_CONCAT( id ORDER BY id ) AS ids FROM {$outbox} GROUP BY kind, order_id, refund_id HAVING COUNT(*) > 1", ARRAY_A );
		foreach ( $groups as $group ) {
			foreach ( array_map( 'intval', explode( ',', (string) $group['ids'] ) ) as $part => $id ) {
				$wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET part = %d WHERE id = %d", $part, $id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			}
		}
	}

	/**
	 * Version 4 on existing rows: a copy of an order that was never sent is cancelled (the
	 * first row is the order's), cancelled rows are released, unsent rows learn when their
	 * order or refund was placed, and the cut-off becomes the day the first row was made,
	 * so orders from before the plugin posted anything stay out of the POS.
	 */
	private static function migrate_to_4(): void {
		global $wpdb;
		$outbox = self::outbox();
		$now    = current_time( 'mysql', true );
		// phpcs:disable WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET state = 'cancelled', last_error = 'duplicate_row: a second row of the same order, never sent', updated_at = %s WHERE part > 0 AND first_attempt_at_ms IS NULL AND posted_at_ms IS NULL AND state IN ('pending', 'retry', 'attention')", $now ) );
		$wpdb->query( "UPDATE {$outbox} SET released = 1 WHERE state = 'cancelled' AND posted_at_ms IS NULL" );
		$rows = (array) $wpdb->get_results( "SELECT id, order_id, refund_id FROM {$outbox} WHERE placed_at_ms IS NULL AND state NOT IN ('posted', 'cancelled') ORDER BY id LIMIT 5000", ARRAY_A );
		// phpcs:enable
		foreach ( $rows as $row ) {
			$source  = function_exists( 'wc_get_order' ) ? wc_get_order( (int) ( $row['refund_id'] ? $row['refund_id'] : $row['order_id'] ) ) : null;
			$created = $source ? $source->get_date_created() : null;
			if ( $created ) {
				$wpdb->update( $outbox, array( 'placed_at_ms' => $created->getTimestamp() * 1000 ), array( 'id' => (int) $row['id'] ) );
			}
		}
		$first = (string) $wpdb->get_var( "SELECT MIN( created_at ) FROM {$outbox}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( '' !== $first && ! get_option( 'pos_sync_connected_on' ) ) {
			add_option( 'pos_sync_connected_on', substr( $first, 0, 10 ), '', false );
		}
		// The prefix an upgraded shop posted with stays (the default is now per site).
		$settings = (array) get_option( 'pos_sync_settings', array() );
		if ( '' !== $first && '' === trim( (string) ( $settings['reference_prefix'] ?? '' ) ) ) {
			$settings['reference_prefix'] = 'WEB-';
			update_option( 'pos_sync_settings', $settings );
		}
	}

	/**
	 * Upgrades the tables after a plugin update.
	 */
	public static function maybe_upgrade(): void {
		if ( get_option( self::DB_VERSION_OPTION ) !== self::DB_VERSION ) {
			self::install();
		}
	}

	/**
	 * Drops the tables (uninstall).
	 */
	public static function drop(): void {
		global $wpdb;
		foreach ( array( self::outbox_lines(), self::outbox(), self::stock_log(), self::recheck(), self::catalogue() ) as $table ) {
			$wpdb->query( "DROP TABLE IF EXISTS {$table}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		}
		delete_option( self::DB_VERSION_OPTION );
	}

	/**
	 * Deletes stock log rows older than the retention, at most once a day.
	 *
	 * @param int $days Days to keep.
	 */
	public static function prune_stock_log( int $days ): void {
		global $wpdb;
		if ( $days < 1 || get_transient( 'pos_sync_log_pruned' ) ) {
			return;
		}
		set_transient( 'pos_sync_log_pruned', 1, DAY_IN_SECONDS );
		$table = self::stock_log();
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE created_at < %s", gmdate( 'Y-m-d H:i:s', time() - $days * DAY_IN_SECONDS ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * The pending ledger of some products, each for its own reading: see Ledger::for_readings().
	 *
	 * @param array<int,array{0:int,1:int}> $readings product id => [read_from_ms, read_until_ms].
	 * @return array<int,int> product id => signed ledger term (only non-zero ones).
	 */
	public static function pending_ledger( array $readings ): array {
		return Ledger::for_readings( $readings );
	}
}
