<?php
/**
 * Resolving parked outbox rows, per row and in bulk, on the status page, the settings
 * tab and the order screen: Retry, "Entered in the POS by hand" (state `manual`) and
 * Cancel (state `cancelled`). The last two release the row's hold on the stock (it
 * counts 0 in the pending ledger), ask for a fresh reading of its items, and the row is
 * never posted. Each is a POST with a nonce, needs `manage_woocommerce`, and writes an
 * audit line in the log. Also: rows parked only by transient failures go back to
 * `retry` by themselves once the POS answers well again, and a notice counts the rows
 * needing attention.
 *
 * @package PosSync
 */

namespace PosSync\Jobs;

use PosSync\Admin\OrdersAdmin;
use PosSync\Admin\StatusPage;
use PosSync\Store\Ledger;
use PosSync\Store\Log;
use PosSync\Store\Schema;

defined( 'ABSPATH' ) || exit;

/**
 * The outbox row actions.
 */
final class OutboxActions {

	public const ACTION  = 'pos_sync_outbox_action';
	private const FORM   = 'pos-sync-outbox-form';

	/**
	 * States a row can be resolved from: not in the POS, not being sent.
	 */
	public const OPEN_STATES = array( 'attention', 'retry', 'pending', 'held' );

	/**
	 * A table or button was printed: the form they belong to goes in the footer
	 * (outside the settings or order form, which cannot hold another form).
	 *
	 * @var bool
	 */
	private static bool $form_needed = false;

	/**
	 * Wires the action, the form and the notices.
	 */
	public static function hooks(): void {
		add_action( 'admin_post_' . self::ACTION, array( self::class, 'handle' ) );
		add_action( 'admin_footer', array( self::class, 'print_form' ) );
		add_action( 'admin_notices', array( self::class, 'notices' ) );
	}

	/**
	 * The actions in the merchant's words.
	 */
	public static function labels(): array {
		return array(
			'retry'  => __( 'Retry now', 'pos-sync' ),
			'manual' => __( 'Entered in the POS by hand', 'pos-sync' ),
			'cancel' => __( 'Cancel (do not send)', 'pos-sync' ),
		);
	}

