<?php
/**
 * The POS catalogue as the publish flow last saw it: one row per listing (simple item
 * or matrix) in the table pos_sync_catalogue, whatever became of it on the web. The
 * admin page Products → POS items lists it, says why an item is not on the web, and,
 * under the "These POS items" rule, is where the merchant picks what is published.
 *
 * @package PosSync
 */

namespace PosSync\Store;

use PosSync\Admin\Actions;
use PosSync\Admin\CatalogueTable;
use PosSync\Apply\NoPrice;
use PosSync\Apply\PosText;
use PosSync\Apply\Publisher;

defined( 'ABSPATH' ) || exit;

/**
 * The catalogue table, the picks, and the admin page.
 */
final class Catalogue {

	public const SLUG          = 'pos-sync-items';
	public const REPLAN_OPTION = 'pos_sync_publish_replan';
	public const NOTICE        = 'pos_sync_items_notice_';

	/**
	 * Wires the admin page.
	 */
	public static function hooks(): void {
		add_action( 'admin_menu', array( self::class, 'menu' ) );
	}

	/**
	 * Products → POS items.
	 */
	public static function menu(): void {
		$hook = add_submenu_page( 'edit.php?post_type=product', __( 'POS items', 'pos-sync' ), __( 'POS items', 'pos-sync' ), 'manage_woocommerce', self::SLUG, array( self::class, 'render' ) );
		if ( $hook ) {
			add_action( 'load-' . $hook, array( self::class, 'handle_bulk' ) );
		}
	}

	// ------------------------------------------------------------------ the table

	/**
	 * Records what a `product` event said of a listing (no write when nothing moved:
	 * the upsert leaves an identical row alone).
	 *
	 * @param array $l          Listing.
	 * @param int   $product_id Its product (0: none).
	 */
	public static function record( array $l, int $product_id ): void {
		global $wpdb;
		$table = Schema::catalogue();
		$key   = (string) ( $l['key'] ?? '' );
		if ( '' === $key ) {
			return;
		}
		$skus = 'variable' === ( $l['type'] ?? '' )
			? implode( ' ', array_filter( array_map( static fn( $v ) => PosText::sku( $v['sku'] ?? '' ), (array) ( $l['variations'] ?? array() ) ), 'strlen' ) )
			: PosText::sku( $l['sku'] ?? '' );
		$wpdb->query(
			$wpdb->prepare(
				// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				"INSERT INTO {$table} (pos_key, name, sku, type, visibility, hidden_reason, variants, product_id, pos_timestamp, first_seen_at)
				 VALUES (%s, %s, %s, %s, %s, %s, %d, %d, %s, %s)
				 ON DUPLICATE KEY UPDATE name = VALUES(name), sku = VALUES(sku), type = VALUES(type), visibility = VALUES(visibility),
				   hidden_reason = VALUES(hidden_reason), variants = VALUES(variants), product_id = VALUES(product_id), pos_timestamp = VALUES(pos_timestamp)",
				$key,
				mb_substr( PosText::title( $l['name'] ?? '' ), 0, 255 ),
				mb_substr( $skus, 0, 255 ),
				'variable' === ( $l['type'] ?? '' ) ? 'variable' : 'simple',
				'publish' === ( $l['visibility'] ?? '' ) ? 'publish' : 'hidden',
				sanitize_key( (string) ( $l['hidden_reason'] ?? '' ) ),
				count( (array) ( $l['variations'] ?? array() ) ),
				$product_id,
				PosText::title( $l['pos_timestamp'] ?? '' ),
				current_time( 'mysql', true )
			)
		);
	}

	/**
	 * Why the publish flow last hid a listing ('' when it did not, or never saw it).
	 *
	 * @param string $key Listing key (`item:ID`, `matrix:ID`).
	 */
	public static function reason_of( string $key ): string {
		global $wpdb;
		$table = Schema::catalogue();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return (string) $wpdb->get_var( $wpdb->prepare( "SELECT hidden_reason FROM {$table} WHERE pos_key = %s AND visibility = 'hidden'", $key ) );
	}

