<?php
/**
 * WooCommerce → POS Sync: the status (runs, outbox, import, token health, WP-Cron health,
 * "Sync now" / "Full reconcile") and the stock differences report ("Fix", dry run).
 * manage_woocommerce and a nonce on every action; no secret is ever printed.
 *
 * @package PosSync
 */

namespace PosSync\Admin;

use PosSync\Apply\Publisher;
use PosSync\Jobs\Background;
use PosSync\Jobs\NodeCheck;
use PosSync\Jobs\Reconcile;
use PosSync\Jobs\Runner;
use PosSync\Plugin;
use PosSync\Store\Ledger;
use PosSync\Store\Log;
use PosSync\Store\Schema;
use PosSync\Store\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * The merchant's view of the sync.
 */
final class StatusPage {

	public const SLUG             = 'pos-sync';
	public const LAST_TICK_OPTION = 'pos_sync_last_tick';
	public const TOKEN_AT_OPTION  = 'pos_sync_token_refreshed_at';

	/**
	 * Minutes without a tick before the cron warning shows.
	 */
	public const CRON_LATE_MIN = 10;

	/**
	 * Wires the page, its actions, the product screen and WP-CLI.
	 */
	public static function hooks(): void {
		add_action( 'admin_menu', array( self::class, 'menu' ), 60 );
		add_action( 'admin_post_pos_sync_sync_now', array( self::class, 'sync_now' ) );
		add_action( 'admin_post_pos_sync_full_reconcile', array( self::class, 'full_reconcile' ) );
		add_action( 'admin_post_pos_sync_report_fix', array( self::class, 'report_fix' ) );
		add_action( 'admin_post_pos_sync_dry_run', array( self::class, 'dry_run' ) );
		Background::hooks();
		Actions::hooks();
		add_action( Plugin::CRON_HOOK, array( self::class, 'record_tick' ), 1 );
		add_action( 'add_option_' . Settings::TOKENS_OPTION, array( self::class, 'record_token_saved' ) );
		add_action( 'update_option_' . Settings::TOKENS_OPTION, array( self::class, 'record_token_saved' ) );
		add_action( 'woocommerce_system_status_report', array( self::class, 'system_status' ) );
		ProductScreen::hooks();
		if ( defined( 'WP_CLI' ) && WP_CLI && class_exists( '\WP_CLI' ) ) {
			\WP_CLI::add_command( 'pos-sync', Cli::class );
		}
	}

	/**
	 * A tick started (for the WP-Cron health check).
	 */
	public static function record_tick(): void {
		update_option( self::LAST_TICK_OPTION, time(), false );
	}

	/**
	 * A token pair was saved (for the token health; the token itself is not kept here).
	 */
	public static function record_token_saved(): void {
		update_option( self::TOKEN_AT_OPTION, time(), false );
	}

	/**
	 * WooCommerce → POS Sync.
	 */
	public static function menu(): void {
		add_submenu_page( 'woocommerce', __( 'POS Sync', 'pos-sync' ), __( 'POS Sync', 'pos-sync' ), 'manage_woocommerce', self::SLUG, array( self::class, 'render' ) );
	}

	/**
	 * URL of a tab of the page.
	 *
	 * @param string $tab  status|report.
	 * @param array  $args More query args.
	 */
	public static function url( string $tab = 'status', array $args = array() ): string {
		return add_query_arg( array_merge( array( 'page' => self::SLUG, 'tab' => $tab ), $args ), admin_url( 'admin.php' ) );
	}

	/**
	 * A one-time notice for the current user after an action.
	 *
	 * @param bool   $ok      Success.
	 * @param string $message Message (free of secrets).
	 */
	private static function flash( bool $ok, string $message ): void {
		set_transient( 'pos_sync_flash_' . get_current_user_id(), array( 'ok' => $ok, 'message' => $message ), 5 * MINUTE_IN_SECONDS );
	}

