<?php
/**
 * Publisher: applies `product` events (docs/PROTOCOL.md) — POS items become
 * WooCommerce listings. Images are downloaded first; then each listing and its
 * cursor are written in one transaction, only the field groups whose
 * fingerprint moved, never the fields the merchant owns in WooCommerce.
 *
 * @package PosSync
 */

namespace PosSync\Apply;

use PosSync\Jobs\Runner;
use PosSync\Store\Catalogue;
use PosSync\Store\Log;
use PosSync\Store\Lookups;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Creates and updates products and variations from listings.
 */
final class Publisher {

	public const KEY_META         = '_pos_sync_key';
	public const PRINTS_META      = '_pos_sync_fingerprints';
	public const PRINT_META       = '_pos_sync_fingerprint';
	public const CONFLICTS_OPTION = 'pos_sync_sku_conflicts';
	public const LINKED_OPTION    = 'pos_sync_sku_linked';
	public const PROGRESS_OPTION  = 'pos_sync_publish_progress';
	public const PLAN_OPTION      = 'pos_sync_publish_plan';
	public const TERMS_OPTION     = 'pos_sync_terms_to_count';

	/**
	 * Fields the merchant may keep for WooCommerce: setting value => label.
	 */
	public static function ownable_fields(): array {
		return array(
			'name'              => __( 'Title', 'pos-sync' ),
			'description'       => __( 'Description', 'pos-sync' ),
			'short_description' => __( 'Short description', 'pos-sync' ),
			'images'            => __( 'Images', 'pos-sync' ),
			'categories'        => __( 'Categories', 'pos-sync' ),
			'price'             => __( 'Prices', 'pos-sync' ),
			'dimensions'        => __( 'Weight and dimensions', 'pos-sync' ),
			'tax'               => __( 'Tax status and tax class', 'pos-sync' ),
		);
	}

	/**
	 * The stock applier of the run (its ledger path writes the stock of new listings).
	 *
	 * @var StockApplier
	 */
	private StockApplier $applier;

	/**
	 * When the run started (ms): the POS figures in its listings were read after it.
	 *
	 * @var int
	 */
	private int $read_from_ms;

	/**
	 * Image keys of the current listing that could not be downloaded: their field group
	 * is not recorded as applied, so the next event of the listing tries them again.
	 *
	 * @var array<string,bool>
	 */
	private array $missing_images = array();

	/**
	 * Highest PHP memory peak of one listing in this run (bytes), and listings since the
	 * in-memory object cache was last emptied (it would grow with every product).
	 *
	 * @var int
	 */
	private int $peak_bytes = 0;

	/**
	 * Listings applied since the runtime object cache was emptied.
	 *
	 * @var int
	 */
	private int $since_flush = 0;

	/**
	 * Posts written in the open transaction (caches cleaned on rollback).
	 *
	 * @var int[]
	 */
	private array $written = array();

	/**
	 * Meta key => (value => product id) for the listing key and item links, each read
	 * once per run: postmeta has no index on values, so one lookup per listing would
	 * scan every row of that key (an import slowing as it grows).
	 *
	 * @var array<string,array<string,int>>
	 */
	private array $index = array();

	/**
	 * Category terms whose product counts this run changed (counted once at its end).
	 *
	 * @var array<int,bool>
	 */
	private array $terms = array();

	/**
	 * Term counting is deferred to the end of the run.
	 *
	 * @var bool
	 */
	private bool $deferring = false;

	/**
	 * What this run did.
	 *
	 * @var array<string,int>
	 */
	public array $counts = array(
		'created'    => 0,
		'updated'    => 0,
		'unchanged'  => 0,
		'hidden'     => 0,
		'not_listed' => 0,
		'conflicts'  => 0,
		'linked'     => 0,
		'images'     => 0,
	);

	/**
	 * A publisher for one run.
	 *
	 * @param string       $run_id       Run id (for the stock log when no applier is given).
	 * @param StockApplier|null $applier      The run's stock applier.
	 * @param int|null     $read_from_ms When the run started (default: now).
	 */
	public function __construct( string $run_id, ?StockApplier $applier = null, ?int $read_from_ms = null ) {
		$this->applier      = $applier ?? new StockApplier( $run_id );
		$this->read_from_ms = $read_from_ms ?? (int) floor( microtime( true ) * 1000 );
	}

	// ------------------------------------------------------------------ settings

	/**
	 * Defaults of the publish settings (inside pos_sync_settings).
	 */
	public static function setting_defaults(): array {
		return array(
			'publish_enabled' => 'no',
			'publish_rule'    => 'ecom_flag',
			'publish_ids'     => '',
			'price_level'     => 'default',
			'hidden_mode'     => 'draft',
			'owned_fields'    => array(),
			'link_by_sku'     => 'no',
			'tax_class_map'   => array(),
		) + NoPrice::setting_defaults();
	}

	/**
	 * A publish pass is under way: none has started yet, or the stored cursor is in the
	 * middle of one (it carries `pass` until the pass catches up).
	 */
	public static function pass_under_way(): bool {
		$cursor = Settings::cursors()['publish'] ?? null;
		return ! is_array( $cursor ) || ! empty( $cursor['pass'] );
	}

	/**
	 * Publishing is switched on and the connection is configured.
	 */
	public static function is_enabled(): bool {
		return 'yes' === Settings::get( 'publish_enabled' ) && Settings::is_configured();
	}

	/**
	 * Validates the posted publish settings into $new (only when the form had them).
	 *
	 * @param array    $posted Unslashed form values.
	 * @param array    $new    Settings being saved.
	 * @param string[] $errors Errors to show.
	 */
	public static function validate_settings( array $posted, array &$new, array &$errors ): void {
		if ( isset( $posted['tax_class_map'] ) && is_array( $posted['tax_class_map'] ) ) {
			$new['tax_class_map'] = self::validate_tax_map( $posted['tax_class_map'], (array) ( $new['tax_class_map'] ?? array() ), $errors );
		}
		if ( ! isset( $posted['publish_rule'] ) ) {
			return; // The form did not carry the publish section.
		}
		$old_rule = (string) ( $new['publish_rule'] ?? '' );
		$old_ids  = (string) ( $new['publish_ids'] ?? '' );
		$choice                 = static function ( string $key, array $allowed ) use ( $posted, $new, &$errors ): string {
			$value = (string) ( $posted[ $key ] ?? '' );
			if ( in_array( $value, $allowed, true ) ) {
				return $value;
			}
			if ( '' !== $value ) {
				/* translators: 1: setting key, 2: the value posted, 3: the values allowed */
				$errors[] = sprintf( __( '%1$s: “%2$s” is not one of %3$s; the previous value is kept.', 'pos-sync' ), $key, $value, implode( ', ', $allowed ) );
			}
			return (string) ( $new[ $key ] ?? self::setting_defaults()[ $key ] );
		};
		$new['publish_enabled'] = $choice( 'publish_enabled', array( 'yes', 'no' ) );
		$new['publish_rule']    = $choice( 'publish_rule', array( 'ecom_flag', 'category', 'tag', 'manual' ) );
		$new['price_level']     = $choice( 'price_level', array( 'default', 'online' ) );
		NoPrice::validate_settings( $posted, $new, $errors );
		$new['hidden_mode']     = $choice( 'hidden_mode', array( 'draft', 'hidden' ) );
		$new['link_by_sku']     = $choice( 'link_by_sku', array( 'yes', 'no' ) );
		$owned                  = $posted['owned_fields'] ?? array();
		$owned                  = is_array( $owned ) ? $owned : explode( ',', (string) $owned );
		$owned                  = array_filter( array_map( 'trim', array_map( 'strval', $owned ) ), 'strlen' );
		$new['owned_fields']    = array_values( array_intersect( array_keys( self::ownable_fields() ), $owned ) );
		if ( array_diff( $owned, $new['owned_fields'] ) ) {
			/* translators: 1: fields posted that are unknown, 2: the fields that can be kept */
			$errors[] = sprintf( __( 'Fields kept in WooCommerce: “%1$s” is not one of %2$s; it was left out.', 'pos-sync' ), implode( ', ', array_diff( $owned, $new['owned_fields'] ) ), implode( ', ', array_keys( self::ownable_fields() ) ) );
		}

		$list = array_values( array_filter( array_map( 'trim', explode( ',', sanitize_text_field( (string) ( $posted['publish_ids'] ?? '' ) ) ) ), 'strlen' ) );
		if ( in_array( $new['publish_rule'], array( 'category', 'manual' ), true ) ) {
			$bad = array_filter( $list, static fn( $v ) => ! preg_match( '/^(matrix:)?\d+$/', $v ) || ( 'category' === $new['publish_rule'] && str_starts_with( $v, 'matrix:' ) ) );
			if ( $bad ) {
				/* translators: %s: values that were typed */
				$errors[] = sprintf( __( 'POS ids must be numbers separated by commas (a matrix as matrix:ID); “%s” was not saved.', 'pos-sync' ), implode( ', ', $bad ) );
				$list     = array_values( array_diff( $list, $bad ) );
			}
		}
		if ( 'manual' === $new['publish_rule'] && 'manual' === ( $old_rule ?? '' ) ) {
			// Typed picks: the listings that moved are planned again at the next run.
			$norm  = static fn( array $ids ) => array_map( static fn( $v ) => str_starts_with( $v, 'matrix:' ) ? $v : 'item:' . $v, $ids );
			$was   = $norm( array_values( array_filter( array_map( 'trim', explode( ',', (string) $old_ids ) ), 'strlen' ) ) );
			$now   = $norm( $list );
			$moved = array_merge( array_diff( $now, $was ), array_diff( $was, $now ) );
			if ( $moved ) {
				Catalogue::queue_replan( $moved );
			}
		}
		$new['publish_ids'] = implode( ',', $list );
		if ( 'ecom_flag' !== $new['publish_rule'] && ! $list ) {
			$errors[] = 'manual' === $new['publish_rule']
				? __( 'No POS item is chosen yet: pick them in Products → POS items (filled at the next run) or type their IDs here; until then nothing new is published.', 'pos-sync' )
				: __( 'The publish rule needs at least one category ID, tag or item ID; until then nothing new is published.', 'pos-sync' );
		}
	}

