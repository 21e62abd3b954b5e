<?php
/**
 * Admin actions as forms: every state-changing action is a POST to admin-post.php with
 * its own nonce and a capability check; a GET on an action URL changes nothing.
 *
 * A button may sit inside another form (the WooCommerce settings tab is one big form,
 * and forms do not nest): the button names its own form with the `form` attribute and
 * the forms themselves are printed in the admin footer, outside every other form.
 *
 * @package PosSync
 */

namespace PosSync\Admin;

defined( 'ABSPATH' ) || exit;

/**
 * Buttons, their forms and the guard of their handlers.
 */
final class Actions {

	/**
	 * Forms to print in the footer: id => [admin-post action, nonce action, fields].
	 *
	 * @var array<string,array>
	 */
	private static array $forms = array();

	/**
	 * Wires the footer that prints the forms.
	 */
	public static function hooks(): void {
		add_action( 'admin_footer', array( self::class, 'print_forms' ) );
	}

	/**
	 * A submit button for an admin-post action (its form is printed in the footer).
	 *
	 * @param string $action Admin-post action (`pos_sync_…`).
	 * @param string $nonce  Nonce action.
	 * @param string $label  Button text (plain text).
	 * @param array  $fields More hidden fields: name => value.
	 * @param array  $attrs  Button attributes: id, class.
	 */
	public static function button( string $action, string $nonce, string $label, array $fields = array(), array $attrs = array() ): string {
		$form                 = 'pos-sync-form-' . ( count( self::$forms ) + 1 );
		self::$forms[ $form ] = array( $action, $nonce, $fields );
		$html                 = '<button type="submit" form="' . esc_attr( $form ) . '"';
		foreach ( array_merge( array( 'class' => 'button' ), $attrs ) as $name => $value ) {
			$html .= ' ' . esc_attr( $name ) . '="' . esc_attr( (string) $value ) . '"';
		}
		return $html . '>' . esc_html( $label ) . '</button>';
	}

	/**
	 * Prints the forms of the buttons shown on this page.
	 */
	public static function print_forms(): void {
		foreach ( self::$forms as $id => list( $action, $nonce, $fields ) ) {
			printf( '<form id="%1$s" class="pos-sync-action-form" method="post" action="%2$s" style="display:none">', esc_attr( $id ), esc_url( admin_url( 'admin-post.php' ) ) );
			printf( '<input type="hidden" name="action" value="%s">', esc_attr( $action ) );
			wp_nonce_field( $nonce, '_wpnonce', false );
			foreach ( $fields as $name => $value ) {
				printf( '<input type="hidden" name="%1$s" value="%2$s">', esc_attr( (string) $name ), esc_attr( (string) $value ) );
			}
			echo '</form>';
		}
		self::$forms = array();
	}

	/**
	 * Refuses a user without the capability (403), a request that is not a POST (405) and
	 * a request without a valid nonce (403), before anything changes.
	 *
	 * @param string $nonce      Nonce action.
	 * @param string $capability Capability needed.
	 */
	public static function guard( string $nonce, string $capability = 'manage_woocommerce' ): void {
		if ( ! current_user_can( $capability ) ) {
			wp_die( esc_html__( 'You are not allowed to run this POS Sync action.', 'pos-sync' ), '', array( 'response' => 403 ) );
		}
		if ( 'POST' !== strtoupper( (string) ( $_SERVER['REQUEST_METHOD'] ?? '' ) ) ) { // phpcs:ignore WordPress.Security.ValidatedSanitizedInput
			wp_die( esc_html__( 'POS Sync actions are buttons: this address changes nothing when it is opened as a link.', 'pos-sync' ), '', array( 'response' => 405 ) );
		}
		check_admin_referer( $nonce );
	}

	/**
	 * A posted field of the action, cleaned to letters, digits, - and _.
	 *
	 * @param string $name Field name.
	 */
	public static function posted_id( string $name ): string {
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- read to name the nonce; guard() checks it before anything changes.
		return isset( $_POST[ $name ] ) ? preg_replace( '/[^0-9A-Za-z_\-]/', '', (string) wp_unslash( $_POST[ $name ] ) ) : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized
	}
}
