"""WMS transfers views (being written)."""