	/**
	 * WooCommerce's tax classes: slug => name, the Standard rate as ''.
	 *
	 * @return array<string,string>
	 */
	public static function woo_tax_classes(): array {
		$out = array( '' => __( 'Standard rate', 'pos-sync' ) );
		if ( class_exists( '\WC_Tax' ) ) {
			foreach ( \WC_Tax::get_tax_rate_classes() as $class ) {
				$out[ (string) $class->slug ] = (string) $class->name;
			}
		}
		return $out;
	}

	/**
	 * Checks a posted POS tax class => WooCommerce tax class map.
	 *
	 * @param array    $posted POS taxClassID => WooCommerce slug ('' = Standard rate).
	 * @param array    $old    The saved map (kept for a bad row).
	 * @param string[] $errors Errors to show.
	 * @return array<string,string>
	 */
	public static function validate_tax_map( array $posted, array $old, array &$errors ): array {
		$woo = self::woo_tax_classes();
		$map = $old;
		foreach ( $posted as $pos_id => $slug ) {
			$pos_id = trim( (string) $pos_id );
			$slug   = sanitize_title( (string) $slug );
			if ( ! preg_match( '/^\d+$/', $pos_id ) ) {
				/* translators: %s: the value that was posted */
				$errors[] = sprintf( __( 'POS tax class IDs are whole numbers (got “%s”); that row was not saved.', 'pos-sync' ), $pos_id );
				continue;
			}
			if ( ! array_key_exists( $slug, $woo ) ) {
				/* translators: 1: WooCommerce tax class, 2: POS tax class ID, 3: the classes WooCommerce has */
				$errors[] = sprintf( __( 'WooCommerce has no tax class “%1$s” (for POS tax class %2$s); it has %3$s. The previous choice is kept.', 'pos-sync' ), $slug, $pos_id, implode( ', ', $woo ) );
				continue;
			}
			if ( '' === $slug ) {
				unset( $map[ $pos_id ] ); // The Standard rate is what an unmapped class gets.
			} else {
				$map[ $pos_id ] = $slug;
			}
		}
		ksort( $map );
		return $map;
	}

	/**
	 * The tax class map as saved, without classes WooCommerce no longer has (those
	 * fall back to the Standard rate, and the settings tab says so).
	 *
	 * @return array<string,string>
	 */
	public static function tax_class_map(): array {
		$woo = self::woo_tax_classes();
		$out = array();
		foreach ( (array) Settings::get( 'tax_class_map' ) as $pos_id => $slug ) {
			if ( '' !== (string) $slug && isset( $woo[ (string) $slug ] ) ) {
				$out[ (string) $pos_id ] = (string) $slug;
			}
		}
		return $out;
	}

	/**
	 * The publish part of a job's settings (PROTOCOL.md, `publish` jobs).
	 */
	public static function job_settings(): array {
		$s    = Settings::all();
		$list = array_values( array_filter( array_map( 'trim', explode( ',', (string) $s['publish_ids'] ) ), 'strlen' ) );
		switch ( $s['publish_rule'] ) {
			case 'category':
				$rule = array(
					'by'  => 'category',
					'ids' => $list,
				);
				break;
			case 'tag':
				$rule = array(
					'by'    => 'tag',
					'names' => $list,
				);
				break;
			case 'manual':
				$rule = array(
					'by'         => 'manual',
					'item_ids'   => array_values( array_filter( $list, static fn( $v ) => ! str_starts_with( $v, 'matrix:' ) ) ),
					'matrix_ids' => array_values( array_map( static fn( $v ) => substr( $v, 7 ), array_filter( $list, static fn( $v ) => str_starts_with( $v, 'matrix:' ) ) ) ),
				);
				break;
			default:
				$rule = array( 'by' => 'ecom_flag' );
		}
		$weight    = (string) get_option( 'woocommerce_weight_unit', 'kg' );
		$dimension = (string) get_option( 'woocommerce_dimension_unit', 'cm' );
		return array(
			'publish_rule'         => $rule,
			'price_level'          => 'online' === $s['price_level'] ? 'online' : 'default',
			// Read when the level above has no price above 0; null: hide (PROTOCOL.md).
			'fallback_price_level' => NoPrice::job_setting(),
			'units'                => array(
				'weight'    => in_array( $weight, array( 'kg', 'g', 'lbs', 'oz' ), true ) ? $weight : 'kg',
				'dimension' => in_array( $dimension, array( 'm', 'cm', 'mm', 'in', 'yd' ), true ) ? $dimension : 'cm',
			),
			'owned_by_woo'         => self::owned_fields(),
			'tax_classes'          => (object) self::tax_class_map(),
		);
	}

	/**
	 * Starts a new pass over the whole catalogue when the settings the listings are
	 * planned from changed (rule, price level, units, owned fields, tax classes): every
	 * listing is planned again and only what changed is written.
	 *
	 * @return bool Whether a new pass was started.
	 */
	public static function restart_on_new_plan(): bool {
		$plan = self::job_settings();
		if ( 'manual' === ( $plan['publish_rule']['by'] ?? '' ) ) {
			// Picks by hand replan only the listings that moved (Catalogue::pick).
			$plan['publish_rule'] = array( 'by' => 'manual' );
		}
		$print = md5( (string) wp_json_encode( $plan ) );
		$was   = (string) get_option( self::PLAN_OPTION, '' );
		if ( $was === $print ) {
			return false;
		}
		update_option( self::PLAN_OPTION, $print, false );
		$cursors = Settings::cursors();
		if ( '' === $was || empty( $cursors['publish'] ) ) {
			return false; // The first pass, or one not begun: nothing to restart.
		}
		self::store_cursor( null );
		delete_option( self::PROGRESS_OPTION );
		Log::info( __( 'The publish settings changed: every POS listing is checked again; only what changed is written.', 'pos-sync' ) );
		return true;
	}

	/**
	 * Fields the merchant keeps for WooCommerce (setting).
	 *
	 * @return string[]
	 */
	public static function owned_fields(): array {
		return array_values( array_intersect( array_keys( self::ownable_fields() ), (array) Settings::get( 'owned_fields' ) ) );
	}

