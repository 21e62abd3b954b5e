<?php
/**
 * The POS reference of an outbox row, fixed when the row is made (docs/PROTOCOL.md,
 * "WordPress side"), the site's own default prefix, and the cut-off date before which
 * orders are not the plugin's business.
 *
 * @package PosSync
 */

namespace PosSync\Orders;

use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * References, prefix and cut-off.
 */
final class References {

	/**
	 * The day (Y-m-d, site time) the connection was first saved or tested ok: the default cut-off.
	 */
	public const CONNECTED_OPTION = 'pos_sync_connected_on';

	/**
	 * The prefix new rows get: the setting, else one derived from this site, so two shops
	 * (a staging copy, sites of a multisite) on one POS account never share references.
	 */
	public static function prefix(): string {
		$prefix = trim( (string) Settings::get( 'reference_prefix' ) );
		return '' !== $prefix ? $prefix : self::default_prefix();
	}

	/**
	 * The first three letters of the site's host and four characters of a hash of its
	 * address (and blog id), e.g. `SHO-3F2A-` for shop.example.com.
	 */
	public static function default_prefix(): string {
		$home    = (string) get_option( 'home' );
		$host    = (string) wp_parse_url( $home, PHP_URL_HOST );
		$letters = strtoupper( substr( (string) preg_replace( '/[^a-z0-9]/i', '', preg_replace( '/^www\./i', '', $host ) ), 0, 3 ) );
		$hash    = strtoupper( substr( md5( $home . '|' . get_current_blog_id() ), 0, 4 ) );
		return ( '' !== $letters ? $letters : 'WEB' ) . '-' . $hash . '-';
	}

	/**
	 * True once any row was handed to the POS: the prefix can no longer change (a row
	 * keeps its stored reference, but a merchant would otherwise see two kinds of
	 * reference for one shop and guess wrong which sale is which).
	 */
	public static function prefix_locked(): bool {
		global $wpdb;
		$outbox = Schema::outbox();
		return (bool) $wpdb->get_var( "SELECT 1 FROM {$outbox} WHERE first_attempt_at_ms IS NOT NULL OR posted_at_ms IS NOT NULL LIMIT 1" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Stores the prefix in use when the first row is made (so a derived default never
	 * moves with the site address afterwards).
	 */
	public static function pin_prefix(): void {
		$settings = (array) get_option( Settings::OPTION, array() );
		if ( '' === trim( (string) ( $settings['reference_prefix'] ?? '' ) ) ) {
			$settings['reference_prefix'] = self::default_prefix();
			update_option( Settings::OPTION, $settings );
		}
	}

	/**
	 * Reference of an order's own row: prefix + order number.
	 *
	 * @param \WC_Order $order Order.
	 */
	public static function for_order( \WC_Order $order ): string {
		return self::prefix() . $order->get_order_number();
	}

	/**
	 * Reference of a WooCommerce refund's row: prefix + R + refund id.
	 *
	 * @param \WC_Order_Refund $refund Refund.
	 */
	public static function for_refund( \WC_Order_Refund $refund ): string {
		return self::prefix() . 'R' . $refund->get_id();
	}

	/**
	 * Reference of a later part of an order (an edit, or the return of a cancel): the
	 * order's stored reference + `-E<part>` (edit) or `-C<part>` (cancel).
	 *
	 * @param string $order_reference The order row's stored reference.
	 * @param string $what            E (edit) or C (cancel).
	 * @param int    $part            Part number.
	 */
	public static function for_part( string $order_reference, string $what, int $part ): string {
		return $order_reference . '-' . $what . $part;
	}

	/**
	 * Notes the day the connection first worked (stored once).
	 */
	public static function note_connected(): void {
		if ( ! get_option( self::CONNECTED_OPTION ) ) {
			add_option( self::CONNECTED_OPTION, wp_date( 'Y-m-d' ), '', false );
		}
	}

	/**
	 * The cut-off as a timestamp: the setting "Post orders created after", else the day
	 * the connection was first saved or tested; null while neither is known.
	 */
	public static function cutoff_ts(): ?int {
		$date = trim( (string) Settings::get( 'orders_after' ) );
		if ( '' === $date ) {
			$date = (string) get_option( self::CONNECTED_OPTION );
		}
		if ( ! preg_match( '/^\d{4}-\d{2}-\d{2}$/', $date ) ) {
			return null;
		}
		try {
			return ( new \DateTimeImmutable( $date . ' 00:00:00', wp_timezone() ) )->getTimestamp();
		} catch ( \Exception $e ) {
			return null;
		}
	}

	/**
	 * The cut-off date shown in the settings (Y-m-d) or ''.
	 */
	public static function cutoff_date(): string {
		$ts = self::cutoff_ts();
		return null === $ts ? '' : wp_date( 'Y-m-d', $ts );
	}

	/**
	 * True when an order (or refund) was created on or after the cut-off: it is posted
	 * and holds stock. Orders from before it are not the plugin's (imported history, a
	 * shop's past before the connection).
	 *
	 * @param \WC_Abstract_Order $order Order or refund.
	 */
	public static function after_cutoff( $order ): bool {
		$cutoff  = self::cutoff_ts();
		$created = $order->get_date_created();
		return null === $cutoff || ! $created || $created->getTimestamp() >= $cutoff;
	}

	/**
	 * When an order or refund was created, in ms (the row's `placed_at_ms`).
	 *
	 * @param \WC_Abstract_Order $order Order or refund.
	 */
	public static function placed_at_ms( $order ): ?int {
		$created = $order->get_date_created();
		return $created ? 1000 * $created->getTimestamp() : null;
	}
}
