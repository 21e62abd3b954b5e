<?php
/**
 * Applier: writes the stock the core computed, minus the pending ledger, one
 * transaction per event together with the cursor.
 *
 * @package PosSync
 */

namespace PosSync\Apply;

use PosSync\Admin\Report;
use PosSync\Store\Ledger;
use PosSync\Store\Log;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Applies `stock` events.
 */
final class StockApplier {

	public const ITEM_META       = '_pos_sync_item_id';
	public const LAST_STOCK_META = '_pos_sync_last_stock';
	public const EDIT_META       = '_pos_sync_stock_edit';
	public const NOTES_META      = '_pos_sync_notes';
	public const UNMATCHED       = 'pos_sync_unmatched';

	/**
	 * True while the applier itself writes stock (so its own writes are not taken for edits).
	 *
	 * @var bool
	 */
	private static bool $applying = false;

	/**
	 * Run id recorded in the stock log.
	 *
	 * @var string
	 */
	private string $run_id;

	/**
	 * POS items already reported as matching no product in this run.
	 *
	 * @var array<string,bool>
	 */
	private array $unmatched_reported = array();

	/**
	 * Items matching no product, kept for the admin.
	 *
	 * @var array
	 */
	private array $unmatched = array();

	/**
	 * Products written the light way in this event (post_modified and caches follow at its end).
	 *
	 * @var int[]
	 */
	private array $touched = array();

	/**
	 * Stock log rows of this event, inserted together at its end.
	 *
	 * @var array[]
	 */
	private array $log_rows = array();

	/**
	 * What this run did.
	 *
	 * @var array<string,int>
	 */
	public array $counts = array(
		'written'     => 0,
		'unchanged'   => 0,
		'overwritten' => 0,
		'unmanaged'   => 0,
		'unmatched'   => 0,
	);

	/**
	 * An applier for one run.
	 *
	 * @param string $run_id Run id.
	 */
	public function __construct( string $run_id ) {
		$this->run_id = $run_id;
	}

	/**
	 * Applies one stock event: every level and the cursor, all or nothing.
	 *
	 * @param array $event `{type: stock, levels: [{item_id, sku, base, read_from_ms, read_until_ms, …}], cursor}`.
	 * @throws \RuntimeException When the database refuses; everything is rolled back.
	 */
	public function apply_stock_event( array $event ): void {
		global $wpdb;
		$levels = array_values( array_filter( (array) ( $event['levels'] ?? array() ), 'is_array' ) );
		$links  = array();
		$wpdb->query( 'START TRANSACTION' );
		try {
			$this->apply_levels( $levels, $links );
			Ledger::clear_answered_rechecks( $levels );
			// A recheck reading ({"recheck": [ids]}) leaves the incremental cursor alone.
			if ( isset( $event['cursor'] ) && is_array( $event['cursor'] ) && ! array_key_exists( 'recheck', $event['cursor'] ) ) {
				Settings::store_cursor( $event['cursor'] );
			}
			$wpdb->query( 'COMMIT' );
		} catch ( \Throwable $e ) {
			$wpdb->query( 'ROLLBACK' );
			$this->touched  = array();
			$this->log_rows = array();
			// Caches (persistent ones too) may hold what was rolled back.
			foreach ( $links as $product_id ) {
				clean_post_cache( $product_id );
				\WC_Cache_Helper::invalidate_cache_group( 'product_' . $product_id );
			}
			wp_cache_delete( Settings::CURSORS_OPTION, 'options' );
			wp_cache_delete( 'alloptions', 'options' );
			throw $e;
		}
	}

	/**
	 * The reading window of a level: when its request was sent and answered. A level
	 * without one (an older core) is taken as read at an unknown earlier time, which
	 * counts every order and leaves out every restock already sent: web stock errs low.
	 *
	 * @param array $level Level.
	 * @return array{0:int,1:int}
	 */
	private static function reading( array $level ): array {
		$from  = max( 0, (int) ( $level['read_from_ms'] ?? 0 ) );
		$until = isset( $level['read_until_ms'] ) ? max( $from, (int) $level['read_until_ms'] ) : Ledger::now_ms();
		return array( $from, $until );
	}

