<?php
/**
 * The lease that guards posting (docs/PROTOCOL.md, "WordPress side"): a post_orders
 * run claims its rows with one atomic UPDATE that writes its own claim token and a
 * `claimed_until_ms`, then reads back the rows carrying that token. Two runs can never
 * hold the same row: the UPDATE of the second one skips rows whose lease is still
 * running, whatever happened to the MySQL connection lock (lost on a reconnect,
 * meaningless behind a read/write-splitting proxy or on Galera). That lock stays, but
 * only to spare a tick from starting a second sidecar.
 *
 * A row whose lease expired (its run died without settling it) is claimable again;
 * the core always looks a reference up in the POS before posting it, so a sale the
 * dead run did write is found, not posted twice.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Store\Ledger;
use PosSync\Store\Schema;

defined( 'ABSPATH' ) || exit;

/**
 * One run's claim on outbox rows.
 */
final class Lease {

	/**
	 * Seconds the lease outlives the run's budget and timeout margin: the runner's own
	 * stop (SIGTERM, then SIGKILL after 2 s, then up to 5 s for the exit code) and slack.
	 */
	public const EXTRA_S = 30;

	/**
	 * This run's claim token (a random UUID, never reused).
	 *
	 * @var string
	 */
	public string $token;

	/**
	 * Until when (ms since the epoch) the rows are this run's.
	 *
	 * @var int
	 */
	public int $until_ms;

	/**
	 * A new lease for a run of this budget.
	 *
	 * @param int $budget_ms The run's time budget.
	 */
	public function __construct( int $budget_ms ) {
		$margin_s       = max( 1, (int) apply_filters( 'pos_sync_timeout_margin_s', Runner::TIMEOUT_MARGIN_S ) );
		$this->token    = wp_generate_uuid4();
		$this->until_ms = Ledger::now_ms() + max( 0, $budget_ms ) + 1000 * ( $margin_s + self::EXTRA_S );
	}

	/**
	 * Claims the due rows in one statement and returns them (every column), oldest first.
	 * Due: `pending`, `retry` or `sending` (left by a run that ended or died), whose
	 * `retry_at_ms` has come, and whose lease is free or expired.
	 *
	 * @param int $limit Rows at most.
	 * @return array[] Rows as stored.
	 * @throws \RuntimeException When the database refuses the claim.
	 */
	public function claim( int $limit ): array {
		global $wpdb;
		$outbox = Schema::outbox();
		$now    = Ledger::now_ms();
		$states = "'" . implode( "','", array_map( 'esc_sql', Outbox::DUE_STATES ) ) . "'";
		$ok     = $wpdb->query(
			$wpdb->prepare(
				// phpcs:disable WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				"UPDATE {$outbox}
				 SET claim_token = %s, claimed_until_ms = %d, state = 'sending',
				     first_attempt_at_ms = COALESCE( first_attempt_at_ms, %d ), updated_at = %s
				 WHERE state IN ({$states}) AND ( retry_at_ms IS NULL OR retry_at_ms <= %d )
				   AND ( claim_token IS NULL OR claimed_until_ms IS NULL OR claimed_until_ms < %d )
				 ORDER BY id LIMIT %d",
				// phpcs:enable
				$this->token,
				$this->until_ms,
				$now,
				current_time( 'mysql', true ),
				$now,
				$now,
				max( 1, $limit )
			)
		);
		if ( false === $ok ) {
			throw new \RuntimeException( 'outbox claim: ' . $wpdb->last_error );
		}
		if ( 0 === (int) $ok ) {
			return array();
		}
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$outbox} WHERE claim_token = %s ORDER BY id", $this->token ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * The run is over (its sidecar has exited): rows it claimed and did not settle are
	 * free at once. They stay `sending` (they may be in the POS), so the next run looks
	 * them up before posting anything.
	 */
	public function release(): void {
		global $wpdb;
		$outbox = Schema::outbox();
		$wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET claim_token = NULL, claimed_until_ms = NULL WHERE claim_token = %s", $this->token ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * The SQL condition "this row is still held by the run with this token", for the
	 * updates that apply its events.
	 *
	 * @param string $token Claim token of the run that sent the event.
	 */
	public static function held_by( string $token ): string {
		global $wpdb;
		return $wpdb->prepare( 'claim_token = %s', $token );
	}
}
