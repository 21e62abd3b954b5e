<?php
/**
 * Settings: the stored values, their validation and the tokens. The page itself is
 * SettingsPage (WooCommerce → Settings → POS Sync).
 *
 * @package PosSync
 */

namespace PosSync;

defined( 'ABSPATH' ) || exit;

/**
 * Reads and writes the plugin's options.
 */
final class Settings {

	public const OPTION         = 'pos_sync_settings';
	public const TOKENS_OPTION  = 'pos_sync_tokens';
	public const CURSORS_OPTION = 'pos_sync_cursors';
	public const SECRETS        = array( 'client_secret', 'refresh_token' );

	/**
	 * Defaults of every setting.
	 */
	public static function defaults(): array {
		return array(
			'api_base'       => 'https://api.lightspeedapp.com/API/V3',
			'token_url'      => 'https://cloud.lightspeedapp.com/auth/oauth/token',
			'account_id'     => '',
			'client_id'      => '',
			'client_secret'  => '',
			'shop_ids'       => '',
			'safety_buffer'  => 0,
			'node_path'      => '',
			'budget_seconds' => 25,
			'log_days'       => 90,
		);
	}

	/**
	 * All settings, defaults filled in.
	 */
	public static function all(): array {
		return array_merge( self::defaults(), (array) get_option( self::OPTION, array() ) );
	}

	/**
	 * One setting.
	 *
	 * @param string $key Setting name.
	 */
	public static function get( string $key ) {
		return self::all()[ $key ] ?? null;
	}

	/**
	 * Enough to talk to the POS.
	 */
	public static function is_configured(): bool {
		$s = self::all();
		return '' !== $s['account_id'] && '' !== $s['client_id'] && '' !== $s['client_secret'] && '' !== (string) ( self::tokens()['refresh_token'] ?? '' );
	}

	/**
	 * Registers the settings tab.
	 *
	 * @param array $pages WooCommerce settings pages.
	 */
	public static function register_page( $pages ): array {
		$pages   = (array) $pages;
		$pages[] = new SettingsPage();
		return $pages;
	}

