"""Routes of the storefront."""
