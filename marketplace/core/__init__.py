"""Infrastructure shared by every domain: database base classes, tenancy, permissions, jobs, audit."""
