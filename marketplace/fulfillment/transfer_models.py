"""Customer-return and transfer receipts."""
