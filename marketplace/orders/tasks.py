"""Jobs of the orders domain: pushing orders to shops, and the periodic timeout and completion sweeps."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.core.db import utcnow
from marketplace.core.jobs import job
from marketplace.extensions import db
from marketplace.merchants.models import Merchant
from marketplace.notifications import webhooks
from marketplace.notifications.models import Notification, WebhookDelivery
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.schemas import order_json


def order_event_body(order: Order, event: str) -> str:
    """The exact JSON text a shop's webhook receives for an order event (signed and stored as is)."""
    return webhooks.dumps(
        {"event": event, "created_at": utcnow().isoformat(timespec="seconds"), "order": order_json(order)}
    )


@job("order_push", timeout=60)
def push_order(order_id: int, event: str) -> None:
    """Tell the shop: a notice in its portal, and a signed POST when it set a webhook URL.

    The POST is a delivery of its own with its own job (``webhooks.deliver_webhook``), retried with backoff:
    an endpoint that is down delays nothing here, and the order never waits for it. Safe to run twice.
    """
    order = db.session.scalars(
        select(Order).where(Order.id == order_id).options(selectinload(Order.lines))
    ).one_or_none()
    if order is None or order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED):
        return  # cancelled before the push went out: nothing to ship
    link = f"/merchant/orders/{order.id}"
    exists = db.session.scalar(
        select(Notification.id).where(
            Notification.tenant_id == order.tenant_id, Notification.link == link, Notification.kind == event
        )
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
    merchant = db.session.get(Merchant, order.tenant_id)
    if merchant is None or not merchant.webhook_url:
        return
    pushed = db.session.scalar(
        select(WebhookDelivery.id).where(WebhookDelivery.order_id == order.id, WebhookDelivery.event == event)
    )
    if pushed is None:
        webhooks.create_delivery(
            db.session, merchant=merchant, event=event, body=order_event_body(order, event), order_id=order.id
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