	/**
	 * Writes the stock of some levels (max(0, base + ledger term)) inside the caller's
	 * open transaction; also used by the Publisher for the stock of new listings.
	 *
	 * @param array $levels Levels `{item_id, sku, base, read_from_ms?, read_until_ms?}`.
	 * @param array $links  Set to item id => product id (for the caller's cache cleanup).
	 * @param array $known  Item id => product id the caller already knows (not looked up).
	 * @throws \RuntimeException When the database refuses.
	 */
	public function apply_levels( array $levels, array &$links = array(), array $known = array() ): void {
		$buffer   = (int) Settings::get( 'safety_buffer' );
		$links    = $this->find_products( $levels, $known );
		$readings = array();
		foreach ( $levels as $level ) {
			$item_id = (string) ( $level['item_id'] ?? '' );
			if ( isset( $links[ $item_id ] ) ) {
				$readings[ $links[ $item_id ] ] = self::reading( $level );
			}
		}
		$ledger = Schema::pending_ledger( $readings );
		_prime_post_caches( array_values( $links ), true, true );
		try {
			foreach ( $levels as $level ) {
				$item_id = (string) ( $level['item_id'] ?? '' );
				if ( ! isset( $links[ $item_id ] ) ) {
					$this->report_unmatched( $level );
					continue;
				}
				$this->apply_level( $links[ $item_id ], $level, $ledger[ $links[ $item_id ] ] ?? 0, $buffer );
			}
			$this->flush_event();
		} catch ( \Throwable $e ) {
			$this->touched  = array();
			$this->log_rows = array();
			throw $e;
		}
	}

