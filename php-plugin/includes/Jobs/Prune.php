<?php
/**
 * Retention of customer details in the outbox: the setting "Keep customer details in the
 * outbox for N days" and the pruning the tick does, a small batch at a time.
 *
 * A settled row (posted, cancelled, entered by hand) older than the retention loses its
 * customer details (Privacy::erased_payload); reference, state, POS ids, amounts and
 * lines stay. Age counts from `posted_at`, or from the last change for a row never posted.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Plugin;
use PosSync\Store\Log;
use PosSync\Store\Privacy;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Prunes personal data from old outbox payloads.
 */
final class Prune {

	/**
	 * The setting (days).
	 */
	public const SETTING = 'privacy_days';

	/**
	 * Rows pruned per tick at most.
	 */
	public const BATCH = 20;

	/**
	 * Set once a tick finds nothing more to prune: the next look is an hour later.
	 */
	public const CAUGHT_UP_TRANSIENT = 'pos_sync_privacy_pruned';

	/**
	 * Runs before the sync in every tick (it needs no connection).
	 */
	public static function hooks(): void {
		add_action( Plugin::CRON_HOOK, array( self::class, 'tick' ), 5 );
	}

	/**
	 * Default of the setting.
	 */
	public static function setting_defaults(): array {
		return array( self::SETTING => 90 );
	}

	/**
	 * Validates the posted setting, when the form carried it.
	 *
	 * @param array $posted Unslashed form values.
	 * @param array $new    Settings being saved.
	 * @param array $errors Errors to show.
	 */
	public static function validate_settings( array $posted, array &$new, array &$errors ): void {
		if ( ! array_key_exists( self::SETTING, $posted ) ) {
			return;
		}
		$days = trim( (string) $posted[ self::SETTING ] );
		if ( preg_match( '/^\d+$/', $days ) && (int) $days >= 1 && (int) $days <= 3650 ) {
			if ( (int) $days !== (int) ( $new[ self::SETTING ] ?? 0 ) ) {
				delete_transient( self::CAUGHT_UP_TRANSIENT ); // A shorter period may have work now.
			}
			$new[ self::SETTING ] = (int) $days;
		} else {
			/* translators: %s: the value that was typed */
			$errors[] = sprintf( __( 'Customer details are kept in the outbox for 1 to 3650 days (got “%s”); the previous value is kept.', 'pos-sync' ), $days );
		}
	}

	/**
	 * The field, in a section of its own at the end of the settings tab.
	 *
	 * @param callable $field Setting key => field id.
	 */
	public static function settings_fields( callable $field ): array {
		return array(
			array(
				'title' => __( 'Privacy', 'pos-sync' ),
				'type'  => 'title',
				'id'    => 'pos_sync_privacy',
			),
			array(
				'title'             => __( 'Keep customer details in the outbox for (days)', 'pos-sync' ),
				'id'                => $field( self::SETTING ),
				'type'              => 'number',
				'value'             => (string) Settings::get( self::SETTING ),
				'custom_attributes' => array(
					'min'  => '1',
					'max'  => '3650',
					'step' => '1',
				),
				'desc'              => __( 'Once an order is in the POS (or cancelled), the name, e-mail, phone and address this plugin keeps to post it are removed after this many days. The reference, state and POS IDs stay.', 'pos-sync' ),
			),
			array(
				'type' => 'sectionend',
				'id'   => 'pos_sync_privacy',
			),
		);
	}

	/**
	 * The tick: prunes one batch of rows past the retention; when fewer than a batch were
	 * left, waits an hour before looking again.
	 *
	 * @return int Rows pruned.
	 */
	public static function tick(): int {
		if ( get_transient( self::CAUGHT_UP_TRANSIENT ) ) {
			return 0;
		}
		$rows   = self::due( self::BATCH );
		$pruned = 0;
		foreach ( $rows as $row ) {
			$pruned += Privacy::erase_row( $row ) ? 1 : 0;
		}
		if ( count( $rows ) < self::BATCH ) {
			set_transient( self::CAUGHT_UP_TRANSIENT, 1, HOUR_IN_SECONDS );
		}
		if ( $pruned ) {
			Log::info(
				sprintf(
					/* translators: 1: number of orders, 2: days */
					_n( 'Outbox: the customer details of %1$d order in the POS for more than %2$d days were removed.', 'Outbox: the customer details of %1$d orders in the POS for more than %2$d days were removed.', $pruned, 'pos-sync' ),
					$pruned,
					(int) Settings::get( self::SETTING )
				)
			);
		}
		return $pruned;
	}

	/**
	 * Settled rows past the retention that carry a customer not erased yet, oldest first.
	 *
	 * @param int $limit Rows at most.
	 */
	private static function due( int $limit ): array {
		global $wpdb;
		$days   = max( 1, (int) Settings::get( self::SETTING ) );
		$cutoff = gmdate( 'Y-m-d H:i:s', time() - $days * DAY_IN_SECONDS );
		$outbox = Schema::outbox();
		$states = "'" . implode( "','", array_map( 'esc_sql', Privacy::SETTLED_STATES ) ) . "'";
		$marker = '%' . $wpdb->esc_like( '"' . Privacy::ERASED_KEY . '"' ) . '%';
		return (array) $wpdb->get_results(
			$wpdb->prepare(
				"SELECT id, payload, last_error FROM {$outbox} WHERE state IN ({$states}) AND COALESCE( posted_at, updated_at ) < %s AND payload LIKE %s AND payload NOT LIKE %s ORDER BY id LIMIT %d", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				$cutoff,
				'%' . $wpdb->esc_like( '"customer":' ) . '%',
				$marker,
				$limit
			),
			ARRAY_A
		);
	}
}
