"""The catalog context: bibliographic works shared by every shop, and each shop's listings."""
