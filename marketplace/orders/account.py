"""The shopper's side of orders: their own list and pages, and the public look-up by number and contact.

Read helpers only; every change goes through :mod:`marketplace.orders.services`. A shopper reaches an order
through ``shopper_id`` (someone else's order is a 404, exactly like one that does not exist). A guest reaches
one only with its number *and* the phone or e-mail it was placed with; a wrong number and a wrong contact give
the same answer, after the same work, and each address gets a few tries per window (counted in Redis), so the
look-up cannot be used to enumerate orders or to guess a contact.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime

import redis
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.merchants.models import Merchant
from marketplace.orders.models import Order, OrderStatus, Shipment
from marketplace.orders.models import OrderStatus as S
from marketplace.reviews.models import Review

log = logging.getLogger(__name__)

PAGE_SIZE = 10

# The list's tabs: key -> (label, statuses shown; None = every status).
TABS: dict[str, tuple[str, frozenset[S] | None]] = {
    "all": (_l("All"), None),
    "unpaid": (_l("Awaiting payment"), frozenset({S.PENDING_PAYMENT})),
    "to_ship": (_l("Awaiting shipment"), frozenset({S.PAID, S.UNDER_REVIEW, S.AWAITING_SHIPMENT})),
    "shipped": (_l("Shipped"), frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.RECEIVED})),
    "to_review": (_l("To review"), frozenset({S.COMPLETED})),
    "cancelled": (_l("Cancelled"), frozenset({S.CANCELLED, S.CLOSED})),
}

# Why a shopper cancels: the form offers these, plus free text.
CANCEL_REASONS = (
    _l("I no longer need it"),
    _l("Wrong address or contact details"),
    _l("Ordered by mistake"),
    _l("Found a better price"),
    _l("Delivery takes too long"),
    _l("Other"),
)

# History steps a shopper sees, in their words. Anything else (staff marking an order invalid, restoring it)
# is the platform's business and stays off the shopper's pages.
EVENT_LABELS = {
    "placed": _l("Order placed"),
    "pay": _l("Paid"),
    "hold_for_review": _l("Being checked"),
    "release_to_warehouse": _l("Sent to the warehouse"),
    "ship_part": _l("Partly shipped"),
    "ship": _l("Shipped"),
    "receive": _l("Receipt confirmed"),
    "complete": _l("Completed"),
    "cancel": _l("Cancelled"),
    "close": _l("Closed"),
    "address_changed": _l("Delivery address changed"),
    "note_changed": _l("Note changed"),
}
# Steps whose reason the order's own shopper may read (others carry review rules or internal notes).
REASON_SHOWN = frozenset({"ship_part", "ship", "cancel", "close", "note_changed"})


def tab_statuses(tab: str) -> frozenset[S] | None:
    return TABS.get(tab, TABS["all"])[1]


def _live():
    return Order.deleted_at.is_(None)


def my_orders(
    session: Session, user_id: int, tab: str = "all", *, before: int | None = None, size: int = PAGE_SIZE
) -> Page[Order]:
    """The shopper's orders, newest first, with their lines; ``tab`` narrows by status."""
    stmt = select(Order).where(Order.shopper_id == user_id, _live()).options(selectinload(Order.lines))
    statuses = tab_statuses(tab)
    if statuses is not None:
        stmt = stmt.where(Order.status.in_(statuses))
    return keyset_page(session, stmt, Order.id, before, size)


def shop_names(session: Session, orders: list[Order]) -> dict[int, str]:
    """Shop names of the orders' tenants, in one query."""
    ids = {order.tenant_id for order in orders}
    if not ids:
        return {}
    rows = session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(ids)))
    return {merchant_id: name for merchant_id, name in rows}


def _full(stmt):
    return stmt.options(
        selectinload(Order.lines),
        selectinload(Order.events),
        selectinload(Order.shipments).selectinload(Shipment.lines),
    )


def my_order(session: Session, user_id: int, number: str) -> Order:
    """One of the shopper's orders with lines, history and shipments; anyone else's is a 404."""
    order = session.scalars(
        _full(select(Order).where(Order.number == number.strip(), Order.shopper_id == user_id, _live()))
    ).one_or_none()
    if order is None:
        raise NotFound()
    return order


def paid_together(session: Session, order: Order) -> list[Order]:
    """The other unpaid orders of the same payment: cancelling one cancels them all."""
    if order.payment_id is None or order.status is not S.PENDING_PAYMENT:
        return []
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.payment_id == order.payment_id, Order.id != order.id, Order.status == S.PENDING_PAYMENT
            )
            .order_by(Order.id)
        )
    )


def reviewed_products(session: Session, order: Order) -> set[int]:
    """Products of this order the shopper has already reviewed (one review per product and order)."""
    return set(session.scalars(select(Review.product_id).where(Review.order_id == order.id)))


