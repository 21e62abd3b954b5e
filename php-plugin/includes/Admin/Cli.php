<?php
/**
 * WP-CLI: `wp pos-sync status|sync|reconcile [--dry-run]|retry|report`, for hosts with a
 * real cron. Thin over the functions the admin pages use.
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Jobs\Outbox;
use PosSync\Jobs\OutboxActions;
use PosSync\Jobs\Reconcile;
use PosSync\Jobs\Runner;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Runs the POS sync from the command line.
 */
final class Cli {

	/**
	 * Prints a line (WP-CLI when loaded, else stdout: lets tests call the methods).
	 *
	 * @param string $line Text.
	 */
	private static function out( string $line ): void {
		if ( class_exists( '\WP_CLI' ) ) {
			\WP_CLI::line( $line );
		} else {
			echo $line . "\n"; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		}
	}

	/**
	 * Ends with an error (WP-CLI exits non-zero).
	 *
	 * @param string $message Text.
	 * @throws \RuntimeException Outside WP-CLI.
	 */
	private static function fail( string $message ): void {
		if ( class_exists( '\WP_CLI' ) ) {
			\WP_CLI::error( $message );
		}
		throw new \RuntimeException( $message ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped
	}

	/**
	 * Shows the last runs, the outbox, the token health and the cron health.
	 *
	 * ## OPTIONS
	 *
	 * [--format=<format>]
	 * : table (default) or json.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 */
	public function status( $args = array(), $assoc = array() ): array {
		$s = StatusPage::status();
		if ( 'json' === ( $assoc['format'] ?? '' ) ) {
			self::out( (string) wp_json_encode( $s ) );
			return $s;
		}
		$when = static fn( $ts ) => $ts ? gmdate( 'Y-m-d H:i:s', (int) $ts ) . ' UTC' : '-';
		self::out( 'configured: ' . ( $s['configured'] ? 'yes' : 'no' ) );
		self::out( 'next run: ' . $when( $s['next_run'] ) . '; last tick: ' . $when( $s['last_tick'] ) . ( $s['cron_late'] ? ' (WP-Cron is late: use a real cron)' : '' ) );
		foreach ( $s['runs'] as $kind => $run ) {
			self::out( sprintf( '%s: %s at %s%s', $kind, ! empty( $run['ok'] ) ? 'ok' : 'failed', $when( $run['finished_at'] ?? 0 ), empty( $run['ok'] ) ? ' - ' . (string) $run['error'] : '' ) );
		}
		self::out( sprintf( 'outbox: %d waiting, %d needing attention, %d in the POS, %d held for stock, %d cancelled, %d entered by hand', $s['outbox']['pending'], $s['outbox']['attention'], $s['outbox']['posted'], $s['outbox']['held'], $s['outbox']['cancelled'], $s['outbox']['manual'] ) );
		self::out( 'token: ' . ( $s['token']['set'] ? 'saved, expires ' . $when( $s['token']['expires_at'] ) . ', last refresh ' . $when( $s['token']['refreshed_at'] ) : 'none' ) );
		return $s;
	}

	/**
	 * Runs a sync now (stock, then the due orders and refunds).
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 */
	public function sync( $args = array(), $assoc = array() ): array {
		if ( ! Settings::is_configured() ) {
			self::fail( __( 'POS Sync is not connected yet (WooCommerce → Settings → POS Sync).', 'pos-sync' ) );
		}
		$run = Runner::run( 'sync' );
		if ( empty( $run['ok'] ) ) {
			self::fail( (string) $run['error'] );
		}
		if ( Settings::orders_configured() ) {
			Runner::run( 'post_orders' );
		}
		self::out( 'sync ok: ' . wp_json_encode( $run['summary'] ) );
		return $run;
	}

	/**
	 * Starts a full reconcile and runs it now; with --dry-run only lists what would change.
	 *
	 * ## OPTIONS
	 *
	 * [--dry-run]
	 * : List the changes (from the last POS readings) without making them.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 */
	public function reconcile( $args = array(), $assoc = array() ): array {
		if ( ! empty( $assoc['dry-run'] ) ) {
			$changes = Report::dry_run();
			foreach ( $changes as $c ) {
				self::out( sprintf( 'product #%d (SKU %s, POS item %s): %s -> %d', $c['product_id'], '' !== $c['sku'] ? $c['sku'] : '-', $c['item_id'], null === $c['from'] ? '-' : (string) $c['from'], $c['to'] ) );
			}
			self::out( sprintf( '%d change(s); nothing was changed (dry run)', count( $changes ) ) );
			return $changes;
		}
		if ( ! Settings::is_configured() ) {
			self::fail( __( 'POS Sync is not connected yet (WooCommerce → Settings → POS Sync).', 'pos-sync' ) );
		}
		Reconcile::start();
		$run = array();
		for ( $i = 0; $i < 1000 && Reconcile::state()['running']; $i++ ) {
			$run = Runner::run( 'reconcile' );
			if ( empty( $run['ok'] ) ) {
				self::fail( (string) $run['error'] . ' ' . __( '(the pass resumes with the next run)', 'pos-sync' ) );
			}
		}
		self::out( 'reconcile ok: ' . wp_json_encode( $run['summary'] ?? array() ) );
		return $run;
	}

	/**
	 * Makes every order and refund needing attention due at the next run, then sends them.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 */
	public function retry( $args = array(), $assoc = array() ): array {
		$ids = OutboxActions::apply( 'retry', array_map( static fn( $row ) => (int) $row['id'], Outbox::failures( 1000 ) ) );
		self::out( sprintf( '%d row(s) made due', count( $ids ) ) );
		if ( $ids && Settings::is_configured() && Settings::orders_configured() ) {
			$run = Runner::run( 'post_orders' );
			self::out( ! empty( $run['ok'] ) ? 'sent: ' . wp_json_encode( $run['summary'] ) : 'failed: ' . (string) $run['error'] );
		}
		return $ids;
	}

	/**
	 * Lists every stock difference with its reasons.
	 *
	 * ## OPTIONS
	 *
	 * [--fix]
	 * : Read the listed items afresh and sync now.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 */
	public function report( $args = array(), $assoc = array() ): array {
		$rows = Report::rows();
		foreach ( $rows as $r ) {
			self::out( sprintf( '#%d %s (SKU %s, POS item %s): web %s, should be %s, POS %s - %s', $r['product_id'], $r['name'], '' !== $r['sku'] ? $r['sku'] : '-', '' !== $r['item_id'] ? $r['item_id'] : '-', null === $r['web'] ? '-' : (string) $r['web'], null === $r['expected'] ? '-' : (string) $r['expected'], null === $r['pos'] ? '-' : (string) $r['pos'], implode( ' ', $r['reasons'] ) ) );
		}
		self::out( sprintf( '%d difference(s)', count( $rows ) ) );
		if ( ! empty( $assoc['fix'] ) && $rows ) {
			$fix = Report::fix();
			self::out( ! empty( $fix['run']['ok'] ) ? 'fixed: ' . count( $fix['items'] ) . ' item(s) read afresh' : 'fix failed: ' . (string) $fix['run']['error'] );
		}
		return $rows;
	}
}
