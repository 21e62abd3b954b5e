<?php
/**
 * Tables: the outbox (orders and refunds waiting for the POS, which is also the
 * pending ledger) and the stock audit log.
 *
 * @package PosSync
 */

namespace PosSync;

defined( 'ABSPATH' ) || exit;

/**
 * Creates the tables and reads the pending ledger.
 */
final class Schema {

	public const DB_VERSION        = '4';
	public const DB_VERSION_OPTION = 'pos_sync_db_version';

	/**
	 * Outbox rows in this state never reach the POS and are left out of the pending ledger.
	 * Every other row counts by the ledger rule (Ledger.php), posted ones included.
	 */
	public const CANCELLED_STATE = 'cancelled';

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

		// qty in outbox lines is signed as the core's ledger rule wants it (src/sync/ledger.rs):
		// − for an order line, + for a restocking refund line; money-only refunds have none.
		// first_attempt_at_ms / posted_at_ms (ms since the epoch) say when a row was first
		// handed to the sidecar and when the POS confirmed it. claim_token / claimed_until_ms
		// are the lease of the run posting it (Lease.php); released: the POS surely does not
		// have the sale (the row counts 0 in the ledger); resumable: parked only because
		// transient failures reached max_attempts (OutboxActions::resume_parked()).
		dbDelta(
			"CREATE TABLE {$outbox} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  reference_number varchar(64) NOT NULL,
  kind varchar(16) NOT NULL DEFAULT 'order',
  order_id bigint(20) unsigned NOT NULL DEFAULT 0,
  refund_id bigint(20) unsigned NOT NULL DEFAULT 0,
  state varchar(16) NOT NULL DEFAULT 'pending',
  attempts int(10) unsigned NOT NULL DEFAULT 0,
  last_error text NULL,
  next_attempt_at datetime NULL,
  retry_at_ms bigint(20) unsigned NULL,
  claimed_until_ms bigint(20) unsigned NULL,
  claim_token varchar(40) NULL,
  released tinyint(1) NOT NULL DEFAULT 0,
  resumable tinyint(1) NOT NULL DEFAULT 0,
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
		update_option( self::DB_VERSION_OPTION, self::DB_VERSION );
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