	/**
	 * Rows for the page.
	 *
	 * @param string $search Name or SKU contains.
	 * @param string $view   all | web | not_web | chosen.
	 * @param int    $page   1-based.
	 * @param int    $per    Rows per page.
	 * @return array{rows: array[], total: int}
	 */
	public static function rows( string $search, string $view, int $page, int $per ): array {
		global $wpdb;
		$table = Schema::catalogue();
		$where = array( '1=1' );
		$args  = array();
		if ( '' !== $search ) {
			$like    = '%' . $wpdb->esc_like( $search ) . '%';
			$where[] = '(name LIKE %s OR sku LIKE %s OR pos_key = %s OR pos_key = %s)';
			array_push( $args, $like, $like, 'item:' . $search, 'matrix:' . $search );
		}
		if ( 'web' === $view ) {
			$where[] = "visibility = 'publish' AND product_id > 0";
		} elseif ( 'not_web' === $view ) {
			$where[] = "(visibility <> 'publish' OR product_id = 0)";
		} elseif ( 'chosen' === $view ) {
			$keys = self::chosen_keys();
			if ( ! $keys ) {
				return array(
					'rows'  => array(),
					'total' => 0,
				);
			}
			$where[] = 'pos_key IN (' . implode( ',', array_fill( 0, count( $keys ), '%s' ) ) . ')';
			$args    = array_merge( $args, $keys );
		}
		$sql_where = implode( ' AND ', $where );
		// phpcs:disable WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare
		$total = (int) $wpdb->get_var( $args ? $wpdb->prepare( "SELECT COUNT(*) FROM {$table} WHERE {$sql_where}", $args ) : "SELECT COUNT(*) FROM {$table} WHERE {$sql_where}" );
		$rows  = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$table} WHERE {$sql_where} ORDER BY name, pos_key LIMIT %d OFFSET %d", array_merge( $args, array( $per, max( 0, $page - 1 ) * $per ) ) ), ARRAY_A );
		// phpcs:enable
		return array(
			'rows'  => (array) $rows,
			'total' => $total,
		);
	}

	/**
	 * Counts per view.
	 *
	 * @return array<string,int>
	 */
	public static function counts(): array {
		global $wpdb;
		$table = Schema::catalogue();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$row = $wpdb->get_row( "SELECT COUNT(*) AS n, SUM(visibility = 'publish' AND product_id > 0) AS web FROM {$table}", ARRAY_A );
		$all = (int) ( $row['n'] ?? 0 );
		$web = (int) ( $row['web'] ?? 0 );
		return array(
			'all'     => $all,
			'web'     => $web,
			'not_web' => $all - $web,
			'chosen'  => count( self::chosen_keys() ),
		);
	}

	// ------------------------------------------------------------------ picks

	/**
	 * The items picked by hand (the `manual` rule's list) as listing keys.
	 *
	 * @return string[] `item:ID` and `matrix:ID`.
	 */
	public static function chosen_keys(): array {
		$out = array();
		foreach ( array_filter( array_map( 'trim', explode( ',', (string) Settings::get( 'publish_ids' ) ) ), 'strlen' ) as $id ) {
			$out[] = str_starts_with( $id, 'matrix:' ) ? $id : 'item:' . $id;
		}
		return $out;
	}

	/**
	 * Adds or removes listings from the picks; the listings that moved are planned again
	 * at the next run (not the whole catalogue).
	 *
	 * @param string[] $keys `item:ID` / `matrix:ID`.
	 * @param bool     $pick Add (true) or remove.
	 * @return int How many picks changed.
	 */
	public static function pick( array $keys, bool $pick ): int {
		$keys    = array_values( array_filter( $keys, static fn( $k ) => (bool) preg_match( '/^(item|matrix):\d+$/', (string) $k ) ) );
		$current = self::chosen_keys();
		$next    = $pick ? array_values( array_unique( array_merge( $current, $keys ) ) ) : array_values( array_diff( $current, $keys ) );
		$moved   = $pick ? array_diff( $next, $current ) : array_diff( $current, $next );
		if ( ! $moved ) {
			return 0;
		}
		$settings                = (array) get_option( Settings::OPTION, array() );
		$settings['publish_ids'] = implode( ',', array_map( static fn( $k ) => str_starts_with( $k, 'item:' ) ? substr( $k, 5 ) : $k, $next ) );
		update_option( Settings::OPTION, $settings );
		self::queue_replan( array_values( $moved ) );
		return count( $moved );
	}

	/**
	 * Asks the next publish run to plan these listings again.
	 *
	 * @param string[] $keys `item:ID` / `matrix:ID`.
	 */
	public static function queue_replan( array $keys ): void {
		$q = self::replan();
		foreach ( $keys as $key ) {
			if ( preg_match( '/^matrix:(\d+)$/', (string) $key, $m ) ) {
				$q['matrix_ids'][] = $m[1];
			} elseif ( preg_match( '/^(?:item:)?(\d+)$/', (string) $key, $m ) ) {
				$q['item_ids'][] = $m[1];
			}
		}
		$q['item_ids']   = array_values( array_unique( $q['item_ids'] ) );
		$q['matrix_ids'] = array_values( array_unique( $q['matrix_ids'] ) );
		update_option( self::REPLAN_OPTION, $q, false );
	}

	/**
	 * What is queued for the next publish job's `replan`.
	 *
	 * @return array{item_ids: string[], matrix_ids: string[]}
	 */
	public static function replan(): array {
		$q = (array) get_option( self::REPLAN_OPTION, array() );
		return array(
			'item_ids'   => array_values( array_map( 'strval', (array) ( $q['item_ids'] ?? array() ) ) ),
			'matrix_ids' => array_values( array_map( 'strval', (array) ( $q['matrix_ids'] ?? array() ) ) ),
		);
	}

	/**
	 * The core planned what a job's `replan` named: those leave the queue (picks made
	 * during the run stay for the next one).
	 *
	 * @param mixed $done `{item_ids, matrix_ids}` of the `publish_replan` cursor event.
	 */
	public static function replan_done( $done ): void {
		$done = is_array( $done ) ? $done : array();
		$q    = self::replan();
		$left = array(
			'item_ids'   => array_values( array_diff( $q['item_ids'], array_map( 'strval', (array) ( $done['item_ids'] ?? array() ) ) ) ),
			'matrix_ids' => array_values( array_diff( $q['matrix_ids'], array_map( 'strval', (array) ( $done['matrix_ids'] ?? array() ) ) ) ),
		);
		if ( $left['item_ids'] || $left['matrix_ids'] ) {
			update_option( self::REPLAN_OPTION, $left, false );
		} else {
			delete_option( self::REPLAN_OPTION );
		}
	}

	// ------------------------------------------------------------------ the page

	/**
	 * Bulk actions (before any output): capability, POST only, nonce, then the picks.
	 */
	public static function handle_bulk(): void {
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- checked below before anything changes.
		$action = sanitize_key( (string) wp_unslash( $_REQUEST['action'] ?? '' ) );
		if ( '' === $action || '-1' === $action ) {
			$action = sanitize_key( (string) wp_unslash( $_REQUEST['action2'] ?? '' ) );
		}
		if ( ! in_array( $action, array( 'pos_sync_pick', 'pos_sync_unpick' ), true ) ) {
			return;
		}
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			wp_die( esc_html__( 'You are not allowed to choose what is published.', 'pos-sync' ), '', array( 'response' => 403 ) );
		}
		Actions::guard( 'bulk-pos_items' );
		$keys = array_map( static fn( $k ) => sanitize_text_field( (string) $k ), (array) wp_unslash( $_REQUEST['pos_key'] ?? array() ) );
		// phpcs:enable
		if ( 'manual' !== Settings::get( 'publish_rule' ) ) {
			$message = __( 'Items are chosen by hand only under the rule “These POS items” (WooCommerce → Settings → POS Sync); nothing was changed.', 'pos-sync' );
		} else {
			$n       = self::pick( $keys, 'pos_sync_pick' === $action );
			$message = 'pos_sync_pick' === $action
				/* translators: %d: number of items */
				? sprintf( _n( '%d item will be published at the next run.', '%d items will be published at the next run.', $n, 'pos-sync' ), $n )
				/* translators: %d: number of items */
				: sprintf( _n( '%d item will be hidden from the web at the next run.', '%d items will be hidden from the web at the next run.', $n, 'pos-sync' ), $n );
		}
		set_transient( self::NOTICE . get_current_user_id(), $message, MINUTE_IN_SECONDS );
		wp_safe_redirect( remove_query_arg( array( 'action', 'action2', 'pos_key', '_wpnonce', '_wp_http_referer' ), wp_get_referer() ? wp_get_referer() : admin_url( 'edit.php?post_type=product&page=' . self::SLUG ) ) );
		exit;
	}

	/**
	 * Renders Products → POS items.
	 */
	public static function render(): void {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			wp_die( esc_html__( 'You are not allowed to see the POS items.', 'pos-sync' ), '', array( 'response' => 403 ) );
		}
		require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';
		$table = new CatalogueTable();
		$table->prepare_items();
		$notice = get_transient( self::NOTICE . get_current_user_id() );
		if ( false !== $notice ) {
			delete_transient( self::NOTICE . get_current_user_id() );
		}
		$rule = (string) Settings::get( 'publish_rule' );
		echo '<div class="wrap"><h1 class="wp-heading-inline">' . esc_html__( 'POS items', 'pos-sync' ) . '</h1><hr class="wp-header-end">';
		if ( false !== $notice ) {
			echo '<div class="notice notice-success is-dismissible" id="pos-sync-items-notice"><p>' . esc_html( (string) $notice ) . '</p></div>';
		}
		echo '<p id="pos-sync-items-rule">';
		if ( 'manual' === $rule ) {
			esc_html_e( 'Tick the items to publish and choose “Publish on the web”; “Stop publishing” hides their products (never deletes them). Changes reach the shop at the next run.', 'pos-sync' );
		} else {
			/* translators: %s: the publish rule in words */
			echo esc_html( sprintf( __( 'What is published follows the rule “%s”. To choose items by hand here, set the rule to “These POS items” in the settings.', 'pos-sync' ), self::rule_words( $rule ) ) );
		}
		echo ' <a href="' . esc_url( admin_url( 'admin.php?page=wc-settings&tab=pos_sync' ) ) . '">' . esc_html__( 'Settings', 'pos-sync' ) . '</a></p>';
		if ( ! Publisher::is_enabled() ) {
			echo '<div class="notice notice-warning inline"><p>' . esc_html__( 'Publishing is off: this list fills once it is on and a run has read the POS catalogue.', 'pos-sync' ) . '</p></div>';
		}
		echo '<form method="post"><input type="hidden" name="post_type" value="product"><input type="hidden" name="page" value="' . esc_attr( self::SLUG ) . '">';
		$table->views();
		$table->search_box( __( 'Search name, SKU or POS ID', 'pos-sync' ), 'pos-sync-items' );
		$table->display();
		echo '</form></div>';
	}

	/**
	 * A publish rule in words.
	 *
	 * @param string $rule Rule.
	 */
	public static function rule_words( string $rule ): string {
		switch ( $rule ) {
			case 'category':
				return __( 'Items in these POS categories (and below)', 'pos-sync' );
			case 'tag':
				return __( 'Items with these POS tags', 'pos-sync' );
			case 'manual':
				return __( 'These POS items', 'pos-sync' );
			default:
				return __( 'Items marked “Publish to eCom” in the POS', 'pos-sync' );
		}
	}

	/**
	 * Why a listing is or is not on the web, in words.
	 *
	 * @param array $row Catalogue row.
	 */
	public static function status_words( array $row ): string {
		if ( 'publish' === $row['visibility'] && (int) $row['product_id'] ) {
			return __( 'On the web', 'pos-sync' );
		}
		if ( 'publish' === $row['visibility'] ) {
			return __( 'Not on the web: its SKU belongs to another product (see the SKU conflicts in the settings)', 'pos-sync' );
		}
		if ( 'stock_only' === (string) $row['hidden_reason'] ) {
			return __( 'Your own product with this SKU: it gets the POS stock, the rest is left to you (not chosen by the publish rule)', 'pos-sync' );
		}
		$hidden = (int) $row['product_id'] ? __( 'Hidden on the web', 'pos-sync' ) : __( 'Not on the web', 'pos-sync' );
		switch ( (string) $row['hidden_reason'] ) {
			case 'archived':
				$why = __( 'archived in the POS', 'pos-sync' );
				break;
			case 'no_variants':
				$why = __( 'a matrix without variants', 'pos-sync' );
				break;
			case NoPrice::REASON:
				$why = NoPrice::reason_words();
				break;
			default:
				$why = __( 'not chosen by the publish rule', 'pos-sync' );
		}
		return $hidden . ': ' . $why;
	}
}
