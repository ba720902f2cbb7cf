"""What the four portals share: the login guard, auth pages, template helpers, pagination."""