	/**
	 * Queues a background task, says so and goes back to a tab.
	 *
	 * @param string $task Background task.
	 * @param string $tab  Tab to go back to.
	 */
	private static function queue_and_return( string $task, string $tab ): void {
		$name = Background::names()[ $task ];
		self::flash(
			true,
			Background::queue( $task )
				/* translators: %s: the action (Sync now, Full reconcile …) */
				? sprintf( __( '%s: queued; it runs in the background and the status page shows when it is done.', 'pos-sync' ), $name )
				/* translators: %s: the action (Sync now, Full reconcile …) */
				: sprintf( __( '%s: already queued or running; the status page shows when it is done.', 'pos-sync' ), $name )
		);
		wp_safe_redirect( self::url( $tab, array( 'pos_sync_queued' => $task ) ) );
		exit;
	}

	/**
	 * admin-post (POST): a sync in the background (then the due orders when orders are set up).
	 */
	public static function sync_now(): void {
		Actions::guard( 'pos_sync_sync_now' );
		self::queue_and_return( 'sync', 'status' );
	}

	/**
	 * admin-post (POST): starts a full reconcile pass and runs its first part in the background.
	 */
	public static function full_reconcile(): void {
		Actions::guard( 'pos_sync_full_reconcile' );
		Reconcile::start();
		Log::info( __( 'Full reconcile requested from the status page.', 'pos-sync' ) );
		self::queue_and_return( 'reconcile', 'status' );
	}

	/**
	 * admin-post (POST): "Fix" one row (item_id: a fresh reading at a sync in the background)
	 * or all (no item_id: the whole report is worked out in the background).
	 */
	public static function report_fix(): void {
		$item = Actions::posted_id( 'item_id' );
		Actions::guard( '' === $item ? 'pos_sync_report_fix_all' : 'pos_sync_report_fix_' . $item );
		if ( '' === $item ) {
			self::queue_and_return( 'fix_all', 'report' );
		}
		Ledger::request_recheck( array( $item ) );
		/* translators: %s: POS item ID */
		Log::info( sprintf( __( 'Stock differences report: a fresh reading of item %s was requested.', 'pos-sync' ), $item ) );
		self::queue_and_return( 'sync', 'report' );
	}

	/**
	 * admin-post (POST): the dry run of a reconcile, worked out in the background.
	 */
	public static function dry_run(): void {
		Actions::guard( 'pos_sync_dry_run' );
		self::queue_and_return( 'dry_run', 'report' );
	}

