<?php
/**
 * The moved-or-cloned site guard. When the connection is first saved the plugin stores
 * the site's identity: its home URL and a random site id. A copy of the database
 * running under another address (a staging copy, a clone, a site moved to a new
 * domain) must not sync: it would post the live shop's orders again and rotate the
 * live shop's refresh token away. So while `home_url()` differs from the stored one,
 * no job runs at all (no token refresh, no posting, no stock, no publishing) and the
 * admin says why, until someone allowed to manage the site confirms "This is the live
 * shop" (POST, nonce, `manage_options`), which binds the identity to the new address.
 *
 * As WooCommerce Subscriptions does for its own duplicate-site check, the stored URL
 * carries a marker in its middle, so the search-and-replace of a migration tool does
 * not rewrite it along with the rest of the database.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Admin\StatusPage;
use PosSync\Store\Log;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Site identity, the check before every run, the notice and the re-bind action.
 */
final class SiteGuard {

	public const OPTION = 'pos_sync_site_identity';
	public const ACTION = 'pos_sync_site_is_live';
	private const MARK  = '[pos_sync_site]';

	/**
	 * Wires the notice and the action.
	 */
	public static function hooks(): void {
		add_action( 'admin_notices', array( self::class, 'notice' ) );
		add_action( 'admin_post_' . self::ACTION, array( self::class, 'confirm' ) );
	}

	/**
	 * The site's address as compared: host and path of `home_url()`, lower case, without
	 * scheme (a switch to https is not a move) or trailing slash.
	 */
	public static function current_address(): string {
		$url = strtolower( untrailingslashit( (string) home_url() ) );
		return (string) preg_replace( '#^[a-z][a-z0-9+.\-]*://#', '', $url );
	}

	/**
	 * The stored identity, or null before the connection was first saved.
	 *
	 * @return array{address:string,site_id:string,bound_at:int}|null
	 */
	public static function identity(): ?array {
		$stored = get_option( self::OPTION );
		if ( ! is_array( $stored ) || empty( $stored['url'] ) ) {
			return null;
		}
		return array(
			'address'  => str_replace( self::MARK, '', (string) $stored['url'] ),
			'site_id'  => (string) ( $stored['site_id'] ?? '' ),
			'bound_at' => (int) ( $stored['bound_at'] ?? 0 ),
		);
	}

	/**
	 * The random id of this site (made with the identity; empty before).
	 */
	public static function site_id(): string {
		$identity = self::identity();
		return $identity ? $identity['site_id'] : '';
	}

	/**
	 * Binds the identity to the current address (keeping the site id).
	 */
	public static function bind(): void {
		$address = self::current_address();
		$half    = (int) floor( strlen( $address ) / 2 );
		$site_id = self::site_id();
		update_option(
			self::OPTION,
			array(
				'url'      => substr( $address, 0, $half ) . self::MARK . substr( $address, $half ),
				'site_id'  => '' !== $site_id ? $site_id : wp_generate_uuid4(),
				'bound_at' => time(),
			),
			false
		);
	}

	/**
	 * The connection is saved (or a run starts on a site connected before this check
	 * existed) and no identity is stored yet: this address is the live shop's.
	 */
	public static function ensure_bound(): void {
		if ( null === self::identity() && Settings::is_configured() ) {
			self::bind();
		}
	}

	/**
	 * True unless an identity is stored and this site's address is another.
	 */
	public static function is_live(): bool {
		self::ensure_bound();
		$identity = self::identity();
		return null === $identity || $identity['address'] === self::current_address();
	}

	/**
	 * Why nothing syncs, in the merchant's words.
	 */
	public static function reason(): string {
		$identity = self::identity();
		return sprintf(
			/* translators: 1: address the connection was saved on, 2: this site's address */
			__( 'POS Sync is paused on this site: the POS connection was set up on %1$s, but this site now answers at %2$s. A copied or moved site does not sync (no orders posted, no stock read, no token refreshed) until it is confirmed as the live shop.', 'pos-sync' ),
			$identity ? $identity['address'] : '?',
			self::current_address()
		);
	}

	/**
	 * What a refused run returns (the runner's shape); logged at most once an hour.
	 */
	public static function refused_run(): array {
		if ( ! get_transient( 'pos_sync_site_guard_logged' ) ) {
			set_transient( 'pos_sync_site_guard_logged', 1, HOUR_IN_SECONDS );
			Log::warning( self::reason() );
		}
		return array(
			'ok'         => false,
			'error'      => self::reason(),
			'site_guard' => true,
		);
	}

	/**
	 * The notice on every admin page while the site is not the live shop; the
	 * confirmation button for users who may manage the site.
	 */
	public static function notice(): void {
		if ( ! current_user_can( 'manage_woocommerce' ) || self::is_live() ) {
			return;
		}
		echo '<div class="notice notice-error pos-sync-notice" id="pos-sync-site-guard"><p><strong>' . esc_html__( 'POS Sync:', 'pos-sync' ) . '</strong> ' . esc_html( self::reason() ) . '</p>';
		echo '<p>' . esc_html__( 'If this is a staging copy or a test site, do not confirm: remove the POS connection from its settings instead, or it would post the live shop’s orders and take over its POS token.', 'pos-sync' ) . '</p>';
		if ( current_user_can( 'manage_options' ) ) {
			printf( '<form method="post" action="%s">', esc_url( admin_url( 'admin-post.php' ) ) );
			echo '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '">';
			wp_nonce_field( self::ACTION );
			echo '<p><button type="submit" class="button button-primary" id="pos-sync-site-is-live">' . esc_html__( 'This is the live shop', 'pos-sync' ) . '</button></p></form>';
		}
		echo '</div>';
	}

	/**
	 * admin-post (POST only, nonce, manage_options): this address is the live shop's.
	 */
	public static function confirm(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to confirm this site as the live shop.', 'pos-sync' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::ACTION );
		if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) ) { // phpcs:ignore WordPress.Security.ValidatedSanitizedInput
			wp_die( esc_html__( 'This action needs a form submission.', 'pos-sync' ), '', array( 'response' => 405 ) );
		}
		$before = self::identity();
		self::bind();
		delete_transient( 'pos_sync_site_guard_logged' );
		Log::info(
			sprintf(
				/* translators: 1: user login, 2: new address, 3: former address */
				__( '%1$s confirmed %2$s as the live shop (the connection was set up on %3$s); POS Sync runs here again.', 'pos-sync' ),
				wp_get_current_user()->user_login,
				self::current_address(),
				$before ? $before['address'] : '?'
			)
		);
		wp_safe_redirect( StatusPage::url( 'status', array( 'pos_sync_done' => 'site_confirmed' ) ) );
		exit;
	}
}
