<?php
/**
 * The product screen's "Managed by POS" box: the POS item, the POS stock per shop of the
 * last reading and the last sync (variations listed one by one).
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Apply\NoPrice;
use PosSync\Apply\StockApplier;

defined( 'ABSPATH' ) || exit;

/**
 * Product edit screen.
 */
final class ProductScreen {

	/**
	 * Wires the meta box.
	 */
	public static function hooks(): void {
		add_action( 'add_meta_boxes_product', array( self::class, 'add_box' ) );
	}

	/**
	 * Adds the box for users who manage the shop.
	 */
	public static function add_box(): void {
		if ( current_user_can( 'manage_woocommerce' ) ) {
			add_meta_box( 'pos-sync-managed', __( 'Managed by POS', 'pos-sync' ), array( self::class, 'render' ), 'product', 'side', 'high' );
		}
	}

	/**
	 * Renders the box.
	 *
	 * @param \WP_Post $post Product post.
	 */
	public static function render( $post ): void {
		// Its own check: the box is a callback anyone could reach through another screen.
		if ( ! $post instanceof \WP_Post || ! current_user_can( 'edit_product', $post->ID ) ) {
			return;
		}
		$product = wc_get_product( $post->ID );
		if ( ! $product ) {
			return;
		}
		$ids = $product->is_type( 'variable' ) ? array_map( 'intval', $product->get_children() ) : array( (int) $post->ID );
		$any = false;
		echo '<div class="pos-sync-managed">';
		foreach ( $ids as $id ) {
			$item = (string) get_post_meta( $id, StockApplier::ITEM_META, true );
			if ( '' === $item ) {
				continue;
			}
			$any     = true;
			$reading = Report::reading( $id );
			if ( $id !== (int) $post->ID ) {
				$variation = wc_get_product( $id );
				echo '<p><strong>' . esc_html( $variation ? $variation->get_name() : '#' . $id ) . '</strong></p>';
			}
			/* translators: %s: POS item ID */
			echo '<p class="pos-sync-item">' . esc_html( sprintf( __( 'POS item %s — its stock is set by the POS; a figure typed here is overwritten at the next sync.', 'pos-sync' ), $item ) ) . '</p>';
			$subject = $id === (int) $post->ID ? $product : wc_get_product( $id );
			if ( $subject && NoPrice::applies( $subject ) ) {
				echo '<p class="pos-sync-no-price"><strong>' . esc_html( NoPrice::explained() ) . '</strong></p>';
			}
			if ( $reading ) {
				echo '<table class="widefat striped pos-sync-shop-stock"><thead><tr><th>' . esc_html__( 'POS shop', 'pos-sync' ) . '</th><th>' . esc_html__( 'Stock', 'pos-sync' ) . '</th></tr></thead><tbody>';
				foreach ( (array) $reading['shop_qoh'] as $shop => $qoh ) {
					printf( '<tr><td>%1$s</td><td>%2$d</td></tr>', esc_html( (string) $shop ), (int) $qoh );
				}
				printf( '<tr><th>%1$s</th><th>%2$d</th></tr>', esc_html__( 'For the web (after buffer)', 'pos-sync' ), (int) $reading['base'] );
				echo '</tbody></table>';
				/* translators: %s: date and time */
				echo '<p class="pos-sync-last-sync"><small>' . esc_html( sprintf( __( 'Last sync: %s', 'pos-sync' ), wp_date( 'Y-m-d H:i:s', (int) $reading['at'] ) ) ) . '</small></p>';
			} else {
				echo '<p class="pos-sync-last-sync"><small>' . esc_html__( 'Not read from the POS yet: the next sync brings its stock.', 'pos-sync' ) . '</small></p>';
			}
		}
		if ( ! $any ) {
			echo '<p>' . esc_html__( 'Not managed by the POS: linked to no POS item (matched by SKU when the POS sends an item with this SKU).', 'pos-sync' ) . '</p>';
		}
		printf( '<p><a href="%1$s">%2$s</a></p>', esc_url( StatusPage::url( 'report' ) ), esc_html__( 'Stock differences report', 'pos-sync' ) );
		echo '</div>';
	}
}
