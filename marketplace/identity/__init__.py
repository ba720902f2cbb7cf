"""Users of the four kinds, their roles and permissions, login security and the admin IP allowlist."""
