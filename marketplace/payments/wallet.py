"""A shopper's stored value: the balance (money) and points, each one ledger account, changed by staff
top-ups and grants from the platform's funding accounts (audited with the reason)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core import audit
from marketplace.core.db import Money
from marketplace.identity.models import User, UserKind
from marketplace.payments import accounts
from marketplace.payments.errors import InvalidAmount, InvalidPoints, ReasonRequired, UserNotFound
from marketplace.payments.ledger import post
from marketplace.payments.models import AccountKind

MAX_TOP_UP = 10_000_000  # ¥100,000 in one go: a typo guard, not a business limit
MAX_POINTS_GRANT = 10_000_000


def find_shopper(session: Session, email: str) -> User:
    user = session.scalar(
        select(User).where(User.kind == UserKind.SHOPPER, User.email == email.strip().lower())
    )
    if user is None:
        raise UserNotFound()
    return user


def _shopper(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.kind is not UserKind.SHOPPER:
        raise UserNotFound()
    return user


def top_up_balance(session: Session, *, user_id: int, amount: int, reason: str, actor_id: int | None) -> None:
    """Add ``amount`` fen to a shopper's balance, paid by the platform (``platform_funding``)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_TOP_UP:
        raise InvalidAmount()
    if not reason.strip():
        raise ReasonRequired()
    user = _shopper(session, user_id)
    post(
        session,
        kind="topup",
        lines=[
            (accounts.platform(session, AccountKind.PLATFORM_FUNDING), -amount),
            (accounts.shopper_balance(session, user.id), amount),
        ],
        memo=f"top-up for {user.email}: {reason.strip()}"[:255],
    )
    audit.record(
        session,
        "wallet.top_up",
        user,
        changes={"amount": Money(amount).format(), "by": actor_id},
        reason=reason,
    )
    session.flush()


def grant_points(session: Session, *, user_id: int, points: int, reason: str, actor_id: int | None) -> None:
    """Give a shopper ``points`` (issued by the platform: ``points_issued`` → the shopper's points)."""
    if not isinstance(points, int) or isinstance(points, bool) or not 0 < points <= MAX_POINTS_GRANT:
        raise InvalidPoints()
    if not reason.strip():
        raise ReasonRequired()
    user = _shopper(session, user_id)
    post(
        session,
        kind="points_grant",
        lines=[
            (accounts.platform(session, AccountKind.POINTS_ISSUED), -points),
            (accounts.shopper_points(session, user.id), points),
        ],
        memo=f"points for {user.email}: {reason.strip()}"[:255],
    )
    audit.record(
        session, "wallet.grant_points", user, changes={"points": points, "by": actor_id}, reason=reason
    )
    session.flush()
