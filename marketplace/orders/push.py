"""Order push: telling the shop an order is ready to ship, in the portal and (if configured) by webhook.

Placing the event in the outbox inside the order's transaction means the push happens if and only if the
order change commits; the job itself runs later on the ``order_push`` queue.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.core.jobs import enqueue
from marketplace.orders.models import Order


def order_ready_to_ship(session: Session, order: Order) -> None:
    from marketplace.orders.tasks import push_order

    enqueue(push_order, tenant_id=order.tenant_id, order_id=order.id, event="order.ready_to_ship")
