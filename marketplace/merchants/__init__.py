"""Merchants (the tenants): shops, their API keys and their settings."""
