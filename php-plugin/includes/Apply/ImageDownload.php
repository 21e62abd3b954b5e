<?php
/**
 * Image downloads from the POS's image host only: through WordPress's safe HTTP (no
 * private or local addresses, no redirects elsewhere), an image Content-Type, a file
 * that really is an image, and a size cap.
 *
 * @package PosSync
 */

namespace PosSync\Apply;

defined( 'ABSPATH' ) || exit;

/**
 * Fetches one POS image into a temporary file, or says why not.
 */
final class ImageDownload {

	/**
	 * Lightspeed R-Series serves item images from Cloudinary: Image `baseImageURL` is
	 * `https://res.cloudinary.com/lightspeed-retail/image/upload/`.
	 */
	public const DEFAULT_HOSTS = array( 'res.cloudinary.com' );

	/**
	 * Default size cap (bytes): 10 MB.
	 */
	public const DEFAULT_MAX_BYTES = 10485760;

	/**
	 * Hosts images may come from: `host` or `host:port` entries (filter `pos_sync_image_hosts`).
	 *
	 * @return string[]
	 */
	public static function hosts(): array {
		$hosts = (array) apply_filters( 'pos_sync_image_hosts', self::DEFAULT_HOSTS );
		return array_values( array_filter( array_map( static fn( $h ) => strtolower( trim( is_scalar( $h ) ? (string) $h : '' ) ), $hosts ), 'strlen' ) );
	}

	/**
	 * The largest image downloaded, in bytes (filter `pos_sync_image_max_bytes`, default 10 MB).
	 */
	public static function max_bytes(): int {
		return max( 1, (int) apply_filters( 'pos_sync_image_max_bytes', self::DEFAULT_MAX_BYTES ) );
	}

	/**
	 * Whether a URL is on one of the image hosts (by host, or host and port).
	 *
	 * @param string $url URL.
	 */
	public static function host_allowed( string $url ): bool {
		$host = strtolower( (string) wp_parse_url( $url, PHP_URL_HOST ) );
		$port = wp_parse_url( $url, PHP_URL_PORT );
		if ( '' === $host ) {
			return false;
		}
		foreach ( self::hosts() as $allowed ) {
			if ( $allowed === $host || ( null !== $port && $allowed === $host . ':' . $port ) ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Downloads an image into a temporary file.
	 *
	 * @param string $url Image URL from the listing.
	 * @return string|\WP_Error The temporary file (the caller deletes it), or why it was refused.
	 */
	public static function fetch( string $url ) {
		if ( '' === $url || ! wp_http_validate_url( $url ) ) {
			return new \WP_Error( 'pos_sync_bad_url', __( 'not a valid URL', 'pos-sync' ) );
		}
		if ( ! self::host_allowed( $url ) ) {
			return new \WP_Error(
				'pos_sync_image_host',
				sprintf(
					/* translators: 1: host of the image URL, 2: hosts allowed */
					__( 'its host %1$s is not the POS’s image host (%2$s; others can be allowed with the pos_sync_image_hosts filter)', 'pos-sync' ),
					(string) wp_parse_url( $url, PHP_URL_HOST ),
					implode( ', ', self::hosts() )
				)
			);
		}
		require_once ABSPATH . 'wp-admin/includes/file.php';
		$max = self::max_bytes();
		$tmp = wp_tempnam( (string) wp_parse_url( $url, PHP_URL_PATH ) );
		if ( ! $tmp ) {
			return new \WP_Error( 'pos_sync_image_tmp', __( 'no temporary file could be made', 'pos-sync' ) );
		}
		// One byte over the cap is enough to know the image is too big.
		$response = wp_safe_remote_get(
			$url,
			array(
				'timeout'             => 30,
				'redirection'         => 0,
				'stream'              => true,
				'filename'            => $tmp,
				'limit_response_size' => $max + 1,
			)
		);
		$why = self::refusal( $response, $tmp, $max );
		if ( null !== $why ) {
			wp_delete_file( $tmp );
			return $why;
		}
		return $tmp;
	}

	/**
	 * Why a downloaded answer is not taken, or null when it is a good image.
	 *
	 * @param array|\WP_Error $response HTTP answer.
	 * @param string          $tmp      File it was streamed to.
	 * @param int             $max      Size cap.
	 */
	private static function refusal( $response, string $tmp, int $max ): ?\WP_Error {
		if ( is_wp_error( $response ) ) {
			return $response;
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( 200 !== $code ) {
			/* translators: %d: HTTP status code */
			return new \WP_Error( 'pos_sync_image_http', sprintf( __( 'the image host answered HTTP %d', 'pos-sync' ), $code ) );
		}
		$type = strtolower( trim( explode( ';', (string) wp_remote_retrieve_header( $response, 'content-type' ) )[0] ) );
		if ( ! str_starts_with( $type, 'image/' ) ) {
			/* translators: %s: the Content-Type the host sent */
			return new \WP_Error( 'pos_sync_image_type', sprintf( __( 'its Content-Type is “%s”, not an image', 'pos-sync' ), '' !== $type ? $type : '—' ) );
		}
		$length = (int) wp_remote_retrieve_header( $response, 'content-length' );
		clearstatcache( true, $tmp );
		if ( $length > $max || (int) filesize( $tmp ) > $max ) {
			/* translators: %s: size cap in bytes */
			return new \WP_Error( 'pos_sync_image_size', sprintf( __( 'it is larger than %s bytes (the pos_sync_image_max_bytes filter sets the cap)', 'pos-sync' ), number_format_i18n( $max ) ) );
		}
		$mime = wp_get_image_mime( $tmp );
		if ( ! is_string( $mime ) || ! str_starts_with( $mime, 'image/' ) ) {
			return new \WP_Error( 'pos_sync_image_file', __( 'the file is not an image', 'pos-sync' ) );
		}
		return null;
	}
}
