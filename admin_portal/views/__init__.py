"""Routes of the admin portal, one module per area."""
