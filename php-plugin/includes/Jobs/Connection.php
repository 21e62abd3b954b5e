<?php
/**
 * The keys to the POS: the connection (API base, token URL, account, client ID and
 * secret, tokens) and the runner (Node.js binary, time budget) belong to administrators
 * (`manage_options`) or to constants in wp-config.php; the hosts they may point at are
 * https Lightspeed hosts, loopback for the demo and tests, and what the
 * `pos_sync_allowed_hosts` filter adds. A Shop Manager sees these fields read-only.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Who may change the keys, which values constants fix, which hosts are allowed.
 */
final class Connection {

	/**
	 * Capability that holds the keys.
	 */
	public const CAPABILITY = 'manage_options';

	/**
	 * Settings that only an administrator (or wp-config.php) sets, with their constant.
	 * The refresh token is one too (it lives in the tokens option and rotates, so it has
	 * no constant).
	 */
	public const CONSTANTS = array(
		'api_base'       => 'POS_SYNC_API_BASE',
		'token_url'      => 'POS_SYNC_TOKEN_URL',
		'account_id'     => 'POS_SYNC_ACCOUNT_ID',
		'client_id'      => 'POS_SYNC_CLIENT_ID',
		'client_secret'  => 'POS_SYNC_CLIENT_SECRET',
		'node_path'      => 'POS_SYNC_NODE_BINARY',
		'budget_seconds' => 'POS_SYNC_BUDGET_SECONDS',
	);

	/**
	 * Lightspeed's own hosts, allowed by default (`*.` = any subdomain: X-Series shops).
	 */
	public const LIGHTSPEED_HOSTS = array( 'api.lightspeedapp.com', 'cloud.lightspeedapp.com', '*.retail.lightspeed.app' );

	/**
	 * The current user may change the keys.
	 */
	public static function can_manage(): bool {
		return current_user_can( self::CAPABILITY );
	}

	/**
	 * The constant that fixes a setting, when wp-config.php defines it.
	 *
	 * @param string $key Setting.
	 */
	public static function constant_of( string $key ): ?string {
		$name = self::CONSTANTS[ $key ] ?? null;
		return null !== $name && defined( $name ) ? $name : null;
	}

	/**
	 * The settings with the values wp-config.php fixes.
	 *
	 * @param array $settings Stored settings, defaults filled in.
	 */
	public static function with_constants( array $settings ): array {
		foreach ( array_keys( self::CONSTANTS ) as $key ) {
			$name = self::constant_of( $key );
			if ( null !== $name ) {
				$value            = constant( $name );
				$settings[ $key ] = 'budget_seconds' === $key ? (int) $value : (string) $value;
			}
		}
		return $settings;
	}

	/**
	 * Protects the keys in a posted settings form: a user without `manage_options` and a
	 * field fixed by a constant keep the stored value whatever was posted.
	 *
	 * @param array $posted  Posted form values (changed in place).
	 * @param array $old     Current settings.
	 * @param bool  $may     The user may change the keys.
	 * @param array $errors  Errors to show (a sentence is added when keys were refused).
	 */
	public static function protect( array &$posted, array $old, bool $may, array &$errors ): void {
		$refused = false;
		foreach ( array_keys( self::CONSTANTS ) as $key ) {
			if ( $may && null === self::constant_of( $key ) ) {
				continue;
			}
			$secret = 'client_secret' === $key;
			$sent   = array_key_exists( $key, $posted ) ? trim( (string) $posted[ $key ] ) : null;
			if ( ! $may && null !== $sent && ( $secret ? '' !== $sent : $sent !== (string) $old[ $key ] ) ) {
				$refused = true;
			}
			if ( $secret ) {
				unset( $posted[ $key ] );
			} else {
				$posted[ $key ] = (string) $old[ $key ];
			}
		}
		if ( ! $may ) {
			if ( '' !== trim( (string) ( $posted['refresh_token'] ?? '' ) ) ) {
				$refused = true;
			}
			unset( $posted['refresh_token'] );
		}
		if ( $refused ) {
			$errors[] = __( 'Only an administrator can change the POS connection and the runner (API base, token URL, account, client ID and secret, refresh token, Node.js binary, time budget); those fields were not changed.', 'pos-sync' );
		}
	}

