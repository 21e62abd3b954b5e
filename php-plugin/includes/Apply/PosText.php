<?php
/**
 * The one border POS text crosses before it becomes WooCommerce data: every string the
 * POS sends is cleaned here as WooCommerce cleans its own input (a SKU typed in the
 * product screen goes through wc_clean, a description through wp_kses_post …). The
 * core strips markup from descriptions too; that stays as defence in depth.
 *
 * | POS text                                   | cleaned by                       |
 * |--------------------------------------------|----------------------------------|
 * | SKU (products and variations)              | wc_clean                         |
 * | attribute names and values (options)       | wc_clean                         |
 * | title (item / matrix description)          | sanitize_text_field              |
 * | category names                             | sanitize_text_field              |
 * | image alt text (image description)         | sanitize_text_field              |
 * | image file name                            | sanitize_file_name               |
 * | long and short description                 | wp_kses_post (script/style gone) |
 * | POS list names (shops, registers …)        | sanitize_text_field              |
 * | notes shown on the product screen          | sanitize_textarea_field          |
 *
 * @package PosSync
 */

namespace PosSync\Apply;

defined( 'ABSPATH' ) || exit;

/**
 * Cleans POS strings, one function per kind of text, and whole listings.
 */
final class PosText {

	/**
	 * A SKU, as WooCommerce cleans the SKU field of its own product form.
	 *
	 * @param mixed $value POS text.
	 */
	public static function sku( $value ): string {
		return (string) wc_clean( self::text( $value ) );
	}

	/**
	 * An attribute name (Size, Colour …).
	 *
	 * @param mixed $value POS text.
	 */
	public static function attribute_name( $value ): string {
		return (string) wc_clean( self::text( $value ) );
	}

	/**
	 * An attribute value (an option: M, Black …).
	 *
	 * @param mixed $value POS text.
	 */
	public static function attribute_value( $value ): string {
		return (string) wc_clean( self::text( $value ) );
	}

	/**
	 * A title: product name, matrix name, a POS list entry's name.
	 *
	 * @param mixed $value POS text.
	 */
	public static function title( $value ): string {
		return sanitize_text_field( self::text( $value ) );
	}

	/**
	 * A category name.
	 *
	 * @param mixed $value POS text.
	 */
	public static function category( $value ): string {
		return sanitize_text_field( self::text( $value ) );
	}

	/**
	 * An image's alt text.
	 *
	 * @param mixed $value POS text.
	 */
	public static function alt( $value ): string {
		return sanitize_text_field( self::text( $value ) );
	}

	/**
	 * An image's file name.
	 *
	 * @param mixed $value POS text.
	 */
	public static function file_name( $value ): string {
		return sanitize_file_name( self::text( $value ) );
	}

	/**
	 * POS HTML as WordPress sanitises post content (wp_kses_post); script and style
	 * elements go with their content, which would otherwise show as text.
	 *
	 * @param mixed $value HTML from the POS.
	 */
	public static function html( $value ): string {
		$html = (string) preg_replace( '#<(script|style|noscript|iframe)\b[^>]*>.*?(</\1\s*>|$)#is', '', self::text( $value ) );
		return trim( wp_kses_post( $html ) );
	}

	/**
	 * A note kept for the merchant (several lines allowed).
	 *
	 * @param mixed $value Text that may carry POS words (names, SKUs).
	 */
	public static function note( $value ): string {
		return sanitize_textarea_field( self::text( $value ) );
	}

	/**
	 * A `product` event's listing with every POS text cleaned (docs/PROTOCOL.md): what
	 * the Publisher, the catalogue table and the reports see from then on. Ids, prices,
	 * figures and fingerprints are not text and are left as they are.
	 *
	 * @param array $l Listing.
	 * @return array The listing, cleaned.
	 */
	public static function listing( array $l ): array {
		foreach ( array( 'name' => 'title', 'description' => 'html', 'short_description' => 'html', 'sku' => 'sku', 'pos_timestamp' => 'title' ) as $field => $clean ) {
			if ( isset( $l[ $field ] ) ) {
				$l[ $field ] = call_user_func( array( self::class, $clean ), $l[ $field ] );
			}
		}
		if ( isset( $l['hidden_reason'] ) ) {
			$l['hidden_reason'] = sanitize_key( self::text( $l['hidden_reason'] ) );
		}
		if ( isset( $l['categories'] ) ) {
			$l['categories'] = array_map( static fn( $path ) => array_map( array( self::class, 'category' ), array_values( (array) $path ) ), array_values( (array) $l['categories'] ) );
		}
		if ( isset( $l['images'] ) ) {
			$l['images'] = array_values( array_filter( array_map( array( self::class, 'image' ), array_values( (array) $l['images'] ) ) ) );
		}
		if ( isset( $l['attributes'] ) ) {
			$attributes = array();
			foreach ( (array) $l['attributes'] as $attribute ) {
				$attribute    = (array) $attribute;
				$attributes[] = array(
					'name'    => self::attribute_name( $attribute['name'] ?? '' ),
					'options' => array_values( array_unique( array_map( array( self::class, 'attribute_value' ), array_values( (array) ( $attribute['options'] ?? array() ) ) ) ) ),
				) + $attribute;
			}
			$l['attributes'] = $attributes;
		}
		if ( isset( $l['variations'] ) ) {
			$l['variations'] = array_map( array( self::class, 'variation' ), array_values( (array) $l['variations'] ) );
		}
		return $l;
	}

	/**
	 * One variation of a listing.
	 *
	 * @param mixed $v Variation.
	 * @return mixed The variation, cleaned (anything but an array is left for the Publisher to skip).
	 */
	private static function variation( $v ) {
		if ( ! is_array( $v ) ) {
			return $v;
		}
		if ( isset( $v['sku'] ) ) {
			$v['sku'] = self::sku( $v['sku'] );
		}
		if ( isset( $v['pos_timestamp'] ) ) {
			$v['pos_timestamp'] = self::title( $v['pos_timestamp'] );
		}
		if ( isset( $v['attributes'] ) ) {
			$attributes = array();
			foreach ( (array) $v['attributes'] as $name => $option ) {
				$attributes[ self::attribute_name( $name ) ] = self::attribute_value( $option );
			}
			$v['attributes'] = $attributes;
		}
		if ( array_key_exists( 'image', $v ) ) {
			$v['image'] = self::image( $v['image'] );
		}
		return $v;
	}

	/**
	 * A listing image `{key, image_id, url, filename, alt}`: the URL is checked (not
	 * rewritten) where it is downloaded, in Media.
	 *
	 * @param mixed $image Image.
	 */
	private static function image( $image ): ?array {
		if ( ! is_array( $image ) ) {
			return null;
		}
		$image['filename'] = self::file_name( $image['filename'] ?? '' );
		$image['alt']      = self::alt( $image['alt'] ?? '' );
		return $image;
	}

	/**
	 * A scalar as a string (arrays and objects have no text: '').
	 *
	 * @param mixed $value Value.
	 */
	private static function text( $value ): string {
		return is_scalar( $value ) ? (string) $value : '';
	}
}
