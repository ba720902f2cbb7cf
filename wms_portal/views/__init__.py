"""Routes of the WMS portal."""