	/**
	 * Applies one action to some rows; returns the rows it changed. A row being sent
	 * (held by a live lease) or already in the POS is left alone.
	 *
	 * @param string $action retry | manual | cancel.
	 * @param int[]  $ids    Outbox rows.
	 * @return int[] Rows changed.
	 */
	public static function apply( string $action, array $ids ): array {
		global $wpdb;
		$outbox  = Schema::outbox();
		$now     = Ledger::now_ms();
		$changed = array();
		$free    = $wpdb->prepare( '( claim_token IS NULL OR claimed_until_ms IS NULL OR claimed_until_ms < %d )', $now );
		foreach ( array_unique( array_filter( array_map( 'absint', $ids ) ) ) as $id ) {
			if ( 'retry' === $action ) {
				$sql = "UPDATE {$outbox} SET state = 'retry', retry_at_ms = NULL, resumable = 0, updated_at = %s WHERE id = %d AND state IN ('attention', 'retry') AND {$free}";
			} elseif ( 'manual' === $action || 'cancel' === $action ) {
				$state  = 'manual' === $action ? 'manual' : Schema::CANCELLED_STATE;
				$states = "'" . implode( "','", self::OPEN_STATES ) . "'";
				$sql    = "UPDATE {$outbox} SET state = '{$state}', released = 1, retry_at_ms = NULL, resumable = 0, updated_at = %s WHERE id = %d AND state IN ({$states}) AND posted_at_ms IS NULL AND {$free}";
			} else {
				return array();
			}
			if ( 1 === (int) $wpdb->query( $wpdb->prepare( $sql, current_time( 'mysql', true ), $id ) ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared
				$changed[] = $id;
			}
		}
		if ( $changed && 'retry' !== $action ) {
			// The hold is gone: a fresh reading of its items puts the units back on the web.
			$lines = Schema::outbox_lines();
			$in    = implode( ',', array_map( 'intval', $changed ) );
			Ledger::request_recheck( (array) $wpdb->get_col( "SELECT DISTINCT item_id FROM {$lines} WHERE outbox_id IN ({$in}) AND item_id IS NOT NULL" ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		}
		$user = wp_get_current_user();
		foreach ( $changed as $id ) {
			$row = (array) $wpdb->get_row( $wpdb->prepare( "SELECT reference_number, kind FROM {$outbox} WHERE id = %d", $id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			$what = array(
				'retry'  => __( 'retry requested; it is sent with the next run', 'pos-sync' ),
				'manual' => __( 'marked “entered in the POS by hand”: its hold on the stock is released and it is never posted', 'pos-sync' ),
				'cancel' => __( 'cancelled: its hold on the stock is released and it is never posted', 'pos-sync' ),
			);
			Log::info(
				sprintf(
					/* translators: 1: order or refund, 2: reference number, 3: outbox row, 4: user login, 5: what happened */
					__( 'Outbox: %1$s %2$s (row %3$d) resolved by %4$s: %5$s.', 'pos-sync' ),
					(string) ( $row['kind'] ?? '' ),
					(string) ( $row['reference_number'] ?? '' ),
					$id,
					$user && $user->exists() ? $user->user_login : 'wp-cli',
					$what[ $action ]
				)
			);
		}
		return $changed;
	}

	/**
	 * admin-post (POST only, nonce, manage_woocommerce): one row's button
	 * (`pos_sync_row` = action:id) or the bulk action over the ticked rows.
	 */
	public static function handle(): void {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			wp_die( esc_html__( 'You are not allowed to resolve POS orders.', 'pos-sync' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::ACTION );
		if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) ) { // phpcs:ignore WordPress.Security.ValidatedSanitizedInput
			wp_die( esc_html__( 'This action needs a form submission.', 'pos-sync' ), '', array( 'response' => 405 ) );
		}
		$row = isset( $_POST['pos_sync_row'] ) ? sanitize_text_field( wp_unslash( $_POST['pos_sync_row'] ) ) : '';
		if ( preg_match( '/^(retry|manual|cancel):(\d+)$/', $row, $m ) ) {
			$action = $m[1];
			$ids    = array( (int) $m[2] );
		} else {
			$action = isset( $_POST['pos_sync_bulk'] ) ? sanitize_key( wp_unslash( $_POST['pos_sync_bulk'] ) ) : '';
			$ids    = isset( $_POST['outbox_ids'] ) ? array_map( 'absint', (array) wp_unslash( $_POST['outbox_ids'] ) ) : array();
		}
		$changed = isset( self::labels()[ $action ] ) ? self::apply( $action, $ids ) : array();
		$back    = wp_get_referer();
		$back    = $back ? $back : StatusPage::url();
		wp_safe_redirect( add_query_arg( array( 'pos_sync_resolved' => count( $changed ), 'pos_sync_asked' => count( $ids ) ), remove_query_arg( array( 'pos_sync_resolved', 'pos_sync_asked' ), $back ) ) );
		exit;
	}

	/**
	 * The form the buttons belong to (HTML `form` attribute), printed once per page.
	 */
	public static function print_form(): void {
		if ( ! self::$form_needed ) {
			return;
		}
		printf( '<form id="%1$s" method="post" action="%2$s" style="display:none">', esc_attr( self::FORM ), esc_url( admin_url( 'admin-post.php' ) ) );
		echo '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '">';
		wp_nonce_field( self::ACTION );
		echo '</form>';
	}

	/**
	 * The buttons of one row (none when it cannot be resolved).
	 *
	 * @param array $row Outbox row (`id`, `state`).
	 */
	public static function row_buttons( array $row ): string {
		$state = (string) $row['state'];
		if ( ! in_array( $state, self::OPEN_STATES, true ) ) {
			return '';
		}
		self::$form_needed = true;
		$html              = '';
		foreach ( self::labels() as $action => $label ) {
			if ( 'retry' === $action && ! in_array( $state, array( 'attention', 'retry' ), true ) ) {
				continue;
			}
			$html .= sprintf(
				'<button type="submit" class="button button-small pos-sync-%1$s" form="%2$s" name="pos_sync_row" value="%1$s:%3$d">%4$s</button> ',
				esc_attr( $action ),
				esc_attr( self::FORM ),
				(int) $row['id'],
				esc_html( $label )
			);
		}
		return $html;
	}

	/**
	 * The rows that failed, each with its buttons and a box for the bulk action.
	 *
	 * @param array[] $rows Outbox::failures().
	 */
	public static function table( array $rows ): void {
		if ( ! $rows ) {
			echo '<p class="description">' . esc_html__( 'No order or refund has failed.', 'pos-sync' ) . '</p>';
			return;
		}
		self::$form_needed = true;
		echo '<table class="widefat striped pos-sync-outbox-failures"><thead><tr><td class="check-column"></td><th>' . esc_html__( 'Reference', 'pos-sync' ) . '</th><th>' . esc_html__( 'State', 'pos-sync' ) . '</th><th>' . esc_html__( 'Attempts', 'pos-sync' ) . '</th><th>' . esc_html__( 'Cause', 'pos-sync' ) . '</th><th>' . esc_html__( 'Next attempt', 'pos-sync' ) . '</th><th></th></tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$open  = in_array( (string) $row['state'], self::OPEN_STATES, true );
			$order = (int) $row['order_id'] ? wc_get_order( (int) $row['order_id'] ) : false;
			printf(
				'<tr data-outbox-id="%1$d"><th scope="row" class="check-column">%2$s</th><td><a href="%3$s">%4$s</a></td><td>%5$s</td><td>%6$s</td><td>%7$s</td><td>%8$s</td><td>%9$s</td></tr>',
				(int) $row['id'],
				$open ? sprintf( '<input type="checkbox" name="outbox_ids[]" value="%1$d" form="%2$s">', (int) $row['id'], esc_attr( self::FORM ) ) : '',
				esc_url( $order ? (string) $order->get_edit_order_url() : admin_url( 'admin.php?page=wc-orders' ) ),
				esc_html( (string) $row['reference_number'] ),
				esc_html( OrdersAdmin::state_label( (string) $row['state'] ) ),
				esc_html( (string) $row['attempts'] ),
				esc_html( (string) $row['last_error'] ),
				esc_html( $row['retry_at_ms'] ? wp_date( 'Y-m-d H:i', (int) ( $row['retry_at_ms'] / 1000 ) ) : '—' ),
				self::row_buttons( $row ) // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in row_buttons().
			);
		}
		echo '</tbody></table><p>';
		printf( '<select name="pos_sync_bulk" form="%1$s" id="pos-sync-bulk-action"><option value="">%2$s</option>', esc_attr( self::FORM ), esc_html__( 'With the ticked rows…', 'pos-sync' ) );
		foreach ( self::labels() as $action => $label ) {
			printf( '<option value="%1$s">%2$s</option>', esc_attr( $action ), esc_html( $label ) );
		}
		printf( '</select> <button type="submit" class="button" form="%1$s" id="pos-sync-bulk-apply">%2$s</button></p>', esc_attr( self::FORM ), esc_html__( 'Apply', 'pos-sync' ) );
	}

	/**
	 * Rows parked only because transient failures reached max_attempts go back to
	 * `retry` (attempts from 0) as soon as the POS answers well again: a `sale_posted`,
	 * or a sync run that went well.
	 */
	public static function resume_parked(): void {
		global $wpdb;
		$outbox = Schema::outbox();
		$n      = (int) $wpdb->query( $wpdb->prepare( "UPDATE {$outbox} SET state = 'retry', retry_at_ms = NULL, attempts = 0, resumable = 0, updated_at = %s WHERE state = 'attention' AND resumable = 1", current_time( 'mysql', true ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( $n > 0 ) {
			/* translators: %d: number of rows */
			Log::info( sprintf( _n( 'The POS answers again: %d order or refund parked by outage failures is sent again with the next run.', 'The POS answers again: %d orders and refunds parked by outage failures are sent again with the next run.', $n, 'pos-sync' ), $n ) );
		}
	}

	/**
	 * Rows needing attention.
	 */
	public static function attention_count(): int {
		global $wpdb;
		$outbox = Schema::outbox();
		return (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$outbox} WHERE state = 'attention'" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Notices: how many rows need attention (with a link to the status page), and what
	 * the last action resolved.
	 */
	public static function notices(): void {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			return;
		}
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- counts to display only.
		if ( isset( $_GET['pos_sync_resolved'] ) ) {
			printf(
				'<div class="notice notice-info is-dismissible" id="pos-sync-resolved"><p>%s</p></div>',
				esc_html(
					sprintf(
						/* translators: 1: rows changed, 2: rows asked */
						__( 'POS Sync: %1$d of %2$d rows changed (rows being sent or already in the POS are left as they are).', 'pos-sync' ),
						absint( $_GET['pos_sync_resolved'] ),
						isset( $_GET['pos_sync_asked'] ) ? absint( $_GET['pos_sync_asked'] ) : 0
					)
				)
			);
		}
		// phpcs:enable
		$n = self::attention_count();
		if ( $n < 1 ) {
			return;
		}
		printf(
			'<div class="notice notice-warning pos-sync-notice" id="pos-sync-attention"><p><strong>%1$s</strong> %2$s <a href="%3$s">%4$s</a></p></div>',
			esc_html__( 'POS Sync:', 'pos-sync' ),
			esc_html(
				sprintf(
					/* translators: %d: number of orders and refunds */
					_n( '%d order or refund needs attention: it is not in the POS and holds its stock until it is resolved.', '%d orders and refunds need attention: they are not in the POS and hold their stock until they are resolved.', $n, 'pos-sync' ),
					$n
				)
			),
			esc_url( StatusPage::url() ),
			esc_html__( 'Resolve them', 'pos-sync' )
		);
	}
}
