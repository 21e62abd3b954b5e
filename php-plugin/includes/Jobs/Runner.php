<?php
/**
 * Runner: starts the Node sidecar with proc_open (argument array, no shell), writes
 * one job line, reads event lines until the process exits or its time is up.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Apply\Publisher;
use PosSync\Apply\StockApplier;
use PosSync\Orders\OrderLife;
use PosSync\Orders\References;
use PosSync\Store\Catalogue;
use PosSync\Store\Ledger;
use PosSync\Store\Log;
use PosSync\Store\Lookups;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * One sidecar run at a time.
 */
final class Runner {

	public const LAST_RUN_OPTION  = 'pos_sync_last_run';
	public const LAST_RUNS_OPTION = 'pos_sync_last_runs';
	public const PROGRESS_OPTION = 'pos_sync_progress';

	/**
	 * Seconds given to the sidecar beyond its budget before it is stopped.
	 */
	public const TIMEOUT_MARGIN_S = 10;

	/**
	 * Process handle of the running sidecar.
	 *
	 * @var resource|null
	 */
	private $process = null;

	/**
	 * Pipes to the running sidecar.
	 *
	 * @var array
	 */
	private array $pipes = array();

	/**
	 * Signal that ended the sidecar, if one did.
	 *
	 * @var int|null
	 */
	private ?int $signal = null;

	/**
	 * The run.
	 *
	 * @var array
	 */
	private array $run;

	/**
	 * Applies stock events.
	 *
	 * @var StockApplier
	 */
	private StockApplier $applier;

	/**
	 * The lease on the outbox rows of a post_orders run.
	 *
	 * @var Lease|null
	 */
	private ?Lease $lease = null;

	/**
	 * Applies product events (publish runs).
	 *
	 * @var Publisher
	 */
	private Publisher $publisher;

	/**
	 * Time budget of this run in ms, null: the setting.
	 *
	 * @var int|null
	 */
	private ?int $budget_ms = null;

	/**
	 * Extra job fields of this run (`recheck_item_ids` for sync, `outbox` for post_orders).
	 *
	 * @var array
	 */
	private array $extra = array();

	/**
	 * When the recheck requests of a sync run were read (ms).
	 *
	 * @var int
	 */
	private int $recheck_asked_ms = 0;

	/**
	 * WP-Cron: under one lock, the stock sync; then, when it went well, the due outbox
	 * rows (post_orders), the scheduled reconcile and publishing, each within what is
	 * left of the tick's time budget (at least 5 s each). When the sync fails the POS is
	 * unhappy: the rest waits.
	 */
	public static function tick(): void {
		Schema::prune_stock_log( (int) Settings::get( 'log_days' ) );
		if ( ! Settings::is_configured() ) {
			return;
		}
		self::locked(
			0,
			static function (): array {
				// Rows the hooks failed to make are made before the sync reads the ledger.
				References::note_connected();
				Sweep::run();
				$started = microtime( true );
				$budget  = max( 5, (int) Settings::get( 'budget_seconds' ) );
				$left    = static fn(): int => 1000 * max( 5, (int) ( $budget - ( microtime( true ) - $started ) ) );
				// While a publish pass is under way (the first import of a catalogue, or a
				// replan after new settings) the listings carry their own stock: the sync
				// gets half the tick, so the import is not starved by the first full pull.
				$importing = Publisher::is_enabled() && Publisher::pass_under_way();
				$sync      = ( new self( 'sync', array(), $importing ? 1000 * max( 5, intdiv( $budget, 2 ) ) : null ) )->execute();
				if ( empty( $sync['ok'] ) ) {
					return $sync;
				}
				if ( Settings::orders_configured() ) {
					$post_budget = $left();
					$lease       = new Lease( $post_budget );
					$rows        = Outbox::claim_due( $lease );
					if ( $rows ) {
						( new self( 'post_orders', array( 'outbox' => $rows ), $post_budget, $lease ) )->execute();
					}
				}
				if ( Reconcile::should_run() ) {
					( new self( 'reconcile', array(), $left() ) )->execute();
				}
				if ( Publisher::is_enabled() ) {
					( new self( 'publish', array(), $left() ) )->execute();
				}
				return $sync;
			}
		);
	}

