"""Cart and checkout errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class SkuUnavailable(DomainError):
    code = "cart.sku_unavailable"
    status = 409
    message = N_("{title} is no longer on sale.")


class QuantityInvalid(DomainError):
    code = "cart.quantity_invalid"
    status = 422
    message = N_("Quantity must be between 1 and {maximum}.")


class CartEmpty(DomainError):
    code = "checkout.cart_empty"
    status = 422
    message = N_("Choose at least one item to buy.")


class AddressMissing(DomainError):
    code = "checkout.address_missing"
    status = 422
    message = N_("Choose a delivery address.")


class PriceChanged(DomainError):
    code = "checkout.price_changed"
    status = 409
    message = N_(
        "Prices or shipping changed since you opened this page: the total is now {total}. Please confirm."
    )


class LinesUnavailable(DomainError):
    code = "checkout.lines_unavailable"
    status = 409
    message = N_("Some items cannot be bought now: {details}")


class NotFreeOfCharge(DomainError):
    code = "checkout.not_free"
    status = 422
    message = N_("A gift order must be free: every price and the shipping must be 0.")
