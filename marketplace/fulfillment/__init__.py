"""Warehouse operations: zones and bins, bin stock, putaway, picking, packing, shipping, counts."""