	/**
	 * `host` or `host:port` of a URL, as the core's allowed_hosts lists it (no port for
	 * https's 443), or null.
	 *
	 * @param string $url URL.
	 */
	public static function authority( string $url ): ?string {
		$parts = wp_parse_url( $url );
		if ( ! is_array( $parts ) || empty( $parts['host'] ) || ! in_array( strtolower( (string) ( $parts['scheme'] ?? '' ) ), array( 'http', 'https' ), true ) ) {
			return null;
		}
		$scheme = strtolower( (string) $parts['scheme'] );
		$host   = strtolower( trim( (string) $parts['host'], '[]' ) );
		$port   = isset( $parts['port'] ) ? (int) $parts['port'] : ( 'https' === $scheme ? 443 : 80 );
		$host   = str_contains( $host, ':' ) ? '[' . $host . ']' : $host;
		return 443 === $port ? $host : $host . ':' . $port;
	}

	/**
	 * The loopback hosts (the demo POS and the tests): 127.0.0.0/8, ::1, localhost.
	 *
	 * @param string $host Host name or address.
	 */
	public static function is_loopback( string $host ): bool {
		$host = strtolower( trim( $host, '[]' ) );
		if ( 'localhost' === $host || '::1' === $host ) {
			return true;
		}
		return (bool) filter_var( $host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4 ) && str_starts_with( $host, '127.' );
	}

	/**
	 * The hosts a connection may point at, besides loopback.
	 */
	public static function allowed_hosts(): array {
		/**
		 * Filters the hosts the POS connection may point at (API base and token URL), besides
		 * loopback. Entries are host names; `*.example.com` allows every subdomain.
		 * Lightspeed's own hosts are the default; a proxy of your own has to be added here.
		 *
		 * @param string[] $hosts Default: api.lightspeedapp.com, cloud.lightspeedapp.com, *.retail.lightspeed.app.
		 */
		$hosts = (array) apply_filters( 'pos_sync_allowed_hosts', self::LIGHTSPEED_HOSTS );
		return array_values( array_filter( array_map( static fn( $h ) => strtolower( trim( (string) $h ) ), $hosts ), 'strlen' ) );
	}

	/**
	 * Why a URL may not be the API base or the token URL, or null when it may.
	 *
	 * @param string $url   URL.
	 * @param string $label What the URL is, for the sentence.
	 */
	public static function url_problem( string $url, string $label ): ?string {
		$parts = wp_parse_url( $url );
		$host  = is_array( $parts ) ? strtolower( trim( (string) ( $parts['host'] ?? '' ), '[]' ) ) : '';
		if ( ! filter_var( $url, FILTER_VALIDATE_URL ) || '' === $host || ! in_array( strtolower( (string) ( $parts['scheme'] ?? '' ) ), array( 'http', 'https' ), true ) ) {
			/* translators: 1: what the URL is (API base URL, Token URL), 2: the URL that was typed */
			return sprintf( __( '%1$s: “%2$s” is not a valid http(s) URL.', 'pos-sync' ), $label, $url );
		}
		if ( self::is_loopback( $host ) ) {
			return null;
		}
		if ( 'https' !== strtolower( (string) $parts['scheme'] ) ) {
			/* translators: 1: what the URL is, 2: the URL */
			return sprintf( __( '%1$s: “%2$s” must use https (plain http only for this machine: 127.0.0.1, ::1, localhost).', 'pos-sync' ), $label, $url );
		}
		foreach ( self::allowed_hosts() as $allowed ) {
			if ( $host === $allowed || ( str_starts_with( $allowed, '*.' ) && str_ends_with( $host, substr( $allowed, 1 ) ) ) ) {
				return null;
			}
		}
		/* translators: 1: what the URL is, 2: host name, 3: allowed hosts */
		return sprintf( __( '%1$s: the host %2$s is not a Lightspeed host (allowed: %3$s); another host can be allowed only with the pos_sync_allowed_hosts filter.', 'pos-sync' ), $label, $host, implode( ', ', self::allowed_hosts() ) );
	}

