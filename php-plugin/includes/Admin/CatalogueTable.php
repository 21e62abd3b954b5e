<?php
/**
 * The list table of Products → POS items (loaded only on that page, after
 * WordPress's WP_List_Table).
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Store\Catalogue;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * POS listings with their web status; checkboxes and bulk picks under the manual rule.
 */
final class CatalogueTable extends \WP_List_Table {

	private const PER_PAGE = 50;

	/**
	 * Listing keys picked by hand.
	 *
	 * @var array<string,bool>
	 */
	private array $chosen = array();

	/**
	 * A table for the POS items page.
	 */
	public function __construct() {
		parent::__construct(
			array(
				'singular' => 'pos_item',
				'plural'   => 'pos_items',
				'ajax'     => false,
			)
		);
	}

	/**
	 * The current view.
	 */
	private function view(): string {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a read-only filter.
		$view = sanitize_key( (string) wp_unslash( $_GET['view'] ?? 'all' ) );
		return in_array( $view, array( 'all', 'web', 'not_web', 'chosen' ), true ) ? $view : 'all';
	}

	/**
	 * Loads the page of rows.
	 */
	public function prepare_items(): void {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a read-only search.
		$search       = trim( sanitize_text_field( (string) wp_unslash( $_REQUEST['s'] ?? '' ) ) );
		$this->chosen = array_fill_keys( Catalogue::chosen_keys(), true );
		$page         = $this->get_pagenum();
		$result       = Catalogue::rows( $search, $this->view(), $page, self::PER_PAGE );
		$this->items  = $result['rows'];
		$this->set_pagination_args(
			array(
				'total_items' => $result['total'],
				'per_page'    => self::PER_PAGE,
			)
		);
		$this->_column_headers = array( $this->get_columns(), array(), array() );
	}

	/**
	 * Columns.
	 */
	public function get_columns(): array {
		$columns = array(
			'name'   => __( 'POS item', 'pos-sync' ),
			'sku'    => __( 'SKU', 'pos-sync' ),
			'pos'    => __( 'POS ID', 'pos-sync' ),
			'status' => __( 'On the web', 'pos-sync' ),
		);
		if ( 'manual' === Settings::get( 'publish_rule' ) ) {
			$columns = array( 'cb' => '<input type="checkbox" />' ) + $columns + array( 'chosen' => __( 'Chosen', 'pos-sync' ) );
		}
		return $columns;
	}

	/**
	 * Bulk actions: only where picking by hand is the rule.
	 */
	protected function get_bulk_actions(): array {
		if ( 'manual' !== Settings::get( 'publish_rule' ) ) {
			return array();
		}
		return array(
			'pos_sync_pick'   => __( 'Publish on the web', 'pos-sync' ),
			'pos_sync_unpick' => __( 'Stop publishing', 'pos-sync' ),
		);
	}

	/**
	 * All / on the web / not on the web / chosen.
	 */
	protected function get_views(): array {
		$counts = Catalogue::counts();
		$base   = admin_url( 'edit.php?post_type=product&page=' . Catalogue::SLUG );
		$labels = array(
			/* translators: %s: count */
			'all'     => __( 'All <span class="count">(%s)</span>', 'pos-sync' ),
			/* translators: %s: count */
			'web'     => __( 'On the web <span class="count">(%s)</span>', 'pos-sync' ),
			/* translators: %s: count */
			'not_web' => __( 'Not on the web <span class="count">(%s)</span>', 'pos-sync' ),
		);
		if ( 'manual' === Settings::get( 'publish_rule' ) ) {
			/* translators: %s: count */
			$labels['chosen'] = __( 'Chosen <span class="count">(%s)</span>', 'pos-sync' );
		}
		$views = array();
		foreach ( $labels as $view => $label ) {
			$views[ $view ] = sprintf(
				'<a href="%1$s"%2$s>%3$s</a>',
				esc_url( 'all' === $view ? $base : add_query_arg( 'view', $view, $base ) ),
				$this->view() === $view ? ' class="current" aria-current="page"' : '',
				sprintf( wp_kses( $label, array( 'span' => array( 'class' => array() ) ) ), number_format_i18n( $counts[ $view ] ?? 0 ) )
			);
		}
		return $views;
	}

	/**
	 * Nothing read yet.
	 */
	public function no_items(): void {
		esc_html_e( 'No POS items yet: they appear here as the publish flow reads the POS catalogue.', 'pos-sync' );
	}

	/**
	 * Checkbox.
	 *
	 * @param array $item Row.
	 */
	protected function column_cb( $item ): string {
		return sprintf( '<input type="checkbox" name="pos_key[]" value="%s" />', esc_attr( (string) $item['pos_key'] ) );
	}

	/**
	 * Name, with a link to the product when there is one.
	 *
	 * @param array $item Row.
	 */
	protected function column_name( $item ): string {
		$name = '' !== (string) $item['name'] ? (string) $item['name'] : (string) $item['pos_key'];
		$id   = (int) $item['product_id'];
		if ( $id && current_user_can( 'edit_post', $id ) ) {
			return sprintf( '<strong><a href="%1$s">%2$s</a></strong>', esc_url( (string) get_edit_post_link( $id, 'raw' ) ), esc_html( $name ) );
		}
		return '<strong>' . esc_html( $name ) . '</strong>';
	}

	/**
	 * SKU (a matrix: its variants' SKUs).
	 *
	 * @param array $item Row.
	 */
	protected function column_sku( $item ): string {
		return esc_html( (string) $item['sku'] );
	}

	/**
	 * "Item 12" or "Matrix 3 · 6 variants".
	 *
	 * @param array $item Row.
	 */
	protected function column_pos( $item ): string {
		list( $kind, $id ) = array_pad( explode( ':', (string) $item['pos_key'], 2 ), 2, '' );
		if ( 'matrix' === $kind ) {
			/* translators: 1: matrix ID, 2: number of variants */
			return esc_html( sprintf( _n( 'Matrix %1$s · %2$d variant', 'Matrix %1$s · %2$d variants', (int) $item['variants'], 'pos-sync' ), $id, (int) $item['variants'] ) );
		}
		/* translators: %s: item ID */
		return esc_html( sprintf( __( 'Item %s', 'pos-sync' ), $id ) );
	}

	/**
	 * Web status and why.
	 *
	 * @param array $item Row.
	 */
	protected function column_status( $item ): string {
		return esc_html( Catalogue::status_words( $item ) );
	}

	/**
	 * Picked by hand.
	 *
	 * @param array $item Row.
	 */
	protected function column_chosen( $item ): string {
		return isset( $this->chosen[ (string) $item['pos_key'] ] ) ? esc_html__( 'Yes', 'pos-sync' ) : '—';
	}
}
