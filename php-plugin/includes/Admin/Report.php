<?php
/**
 * The stock differences report: every product whose web stock differs from what the
 * formula says (web = POS base of the last reading + pending ledger, floored at 0) or
 * from the POS, with the reasons in words; the "Fix" action (a recheck of the items
 * and a sync now) and the dry run of a reconcile. Shared by the admin page and WP-CLI.
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Apply\NoPrice;
use PosSync\Apply\PosText;
use PosSync\Apply\Publisher;
use PosSync\Apply\StockApplier;
use PosSync\Jobs\Runner;
use PosSync\Store\Ledger;
use PosSync\Store\Log;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Computes the report rows and fixes them.
 */
final class Report {

	/**
	 * The last POS reading of a linked product: `{base, qoh, shop_qoh, read_from_ms,
	 * read_until_ms, at}`, stored by the Applier for every level it applies.
	 */
	public const READING_META = '_pos_sync_last_reading';

	/**
	 * Linked products read per query.
	 */
	private const CHUNK = 500;

	/**
	 * Stores the reading of a level (called by the Applier inside its transaction).
	 *
	 * @param int   $product_id Product or variation.
	 * @param array $level      Level of a stock event.
	 */
	public static function remember_reading( int $product_id, array $level ): void {
		$reading = array(
			'base'          => (int) round( (float) ( $level['base'] ?? 0 ) ),
			'qoh'           => isset( $level['qoh'] ) ? (int) $level['qoh'] : null,
			'shop_qoh'      => is_array( $level['shop_qoh'] ?? null ) ? array_map( 'intval', $level['shop_qoh'] ) : array(),
			'read_from_ms'  => max( 0, (int) ( $level['read_from_ms'] ?? 0 ) ),
			'read_until_ms' => isset( $level['read_until_ms'] ) ? (int) $level['read_until_ms'] : Ledger::now_ms(),
			'at'            => time(),
		);
		update_post_meta( $product_id, self::READING_META, $reading );
	}

	/**
	 * The last reading of a product, or null.
	 *
	 * @param int $product_id Product or variation.
	 */
	public static function reading( int $product_id ): ?array {
		$r = get_post_meta( $product_id, self::READING_META, true );
		return is_array( $r ) && isset( $r['base'] ) ? $r : null;
	}

	/**
	 * Not-yet-in-the-POS outbox rows per product: `product id => {rows, qty}` (qty signed:
	 * − ordered, + restocked).
	 *
	 * @param int[] $product_ids Products.
	 */
	private static function pending_rows( array $product_ids ): array {
		global $wpdb;
		if ( ! $product_ids ) {
			return array();
		}
		$outbox = Schema::outbox();
		$lines  = Schema::outbox_lines();
		$ids    = implode( ',', array_map( 'intval', $product_ids ) );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$rows = $wpdb->get_results( "SELECT l.product_id, COUNT( DISTINCT o.id ) AS n, SUM( l.qty ) AS qty FROM {$lines} l JOIN {$outbox} o ON o.id = l.outbox_id WHERE l.product_id IN ({$ids}) AND o.state NOT IN ('posted', 'cancelled') GROUP BY l.product_id", ARRAY_A );
		$out  = array();
		foreach ( (array) $rows as $row ) {
			$out[ (int) $row['product_id'] ] = array(
				'rows' => (int) $row['n'],
				'qty'  => (int) $row['qty'],
			);
		}
		return $out;
	}

	/**
	 * Items with a recheck request waiting for the next sync.
	 *
	 * @return array<string,bool>
	 */
	private static function rechecks(): array {
		return array_fill_keys( Ledger::recheck_item_ids( 100000 ), true );
	}

