"""WMS counts views (being written)."""
