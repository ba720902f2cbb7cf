"""The ledger accounts of payments, by name: one per shopper (balance, points), one per gift card, and the
platform's singletons, whose code is their kind (``sales_clearing``, ``payment_holds``, ...)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.payments.ledger import account
from marketplace.payments.models import AccountKind, LedgerAccount


def balance_code(user_id: int) -> str:
    return f"customer_balance:{user_id}"


def points_code(user_id: int) -> str:
    return f"customer_points:{user_id}"


def gift_card_code(code: str) -> str:
    return f"gift_card:{code}"


def platform(session: Session, kind: AccountKind) -> LedgerAccount:
    """One of the platform's own accounts (holds, clearing, funding, issued): the code is the kind's value."""
    return account(session, kind.value, kind)


def shopper_balance(session: Session, user_id: int) -> LedgerAccount:
    return account(session, balance_code(user_id), AccountKind.CUSTOMER_BALANCE)


def shopper_points(session: Session, user_id: int) -> LedgerAccount:
    return account(session, points_code(user_id), AccountKind.CUSTOMER_POINTS)
