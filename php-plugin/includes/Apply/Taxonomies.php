<?php
/**
 * Categories and global attributes for published products: created when missing,
 * reused (by path, by name) when they exist.
 *
 * @package PosSync
 */

namespace PosSync\Apply;

use PosSync\Store\Log;

defined( 'ABSPATH' ) || exit;

/**
 * Product categories by path and global attributes (pa_size, pa_colour …) by name.
 */
final class Taxonomies {

	/**
	 * Category term ids already resolved in this request: "parent|name" => term id.
	 *
	 * @var array<string,int>
	 */
	private static array $categories = array();

	/**
	 * Term ids of category paths, creating what is missing as a tree.
	 *
	 * @param array $paths Paths from the root, e.g. [["Apparel","T-Shirts"]].
	 * @return int[] The deepest term of each path.
	 * @throws \RuntimeException When WordPress refuses a term.
	 */
	public static function category_ids( array $paths ): array {
		$ids = array();
		foreach ( $paths as $path ) {
			$parent = 0;
			foreach ( (array) $path as $name ) {
				$name = PosText::category( $name );
				if ( '' === $name ) {
					continue;
				}
				$parent = self::category( $name, $parent );
			}
			if ( $parent ) {
				$ids[] = $parent;
			}
		}
		return array_values( array_unique( $ids ) );
	}

	/**
	 * One category under a parent: the existing one with that name, else a new one.
	 *
	 * @param string $name   Name.
	 * @param int    $parent Parent term id (0: top level).
	 * @throws \RuntimeException When WordPress refuses the term.
	 */
	private static function category( string $name, int $parent ): int {
		$cache_key = $parent . '|' . $name;
		if ( isset( self::$categories[ $cache_key ] ) ) {
			// Not checked again here: wp_set_object_terms() skips a term id that no longer exists.
			return self::$categories[ $cache_key ];
		}
		$found = get_terms(
			array(
				'taxonomy'   => 'product_cat',
				'name'       => $name,
				'parent'     => $parent,
				'hide_empty' => false,
				'fields'     => 'ids',
				'number'     => 1,
			)
		);
		if ( ! is_wp_error( $found ) && $found ) {
			$id = (int) $found[0];
		} else {
			$made = wp_insert_term( $name, 'product_cat', array( 'parent' => $parent ) );
			if ( is_wp_error( $made ) ) {
				$existing = $made->get_error_data( 'term_exists' );
				if ( ! $existing ) {
					/* translators: 1: category name, 2: error */
					throw new \RuntimeException( sprintf( __( 'category “%1$s” could not be created: %2$s', 'pos-sync' ), $name, $made->get_error_message() ) );
				}
				$id = (int) $existing;
			} else {
				$id = (int) $made['term_id'];
			}
		}
		self::$categories[ $cache_key ] = $id;
		return $id;
	}

