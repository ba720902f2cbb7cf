"""Order errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class IllegalTransition(DomainError):
    code = "order.illegal_transition"
    status = 409
    message = N_("Order {number} is {current}; it cannot be {action} now.")


class NothingToShip(DomainError):
    code = "order.nothing_to_ship"
    status = 422
    message = N_("Choose at least one line and a quantity that is still open to ship.")


class ShipQuantityTooLarge(DomainError):
    code = "order.ship_quantity_too_large"
    status = 422
    message = N_("Line {line}: only {open} left to ship.")


class WaybillRequired(DomainError):
    code = "order.waybill_required"
    status = 422
    message = N_("Enter the carrier and the waybill number.")


class ReasonRequired(DomainError):
    code = "order.reason_required"
    status = 422
    message = N_("Give a reason.")


class FulfilledByPlatform(DomainError):
    code = "orders.fulfilled_by_platform"
    status = 409
    message = N_("Order {number} ships from the platform warehouse: its pack station ships it, not the shop.")
