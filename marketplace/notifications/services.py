"""Changes of in-portal notifications."""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from marketplace.core.db import utcnow
from marketplace.notifications.models import Notification


def mark_read(session: Session, *, tenant_id: int, user_id: int, ids: list[int] | None = None) -> int:
    """Mark a shop's unread notices read (those given, or all it can see); returns how many changed.

    A notice for the whole shop is read for all its accounts once one of them has seen it.
    """
    stmt = update(Notification).where(
        Notification.tenant_id == tenant_id,
        or_(Notification.user_id.is_(None), Notification.user_id == user_id),
        Notification.read_at.is_(None),
    )
    if ids is not None:
        if not ids:
            return 0
        stmt = stmt.where(Notification.id.in_(ids))
    result = session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount or 0
