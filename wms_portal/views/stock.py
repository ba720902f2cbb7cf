"""WMS stock views (being written)."""
