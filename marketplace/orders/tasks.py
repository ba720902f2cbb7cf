"""Jobs of the orders domain: pushing orders to shops, and the periodic timeout and completion sweeps."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from marketplace.core.jobs import job
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.orders.models import Order


@job("order_push", timeout=60)
def push_order(order_id: int, event: str) -> None:
    """Tell the shop in its portal (once per order and event)."""
    order = db.session.get(Order, order_id)
    if order is None:
        return
    link = f"/merchant/orders/{order.id}"
    exists = db.session.scalar(
        select(Notification.id).where(Notification.tenant_id == order.tenant_id, Notification.link == link, Notification.kind == event)
    )
    if exists is None:
        db.session.add(
            Notification(
                tenant_id=order.tenant_id,
                kind=event,
                title=f"New order {order.number}",
                body=f"{order.recipient} · {order.total_amount / 100:.2f}",
                link=link,
            )
        )


def cancel_expired_orders() -> int:
    """Periodic: cancel unpaid orders past their deadline (releases stock and held tenders)."""
    from marketplace.core.jobs import job_app
    from marketplace.orders.services import expire_unpaid

    with job_app().app_context():
        count = expire_unpaid(db.session)
        db.session.commit()
        return count


def complete_received_orders() -> int:
    """Periodic: received orders complete after ORDER_AUTO_COMPLETE_DAYS."""
    from marketplace.core.jobs import job_app
    from marketplace.orders.services import complete_received

    with job_app().app_context():
        days = current_app.config["ORDER_AUTO_COMPLETE_DAYS"]
        count = complete_received(db.session, older_than=timedelta(days=days))
        db.session.commit()
        return count