	/**
	 * Every difference, oldest product first: `{product_id, name, sku, item_id, web, expected,
	 * pos, kind, reasons[], fixable}`. `kind`: linked, unlinked, collision.
	 *
	 * @param int $limit Rows at most.
	 */
	public static function rows( int $limit = 1000 ): array {
		global $wpdb;
		$out      = array();
		$rechecks = self::rechecks();
		$last     = get_option( Runner::LAST_RUN_OPTION );
		$failed   = is_array( $last ) && empty( $last['ok'] ) && ! empty( $last['error'] ) ? $last : null;
		$after    = 0;
		do {
			$chunk = $wpdb->get_results(
				$wpdb->prepare(
					"SELECT pm.post_id, pm.meta_value AS item_id FROM {$wpdb->postmeta} pm JOIN {$wpdb->posts} p ON p.ID = pm.post_id
					 WHERE pm.meta_key = %s AND p.post_type IN ('product', 'product_variation') AND p.post_status <> 'trash' AND pm.post_id > %d
					 ORDER BY pm.post_id LIMIT %d",
					StockApplier::ITEM_META,
					$after,
					self::CHUNK
				),
				ARRAY_A
			);
			if ( ! $chunk ) {
				break;
			}
			$after    = (int) end( $chunk )['post_id'];
			$ids      = array_map( static fn( $r ) => (int) $r['post_id'], $chunk );
			$readings = array();
			foreach ( $ids as $id ) {
				$r = self::reading( $id );
				if ( $r ) {
					$readings[ $id ] = array( (int) $r['read_from_ms'], (int) $r['read_until_ms'] );
				}
			}
			$ledger  = Ledger::for_readings( $readings );
			$pending = self::pending_rows( $ids );
			foreach ( $chunk as $link ) {
				$row = self::linked_row( (int) $link['post_id'], (string) $link['item_id'], $ledger, $pending, $rechecks, $failed );
				if ( $row ) {
					$out[] = $row;
					if ( count( $out ) >= $limit ) {
						return $out;
					}
				}
			}
		} while ( count( $chunk ) === self::CHUNK );

		foreach ( self::collisions() as $row ) {
			$out[] = $row;
		}
		foreach ( self::unlinked( max( 0, $limit - count( $out ) ) ) as $row ) {
			$out[] = $row;
		}
		return array_slice( $out, 0, $limit );
	}

	/**
	 * The row of one linked product, or null when its stock is what it should be.
	 *
	 * @param int        $product_id Product.
	 * @param string     $item_id    POS item.
	 * @param array      $ledger     Ledger terms of the chunk.
	 * @param array      $pending    Pending rows of the chunk.
	 * @param array      $rechecks   Items waiting for a recheck.
	 * @param array|null $failed     The last sync when it failed.
	 */
	private static function linked_row( int $product_id, string $item_id, array $ledger, array $pending, array $rechecks, ?array $failed ): ?array {
		$product = wc_get_product( $product_id );
		if ( ! $product ) {
			return null;
		}
		$reading = self::reading( $product_id );
		$web     = $product->get_stock_quantity( 'edit' );
		$row     = array(
			'product_id' => $product_id,
			'name'       => $product->get_name(),
			'sku'        => (string) $product->get_sku( 'edit' ),
			'item_id'    => $item_id,
			'web'        => null === $web ? null : (int) $web,
			'expected'   => null,
			'pos'        => $reading ? (int) $reading['base'] : null,
			'read_at'    => $reading ? (int) $reading['at'] : null,
			'kind'       => 'linked',
			'reasons'    => array(),
			'fixable'    => true,
		);
		if ( true !== $product->get_manage_stock( 'edit' ) ) {
			$row['reasons'][] = __( 'Product not managing stock: WooCommerce → Inventory → “Track stock quantity” is off, so the POS figure cannot be written.', 'pos-sync' );
			$row['fixable']   = false;
			return $row;
		}
		$hidden = self::hidden_reason( $product );
		if ( ! $reading ) {
			$row['reasons'][] = __( 'Waiting for the next run: no POS reading of this item has been stored yet.', 'pos-sync' );
			if ( $hidden ) {
				$row['reasons'][] = $hidden;
			}
			return $row;
		}
		$row['expected'] = max( 0, (int) $reading['base'] + (int) ( $ledger[ $product_id ] ?? 0 ) );
		$pos_floor       = max( 0, (int) $reading['base'] );
		$wait            = $pending[ $product_id ] ?? null;
		if ( $row['web'] === $row['expected'] && ( ! $wait || $row['web'] === $pos_floor ) ) {
			return null;
		}
		$edit = get_post_meta( $product_id, StockApplier::EDIT_META, true );
		if ( is_array( $edit ) ) {
			$user             = ! empty( $edit['user_id'] ) ? get_userdata( (int) $edit['user_id'] ) : false;
			$row['reasons'][] = sprintf(
				/* translators: 1: date and time, 2: user login, 3: how (wp-admin, REST API…), 4: stock typed */
				__( 'Edited in WooCommerce at %1$s by %2$s (%3$s): stock set to %4$s; the POS wins at the next sync.', 'pos-sync' ),
				wp_date( 'Y-m-d H:i:s', (int) ( $edit['time'] ?? time() ) ),
				$user ? $user->user_login : __( 'an unknown user', 'pos-sync' ),
				(string) ( $edit['via'] ?? '' ),
				null === ( $edit['to'] ?? null ) ? '—' : (string) $edit['to']
			);
		}
		if ( $wait ) {
			$row['reasons'][] = sprintf(
				/* translators: 1: number of orders and refunds, 2: signed units */
				_n( '%1$d online order or refund not yet in the POS (%2$+d units held back or given back).', '%1$d online orders or refunds not yet in the POS (%2$+d units held back or given back).', $wait['rows'], 'pos-sync' ),
				$wait['rows'],
				$wait['qty']
			);
		}
		if ( $hidden ) {
			$row['reasons'][] = $hidden;
		}
		if ( $failed ) {
			$row['reasons'][] = sprintf(
				/* translators: 1: date and time, 2: cause */
				__( 'Last pull failed (%1$s): %2$s', 'pos-sync' ),
				wp_date( 'Y-m-d H:i:s', (int) $failed['finished_at'] ),
				(string) $failed['error']
			);
		}
		if ( isset( $rechecks[ $item_id ] ) || ! $row['reasons'] ) {
			$row['reasons'][] = __( 'Waiting for the next run: the item is read afresh at the next sync.', 'pos-sync' );
		}
		return $row;
	}

