<?php
/**
 * The full reconcile on a schedule: a pass reads the stock of every live POS item,
 * spread over as many ticks as it needs, resuming from `cursors.reconcile`. A run
 * that fails (a 429 storm, the POS down) leaves the pass where it was: the next tick
 * resumes it, it is never abandoned.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * When a pass starts, runs and ends.
 */
final class Reconcile {

	public const STATE_OPTION = 'pos_sync_reconcile';

	/**
	 * The schedule setting's choices, in seconds between the end of a pass and the next.
	 */
	public const INTERVALS = array(
		'off'    => 0,
		'hourly' => 3600,
		'daily'  => 86400,
		'weekly' => 604800,
	);

	/**
	 * `{running, started_at, finished_at, requested_by}` (unix seconds).
	 */
	public static function state(): array {
		return array_merge(
			array(
				'running'     => false,
				'started_at'  => 0,
				'finished_at' => 0,
			),
			(array) get_option( self::STATE_OPTION, array() )
		);
	}

	/**
	 * Starts a pass from the first item (the "Reconcile now" action, or the schedule).
	 */
	public static function start(): void {
		$cursors              = Settings::cursors();
		$cursors['reconcile'] = null;
		update_option( Settings::CURSORS_OPTION, $cursors, false );
		$state               = self::state();
		$state['running']    = true;
		$state['started_at'] = time();
		update_option( self::STATE_OPTION, $state, false );
	}

	/**
	 * Must this tick run the reconcile job? A pass under way always resumes; a new one
	 * starts when the schedule says so.
	 */
	public static function should_run(): bool {
		$state = self::state();
		if ( $state['running'] ) {
			return true;
		}
		$every = self::INTERVALS[ (string) Settings::get( 'reconcile_every' ) ] ?? self::INTERVALS['daily'];
		if ( $every <= 0 || time() < (int) $state['finished_at'] + $every ) {
			return false;
		}
		self::start();
		return true;
	}

	/**
	 * The last page of a pass was applied (cursor `{"reconcile": null}`); runs inside
	 * the transaction that stores that cursor.
	 */
	public static function pass_finished(): void {
		$state                = self::state();
		$state['running']     = false;
		$state['finished_at'] = time();
		update_option( self::STATE_OPTION, $state, false );
	}
}
