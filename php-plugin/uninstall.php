<?php
/**
 * Uninstall: removes the options, tables, scheduled events and product meta of POS Sync.
 *
 * @package PosSync
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

global $wpdb;

foreach ( array( 'pos_sync_settings', 'pos_sync_tokens', 'pos_sync_cursors', 'pos_sync_last_run', 'pos_sync_progress', 'pos_sync_unmatched', 'pos_sync_db_version', 'pos_sync_last_runs', 'pos_sync_reconcile', 'pos_sync_publish_progress', 'pos_sync_sku_conflicts', 'pos_sync_sku_linked', 'pos_sync_last_tick', 'pos_sync_token_refreshed_at', 'pos_sync_lookups', 'pos_sync_publish_plan', 'pos_sync_terms_to_count', 'pos_sync_publish_replan', 'pos_sync_connected_on' ) as $pos_sync_option ) {
	delete_option( $pos_sync_option );
}
$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE '\\_transient\\_pos\\_sync\\_%' OR option_name LIKE '\\_transient\\_timeout\\_pos\\_sync\\_%'" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery

wp_clear_scheduled_hook( 'pos_sync_tick' );

foreach ( array( 'pos_sync_outbox_lines', 'pos_sync_outbox', 'pos_sync_stock_log', 'pos_sync_recheck', 'pos_sync_catalogue' ) as $pos_sync_table ) {
	$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}{$pos_sync_table}" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared
}

foreach ( array( '_pos_sync_item_id', '_pos_sync_last_stock', '_pos_sync_stock_edit', '_pos_sync_notes', '_pos_sync_key', '_pos_sync_fingerprint', '_pos_sync_fingerprints', '_pos_sync_image_key', '_pos_sync_last_reading' ) as $pos_sync_meta ) {
	delete_post_meta_by_key( $pos_sync_meta );
}
