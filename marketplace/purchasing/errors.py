"""Purchasing errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class WrongStatus(DomainError):
    """The order is not in a state that allows this step; ``facts``: ``number``, ``status``."""

    code = "purchasing.wrong_status"
    status = 409
    message = N_("Purchase order {number} is {status}: this step is not possible now.")


class ConfirmationNeeded(DomainError):
    """More than the open quantity, or an item the order does not list, without a supervisor's confirmation."""

    code = "purchasing.confirmation_needed"
    status = 409
    message = N_("{sku}: {why} A supervisor must confirm it.")


class NotSupervisor(DomainError):
    code = "purchasing.not_supervisor"
    status = 403
    message = N_("Only a user who may approve purchase orders can confirm this.")


class UnknownSku(DomainError):
    code = "purchasing.unknown_sku"
    status = 422
    message = N_("No SKU with the code {code}.")


class AmbiguousSku(DomainError):
    code = "purchasing.ambiguous_sku"
    status = 422
    message = N_("Several shops have a SKU with the code {code}: choose the shop.")
