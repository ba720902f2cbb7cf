"""Product reviews: written by shoppers after a completed order, moderated by the platform, answered by the shop."""