	/**
	 * Validates and stores the posted form. Secret fields left blank keep their value.
	 *
	 * @param array $posted Unslashed form values.
	 * @return string[] Errors to show; valid fields are saved even when others are not.
	 */
	public static function save_form( array $posted ): array {
		$old    = self::all();
		$new    = $old;
		$errors = array();

		foreach ( array( 'api_base', 'token_url' ) as $key ) {
			$value = trim( (string) ( $posted[ $key ] ?? '' ) );
			if ( '' === $value ) {
				$new[ $key ] = self::defaults()[ $key ];
			} elseif ( filter_var( $value, FILTER_VALIDATE_URL ) && in_array( wp_parse_url( $value, PHP_URL_SCHEME ), array( 'http', 'https' ), true ) ) {
				$new[ $key ] = esc_url_raw( untrailingslashit( $value ), array( 'http', 'https' ) );
			} else {
				/* translators: %s: the URL that was typed */
				$errors[] = sprintf( __( '“%s” is not a valid http(s) URL; the previous value is kept.', 'pos-sync' ), $value );
			}
		}
		foreach ( array( 'account_id', 'client_id', 'node_path' ) as $key ) {
			$new[ $key ] = sanitize_text_field( (string) ( $posted[ $key ] ?? '' ) );
		}
		if ( '' !== $new['node_path'] && ! ( @is_file( $new['node_path'] ) && @is_executable( $new['node_path'] ) ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors
			/* translators: %s: path typed in the settings */
			$errors[] = sprintf( __( 'Node.js was not found at %s; the sync will fail until the path is right or left empty.', 'pos-sync' ), $new['node_path'] );
		}

		$shops = trim( (string) ( $posted['shop_ids'] ?? '' ) );
		if ( '' === $shops || preg_match( '/^\d+(\s*,\s*\d+)*$/', $shops ) ) {
			$new['shop_ids'] = implode( ',', array_filter( array_map( 'trim', explode( ',', $shops ) ), 'strlen' ) );
		} else {
			$errors[] = __( 'Shop IDs must be numbers separated by commas (or empty for every shop); the previous value is kept.', 'pos-sync' );
		}

		$buffer = trim( (string) ( $posted['safety_buffer'] ?? '0' ) );
		if ( preg_match( '/^\d+$/', $buffer ) ) {
			$new['safety_buffer'] = (int) $buffer;
		} else {
			/* translators: %s: the value that was typed */
			$errors[] = sprintf( __( 'The safety buffer must be a whole number of 0 or more (got “%s”); the previous value is kept.', 'pos-sync' ), $buffer );
		}

		$days = trim( (string) ( $posted['log_days'] ?? '90' ) );
		if ( preg_match( '/^\d+$/', $days ) && (int) $days >= 1 ) {
			$new['log_days'] = (int) $days;
		} else {
			$errors[] = __( 'The stock log must be kept for at least 1 day; the previous value is kept.', 'pos-sync' );
		}

		$budget = trim( (string) ( $posted['budget_seconds'] ?? '25' ) );
		if ( preg_match( '/^\d+$/', $budget ) && (int) $budget >= 5 && (int) $budget <= 300 ) {
			$new['budget_seconds'] = (int) $budget;
		} else {
			$errors[] = __( 'The time budget must be between 5 and 300 seconds; the previous value is kept.', 'pos-sync' );
		}

		$secret = (string) ( $posted['client_secret'] ?? '' );
		if ( '' !== trim( $secret ) ) {
			$new['client_secret'] = trim( $secret );
		}
		update_option( self::OPTION, $new, false );

		$refresh = trim( (string) ( $posted['refresh_token'] ?? '' ) );
		if ( '' !== $refresh ) {
			// A refresh token typed by the merchant replaces the rotated pair.
			self::save_tokens( null, $refresh, 0 );
		}
		if ( $new['api_base'] !== $old['api_base'] || $new['account_id'] !== $old['account_id'] ) {
			delete_option( self::CURSORS_OPTION ); // Another POS: start from the beginning.
		}
		return $errors;
	}

	/**
	 * The token pair (rotated by the POS on every refresh).
	 */
	public static function tokens(): array {
		return array_merge(
			array(
				'access_token'  => null,
				'refresh_token' => '',
				'expires_at_ms' => 0,
			),
			(array) get_option( self::TOKENS_OPTION, array() )
		);
	}

	/**
	 * Persists a token pair before the sidecar may use it.
	 *
	 * @param string|null $access  Access token.
	 * @param string      $refresh Refresh token.
	 * @param int         $expires Expiry, ms since the epoch.
	 */
	public static function save_tokens( ?string $access, string $refresh, int $expires ): bool {
		update_option(
			self::TOKENS_OPTION,
			array(
				'access_token'  => $access,
				'refresh_token' => $refresh,
				'expires_at_ms' => $expires,
			),
			false
		);
		$saved = self::tokens();
		return $saved['refresh_token'] === $refresh;
	}

	/**
	 * The settings part of a sidecar job.
	 */
	public static function for_job(): array {
		$s = self::all();
		return array(
			'api_base'      => (string) $s['api_base'],
			'token_url'     => (string) $s['token_url'],
			'account_id'    => (string) $s['account_id'],
			'client_id'     => (string) $s['client_id'],
			'client_secret' => (string) $s['client_secret'],
			'shop_ids'      => array_values( array_filter( array_map( 'trim', explode( ',', (string) $s['shop_ids'] ) ), 'strlen' ) ),
			'safety_buffer' => (int) $s['safety_buffer'],
		);
	}

	/**
	 * Cursors of the incremental pull and the reconcile.
	 */
	public static function cursors(): array {
		return array_merge(
			array(
				'item_shop' => null,
				'reconcile' => null,
			),
			(array) get_option( self::CURSORS_OPTION, array() )
		);
	}

	/**
	 * Stores a cursor from a stock event: `{ts, ids}` for the pull or `{reconcile: …}`.
	 *
	 * @param array $cursor Cursor.
	 */
	public static function store_cursor( array $cursor ): void {
		$cursors = self::cursors();
		if ( array_key_exists( 'reconcile', $cursor ) ) {
			$cursors['reconcile'] = $cursor['reconcile'];
		} else {
			$cursors['item_shop'] = $cursor;
		}
		update_option( self::CURSORS_OPTION, $cursors, false );
	}

	/**
	 * The secrets now stored, to scrub them from anything logged.
	 *
	 * @return string[]
	 */
	public static function secret_values(): array {
		$t = self::tokens();
		return array_values( array_filter( array( (string) self::get( 'client_secret' ), (string) $t['refresh_token'], (string) $t['access_token'] ), static fn( $v ) => strlen( $v ) >= 4 ) );
	}
}