	/**
	 * Products (or variations) linked to the levels' items: by `_pos_sync_item_id`,
	 * else by SKU (then the link is stored).
	 *
	 * @param array $levels Levels.
	 * @param array $known  Item id => product id already known.
	 * @return array<string,int> item id => product id.
	 */
	private function find_products( array $levels, array $known = array() ): array {
		global $wpdb;
		$links    = array_map( 'intval', $known );
		$item_ids = array_values( array_diff( array_unique( array_filter( array_map( static fn( $l ) => (string) ( $l['item_id'] ?? '' ), $levels ), 'strlen' ) ), array_map( 'strval', array_keys( $links ) ) ) );
		if ( $item_ids ) {
			$placeholders = implode( ',', array_fill( 0, count( $item_ids ), '%s' ) );
			$rows         = $wpdb->get_results(
				$wpdb->prepare(
					// phpcs:ignore WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare, WordPress.DB.PreparedSQL.InterpolatedNotPrepared
					"SELECT pm.meta_value AS item_id, pm.post_id FROM {$wpdb->postmeta} pm JOIN {$wpdb->posts} p ON p.ID = pm.post_id
					 WHERE pm.meta_key = %s AND pm.meta_value IN ({$placeholders}) AND p.post_type IN ('product', 'product_variation') AND p.post_status <> 'trash'",
					array_merge( array( self::ITEM_META ), $item_ids )
				),
				ARRAY_A
			);
			foreach ( (array) $rows as $row ) {
				$links[ (string) $row['item_id'] ] = (int) $row['post_id'];
			}
		}
		foreach ( $levels as $level ) {
			$item_id = (string) ( $level['item_id'] ?? '' );
			// Cleaned as a published SKU is (PosText), so the two flows match the same product.
			$sku     = PosText::sku( $level['sku'] ?? '' );
			if ( '' === $item_id || isset( $links[ $item_id ] ) || '' === $sku ) {
				continue;
			}
			$product_id = (int) wc_get_product_id_by_sku( $sku );
			if ( ! $product_id ) {
				continue;
			}
			$linked_to = (string) get_post_meta( $product_id, self::ITEM_META, true );
			if ( '' !== $linked_to && $linked_to !== $item_id ) {
				Log::warning( sprintf( /* translators: 1: POS item ID, 2: SKU, 3: product ID, 4: other POS item ID */ __( 'POS item %1$s has SKU %2$s, but product #%3$d with that SKU is linked to POS item %4$s; left alone.', 'pos-sync' ), $item_id, $sku, $product_id, $linked_to ) );
				continue;
			}
			update_post_meta( $product_id, self::ITEM_META, $item_id );
			$links[ $item_id ] = $product_id;
		}
		if ( $links ) {
			// Lock the stock rows so a checkout's stock change waits for this transaction.
			$wpdb->query( "SELECT meta_id FROM {$wpdb->postmeta} WHERE post_id IN (" . implode( ',', array_map( 'intval', $links ) ) . ") AND meta_key = '_stock' FOR UPDATE" ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
		}
		return $links;
	}

	/**
	 * Writes one product's stock: max(0, base + ledger).
	 *
	 * @param int   $product_id Product or variation.
	 * @param array $level      Level from the core.
	 * @param int   $ledger     Signed ledger term of the product for this reading.
	 * @param int   $buffer     Safety buffer in force (already inside `base`; recorded for the audit).
	 */
	private function apply_level( int $product_id, array $level, int $ledger, int $buffer ): void {
		global $wpdb;
		$product = wc_get_product( $product_id );
		if ( ! $product ) {
			return;
		}
		Report::remember_reading( $product_id, $level ); // The report's "what the POS said".
		// A variation whose stock is the parent's ("parent") does not manage its own.
		if ( true !== $product->get_manage_stock( 'edit' ) ) {
			++$this->counts['unmanaged'];
			return;
		}
		$base    = (int) round( (float) ( $level['base'] ?? 0 ) );
		$target  = max( 0, $base + $ledger );
		$pending = -$ledger; // held back for online orders (net of restocking refunds), as logged.
		$current = $product->get_stock_quantity( 'edit' );
		$last    = get_post_meta( $product_id, self::LAST_STOCK_META, true );
		$edit    = get_post_meta( $product_id, self::EDIT_META, true );

		if ( null !== $current && (float) $current === (float) $target ) {
			++$this->counts['unchanged'];
			if ( (string) $target !== (string) $last ) {
				update_post_meta( $product_id, self::LAST_STOCK_META, (string) $target );
			}
			if ( $edit ) {
				delete_post_meta( $product_id, self::EDIT_META );
			}
			return;
		}

		// The figure moved since our last write. With an edit record (wp-admin, REST, import:
		// recorded by record_stock_edit) someone typed it: logged and noted on the product.
		// Without one it was an order, a refund or a direct write: logged only, since
		// checkouts move stock all day and the pending ledger already accounts for them.
		$moved     = '' !== (string) $last && null !== $current && (float) $current !== (float) $last;
		$overwrote = $moved && is_array( $edit );
		if ( $overwrote ) {
			$this->note_overwrite( $product, (int) $last, (int) $current, $target, $edit );
			++$this->counts['overwritten'];
		} elseif ( $moved ) {
			Log::info( sprintf( /* translators: 1: product ID, 2: SKU, 3: stock written last, 4: stock now, 5: new stock, 6: POS figure, 7: pending online quantity */ __( 'Stock of product #%1$d (SKU %2$s) moved from %3$s to %4$s in WooCommerce since the last sync (orders, refunds or direct writes); set to %5$d (POS %6$d − pending %7$d).', 'pos-sync' ), $product_id, $product->get_sku() ? $product->get_sku() : '—', (string) $last, (string) $current, $target, $base, $pending ) );
		}

		$this->write_stock( $product, $target );
		update_post_meta( $product_id, self::LAST_STOCK_META, (string) $target );
		if ( $edit ) {
			delete_post_meta( $product_id, self::EDIT_META );
		}
		$this->log_rows[] = $wpdb->prepare(
			'(%d, %s, ' . ( null === $current ? 'NULL' : '%d' ) . ', %d, %d, %d, %d, %d, %s, %s)',
			array_merge(
				array( $product_id, (string) ( $level['item_id'] ?? '' ) ),
				null === $current ? array() : array( (int) $current ),
				array( $target, $base, $pending, $buffer, $overwrote ? 1 : 0, $this->run_id, current_time( 'mysql', true ) )
			)
		);
		++$this->counts['written'];
	}

	/**
	 * Writes a stock figure as WooCommerce's own wc_update_product_stock() does, without
	 * a full product save when nothing but the quantity changes:
	 * - the figure: WooCommerce's direct write, lookup-table update and stock hooks
	 *   (wc_update_product_stock with $updating = true);
	 * - the stock status derived from it (validate_props, as save() does): when it
	 *   changes, the full save() runs (terms, lookup table, status hooks, parent sync);
	 * - otherwise what save() leaves behind for an unchanged product: post_modified,
	 *   post and product cache invalidation. The shared stock transients are cleared
	 *   once per event (flush_event).
	 *
	 * @param \WC_Product $product Product managing its own stock.
	 * @param int         $target  New stock.
	 */
	private function write_stock( \WC_Product $product, int $target ): void {
		global $wpdb;
		self::$applying = true;
		try {
			wc_update_product_stock( $product, $target, 'set', true );
			$product->validate_props();
			if ( $product->get_changes() ) {
				$product->save();
			} else {
				$this->touched[ $product->get_id() ] = (int) $product->get_parent_id( 'edit' );
			}
		} finally {
			self::$applying = false;
		}
	}

	/**
	 * End of an event: what save() would have left for the light writes (post_modified,
	 * post and product caches, the shop-wide stock transients), and the audit rows.
	 *
	 * @throws \RuntimeException When the audit rows cannot be written.
	 */
	private function flush_event(): void {
		global $wpdb;
		if ( $this->touched ) {
			$ids = implode( ',', array_map( 'intval', array_keys( $this->touched ) ) );
			$wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->posts} SET post_modified = %s, post_modified_gmt = %s WHERE ID IN ({$ids})", current_time( 'mysql' ), current_time( 'mysql', true ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			foreach ( $this->touched as $id => $parent_id ) {
				clean_post_cache( $id );
				\WC_Cache_Helper::invalidate_cache_group( 'product_' . $id );
				if ( $parent_id ) {
					\WC_Cache_Helper::invalidate_cache_group( 'product_' . $parent_id );
				}
			}
			wc_delete_product_transients();
			$this->touched = array();
		}
		if ( $this->log_rows ) {
			$table = Schema::stock_log();
			$ok    = $wpdb->query( "INSERT INTO {$table} (product_id, item_id, from_qty, to_qty, pos_base, pending, safety_buffer, overwrote_edit, run_id, created_at) VALUES " . implode( ',', $this->log_rows ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.PreparedSQL.NotPrepared
			$this->log_rows = array();
			if ( false === $ok ) {
				throw new \RuntimeException( 'stock log: ' . $wpdb->last_error );
			}
		}
	}

	/**
	 * Logs and notes that a WooCommerce stock figure was overwritten by the POS figure.
	 *
	 * @param \WC_Product $product Product.
	 * @param int         $last    What the sync wrote last.
	 * @param int         $current What WooCommerce shows now.
	 * @param int         $target  What the POS says.
	 * @param array       $edit    Who changed it, how and when.
	 */
	private function note_overwrite( \WC_Product $product, int $last, int $current, int $target, array $edit ): void {
		$user = ! empty( $edit['user_id'] ) ? get_userdata( (int) $edit['user_id'] ) : false;
		$who  = sprintf(
			/* translators: 1: user login or "an unknown user", 2: how (admin, REST API…), 3: date and time */
			__( '%1$s (%2$s) at %3$s', 'pos-sync' ),
			$user ? $user->user_login : __( 'an unknown user', 'pos-sync' ),
			(string) ( $edit['via'] ?? '' ),
			wp_date( 'Y-m-d H:i:s', (int) ( $edit['time'] ?? time() ) )
		);
		$message = sprintf(
			/* translators: 1: product name, 2: SKU, 3: stock typed in WooCommerce, 4: who, 5: stock the sync wrote before, 6: new stock from the POS */
			__( 'Stock of “%1$s” (SKU %2$s) was changed to %3$d by %4$s (the sync had set %5$d); the POS wins, so it is now %6$d.', 'pos-sync' ),
			$product->get_name(),
			$product->get_sku() ? $product->get_sku() : '—',
			$current,
			$who,
			$last,
			$target
		);
		Log::warning( $message );
		$owner = $product->get_parent_id() ? $product->get_parent_id() : $product->get_id();
		$notes = get_post_meta( $owner, self::NOTES_META, true );
		$notes = is_array( $notes ) ? $notes : array();
		array_unshift(
			$notes,
			array(
				'time'    => time(),
				'message' => PosText::note( $message ),
			)
		);
		update_post_meta( $owner, self::NOTES_META, array_slice( $notes, 0, 20 ) );
	}

	/**
	 * An item that matches no product: said once per run, kept for the admin.
	 *
	 * @param array $level Level.
	 */
	private function report_unmatched( array $level ): void {
		$item_id = (string) ( $level['item_id'] ?? '' );
		++$this->counts['unmatched'];
		$this->unmatched[ $item_id ] = array(
			'sku'  => PosText::sku( $level['sku'] ?? '' ),
			'base' => (int) ( $level['base'] ?? 0 ),
			'seen' => time(),
		);
		if ( isset( $this->unmatched_reported[ $item_id ] ) ) {
			return;
		}
		$this->unmatched_reported[ $item_id ] = true;
		Log::info( sprintf( /* translators: 1: POS item ID, 2: SKU, 3: POS stock */ __( 'POS item %1$s (SKU %2$s) matches no WooCommerce product; its stock (%3$d) is kept in the unmatched list until a product has that SKU.', 'pos-sync' ), $item_id, '' !== (string) ( $level['sku'] ?? '' ) ? (string) $level['sku'] : '—', (int) ( $level['base'] ?? 0 ) ) );
	}

	/**
	 * End of run: stores the unmatched items (bounded).
	 */
	public function finish(): void {
		if ( ! $this->unmatched ) {
			return;
		}
		$all = (array) get_option( self::UNMATCHED, array() );
		$all = array_slice( $this->unmatched + $all, 0, 500, true );
		update_option( self::UNMATCHED, $all, false );
		$this->unmatched = array();
	}

	/**
	 * Remembers who changed a linked product's stock in WooCommerce (admin, REST, import).
	 * Hooked on woocommerce_product_object_updated_props; the sync's own writes do not pass here.
	 *
	 * @param \WC_Product $product Product.
	 * @param array       $props   Props that changed.
	 */
	public static function record_stock_edit( $product, $props ): void {
		if ( self::$applying || ! $product instanceof \WC_Product || ! in_array( 'stock_quantity', (array) $props, true ) ) {
			return;
		}
		$item_id = (string) get_post_meta( $product->get_id(), self::ITEM_META, true );
		if ( '' === $item_id ) {
			return;
		}
		// The POS did not change, so the incremental pull would not bring this item back:
		// ask the next sync to read it afresh and overwrite the typed figure.
		Ledger::request_recheck( array( $item_id ) );
		if ( defined( 'REST_REQUEST' ) && REST_REQUEST ) {
			$via = __( 'REST API', 'pos-sync' );
		} elseif ( defined( 'WP_CLI' ) && WP_CLI ) {
			$via = __( 'WP-CLI', 'pos-sync' );
		} elseif ( wp_doing_ajax() || is_admin() ) {
			$via = __( 'wp-admin', 'pos-sync' );
		} else {
			$via = __( 'code', 'pos-sync' );
		}
		update_post_meta(
			$product->get_id(),
			self::EDIT_META,
			array(
				'user_id' => get_current_user_id(),
				'time'    => time(),
				'to'      => $product->get_stock_quantity( 'edit' ),
				'via'     => $via,
			)
		);
	}
}
