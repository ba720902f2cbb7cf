"""Order lists and order pages, shared by the admin OMS and the merchant portal.

The same ``search_orders`` serves both: in the merchant portal the tenant filter is added automatically, so
a shop only ever sees its own orders. Lists are keyset-paginated on ``orders.id`` (newest first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.orders.models import Order, OrderStatus, Shipment


@dataclass
class OrderFilters:
    number: str = ""
    status: OrderStatus | None = None
    tenant_id: int | None = None
    phone: str = ""
    customer: str = ""  # recipient name or e-mail
    keyword: str = ""  # product title
    created_from: datetime | None = None
    created_to: datetime | None = None
    new_only: bool = False  # not yet opened by platform staff
    invalid_only: bool = False
    deleted: bool = False  # the removed (soft-deleted) orders instead of the live ones


def search_orders(session: Session, filters: OrderFilters, *, before: int | None = None, size: int = 50) -> Page:
    stmt = select(Order).options(selectinload(Order.lines))
    stmt = stmt.where(Order.deleted_at.is_not(None) if filters.deleted else Order.deleted_at.is_(None))
    if filters.number:
        stmt = stmt.where(Order.number == filters.number.strip())
    if filters.status is not None:
        stmt = stmt.where(Order.status == filters.status)
    if filters.tenant_id:
        stmt = stmt.where(Order.tenant_id == filters.tenant_id)
    if filters.phone:
        stmt = stmt.where(Order.phone == filters.phone.strip())
    if filters.customer:
        term = filters.customer.strip()
        stmt = stmt.where(or_(Order.recipient == term, Order.email == term.lower()))
    if filters.keyword:
        stmt = stmt.where(Order.search_text.ilike(f"%{filters.keyword.strip()}%"))
    if filters.created_from:
        stmt = stmt.where(Order.created_at >= filters.created_from)
    if filters.created_to:
        stmt = stmt.where(Order.created_at < filters.created_to)
    if filters.new_only:
        stmt = stmt.where(Order.admin_seen_at.is_(None))
    if filters.invalid_only:
        stmt = stmt.where(Order.invalid_at.is_not(None))
    return keyset_page(session, stmt, Order.id, before, size)


def get_order(session: Session, order_id: int) -> Order:
    """One order with lines, history and shipments; a 404 outside the current tenant or when removed."""
    order = session.scalars(
        select(Order)
        .where(Order.id == order_id, Order.deleted_at.is_(None))
        .options(
            selectinload(Order.lines),
            selectinload(Order.events),
            selectinload(Order.shipments).selectinload(Shipment.lines),
        )
    ).one_or_none()
    if order is None:
        raise NotFound()
    return order
