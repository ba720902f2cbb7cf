"""Order lists and order pages, shared by the admin OMS and the merchant portal.

The same ``search_orders`` serves both: in the merchant portal the tenant filter is added automatically, so
a shop only ever sees its own orders.

Lists are newest first and keyset-paginated; the cursor (``before``) is always the id of the last order shown.
Across all shops (the admin OMS) the order is ``created_at DESC, id DESC``, so a time range or a status tab
walks ``ix_orders_created_at_id`` / ``ix_orders_status_created_at`` backwards and stops after one page, however
far back the range lies (measured on 1,000,000 orders: 0.2 ms, against 150 ms when sorting by id, which makes
PostgreSQL either scan the primary key past every newer order or sort every match). Within one shop (a tenant
is active, or the shop filter is set) the order is ``id DESC`` on ``ix_orders_tenant_id_id``. Ids are handed
out in creation order, so both are "newest first"; one listing always keeps one order between its pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from marketplace.core.errors import NotFound
from marketplace.core.pagination import PAGE_SIZE, Page, keyset_page
from marketplace.core.tenancy import current_tenant_id
from marketplace.identity.models import User, UserKind
from marketplace.inventory.models import Warehouse
from marketplace.merchants.models import Merchant
from marketplace.orders.models import (
    Order,
    OrderEvent,
    OrderReviewRule,
    OrderStatus,
    Shipment,
)
from marketplace.payments.models import Payment, Refund
from marketplace.payments.queries import LedgerLine, journal_lines, payment_with_tenders

# The reason ``expire_unpaid`` gives when it cancels an order whose payment deadline passed.
TIMEOUT_REASON = "payment timeout"


@dataclass
class OrderFilters:
    number: str = ""
    status: OrderStatus | None = None
    tenant_id: int | None = None
    phone: str = ""
    customer: str = ""  # the shopper account's e-mail or name, or the recipient's name
    keyword: str = ""  # product title
    created_from: datetime | None = None
    created_to: datetime | None = None
    new_only: bool = False  # not yet opened by platform staff
    invalid_only: bool = False
    deleted: bool = False  # the removed (soft-deleted) orders instead of the live ones
    timed_out: bool = False  # cancelled by the payment deadline (not by the shopper or staff)
    shopper_id: int | None = None


def _filtered(session: Session, filters: OrderFilters) -> Select | None:
    """The filtered statement, or None when a filter already shows that nothing can match."""
    stmt = select(Order).options(selectinload(Order.lines))
    stmt = stmt.where(Order.deleted_at.is_not(None) if filters.deleted else Order.deleted_at.is_(None))
    if filters.number:
        stmt = stmt.where(Order.number == filters.number.strip())
    if filters.status is not None:
        stmt = stmt.where(Order.status == filters.status)
    if filters.tenant_id:
        stmt = stmt.where(Order.tenant_id == filters.tenant_id)
    if filters.shopper_id:
        stmt = stmt.where(Order.shopper_id == filters.shopper_id)
    if filters.phone:
        stmt = stmt.where(Order.phone == filters.phone.strip().replace(" ", ""))
    if filters.customer:
        # The accounts are looked up first (a small query on ``users``), so each branch below is one index:
        # ``ix_orders_shopper_id`` for the accounts, ``ix_orders_recipient`` for orders entered without one. An
        # IN (subquery) inside the OR would make PostgreSQL filter a scan of every order instead.
        term = filters.customer.strip()
        by = User.email == term.lower() if "@" in term else User.name == term
        accounts = list(session.scalars(select(User.id).where(User.kind == UserKind.SHOPPER, by).limit(100)))
        if "@" in term:
            if not accounts:
                return None  # no such account: nothing to look for
            stmt = stmt.where(Order.shopper_id.in_(accounts))
        else:
            stmt = stmt.where(
                or_(Order.recipient == term, Order.shopper_id.in_(accounts))
                if accounts
                else Order.recipient == term
            )
    if filters.keyword:
        stmt = stmt.where(Order.search_text.ilike(f"%{_escape_like(filters.keyword.strip())}%", escape="\\"))
    if filters.created_from:
        stmt = stmt.where(Order.created_at >= filters.created_from)
    if filters.created_to:
        stmt = stmt.where(Order.created_at < filters.created_to)
    if filters.new_only:
        stmt = stmt.where(Order.admin_seen_at.is_(None))
    if filters.invalid_only:
        stmt = stmt.where(Order.invalid_at.is_not(None))
    if filters.timed_out:
        stmt = stmt.where(
            Order.status == OrderStatus.CANCELLED,
            exists().where(
                OrderEvent.order_id == Order.id,
                OrderEvent.action == "cancel",
                OrderEvent.reason == TIMEOUT_REASON,
            ),
        )
    return stmt


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_orders(
    session: Session, filters: OrderFilters, *, before: int | None = None, size: int = PAGE_SIZE
) -> Page:
    """One page of orders matching ``filters``, newest first; ``before`` is the last id of the previous page."""
    stmt = _filtered(session, filters)
    if stmt is None:
        return Page([], None)
    if filters.tenant_id or current_tenant_id() is not None:
        return keyset_page(session, stmt, Order.id, before, size)
    if before:
        last_created = select(Order.created_at).where(Order.id == before).scalar_subquery()
        stmt = stmt.where(tuple_(Order.created_at, Order.id) < tuple_(last_created, before))
    rows = list(session.scalars(stmt.order_by(Order.created_at.desc(), Order.id.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].id if more and rows else None)


def get_order(session: Session, order_id: int, *, include_deleted: bool = False) -> Order:
    """One order with lines, history and shipments; a 404 outside the current tenant or when removed
    (unless ``include_deleted``: the admin's removed tab opens removed orders to restore them)."""
    stmt = select(Order).where(Order.id == order_id)
    if not include_deleted:
        stmt = stmt.where(Order.deleted_at.is_(None))
    order = session.scalars(
        stmt.options(
            selectinload(Order.lines),
            selectinload(Order.events),
            selectinload(Order.shipments).selectinload(Shipment.lines),
        )
    ).one_or_none()
    if order is None:
        raise NotFound()
    return order


def orders_by_ids(session: Session, ids: list[int]) -> list[Order]:
    """Orders (removed ones included) by id, for the bulk actions' answers."""
    if not ids:
        return []
    return list(session.scalars(select(Order).where(Order.id.in_(ids)).order_by(Order.id.desc())))


@dataclass
class OrderDetail:
    """Everything the admin order page shows about one order."""

    order: Order
    shop_name: str
    shopper: User | None
    payment: Payment | None
    refunds: list[Refund] = field(default_factory=list)
    ledger: list[LedgerLine] = field(default_factory=list)


def order_detail(session: Session, order_id: int, *, include_deleted: bool = False) -> OrderDetail:
    """The order with its payment (tenders), refunds, and its ledger lines: the entries of this order and the
    payment-wide ones (hold, capture) of its payment; the other shops' orders of a shared payment are left out."""
    order = get_order(session, order_id, include_deleted=include_deleted)
    shop_name = session.scalar(select(Merchant.name).where(Merchant.id == order.tenant_id)) or ""
    shopper = session.get(User, order.shopper_id) if order.shopper_id else None
    payment = refunds = None
    ledger: list[LedgerLine] = []
    if order.payment_id is not None:
        payment = payment_with_tenders(session, order.payment_id)
        refunds = list(
            session.scalars(
                select(Refund)
                .where(
                    Refund.payment_id == order.payment_id,
                    or_(Refund.order_id.is_(None), Refund.order_id == order.id),
                )
                .order_by(Refund.id)
            )
        )
        ledger = [
            line
            for line in journal_lines(session, payment_id=order.payment_id)
            if line.order_id in (None, order.id)
        ]
    seen = {line.entry_id for line in ledger}
    ledger += [line for line in journal_lines(session, order_id=order.id) if line.entry_id not in seen]
    ledger.sort(key=lambda line: (line.created_at, line.entry_id))
    return OrderDetail(order, shop_name, shopper, payment, refunds or [], ledger)


def shop_id_for(session: Session, text: str) -> int | None:
    """The shop a filter box names: its id, slug or exact name; None for an empty box, -1 (no shop) when
    nothing matches, so the list comes out empty instead of unfiltered."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    found = session.scalar(
        select(Merchant.id).where(or_(Merchant.slug == text.lower(), Merchant.name == text)).limit(1)
    )
    return found if found is not None else -1


def review_rules(session: Session) -> list[OrderReviewRule]:
    """Every review rule, active ones first."""
    return list(
        session.scalars(
            select(OrderReviewRule).order_by(OrderReviewRule.is_active.desc(), OrderReviewRule.id)
        )
    )


def get_review_rule(session: Session, rule_id: int) -> OrderReviewRule:
    rule = session.get(OrderReviewRule, rule_id)
    if rule is None:
        raise NotFound()
    return rule


def unseen_count(session: Session, limit: int = 100) -> int:
    """How many live orders no staff member has opened yet, capped (for a badge: "99+")."""
    capped = (
        select(Order.id)
        .where(and_(Order.admin_seen_at.is_(None), Order.deleted_at.is_(None)))
        .limit(limit)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(capped)) or 0


def platform_line_ids(session: Session, order: Order) -> set[int]:
    """The order's lines held in a platform warehouse: its pack station ships them, not the shop."""
    warehouse_ids = {line.warehouse_id for line in order.lines if line.warehouse_id is not None}
    if not warehouse_ids:
        return set()
    platform = set(
        session.scalars(
            select(Warehouse.id).where(Warehouse.id.in_(warehouse_ids), Warehouse.merchant_id.is_(None))
        )
    )
    return {line.id for line in order.lines if line.warehouse_id in platform}
