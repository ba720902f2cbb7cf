"""Inventory errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class InsufficientStock(DomainError):
    code = "stock.insufficient"
    status = 409
    message = N_("Only {available} left of {sku}.")


class InvalidQuantity(DomainError):
    code = "stock.invalid_quantity"
    status = 422
    message = N_("Stock must be a whole number of 0 or more.")