	/**
	 * The page: tabs, the flash notice, the tab.
	 */
	public static function render(): void {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			wp_die( esc_html__( 'You are not allowed to see POS Sync.', 'pos-sync' ), '', array( 'response' => 403 ) );
		}
		$tab = isset( $_GET['tab'] ) && 'report' === $_GET['tab'] ? 'report' : 'status'; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		echo '<div class="wrap pos-sync-page"><h1>' . esc_html__( 'POS Sync', 'pos-sync' ) . '</h1>';
		echo '<nav class="nav-tab-wrapper">';
		foreach ( array( 'status' => __( 'Status', 'pos-sync' ), 'report' => __( 'Stock differences', 'pos-sync' ) ) as $key => $label ) {
			printf( '<a class="nav-tab%1$s" id="pos-sync-tab-%2$s" href="%3$s">%4$s</a>', $tab === $key ? ' nav-tab-active' : '', esc_attr( $key ), esc_url( self::url( $key ) ), esc_html( $label ) );
		}
		printf( '<a class="nav-tab" href="%1$s">%2$s</a>', esc_url( admin_url( 'admin.php?page=wc-settings&tab=pos_sync' ) ), esc_html__( 'Settings', 'pos-sync' ) );
		echo '</nav><hr class="wp-header-end">';
		$key   = 'pos_sync_flash_' . get_current_user_id();
		$flash = get_transient( $key );
		if ( is_array( $flash ) ) {
			delete_transient( $key );
			printf( '<div id="pos-sync-flash" class="notice %1$s"><p>%2$s</p></div>', $flash['ok'] ? 'notice-success' : 'notice-error', esc_html( Log::scrub( (string) $flash['message'] ) ) );
		}
		if ( 'report' === $tab ) {
			self::render_report();
		} else {
			self::render_status();
		}
		echo '</div>';
	}

	/**
	 * Everything the status tab shows, as data (also for WP-CLI).
	 */
	public static function status(): array {
		global $wpdb;
		$outbox = Schema::outbox();
		$counts = array();
		foreach ( (array) $wpdb->get_results( "SELECT state, COUNT(*) AS n FROM {$outbox} GROUP BY state", ARRAY_A ) as $row ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			$counts[ (string) $row['state'] ] = (int) $row['n'];
		}
		$tokens    = Settings::tokens();
		$last_tick = (int) get_option( self::LAST_TICK_OPTION, 0 );
		$next      = wp_next_scheduled( Plugin::CRON_HOOK );
		$late      = Settings::is_configured() && ( ( $last_tick && $last_tick < time() - self::CRON_LATE_MIN * MINUTE_IN_SECONDS ) || ( ! $last_tick && $next && $next < time() - self::CRON_LATE_MIN * MINUTE_IN_SECONDS ) );
		return array(
			'configured' => Settings::is_configured(),
			'last_run'   => get_option( Runner::LAST_RUN_OPTION ) ?: null,
			'runs'       => (array) get_option( Runner::LAST_RUNS_OPTION, array() ),
			'next_run'   => $next ? (int) $next : null,
			'last_tick'  => $last_tick ?: null,
			'cron_late'  => $late,
			'wp_cron_disabled' => defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON,
			'outbox'     => array(
				'pending'   => (int) ( ( $counts['pending'] ?? 0 ) + ( $counts['sending'] ?? 0 ) + ( $counts['retry'] ?? 0 ) ),
				'held'      => (int) ( $counts['held'] ?? 0 ),
				'attention' => (int) ( $counts['attention'] ?? 0 ),
				'posted'    => (int) ( $counts['posted'] ?? 0 ),
				'cancelled' => (int) ( $counts[ Schema::CANCELLED_STATE ] ?? 0 ),
				'manual'    => (int) ( $counts['manual'] ?? 0 ),
				'by_state'  => $counts,
			),
			'progress'   => (array) get_option( Runner::PROGRESS_OPTION, array() ),
			'import'     => Publisher::progress(),
			'reconcile'  => Reconcile::state(),
			'token'      => array(
				'set'          => '' !== (string) $tokens['refresh_token'],
				'expires_at'   => $tokens['expires_at_ms'] ? (int) floor( $tokens['expires_at_ms'] / 1000 ) : null,
				'refreshed_at' => ( (int) get_option( self::TOKEN_AT_OPTION, 0 ) ) ?: null,
			),
		);
	}

	/**
	 * WooCommerce → Status: a POS Sync section for support (versions, Node.js, last run,
	 * queue sizes). No secret, no token.
	 */
	public static function system_status(): void {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			return;
		}
		$s    = self::status();
		list( $node, $problem ) = NodeCheck::usable_node();
		$rows = array(
			__( 'Version', 'pos-sync' )             => \PosSync\VERSION,
			__( 'Database version', 'pos-sync' )    => (string) get_option( Schema::DB_VERSION_OPTION ),
			__( 'Node.js', 'pos-sync' )             => null !== $node ? $node . ' (' . (string) ( NodeCheck::version( $node )['version'] ?? '' ) . ')' : __( 'not usable', 'pos-sync' ),
			__( 'Can run the sidecar', 'pos-sync' ) => null === $problem ? __( 'yes', 'pos-sync' ) : $problem,
			__( 'Sidecar', 'pos-sync' )             => is_file( Runner::sidecar_path() ) ? __( 'present', 'pos-sync' ) : __( 'missing', 'pos-sync' ),
			__( 'Connected', 'pos-sync' )           => $s['configured'] ? __( 'yes', 'pos-sync' ) : __( 'no', 'pos-sync' ),
			__( 'Last sync', 'pos-sync' )           => $s['last_run'] ? self::when( (int) $s['last_run']['finished_at'] ) . ( empty( $s['last_run']['ok'] ) ? ' — ' . __( 'failed', 'pos-sync' ) . ': ' . (string) $s['last_run']['error'] : '' ) : '—',
			__( 'Next run', 'pos-sync' )            => self::when( $s['next_run'] ),
			__( 'WP-Cron', 'pos-sync' )             => ( $s['wp_cron_disabled'] ? 'DISABLE_WP_CRON; ' : '' ) . ( $s['cron_late'] ? __( 'late', 'pos-sync' ) : __( 'ok', 'pos-sync' ) ),
			__( 'Outbox held for stock', 'pos-sync' ) => (string) $s['outbox']['held'],
			__( 'Outbox waiting', 'pos-sync' )      => (string) $s['outbox']['pending'],
			__( 'Outbox needing attention', 'pos-sync' ) => (string) $s['outbox']['attention'],
			__( 'Outbox cancelled', 'pos-sync' )    => (string) $s['outbox']['cancelled'],
			__( 'Rechecks waiting', 'pos-sync' )    => (string) count( Ledger::recheck_item_ids( 100000 ) ),
		);
		echo '<table class="wc_status_table widefat" cellspacing="0" id="pos-sync-system-status"><thead><tr><th colspan="3" data-export-label="POS Sync"><h2>' . esc_html__( 'POS Sync', 'pos-sync' ) . '</h2></th></tr></thead><tbody>';
		foreach ( $rows as $label => $value ) {
			printf( '<tr><td data-export-label="%1$s">%2$s:</td><td class="help">&nbsp;</td><td>%3$s</td></tr>', esc_attr( $label ), esc_html( $label ), esc_html( Log::scrub( (string) $value ) ) );
		}
		echo '</tbody></table>';
	}

	/**
	 * A time for people, or a dash.
	 *
	 * @param int|null $ts Unix time.
	 */
	private static function when( ?int $ts ): string {
		if ( ! $ts ) {
			return '—';
		}
		$diff = human_time_diff( $ts, time() );
		/* translators: 1: date and time, 2: "5 mins" */
		return sprintf( $ts <= time() ? __( '%1$s (%2$s ago)', 'pos-sync' ) : __( '%1$s (in %2$s)', 'pos-sync' ), wp_date( 'Y-m-d H:i:s', $ts ), $diff );
	}

	/**
	 * The status tab.
	 */
	private static function render_status(): void {
		$s = self::status();
		if ( ! $s['configured'] ) {
			printf( '<div class="notice notice-warning inline"><p>%1$s <a href="%2$s">%3$s</a></p></div>', esc_html__( 'POS Sync is not connected to a POS yet.', 'pos-sync' ), esc_url( admin_url( 'admin.php?page=wc-settings&tab=pos_sync' ) ), esc_html__( 'Settings', 'pos-sync' ) );
		}
		if ( $s['cron_late'] ) {
			echo '<div id="pos-sync-cron-warning" class="notice notice-warning inline"><p><strong>' . esc_html__( 'WP-Cron has not run POS Sync for a while', 'pos-sync' ) . '</strong> (' . esc_html( self::when( $s['last_tick'] ) ) . '). ';
			echo esc_html__( 'WP-Cron only runs when someone visits the site, or not at all when DISABLE_WP_CRON is set. Use a real cron instead, every minute:', 'pos-sync' ) . '</p>';
			echo '<pre>* * * * * curl -s ' . esc_html( site_url( 'wp-cron.php?doing_wp_cron' ) ) . ' &gt;/dev/null</pre>';
			echo '<p>' . esc_html__( 'or, with WP-CLI:', 'pos-sync' ) . '</p><pre>* * * * * wp --path=' . esc_html( ABSPATH ) . ' pos-sync sync</pre></div>';
		}

		echo '<h2>' . esc_html__( 'Runs', 'pos-sync' ) . '</h2><table class="widefat striped" id="pos-sync-runs"><tbody>';
		printf( '<tr><th>%1$s</th><td>%2$s</td></tr>', esc_html__( 'Last sync', 'pos-sync' ), esc_html( $s['last_run'] ? self::when( (int) $s['last_run']['finished_at'] ) : '—' ) );
		printf( '<tr><th>%1$s</th><td id="pos-sync-next-run">%2$s</td></tr>', esc_html__( 'Next run', 'pos-sync' ), esc_html( self::when( $s['next_run'] ) ) );
		printf( '<tr><th>%1$s</th><td>%2$s%3$s</td></tr>', esc_html__( 'WP-Cron', 'pos-sync' ), esc_html( $s['last_tick'] ? sprintf( /* translators: %s: when */ __( 'last tick %s', 'pos-sync' ), self::when( $s['last_tick'] ) ) : __( 'no tick recorded yet', 'pos-sync' ) ), $s['wp_cron_disabled'] ? esc_html( ' — ' . __( 'DISABLE_WP_CRON is set: a real cron must call wp-cron.php or `wp pos-sync sync`.', 'pos-sync' ) ) : '' );
		echo '</tbody></table>';

		$names = array(
			'sync'        => __( 'Stock from the POS', 'pos-sync' ),
			'post_orders' => __( 'Orders and refunds to the POS', 'pos-sync' ),
			'reconcile'   => __( 'Full reconcile', 'pos-sync' ),
			'publish'     => __( 'Products from the POS', 'pos-sync' ),
		);
		echo '<h2>' . esc_html__( 'What each flow did', 'pos-sync' ) . '</h2><table class="widefat striped" id="pos-sync-flows"><thead><tr><th>' . esc_html__( 'Flow', 'pos-sync' ) . '</th><th>' . esc_html__( 'Finished', 'pos-sync' ) . '</th><th>' . esc_html__( 'Result', 'pos-sync' ) . '</th><th>' . esc_html__( 'Counts', 'pos-sync' ) . '</th></tr></thead><tbody>';
		foreach ( $names as $kind => $name ) {
			$run = $s['runs'][ $kind ] ?? null;
			if ( ! is_array( $run ) ) {
				printf( '<tr data-flow="%1$s"><td>%2$s</td><td colspan="3">%3$s</td></tr>', esc_attr( $kind ), esc_html( $name ), esc_html__( 'not run yet', 'pos-sync' ) );
				continue;
			}
			printf(
				'<tr data-flow="%1$s"><td>%2$s</td><td>%3$s</td><td>%4$s</td><td><small>%5$s</small></td></tr>',
				esc_attr( $kind ),
				esc_html( $name ),
				esc_html( self::when( (int) $run['finished_at'] ) ),
				esc_html( ! empty( $run['ok'] ) ? __( 'OK', 'pos-sync' ) : sprintf( /* translators: %s: cause */ __( 'Failed: %s', 'pos-sync' ), Log::scrub( (string) $run['error'] ) ) ),
				esc_html( self::counts_text( (array) ( $run['summary'] ?? array() ) ) )
			);
		}
		echo '</tbody></table>';

		echo '<h2>' . esc_html__( 'Outbox (orders and refunds for the POS)', 'pos-sync' ) . '</h2>';
		printf(
			'<p id="pos-sync-outbox-counts">%s</p>',
			esc_html(
				sprintf(
					/* translators: 1: held, 2: waiting, 3: needing attention, 4: in the POS, 5: cancelled, 6: entered by hand */
					__( '%1$d held for stock (sent when paid), %2$d waiting to be sent, %3$d needing attention, %4$d in the POS, %5$d cancelled (never sent), %6$d entered in the POS by hand.', 'pos-sync' ),
					$s['outbox']['held'],
					$s['outbox']['pending'],
					$s['outbox']['attention'],
					$s['outbox']['posted'],
					$s['outbox']['cancelled'],
					$s['outbox']['manual']
				)
			)
		);
		echo '<table class="form-table">';
		OrdersAdmin::output_failures( array() );
		echo '</table>';

		$import = $s['import'];
		if ( $import ) {
			$total = isset( $import['total'] ) ? (int) $import['total'] : 0;
			$done  = (int) $import['done'];
			echo '<h2>' . esc_html__( 'Product import', 'pos-sync' ) . '</h2>';
			if ( $total > 0 ) {
				printf( '<progress id="pos-sync-import" max="%1$d" value="%2$d" style="width:420px"></progress> ', $total, min( $done, $total ) );
			}
			echo '<p>' . esc_html(
				sprintf(
					/* translators: 1: done, 2: total, 3: items per second, 4: time left */
					__( '%1$d of %2$s items; %3$s items/s; %4$s left.', 'pos-sync' ),
					$done,
					$total ? (string) $total : '?',
					null === ( $import['rate'] ?? null ) ? '—' : (string) $import['rate'],
					! empty( $import['finished'] ) ? '0 s' : ( isset( $import['seconds_left'] ) && null !== $import['seconds_left'] ? human_time_diff( 0, (int) $import['seconds_left'] ) : '—' )
				)
			) . '</p>';
		}

		$t = $s['token'];
		echo '<h2>' . esc_html__( 'POS token', 'pos-sync' ) . '</h2><p id="pos-sync-token">';
		if ( ! $t['set'] ) {
			esc_html_e( 'No refresh token saved: connect the POS in the settings.', 'pos-sync' );
		} else {
			echo esc_html(
				sprintf(
					/* translators: 1: access token expiry, 2: last refresh */
					__( 'Refresh token saved. Access token expires: %1$s. Last refresh: %2$s. Tokens rotate on every refresh and are never shown.', 'pos-sync' ),
					self::when( $t['expires_at'] ),
					self::when( $t['refreshed_at'] )
				)
			);
		}
		echo '</p>';

		$rec = $s['reconcile'];
		echo '<h2>' . esc_html__( 'Actions', 'pos-sync' ) . '</h2><p>';
		echo Actions::button( 'pos_sync_sync_now', 'pos_sync_sync_now', __( 'Sync now', 'pos-sync' ), array(), array( 'id' => 'pos-sync-sync-now', 'class' => 'button button-primary' ) ) . ' '; // phpcs:ignore WordPress.Security.EscapeOutput -- escaped by Actions::button.
		echo Actions::button( 'pos_sync_full_reconcile', 'pos_sync_full_reconcile', __( 'Full reconcile', 'pos-sync' ), array(), array( 'id' => 'pos-sync-full-reconcile' ) ); // phpcs:ignore WordPress.Security.EscapeOutput -- escaped by Actions::button.
		echo '</p><p class="description">' . esc_html(
			$rec['running']
				/* translators: %s: when */
				? sprintf( __( 'A full reconcile pass started %s is under way.', 'pos-sync' ), self::when( (int) $rec['started_at'] ) )
				/* translators: %s: when */
				: sprintf( __( 'Last full reconcile: %s.', 'pos-sync' ), self::when( (int) $rec['finished_at'] ) )
		) . '</p>';
		Background::render();
	}

	/**
	 * A run summary in a line (numbers only; nested counts flattened).
	 *
	 * @param array $summary Summary.
	 */
	private static function counts_text( array $summary ): string {
		$parts = array();
		foreach ( $summary as $key => $value ) {
			if ( is_array( $value ) ) {
				foreach ( $value as $k => $v ) {
					if ( is_scalar( $v ) ) {
						$parts[] = $k . ' ' . ( is_bool( $v ) ? ( $v ? 'yes' : 'no' ) : $v );
					}
				}
			} elseif ( is_scalar( $value ) ) {
				$parts[] = $key . ' ' . ( is_bool( $value ) ? ( $value ? 'yes' : 'no' ) : $value );
			}
		}
		return implode( ', ', $parts );
	}

	/**
	 * The report tab (or its dry run).
	 */
	private static function render_report(): void {
		$dry = get_option( Background::DRY_OPTION );
		$bg  = Background::state( 'dry_run' );
		echo '<p>' . esc_html__( 'Web stock = POS stock of the chosen shops − online orders not yet in the POS + restocking refunds not yet in the POS − safety buffer, never below 0. Every product that differs is listed with why.', 'pos-sync' ) . '</p>';
		echo '<p>' . Actions::button( 'pos_sync_dry_run', 'pos_sync_dry_run', __( 'Dry run: what a reconcile would change', 'pos-sync' ), array(), array( 'id' => 'pos-sync-dry-run' ) ) . ' '; // phpcs:ignore WordPress.Security.EscapeOutput -- escaped by Actions::button.
		echo Actions::button( 'pos_sync_report_fix', 'pos_sync_report_fix_all', __( 'Fix all', 'pos-sync' ), array(), array( 'id' => 'pos-sync-fix-all', 'class' => 'button button-primary' ) ) . '</p>'; // phpcs:ignore WordPress.Security.EscapeOutput -- escaped by Actions::button.
		if ( $bg && Background::pending( 'dry_run' ) ) {
			echo '<p id="pos-sync-dry-run-state"><em>' . esc_html( 'running' === $bg['state'] ? __( 'The dry run is running in the background; reload this page in a moment.', 'pos-sync' ) : __( 'The dry run is queued; it runs in the background — reload this page in a moment.', 'pos-sync' ) ) . '</em></p>';
		}
		if ( is_array( $dry ) ) {
			$changes = (array) ( $dry['changes'] ?? array() );
			echo '<h2>' . esc_html__( 'Dry run', 'pos-sync' ) . '</h2><p>' . esc_html(
				sprintf(
					/* translators: %s: date and time */
					__( 'Worked out at %s from the last POS readings; nothing was changed. A reconcile reads the POS afresh and writes these figures (or newer ones).', 'pos-sync' ),
					wp_date( 'Y-m-d H:i:s', (int) ( $dry['finished_at'] ?? 0 ) )
				)
			) . '</p>';
			if ( ! $changes ) {
				echo '<p id="pos-sync-dry-run-empty"><em>' . esc_html__( 'A reconcile would change nothing.', 'pos-sync' ) . '</em></p>';
			} else {
				echo '<table class="widefat striped" id="pos-sync-dry-run-table"><thead><tr><th>' . esc_html__( 'Product', 'pos-sync' ) . '</th><th>SKU</th><th>' . esc_html__( 'POS item', 'pos-sync' ) . '</th><th>' . esc_html__( 'Web stock now', 'pos-sync' ) . '</th><th>' . esc_html__( 'Would become', 'pos-sync' ) . '</th></tr></thead><tbody>';
				foreach ( $changes as $c ) {
					printf( '<tr><td>%1$s</td><td>%2$s</td><td>%3$s</td><td>%4$s</td><td>%5$s</td></tr>', esc_html( $c['name'] ), esc_html( $c['sku'] ), esc_html( $c['item_id'] ), esc_html( null === $c['from'] ? '—' : (string) $c['from'] ), esc_html( (string) $c['to'] ) );
				}
				echo '</tbody></table>';
			}
		}
		$rows = Report::rows( 500 );
		echo '<h2>' . esc_html__( 'Stock differences', 'pos-sync' ) . '</h2>';
		if ( ! $rows ) {
			echo '<p id="pos-sync-report-empty"><em>' . esc_html__( 'No differences: every linked product shows what the POS says.', 'pos-sync' ) . '</em></p>';
			return;
		}
		echo '<table class="widefat striped" id="pos-sync-report"><thead><tr><th>' . esc_html__( 'Product', 'pos-sync' ) . '</th><th>SKU</th><th>' . esc_html__( 'POS item', 'pos-sync' ) . '</th><th>' . esc_html__( 'Web stock', 'pos-sync' ) . '</th><th>' . esc_html__( 'Should be', 'pos-sync' ) . '</th><th>' . esc_html__( 'POS stock', 'pos-sync' ) . '</th><th>' . esc_html__( 'Why', 'pos-sync' ) . '</th><th></th></tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$owner = $row['product_id'] ? (int) ( wp_get_post_parent_id( $row['product_id'] ) ?: $row['product_id'] ) : 0;
			printf(
				'<tr class="pos-sync-report-row" data-product="%1$d" data-kind="%2$s"><td>%3$s</td><td>%4$s</td><td>%5$s</td><td class="web">%6$s</td><td class="expected">%7$s</td><td>%8$s</td><td class="reasons"><ul>%9$s</ul></td><td>%10$s</td></tr>',
				(int) $row['product_id'],
				esc_attr( $row['kind'] ),
				$owner ? '<a href="' . esc_url( (string) get_edit_post_link( $owner ) ) . '">' . esc_html( $row['name'] ) . '</a>' : esc_html( $row['name'] ),
				esc_html( $row['sku'] ),
				esc_html( '' === $row['item_id'] ? '—' : $row['item_id'] ),
				esc_html( null === $row['web'] ? '—' : (string) $row['web'] ),
				esc_html( null === $row['expected'] ? '—' : (string) $row['expected'] ),
				esc_html( null === $row['pos'] ? '—' : (string) $row['pos'] ),
				implode( '', array_map( static fn( $r ) => '<li>' . esc_html( $r ) . '</li>', $row['reasons'] ) ),
				$row['fixable'] && '' !== $row['item_id']
					? Actions::button( 'pos_sync_report_fix', 'pos_sync_report_fix_' . $row['item_id'], __( 'Fix', 'pos-sync' ), array( 'item_id' => $row['item_id'] ), array( 'class' => 'button pos-sync-fix', 'data-item' => $row['item_id'] ) )
					: ''
			);
		}
		echo '</tbody></table>';
	}
}
