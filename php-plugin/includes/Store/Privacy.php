<?php
/**
 * Personal data in the outbox: WordPress's exporter and eraser (Tools → Export / Erase
 * Personal Data), the erasing of a row's customer details (shared with Prune), and the
 * text suggested for the site's privacy policy.
 *
 * An order row's payload carries the customer (name, e-mail, phone, billing address)
 * because the core needs it to find or create the POS customer. Once the row is settled
 * (posted, cancelled or entered by hand) nothing reads it again, so those details can go;
 * the reference, state, POS ids, amounts and lines stay for the ledger and the admin.
 *
 * @package PosSync
 */

namespace PosSync\Store;

use PosSync\Admin\OrdersAdmin;
use PosSync\Jobs\Prune;

defined( 'ABSPATH' ) || exit;

/**
 * Exporter, eraser and policy text for the outbox.
 */
final class Privacy {

	/**
	 * Rows that never go to the POS again: their customer details may be erased.
	 * Every other state (pending, sending, retry, attention) still needs them to post.
	 */
	public const SETTLED_STATES = array( 'posted', 'cancelled', 'manual' );

	/**
	 * Rows per exporter or eraser page.
	 */
	public const PAGE = 10;

	/**
	 * Marker set in a payload whose customer details were erased (GMT `Y-m-d H:i:s`).
	 */
	public const ERASED_KEY = 'personal_data_erased_at';

	/**
	 * Keys of the exporter and the eraser in WordPress's lists.
	 */
	public const KEY = 'pos-sync-outbox';

	/**
	 * Registers the exporter, the eraser and the policy text.
	 */
	public static function hooks(): void {
		add_filter( 'wp_privacy_personal_data_exporters', array( self::class, 'register_exporter' ) );
		add_filter( 'wp_privacy_personal_data_erasers', array( self::class, 'register_eraser' ) );
		add_action( 'admin_init', array( self::class, 'add_policy_content' ) );
	}

	/**
	 * The exporter.
	 *
	 * @param array $exporters Exporters.
	 */
	public static function register_exporter( $exporters ): array {
		$exporters              = (array) $exporters;
		$exporters[ self::KEY ] = array(
			'exporter_friendly_name' => __( 'POS Sync orders for the POS', 'pos-sync' ),
			'callback'               => array( self::class, 'export' ),
		);
		return $exporters;
	}

	/**
	 * The eraser.
	 *
	 * @param array $erasers Erasers.
	 */
	public static function register_eraser( $erasers ): array {
		$erasers              = (array) $erasers;
		$erasers[ self::KEY ] = array(
			'eraser_friendly_name' => __( 'POS Sync orders for the POS', 'pos-sync' ),
			'callback'             => array( self::class, 'erase' ),
		);
		return $erasers;
	}

	/**
	 * One page of the outbox rows whose customer e-mail is this one.
	 *
	 * @param string $email E-mail of the request.
	 * @param int    $page  Page, from 1.
	 * @return array{data: array, done: bool}
	 */
	public static function export( $email, $page = 1 ): array {
		$page  = max( 1, (int) $page );
		$found = self::rows_of_email( (string) $email, '', self::PAGE, ( $page - 1 ) * self::PAGE );
		$data  = array();
		foreach ( $found['rows'] as $row ) {
			$data[] = array(
				'group_id'          => self::KEY,
				'group_label'       => __( 'Orders sent to the POS', 'pos-sync' ),
				'group_description' => __( 'Orders this shop sends to its Lightspeed point of sale, with the customer details they carry until they are in the POS.', 'pos-sync' ),
				'item_id'           => self::KEY . '-' . $row['id'],
				'data'              => self::export_fields( $row ),
			);
		}
		return array(
			'data' => $data,
			'done' => $found['scanned'] < self::PAGE,
		);
	}

