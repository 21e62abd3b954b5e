<?php
/**
 * Long work in the background: "Sync now", "Full reconcile", the report's "Fix" and
 * "Fix all" and its dry run are queued as a single WP-Cron event and the request returns
 * at once; the status page shows each task queued, running or done. A task that finds
 * another run holding the run lock waits a minute and tries again.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Admin\Report;
use PosSync\Store\Log;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Queued tasks and their state.
 */
final class Background {

	public const HOOK       = 'pos_sync_background';
	public const OPTION     = 'pos_sync_background';
	public const DRY_OPTION = 'pos_sync_dry_run';

	/**
	 * A queued or running task older than this is taken as lost (the PHP process died).
	 */
	public const STALE_S = 900;

	/**
	 * Wires the event.
	 */
	public static function hooks(): void {
		add_action( self::HOOK, array( self::class, 'run' ) );
	}

	/**
	 * The tasks in the merchant's words.
	 */
	public static function names(): array {
		return array(
			'sync'      => __( 'Sync now', 'pos-sync' ),
			'reconcile' => __( 'Full reconcile', 'pos-sync' ),
			'fix_all'   => __( 'Fix all', 'pos-sync' ),
			'dry_run'   => __( 'Dry run', 'pos-sync' ),
		);
	}

	/**
	 * Every task's state: `{state: queued|running|done|failed, queued_at, started_at,
	 * finished_at, message}`.
	 */
	public static function states(): array {
		return (array) get_option( self::OPTION, array() );
	}

	/**
	 * One task's state, or null.
	 *
	 * @param string $task Task.
	 */
	public static function state( string $task ): ?array {
		$s = self::states()[ $task ] ?? null;
		return is_array( $s ) ? $s : null;
	}

	/**
	 * Is the task queued or running (and not lost)?
	 *
	 * @param string $task Task.
	 */
	public static function pending( string $task ): bool {
		$s = self::state( $task );
		return $s && in_array( $s['state'], array( 'queued', 'running' ), true ) && (int) ( $s['started_at'] ?? $s['queued_at'] ) > time() - self::STALE_S;
	}

	/**
	 * Records a task's state.
	 *
	 * @param string $task  Task.
	 * @param array  $state Fields to set.
	 */
	private static function set( string $task, array $state ): void {
		$all          = self::states();
		$all[ $task ] = array_merge( is_array( $all[ $task ] ?? null ) ? $all[ $task ] : array(), $state );
		update_option( self::OPTION, $all, false );
	}

	/**
	 * Queues a task; false when it is already queued or running.
	 *
	 * @param string $task  sync | reconcile | fix_all | dry_run.
	 * @param int    $delay Seconds from now.
	 */
	public static function queue( string $task, int $delay = 0 ): bool {
		if ( ! isset( self::names()[ $task ] ) || self::pending( $task ) ) {
			return false;
		}
		self::set(
			$task,
			array(
				'state'       => 'queued',
				'queued_at'   => time(),
				'started_at'  => null,
				'finished_at' => null,
				'message'     => '',
			)
		);
		self::schedule( $task, $delay );
		return true;
	}

	/**
	 * Schedules the event and, where WP-Cron runs on page loads, starts it now.
	 *
	 * @param string $task  Task.
	 * @param int    $delay Seconds from now.
	 */
	private static function schedule( string $task, int $delay ): void {
		wp_schedule_single_event( time() + $delay, self::HOOK, array( $task ) );
		if ( 0 === $delay && ! ( defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON ) ) {
			spawn_cron();
		}
	}

	/**
	 * The event: runs the task and records how it went.
	 *
	 * @param string $task Task.
	 */
	public static function run( $task ): void {
		$task = (string) $task;
		if ( ! isset( self::names()[ $task ] ) ) {
			return;
		}
		self::set(
			$task,
			array(
				'state'      => 'running',
				'started_at' => time(),
			)
		);
		try {
			list( $ok, $message, $busy ) = self::work( $task );
		} catch ( \Throwable $e ) {
			list( $ok, $message, $busy ) = array( false, $e->getMessage(), false );
		}
		if ( $busy ) {
			// Another run holds the lock: wait for it rather than fail.
			self::set(
				$task,
				array(
					'state'   => 'queued',
					'message' => __( 'Waiting for the run in progress; it starts within a minute.', 'pos-sync' ),
				)
			);
			self::schedule( $task, MINUTE_IN_SECONDS );
			return;
		}
		self::set(
			$task,
			array(
				'state'       => $ok ? 'done' : 'failed',
				'finished_at' => time(),
				'message'     => Log::scrub( $message ),
			)
		);
	}

