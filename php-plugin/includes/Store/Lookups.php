<?php
/**
 * The POS's pick-lists (shops, registers, employees, payment types, tax classes) read by a `lookups`
 * job, cached in an option, and the settings fields that choose from them.
 *
 * @package PosSync
 */

namespace PosSync\Store;

use PosSync\Admin\Actions;
use PosSync\Apply\PosText;
use PosSync\Jobs\Runner;

defined( 'ABSPATH' ) || exit;

/**
 * Pick-lists from the POS: the cache, the "Refresh lists from the POS" action, the
 * select fields (typed IDs while the cache is empty) and the check that a chosen ID exists.
 */
final class Lookups {

	public const OPTION = 'pos_sync_lookups';
	public const KINDS  = array( 'shops', 'registers', 'employees', 'payment_types', 'tax_classes' );

	/**
	 * Wires the admin action and the settings row.
	 */
	public static function hooks(): void {
		add_action( 'admin_post_pos_sync_refresh_lookups', array( self::class, 'refresh_action' ) );
		add_action( 'woocommerce_admin_field_pos_sync_lookups', array( self::class, 'output_refresh_row' ) );
	}

	/**
	 * The cached lists: `{shops, registers, employees, payment_types, tax_classes, fetched_at}`.
	 */
	public static function all(): array {
		$saved = get_option( self::OPTION, array() );
		$saved = is_array( $saved ) ? $saved : array();
		return array_merge( array_fill_keys( self::KINDS, array() ), array( 'fetched_at' => 0 ), $saved );
	}

	/**
	 * One list.
	 *
	 * @param string $kind shops | registers | employees | payment_types | tax_classes.
	 * @return array[] Rows `{id, name, …}`.
	 */
	public static function rows( string $kind ): array {
		return array_values( array_filter( (array) ( self::all()[ $kind ] ?? array() ), 'is_array' ) );
	}

	/**
	 * Stores the lists of a `lookups` event (docs/PROTOCOL.md).
	 *
	 * @param array $lookups `{shops, registers, employees, payment_types, tax_classes}`.
	 */
	public static function store( array $lookups ): void {
		$clean = array( 'fetched_at' => time() );
		foreach ( self::KINDS as $kind ) {
			$clean[ $kind ] = array();
			foreach ( (array) ( $lookups[ $kind ] ?? array() ) as $row ) {
				$id = PosText::title( $row['id'] ?? '' );
				if ( '' === $id ) {
					continue;
				}
				$entry = array(
					'id'   => $id,
					'name' => PosText::title( $row['name'] ?? '' ),
				);
				if ( 'registers' === $kind ) {
					$entry['shop_id'] = null === ( $row['shop_id'] ?? null ) ? null : PosText::title( $row['shop_id'] );
				}
				if ( 'payment_types' === $kind ) {
					$entry['code'] = PosText::title( $row['code'] ?? '' );
				}
				$clean[ $kind ][] = $entry;
			}
		}
		update_option( self::OPTION, $clean, false );
	}

	/**
	 * Forgets the lists (another POS account was configured).
	 */
	public static function clear(): void {
		delete_option( self::OPTION );
	}

	/**
	 * Runs a `lookups` job; the Runner stores the lists when the event arrives.
	 *
	 * @return array{ok: bool, message: string}
	 */
	public static function refresh(): array {
		$run = Runner::run( 'lookups' );
		if ( ! empty( $run['ok'] ) ) {
			return array(
				'ok'      => true,
				'message' => self::summary(),
			);
		}
		return array(
			'ok'      => false,
			/* translators: %s: cause */
			'message' => sprintf( __( 'The lists of shops, registers, employees, payment types and tax classes could not be read from the POS: %s', 'pos-sync' ), (string) ( $run['error'] ?? __( 'unknown error', 'pos-sync' ) ) ),
		);
	}

	/**
	 * "Lists read from the POS …" or "not read yet".
	 */
	public static function summary(): string {
		$all = self::all();
		if ( ! $all['fetched_at'] ) {
			return __( 'The lists of shops, registers, employees, payment types and tax classes have not been read from the POS yet: connect first (Test connection), then choose from them.', 'pos-sync' );
		}
		return sprintf(
			/* translators: 1: date and time, 2: shops, 3: registers, 4: employees, 5: payment types, 6: tax classes */
			__( 'Lists read from the POS at %1$s: %2$d shops, %3$d registers, %4$d employees, %5$d payment types, %6$d tax classes.', 'pos-sync' ),
			wp_date( 'Y-m-d H:i', (int) $all['fetched_at'] ),
			count( $all['shops'] ),
			count( $all['registers'] ),
			count( $all['employees'] ),
			count( $all['payment_types'] ),
			count( $all['tax_classes'] )
		);
	}