	/**
	 * Erases the customer details of this e-mail's settled rows; rows still on their way
	 * to the POS are retained (reported with the reason), as WooCommerce does for orders.
	 * Erased rows stop matching, so every page starts from the first match: a page that
	 * erased a full batch asks for another; the last one reports what was retained.
	 *
	 * @param string $email E-mail of the request.
	 * @param int    $page  Page (unused: see above).
	 * @return array{items_removed: bool, items_retained: bool, messages: string[], done: bool}
	 */
	public static function erase( $email, $page = 1 ): array {
		unset( $page );
		$email    = (string) $email;
		$found    = self::rows_of_email( $email, 'settled', self::PAGE, 0 );
		$removed  = false;
		$messages = array();
		foreach ( $found['rows'] as $row ) {
			if ( self::erase_row( $row, $email ) ) {
				$removed = true;
				if ( '' !== (string) $row['pos_customer_id'] ) {
					$messages[] = sprintf(
						/* translators: 1: reference number, 2: POS customer ID */
						__( 'POS Sync: the customer details of %1$s were removed from this shop; the point of sale keeps its own customer record (POS customer %2$s): erase it in Lightspeed if the request covers it.', 'pos-sync' ),
						$row['reference_number'],
						$row['pos_customer_id']
					);
				}
			}
		}
		// A full batch may have more behind it; one that erased nothing would only repeat.
		if ( $found['scanned'] >= self::PAGE && $removed ) {
			return array(
				'items_removed'  => $removed,
				'items_retained' => false,
				'messages'       => $messages,
				'done'           => false,
			);
		}
		$retained = self::rows_of_email( $email, 'unsettled', 1000, 0 )['rows'];
		foreach ( $retained as $row ) {
			$messages[] = sprintf(
				/* translators: 1: reference number, 2: its state (e.g. "waiting to be sent") */
				__( 'POS Sync: the customer details of %1$s were retained: the order is not in the POS yet (%2$s) and is posted with them. Erase again once it is in the POS or cancelled.', 'pos-sync' ),
				$row['reference_number'],
				OrdersAdmin::state_label( (string) $row['state'] )
			);
		}
		return array(
			'items_removed'  => $removed,
			'items_retained' => (bool) $retained,
			'messages'       => $messages,
			'done'           => true,
		);
	}

	/**
	 * Rows whose payload's customer e-mail is this one (compared without case), by id.
	 *
	 * @param string $email  E-mail.
	 * @param string $which  '' every row, 'settled' or 'unsettled' ones.
	 * @param int    $limit  Rows at most.
	 * @param int    $offset Rows skipped.
	 * @return array{rows: array[], scanned: int} `scanned`: rows the query returned (a
	 *               row whose e-mail only looked alike is dropped from `rows`, not from it).
	 */
	private static function rows_of_email( string $email, string $which, int $limit, int $offset ): array {
		global $wpdb;
		$email = trim( $email );
		if ( '' === $email ) {
			return array(
				'rows'    => array(),
				'scanned' => 0,
			);
		}
		$outbox = Schema::outbox();
		$states = "'" . implode( "','", array_map( 'esc_sql', self::SETTLED_STATES ) ) . "'";
		$where  = 'settled' === $which ? " AND state IN ({$states})" : ( 'unsettled' === $which ? " AND state NOT IN ({$states})" : '' );
		// The payload is wp_json_encode()d: the e-mail appears as JSON writes it.
		$needle = '%' . $wpdb->esc_like( '"email":' . wp_json_encode( $email ) ) . '%';
		$rows   = (array) $wpdb->get_results(
			$wpdb->prepare(
				"SELECT id, reference_number, kind, order_id, state, pos_sale_id, pos_customer_id, payload, last_error, created_at, posted_at FROM {$outbox} WHERE payload LIKE %s{$where} ORDER BY id LIMIT %d OFFSET %d", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				$needle,
				$limit,
				$offset
			),
			ARRAY_A
		);
		$mine = array();
		foreach ( $rows as $row ) {
			$payload = json_decode( (string) $row['payload'], true );
			if ( is_array( $payload ) && 0 === strcasecmp( (string) ( $payload['customer']['email'] ?? '' ), $email ) ) {
				$row['payload'] = $payload;
				$mine[]         = $row;
			}
		}
		return array(
			'rows'    => $mine,
			'scanned' => count( $rows ),
		);
	}

	/**
	 * What the export shows of a row: the row's facts, then every personal field it holds.
	 *
	 * @param array $row Row, payload decoded.
	 * @return array<int,array{name:string,value:string}>
	 */
	private static function export_fields( array $row ): array {
		$fields = array(
			array(
				'name'  => __( 'Reference number', 'pos-sync' ),
				'value' => (string) $row['reference_number'],
			),
			array(
				'name'  => __( 'Kind', 'pos-sync' ),
				'value' => 'refund' === $row['kind'] ? __( 'Return', 'pos-sync' ) : __( 'Sale', 'pos-sync' ),
			),
			array(
				'name'  => __( 'State', 'pos-sync' ),
				'value' => OrdersAdmin::state_label( (string) $row['state'] ),
			),
			array(
				'name'  => __( 'Recorded (UTC)', 'pos-sync' ),
				'value' => (string) $row['created_at'],
			),
		);
		if ( ! empty( $row['posted_at'] ) ) {
			$fields[] = array(
				'name'  => __( 'In the POS since (UTC)', 'pos-sync' ),
				'value' => (string) $row['posted_at'],
			);
		}
		if ( '' !== (string) $row['pos_sale_id'] ) {
			$fields[] = array(
				'name'  => __( 'POS sale ID', 'pos-sync' ),
				'value' => (string) $row['pos_sale_id'],
			);
		}
		if ( '' !== (string) $row['pos_customer_id'] ) {
			$fields[] = array(
				'name'  => __( 'POS customer ID', 'pos-sync' ),
				'value' => (string) $row['pos_customer_id'],
			);
		}
		$labels = array(
			'email'      => __( 'E-mail', 'pos-sync' ),
			'first_name' => __( 'First name', 'pos-sync' ),
			'last_name'  => __( 'Last name', 'pos-sync' ),
			'company'    => __( 'Company', 'pos-sync' ),
			'phone'      => __( 'Phone', 'pos-sync' ),
			'billing'    => __( 'Billing address', 'pos-sync' ),
			'shipping'   => __( 'Shipping address', 'pos-sync' ),
		);
		foreach ( (array) ( $row['payload']['customer'] ?? array() ) as $key => $value ) {
			$value = is_array( $value ) ? implode( ', ', array_filter( array_map( 'strval', array_filter( $value, 'is_scalar' ) ), 'strlen' ) ) : (string) $value;
			if ( '' !== $value ) {
				$fields[] = array(
					'name'  => $labels[ $key ] ?? (string) $key,
					'value' => $value,
				);
			}
		}
		return $fields;
	}

