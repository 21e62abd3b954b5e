<?php
/**
 * Bootstrap: activation, the cron schedule and the hooks that wire the other parts.
 *
 * @package PosSync
 */

namespace PosSync;

use PosSync\Admin\Notices;
use PosSync\Admin\StatusPage;
use PosSync\Apply\Publisher;
use PosSync\Apply\StockApplier;
use PosSync\Jobs\Outbox;
use PosSync\Jobs\Prune;
use PosSync\Jobs\Runner;
use PosSync\Store\Privacy;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Activation, deactivation and the hooks of a running plugin.
 */
final class Plugin {

	public const CRON_HOOK     = 'pos_sync_tick';
	public const CRON_SCHEDULE = 'pos_sync_minute';

	/**
	 * Activation: refuses without WooCommerce, else creates the tables and schedules the tick.
	 */
	public static function activate(): void {
		if ( ! woocommerce_ready() ) {
			// WordPress normally refuses first (the "Requires Plugins" header); this covers a
			// WooCommerce installed under another folder name.
			deactivate_plugins( plugin_basename( PLUGIN_FILE ) );
			wp_die(
				esc_html__( 'POS Sync for WooCommerce needs WooCommerce 9.0 or later. Install and activate WooCommerce, then activate POS Sync again.', 'pos-sync' ),
				esc_html__( 'Plugin not activated', 'pos-sync' ),
				array( 'back_link' => true )
			);
		}
		Schema::install();
		add_filter( 'cron_schedules', array( self::class, 'cron_schedules' ) ); // phpcs:ignore WordPress.WP.CronInterval
		self::ensure_scheduled();
	}

	/**
	 * Deactivation stops the tick; data stays until uninstall.
	 */
	public static function deactivate(): void {
		wp_clear_scheduled_hook( self::CRON_HOOK );
	}

	/**
	 * Wires the hooks. Without WooCommerce only a notice is left.
	 */
	public static function boot(): void {
		if ( ! woocommerce_ready() ) {
			add_action( 'admin_notices', array( Notices::class, 'woocommerce_missing_notice' ) );
			return;
		}
		add_filter( 'cron_schedules', array( self::class, 'cron_schedules' ) ); // phpcs:ignore WordPress.WP.CronInterval
		add_action( 'init', array( self::class, 'ensure_scheduled' ) );
		add_action( 'init', array( Schema::class, 'maybe_upgrade' ), 5 );
		add_action( self::CRON_HOOK, array( Runner::class, 'tick' ) );
		add_action( 'woocommerce_product_object_updated_props', array( StockApplier::class, 'record_stock_edit' ), 10, 2 );
		Outbox::hooks();
		add_filter( 'woocommerce_get_settings_pages', array( Settings::class, 'register_page' ) );
		Notices::hooks();
		StatusPage::hooks();
		Publisher::hooks();
		Privacy::hooks();
		Prune::hooks();
	}

	/**
	 * The one-minute schedule.
	 *
	 * @param array $schedules Schedules known to WP-Cron.
	 */
	public static function cron_schedules( $schedules ): array {
		$schedules                        = (array) $schedules;
		$schedules[ self::CRON_SCHEDULE ] = array(
			'interval' => MINUTE_IN_SECONDS,
			'display'  => __( 'Every minute (POS Sync)', 'pos-sync' ),
		);
		return $schedules;
	}

	/**
	 * Schedules the tick when it is missing (activation, and every init after).
	 */
	public static function ensure_scheduled(): void {
		if ( ! wp_next_scheduled( self::CRON_HOOK ) ) {
			wp_schedule_event( time() + 5, self::CRON_SCHEDULE, self::CRON_HOOK );
		}
	}
}
