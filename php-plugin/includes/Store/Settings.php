<?php
/**
 * Settings: the stored values, their validation and the tokens. The page itself is
 * SettingsPage (WooCommerce → Settings → POS Sync).
 *
 * @package PosSync
 */

namespace PosSync\Store;

use PosSync\Admin\SettingsPage;
use PosSync\Apply\Publisher;
use PosSync\Jobs\Connection;
use PosSync\Jobs\NodeCheck;
use PosSync\Jobs\Prune;
use PosSync\Jobs\Reconcile;
use PosSync\Jobs\SiteGuard;
use PosSync\Orders\References;

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
			'reconcile_every' => 'daily',
		) + self::order_defaults() + Publisher::setting_defaults() + Prune::setting_defaults();
	}

	/**
	 * Defaults of the orders and refunds settings.
	 */
	public static function order_defaults(): array {
		return array(
			'order_statuses'   => 'processing,completed',
			'reference_prefix' => '',
			'orders_after'     => '',
			'pos_shop_id'      => '',
			'register_id'      => '',
			'employee_id'      => '',
			'payment_types'    => '',
			'shipping_item_id' => '',
			'refund_item_id'   => '',
			'fee_item_id'      => '',
			'max_attempts'     => 8,
		);
	}

	/**
	 * Shop, register and employee are set: orders can be posted.
	 */
	public static function orders_configured(): bool {
		$s = self::all();
		foreach ( array( 'pos_shop_id', 'register_id', 'employee_id' ) as $key ) {
			if ( '' === trim( (string) $s[ $key ] ) ) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Order statuses that mean "paid".
	 *
	 * @return string[] Without the wc- prefix.
	 */
	public static function paid_statuses(): array {
		$statuses = array_map( static fn( $s ) => preg_replace( '/^wc-/', '', sanitize_key( trim( $s ) ) ), explode( ',', (string) self::get( 'order_statuses' ) ) );
		return array_values( array_filter( $statuses, 'strlen' ) );
	}

	/**
	 * The payment-type mapping typed as `gateway=ID` pairs (commas or new lines; `default=ID`).
	 *
	 * @param string $text Setting value.
	 * @return array<string,string> gateway id => POS paymentTypeID.
	 */
	public static function parse_payment_types( string $text ): array {
		$map = array();
		foreach ( preg_split( '/[\r\n,]+/', $text ) as $pair ) {
			if ( preg_match( '/^\s*([A-Za-z0-9_\-]+)\s*[=:]\s*(\d+)\s*$/', $pair, $m ) ) {
				$map[ $m[1] ] = $m[2];
			}
		}
		return $map;
	}

	/**
	 * The settings part of a post_orders job (src/protocol/settings.rs, OrderSettings).
	 */
	public static function for_order_job(): array {
		$s        = self::all();
		$shipping = '' !== trim( (string) $s['shipping_item_id'] )
			? array(
				'mode'    => 'item',
				'item_id' => trim( (string) $s['shipping_item_id'] ),
			)
			: array( 'mode' => 'exclude' );
		return array_merge(
			self::for_job(),
			array(
				'shop_id'          => trim( (string) $s['pos_shop_id'] ),
				'register_id'      => trim( (string) $s['register_id'] ),
				'employee_id'      => trim( (string) $s['employee_id'] ),
				'payment_types'    => (object) self::parse_payment_types( (string) $s['payment_types'] ),
				'shipping'         => $shipping,
				'refund_item_id'   => trim( (string) $s['refund_item_id'] ),
				'fee_item_id'      => trim( (string) $s['fee_item_id'] ),
				'reference_source' => 'WooCommerce',
				'max_attempts'     => max( 1, (int) $s['max_attempts'] ),
			)
		);
	}

	/**
	 * All settings, defaults filled in.
	 */
	public static function all(): array {
		return Connection::with_constants( array_merge( self::defaults(), (array) get_option( self::OPTION, array() ) ) );
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
	 * @param array     $posted          Unslashed form values.
	 * @param bool|null $may_change_keys The user may change the connection and the runner
	 *                                   (default: the current user has manage_options).
	 * @return string[] Errors to show; valid fields are saved even when others are not.
	 */
	public static function save_form( array $posted, ?bool $may_change_keys = null ): array {
		$old    = self::all();
		$new    = $old;
		$errors = array();
		Connection::protect( $posted, $old, $may_change_keys ?? Connection::can_manage(), $errors );
		$typed_secret  = '' !== trim( (string) ( $posted['client_secret'] ?? '' ) );
		$typed_refresh = '' !== trim( (string) ( $posted['refresh_token'] ?? '' ) );

		$labels = array(
			'api_base'  => __( 'API base URL', 'pos-sync' ),
			'token_url' => __( 'Token URL', 'pos-sync' ),
		);
		foreach ( $labels as $key => $label ) {
			$value = trim( (string) ( $posted[ $key ] ?? '' ) );
			if ( '' === $value ) {
				$new[ $key ] = self::defaults()[ $key ];
			} elseif ( $value === (string) $old[ $key ] ) {
				continue;
			} else {
				$problem = Connection::url_problem( $value, $label );
				if ( null === $problem ) {
					$new[ $key ] = esc_url_raw( untrailingslashit( $value ), array( 'http', 'https' ) );
				} else {
					$errors[] = $problem . ' ' . __( 'The previous value is kept.', 'pos-sync' );
				}
			}
		}
		foreach ( array( 'account_id', 'client_id', 'node_path' ) as $key ) {
			$new[ $key ] = sanitize_text_field( (string) ( $posted[ $key ] ?? '' ) );
		}
		if ( '' !== $new['account_id'] && ! preg_match( '/^\d+$/', $new['account_id'] ) ) {
			/* translators: %s: the value that was typed */
			$errors[] = sprintf( __( 'The Lightspeed account ID is a number (the one in your Lightspeed address, e.g. 123456); “%s” was not saved and the previous value is kept.', 'pos-sync' ), $new['account_id'] );
			$new['account_id'] = $old['account_id'];
		}
		if ( preg_match( '/\s/', $new['client_id'] ) ) {
			$errors[] = __( 'The client ID holds no spaces: copy it again from your Lightspeed API client; the previous value is kept.', 'pos-sync' );
			$new['client_id'] = $old['client_id'];
		}
		$new['node_path'] = NodeCheck::validate_setting( $new['node_path'], (string) $old['node_path'], $errors );

		// A multi-select of the POS's shops posts a list; the typed field a comma list.
		$shops = $posted['shop_ids'] ?? '';
		$shops = trim( is_array( $shops ) ? implode( ',', array_map( 'strval', $shops ) ) : (string) $shops );
		if ( '' === $shops || preg_match( '/^\d+(\s*,\s*\d+)*$/', $shops ) ) {
			$chosen   = array_values( array_unique( array_filter( array_map( 'trim', explode( ',', $shops ) ), 'strlen' ) ) );
			$problems = array_filter( array_map( static fn( $id ) => Lookups::problem( 'shops', $id, __( 'Shops to sum', 'pos-sync' ) ), $chosen ) );
			if ( $problems ) {
				$errors[] = reset( $problems );
			} else {
				$new['shop_ids'] = implode( ',', $chosen );
			}
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

		if ( array_key_exists( 'reconcile_every', $posted ) ) {
			$every = (string) $posted['reconcile_every'];
			if ( isset( Reconcile::INTERVALS[ $every ] ) ) {
				$new['reconcile_every'] = $every;
			} else {
				$errors[] = __( 'The full reconcile runs hourly, daily, weekly or never; the previous value is kept.', 'pos-sync' );
			}
		}

		// Orders: fields left out of the form keep their value.
		foreach ( array( 'pos_shop_id', 'register_id', 'employee_id', 'shipping_item_id', 'refund_item_id', 'fee_item_id' ) as $key ) {
			if ( ! array_key_exists( $key, $posted ) ) {
				continue;
			}
			$value = trim( (string) $posted[ $key ] );
			$lists = array(
				'pos_shop_id' => array( 'shops', __( 'POS shop of web sales', 'pos-sync' ) ),
				'register_id' => array( 'registers', __( 'POS register', 'pos-sync' ) ),
				'employee_id' => array( 'employees', __( 'POS employee', 'pos-sync' ) ),
			);
			$problem = isset( $lists[ $key ] ) ? Lookups::problem( $lists[ $key ][0], $value, $lists[ $key ][1] ) : null;
			if ( null !== $problem ) {
				$errors[] = $problem;
			} elseif ( '' === $value || preg_match( '/^\d+$/', $value ) ) {
				$new[ $key ] = $value;
			} else {
				/* translators: %s: the value that was typed */
				$errors[] = sprintf( __( 'POS IDs are whole numbers (got “%s”); the previous value is kept.', 'pos-sync' ), $value );
			}
		}
		$register_problem = Lookups::register_problem( (string) $new['register_id'], (string) $new['pos_shop_id'] );
		if ( null !== $register_problem ) {
			$errors[]           = $register_problem;
			$new['register_id'] = $old['register_id'];
		}
		if ( array_key_exists( 'order_statuses', $posted ) ) {
			$statuses = array_map( static fn( $s ) => preg_replace( '/^wc-/', '', sanitize_key( trim( $s ) ) ), explode( ',', (string) $posted['order_statuses'] ) );
			$statuses = array_values( array_unique( array_filter( $statuses, 'strlen' ) ) );
			$known    = function_exists( 'wc_get_order_statuses' ) ? array_map( static fn( $k ) => preg_replace( '/^wc-/', '', $k ), array_keys( wc_get_order_statuses() ) ) : $statuses;
			$unknown  = array_diff( $statuses, $known );
			if ( $unknown ) {
				$errors[] = sprintf(
					/* translators: 1: statuses typed, 2: the statuses WooCommerce knows */
					__( 'Paid order statuses: “%1$s” is not a WooCommerce order status (known: %2$s); the previous value is kept.', 'pos-sync' ),
					implode( ', ', $unknown ),
					implode( ', ', $known )
				);
			} else {
				$new['order_statuses'] = $statuses ? implode( ',', $statuses ) : self::order_defaults()['order_statuses'];
			}
		}
		if ( array_key_exists( 'orders_after', $posted ) ) {
			$date = trim( (string) $posted['orders_after'] );
			if ( '' === $date || preg_match( '/^\d{4}-\d{2}-\d{2}$/', $date ) ) {
				$new['orders_after'] = $date;
			} else {
				$errors[] = __( 'Post orders created after: a date like 2026-03-01, or empty for the day the connection was first made; the previous value is kept.', 'pos-sync' );
			}
		}
		if ( array_key_exists( 'reference_prefix', $posted ) && trim( (string) $posted['reference_prefix'] ) !== References::prefix() && References::prefix_locked() ) {
			$errors[] = __( 'The reference prefix cannot change once an order was handed to the POS; the previous value is kept.', 'pos-sync' );
		} elseif ( array_key_exists( 'reference_prefix', $posted ) ) {
			$prefix = trim( (string) $posted['reference_prefix'] );
			if ( preg_match( '/^[A-Za-z0-9_\-]{0,20}$/', $prefix ) ) {
				$new['reference_prefix'] = $prefix;
			} else {
				$errors[] = __( 'The reference prefix may hold up to 20 letters, digits, - and _; the previous value is kept.', 'pos-sync' );
			}
		}
		if ( isset( $posted['payment_type_map'] ) && is_array( $posted['payment_type_map'] ) ) {
			// One select per gateway (the lists were read from the POS).
			$map = self::parse_payment_types( (string) $old['payment_types'] );
			foreach ( $posted['payment_type_map'] as $gateway => $id ) {
				$gateway = sanitize_key( (string) $gateway );
				$id      = trim( (string) $id );
				if ( '' === $gateway ) {
					continue;
				}
				/* translators: %s: payment gateway ID */
				$problem = Lookups::problem( 'payment_types', $id, sprintf( __( 'Payment type for %s', 'pos-sync' ), $gateway ) );
				if ( null !== $problem ) {
					$errors[] = $problem;
				} elseif ( '' === $id ) {
					unset( $map[ $gateway ] );
				} elseif ( preg_match( '/^\d+$/', $id ) ) {
					$map[ $gateway ] = $id;
				} else {
					/* translators: %s: the value that was posted */
					$errors[] = sprintf( __( 'POS IDs are whole numbers (got “%s”); the previous value is kept.', 'pos-sync' ), $id );
				}
			}
			$new['payment_types'] = implode( ', ', array_map( static fn( $k, $v ) => $k . '=' . $v, array_keys( $map ), $map ) );
		} elseif ( array_key_exists( 'payment_types', $posted ) ) {
			$text = trim( (string) $posted['payment_types'] );
			$map  = self::parse_payment_types( $text );
			$new['payment_types'] = implode( ', ', array_map( static fn( $k, $v ) => $k . '=' . $v, array_keys( $map ), $map ) );
			if ( '' !== $text && count( $map ) !== count( array_filter( array_map( 'trim', preg_split( '/[\r\n,]+/', $text ) ), 'strlen' ) ) ) {
				$errors[] = __( 'Payment types are pairs gateway=POS payment type ID (for example bacs=7, default=1); pairs that were not were left out.', 'pos-sync' );
			}
		}
		if ( array_key_exists( 'max_attempts', $posted ) ) {
			$attempts = trim( (string) $posted['max_attempts'] );
			if ( preg_match( '/^\d+$/', $attempts ) && (int) $attempts >= 1 && (int) $attempts <= 50 ) {
				$new['max_attempts'] = (int) $attempts;
			} else {
				$errors[] = __( 'Attempts before an order needs attention must be between 1 and 50; the previous value is kept.', 'pos-sync' );
			}
		}

		$secret = (string) ( $posted['client_secret'] ?? '' );
		if ( '' !== trim( $secret ) ) {
			$new['client_secret'] = trim( $secret );
		}
		Connection::discard_on_host_change( $old, $new, $typed_secret, $typed_refresh, $errors );
		Publisher::validate_settings( $posted, $new, $errors );
		Prune::validate_settings( $posted, $new, $errors );
		// Values fixed in wp-config.php are not copied into the database.
		$stored = array_merge( self::defaults(), (array) get_option( self::OPTION, array() ) );
		foreach ( array_keys( Connection::CONSTANTS ) as $key ) {
			if ( null !== Connection::constant_of( $key ) ) {
				$new[ $key ] = $stored[ $key ];
			}
		}
		update_option( self::OPTION, $new, false );

		$refresh = trim( (string) ( $posted['refresh_token'] ?? '' ) );
		if ( '' !== $refresh ) {
			// A refresh token typed by the merchant replaces the rotated pair.
			self::save_tokens( null, $refresh, 0 );
		}
		SiteGuard::ensure_bound(); // The first saved connection binds the site's address.
		if ( $new['api_base'] !== $old['api_base'] || $new['account_id'] !== $old['account_id'] ) {
			delete_option( self::CURSORS_OPTION ); // Another POS: start from the beginning.
			Lookups::clear(); // Its shops and registers are not this one's.
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
			if ( null === $cursor['reconcile'] ) {
				Reconcile::pass_finished();
			}
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
