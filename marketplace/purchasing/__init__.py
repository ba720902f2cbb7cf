"""Purchasing: suppliers, purchase orders, receipts against them and returns to suppliers."""