	/**
	 * admin-post (POST): reads the lists again and goes back to the settings tab.
	 */
	public static function refresh_action(): void {
		Actions::guard( 'pos_sync_refresh_lookups' );
		set_transient( 'pos_sync_test_result_' . get_current_user_id(), self::refresh(), 5 * MINUTE_IN_SECONDS );
		wp_safe_redirect( admin_url( 'admin.php?page=wc-settings&tab=pos_sync&pos_sync_tested=1' ) );
		exit;
	}

	/**
	 * The "Refresh lists from the POS" row.
	 *
	 * @param array $field Field definition.
	 */
	public static function output_refresh_row( $field ): void {
		unset( $field );
		?>
		<tr valign="top">
			<th scope="row" class="titledesc"><?php esc_html_e( 'Lists from the POS', 'pos-sync' ); ?></th>
			<td class="forminp">
				<?php echo Actions::button( 'pos_sync_refresh_lookups', 'pos_sync_refresh_lookups', __( 'Refresh lists from the POS', 'pos-sync' ), array(), array( 'id' => 'pos-sync-refresh-lookups' ) ); // phpcs:ignore WordPress.Security.EscapeOutput -- escaped by Actions::button. ?>
				<p class="description" id="pos-sync-lookups-summary"><?php echo esc_html( self::summary() ); ?></p>
			</td>
		</tr>
		<?php
	}

	/**
	 * What a choice looks like in a select: the name, and the ID for support.
	 *
	 * @param string $kind Kind of list.
	 * @return array<string,string> id => label.
	 */
	public static function labels( string $kind ): array {
		$shops = array();
		foreach ( self::rows( 'shops' ) as $shop ) {
			$shops[ (string) $shop['id'] ] = (string) $shop['name'];
		}
		$out = array();
		foreach ( self::rows( $kind ) as $row ) {
			$id   = (string) $row['id'];
			$name = (string) $row['name'];
			if ( 'registers' === $kind && isset( $row['shop_id'], $shops[ (string) $row['shop_id'] ] ) ) {
				/* translators: 1: register name, 2: shop name, 3: register ID */
				$out[ $id ] = sprintf( __( '%1$s — %2$s (ID %3$s)', 'pos-sync' ), $name, $shops[ (string) $row['shop_id'] ], $id );
			} elseif ( 'payment_types' === $kind && '' !== (string) ( $row['code'] ?? '' ) ) {
				/* translators: 1: payment type name, 2: its POS code, 3: its ID */
				$out[ $id ] = sprintf( __( '%1$s (%2$s, ID %3$s)', 'pos-sync' ), $name, (string) $row['code'], $id );
			} else {
				/* translators: 1: name, 2: POS ID */
				$out[ $id ] = sprintf( __( '%1$s (ID %2$s)', 'pos-sync' ), $name, $id );
			}
		}
		return $out;
	}

	/**
	 * A settings field choosing from a POS list, or `$typed` (the ID input) with a note
	 * while that list has not been read.
	 *
	 * @param string $kind     Kind of list.
	 * @param array  $typed    The typed-ID field (id, title, value, desc_tip …).
	 * @param bool   $multiple A multi-select (the value is a comma list).
	 * @param string $none     Label of the empty choice (single selects).
	 */
	public static function field( string $kind, array $typed, bool $multiple = false, string $none = '' ): array {
		$labels = self::labels( $kind );
		if ( ! $labels ) {
			$typed['desc'] = trim( ( $typed['desc'] ?? '' ) . ' ' . __( 'Connect first (Test connection) to choose from the POS’s list instead of typing the ID.', 'pos-sync' ) );
			return $typed;
		}
		$value   = array_values( array_filter( array_map( 'trim', explode( ',', (string) $typed['value'] ) ), 'strlen' ) );
		$options = $multiple ? array() : array( '' => $none );
		$options = $options + $labels;
		foreach ( $value as $id ) {
			if ( ! isset( $options[ $id ] ) ) {
				/* translators: %s: POS ID */
				$options[ $id ] = sprintf( __( 'ID %s — not in the POS’s list', 'pos-sync' ), $id );
			}
		}
		$field = array_merge(
			$typed,
			array(
				'type'    => $multiple ? 'multiselect' : 'select',
				'value'   => $multiple ? $value : (string) $typed['value'],
				'options' => $options,
				'class'   => $multiple ? 'wc-enhanced-select' : '',
				'css'     => 'min-width:320px;',
			)
		);
		unset( $field['placeholder'] );
		return $field;
	}

