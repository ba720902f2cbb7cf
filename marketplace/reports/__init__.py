"""Read-only figures for dashboards and reports."""
