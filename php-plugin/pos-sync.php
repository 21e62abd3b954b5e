<?php
/**
 * Plugin Name:          POS Sync for WooCommerce
 * Description:          Runs a WooCommerce store from a Lightspeed Retail POS: stock from the POS, orders back to it.
 * Version:              0.1.0
 * Requires at least:    6.7
 * Requires PHP:         8.1
 * Requires Plugins:     woocommerce
 * WC requires at least: 9.0
 * WC tested up to:      10.0
 * Author:               POS Sync
 * License:              GPL-2.0-or-later
 * Text Domain:          pos-sync
 * Domain Path:          /languages
 *
 * @package PosSync
 */

namespace PosSync;

defined( 'ABSPATH' ) || exit;

const VERSION     = '0.1.0';
const PLUGIN_FILE = __FILE__;

spl_autoload_register(
	static function ( string $class_name ): void {
		if ( str_starts_with( $class_name, __NAMESPACE__ . '\\' ) ) {
			// PosSync\Admin\SettingsPage → includes/Admin/SettingsPage.php: one folder per room.
			$file = __DIR__ . '/includes/' . str_replace( '\\', '/', substr( $class_name, strlen( __NAMESPACE__ ) + 1 ) ) . '.php';
			if ( is_file( $file ) ) {
				require $file;
			}
		}
	}
);

/**
 * True when WooCommerce is loaded; the plugin stays inert otherwise.
 */
function woocommerce_ready(): bool {
	return class_exists( \WooCommerce::class ) && function_exists( 'wc_get_product' );
}

register_activation_hook( __FILE__, array( Plugin::class, 'activate' ) );
register_deactivation_hook( __FILE__, array( Plugin::class, 'deactivate' ) );

add_action(
	'before_woocommerce_init',
	static function (): void {
		if ( class_exists( \Automattic\WooCommerce\Utilities\FeaturesUtil::class ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', __FILE__, true );
		}
	}
);

add_action( 'plugins_loaded', array( Plugin::class, 'boot' ), 20 );

// Translations from languages/ (pos-sync-<locale>.mo); WordPress.org language packs
// in wp-content/languages/plugins/ win when both exist.
add_action(
	'init',
	static function (): void {
		load_plugin_textdomain( 'pos-sync', false, dirname( plugin_basename( PLUGIN_FILE ) ) . '/languages' );
	}
);
