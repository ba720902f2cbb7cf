"""Read-side helpers: a shop's in-portal notifications and its webhook delivery log."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.notifications.models import Notification, WebhookAttempt, WebhookDelivery

BADGE_CAP = 99  # the badge says "99+" beyond this; counting further buys nothing


def _visible(tenant_id: int, user_id: int):
    """A shop's notices: those for the whole shop and those for this user. (Notifications are not
    TenantScoped, so the shop is always named here explicitly.)"""
    return (
        Notification.tenant_id == tenant_id,
        or_(Notification.user_id.is_(None), Notification.user_id == user_id),
    )


def unread_count(session: Session, *, tenant_id: int, user_id: int) -> int:
    """Unread notices, counted up to BADGE_CAP + 1 (a capped count stays cheap however many pile up)."""
    capped = (
        select(Notification.id)
        .where(*_visible(tenant_id, user_id), Notification.read_at.is_(None))
        .limit(BADGE_CAP + 1)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(capped)) or 0


def notifications_page(session: Session, *, tenant_id: int, user_id: int, before: int | None = None) -> Page:
    stmt = select(Notification).where(*_visible(tenant_id, user_id))
    return keyset_page(session, stmt, Notification.id, before)


def deliveries_page(session: Session, *, tenant_id: int, before: int | None = None, size: int = 20) -> Page:
    stmt = select(WebhookDelivery).where(WebhookDelivery.tenant_id == tenant_id)
    return keyset_page(session, stmt, WebhookDelivery.id, before, size)


def attempts_by_delivery(session: Session, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    """Every attempt of these deliveries, oldest first, in one query."""
    found: dict[int, list[WebhookAttempt]] = defaultdict(list)
    if delivery_ids:
        rows = session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.id)
        )
        for attempt in rows:
            found[attempt.delivery_id].append(attempt)
    return found


def get_delivery(session: Session, delivery_id: int) -> WebhookDelivery:
    """A delivery of the active tenant; another shop's is a 404."""
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id))
    if delivery is None:
        raise NotFound()
    return delivery