	/**
	 * Fields of the settings tab.
	 *
	 * @param callable $field Maps a key to its form name.
	 */
	public static function settings_fields( callable $field ): array {
		$s      = Settings::all();
		$fields = array(
			array(
				'title' => __( 'Publishing', 'pos-sync' ),
				'type'  => 'title',
				'desc'  => __( 'POS items chosen for the web become WooCommerce products; archiving or unpublishing an item in the POS hides its product, never deletes it.', 'pos-sync' ),
				'id'    => 'pos_sync_publish',
			),
			array(
				'type' => 'pos_sync_publish_status',
				'id'   => 'pos_sync_publish_status',
			),
			array(
				'title'   => __( 'Publish products from the POS', 'pos-sync' ),
				'id'      => $field( 'publish_enabled' ),
				'type'    => 'select',
				'value'   => $s['publish_enabled'],
				'options' => array(
					'no'  => __( 'No (stock only)', 'pos-sync' ),
					'yes' => __( 'Yes, every minute after the stock', 'pos-sync' ),
				),
			),
			array(
				'title'   => __( 'Which items are published', 'pos-sync' ),
				'id'      => $field( 'publish_rule' ),
				'type'    => 'select',
				'value'   => $s['publish_rule'],
				'options' => array(
					'ecom_flag' => __( 'Items marked “Publish to eCom” in the POS', 'pos-sync' ),
					'category'  => __( 'Items in these POS categories (and below)', 'pos-sync' ),
					'tag'       => __( 'Items with these POS tags', 'pos-sync' ),
					'manual'    => __( 'These POS items', 'pos-sync' ),
				),
			),
			array(
				'title'    => __( 'Category IDs, tags or item IDs', 'pos-sync' ),
				'id'       => $field( 'publish_ids' ),
				'type'     => 'text',
				'value'    => $s['publish_ids'],
				'css'      => 'min-width:420px;',
				'desc_tip' => __( 'Separated by commas, for the rule above. A matrix item as matrix:ID.', 'pos-sync' ),
			),
			array(
				'title'   => __( 'Regular price', 'pos-sync' ),
				'id'      => $field( 'price_level' ),
				'type'    => 'select',
				'value'   => $s['price_level'],
				'options' => array(
					'default' => __( 'POS Default price', 'pos-sync' ),
					'online'  => __( 'POS Online price (Default when it is missing)', 'pos-sync' ),
				),
			),
			NoPrice::settings_field( $field ),
		);
		$fields = array_merge( $fields, self::tax_fields( $field ) );
		array_push(
			$fields,
			array(
				'title'   => __( 'Items no longer published', 'pos-sync' ),
				'id'      => $field( 'hidden_mode' ),
				'type'    => 'select',
				'value'   => $s['hidden_mode'],
				'options' => array(
					'draft'  => __( 'Set the product to draft', 'pos-sync' ),
					'hidden' => __( 'Hide the product from the catalogue and search', 'pos-sync' ),
				),
			),
			array(
				'title'    => __( 'Fields kept in WooCommerce', 'pos-sync' ),
				'id'       => $field( 'owned_fields' ),
				'type'     => 'multiselect',
				'class'    => 'wc-enhanced-select',
				'value'    => self::owned_fields(),
				'options'  => self::ownable_fields(),
				'desc_tip' => __( 'Filled from the POS when the product is created, then left to you.', 'pos-sync' ),
			),
			array(
				'title'    => __( 'Products with the same SKU', 'pos-sync' ),
				'id'       => $field( 'link_by_sku' ),
				'type'     => 'select',
				'value'    => $s['link_by_sku'],
				'options'  => array(
					'no'  => __( 'Report them and leave them alone', 'pos-sync' ),
					'yes' => __( 'Link them to the POS item (and update them)', 'pos-sync' ),
				),
				'desc_tip' => __( 'A WooCommerce product that has the SKU of a POS item but is not linked to it yet.', 'pos-sync' ),
			),
			array(
				'type' => 'sectionend',
				'id'   => 'pos_sync_publish',
			)
		);
		return $fields;
	}

	/**
	 * One select per POS tax class (read with the other lists from the POS): the
	 * WooCommerce tax class its items get. Unmapped classes get the Standard rate; an
	 * item the POS does not tax is published with tax status “None”.
	 *
	 * @param callable $field Maps a key to its form name.
	 */
	public static function tax_fields( callable $field ): array {
		$woo    = self::woo_tax_classes();
		$map    = (array) Settings::get( 'tax_class_map' );
		$pos    = Lookups::rows( 'tax_classes' );
		$fields = array();
		if ( ! $pos && ! $map ) {
			return array(
				array(
					'title' => __( 'Tax classes', 'pos-sync' ),
					'type'  => 'info',
					'id'    => 'pos_sync_tax_note',
					'text'  => __( 'Every published item gets the Standard rate (or no tax when the POS does not tax it). Connect first (Test connection) to map each POS tax class to a WooCommerce tax class.', 'pos-sync' ),
				),
			);
		}
		$named = array();
		foreach ( $pos as $row ) {
			$named[ (string) $row['id'] ] = (string) $row['name'];
		}
		foreach ( array_keys( $map ) as $id ) {
			if ( ! isset( $named[ (string) $id ] ) ) {
				/* translators: %s: POS ID */
				$named[ (string) $id ] = sprintf( __( 'ID %s — not in the POS’s list', 'pos-sync' ), $id );
			}
		}
		foreach ( $named as $id => $name ) {
			$value   = (string) ( $map[ $id ] ?? '' );
			$options = $woo;
			if ( '' !== $value && ! isset( $options[ $value ] ) ) {
				/* translators: %s: tax class slug */
				$options[ $value ] = sprintf( __( '“%s” — no longer in WooCommerce: the Standard rate is used', 'pos-sync' ), $value );
			}
			$fields[] = array(
				/* translators: 1: POS tax class name, 2: its ID */
				'title'    => sprintf( __( 'POS tax class “%1$s” (ID %2$s)', 'pos-sync' ), $name, $id ),
				'id'       => $field( 'tax_class_map' ) . '[' . $id . ']',
				'type'     => 'select',
				'value'    => $value,
				'options'  => $options,
				'desc_tip' => __( 'The WooCommerce tax class of the products of this POS class. Items the POS does not tax get the tax status “None”.', 'pos-sync' ),
			);
		}
		return $fields;
	}

	/**
	 * Admin hooks of the publish part.
	 */
	public static function hooks(): void {
		add_action( 'woocommerce_admin_field_pos_sync_publish_status', array( self::class, 'output_status' ) );
	}

