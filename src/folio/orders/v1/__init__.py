"""Code generated from ``proto/folio/orders/v1/orders.proto`` by ``make proto``: do not edit."""
