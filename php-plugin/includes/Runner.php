<?php
/**
 * Runner: starts the Node sidecar with proc_open (argument array, no shell), writes
 * one job line, reads event lines until the process exits or its time is up.
 *
 * @package PosSync
 */

namespace PosSync;

defined( 'ABSPATH' ) || exit;

/**
 * One sidecar run at a time.
 */
final class Runner {

	public const LAST_RUN_OPTION = 'pos_sync_last_run';
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
	 * @var Applier
	 */
	private Applier $applier;

	/**
	 * WP-Cron: one sync when the connection is configured.
	 */
	public static function tick(): void {
		Schema::prune_stock_log( (int) Settings::get( 'log_days' ) );
		if ( Settings::is_configured() ) {
			self::run( 'sync' );
		}
	}

	/**
	 * Runs one job of the given kind and returns what happened:
	 * `ok`, `error` (a sentence), `result` (the result event), `summary`.
	 *
	 * @param string $kind sync | reconcile | test_connection.
	 */
	public static function run( string $kind ): array {
		$lock = self::lock_name();
		// A connection test waits a little for a running sync; cron ticks never wait.
		$wait = 'test_connection' === $kind ? 10 : 0;
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
			return ( new self( $kind ) )->execute();
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
		return (string) apply_filters( 'pos_sync_sidecar_path', dirname( PLUGIN_FILE ) . '/sidecar/sidecar.mjs' );
	}

	/**
	 * A run of one kind.
	 *
	 * @param string $kind Job kind.
	 */
	private function __construct( string $kind ) {
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
		$this->applier = new Applier( $this->run['run_id'] );
	}

	/**
	 * Starts the sidecar and follows it to the end.
	 */
	private function execute(): array {
		$node    = self::find_node();
		$sidecar = self::sidecar_path();
		if ( null === $node ) {
			$configured = (string) Settings::get( 'node_path' );
			return $this->finish(
				'' !== $configured
					/* translators: %s: configured path */
					? sprintf( __( 'Node.js was not found at %s (POS Sync settings → Node.js binary).', 'pos-sync' ), $configured )
					: __( 'Node.js was not found on this server (looked in PATH and the usual places); install Node.js 20 or later or set its path in POS Sync settings.', 'pos-sync' )
			);
		}
		if ( ! is_file( $sidecar ) ) {
			/* translators: %s: file path */
			return $this->finish( sprintf( __( 'The sidecar script is missing (%s); reinstall the plugin.', 'pos-sync' ), $sidecar ) );
		}

		$budget_ms = 1000 * max( 5, (int) Settings::get( 'budget_seconds' ) );
		/**
		 * Filters the seconds given to the sidecar beyond its budget before it is stopped.
		 *
		 * @param int $margin Seconds.
		 */
		$margin    = max( 1, (int) apply_filters( 'pos_sync_timeout_margin_s', self::TIMEOUT_MARGIN_S ) );
		$deadline  = microtime( true ) + $budget_ms / 1000 + $margin;
		if ( function_exists( 'set_time_limit' ) ) {
			@set_time_limit( (int) ( $budget_ms / 1000 ) + $margin + 30 ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
		}
		ignore_user_abort( true );

		$job = array(
			'v'         => 1,
			'kind'      => $this->run['kind'],
			'now_ms'    => (int) floor( microtime( true ) * 1000 ),
			'budget_ms' => $budget_ms,
			'settings'  => Settings::for_job(),
			'tokens'    => Settings::tokens(),
			'cursors'   => Settings::cursors(),
		);

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
		$exit_code = null;
		$failure   = null;
		$open      = array(
			1 => $this->pipes[1],
			2 => $this->pipes[2],
		);
		while ( $open ) {
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
			case 'progress':
				$progress                                      = (array) get_option( self::PROGRESS_OPTION, array() );
				$progress[ (string) ( $event['flow'] ?? '' ) ] = array(
					'done'  => $event['done'] ?? null,
					'total' => $event['total'] ?? null,
					'at'    => time(),
				);
				update_option( self::PROGRESS_OPTION, $progress, false );
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
		$this->run['summary']     = array_merge( $this->run['summary'], array( 'applied' => $this->applier->counts ) );
		$this->applier->finish();
		if ( null !== $failure ) {
			Log::error( sprintf( /* translators: 1: run ID, 2: job kind, 3: cause */ __( 'Run %1$s (%2$s) failed: %3$s', 'pos-sync' ), $this->run['run_id'], $this->run['kind'], $failure ) );
		} else {
			Log::info( sprintf( /* translators: 1: run ID, 2: job kind, 3: counts */ __( 'Run %1$s (%2$s) done: %3$s', 'pos-sync' ), $this->run['run_id'], $this->run['kind'], wp_json_encode( $this->run['summary'] ) ) );
		}
		if ( 'test_connection' !== $this->run['kind'] ) {
			update_option( self::LAST_RUN_OPTION, $this->run, false );
		}
		return $this->run;
	}
}
