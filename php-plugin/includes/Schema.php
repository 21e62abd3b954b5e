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

	public const DB_VERSION        = '1';
	public const DB_VERSION_OPTION = 'pos_sync_db_version';

	/**
	 * Outbox states whose quantities the POS already knows (or that will never reach it).
	 * Every other state (pending, posting, failed, parked) still counts in the pending ledger.
	 */
	public const SETTLED_STATES = array( 'posted', 'cancelled' );

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

		// qty in outbox lines: quantity taken from POS stock once posted, so + for an order
		// line and − for a restocking refund line; the pending ledger is their sum.
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
  pos_sale_id varchar(32) NULL,
  created_at datetime NOT NULL,
  updated_at datetime NOT NULL,
  posted_at datetime NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY reference_number (reference_number),
  KEY state (state)
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
) {$collate};"
		);
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
		foreach ( array( self::outbox_lines(), self::outbox(), self::stock_log() ) as $table ) {
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
	 * The pending ledger of some products: quantity of not yet settled outbox lines.
	 * A locking read inside the caller's transaction, so an order recorded while the
	 * stock is being written waits for it instead of slipping between read and write.
	 *
	 * @param int[] $product_ids Products.
	 * @return array<int,int> product id => pending quantity (only non-zero ones).
	 */
	public static function pending_ledger( array $product_ids ): array {
		global $wpdb;
		$ids = array_values( array_unique( array_map( 'intval', $product_ids ) ) );
		if ( ! $ids ) {
			return array();
		}
		$outbox   = self::outbox();
		$lines    = self::outbox_lines();
		$in_ids   = implode( ',', $ids );
		$settled  = "'" . implode( "','", array_map( 'esc_sql', self::SETTLED_STATES ) ) . "'";
		$rows     = $wpdb->get_results(
			"SELECT l.product_id, l.qty FROM {$lines} l JOIN {$outbox} o ON o.id = l.outbox_id
			 WHERE l.product_id IN ({$in_ids}) AND o.state NOT IN ({$settled}) FOR UPDATE", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			ARRAY_A
		);
		$pending = array();
		foreach ( (array) $rows as $row ) {
			$pending[ (int) $row['product_id'] ] = ( $pending[ (int) $row['product_id'] ] ?? 0 ) + (int) $row['qty'];
		}
		return array_filter( $pending );
	}
}
