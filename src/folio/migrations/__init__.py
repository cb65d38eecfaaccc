"""Alembic migrations of Folio's database, shipped inside the package."""