	/**
	 * Does the work: `[ok, sentence, busy]`.
	 *
	 * @param string $task Task.
	 */
	private static function work( string $task ): array {
		if ( 'dry_run' === $task ) {
			$changes = Report::dry_run();
			update_option(
				self::DRY_OPTION,
				array(
					'changes'     => $changes,
					'finished_at' => time(),
				),
				false
			);
			/* translators: %d: number of products */
			return array( true, sprintf( _n( 'A reconcile would change %d product.', 'A reconcile would change %d products.', count( $changes ), 'pos-sync' ), count( $changes ) ), false );
		}
		if ( ! Settings::is_configured() ) {
			return array( false, __( 'POS Sync is not connected yet (WooCommerce → Settings → POS Sync).', 'pos-sync' ), false );
		}
		if ( 'fix_all' === $task ) {
			$fix = Report::fix( null );
			$run = $fix['run'];
			/* translators: 1: item count, 2: outcome of the sync */
			return array( ! empty( $run['ok'] ), sprintf( __( 'Fix: %1$d item(s) read afresh. %2$s', 'pos-sync' ), count( $fix['items'] ), self::run_sentence( $run ) ), ! empty( $run['busy'] ) );
		}
		if ( 'reconcile' === $task ) {
			$run = Runner::run( 'reconcile' );
			if ( empty( $run['ok'] ) ) {
				/* translators: %s: cause */
				return array( false, sprintf( __( 'Full reconcile failed: %s — the pass resumes with the next run.', 'pos-sync' ), (string) $run['error'] ), ! empty( $run['busy'] ) );
			}
			return array( true, Reconcile::state()['running'] ? __( 'Full reconcile started; it goes on with the next runs.', 'pos-sync' ) : __( 'Full reconcile done.', 'pos-sync' ), false );
		}
		$run = Runner::run( 'sync' );
		if ( ! empty( $run['ok'] ) && Settings::orders_configured() ) {
			Runner::run( 'post_orders' );
		}
		return array( ! empty( $run['ok'] ), self::run_sentence( $run ), ! empty( $run['busy'] ) );
	}

	/**
	 * Sentence of a sync run's outcome.
	 *
	 * @param array $run Runner result.
	 */
	public static function run_sentence( array $run ): string {
		if ( ! empty( $run['ok'] ) ) {
			$a = (array) ( $run['summary']['applied'] ?? array() );
			/* translators: 1: written, 2: unchanged, 3: overwritten hand edits */
			return sprintf( __( 'Sync done: %1$d stock figures written, %2$d unchanged, %3$d hand edits overwritten.', 'pos-sync' ), (int) ( $a['written'] ?? 0 ), (int) ( $a['unchanged'] ?? 0 ), (int) ( $a['overwritten'] ?? 0 ) );
		}
		/* translators: %s: cause */
		return sprintf( __( 'Sync failed: %s', 'pos-sync' ), (string) ( $run['error'] ?? __( 'unknown error', 'pos-sync' ) ) );
	}

	/**
	 * The status page's "Background work" table.
	 */
	public static function render(): void {
		$states = self::states();
		$labels = array(
			'queued'  => __( 'queued', 'pos-sync' ),
			'running' => __( 'running', 'pos-sync' ),
			'done'    => __( 'done', 'pos-sync' ),
			'failed'  => __( 'failed', 'pos-sync' ),
		);
		echo '<h2>' . esc_html__( 'Background work', 'pos-sync' ) . '</h2><table class="widefat striped" id="pos-sync-background"><tbody>';
		foreach ( self::names() as $task => $name ) {
			$s = $states[ $task ] ?? null;
			if ( ! is_array( $s ) ) {
				printf( '<tr data-task="%1$s"><th>%2$s</th><td>%3$s</td></tr>', esc_attr( $task ), esc_html( $name ), esc_html__( 'not requested', 'pos-sync' ) );
				continue;
			}
			$when = max( (int) ( $s['finished_at'] ?? 0 ), (int) ( $s['started_at'] ?? 0 ), (int) ( $s['queued_at'] ?? 0 ) );
			printf(
				'<tr data-task="%1$s" data-state="%2$s"><th>%3$s</th><td><strong>%4$s</strong> %5$s %6$s</td></tr>',
				esc_attr( $task ),
				esc_attr( (string) $s['state'] ),
				esc_html( $name ),
				esc_html( $labels[ $s['state'] ] ?? (string) $s['state'] ),
				esc_html( wp_date( 'Y-m-d H:i:s', $when ) ),
				esc_html( (string) ( $s['message'] ?? '' ) )
			);
		}
		echo '</tbody></table>';
	}
}
