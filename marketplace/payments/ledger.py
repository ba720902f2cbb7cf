"""Posting to the ledger: one balanced journal entry per movement of money.

Balances change in the same statements that post the lines, with one conditional UPDATE per account
(``balance + :amount >= 0`` unless the account may run negative), so two payments racing for the same balance
cannot both spend it. Accounts are updated in id order, so two entries touching the same accounts never
deadlock.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from marketplace.payments.errors import InsufficientFunds, UnbalancedEntry
from marketplace.payments.models import AccountKind, JournalEntry, JournalLine, LedgerAccount

NEGATIVE_ALLOWED = {AccountKind.GATEWAY_CLEARING, AccountKind.POINTS_FUNDING}


def account(session: Session, code: str, kind: AccountKind) -> LedgerAccount:
    """The account with ``code``, created empty on first use."""
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if found is None:
        found = LedgerAccount(code=code, kind=kind, balance=0, allow_negative=kind in NEGATIVE_ALLOWED)
        session.add(found)
        session.flush()
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
    for ledger_account, amount in lines:
        per_account[ledger_account.id] += amount
    total = sum(per_account.values())
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
