"""Posting to the ledger: one balanced journal entry per movement of money.

Balances change in the same statements that post the lines, with one conditional UPDATE per account
(``balance + :amount >= 0`` unless the account may run negative), so two payments racing for the same balance
cannot both spend it. Accounts are updated in id order, so two entries touching the same accounts never
deadlock.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketplace.payments.errors import InsufficientFunds, UnbalancedEntry
from marketplace.payments.models import AccountKind, JournalEntry, JournalLine, LedgerAccount

# Accounts that mirror value outside the ledger (the gateway, the platform's own funds, what was issued) and so
# may run negative; holders' accounts (a shopper's balance, a gift card, holds, clearing) never may.
NEGATIVE_ALLOWED = {
    AccountKind.GATEWAY_CLEARING,
    AccountKind.POINTS_FUNDING,
    AccountKind.PLATFORM_FUNDING,
    AccountKind.POINTS_ISSUED,
    AccountKind.GIFT_CARD_ISSUED,
}
POINTS = "PTS"
POINTS_KINDS = {AccountKind.CUSTOMER_POINTS, AccountKind.POINTS_HOLDS, AccountKind.POINTS_ISSUED}


def currency_of(kind: AccountKind) -> str:
    """Points are their own unit and never mix with money; every other account is in money (CNY)."""
    return POINTS if kind in POINTS_KINDS else "CNY"


def account(session: Session, code: str, kind: AccountKind) -> LedgerAccount:
    """The account with ``code``, created empty on first use (safe when two transactions create it at once)."""
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if found is None:
        values = {
            "code": code,
            "kind": kind,
            "currency": currency_of(kind),
            "balance": 0,
            "allow_negative": kind in NEGATIVE_ALLOWED,
        }
        upsert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(
            session.get_bind().dialect.name
        )
        if upsert is None:
            session.execute(insert(LedgerAccount).values(values))
        else:
            session.execute(
                upsert(LedgerAccount).values(values).on_conflict_do_nothing(index_elements=["code"])
            )
        found = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    return found


def post(
    session: Session,
    *,
    kind: str,
    lines: list[tuple[LedgerAccount, int]],
    memo: str = "",
    payment_id: int | None = None,
    order_id: int | None = None,
) -> JournalEntry:
    """Write one entry. Refused whole (nothing changes) if unbalanced or if an account would go below zero."""
    per_account: dict[int, int] = defaultdict(int)
    per_currency: dict[str, int] = defaultdict(int)
    for ledger_account, amount in lines:
        per_account[ledger_account.id] += amount
        per_currency[ledger_account.currency] += amount
    for total in per_currency.values():  # money and points each balance on their own
        if total != 0:
            raise UnbalancedEntry(total=total)
    names = {a.id: a.code for a, _amount in lines}
    for account_id in sorted(per_account):
        amount = per_account[account_id]
        if amount == 0:
            continue
        changed = session.execute(
            update(LedgerAccount)
            .where(
                LedgerAccount.id == account_id,
                or_(LedgerAccount.allow_negative.is_(True), LedgerAccount.balance + amount >= 0),
            )
            .values(balance=LedgerAccount.balance + amount)
        ).rowcount
        if changed != 1:
            raise InsufficientFunds(account=names[account_id])
    entry = JournalEntry(kind=kind, memo=memo, payment_id=payment_id, order_id=order_id)
    session.add(entry)
    session.flush()
    session.add_all(
        JournalLine(entry_id=entry.id, account_id=account_id, amount=amount)
        for account_id, amount in sorted(per_account.items())
        if amount
    )
    session.flush()
    for ledger_account, _amount in lines:
        session.expire(ledger_account, ["balance"])  # changed in SQL: read again on next access
    return entry


def balance(session: Session, code: str) -> int:
    return session.scalar(select(LedgerAccount.balance).where(LedgerAccount.code == code)) or 0
