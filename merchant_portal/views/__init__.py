"""Routes of the merchant portal, one module per area."""
