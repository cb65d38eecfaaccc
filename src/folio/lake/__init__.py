"""The data lake: partitioned Parquet with a manifest per table, queried with DuckDB (``folio.lake.api``)."""