	/**
	 * WooCommerce product attributes for a variable product, global ones created when
	 * missing, and how each variation names its option.
	 *
	 * @param array $attributes `[{name, options: [..]}]` from the listing.
	 * @return array{0: \WC_Product_Attribute[], 1: array<string,array{key:string,options:array<string,string>}>}
	 *         The attributes, and per attribute name its variation key (pa_size or a local
	 *         slug) and option → value stored on the variation.
	 * @throws \RuntimeException When WordPress refuses a term.
	 */
	public static function attributes( array $attributes ): array {
		$out = array();
		$map = array();
		foreach ( array_values( $attributes ) as $position => $attribute ) {
			$name    = PosText::attribute_name( $attribute['name'] ?? '' );
			$options = array_values( array_unique( array_filter( array_map( array( PosText::class, 'attribute_value' ), (array) ( $attribute['options'] ?? array() ) ), 'strlen' ) ) );
			if ( '' === $name || ! $options ) {
				continue;
			}
			$wc       = new \WC_Product_Attribute();
			$taxonomy = self::global_attribute( $name );
			$wc->set_position( $position );
			$wc->set_visible( true );
			$wc->set_variation( true );
			if ( null !== $taxonomy ) {
				$terms = array();
				$slugs = array();
				foreach ( $options as $index => $option ) {
					$term = get_term_by( 'name', $option, $taxonomy['taxonomy'] );
					if ( ! $term ) {
						$made = wp_insert_term( $option, $taxonomy['taxonomy'] );
						if ( is_wp_error( $made ) ) {
							$existing = $made->get_error_data( 'term_exists' );
							if ( ! $existing ) {
								/* translators: 1: option, 2: attribute, 3: error */
								throw new \RuntimeException( sprintf( __( 'option “%1$s” of attribute “%2$s” could not be created: %3$s', 'pos-sync' ), $option, $name, $made->get_error_message() ) );
							}
							$term = get_term( (int) $existing, $taxonomy['taxonomy'] );
						} else {
							// Options are listed in the shop as in the POS (S, M, L), not by name.
							wc_set_term_order( (int) $made['term_id'], $index, $taxonomy['taxonomy'] );
							$term = get_term( (int) $made['term_id'], $taxonomy['taxonomy'] );
						}
					}
					$terms[]            = (int) $term->term_id;
					$slugs[ $option ] = (string) $term->slug;
				}
				$wc->set_id( $taxonomy['id'] );
				$wc->set_name( $taxonomy['taxonomy'] );
				$wc->set_options( $terms );
				$map[ $name ] = array(
					'key'     => $taxonomy['taxonomy'],
					'options' => $slugs,
				);
			} else {
				// A name WooCommerce cannot take as a global attribute (reserved, too long):
				// a product-level attribute instead.
				$wc->set_id( 0 );
				$wc->set_name( $name );
				$wc->set_options( $options );
				$map[ $name ] = array(
					'key'     => sanitize_title( $name ),
					'options' => array_combine( $options, $options ),
				);
			}
			$out[] = $wc;
		}
		return array( $out, $map );
	}

	/**
	 * The global attribute with that name, created when missing; null when WooCommerce refuses it.
	 *
	 * @param string $name Attribute name (Size, Colour …).
	 * @return array{id:int,taxonomy:string}|null
	 */
	private static function global_attribute( string $name ): ?array {
		$slug = wc_sanitize_taxonomy_name( $name );
		if ( '' === $slug || strlen( $slug ) > 28 ) {
			return null;
		}
		$id = (int) wc_attribute_taxonomy_id_by_name( $slug );
		if ( ! $id ) {
			$made = wc_create_attribute(
				array(
					'name'         => $name,
					'slug'         => $slug,
					'type'         => 'select',
					'order_by'     => 'menu_order',
					'has_archives' => false,
				)
			);
			if ( is_wp_error( $made ) ) {
				Log::warning( sprintf( /* translators: 1: attribute name, 2: error */ __( 'Attribute “%1$s” could not be created as a global attribute (%2$s); it is kept on the product instead.', 'pos-sync' ), $name, $made->get_error_message() ) );
				return null;
			}
			$id = (int) $made;
		}
		$taxonomy = wc_attribute_taxonomy_name( $slug );
		if ( ! taxonomy_exists( $taxonomy ) ) {
			// WooCommerce registers attribute taxonomies on init; one made in this request is not yet.
			register_taxonomy(
				$taxonomy,
				array( 'product' ),
				array(
					'hierarchical' => false,
					'show_ui'      => false,
					'query_var'    => true,
					'rewrite'      => false,
					'labels'       => array( 'name' => $name ),
				)
			);
		}
		return array(
			'id'       => $id,
			'taxonomy' => $taxonomy,
		);
	}

	/**
	 * Forgets what this request resolved (after a rollback).
	 */
	public static function forget(): void {
		self::$categories = array();
		delete_transient( 'wc_attribute_taxonomies' );
		\WC_Cache_Helper::invalidate_cache_group( 'woocommerce-attributes' );
	}
}
