<?php
/**
 * The fee lines of an order for its POS sale (docs/PROTOCOL.md, order payload `fees`):
 * WooCommerce fee lines as name, total excluding tax and its tax, decimal strings that
 * may be negative. The core makes one sale line per fee on the `fee_item_id` POS item.
 *
 * @package PosSync
 */

namespace PosSync\Orders;

defined( 'ABSPATH' ) || exit;

/**
 * Fee lines of an order.
 */
final class OrderFees {

	/**
	 * The order's fees, in its own order.
	 *
	 * @param \WC_Order $order Order.
	 * @return array[] `{name, total, tax}` each.
	 */
	public static function of( \WC_Order $order ): array {
		$fees = array();
		foreach ( $order->get_items( 'fee' ) as $fee ) {
			$fees[] = array(
				'name'  => (string) $fee->get_name(),
				'total' => (string) wc_format_decimal( (float) $fee->get_total(), wc_get_price_decimals() ),
				'tax'   => (string) wc_format_decimal( (float) $fee->get_total_tax(), wc_get_price_decimals() ),
			);
		}
		return $fees;
	}
}
