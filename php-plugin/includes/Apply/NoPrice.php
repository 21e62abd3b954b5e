<?php
/**
 * Listings the POS has no price for (issue 11). The core decides: a listing whose price
 * level has no price above 0 comes hidden with the reason `no_price` (a variation
 * disabled), unless the setting "Price level when the regular one has none" names a POS
 * level that has one. This class holds that setting and the words the admin screens use.
 *
 * @package PosSync
 */

namespace PosSync\Apply;

use PosSync\Store\Catalogue;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * The fallback price level setting and the no-price words.
 */
final class NoPrice {

	public const SETTING = 'fallback_price_level';
	public const REASON  = 'no_price';

	/**
	 * Default: empty (a listing without a price is hidden).
	 */
	public static function setting_defaults(): array {
		return array( self::SETTING => '' );
	}

	/**
	 * Validates the posted level name into $new (called with the publish section).
	 *
	 * @param array    $posted Unslashed form values.
	 * @param array    $new    Settings being saved.
	 * @param string[] $errors Errors to show.
	 */
	public static function validate_settings( array $posted, array &$new, array &$errors ): void {
		if ( ! array_key_exists( self::SETTING, $posted ) ) {
			return;
		}
		$raw   = is_scalar( $posted[ self::SETTING ] ) ? (string) $posted[ self::SETTING ] : '';
		$value = trim( preg_replace( '/\s+/u', ' ', sanitize_text_field( $raw ) ) ?? '' );
		// A POS price level name as Lightspeed shows it: "MSRP", "Online", "James price".
		if ( '' === $value || ( mb_strlen( $value ) <= 60 && preg_match( '/^[\p{L}\p{N}][\p{L}\p{N} ._&()\/-]*$/u', $value ) ) ) {
			$new[ self::SETTING ] = $value;
			return;
		}
		$errors[] = sprintf(
			/* translators: %s: the value typed */
			__( 'Price level when the regular one has none: “%s” is not the name of a POS price level (letters, digits and spaces, up to 60); the previous value is kept.', 'pos-sync' ),
			mb_substr( $value, 0, 80 )
		);
	}

	/**
	 * The setting as the job carries it (PROTOCOL.md, `fallback_price_level`).
	 */
	public static function job_setting(): ?string {
		$value = trim( (string) Settings::get( self::SETTING ) );
		return '' === $value ? null : $value;
	}

	/**
	 * The settings tab field.
	 *
	 * @param callable $field Maps a key to its form name.
	 */
	public static function settings_field( callable $field ): array {
		return array(
			'title'       => __( 'Price level when the regular one has none', 'pos-sync' ),
			'id'          => $field( self::SETTING ),
			'type'        => 'text',
			'value'       => (string) Settings::get( self::SETTING ),
			'placeholder' => __( 'e.g. MSRP', 'pos-sync' ),
			'desc'        => __( 'The name of another POS price level to sell at when the regular price in the POS is missing or 0. Empty: such a product is hidden (no price in the POS) and cannot be bought until the POS has a price.', 'pos-sync' ),
		);
	}

	/**
	 * The reason in a few words (Products → POS items).
	 */
	public static function reason_words(): string {
		return __( 'no price in the POS', 'pos-sync' );
	}

	/**
	 * The reason in a sentence (stock differences report, product screen).
	 */
	public static function explained(): string {
		return __( 'No price in the POS: not for sale on the web until the POS has a price above 0 (or a price level is set in POS Sync settings → “Price level when the regular one has none”); its stock is still kept.', 'pos-sync' );
	}

	/**
	 * Whether the POS had no price for this product or variation: its listing came
	 * `no_price`, or (a variation) the core disabled it and sent no price.
	 *
	 * @param \WC_Product $product Product or variation.
	 */
	public static function applies( \WC_Product $product ): bool {
		$owner_id = $product->get_parent_id() ? $product->get_parent_id() : $product->get_id();
		$key      = (string) get_post_meta( $owner_id, Publisher::KEY_META, true );
		if ( '' === $key ) {
			return false;
		}
		if ( self::REASON === Catalogue::reason_of( $key ) ) {
			return true;
		}
		return $product->get_parent_id() && 'publish' !== $product->get_status( 'edit' ) && '' === (string) $product->get_regular_price( 'edit' );
	}
}