	/**
	 * A published listing the POS no longer offers (archived, not selected for the web, or
	 * without a price).
	 *
	 * @param \WC_Product $product Product.
	 */
	private static function hidden_reason( \WC_Product $product ): ?string {
		$owner = $product->get_parent_id() ? wc_get_product( $product->get_parent_id() ) : $product;
		if ( ! $owner || '' === (string) get_post_meta( $owner->get_id(), Publisher::KEY_META, true ) ) {
			return null;
		}
		if ( 'publish' !== $owner->get_status( 'edit' ) || 'hidden' === $owner->get_catalog_visibility( 'edit' ) || ( $product->get_parent_id() && 'publish' !== $product->get_status( 'edit' ) ) ) {
			if ( NoPrice::applies( $product ) ) {
				return NoPrice::explained();
			}
			return __( 'POS item archived or not published to the web: the listing is hidden, its stock is still kept.', 'pos-sync' );
		}
		return null;
	}

	/**
	 * SKU collisions reported by the publish flow.
	 */
	private static function collisions(): array {
		$out = array();
		foreach ( (array) get_option( Publisher::CONFLICTS_OPTION, array() ) as $key => $c ) {
			$c       = (array) $c;
			$product = ! empty( $c['product_id'] ) ? wc_get_product( (int) $c['product_id'] ) : false;
			$out[]   = array(
				'product_id' => (int) ( $c['product_id'] ?? 0 ),
				'name'       => $product ? $product->get_name() : (string) ( $c['name'] ?? '' ),
				'sku'        => PosText::sku( $c['sku'] ?? '' ),
				'item_id'    => '',
				'web'        => $product ? $product->get_stock_quantity( 'edit' ) : null,
				'expected'   => null,
				'pos'        => null,
				'read_at'    => null,
				'kind'       => 'collision',
				'reasons'    => array(
					sprintf(
						/* translators: 1: SKU, 2: POS listing key */
						__( 'SKU collision: the POS listing %2$s has SKU %1$s, which a product not linked to it already uses; left alone (POS Sync settings → Products with the same SKU).', 'pos-sync' ),
						PosText::sku( $c['sku'] ?? '' ),
						PosText::title( $key )
					),
				),
				'fixable'    => false,
			);
		}
		return $out;
	}

