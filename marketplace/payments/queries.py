"""Read-side helpers for payments, the ledger, gift cards, gateway callbacks and wallets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.payments import accounts
from marketplace.payments.callbacks import HANDLED
from marketplace.payments.models import (
    GatewayCallback,
    GiftCard,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    Payment,
    Refund,
)


def payment_with_tenders(session: Session, payment_id: int) -> Payment:
    payment = session.scalar(
        select(Payment).where(Payment.id == payment_id).options(selectinload(Payment.tenders))
    )
    if payment is None:
        raise NotFound()
    return payment


def payment_by_number(session: Session, number: str) -> Payment | None:
    return session.scalar(
        select(Payment).where(Payment.number == number.strip()).options(selectinload(Payment.tenders))
    )


def payment_ids(session: Session, numbers: list[str]) -> dict[str, int]:
    """Payment number → id for the numbers given (one query, for links from a list)."""
    wanted = {n for n in numbers if n}
    if not wanted:
        return {}
    return dict(session.execute(select(Payment.number, Payment.id).where(Payment.number.in_(wanted))).all())


def list_payments(session: Session, *, search: str = "", status: str = "", before: int | None = None) -> Page:
    stmt = select(Payment).options(selectinload(Payment.tenders))
    if search.strip():
        stmt = stmt.where(Payment.number.like(f"%{search.strip()}%"))
    if status:
        stmt = stmt.where(Payment.status == status)
    return keyset_page(session, stmt, Payment.id, before)


@dataclass(frozen=True)
class LedgerLine:
    entry_id: int
    kind: str
    memo: str
    account_code: str
    currency: str
    amount: int
    created_at: datetime
    payment_id: int | None
    order_id: int | None


def journal_lines(
    session: Session, *, payment_id: int | None = None, order_id: int | None = None
) -> list[LedgerLine]:
    """Every ledger line of a payment's or an order's entries, oldest first (entry kind, memo, account, amount)."""
    if payment_id is None and order_id is None:
        return []
    stmt = (
        select(
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.memo,
            LedgerAccount.code,
            LedgerAccount.currency,
            JournalLine.amount,
            JournalEntry.created_at,
            JournalEntry.payment_id,
            JournalEntry.order_id,
        )
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .order_by(JournalEntry.id, JournalLine.id)
    )
    if payment_id is not None:
        stmt = stmt.where(JournalEntry.payment_id == payment_id)
    if order_id is not None:
        stmt = stmt.where(JournalEntry.order_id == order_id)
    return [LedgerLine(*row) for row in session.execute(stmt)]


def callbacks_for(session: Session, payment_number: str) -> list[GatewayCallback]:
    return list(
        session.scalars(
            select(GatewayCallback)
            .where(GatewayCallback.payment_number == payment_number)
            .order_by(GatewayCallback.id)
        )
    )


def refunds_for(session: Session, payment_id: int) -> list[Refund]:
    return list(session.scalars(select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)))


def list_callbacks(session: Session, *, refused_only: bool = False, before: int | None = None) -> Page:
    stmt = select(GatewayCallback)
    if refused_only:
        stmt = stmt.where(GatewayCallback.outcome.not_in(HANDLED))
    return keyset_page(session, stmt, GatewayCallback.id, before)


def is_refused(callback: GatewayCallback) -> bool:
    return callback.outcome not in HANDLED


@dataclass
class GiftCardRow:
    card: GiftCard
    balance: int

    @property
    def id(self) -> int:  # keyset pagination reads the last row's id
        return self.card.id


def list_gift_cards(session: Session, *, search: str = "", before: int | None = None) -> Page:
    stmt = select(GiftCard)
    if search.strip():
        stmt = stmt.where(GiftCard.code.like(f"%{search.strip().upper()}%"))
    page = keyset_page(session, stmt, GiftCard.id, before)
    balances = _balances(session, [card.account_code for card in page.items])
    return Page(
        [GiftCardRow(card, balances.get(card.account_code, 0)) for card in page.items], page.next_cursor
    )


def get_gift_card(session: Session, card_id: int) -> GiftCard:
    card = session.get(GiftCard, card_id)
    if card is None:
        raise NotFound()
    return card


def _balances(session: Session, codes: list[str]) -> dict[str, int]:
    if not codes:
        return {}
    return dict(
        session.execute(
            select(LedgerAccount.code, LedgerAccount.balance).where(LedgerAccount.code.in_(codes))
        ).all()
    )


@dataclass
class Wallet:
    balance: int = 0
    points: int = 0
    points_value: int = 0  # what the points are worth, in fen
    gift_cards: list[GiftCardRow] = field(default_factory=list)


def wallet(session: Session, user_id: int) -> Wallet:
    """A shopper's balance, points (and their money value) and the gift cards they own, with balances."""
    from marketplace.payments.services import points_value

    cards = list(session.scalars(select(GiftCard).where(GiftCard.owner_id == user_id).order_by(GiftCard.id)))
    codes = [accounts.balance_code(user_id), accounts.points_code(user_id), *(c.account_code for c in cards)]
    balances = _balances(session, codes)
    points = balances.get(accounts.points_code(user_id), 0)
    return Wallet(
        balance=balances.get(accounts.balance_code(user_id), 0),
        points=points,
        points_value=points_value(points),
        gift_cards=[GiftCardRow(card, balances.get(card.account_code, 0)) for card in cards],
    )