	/**
	 * The gateway → payment type mapping: one select per enabled WooCommerce gateway
	 * (and per gateway already mapped) plus the default; the typed pairs while the
	 * payment types have not been read.
	 *
	 * @param callable $field Setting key → field name.
	 * @param array    $typed The typed `gateway=ID` field.
	 */
	public static function payment_type_fields( callable $field, array $typed ): array {
		$labels = self::labels( 'payment_types' );
		if ( ! $labels ) {
			return array( self::field( 'payment_types', $typed ) );
		}
		$map    = Settings::parse_payment_types( (string) $typed['value'] );
		$fields = array();
		foreach ( self::gateways( array_keys( $map ) ) as $id => $title ) {
			$fields[] = array(
				/* translators: %s: payment gateway title */
				'title'   => sprintf( __( 'Payment type for “%s”', 'pos-sync' ), $title ),
				'id'      => $field( 'payment_type_map' ) . '[' . $id . ']',
				'type'    => 'select',
				'value'   => (string) ( $map[ $id ] ?? '' ),
				'options' => array( '' => __( 'the default below', 'pos-sync' ) ) + $labels + self::stale( $map[ $id ] ?? '', $labels ),
			);
		}
		$fields[] = array(
			'title'    => __( 'Payment type for other gateways', 'pos-sync' ),
			'id'       => $field( 'payment_type_map' ) . '[default]',
			'type'     => 'select',
			'value'    => (string) ( $map['default'] ?? '' ),
			'options'  => array( '' => __( 'none: such orders need attention', 'pos-sync' ) ) + $labels + self::stale( $map['default'] ?? '', $labels ),
			'desc_tip' => __( 'The POS payment type recorded on the sale of an order paid through a gateway without its own choice.', 'pos-sync' ),
		);
		return $fields;
	}

	/**
	 * A saved ID the lists no longer hold, shown rather than silently dropped.
	 *
	 * @param string $id     Saved ID.
	 * @param array  $labels Known IDs.
	 */
	private static function stale( string $id, array $labels ): array {
		/* translators: %s: POS ID */
		return '' === $id || isset( $labels[ $id ] ) ? array() : array( $id => sprintf( __( 'ID %s — not in the POS’s list', 'pos-sync' ), $id ) );
	}

	/**
	 * Enabled WooCommerce gateways, and those named in `$also`.
	 *
	 * @param string[] $also Gateway IDs already mapped.
	 * @return array<string,string> id => title.
	 */
	public static function gateways( array $also = array() ): array {
		$out = array();
		if ( function_exists( 'WC' ) && WC()->payment_gateways() ) {
			foreach ( WC()->payment_gateways()->payment_gateways() as $gateway ) {
				if ( 'yes' === $gateway->enabled || in_array( $gateway->id, $also, true ) ) {
					$out[ (string) $gateway->id ] = wp_strip_all_tags( (string) ( $gateway->get_method_title() ? $gateway->get_method_title() : $gateway->get_title() ) );
				}
			}
		}
		foreach ( $also as $id ) {
			if ( 'default' !== $id && ! isset( $out[ $id ] ) ) {
				$out[ $id ] = $id;
			}
		}
		return $out;
	}

	/**
	 * Why an ID chosen for a setting is not acceptable, or null when it is (empty, in
	 * the list, or the list not read yet).
	 *
	 * @param string $kind  Kind of list.
	 * @param string $id    Chosen ID.
	 * @param string $label The setting, in words.
	 */
	public static function problem( string $kind, string $id, string $label ): ?string {
		$labels = self::labels( $kind );
		if ( '' === $id || ! $labels || isset( $labels[ $id ] ) ) {
			return null;
		}
		return sprintf(
			/* translators: 1: the setting, 2: the ID, 3: what the lists hold */
			__( '%1$s: ID %2$s is not in the list read from the POS (%3$s); the previous value is kept. Choose one from the list, or press “Refresh lists from the POS” if it was added since.', 'pos-sync' ),
			$label,
			$id,
			implode( ', ', array_slice( $labels, 0, 10 ) ) . ( count( $labels ) > 10 ? ', …' : '' )
		);
	}

	/**
	 * Why a register does not fit the sale's shop, or null.
	 *
	 * @param string $register_id Register ID.
	 * @param string $shop_id     The sale's shop ID.
	 */
	public static function register_problem( string $register_id, string $shop_id ): ?string {
		if ( '' === $register_id || '' === $shop_id ) {
			return null;
		}
		foreach ( self::rows( 'registers' ) as $row ) {
			if ( (string) $row['id'] === $register_id && null !== ( $row['shop_id'] ?? null ) && (string) $row['shop_id'] !== $shop_id ) {
				$labels = self::labels( 'shops' );
				return sprintf(
					/* translators: 1: register, 2: its shop, 3: the sale's shop */
					__( 'The register %1$s is in the shop %2$s, not in the sale’s shop %3$s; the POS would refuse such sales, so the previous register is kept.', 'pos-sync' ),
					self::labels( 'registers' )[ $register_id ] ?? $register_id,
					$labels[ (string) $row['shop_id'] ] ?? (string) $row['shop_id'],
					$labels[ $shop_id ] ?? $shop_id
				);
			}
		}
		return null;
	}
}
