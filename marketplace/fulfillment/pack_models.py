"""Parcels: an order's units checked, weighed, packed and shipped at the pack station."""
