"""Payment and ledger errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class UnbalancedEntry(DomainError):
    code = "ledger.unbalanced"
    status = 500
    message = N_("A journal entry must sum to zero (it sums to {total}).")


class InsufficientFunds(DomainError):
    code = "ledger.insufficient_funds"
    status = 409
    message = N_("Not enough money on {account}.")


class InvalidAmount(DomainError):
    code = "payments.invalid_amount"
    status = 422
    message = N_("The amount must be a positive number of fen.")


class TendersExceedAmount(DomainError):
    code = "payments.tenders_exceed_amount"
    status = 422
    message = N_("The ways of paying add up to more than the amount due.")


class InvalidTender(DomainError):
    code = "payments.invalid_tender"
    status = 422
    message = N_("This way of paying cannot be used here.")


class ShopperRequired(DomainError):
    code = "payments.shopper_required"
    status = 403
    message = N_("Sign in to pay with your balance or points.")


class InsufficientBalance(DomainError):
    code = "payments.insufficient_balance"
    status = 409
    message = N_("Your balance is not enough for this payment.")


class InsufficientPoints(DomainError):
    code = "payments.insufficient_points"
    status = 409
    message = N_("You do not have enough points.")


class GiftCardUnknown(DomainError):
    code = "gift_card.unknown"
    status = 422
    message = N_("No gift card has this code.")


class GiftCardWrongPin(DomainError):
    code = "gift_card.wrong_pin"
    status = 422
    message = N_("The PIN of this gift card is wrong ({left} tries left).")


class GiftCardLocked(DomainError):
    code = "gift_card.locked"
    status = 423
    message = N_("This gift card is locked after too many wrong PINs. Ask customer service to unlock it.")


class GiftCardExpired(DomainError):
    code = "gift_card.expired"
    status = 422
    message = N_("This gift card expired on {date}.")


class GiftCardInactive(DomainError):
    code = "gift_card.inactive"
    status = 422
    message = N_("This gift card has been deactivated.")


class GiftCardEmpty(DomainError):
    code = "gift_card.empty"
    status = 409
    message = N_("This gift card has no value left.")


class DuplicateGiftCard(DomainError):
    code = "gift_card.duplicate"
    status = 422
    message = N_("The same gift card is used twice in one payment.")


class PaymentNotPending(DomainError):
    code = "payments.not_pending"
    status = 409
    message = N_("Payment {number} is {status}, no longer waiting to be paid.")


class GatewayNotPaid(DomainError):
    code = "payments.gateway_not_paid"
    status = 409
    message = N_("Payment {number} still waits for the payment gateway.")


class NotRefundable(DomainError):
    code = "payments.not_refundable"
    status = 409
    message = N_("At most {refundable} can be refunded on payment {number}.")


class UserNotFound(DomainError):
    code = "payments.shopper_not_found"
    status = 404
    message = N_("No shopper has this email address.")


class ReasonRequired(DomainError):
    code = "payments.reason_required"
    status = 422
    message = N_("Give a reason.")


class UnknownProvider(DomainError):
    code = "gateway.unknown_provider"
    status = 404
    message = N_("Unknown payment provider {name}.")


class CallbackRefused(DomainError):
    """A gateway callback failed verification; ``reason`` is the stable outcome written to the callback log."""

    code = "gateway.callback_refused"
    status = 400
    message = N_("The gateway callback was refused ({reason}).")

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason=reason)
        self.reason = reason
        self.detail = detail


class InvalidBatch(DomainError):
    code = "gift_card.invalid_batch"
    status = 422
    message = N_("Issue between 1 and {max} cards at a time.")


class ExpiryInPast(DomainError):
    code = "gift_card.expiry_in_past"
    status = 422
    message = N_("The expiry date must be in the future.")


class InvalidPoints(DomainError):
    code = "payments.invalid_points"
    status = 422
    message = N_("The number of points must be a positive whole number.")
