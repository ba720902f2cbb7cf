"""Storefront search: the search log, full-text and trigram queries over listed products (docs/search.md)."""
