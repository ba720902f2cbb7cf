"""Gift cards: issued in batches, redeemed with code and PIN, their value kept in one ledger account each.

The PIN is stored as an argon2id hash only. Wrong PINs are counted and the card locks after
``PIN_ATTEMPTS``; the count is written on a connection of its own and committed at once, so a payment that
is refused (and rolled back by its caller) still counts the failure: rolling back cannot reset the counter.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, NoResultFound
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.core import audit
from marketplace.core.db import Money, utcnow
from marketplace.payments import accounts
from marketplace.payments.errors import (
    ExpiryInPast,
    GiftCardExpired,
    GiftCardInactive,
    GiftCardLocked,
    GiftCardUnknown,
    GiftCardWrongPin,
    InvalidAmount,
    InvalidBatch,
    ReasonRequired,
)
from marketplace.payments.ledger import account, balance, post
from marketplace.payments.models import AccountKind, GiftCard

log = logging.getLogger(__name__)

PIN_ATTEMPTS = 5  # wrong PINs before the card locks
MAX_BATCH = 100
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
# OWASP's minimum argon2id profile (19 MiB, 2 passes): a PIN is checked on every gift card payment, and issuing
# a batch hashes one per card, so the login profile (64 MiB, 3 passes, ~0.3 s here) would be too slow.
_pin_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_PIN_HASH = _pin_hasher.hash("000000")


@dataclass(frozen=True)
class IssuedCard:
    """A card just issued: the only moment its PIN is known in clear."""

    id: int
    code: str
    pin: str
    value: int
    expires_at: datetime | None


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def _new_code() -> str:
    groups = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "GC-" + "-".join(groups)


def _new_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _verify_pin(pin_hash: str | None, pin: str) -> bool:
    try:
        return _pin_hasher.verify(pin_hash or _DUMMY_PIN_HASH, pin) and pin_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def create_gift_card(
    session: Session,
    *,
    code: str,
    pin: str,
    value: int,
    expires_at: datetime | None,
    actor_id: int | None = None,
    owner_id: int | None = None,
) -> GiftCard:
    """One card with a given code and PIN, its value loaded through the ledger (issued → the card)."""
    if not isinstance(value, int) or value <= 0:
        raise InvalidAmount()
    code = normalise_code(code)
    card = GiftCard(
        code=code,
        pin_hash=_pin_hasher.hash(pin),
        initial_value=value,
        account_code=accounts.gift_card_code(code),
        expires_at=expires_at,
        is_active=True,
        failed_pin_attempts=0,
        issued_by_id=actor_id,
        owner_id=owner_id,
    )
    session.add(card)
    session.flush()
    post(
        session,
        kind="gift_card_issue",
        lines=[
            (accounts.platform(session, AccountKind.GIFT_CARD_ISSUED), -value),
            (account(session, card.account_code, AccountKind.GIFT_CARD), value),
        ],
        memo=f"gift card {code}",
    )
    return card


def issue_gift_cards(
    session: Session,
    *,
    count: int,
    value: int,
    expires_at: datetime | None,
    actor_id: int | None,
    now: datetime | None = None,
) -> list[IssuedCard]:
    """A batch of ``count`` cards worth ``value`` each, with random codes and PINs (returned once, never stored)."""
    now = now or utcnow()
    if not 1 <= count <= MAX_BATCH:
        raise InvalidBatch(max=MAX_BATCH)
    if expires_at is not None and expires_at <= now:
        raise ExpiryInPast()
    issued = []
    taken = set(session.scalars(select(GiftCard.code)).all()) if count > 1 else set()
    for _ in range(count):
        code = _new_code()
        while code in taken or session.scalar(select(GiftCard.id).where(GiftCard.code == code)):
            code = _new_code()
        taken.add(code)
        pin = _new_pin()
        card = create_gift_card(
            session, code=code, pin=pin, value=value, expires_at=expires_at, actor_id=actor_id
        )
        issued.append(IssuedCard(card.id, code, pin, value, expires_at))
    audit.record(
        session,
        "gift_cards.issue",
        changes={"count": count, "value": Money(value).format(), "codes": [c.code for c in issued]},
    )
    return issued


def authenticate_gift_card(session: Session, *, code: str, pin: str, now: datetime | None = None) -> GiftCard:
    """The card with this code if the PIN is right and the card can pay; refused with the reason otherwise.

    A wrong PIN is counted (committed even if the caller rolls back) and the fifth locks the card.
    """
    now = now or utcnow()
    card = session.scalar(select(GiftCard).where(GiftCard.code == normalise_code(code)))
    if card is None:
        _verify_pin(None, pin)  # as slow as a wrong PIN
        raise GiftCardUnknown()
    if card.failed_pin_attempts >= PIN_ATTEMPTS:
        raise GiftCardLocked()
    if not _verify_pin(card.pin_hash, pin.strip()):
        failures = _count_pin_failure(session, card)
        log.warning("wrong PIN for gift card %s (%d in a row)", card.code, failures)
        if failures >= PIN_ATTEMPTS:
            raise GiftCardLocked()
        raise GiftCardWrongPin(left=PIN_ATTEMPTS - failures)
    if card.failed_pin_attempts:
        card.failed_pin_attempts = 0
    if not card.is_active:
        raise GiftCardInactive()
    if card.expires_at is not None and card.expires_at <= now:
        raise GiftCardExpired(date=card.expires_at.strftime("%Y-%m-%d"))
    return card


def _count_pin_failure(session: Session, card: GiftCard) -> int:
    """Add one wrong PIN to the card, committed on a connection of its own; the new count.

    The caller's transaction has not locked the card's row (only a successful PIN writes to it), so the
    separate connection does not wait on it. If it cannot write anyway (SQLite allows one writer, and the
    caller's transaction may already be it), the count is kept in the caller's transaction instead.
    """
    stmt = (
        update(GiftCard)
        .where(GiftCard.id == card.id)
        .values(failed_pin_attempts=GiftCard.failed_pin_attempts + 1)
        .returning(GiftCard.failed_pin_attempts)
    )
    engine = session.get_bind()
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout = 200")
            else:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            try:
                failures = conn.execute(stmt).scalar_one()
                conn.commit()
            finally:
                if sqlite:
                    conn.rollback()
                    conn.exec_driver_sql("PRAGMA busy_timeout = 5000")
    except (DBAPIError, NoResultFound):  # locked out, or the card is not committed yet (same transaction)
        card.failed_pin_attempts += 1
        session.flush()
        return card.failed_pin_attempts
    set_committed_value(card, "failed_pin_attempts", failures)
    return failures


def gift_card_balance(session: Session, card: GiftCard) -> int:
    return balance(session, card.account_code)


def check_gift_card(
    session: Session, *, code: str, pin: str, owner_id: int | None = None, now: datetime | None = None
) -> tuple[GiftCard, int]:
    """A shopper checks a card's balance (same PIN rules as paying); with ``owner_id`` an unowned card
    joins that shopper's wallet."""
    card = authenticate_gift_card(session, code=code, pin=pin, now=now)
    if owner_id is not None and card.owner_id is None:
        card.owner_id = owner_id
    session.flush()
    return card, gift_card_balance(session, card)


def unlock_gift_card(session: Session, card: GiftCard, *, reason: str) -> None:
    """Customer service clears the wrong-PIN count of a locked card."""
    if not reason.strip():
        raise ReasonRequired()
    card.failed_pin_attempts = 0
    audit.record(session, "gift_card.unlock", card, reason=reason.strip())
    session.flush()


def set_gift_card_active(session: Session, card: GiftCard, *, active: bool, reason: str) -> None:
    """Deactivate a card (lost, fraud) or activate it again; its value stays on its account."""
    if not reason.strip():
        raise ReasonRequired()
    card.is_active = active
    audit.record(
        session, "gift_card.activate" if active else "gift_card.deactivate", card, reason=reason.strip()
    )
    session.flush()
