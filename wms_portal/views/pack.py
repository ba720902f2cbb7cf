"""WMS pack views (being written)."""