	/**
	 * The publish status row: progress, last run, SKU conflicts and links.
	 *
	 * @param array $field Field definition.
	 */
	public static function output_status( $field ): void {
		unset( $field );
		$p         = self::progress();
		$run       = ( (array) get_option( Runner::LAST_RUNS_OPTION, array() ) )['publish'] ?? null;
		$conflicts = (array) get_option( self::CONFLICTS_OPTION, array() );
		$linked    = (array) get_option( self::LINKED_OPTION, array() );
		?>
		<tr valign="top" id="pos-sync-publish-status">
			<th scope="row" class="titledesc"><?php esc_html_e( 'Status', 'pos-sync' ); ?></th>
			<td class="forminp">
				<p class="pos-sync-progress">
				<?php
				if ( ! $p ) {
					esc_html_e( 'Nothing published yet.', 'pos-sync' );
				} elseif ( ! empty( $p['finished'] ) ) {
					echo esc_html(
						sprintf(
							/* translators: 1: items read in the last pass, 2: items per second */
							__( 'Up to date: %1$s items read in the last pass (%2$s items/s).', 'pos-sync' ),
							number_format_i18n( (int) $p['done'] ),
							null === $p['rate'] ? '—' : number_format_i18n( (float) $p['rate'], 1 )
						)
					);
				} else {
					echo esc_html(
						sprintf(
							/* translators: 1: items done, 2: total, 3: items per second, 4: time left */
							__( '%1$s of %2$s items read; %3$s items/s; about %4$s left.', 'pos-sync' ),
							number_format_i18n( (int) $p['done'] ),
							null === $p['total'] ? '?' : number_format_i18n( (int) $p['total'] ),
							null === $p['rate'] ? '—' : number_format_i18n( (float) $p['rate'], 1 ),
							null === $p['seconds_left'] ? '—' : human_time_diff( time(), time() + max( 1, (int) $p['seconds_left'] ) )
						)
					);
				}
				?>
				</p>
				<?php if ( is_array( $run ) ) : ?>
					<p class="pos-sync-last-publish">
					<?php
					$c = (array) ( $run['summary']['published'] ?? array() );
					echo esc_html(
						sprintf(
							/* translators: 1: date and time, 2: ok or the error, 3-10: counts */
							__( 'Last run %1$s: %2$s — created %3$d, updated %4$d, unchanged %5$d, hidden %6$d, not listed %7$d, SKU conflicts %8$d, linked %9$d, images downloaded %10$d.', 'pos-sync' ),
							wp_date( 'Y-m-d H:i:s', (int) $run['finished_at'] ),
							! empty( $run['ok'] ) ? ( isset( $run['summary']['done'] ) && false === $run['summary']['done'] ? __( 'ok, continues at the next run', 'pos-sync' ) : __( 'ok', 'pos-sync' ) ) : (string) $run['error'],
							(int) ( $c['created'] ?? 0 ),
							(int) ( $c['updated'] ?? 0 ),
							(int) ( $c['unchanged'] ?? 0 ),
							(int) ( $c['hidden'] ?? 0 ),
							(int) ( $c['not_listed'] ?? 0 ),
							(int) ( $c['conflicts'] ?? 0 ),
							(int) ( $c['linked'] ?? 0 ),
							(int) ( $c['images'] ?? 0 )
						)
					);
					?>
					</p>
				<?php endif; ?>
				<?php foreach ( array( array( $conflicts, __( 'SKU conflicts (not overwritten):', 'pos-sync' ) ), array( $linked, __( 'Linked by SKU:', 'pos-sync' ) ) ) as list( $rows, $title ) ) : ?>
					<?php if ( $rows ) : ?>
						<p><strong><?php echo esc_html( $title ); ?></strong></p>
						<ul class="pos-sync-sku-list">
						<?php foreach ( array_slice( $rows, 0, 50, true ) as $key => $row ) : ?>
							<li><?php echo esc_html( sprintf( '%s — SKU %s — #%d %s', $key, (string) ( $row['sku'] ?? '' ), (int) ( $row['product_id'] ?? 0 ), (string) ( $row['name'] ?? '' ) ) ); ?></li>
						<?php endforeach; ?>
						</ul>
					<?php endif; ?>
				<?php endforeach; ?>
			</td>
		</tr>
		<?php
	}

	// ------------------------------------------------------------------ progress and cursor

	/**
	 * Stores a `progress` event of the publish flow with its rate and time left.
	 *
	 * @param array      $event `{flow: publish, done, total}`.
	 * @param float|null $since When the run that reports it started (unix seconds): a new
	 *                          pass is timed from there, its first page included.
	 */
	public static function record_progress( array $event, ?float $since = null ): void {
		$now   = microtime( true );
		$done  = (int) ( $event['done'] ?? 0 );
		$total = isset( $event['total'] ) ? (int) $event['total'] : null;
		$p     = (array) get_option( self::PROGRESS_OPTION, array() );
		$prev  = (int) ( $p['done'] ?? 0 );
		if ( ! $p || $done < $prev || ( ! empty( $p['finished'] ) && $done !== $prev ) ) {
			// A new pass (first import or the next changes).
			$p = array(
				'started_at' => null !== $since ? min( $since, $now ) : $now,
				'start_done' => null !== $since ? 0 : $done,
			);
		}
		$elapsed           = $now - (float) $p['started_at'];
		$rate              = $elapsed >= 1 ? ( $done - (int) $p['start_done'] ) / $elapsed : null;
		$p['done']         = $done;
		$p['total']        = $total;
		$p['at']           = time();
		$p['rate']         = null === $rate ? null : round( $rate, 2 );
		$p['finished']     = null !== $total && $done >= $total;
		$p['seconds_left'] = $p['finished'] ? 0 : ( null !== $total && $rate > 0 ? (int) ceil( ( $total - $done ) / $rate ) : null );
		update_option( self::PROGRESS_OPTION, $p, false );
	}

	/**
	 * Progress for the status page: done, total, rate (items/s), seconds_left; null before any.
	 */
	public static function progress(): ?array {
		$p = get_option( self::PROGRESS_OPTION );
		return is_array( $p ) && isset( $p['done'] ) ? $p : null;
	}

	/**
	 * Stores the publish cursor (opaque, sent back in `cursors.publish`).
	 *
	 * @param mixed $cursor Cursor from a product or cursor event.
	 */
	public static function store_cursor( $cursor ): void {
		$cursors            = Settings::cursors();
		$cursors['publish'] = $cursor;
		update_option( Settings::CURSORS_OPTION, $cursors, false );
	}

	// ------------------------------------------------------------------ applying a listing

	/**
	 * Applies one `product` event: images first, then the listing and its cursor in one
	 * transaction.
	 *
	 * @param array $event `{type: product, product: {...}, cursor}`.
	 * @throws \RuntimeException When WordPress or the database refuses; the listing is rolled back.
	 */
	public function apply_product_event( array $event ): void {
		// The one border: from here on every POS text of the listing is WooCommerce-clean.
		$l   = PosText::listing( is_array( $event['product'] ?? null ) ? $event['product'] : array() );
		$key = (string) ( $l['key'] ?? '' );
		if ( ! preg_match( '/^(item|matrix):\S+$/', $key ) || ! in_array( $l['type'] ?? '', array( 'simple', 'variable' ), true ) ) {
			/* translators: %s: listing key */
			throw new \RuntimeException( sprintf( __( 'a product event without a valid key and type (%s)', 'pos-sync' ), $key ) );
		}
		$owned = array_values( array_unique( array_merge( self::owned_fields(), array_map( 'strval', (array) ( $l['owned_by_woo'] ?? array() ) ) ) ) );
		if ( function_exists( 'memory_reset_peak_usage' ) ) {
			memory_reset_peak_usage();
		}
		try {
			$this->apply_listing( $event, $l, $key, $owned );
		} finally {
			$this->peak_bytes = max( $this->peak_bytes, memory_get_peak_usage() );
			if ( ++$this->since_flush >= 100 && function_exists( 'wp_cache_flush_runtime' ) ) {
				// Memory stays flat over a large import: the products written are not needed again.
				wp_cache_flush_runtime();
				$this->since_flush = 0;
			}
		}
	}

	/**
	 * What this run did, for the run summary (counts, and the PHP memory peak of a listing).
	 */
	public function summary(): array {
		return $this->counts + array( 'php_peak_mb' => round( $this->peak_bytes / 1048576, 1 ) );
	}

