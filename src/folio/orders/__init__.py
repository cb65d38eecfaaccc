"""Orders: a shop's carts, the orders placed from them, and each order's way to the customer."""
