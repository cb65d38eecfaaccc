"""The folder-watch inbox: CSV, JSON Lines and Parquet files dropped in a folder land in the lake."""
