<?php
/**
 * Logging through WooCommerce's logger (source pos-sync), secrets scrubbed.
 *
 * @package PosSync
 */

namespace PosSync\Store;

defined( 'ABSPATH' ) || exit;

/**
 * A thin face on wc_get_logger().
 */
final class Log {

	/**
	 * Writes a line.
	 *
	 * @param string $level   debug|info|notice|warning|error.
	 * @param string $message Message (already free of secrets).
	 * @param array  $context Extra context.
	 */
	public static function write( string $level, string $message, array $context = array() ): void {
		$level = in_array( $level, array( 'debug', 'info', 'notice', 'warning', 'error', 'critical' ), true ) ? $level : 'info';
		if ( function_exists( 'wc_get_logger' ) ) {
			wc_get_logger()->log( $level, $message, array_merge( $context, array( 'source' => 'pos-sync' ) ) );
		}
	}

	/**
	 * Debug line.
	 *
	 * @param string $message Message.
	 */
	public static function debug( string $message ): void {
		self::write( 'debug', $message );
	}

	/**
	 * Info line.
	 *
	 * @param string $message Message.
	 */
	public static function info( string $message ): void {
		self::write( 'info', $message );
	}

	/**
	 * Warning line.
	 *
	 * @param string $message Message.
	 */
	public static function warning( string $message ): void {
		self::write( 'warning', $message );
	}

	/**
	 * Error line.
	 *
	 * @param string $message Message.
	 */
	public static function error( string $message ): void {
		self::write( 'error', $message );
	}

	/**
	 * Replaces every stored secret found in a text by ***.
	 *
	 * @param string $text Text from the sidecar.
	 */
	public static function scrub( string $text ): string {
		foreach ( Settings::secret_values() as $secret ) {
			$text = str_replace( $secret, '***', $text );
		}
		return $text;
	}
}
