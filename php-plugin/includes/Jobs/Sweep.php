<?php
/**
 * The sweep (every tick, before the sync): orders that should have a row and have none
 * — paid, or with their stock reduced, created after the cut-off — and refunds of such
 * orders without a row. A hook that failed to record a row (a lock wait against the
 * stock write, a missing table) is made good here.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Orders\OrderLife;
use PosSync\Orders\References;
use PosSync\Store\Log;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Finds what the hooks missed.
 */
final class Sweep {

	/**
	 * Orders and refunds looked at per tick, at most.
	 */
	public const LIMIT = 50;

	/**
	 * Records the missing rows; returns how many were made.
	 */
	public static function run(): int {
		$cutoff = References::cutoff_ts();
		if ( null === $cutoff ) {
			return 0;
		}
		$made = 0;
		foreach ( self::orders_without_row( $cutoff ) as $order_id ) {
			$order = wc_get_order( $order_id );
			if ( $order instanceof \WC_Order && ! $order instanceof \WC_Order_Refund && OrderLife::record_order( $order, OrderLife::is_paid( $order ) ) ) {
				++$made;
			}
		}
		foreach ( self::refunds_without_row( $cutoff ) as $refund_id ) {
			// Whether WooCommerce restocked is not recorded on the refund: sent as money only.
			if ( OrderLife::refund_created( $refund_id, array() ) ) {
				++$made;
			}
		}
		if ( $made ) {
			/* translators: %d: rows */
			Log::warning( sprintf( _n( 'Sweep: %d order or refund had no outbox row; it has one now.', 'Sweep: %d orders or refunds had no outbox row; they have one now.', $made, 'pos-sync' ), $made ) );
		}
		return $made;
	}

	/**
	 * True when WooCommerce keeps orders in its own tables (HPOS).
	 */
	private static function hpos(): bool {
		return class_exists( \Automattic\WooCommerce\Utilities\OrderUtil::class ) && \Automattic\WooCommerce\Utilities\OrderUtil::custom_orders_table_usage_is_enabled();
	}

	/**
	 * Orders created after the cut-off, paid or stock-reduced, with no own row.
	 *
	 * @param int $cutoff Timestamp.
	 * @return int[]
	 */
	private static function orders_without_row( int $cutoff ): array {
		global $wpdb;
		$outbox   = Schema::outbox();
		$statuses = array_map( static fn( $s ) => $wpdb->prepare( '%s', 'wc-' . $s ), Settings::paid_statuses() );
		$paid     = $statuses ? implode( ',', $statuses ) : "''";
		$since    = gmdate( 'Y-m-d H:i:s', $cutoff );
		// phpcs:disable WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( self::hpos() ) {
			$orders = $wpdb->prefix . 'wc_orders';
			$ops    = $wpdb->prefix . 'wc_order_operational_data';
			$sql    = "SELECT o.id FROM {$orders} o LEFT JOIN {$ops} d ON d.order_id = o.id
			  LEFT JOIN {$outbox} b ON b.kind = 'order' AND b.order_id = o.id AND b.refund_id = 0 AND b.part = 0
			  WHERE o.type = 'shop_order' AND o.date_created_gmt >= %s AND b.id IS NULL
			    AND ( o.status IN ({$paid}) OR ( d.order_stock_reduced = 1 AND o.status NOT IN ('wc-cancelled', 'wc-failed', 'wc-refunded', 'trash', 'wc-checkout-draft') ) )
			  ORDER BY o.id LIMIT %d";
		} else {
			$sql = "SELECT p.ID FROM {$wpdb->posts} p LEFT JOIN {$wpdb->postmeta} m ON m.post_id = p.ID AND m.meta_key = '_order_stock_reduced'
			  LEFT JOIN {$outbox} b ON b.kind = 'order' AND b.order_id = p.ID AND b.refund_id = 0 AND b.part = 0
			  WHERE p.post_type = 'shop_order' AND p.post_date_gmt >= %s AND b.id IS NULL
			    AND ( p.post_status IN ({$paid}) OR ( m.meta_value IN ('yes', '1') AND p.post_status NOT IN ('wc-cancelled', 'wc-failed', 'wc-refunded', 'trash', 'wc-checkout-draft') ) )
			  ORDER BY p.ID LIMIT %d";
		}
		return array_map( 'intval', (array) $wpdb->get_col( $wpdb->prepare( $sql, $since, self::LIMIT ) ) );
		// phpcs:enable
	}

	/**
	 * Refunds created after the cut-off of orders the POS has (a row not released), with no row.
	 *
	 * @param int $cutoff Timestamp.
	 * @return int[]
	 */
	private static function refunds_without_row( int $cutoff ): array {
		global $wpdb;
		$outbox = Schema::outbox();
		$since  = gmdate( 'Y-m-d H:i:s', $cutoff );
		$table  = self::hpos() ? $wpdb->prefix . 'wc_orders' : $wpdb->posts;
		$cols   = self::hpos() ? array( 'id', 'parent_order_id', 'type', 'date_created_gmt' ) : array( 'ID', 'post_parent', 'post_type', 'post_date_gmt' );
		// phpcs:disable WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$sql = "SELECT r.{$cols[0]} FROM {$table} r
		  JOIN {$outbox} o ON o.kind = 'order' AND o.order_id = r.{$cols[1]} AND o.refund_id = 0 AND o.part = 0 AND ( o.released = 0 OR o.posted_at_ms IS NOT NULL )
		  LEFT JOIN {$outbox} b ON b.kind = 'refund' AND b.refund_id = r.{$cols[0]} AND b.part = 0
		  WHERE r.{$cols[2]} = 'shop_order_refund' AND r.{$cols[3]} >= %s AND b.id IS NULL
		  ORDER BY r.{$cols[0]} LIMIT %d";
		return array_map( 'intval', (array) $wpdb->get_col( $wpdb->prepare( $sql, $since, self::LIMIT ) ) );
		// phpcs:enable
	}
}
