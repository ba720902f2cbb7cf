"""Inventory errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class InsufficientStock(DomainError):
    """Not enough stock for the change; ``facts``: ``available`` (what is left), ``sku`` (its code), ``sku_id``."""

    code = "stock.insufficient"
    status = 409
    message = N_("Only {available} left of {sku}.")


class BelowReserved(InsufficientStock):
    """On hand may not drop below what open orders hold; same code, ``facts`` add ``reserved``."""

    message = N_("{reserved} units of {sku} are reserved by open orders: stock on hand cannot go below that.")


class InvalidQuantity(DomainError):
    code = "stock.invalid_quantity"
    status = 422
    message = N_("Stock must be a whole number from 0 to 1000000000.")


class InvalidAdjustment(DomainError):
    code = "stock.invalid_adjustment"
    status = 422
    message = N_("A correction is a whole number of units to add or take off, not 0.")


class InvalidThreshold(DomainError):
    code = "stock.invalid_threshold"
    status = 422
    message = N_("The low-stock threshold must be a whole number from 0 to 1000000000.")


class WarehouseNotEditable(DomainError):
    code = "stock.warehouse_not_editable"
    status = 409
    message = N_("Stock in {warehouse} is counted by the platform's warehouse; the shop cannot change it.")
