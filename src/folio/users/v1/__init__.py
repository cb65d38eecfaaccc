"""Code generated from ``proto/folio/users/v1/users.proto`` by ``make proto``: do not edit."""
