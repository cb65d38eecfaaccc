"""Folio: a multi-tenant platform for independent bookshops."""
