DROP TABLE payment_order_lines;
DROP TABLE payment_orders;
