"""Shared builders for payment tests: a funded shopper, a gift card, and the ledger's invariants."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.db import utcnow
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.payments.gift_cards import create_gift_card
from marketplace.payments.ledger import balance
from marketplace.payments.models import JournalEntry, JournalLine, LedgerAccount
from marketplace.payments.wallet import grant_points, top_up_balance
from tests.factories import make_user


def funded_shopper(app: Flask, *, balance_fen: int = 0, points: int = 0) -> User:
    shopper = make_user(app, UserKind.SHOPPER)
    with app.app_context(), acting_as(SYSTEM):
        if balance_fen:
            top_up_balance(db.session, user_id=shopper.id, amount=balance_fen, reason="test", actor_id=None)
        if points:
            grant_points(db.session, user_id=shopper.id, points=points, reason="test", actor_id=None)
        db.session.commit()
    return shopper


def gift_card(app: Flask, code: str, value: int, *, pin: str = "123456", days: int = 365) -> int:
    with app.app_context(), acting_as(SYSTEM):
        card = create_gift_card(
            db.session, code=code, pin=pin, value=value, expires_at=utcnow() + timedelta(days=days)
        )
        db.session.commit()
        return card.id


def balances(session: Session, *codes: str) -> list[int]:
    return [balance(session, code) for code in codes]


def assert_books_balance(session: Session) -> None:
    """Every entry and the whole ledger sum to zero per currency; each balance is the sum of its lines and
    never negative unless the account may be."""
    per_entry = session.execute(
        select(JournalLine.entry_id, LedgerAccount.currency, func.sum(JournalLine.amount))
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .group_by(JournalLine.entry_id, LedgerAccount.currency)
    ).all()
    assert [row for row in per_entry if row[2] != 0] == []
    per_currency = session.execute(
        select(LedgerAccount.currency, func.sum(LedgerAccount.balance)).group_by(LedgerAccount.currency)
    ).all()
    assert [row for row in per_currency if row[1] != 0] == []
    sums = dict(
        session.execute(
            select(JournalLine.account_id, func.sum(JournalLine.amount)).group_by(JournalLine.account_id)
        ).all()
    )
    accounts = session.execute(
        select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.balance, LedgerAccount.allow_negative)
    )
    for account_id, code, account_balance, allow_negative in accounts:
        assert account_balance == sums.get(account_id, 0), code
        assert allow_negative or account_balance >= 0, code
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == len(
        {row[0] for row in per_entry}
    )
