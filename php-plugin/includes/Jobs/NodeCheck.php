<?php
/**
 * Can this host run the sidecar? PHP must allow proc_open (many shared hosts disable it)
 * and the Node.js binary must be Node 20 or later, proved by running it with `--version`
 * (an argument array, never a shell string). Checked when the binary is saved and before
 * every run, so a host that cannot run it gets a failed run with a sentence saying what
 * the host must allow, never a PHP fatal.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * The host checks of the runner.
 */
final class NodeCheck {

	/**
	 * Oldest Node.js major version the sidecar runs on.
	 */
	public const MIN_MAJOR = 20;

	/**
	 * The PHP functions the runner needs.
	 */
	public const FUNCTIONS = array( 'proc_open', 'proc_get_status', 'proc_terminate', 'proc_close' );

	/**
	 * Versions already read in this request, by binary.
	 *
	 * @var array<string,array>
	 */
	private static array $seen = array();

	/**
	 * The PHP functions the runner needs that this PHP does not offer.
	 *
	 * @return string[]
	 */
	public static function missing_functions(): array {
		$disabled = array_map( 'trim', explode( ',', strtolower( (string) ini_get( 'disable_functions' ) ) ) );
		return array_values( array_filter( self::FUNCTIONS, static fn( $f ) => ! function_exists( $f ) || in_array( $f, $disabled, true ) ) );
	}

	/**
	 * The sentence for a PHP without proc_open, or null when the functions are there.
	 */
	public static function php_problem(): ?string {
		$missing = self::missing_functions();
		if ( ! $missing ) {
			return null;
		}
		return sprintf(
			/* translators: 1: disabled PHP functions, 2: the PHP functions needed */
			__( 'PHP on this server does not allow %1$s (disable_functions), so POS Sync cannot start its Node.js sidecar and nothing is synchronised. Ask your host to allow %2$s for this site, with Node.js 20 or later installed.', 'pos-sync' ),
			implode( ', ', $missing ),
			implode( ', ', self::FUNCTIONS )
		);
	}

	/**
	 * Runs `<binary> --version`: `{major, version}` or `{error}`.
	 *
	 * @param string $binary Path of the binary.
	 */
	public static function version( string $binary ): array {
		if ( isset( self::$seen[ $binary ] ) ) {
			return self::$seen[ $binary ];
		}
		$problem = self::php_problem();
		if ( null !== $problem ) {
			return array( 'error' => $problem );
		}
		if ( ! ( @is_file( $binary ) && @is_executable( $binary ) ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors
			return array( 'error' => 'missing' );
		}
		// phpcs:ignore Generic.PHP.ForbiddenFunctions.Found -- an argument array, no shell.
		$process = @proc_open( array( $binary, '--version' ), array( 0 => array( 'pipe', 'r' ), 1 => array( 'pipe', 'w' ), 2 => array( 'pipe', 'w' ) ), $pipes ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
		if ( ! is_resource( $process ) ) {
			return array( 'error' => 'start' );
		}
		fclose( $pipes[0] ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		stream_set_blocking( $pipes[1], false );
		$out   = '';
		$until = microtime( true ) + 5;
		while ( microtime( true ) < $until && strlen( $out ) < 4096 ) {
			$read   = array( $pipes[1] );
			$write  = null;
			$except = null;
			if ( false === @stream_select( $read, $write, $except, 0, 100000 ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors
				break;
			}
			$chunk = fread( $pipes[1], 4096 ); // phpcs:ignore WordPress.WP.AlternativeFunctions
			if ( false !== $chunk && '' !== $chunk ) {
				$out .= $chunk;
			} elseif ( feof( $pipes[1] ) ) {
				break;
			}
		}
		if ( proc_get_status( $process )['running'] ) {
			proc_terminate( $process, 9 );
		}
		fclose( $pipes[1] ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		fclose( $pipes[2] ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		proc_close( $process );
		$first = trim( (string) strtok( $out, "\n" ) );
		$found = preg_match( '/^v(\d+)\.\d+\.\d+\S*$/', $first, $m )
			? array(
				'major'   => (int) $m[1],
				'version' => $first,
			)
			: array(
				'error'  => 'not_node',
				'output' => mb_substr( sanitize_text_field( $first ), 0, 80 ),
			);
		self::$seen[ $binary ] = $found;
		return $found;
	}

	/**
	 * Why a binary may not run the sidecar, or null when it is Node.js 20 or later.
	 *
	 * @param string $binary Path of the binary.
	 */
	public static function binary_problem( string $binary ): ?string {
		$v = self::version( $binary );
		if ( isset( $v['major'] ) ) {
			return $v['major'] >= self::MIN_MAJOR ? null : sprintf(
				/* translators: 1: path, 2: version it printed, 3: minimum major version */
				__( 'Node.js binary %1$s is %2$s; POS Sync needs Node.js %3$d or later.', 'pos-sync' ),
				$binary,
				$v['version'],
				self::MIN_MAJOR
			);
		}
		switch ( $v['error'] ) {
			case 'missing':
				/* translators: %s: path */
				return sprintf( __( 'Node.js was not found at %s (no executable file there).', 'pos-sync' ), $binary );
			case 'start':
				/* translators: %s: path */
				return sprintf( __( 'Node.js binary %s could not be started.', 'pos-sync' ), $binary );
			case 'not_node':
				/* translators: 1: path, 2: what it printed */
				return sprintf( __( '%1$s is not Node.js: run with --version it printed “%2$s”, not a Node.js version.', 'pos-sync' ), $binary, (string) $v['output'] );
			default:
				return (string) $v['error'];
		}
	}

	/**
	 * The Node.js binary a run may use: `[path, null]`, or `[null, sentence]` saying what is
	 * missing (proc_open, Node.js, or a Node.js too old).
	 */
	public static function usable_node(): array {
		$problem = self::php_problem();
		if ( null !== $problem ) {
			return array( null, $problem );
		}
		$configured = (string) Settings::get( 'node_path' );
		$node       = Runner::find_node( $configured );
		if ( null === $node ) {
			return array(
				null,
				'' !== $configured
					/* translators: %s: configured path */
					? sprintf( __( 'Node.js was not found at %s (POS Sync settings → Node.js binary).', 'pos-sync' ), $configured )
					: __( 'Node.js was not found on this server (looked in PATH and the usual places); install Node.js 20 or later or set its path in POS Sync settings.', 'pos-sync' ),
			);
		}
		$problem = self::binary_problem( $node );
		return null === $problem ? array( $node, null ) : array( null, $problem . ' ' . __( 'Install Node.js 20 or later or set its path in POS Sync settings (Node.js binary).', 'pos-sync' ) );
	}

	/**
	 * Checks a Node.js binary typed in the settings; an error keeps the previous value.
	 *
	 * @param string $typed  Path typed ('' = look in the usual places).
	 * @param string $before Stored path.
	 * @param array  $errors Errors to show.
	 */
	public static function validate_setting( string $typed, string $before, array &$errors ): string {
		if ( '' === $typed || $typed === $before ) {
			return $typed;
		}
		$problem = self::php_problem() ?? self::binary_problem( $typed );
		if ( null === $problem ) {
			return $typed;
		}
		$errors[] = $problem . ' ' . __( 'The previous Node.js binary is kept.', 'pos-sync' );
		return $before;
	}
}
