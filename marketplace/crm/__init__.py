"""Shoppers' own data: the address book (and, later, points and member levels)."""