	/**
	 * Why the stored connection may not be used by a run (a host no longer allowed), or null.
	 */
	public static function run_problem(): ?string {
		$s = Settings::all();
		foreach ( array(
			'api_base'  => __( 'API base URL', 'pos-sync' ),
			'token_url' => __( 'Token URL', 'pos-sync' ),
		) as $key => $label ) {
			$problem = self::url_problem( (string) $s[ $key ], $label );
			if ( null !== $problem ) {
				/* translators: %s: why the URL is refused */
				return sprintf( __( 'The run was not started: %s An administrator must correct it in POS Sync settings.', 'pos-sync' ), $problem );
			}
		}
		return null;
	}

	/**
	 * The job's `allowed_hosts`: the configured API and token hosts with their ports.
	 */
	public static function job_hosts(): array {
		$s = Settings::all();
		return array_values( array_unique( array_filter( array( self::authority( (string) $s['api_base'] ), self::authority( (string) $s['token_url'] ) ) ) ) );
	}

	/**
	 * After a change of API or token host, the saved secret and tokens are not sent to the
	 * new host: they are discarded unless typed again in the same form.
	 *
	 * @param array $old    Settings before the save.
	 * @param array $new    Settings to store (client_secret changed in place).
	 * @param bool  $typed_secret  A client secret was typed in this form.
	 * @param bool  $typed_refresh A refresh token was typed in this form.
	 * @param array $errors Messages to show.
	 */
	public static function discard_on_host_change( array $old, array &$new, bool $typed_secret, bool $typed_refresh, array &$errors ): void {
		$changed = self::authority( (string) $old['api_base'] ) !== self::authority( (string) $new['api_base'] )
			|| self::authority( (string) $old['token_url'] ) !== self::authority( (string) $new['token_url'] );
		if ( ! $changed ) {
			return;
		}
		$discarded = false;
		if ( ! $typed_secret && '' !== (string) $new['client_secret'] && null === self::constant_of( 'client_secret' ) ) {
			$new['client_secret'] = '';
			$discarded            = true;
		}
		$tokens = Settings::tokens();
		if ( ! $typed_refresh && ( '' !== (string) $tokens['refresh_token'] || ! empty( $tokens['access_token'] ) ) ) {
			delete_option( Settings::TOKENS_OPTION );
			$discarded = true;
		}
		if ( $discarded ) {
			$errors[] = __( 'The API or token host changed, so the saved client secret and tokens were discarded (they are never sent to another host): enter the client secret and a refresh token for the new host again.', 'pos-sync' );
		}
	}

	/**
	 * Field attributes for a key field on the settings tab: read-only for a Shop Manager,
	 * locked when a constant fixes it.
	 *
	 * @param array  $field Field definition.
	 * @param string $key   Setting.
	 */
	public static function field( array $field, string $key ): array {
		$constant = self::constant_of( $key );
		if ( null === $constant && self::can_manage() ) {
			return $field;
		}
		$field['custom_attributes'] = array_merge( (array) ( $field['custom_attributes'] ?? array() ), array( 'disabled' => 'disabled' ) );
		$field['desc']              = null !== $constant
			/* translators: %s: constant name */
			? sprintf( __( 'set in wp-config.php (%s)', 'pos-sync' ), $constant )
			: __( 'Only an administrator can change this.', 'pos-sync' );
		if ( in_array( $key, Settings::SECRETS, true ) ) {
			$field['value'] = '';
		}
		return $field;
	}
}
