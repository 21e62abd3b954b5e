<?php
/**
 * Media: POS images sideloaded once into the media library, found again by their key.
 *
 * @package PosSync
 */

namespace PosSync\Apply;

use PosSync\Store\Log;

defined( 'ABSPATH' ) || exit;

/**
 * Downloads (before the product transaction) and finds listing images.
 */
final class Media {

	public const KEY_META = '_pos_sync_image_key';

	/**
	 * Attachments of image keys already in the media library.
	 *
	 * @param string[] $keys Image keys (`<imageID>-<hash>`: same key, same picture).
	 * @return array<string,int> key => attachment id.
	 */
	public static function find( array $keys ): array {
		global $wpdb;
		$keys = array_values( array_unique( array_filter( array_map( 'strval', $keys ), 'strlen' ) ) );
		if ( ! $keys ) {
			return array();
		}
		$placeholders = implode( ',', array_fill( 0, count( $keys ), '%s' ) );
		$rows         = $wpdb->get_results(
			$wpdb->prepare(
				// phpcs:ignore WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare, WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				"SELECT pm.meta_value AS image_key, pm.post_id FROM {$wpdb->postmeta} pm JOIN {$wpdb->posts} p ON p.ID = pm.post_id
				 WHERE pm.meta_key = %s AND pm.meta_value IN ({$placeholders}) AND p.post_type = 'attachment' ORDER BY pm.post_id",
				array_merge( array( self::KEY_META ), $keys )
			),
			ARRAY_A
		);
		$found = array();
		foreach ( (array) $rows as $row ) {
			$found[ (string) $row['image_key'] ] ??= (int) $row['post_id'];
		}
		return $found;
	}

	/**
	 * Makes sure every image is in the media library: reused by key, downloaded when new.
	 * Runs before the product's transaction, so a slow download never holds locks.
	 *
	 * @param array  $images  Listing images `{key, url, filename, alt}` (cleaned by PosText).
	 * @param string $listing Listing key, for messages.
	 * @param string $name    Product name, for messages.
	 * @return array{0: array<string,int>, 1: int} key => attachment id (failed ones missing), downloads made.
	 */
	public static function ensure( array $images, string $listing, string $name = '' ): array {
		$by_key = array();
		foreach ( $images as $image ) {
			if ( is_array( $image ) && '' !== (string) ( $image['key'] ?? '' ) ) {
				$by_key[ (string) $image['key'] ] = $image;
			}
		}
		$found      = self::find( array_keys( $by_key ) );
		$downloaded = 0;
		foreach ( $by_key as $key => $image ) {
			if ( isset( $found[ $key ] ) ) {
				continue;
			}
			$id = self::sideload( $image, '' !== $name ? sprintf( '%s “%s”', $listing, $name ) : $listing );
			if ( $id ) {
				$found[ $key ] = $id;
				++$downloaded;
			}
		}
		return array( $found, $downloaded );
	}

	/**
	 * Downloads one image into the media library.
	 *
	 * @param array  $image   `{key, url, filename, alt}`.
	 * @param string $listing Listing key and product name, for messages.
	 * @return int Attachment id, 0 when it failed (logged).
	 */
	private static function sideload( array $image, string $listing ): int {
		require_once ABSPATH . 'wp-admin/includes/file.php';
		require_once ABSPATH . 'wp-admin/includes/media.php';
		require_once ABSPATH . 'wp-admin/includes/image.php';
		$url = (string) ( $image['url'] ?? '' );
		$tmp = ImageDownload::fetch( $url );
		if ( is_wp_error( $tmp ) ) {
			self::failed( $image, $listing, $tmp->get_error_message() );
			return 0;
		}
		$name = PosText::file_name( $image['filename'] ?? '' );
		$ext  = strtolower( (string) pathinfo( (string) wp_parse_url( $url, PHP_URL_PATH ), PATHINFO_EXTENSION ) );
		if ( '' === $name || '' === pathinfo( $name, PATHINFO_EXTENSION ) ) {
			$name = PosText::file_name( basename( (string) wp_parse_url( $url, PHP_URL_PATH ) ) );
		} elseif ( '' !== $ext && strtolower( pathinfo( $name, PATHINFO_EXTENSION ) ) !== $ext ) {
			// The CDN serves the picture in the URL's format.
			$name = pathinfo( $name, PATHINFO_FILENAME ) . '.' . $ext;
		}
		$alt = PosText::alt( $image['alt'] ?? '' );
		$id  = media_handle_sideload(
			array(
				'name'     => $name,
				'tmp_name' => $tmp,
			),
			0,
			'' !== $alt ? $alt : null
		);
		if ( is_wp_error( $id ) ) {
			wp_delete_file( $tmp );
			self::failed( $image, $listing, $id->get_error_message() );
			return 0;
		}
		update_post_meta( $id, self::KEY_META, (string) $image['key'] );
		if ( '' !== $alt ) {
			update_post_meta( $id, '_wp_attachment_image_alt', $alt );
		}
		return (int) $id;
	}

	/**
	 * Keeps an attachment's alt text in step with the POS (no write when unchanged).
	 *
	 * @param int    $attachment_id Attachment.
	 * @param string $alt           Alt text.
	 */
	public static function set_alt( int $attachment_id, string $alt ): void {
		$alt = PosText::alt( $alt );
		if ( '' !== $alt && get_post_meta( $attachment_id, '_wp_attachment_image_alt', true ) !== $alt ) {
			update_post_meta( $attachment_id, '_wp_attachment_image_alt', $alt );
		}
	}

	/**
	 * Logs a failed download.
	 *
	 * @param array  $image   Image.
	 * @param string $listing Listing key.
	 * @param string $why     Error.
	 */
	private static function failed( array $image, string $listing, string $why ): void {
		Log::warning(
			sprintf(
				/* translators: 1: image file name, 2: POS item or matrix, 3: error */
				__( 'Image %1$s of POS %2$s could not be downloaded (%3$s); the product is saved without it and the image is tried again when the item next changes in the POS.', 'pos-sync' ),
				(string) ( $image['filename'] ?? $image['key'] ?? '?' ),
				$listing,
				$why
			)
		);
	}
}
