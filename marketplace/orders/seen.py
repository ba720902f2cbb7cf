"""The merchant's "new order" flag: an order stays highlighted in the shop's list until someone opens it."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.core.db import utcnow
from marketplace.orders.models import Order


def mark_seen_by_merchant(session: Session, order: Order) -> None:
    """Set ``merchant_seen_at`` once (a bookkeeping stamp: one conditional UPDATE, not an audited change)."""
    if order.merchant_seen_at is not None:
        return
    now = utcnow()
    session.execute(
        update(Order)
        .where(Order.id == order.id, Order.merchant_seen_at.is_(None))
        .values(merchant_seen_at=now, updated_at=Order.updated_at)  # opening an order is not editing it
        .execution_options(synchronize_session=False)
    )
    set_committed_value(order, "merchant_seen_at", now)  # the page shows it; nothing left to flush