	/**
	 * Applies one listing (see apply_product_event).
	 *
	 * @param array  $event Event.
	 * @param array  $l     Listing.
	 * @param string $key   Listing key.
	 * @param array  $owned Fields the merchant owns.
	 * @throws \RuntimeException When WordPress or the database refuses; the listing is rolled back.
	 */
	private function apply_listing( array $event, array $l, string $key, array $owned ): void {
		global $wpdb;

		// Outside the transaction: which product, whether anything is to be done, the images.
		list( $product_id, $link ) = $this->find_listing( $l );
		if ( null === $link ) {
			Catalogue::record( $l, 0 );
			$this->commit_cursor_only( $event );
			return;
		}
		if ( ( ! $product_id || 'item' === $link ) && 'publish' !== ( $l['visibility'] ?? '' ) ) {
			// Not published and never was: nothing to create or hide. A product linked by the
			// stock flow only (the merchant's own) is not taken over to be hidden either.
			++$this->counts['not_listed'];
			Catalogue::record( 'item' === $link ? array( 'hidden_reason' => 'stock_only' ) + $l : $l, 'item' === $link ? $product_id : 0 );
			$this->commit_cursor_only( $event );
			return;
		}
		if ( $product_id && (string) get_post_meta( $product_id, self::PRINT_META, true ) === (string) ( $l['fingerprint'] ?? '' ) && '' !== (string) ( $l['fingerprint'] ?? '' ) ) {
			++$this->counts['unchanged'];
			Catalogue::record( $l, $product_id );
			$this->commit_cursor_only( $event );
			return;
		}
		$images               = array();
		$this->missing_images = array();
		if ( ! $product_id || ! in_array( 'images', $owned, true ) ) {
			$wanted = (array) ( $l['images'] ?? array() );
			foreach ( (array) ( $l['variations'] ?? array() ) as $v ) {
				if ( is_array( $v['image'] ?? null ) ) {
					$wanted[] = $v['image'];
				}
			}
			list( $images, $downloaded ) = Media::ensure( $wanted, $key, (string) ( $l['name'] ?? '' ) );
			$this->counts['images']     += $downloaded;
			$this->missing_images        = array();
			foreach ( $wanted as $image ) {
				$image_key = (string) ( $image['key'] ?? '' );
				if ( '' !== $image_key && ! isset( $images[ $image_key ] ) ) {
					$this->missing_images[ $image_key ] = true;
				}
			}
		}

		$wpdb->query( 'START TRANSACTION' );
		try {
			if ( 'linked' === $link ) {
				$this->report_linked( $l, $product_id );
			}
			if ( 'simple' === $l['type'] ) {
				$this->apply_simple( $l, $product_id, $owned, $images );
			} else {
				$this->apply_variable( $l, $product_id, $owned, $images );
			}
			Catalogue::record( $l, (int) ( $this->index[ self::KEY_META ][ $key ] ?? 0 ) ); // Set by link().
			if ( array_key_exists( 'cursor', $event ) ) {
				self::store_cursor( $event['cursor'] );
			}
			$wpdb->query( 'COMMIT' );
			$this->written = array();
		} catch ( \Throwable $e ) {
			$wpdb->query( 'ROLLBACK' );
			foreach ( $this->written as $id ) {
				clean_post_cache( $id );
				\WC_Cache_Helper::invalidate_cache_group( 'product_' . $id );
			}
			$this->written = array();
			$this->index   = array(); // Read again: a rolled-back product is not there.
			Taxonomies::forget();
			wp_cache_delete( Settings::CURSORS_OPTION, 'options' );
			wp_cache_delete( 'alloptions', 'options' );
			wc_delete_product_transients();
			/* translators: 1: listing key, 2: error */
			throw new \RuntimeException( sprintf( __( 'POS %1$s: %2$s', 'pos-sync' ), $key, $e->getMessage() ), 0, $e );
		}
	}

	/**
	 * Stores only the cursor of an event that writes nothing else (no write when unchanged).
	 *
	 * @param array $event Event.
	 */
	private function commit_cursor_only( array $event ): void {
		if ( array_key_exists( 'cursor', $event ) ) {
			self::store_cursor( $event['cursor'] );
		}
	}

	/**
	 * The product of a listing: by key, by item link, else by SKU (a conflict unless the
	 * link-by-SKU setting is on).
	 *
	 * @param array $l Listing.
	 * @return array{0:int,1:?string} Product id (0: none yet) and how it was found
	 *         (`key`, `item`, `linked`, `new`; null: a conflict, leave it alone).
	 */
	private function find_listing( array $l ): array {
		global $wpdb;
		$key = (string) $l['key'];
		$id  = $this->product_of( self::KEY_META, $key );
		if ( $id ) {
			return array( $id, 'key' );
		}
		$item_id = (string) ( $l['item_id'] ?? '' );
		if ( 'simple' === $l['type'] && '' !== $item_id ) {
			// Linked by the stock flow (by SKU) before the listing was published.
			$id = $this->product_of( StockApplier::ITEM_META, $item_id );
			if ( $id ) {
				return array( $id, 'item' );
			}
		}
		$sku = PosText::sku( $l['sku'] ?? '' );
		if ( '' === $sku || 'publish' !== ( $l['visibility'] ?? '' ) ) {
			return array( 0, 'new' );
		}
		$other = (int) wc_get_product_id_by_sku( $sku );
		if ( ! $other ) {
			return array( 0, 'new' );
		}
		$other_item = (string) get_post_meta( $other, StockApplier::ITEM_META, true );
		$product    = wc_get_product( $other );
		$can_link   = 'yes' === Settings::get( 'link_by_sku' ) && '' === $other_item && $product && ! $product->is_type( 'variation' ) && $product->get_type() === $l['type'];
		if ( $can_link ) {
			return array( $other, 'linked' );
		}
		$this->report_conflict( $l, $other, $sku, $other_item );
		return array( 0, null );
	}

	/**
	 * The product (not variation) whose meta `$meta` is `$value`, from the run's index
	 * (one query per meta key and run). Only runs write these metas, and runs hold the
	 * run lock, so a miss is a miss; a hit is checked against the post itself (the
	 * merchant may have trashed it or changed its type meanwhile).
	 *
	 * @param string $meta  KEY_META or StockApplier::ITEM_META.
	 * @param string $value Listing key or POS item id.
	 * @return int Product id, 0 when none.
	 */
	private function product_of( string $meta, string $value ): int {
		global $wpdb;
		if ( ! isset( $this->index[ $meta ] ) ) {
			$this->index[ $meta ] = array();
			$rows                 = $wpdb->get_results(
				$wpdb->prepare(
					"SELECT pm.meta_value AS v, MIN(pm.post_id) AS id FROM {$wpdb->postmeta} pm JOIN {$wpdb->posts} p ON p.ID = pm.post_id
					 WHERE pm.meta_key = %s AND p.post_type = 'product' AND p.post_status <> 'trash' GROUP BY pm.meta_value",
					$meta
				),
				ARRAY_A
			);
			foreach ( (array) $rows as $row ) {
				$this->index[ $meta ][ (string) $row['v'] ] = (int) $row['id'];
			}
		}
		$id = $this->index[ $meta ][ $value ] ?? 0;
		if ( ! $id || ( 'product' === get_post_type( $id ) && 'trash' !== get_post_status( $id ) && (string) get_post_meta( $id, $meta, true ) === $value ) ) {
			return $id;
		}
		// A stale hit: the database says.
		$id = (int) $wpdb->get_var(
			$wpdb->prepare(
				"SELECT MIN(pm.post_id) FROM {$wpdb->postmeta} pm JOIN {$wpdb->posts} p ON p.ID = pm.post_id
				 WHERE pm.meta_key = %s AND pm.meta_value = %s AND p.post_type = 'product' AND p.post_status <> 'trash'",
				$meta,
				$value
			)
		);
		unset( $this->index[ $meta ][ $value ] );
		if ( $id ) {
			$this->index[ $meta ][ $value ] = $id;
		}
		return $id;
	}

	/**
	 * Starts a publish run: term counts are deferred to its end (WordPress's, and
	 * WooCommerce's per-category product counts, which it would otherwise recount
	 * after every product). Counts a crashed run left owing are done first.
	 */
	public function begin(): void {
		self::count_terms( array_map( 'intval', (array) get_option( self::TERMS_OPTION, array() ) ) );
		delete_option( self::TERMS_OPTION );
		wp_defer_term_counting( true );
		add_filter( 'woocommerce_product_recount_terms', '__return_false' );
		$this->deferring = true;
	}

	/**
	 * Ends a publish run: the deferred counts, for the categories the run touched.
	 */
	public function end(): void {
		if ( ! $this->deferring ) {
			return;
		}
		$this->deferring = false;
		remove_filter( 'woocommerce_product_recount_terms', '__return_false' );
		wp_defer_term_counting( false );
		self::count_terms( array_keys( $this->terms ) );
		$this->terms = array();
		delete_option( self::TERMS_OPTION );
	}

	/**
	 * Recounts categories and their ancestors (WordPress's count and WooCommerce's).
	 *
	 * @param int[] $term_ids product_cat term ids.
	 */
	private static function count_terms( array $term_ids ): void {
		$terms = array();
		foreach ( $term_ids as $id ) {
			foreach ( array_merge( array( (int) $id ), get_ancestors( (int) $id, 'product_cat', 'taxonomy' ) ) as $t ) {
				$term = get_term( (int) $t, 'product_cat' );
				if ( $term instanceof \WP_Term ) {
					$terms[ $term->term_id ] = $term;
				}
			}
		}
		if ( ! $terms ) {
			return;
		}
		wp_update_term_count_now( array_map( static fn( $t ) => (int) $t->term_taxonomy_id, array_values( $terms ) ), 'product_cat' );
		if ( function_exists( '_wc_term_recount' ) ) {
			_wc_term_recount( array_map( static fn( $t ) => (int) $t->parent, $terms ), get_taxonomy( 'product_cat' ), false, false );
		}
	}