	/**
	 * Products managing stock that are linked to no POS item (created in WooCommerce only).
	 *
	 * @param int $limit Rows at most.
	 */
	private static function unlinked( int $limit ): array {
		global $wpdb;
		if ( $limit <= 0 ) {
			return array();
		}
		$ids = $wpdb->get_col(
			$wpdb->prepare(
				"SELECT p.ID FROM {$wpdb->posts} p
				 JOIN {$wpdb->postmeta} ms ON ms.post_id = p.ID AND ms.meta_key = '_manage_stock' AND ms.meta_value = 'yes'
				 LEFT JOIN {$wpdb->postmeta} li ON li.post_id = p.ID AND li.meta_key = %s
				 LEFT JOIN {$wpdb->postmeta} ky ON ky.post_id = p.ID AND ky.meta_key = %s
				 WHERE p.post_type IN ('product', 'product_variation') AND p.post_status NOT IN ('trash', 'auto-draft') AND li.meta_id IS NULL AND ky.meta_id IS NULL
				 ORDER BY p.ID LIMIT %d",
				StockApplier::ITEM_META,
				Publisher::KEY_META,
				$limit
			)
		);
		$out = array();
		foreach ( (array) $ids as $id ) {
			$product = wc_get_product( (int) $id );
			if ( ! $product || $product->is_type( 'variable' ) ) {
				continue;
			}
			$out[] = array(
				'product_id' => (int) $id,
				'name'       => $product->get_name(),
				'sku'        => (string) $product->get_sku( 'edit' ),
				'item_id'    => '',
				'web'        => $product->get_stock_quantity( 'edit' ),
				'expected'   => null,
				'pos'        => null,
				'read_at'    => null,
				'kind'       => 'unlinked',
				'reasons'    => array( '' === (string) $product->get_sku( 'edit' ) ? __( 'Not linked: created in WooCommerce only, and without a SKU it cannot be matched to a POS item.', 'pos-sync' ) : __( 'Not linked: created in WooCommerce only; no POS item with this SKU has been read yet.', 'pos-sync' ) ),
				'fixable'    => false,
			);
		}
		return $out;
	}

	/**
	 * What a reconcile would change, from the last POS readings, without changing anything:
	 * `[{product_id, name, sku, item_id, from, to}]`.
	 */
	public static function dry_run(): array {
		$out = array();
		foreach ( self::rows( 100000 ) as $row ) {
			if ( 'linked' === $row['kind'] && null !== $row['expected'] && $row['web'] !== $row['expected'] ) {
				$out[] = array(
					'product_id' => $row['product_id'],
					'name'       => $row['name'],
					'sku'        => $row['sku'],
					'item_id'    => $row['item_id'],
					'from'       => $row['web'],
					'to'         => $row['expected'],
				);
			}
		}
		return $out;
	}

	/**
	 * Fix: asks for a fresh reading of the items (all differences when none given) and runs
	 * a sync now. Returns `{items: [...], run: runner result}`.
	 *
	 * @param string[]|null $item_ids Items, or null for every fixable row.
	 */
	public static function fix( ?array $item_ids = null ): array {
		if ( null === $item_ids ) {
			$item_ids = array();
			foreach ( self::rows( 100000 ) as $row ) {
				if ( $row['fixable'] && '' !== $row['item_id'] ) {
					$item_ids[] = $row['item_id'];
				}
			}
		}
		$item_ids = array_values( array_unique( array_filter( array_map( 'strval', $item_ids ), 'strlen' ) ) );
		if ( $item_ids ) {
			Ledger::request_recheck( $item_ids );
		}
		Log::info( sprintf( /* translators: %s: POS item IDs */ __( 'Stock differences report: a fresh reading of item(s) %s was requested and a sync started.', 'pos-sync' ), $item_ids ? implode( ', ', $item_ids ) : '—' ) );
		return array(
			'items' => $item_ids,
			'run'   => Settings::is_configured() ? Runner::run( 'sync' ) : array(
				'ok'    => false,
				'error' => __( 'POS Sync is not connected yet (WooCommerce → Settings → POS Sync).', 'pos-sync' ),
			),
		);
	}
}
