"""Helpers for the admin OMS tests: staff clients, reading the order list, and putting orders into a state."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from marketplace.core.audit import AuditEntry
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.orders import services
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from tests.factories import login, make_user
from tests.page_helpers import english_client

_ROW = re.compile(r'<tr id="order-(\d+)" class="([^"]*)"')


def staff_client(app: Flask, role: str = "super_admin") -> tuple[FlaskClient, User]:
    """A signed-in staff browser (English pages) of ``role``."""
    user = make_user(app, UserKind.STAFF, role=role)
    client = english_client(app)
    assert login(client, user).status_code == 302
    return client, user


def listed(page: str) -> list[int]:
    """Order ids in the admin list's rows, top to bottom."""
    return [int(order_id) for order_id, _cls in _ROW.findall(page)]


def highlighted(page: str) -> list[int]:
    return [int(order_id) for order_id, cls in _ROW.findall(page) if "is-new" in cls]


def order(app: Flask, order_id: int) -> Order:
    with app.app_context():
        found = db.session.get(Order, order_id)
        db.session.expunge(found)
        return found


def history(app: Flask, order_id: int) -> list[tuple[str, str | None, str | None, str, str]]:
    """(action, from, to, reason, actor) of each history entry, oldest first."""
    with app.app_context():
        events = db.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
        return [(e.action, e.from_status, e.to_status, e.reason, e.actor_label) for e in events]


def audit_actions(app: Flask, order_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "orders", AuditEntry.object_id == str(order_id))
                .order_by(AuditEntry.id)
            )
        )


def set_columns(app: Flask, order_id: int, **values) -> None:
    """Put an order straight into a state the tests need (a completed order, an old one)."""
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == order_id).values(**values))
        db.session.commit()


def complete(app: Flask, order_id: int) -> None:
    set_columns(app, order_id, status=OrderStatus.COMPLETED)


def placed_at(app: Flask, order_id: int, when: datetime) -> None:
    set_columns(app, order_id, created_at=when)


def mark_invalid(app: Flask, order_id: int, reason: str = "test order") -> None:
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.orders import oms

    with app.app_context(), acting_as(SYSTEM):
        oms.mark_invalid(db.session, db.session.get(Order, order_id), actor=services.SYSTEM, reason=reason)
        db.session.commit()