	/**
	 * Runs one job of the given kind and returns what happened:
	 * `ok`, `error` (a sentence), `result` (the result event), `summary`.
	 *
	 * @param string $kind sync | reconcile | test_connection | lookups | …
	 */
	public static function run( string $kind ): array {
		// A connection test waits a little for a running sync; cron ticks never wait.
		return self::locked(
			in_array( $kind, array( 'test_connection', 'lookups' ), true ) ? 10 : 0,
			static function () use ( $kind ): array {
				$extra = array();
				$lease = null;
				if ( 'post_orders' === $kind ) {
					$lease           = new Lease( 1000 * max( 5, (int) Settings::get( 'budget_seconds' ) ) );
					$extra['outbox'] = Outbox::claim_due( $lease );
				}
				return ( new self( $kind, $extra, null, $lease ) )->execute();
			}
		);
	}

	/**
	 * Runs $work under the run lock (one sidecar run at a time, site-wide). The lock only
	 * spares a second sidecar; what keeps a row from being posted twice is its lease
	 * (Lease.php), so a host where MySQL connection locks are unreliable may turn it off.
	 *
	 * @param int      $wait Seconds to wait for the lock.
	 * @param callable $work Returns the run.
	 */
	private static function locked( int $wait, callable $work ): array {
		if ( ! SiteGuard::is_live() ) {
			return SiteGuard::refused_run();
		}
		/**
		 * Filters whether runs take the MySQL run lock (GET_LOCK).
		 *
		 * @param bool $use Default true.
		 */
		if ( ! apply_filters( 'pos_sync_run_lock', true ) ) {
			return $work();
		}
		$lock = self::lock_name();
		if ( '1' !== (string) $GLOBALS['wpdb']->get_var( $GLOBALS['wpdb']->prepare( 'SELECT GET_LOCK(%s, %d)', $lock, $wait ) ) ) {
			$message = __( 'Another POS Sync run is still in progress; this one was skipped.', 'pos-sync' );
			Log::info( $message );
			return array(
				'ok'    => false,
				'error' => $message,
				'busy'  => true,
			);
		}
		try {
			return $work();
		} finally {
			$GLOBALS['wpdb']->query( $GLOBALS['wpdb']->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
		}
	}

	/**
	 * Lock per database and table prefix (MySQL locks are server-wide).
	 */
	private static function lock_name(): string {
		return substr( 'pos_sync_run_' . md5( DB_NAME . '|' . $GLOBALS['wpdb']->prefix ), 0, 64 );
	}

	/**
	 * The node binary: the setting, else PATH entries and the usual places (no shell).
	 *
	 * @param string|null $configured Path from the settings (null: read it).
	 */
	public static function find_node( ?string $configured = null ): ?string {
		$configured = $configured ?? (string) Settings::get( 'node_path' );
		$is_exec    = static fn( string $f ): bool => @is_file( $f ) && @is_executable( $f ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
		if ( '' !== $configured ) {
			return $is_exec( $configured ) ? $configured : null;
		}
		$dirs = array_merge(
			explode( PATH_SEPARATOR, (string) getenv( 'PATH' ) ),
			array( '/usr/local/bin', '/usr/bin', '/bin', '/opt/homebrew/bin', '/opt/local/bin', '/snap/bin' )
		);
		foreach ( array_unique( array_filter( $dirs ) ) as $dir ) {
			foreach ( array( 'node', 'nodejs', 'node.exe' ) as $name ) {
				$file = rtrim( $dir, '/\\' ) . DIRECTORY_SEPARATOR . $name;
				if ( $is_exec( $file ) ) {
					return $file;
				}
			}
		}
		return null;
	}

	/**
	 * The sidecar script shipped in the plugin zip.
	 */
	public static function sidecar_path(): string {
		/**
		 * Filters the path of the sidecar script.
		 *
		 * @param string $path Default: sidecar/sidecar.mjs inside the plugin.
		 */
		return (string) apply_filters( 'pos_sync_sidecar_path', dirname( \PosSync\PLUGIN_FILE ) . '/sidecar/sidecar.mjs' );
	}

	/**
	 * A run of one kind.
	 *
	 * @param string   $kind      Job kind.
	 * @param array    $extra     Extra job fields (`outbox` for post_orders).
	 * @param int|null $budget_ms Time budget (default: the setting).
	 * @param Lease|null $lease   The lease on the rows of a post_orders run.
	 */
	private function __construct( string $kind, array $extra = array(), ?int $budget_ms = null, ?Lease $lease = null ) {
		$this->lease = $lease;
		if ( 'sync' === $kind && ! isset( $extra['recheck_item_ids'] ) ) {
			$extra['recheck_item_ids'] = Ledger::recheck_item_ids();
			$this->recheck_asked_ms    = Ledger::now_ms();
		}
		$this->extra     = $extra;
		$this->budget_ms = $budget_ms;
		$this->run     = array(
			'kind'        => $kind,
			'run_id'      => gmdate( 'Ymd-His' ) . '-' . wp_generate_password( 6, false ),
			'started_at'  => time(),
			'finished_at' => null,
			'ok'          => false,
			'error'       => null,
			'result'      => null,
			'summary'     => array(),
			'exit_code'   => null,
			'events'      => 0,
		);
		$this->applier = new StockApplier( $this->run['run_id'] );
		$this->publisher = new Publisher( $this->run['run_id'], $this->applier );
	}

	/**
	 * Starts the sidecar and follows it to the end.
	 */
	private function execute(): array {
		// Fail safe: no proc_open, no Node.js 20+, or a host no longer allowed → a failed run
		// that says what the host must allow, never a fatal (NodeCheck, Connection).
		list( $node, $problem ) = NodeCheck::usable_node();
		$problem                = Connection::run_problem() ?? $problem;
		if ( null !== $problem ) {
			return $this->finish( $problem );
		}
		$sidecar = self::sidecar_path();
		if ( ! is_file( $sidecar ) ) {
			/* translators: %s: file path */
			return $this->finish( sprintf( __( 'The sidecar script is missing (%s); reinstall the plugin.', 'pos-sync' ), $sidecar ) );
		}

		$budget_ms = $this->budget_ms ?? 1000 * max( 5, (int) Settings::get( 'budget_seconds' ) );
		/**
		 * Filters the seconds given to the sidecar beyond its budget before it is stopped.
		 *
		 * @param int $margin Seconds.
		 */
		$margin    = max( 1, (int) apply_filters( 'pos_sync_timeout_margin_s', self::TIMEOUT_MARGIN_S ) );
		$deadline  = microtime( true ) + $budget_ms / 1000 + $margin;
		$budget_at = microtime( true ) + $budget_ms / 1000;
		if ( function_exists( 'set_time_limit' ) ) {
			@set_time_limit( (int) ( $budget_ms / 1000 ) + $margin + 30 ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
		}
		ignore_user_abort( true );

		if ( 'publish' === $this->run['kind'] ) {
			Publisher::restart_on_new_plan(); // Before the cursors are read.
			$this->publisher->begin();
		}
		$job = array_merge(
			array(
				'v'         => 1,
				'kind'      => $this->run['kind'],
				'now_ms'    => (int) floor( microtime( true ) * 1000 ),
				'budget_ms' => $budget_ms,
				'settings'  => 'post_orders' === $this->run['kind'] ? Settings::for_order_job() : Settings::for_job(),
				'tokens'    => Settings::tokens(),
				'cursors'   => Settings::cursors(),
				// The core sends no request to any other host (src/edge/allowed_hosts.rs).
				'allowed_hosts' => Connection::job_hosts(),
			),
			$this->extra
		);
		if ( 'post_orders' === $this->run['kind'] && empty( $job['outbox'] ) ) {
			$this->run['ok']     = true;
			$this->run['result'] = array(
				'ok'      => true,
				'summary' => array( 'rows' => 0 ),
			);
			return $this->finish( null );
		}
		if ( 'publish' === $this->run['kind'] ) {
			$job['settings'] = array_merge( $job['settings'], Publisher::job_settings() );
			$replan          = Catalogue::replan();
			if ( $replan['item_ids'] || $replan['matrix_ids'] ) {
				$job['replan'] = $replan;
			}
		}

		// phpcs:ignore Generic.PHP.ForbiddenFunctions.Found -- an argument array, no shell.
		$this->process = proc_open(
			array( $node, $sidecar ),
			array(
				0 => array( 'pipe', 'r' ),
				1 => array( 'pipe', 'w' ),
				2 => array( 'pipe', 'w' ),
			),
			$this->pipes,
			dirname( $sidecar )
		);
		if ( ! is_resource( $this->process ) ) {
			/* translators: %s: node path */
			return $this->finish( sprintf( __( 'Could not start the sidecar with %s.', 'pos-sync' ), $node ) );
		}
		Log::debug( sprintf( 'run %s: %s job started', $this->run['run_id'], $this->run['kind'] ) );
		@fwrite( $this->pipes[0], wp_json_encode( $job ) . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions, WordPress.PHP.NoSilencedErrors
		stream_set_blocking( $this->pipes[1], false );
		stream_set_blocking( $this->pipes[2], false );

		$buffers   = array(
			1 => '',
			2 => '',
		);
		$stderr    = array();
		$exit_code    = null;
		$failure      = null;
		$budget_spent = false;
		$open         = array(
			1 => $this->pipes[1],
			2 => $this->pipes[2],
		);
		while ( $open ) {
			if ( 'publish' === $this->run['kind'] && microtime( true ) > $budget_at ) {
				// Writing listings is slower than reading them: stop at the budget. Every
				// listing applied so far is kept with its cursor; the next tick goes on.
				$budget_spent = true;
				$this->kill();
				break;
			}
			if ( microtime( true ) > $deadline ) {
				/* translators: %d: seconds */
				$failure = sprintf( __( 'The sidecar exceeded its time budget (%d s) and was stopped; the next run resumes from the last saved cursor.', 'pos-sync' ), (int) ( $budget_ms / 1000 ) + $margin );
				$this->kill();
				break;
			}
			$read   = array_values( $open );
			$write  = null;
			$except = null;
			if ( false === @stream_select( $read, $write, $except, 0, 200000 ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors
				usleep( 50000 );
			}
			foreach ( $open as $fd => $pipe ) {
				$chunk = fread( $pipe, 65536 ); // phpcs:ignore WordPress.WP.AlternativeFunctions
				if ( false !== $chunk && '' !== $chunk ) {
					$buffers[ $fd ] .= $chunk;
					while ( false !== ( $nl = strpos( $buffers[ $fd ], "\n" ) ) ) { // phpcs:ignore Generic.CodeAnalysis.AssignmentInCondition
						$line            = rtrim( substr( $buffers[ $fd ], 0, $nl ), "\r" );
						$buffers[ $fd ] = substr( $buffers[ $fd ], $nl + 1 );
						if ( 1 === $fd ) {
							$failure = $failure ?? $this->handle_line( $line );
							if ( null !== $failure ) {
								$this->kill();
								break 3;
							}
						} elseif ( '' !== trim( $line ) ) {
							$stderr[] = $line;
							Log::debug( 'sidecar stderr: ' . Log::scrub( $line ) );
						}
					}
				} elseif ( feof( $pipe ) ) {
					unset( $open[ $fd ] );
				}
			}
		}
		if ( '' !== trim( $buffers[1] ) && null === $failure ) {
			$failure = $this->handle_line( $buffers[1] );
		}
		foreach ( $this->pipes as $pipe ) {
			if ( is_resource( $pipe ) ) {
				fclose( $pipe ); // phpcs:ignore WordPress.WP.AlternativeFunctions
			}
		}
		$exit_code               = $this->wait_exit();
		$this->run['exit_code']  = $exit_code;
		if ( $budget_spent && null === $failure ) {
			$this->run['summary']['done'] = false;
			return $this->finish( null );
		}
		if ( null === $failure && null !== $this->signal ) {
			/* translators: %d: signal number */
			$failure = $this->run['error'] ?? sprintf( __( 'The sidecar was killed (signal %d) before it finished; every batch applied so far is kept and the next run resumes from the saved cursor.', 'pos-sync' ), $this->signal );
		}
		if ( null === $failure && 0 !== $exit_code ) {
			$last    = $stderr ? Log::scrub( (string) end( $stderr ) ) : '';
			$failure = $this->run['error'] ?? ( '' !== $last
				/* translators: 1: exit code, 2: last line the sidecar printed on stderr */
				? sprintf( __( 'The sidecar stopped with exit code %1$s: %2$s', 'pos-sync' ), (string) $exit_code, mb_substr( $last, 0, 300 ) )
				/* translators: %s: exit code */
				: sprintf( __( 'The sidecar stopped with exit code %s.', 'pos-sync' ), (string) $exit_code ) );
		}
		if ( null === $failure && empty( $this->run['result']['ok'] ) ) {
			$failure = $this->run['error'] ?? __( 'The sidecar ended without reporting a result.', 'pos-sync' );
		}
		return $this->finish( $failure );
	}

	/**
	 * Handles one event line; returns a failure sentence when the run must stop.
	 *
	 * @param string $line NDJSON line.
	 */
	private function handle_line( string $line ): ?string {
		if ( '' === trim( $line ) ) {
			return null;
		}
		$event = json_decode( $line, true );
		if ( ! is_array( $event ) || ! isset( $event['type'] ) ) {
			Log::warning( __( 'The sidecar printed a line that is not an event:', 'pos-sync' ) . ' ' . mb_substr( Log::scrub( $line ), 0, 200 ) );
			return null;
		}
		if ( 1 !== (int) ( $event['v'] ?? 0 ) ) {
			/* translators: %s: protocol version */
			return sprintf( __( 'The sidecar speaks protocol version %s; this plugin speaks version 1. Reinstall the plugin.', 'pos-sync' ), (string) ( $event['v'] ?? '?' ) );
		}
		++$this->run['events'];
		switch ( $event['type'] ) {
			case 'hello':
				Log::debug( sprintf( 'run %s: sidecar core %s', $this->run['run_id'], (string) ( $event['core'] ?? '?' ) ) );
				break;
			case 'token':
				$saved = Settings::save_tokens( $event['access_token'] ?? null, (string) ( $event['refresh_token'] ?? '' ), (int) ( $event['expires_at_ms'] ?? 0 ) );
				if ( ! $saved ) {
					return __( 'A new POS token pair could not be saved; the run was stopped before using it.', 'pos-sync' );
				}
				Log::info( sprintf( /* translators: %s: run ID */ __( 'Run %s: new POS token pair saved.', 'pos-sync' ), $this->run['run_id'] ) );
				@fwrite( $this->pipes[0], wp_json_encode( array( 'v' => 1, 'type' => 'token_saved', 'refresh_token' => (string) $event['refresh_token'] ) ) . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions, WordPress.Arrays.ArrayDeclarationSpacing
				@fflush( $this->pipes[0] ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
				break;
			case 'stock':
				try {
					$this->applier->apply_stock_event( $event );
				} catch ( \Throwable $e ) {
					/* translators: %s: database or WooCommerce error */
					return sprintf( __( 'Applying stock failed and was rolled back (%s); the next run retries from the saved cursor.', 'pos-sync' ), $e->getMessage() );
				}
				break;
			case 'sale_posted':
				try {
					Outbox::apply_posted( $event, $this->lease ? $this->lease->token : '' );
					OutboxActions::resume_parked();
				} catch ( \Throwable $e ) {
					/* translators: 1: reference number, 2: database error */
					return sprintf( __( 'Recording that %1$s is in the POS failed (%2$s); the next run looks it up again and records it then.', 'pos-sync' ), (string) ( $event['reference'] ?? '?' ), $e->getMessage() );
				}
				break;
			case 'outbox_absent':
				try {
					OrderLife::apply_absent( $event, $this->lease ? $this->lease->token : '' );
				} catch ( \Throwable $e ) {
					/* translators: 1: reference number, 2: database error */
					return sprintf( __( 'Recording that %1$s is not in the POS failed (%2$s); it is looked up again on the next run.', 'pos-sync' ), (string) ( $event['reference'] ?? '?' ), $e->getMessage() );
				}
				break;
			case 'outbox_failed':
				try {
					Outbox::apply_failed( $event, $this->lease ? $this->lease->token : '' );
				} catch ( \Throwable $e ) {
					/* translators: 1: reference number, 2: database error */
					return sprintf( __( 'Recording the failure of %1$s failed (%2$s); it is sent again on the next run.', 'pos-sync' ), (string) ( $event['reference'] ?? '?' ), $e->getMessage() );
				}
				break;
			case 'product':
				try {
					$this->publisher->apply_product_event( $event );
				} catch ( \Throwable $e ) {
					/* translators: %s: what failed */
					return sprintf( __( 'Publishing failed and was rolled back (%s); the next run retries from the saved cursor.', 'pos-sync' ), $e->getMessage() );
				}
				break;
			case 'lookups':
				Lookups::store( (array) ( $event['lookups'] ?? array() ) );
				break;
			case 'cursor':
				if ( 'publish' === ( $event['flow'] ?? '' ) ) {
					Publisher::store_cursor( $event['cursor'] ?? null );
				} elseif ( 'publish_replan' === ( $event['flow'] ?? '' ) ) {
					Catalogue::replan_done( $event['cursor'] ?? null );
				}
				break;
			case 'progress':
				$progress                                      = (array) get_option( self::PROGRESS_OPTION, array() );
				$progress[ (string) ( $event['flow'] ?? '' ) ] = array(
					'done'  => $event['done'] ?? null,
					'total' => $event['total'] ?? null,
					'at'    => time(),
				);
				update_option( self::PROGRESS_OPTION, $progress, false );
				if ( 'publish' === ( $event['flow'] ?? '' ) ) {
					Publisher::record_progress( $event, (float) $this->run['started_at'] );
				}
				break;
			case 'log':
				$context = is_array( $event['context'] ?? null ) ? $event['context'] : array();
				Log::write( (string) ( $event['level'] ?? 'info' ), Log::scrub( (string) ( $event['message'] ?? '' ) ), $context );
				break;
			case 'error':
				$this->run['error'] = Log::scrub( (string) ( $event['message'] ?? $event['code'] ?? __( 'unknown error', 'pos-sync' ) ) );
				if ( isset( $event['retry_at_ms'] ) ) {
					$this->run['retry_at_ms'] = (int) $event['retry_at_ms'];
				}
				Log::error( sprintf( /* translators: 1: run ID, 2: error from the POS side, 3: error code */ __( 'Run %1$s: %2$s (%3$s)', 'pos-sync' ), $this->run['run_id'], $this->run['error'], (string) ( $event['code'] ?? '' ) ) );
				break;
			case 'result':
				$this->run['result']  = $event;
				$this->run['summary'] = (array) ( $event['summary'] ?? array() );
				break;
			default:
				Log::debug( 'sidecar event of unknown type ' . sanitize_key( (string) $event['type'] ) . ' ignored' );
		}
		return null;
	}

	/**
	 * Stops the sidecar: SIGTERM, then SIGKILL.
	 */
	private function kill(): void {
		if ( ! is_resource( $this->process ) ) {
			return;
		}
		proc_terminate( $this->process, 15 );
		$until = microtime( true ) + 2;
		while ( microtime( true ) < $until && proc_get_status( $this->process )['running'] ) {
			usleep( 50000 );
		}
		if ( proc_get_status( $this->process )['running'] ) {
			proc_terminate( $this->process, 9 );
		}
	}

	/**
	 * Waits for the exit code (only the first status call after exit carries it).
	 */
	private function wait_exit(): ?int {
		if ( ! is_resource( $this->process ) ) {
			return null;
		}
		$code  = null;
		$until = microtime( true ) + 5;
		do {
			$status = proc_get_status( $this->process );
			if ( ! $status['running'] ) {
				$this->signal = $status['signaled'] ? (int) $status['termsig'] : null;
				$code         = $status['signaled'] ? 128 + (int) $status['termsig'] : (int) $status['exitcode'];
				break;
			}
			usleep( 20000 );
		} while ( microtime( true ) < $until );
		if ( null === $code ) {
			proc_terminate( $this->process, 9 );
		}
		$closed = proc_close( $this->process );
		return $code ?? $closed;
	}

	/**
	 * Records the run (sync and reconcile only) and returns it.
	 *
	 * @param string|null $failure Why the run failed, or null.
	 */
	private function finish( ?string $failure ): array {
		$this->run['finished_at'] = time();
		$this->run['ok']          = null === $failure;
		$this->run['error']       = $failure;
		$this->publisher->end();
		$this->run['summary']     = array_merge( $this->run['summary'], array( 'applied' => $this->applier->counts ), 'publish' === $this->run['kind'] ? array( 'published' => $this->publisher->summary() ) : array() );
		$this->applier->finish();
		if ( $this->lease ) {
			$this->lease->release(); // The sidecar has exited: what it left unsettled is free.
		}
		if ( null === $failure && 'sync' === $this->run['kind'] ) {
			OutboxActions::resume_parked(); // The POS answered well again.
		}
		if ( null === $failure && 'sync' === $this->run['kind'] && ! empty( $this->extra['recheck_item_ids'] ) && false !== ( $this->run['summary']['done'] ?? true ) ) {
			// The recheck readings all came back: an item the POS did not return is not asked again.
			Ledger::forget_rechecks( $this->extra['recheck_item_ids'], $this->recheck_asked_ms );
		}
		if ( null !== $failure ) {
			Log::error( sprintf( /* translators: 1: run ID, 2: job kind, 3: cause */ __( 'Run %1$s (%2$s) failed: %3$s', 'pos-sync' ), $this->run['run_id'], $this->run['kind'], $failure ) );
		} else {
			Log::info( sprintf( /* translators: 1: run ID, 2: job kind, 3: counts */ __( 'Run %1$s (%2$s) done: %3$s', 'pos-sync' ), $this->run['run_id'], $this->run['kind'], wp_json_encode( $this->run['summary'] ) ) );
		}
		if ( ! in_array( $this->run['kind'], array( 'test_connection', 'lookups' ), true ) ) {
			// The admin notice speaks of the last sync; every kind keeps its own last run.
			if ( 'sync' === $this->run['kind'] ) {
				update_option( self::LAST_RUN_OPTION, $this->run, false );
			}
			$runs                       = (array) get_option( self::LAST_RUNS_OPTION, array() );
			$runs[ $this->run['kind'] ] = $this->run;
			update_option( self::LAST_RUNS_OPTION, $runs, false );
		}
		return $this->run;
	}
}
