"""The platform core: domains and infrastructure shared by the four portals."""
