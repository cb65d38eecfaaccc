"""The search context: works and shop-listing indexes on Typesense, the query DSL, relevance evaluation."""
