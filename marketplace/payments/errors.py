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