	/**
	 * Notes categories whose counts this run owes (kept in an option too, so a run cut
	 * short still has them counted by the next one).
	 *
	 * @param int[] $term_ids Terms assigned or removed.
	 */
	private function owe_counts( array $term_ids ): void {
		if ( ! $this->deferring ) {
			return;
		}
		$new = array_diff( array_map( 'intval', $term_ids ), array_keys( $this->terms ) );
		if ( $new ) {
			foreach ( $new as $id ) {
				$this->terms[ $id ] = true;
			}
			update_option( self::TERMS_OPTION, array_keys( $this->terms ), false );
		}
	}

	/**
	 * A simple item.
	 *
	 * @param array $l          Listing.
	 * @param int   $product_id Product (0: create).
	 * @param array $owned      Fields the merchant owns.
	 * @param array $images     Image key => attachment id.
	 * @throws \RuntimeException When the product cannot be saved.
	 */
	private function apply_simple( array $l, int $product_id, array $owned, array $images ): void {
		$creating = ! $product_id;
		$product  = $creating ? new \WC_Product_Simple() : wc_get_product( $product_id );
		if ( ! $product || ! $product->is_type( 'simple' ) ) {
			/* translators: %d: product ID */
			throw new \RuntimeException( sprintf( __( 'product #%d is not a simple product; change its type in WooCommerce or unlink it', 'pos-sync' ), $product_id ) );
		}
		$old = $creating ? array() : (array) get_post_meta( $product_id, self::PRINTS_META, true );
		$new = (array) ( $l['fingerprints'] ?? array() );
		$this->set_common( $product, $l, $old, $new, $owned, $images, $creating );
		$changed = static fn( string $group ): bool => $creating || ! isset( $old[ $group ] ) || $old[ $group ] !== ( $new[ $group ] ?? null );
		$mine    = static fn( string $field ): bool => $creating || ! in_array( $field, $owned, true );
		if ( $changed( 'sku' ) && $mine( 'sku' ) ) {
			$this->set_sku( $product, (string) ( $l['sku'] ?? '' ), $l );
		}
		if ( $changed( 'price' ) && $mine( 'price' ) ) {
			$product->set_regular_price( (string) ( $l['regular_price'] ?? '' ) );
			$product->set_sale_price( (string) ( $l['sale_price'] ?? '' ) );
		}
		if ( $creating ) {
			// A new product has no pending orders: its stock is the POS figure from the start
			// (one save, not a second one for the stock status).
			$product->set_manage_stock( true );
			$product->set_stock_quantity( max( 0, (int) ( $l['base'] ?? 0 ) ) );
		}
		$id = $this->save( $product, $creating );
		$this->link( $id, $l, (string) ( $l['item_id'] ?? '' ) );
		if ( $changed( 'stock' ) && isset( $l['base'] ) ) {
			$links = array();
			$this->applier->apply_levels( array( $this->level( (string) $l['item_id'], (string) ( $l['sku'] ?? '' ), $l['base'] ) ), $links, array( (string) $l['item_id'] => $id ) );
		}
		$this->store_prints( $id, $new, (string) ( $l['fingerprint'] ?? '' ), array( 'images' => (array) ( $l['images'] ?? array() ) ) );
		$this->tally( $creating, $l );
	}

	/**
	 * Records the fingerprints applied; a group with an image that could not be
	 * downloaded is left out (and the whole fingerprint blank) so it is tried again.
	 *
	 * @param int    $id     Product or variation.
	 * @param array  $prints Fingerprints per group.
	 * @param string $whole  Whole fingerprint.
	 * @param array  $groups Group => its images.
	 */
	private function store_prints( int $id, array $prints, string $whole, array $groups ): void {
		foreach ( $groups as $group => $list ) {
			foreach ( $list as $image ) {
				if ( is_array( $image ) && isset( $this->missing_images[ (string) ( $image['key'] ?? '' ) ] ) ) {
					unset( $prints[ $group ] );
					$whole = '';
				}
			}
		}
		update_post_meta( $id, self::PRINTS_META, $prints );
		update_post_meta( $id, self::PRINT_META, $whole );
	}

	/**
	 * A matrix item: a variable product with global attributes and one variation per variant.
	 *
	 * @param array $l          Listing.
	 * @param int   $product_id Product (0: create).
	 * @param array $owned      Fields the merchant owns.
	 * @param array $images     Image key => attachment id.
	 * @throws \RuntimeException When a product or variation cannot be saved.
	 */
	private function apply_variable( array $l, int $product_id, array $owned, array $images ): void {
		$creating = ! $product_id;
		$product  = $creating ? new \WC_Product_Variable() : wc_get_product( $product_id );
		if ( ! $product || ! $product->is_type( 'variable' ) ) {
			/* translators: %d: product ID */
			throw new \RuntimeException( sprintf( __( 'product #%d is not a variable product; change its type in WooCommerce or unlink it', 'pos-sync' ), $product_id ) );
		}
		$old     = $creating ? array() : (array) get_post_meta( $product_id, self::PRINTS_META, true );
		$new     = (array) ( $l['fingerprints'] ?? array() );
		$changed = static fn( string $group ): bool => $creating || ! isset( $old[ $group ] ) || $old[ $group ] !== ( $new[ $group ] ?? null );
		$this->set_common( $product, $l, $old, $new, $owned, $images, $creating );
		list( $attributes, $map ) = Taxonomies::attributes( (array) ( $l['attributes'] ?? array() ) );
		if ( $changed( 'attributes' ) ) {
			$product->set_attributes( $attributes );
		}
		$parent_id = $this->save( $product, $creating );
		$this->link( $parent_id, $l, '' );

		$levels  = array();
		$touched = false;
		$known   = $this->variations_of( $parent_id, $l );
		foreach ( (array) ( $l['variations'] ?? array() ) as $v ) {
			if ( ! is_array( $v ) || '' === (string) ( $v['item_id'] ?? '' ) ) {
				continue;
			}
			$item_id      = (string) $v['item_id'];
			$variation_id = $known[ $item_id ] ?? 0;
			if ( $variation_id && (string) get_post_meta( $variation_id, self::PRINT_META, true ) === (string) ( $v['fingerprint'] ?? '' ) ) {
				continue;
			}
			$levels_for = $this->apply_variation( $parent_id, $variation_id, $v, $map, $owned, $images );
			if ( $levels_for ) {
				$levels[] = $levels_for;
			}
			$touched = true;
		}
		if ( $levels ) {
			$this->applier->apply_levels( $levels );
		}
		if ( $touched ) {
			\WC_Product_Variable::sync( $parent_id );
		}
		$variation_images = array_values( array_filter( array_map( static fn( $v ) => $v['image'] ?? null, (array) ( $l['variations'] ?? array() ) ), 'is_array' ) );
		$this->store_prints(
			$parent_id,
			$new,
			(string) ( $l['fingerprint'] ?? '' ),
			array(
				'images'     => (array) ( $l['images'] ?? array() ),
				'variations' => $variation_images,
			)
		);
		$this->tally( $creating, $l );
	}