def reviewable_line(session: Session, user_id: int, number: str, line_id: int):
    """The shopper's completed order and its line ``line_id``; a 404 for anything else."""
    order = my_order(session, user_id, number)
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None or order.status is not S.COMPLETED:
        raise NotFound()
    return order, line


@dataclass(frozen=True)
class HistoryStep:
    at: datetime
    label: str
    reason: str


def history(order: Order, *, with_reasons: bool = True) -> list[HistoryStep]:
    """The order's history as its shopper sees it, oldest first."""
    steps: list[HistoryStep] = []
    for event in order.events:
        label = EVENT_LABELS.get(event.action)
        if label is None:
            continue
        reason = event.reason if with_reasons and event.action in REASON_SHOWN else ""
        steps.append(HistoryStep(event.created_at, str(label), reason))
    return steps


def shipment_rows(order: Order) -> list[tuple[Shipment, list[tuple[str, str, int]]]]:
    """Each shipment with the (title, spec, quantity) of what it carried."""
    lines = {line.id: line for line in order.lines}
    return [
        (
            shipment,
            [
                (lines[sl.order_line_id].title, lines[sl.order_line_id].spec, sl.quantity)
                for sl in shipment.lines
                if sl.order_line_id in lines
            ],
        )
        for shipment in order.shipments
    ]


# --- the public look-up ---------------------------------------------------------------------------------

LOOKUP_LIMIT = 10  # tries per address ...
LOOKUP_WINDOW_SECONDS = 600  # ... per ten minutes
_NUMBER = re.compile(r"^[0-9]{1,32}$")
_PHONE_NOISE = re.compile(r"[\s\-()]")


@dataclass(frozen=True)
class _Contact:
    phone: str
    email: str


# Compared against when no order has the number, so a miss costs the same as a wrong contact.
_NOBODY = _Contact(phone="\x00no-phone", email="\x00no-email")


def _normal_phone(value: str) -> str:
    return _PHONE_NOISE.sub("", value.strip())


def _same(given: str, stored: str) -> bool:
    return hmac.compare_digest(given.encode(), stored.encode())


def contact_matches(order: Order | _Contact, contact: str) -> bool:
    """Whether ``contact`` is the order's phone or its e-mail (trimmed; e-mail case-insensitive).

    Both are compared, in constant time, whatever the first one gave; an empty contact never matches.
    """
    given = contact.strip()
    phone_ok = _same(_normal_phone(given), _normal_phone(order.phone or "")) and bool(order.phone)
    email_ok = _same(given.lower(), (order.email or "").strip().lower()) and bool(order.email)
    return bool(given) and (phone_ok | email_ok)


def lookup_order(session: Session, number: str, contact: str) -> Order | None:
    """The order with this number if ``contact`` is its phone or e-mail; otherwise None, whichever was wrong."""
    number = (number or "").strip()
    found = None
    if _NUMBER.match(number):
        # One indexed read of the contact only, hit or miss; the rest of the order is read after a match.
        found = session.execute(
            select(Order.id, Order.phone, Order.email).where(Order.number == number, _live())
        ).one_or_none()
    stored = _Contact(found.phone, found.email) if found is not None else _NOBODY
    if not contact_matches(stored, contact or "") or found is None:
        return None
    return session.scalars(_full(select(Order).where(Order.id == found.id))).one()


def lookup_allowed(client: redis.Redis, ip: str | None) -> bool:
    """Count one look-up for ``ip``; False once it made more than LOOKUP_LIMIT in the current window.

    A fixed window: the counter is created with its expiry (SET NX EX) and INCR keeps that expiry. When Redis
    is down the look-up is allowed (and logged): the number plus contact is itself the secret.
    """
    key = f"orders:lookup:{ip or 'unknown'}"
    try:
        pipe = client.pipeline()
        pipe.set(key, 0, ex=LOOKUP_WINDOW_SECONDS, nx=True)
        pipe.incr(key)
        _created, count = pipe.execute()
    except redis.RedisError as exc:
        log.warning("order look-up throttle unavailable: %s", exc)
        return True
    return int(count) <= LOOKUP_LIMIT


def mask_name(name: str) -> str:
    """张伟 -> 张**."""
    name = (name or "").strip()
    return f"{name[:1]}**" if name else "**"


def mask_phone(phone: str) -> str:
    """13800138000 -> 138****8000; a short number keeps only its last two digits."""
    phone = (phone or "").strip()
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


STATUS_TONE = {
    OrderStatus.PENDING_PAYMENT: "warn",
    OrderStatus.UNDER_REVIEW: "warn",
    OrderStatus.COMPLETED: "ok",
    OrderStatus.RECEIVED: "ok",
    OrderStatus.CANCELLED: "bad",
    OrderStatus.CLOSED: "bad",
}