	/**
	 * A payload without its customer details: every text under `customer` emptied (the
	 * shape stays, so the core would still read it), the time of erasure noted.
	 *
	 * @param array $payload Payload.
	 */
	public static function erased_payload( array $payload ): array {
		$blank = static function ( $value ) use ( &$blank ) {
			return is_array( $value ) ? array_map( $blank, $value ) : ( is_string( $value ) ? '' : $value );
		};
		if ( isset( $payload['customer'] ) ) {
			$payload['customer'] = is_array( $payload['customer'] ) ? array_map( $blank, $payload['customer'] ) : array();
		}
		$payload[ self::ERASED_KEY ] = current_time( 'mysql', true );
		return $payload;
	}

	/**
	 * Erases a settled row's customer details (and the e-mail from its last error), only
	 * while it is still settled.
	 *
	 * @param array  $row   Row with `id`, `payload` (decoded) and `last_error`.
	 * @param string $email The e-mail to scrub from the last error ('' none).
	 * @return bool The row was changed.
	 */
	public static function erase_row( array $row, string $email = '' ): bool {
		global $wpdb;
		$outbox  = Schema::outbox();
		$payload = is_array( $row['payload'] ) ? $row['payload'] : (array) json_decode( (string) $row['payload'], true );
		$emails  = array_filter( array( $email, (string) ( $payload['customer']['email'] ?? '' ) ), 'strlen' );
		$error   = null === $row['last_error'] ? null : str_ireplace( $emails, '[deleted]', (string) $row['last_error'] );
		$states  = "'" . implode( "','", array_map( 'esc_sql', self::SETTLED_STATES ) ) . "'";
		$changed = $wpdb->query(
			$wpdb->prepare(
				"UPDATE {$outbox} SET payload = %s, last_error = " . ( null === $error ? 'NULL' : '%s' ) . " WHERE id = %d AND state IN ({$states})", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				array_merge( array( wp_json_encode( self::erased_payload( $payload ) ) ), null === $error ? array() : array( $error ), array( (int) $row['id'] ) )
			)
		);
		return (int) $changed > 0;
	}

	/**
	 * The text suggested for the site's privacy policy (Settings → Privacy → Policy Guide).
	 */
	public static function add_policy_content(): void {
		if ( ! function_exists( 'wp_add_privacy_policy_content' ) ) {
			return;
		}
		$days = (int) Settings::get( Prune::SETTING );
		$text = '<p class="privacy-policy-tutorial">' . esc_html__( 'POS Sync sends every paid order, with the customer\'s contact details, to the shop\'s Lightspeed Retail point of sale. Tell your customers, for example:', 'pos-sync' ) . '</p>'
			. '<p><strong class="privacy-policy-tutorial">' . esc_html__( 'Suggested text:', 'pos-sync' ) . ' </strong>'
			. esc_html__( 'When you place an order, we record it in our shop\'s point of sale (Lightspeed Retail, run by Lightspeed Commerce Inc.): your name, e-mail address, phone number and billing address are sent with the items and amounts, so that the sale and any refund are kept under your customer record there.', 'pos-sync' )
			. ' '
			. esc_html(
				sprintf(
					/* translators: %d: days */
					_n( 'Our website keeps its own copy of these details for %d day after the order reached the point of sale, then removes it; the order itself stays in the shop as described above.', 'Our website keeps its own copy of these details for %d days after the order reached the point of sale, then removes it; the order itself stays in the shop as described above.', $days, 'pos-sync' ),
					$days
				)
			)
			. ' ' . esc_html__( 'Lightspeed\'s privacy policy:', 'pos-sync' ) . ' <a href="https://www.lightspeedhq.com/legal/privacy-policy/">https://www.lightspeedhq.com/legal/privacy-policy/</a></p>';
		wp_add_privacy_policy_content( __( 'POS Sync for WooCommerce', 'pos-sync' ), wp_kses_post( $text ) );
	}
}