	/**
	 * One variation; returns its stock level when the stock is to be written.
	 *
	 * @param int   $parent_id    Variable product.
	 * @param int   $variation_id Variation (0: create).
	 * @param array $v            Variation from the listing.
	 * @param array $map          Attribute name => {key, options}.
	 * @param array $owned        Fields the merchant owns.
	 * @param array $images       Image key => attachment id.
	 * @throws \RuntimeException When the variation cannot be saved.
	 */
	private function apply_variation( int $parent_id, int $variation_id, array $v, array $map, array $owned, array $images ): ?array {
		$creating  = ! $variation_id;
		$variation = $creating ? new \WC_Product_Variation() : wc_get_product( $variation_id );
		if ( ! $variation || ! $variation->is_type( 'variation' ) ) {
			/* translators: %d: product ID */
			throw new \RuntimeException( sprintf( __( 'product #%d is not a variation', 'pos-sync' ), $variation_id ) );
		}
		$old     = $creating ? array() : (array) get_post_meta( $variation_id, self::PRINTS_META, true );
		$new     = (array) ( $v['fingerprints'] ?? array() );
		$changed = static fn( string $group ): bool => $creating || ! isset( $old[ $group ] ) || $old[ $group ] !== ( $new[ $group ] ?? null );
		if ( $creating ) {
			$variation->set_parent_id( $parent_id );
			$variation->set_manage_stock( true );
			$variation->set_stock_quantity( max( 0, (int) ( $v['base'] ?? 0 ) ) );
		}
		if ( $changed( 'attributes' ) ) {
			$attrs = array();
			foreach ( (array) ( $v['attributes'] ?? array() ) as $name => $option ) {
				if ( isset( $map[ $name ] ) ) {
					$attrs[ $map[ $name ]['key'] ] = $map[ $name ]['options'][ (string) $option ] ?? sanitize_title( (string) $option );
				}
			}
			$variation->set_attributes( $attrs );
		}
		$mine = static fn( string $field ): bool => $creating || ! in_array( $field, $owned, true );
		if ( $changed( 'sku' ) && $mine( 'sku' ) ) {
			$this->set_sku( $variation, (string) ( $v['sku'] ?? '' ), array( 'key' => 'item:' . $v['item_id'] ) + $v );
		}
		if ( $changed( 'price' ) && $mine( 'price' ) ) {
			$variation->set_regular_price( (string) ( $v['regular_price'] ?? '' ) );
			$variation->set_sale_price( (string) ( $v['sale_price'] ?? '' ) );
		}
		if ( $changed( 'dimensions' ) && $mine( 'dimensions' ) ) {
			$this->set_dimensions( $variation, $v );
		}
		if ( $changed( 'tax' ) && $mine( 'tax' ) && isset( $v['tax_class'] ) ) {
			$variation->set_tax_class( self::known_tax_class( (string) $v['tax_class'], true ) );
		}
		if ( $changed( 'image' ) && $mine( 'images' ) ) {
			$key = (string) ( $v['image']['key'] ?? '' );
			$variation->set_image_id( '' !== $key && isset( $images[ $key ] ) ? $images[ $key ] : 0 );
			if ( '' !== $key && isset( $images[ $key ] ) ) {
				Media::set_alt( $images[ $key ], (string) ( $v['image']['alt'] ?? '' ) );
			}
		}
		if ( $changed( 'enabled' ) ) {
			// A variation archived or unpublished in the POS is disabled, never deleted.
			$variation->set_status( ! empty( $v['enabled'] ) ? 'publish' : 'private' );
		}
		$id = $this->save( $variation, $creating );
		if ( (string) get_post_meta( $id, StockApplier::ITEM_META, true ) !== (string) $v['item_id'] ) {
			update_post_meta( $id, StockApplier::ITEM_META, (string) $v['item_id'] );
			self::forget_unmatched( (string) $v['item_id'] );
		}
		$this->store_prints( $id, $new, (string) ( $v['fingerprint'] ?? '' ), array( 'image' => is_array( $v['image'] ?? null ) ? array( $v['image'] ) : array() ) );
		return $changed( 'stock' ) && isset( $v['base'] ) ? $this->level( (string) $v['item_id'], (string) ( $v['sku'] ?? '' ), $v['base'] ) : null;
	}

	/**
	 * Variations already linked: item id => variation id (this parent's first, then any).
	 *
	 * @param int   $parent_id Variable product.
	 * @param array $l         Listing.
	 * @return array<string,int>
	 */
	private function variations_of( int $parent_id, array $l ): array {
		global $wpdb;
		$item_ids = array_values( array_filter( array_map( static fn( $v ) => (string) ( $v['item_id'] ?? '' ), (array) ( $l['variations'] ?? array() ) ), 'strlen' ) );
		if ( ! $item_ids ) {
			return array();
		}
		$placeholders = implode( ',', array_fill( 0, count( $item_ids ), '%s' ) );
		$rows         = $wpdb->get_results(
			$wpdb->prepare(
				// phpcs:ignore WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare, WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				"SELECT pm.meta_value AS item_id, p.ID, p.post_parent FROM {$wpdb->postmeta} pm JOIN {$wpdb->posts} p ON p.ID = pm.post_id
				 WHERE pm.meta_key = %s AND pm.meta_value IN ({$placeholders}) AND p.post_type = 'product_variation' AND p.post_status <> 'trash'
				 ORDER BY p.post_parent = %d DESC, p.ID",
				array_merge( array( StockApplier::ITEM_META ), $item_ids, array( $parent_id ) )
			),
			ARRAY_A
		);
		$out = array();
		foreach ( (array) $rows as $row ) {
			if ( ! isset( $out[ (string) $row['item_id'] ] ) ) {
				$out[ (string) $row['item_id'] ] = (int) $row['ID'];
				if ( (int) $row['post_parent'] !== $parent_id ) {
					// A variant moved to another matrix in the POS: the variation follows it.
					$wpdb->update( $wpdb->posts, array( 'post_parent' => $parent_id ), array( 'ID' => (int) $row['ID'] ) );
					clean_post_cache( (int) $row['ID'] );
				}
			}
		}
		return $out;
	}

	/**
	 * Fields a simple and a variable product share: title, descriptions, weight and
	 * dimensions, categories, images, visibility.
	 *
	 * @param \WC_Product $product  Product.
	 * @param array       $l        Listing.
	 * @param array       $old      Stored fingerprints.
	 * @param array       $new      Listing fingerprints.
	 * @param array       $owned    Fields the merchant owns.
	 * @param array       $images   Image key => attachment id.
	 * @param bool        $creating A new product.
	 */
	private function set_common( \WC_Product $product, array $l, array $old, array $new, array $owned, array $images, bool $creating ): void {
		$changed = static fn( string $group ): bool => $creating || ! isset( $old[ $group ] ) || $old[ $group ] !== ( $new[ $group ] ?? null );
		$mine    = static fn( string $field ): bool => $creating || ! in_array( $field, $owned, true );
		if ( $changed( 'name' ) && $mine( 'name' ) ) {
			$product->set_name( PosText::title( $l['name'] ?? '' ) );
		}
		if ( $changed( 'description' ) && $mine( 'description' ) ) {
			$product->set_description( PosText::html( $l['description'] ?? '' ) );
		}
		if ( $changed( 'short_description' ) && $mine( 'short_description' ) ) {
			$product->set_short_description( PosText::html( $l['short_description'] ?? '' ) );
		}
		if ( $changed( 'dimensions' ) && $mine( 'dimensions' ) ) {
			$this->set_dimensions( $product, $l );
		}
		if ( $changed( 'tax' ) && $mine( 'tax' ) && isset( $l['tax_status'] ) ) {
			$product->set_tax_status( 'none' === $l['tax_status'] ? 'none' : 'taxable' );
			$product->set_tax_class( self::known_tax_class( (string) ( $l['tax_class'] ?? '' ), false ) );
		}
		if ( $changed( 'categories' ) && $mine( 'categories' ) ) {
			$ids = Taxonomies::category_ids( (array) ( $l['categories'] ?? array() ) );
			$this->owe_counts( array_merge( $ids, $product->get_category_ids( 'edit' ) ) );
			$product->set_category_ids( $ids );
		}
		if ( $changed( 'images' ) && $mine( 'images' ) ) {
			$ids = array();
			foreach ( (array) ( $l['images'] ?? array() ) as $image ) {
				$key = (string) ( $image['key'] ?? '' );
				if ( isset( $images[ $key ] ) ) {
					$ids[] = $images[ $key ];
					Media::set_alt( $images[ $key ], (string) ( $image['alt'] ?? '' ) );
				}
			}
			$ids = array_values( array_unique( $ids ) );
			$product->set_image_id( $ids[0] ?? 0 );
			$product->set_gallery_image_ids( array_slice( $ids, 1 ) );
		}
		if ( $changed( 'visibility' ) ) {
			$visible = 'publish' === ( $l['visibility'] ?? '' );
			if ( 'hidden' === Settings::get( 'hidden_mode' ) ) {
				$product->set_status( 'publish' );
				$product->set_catalog_visibility( $visible ? 'visible' : 'hidden' );
			} else {
				$product->set_status( $visible ? 'publish' : 'draft' );
				if ( $creating || 'hidden' === $product->get_catalog_visibility( 'edit' ) ) {
					$product->set_catalog_visibility( 'visible' );
				}
			}
		}
	}

	/**
	 * A tax class WooCommerce has; one it no longer has is the Standard rate (the
	 * settings tab shows the map).
	 *
	 * @param string $slug      Slug from the listing.
	 * @param bool   $variation A variation (may say `parent`).
	 */
	private static function known_tax_class( string $slug, bool $variation ): string {
		if ( $variation && 'parent' === $slug ) {
			return 'parent';
		}
		return isset( self::woo_tax_classes()[ $slug ] ) ? $slug : '';
	}

	/**
	 * Weight and dimensions (already in the store's units); empty when the POS has none.
	 *
	 * @param \WC_Product $product Product or variation.
	 * @param array       $l       Listing or variation.
	 */
	private function set_dimensions( \WC_Product $product, array $l ): void {
		$d = (array) ( $l['dimensions'] ?? array() );
		$product->set_weight( (string) ( $l['weight'] ?? '' ) );
		$product->set_length( (string) ( $d['length'] ?? '' ) );
		$product->set_width( (string) ( $d['width'] ?? '' ) );
		$product->set_height( (string) ( $d['height'] ?? '' ) );
	}

	/**
	 * Sets a SKU unless another product has it (then reported, and the SKU left as it is).
	 *
	 * @param \WC_Product $product Product or variation.
	 * @param string      $sku     SKU from the POS.
	 * @param array       $l       Listing or variation (for the report).
	 */
	private function set_sku( \WC_Product $product, string $sku, array $l ): void {
		$sku = PosText::sku( $sku );
		if ( $product->get_sku( 'edit' ) === $sku ) {
			return;
		}
		if ( '' !== $sku ) {
			$other = (int) wc_get_product_id_by_sku( $sku );
			if ( $other && $other !== $product->get_id() ) {
				$this->report_conflict( $l, $other, $sku, (string) get_post_meta( $other, StockApplier::ITEM_META, true ) );
				return;
			}
		}
		try {
			$product->set_sku( $sku );
		} catch ( \WC_Data_Exception $e ) {
			$this->report_conflict( $l, 0, $sku, '' );
		}
	}

	/**
	 * Saves a product, failing loudly.
	 *
	 * @param \WC_Product $product  Product.
	 * @param bool        $creating A new product (always saved).
	 * @return int Product id.
	 * @throws \RuntimeException When WooCommerce does not save it.
	 */
	private function save( \WC_Product $product, bool $creating ): int {
		if ( $creating || $product->get_changes() ) {
			$id = (int) $product->save();
			if ( ! $id ) {
				throw new \RuntimeException( __( 'WooCommerce did not save the product', 'pos-sync' ) );
			}
			$this->written[] = $id;
			return $id;
		}
		return (int) $product->get_id();
	}

	/**
	 * Remembers the POS link of a product (no write when it is already there).
	 *
	 * @param int    $id      Product.
	 * @param array  $l       Listing.
	 * @param string $item_id POS item (simple products).
	 */
	private function link( int $id, array $l, string $item_id ): void {
		if ( (string) get_post_meta( $id, self::KEY_META, true ) !== (string) $l['key'] ) {
			update_post_meta( $id, self::KEY_META, (string) $l['key'] );
		}
		if ( isset( $this->index[ self::KEY_META ] ) ) {
			$this->index[ self::KEY_META ][ (string) $l['key'] ] = $id;
		}
		if ( '' !== $item_id && isset( $this->index[ StockApplier::ITEM_META ] ) ) {
			$this->index[ StockApplier::ITEM_META ][ $item_id ] = $id;
		}
		if ( '' !== $item_id && (string) get_post_meta( $id, StockApplier::ITEM_META, true ) !== $item_id ) {
			update_post_meta( $id, StockApplier::ITEM_META, $item_id );
			self::forget_unmatched( $item_id );
		}
	}

	/**
	 * An item now linked is no longer one "no product matched" (stock flow's list).
	 *
	 * @param string $item_id POS item.
	 */
	private static function forget_unmatched( string $item_id ): void {
		$unmatched = get_option( StockApplier::UNMATCHED );
		if ( is_array( $unmatched ) && isset( $unmatched[ $item_id ] ) ) {
			unset( $unmatched[ $item_id ] );
			update_option( StockApplier::UNMATCHED, $unmatched, false );
		}
	}

	/**
	 * A stock level as in `stock` events, for the Applier's ledger path.
	 *
	 * @param string $item_id Item.
	 * @param string $sku     SKU.
	 * @param mixed  $base    POS base.
	 */
	private function level( string $item_id, string $sku, $base ): array {
		// Read between the start of the run and now: the ledger rule errs low in between.
		return array(
			'item_id'       => $item_id,
			'sku'           => $sku,
			'base'          => (int) $base,
			'read_from_ms'  => $this->read_from_ms,
			'read_until_ms' => (int) floor( microtime( true ) * 1000 ),
		);
	}

	/**
	 * Counts a written listing.
	 *
	 * @param bool  $creating Created.
	 * @param array $l        Listing.
	 */
	private function tally( bool $creating, array $l ): void {
		++$this->counts[ $creating ? 'created' : 'updated' ];
		if ( 'publish' !== ( $l['visibility'] ?? '' ) ) {
			++$this->counts['hidden'];
		}
		$conflicts = (array) get_option( self::CONFLICTS_OPTION, array() );
		if ( isset( $conflicts[ $l['key'] ] ) && $creating ) {
			unset( $conflicts[ $l['key'] ] );
			update_option( self::CONFLICTS_OPTION, $conflicts, false );
		}
	}

	/**
	 * A POS SKU already used by a product not linked to that item: reported, not overwritten.
	 *
	 * @param array  $l          Listing or variation.
	 * @param int    $other      Product that has the SKU.
	 * @param string $sku        SKU.
	 * @param string $other_item POS item that product is linked to ('' if none).
	 */
	private function report_conflict( array $l, int $other, string $sku, string $other_item ): void {
		++$this->counts['conflicts'];
		$key       = (string) ( $l['key'] ?? '' );
		$conflicts = (array) get_option( self::CONFLICTS_OPTION, array() );
		$name      = $other ? get_the_title( $other ) : '';
		$conflicts = array(
			$key => array(
				'sku'        => $sku,
				'product_id' => $other,
				'name'       => $name,
				'other_item' => $other_item,
				'time'       => time(),
			),
		) + $conflicts;
		update_option( self::CONFLICTS_OPTION, array_slice( $conflicts, 0, 500, true ), false );
		Log::warning(
			'' !== $other_item
				/* translators: 1: POS item or matrix, 2: SKU, 3: product ID, 4: other POS item */
				? sprintf( __( 'POS %1$s has SKU %2$s, which product #%3$d (linked to POS item %4$s) already has; that product is left alone and the SKU is not published.', 'pos-sync' ), $key, $sku, $other, $other_item )
				/* translators: 1: POS item or matrix, 2: SKU, 3: product ID */
				: sprintf( __( 'POS %1$s has SKU %2$s, which product #%3$d already has; that product is left alone (turn on “link products with the same SKU” to link it instead).', 'pos-sync' ), $key, $sku, $other )
		);
	}

	/**
	 * An existing product linked by SKU: reported.
	 *
	 * @param array $l          Listing.
	 * @param int   $product_id Product.
	 */
	private function report_linked( array $l, int $product_id ): void {
		++$this->counts['linked'];
		$linked = (array) get_option( self::LINKED_OPTION, array() );
		$linked = array(
			(string) $l['key'] => array(
				'sku'        => (string) ( $l['sku'] ?? '' ),
				'product_id' => $product_id,
				'name'       => get_the_title( $product_id ),
				'time'       => time(),
			),
		) + $linked;
		update_option( self::LINKED_OPTION, array_slice( $linked, 0, 500, true ), false );
		$conflicts = (array) get_option( self::CONFLICTS_OPTION, array() );
		if ( isset( $conflicts[ $l['key'] ] ) ) {
			unset( $conflicts[ $l['key'] ] );
			update_option( self::CONFLICTS_OPTION, $conflicts, false );
		}
		/* translators: 1: POS item, 2: SKU, 3: product ID */
		Log::info( sprintf( __( 'POS %1$s linked to existing product #%3$d by its SKU %2$s.', 'pos-sync' ), (string) $l['key'], (string) ( $l['sku'] ?? '' ), $product_id ) );
	}
}
