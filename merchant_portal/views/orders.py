"""The shop's orders: the list with filters, the order page, shipping (partial allowed), the packing slip and
cancelling before shipment with a reason.

Every order is looked up through the tenant-filtered queries, so another shop's order is a 404 on every route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import DomainError
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.merchants.queries import get_merchant
from marketplace.merchants.regions import province_label
from marketplace.orders import queries, services
from marketplace.orders.carriers import CARRIERS
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.queries import OrderFilters
from marketplace.orders.seen import mark_seen_by_merchant
from marketplace.orders.states import may
from merchant_portal import bp

OTHER_CARRIER = "other"


def _day(value: str | None, *, next_day: bool = False) -> datetime | None:
    """A date typed in the filter (the shop's local day, BABEL_DEFAULT_TIMEZONE) as a UTC instant."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is None:
        return None
    if next_day:
        day += timedelta(days=1)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC"))
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _status(value: str | None) -> OrderStatus | None:
    try:
        return OrderStatus(value) if value else None
    except ValueError:
        return None


def _filters() -> OrderFilters:
    args = request.args
    return OrderFilters(
        tenant_id=g.tenant_id,  # the tenant wall adds it anyway; named, it also picks the (tenant_id, id) index
        number=args.get("number", "").strip(),
        status=_status(args.get("status")),
        phone=args.get("phone", "").strip(),
        keyword=args.get("q", "").strip(),
        created_from=_day(args.get("from")),
        created_to=_day(args.get("to"), next_day=True),
    )


def _province(code: str) -> str:
    return province_label(code, str(get_locale() or "zh_Hans")) if code else ""


def _labels() -> dict:
    return {
        "status_labels": services.STATUS_LABELS,
        "action_labels": services.ACTION_LABELS,
        "province_label": _province,
    }


@bp.get("/orders")
@requires("orders.view")
def orders_list():
    page = queries.search_orders(db.session, _filters(), before=parse_cursor(request.args.get("before")))
    template = (
        "merchant/orders/_rows.html" if htmx and request.args.get("before") else "merchant/orders/list.html"
    )
    return render_template(template, page=page, statuses=list(OrderStatus), **_labels())


def _order(order_id: int) -> Order:
    return queries.get_order(db.session, order_id)  # tenant-filtered: another shop's order is a 404


def _render_order(order: Order, *, status: int = 200, cancel_error: str | None = None, reason: str = ""):
    platform_lines = queries.platform_line_ids(db.session, order)
    own_open = any(line.open_quantity for line in order.lines if line.id not in platform_lines)
    return render_template(
        "merchant/orders/detail.html",
        order=order,
        lines_by_id={line.id: line for line in order.lines},
        may_ship=may("ship", order.status) and own_open,
        platform_fulfilled=bool(platform_lines) and may("ship", order.status),
        may_cancel=may("cancel", order.status),
        cancel_error=cancel_error,
        reason=reason,
        **_labels(),
    ), status


@bp.get("/orders/<int:order_id>")
@requires("orders.view")
def order_detail(order_id: int):
    order = _order(order_id)
    was_new = order.merchant_seen_at is None
    page = _render_order(order)  # shows it as new this once
    if was_new:
        mark_seen_by_merchant(db.session, order)
        db.session.commit()
    return page


# --- shipping -------------------------------------------------------------------------------------------


@dataclass
class ShipForm:
    """The ship form as typed: carrier (from the list or typed), waybill, a quantity per open line."""

    carrier_choice: str = ""
    carrier_other: str = ""
    waybill_no: str = ""
    quantities: dict[int, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def carrier(self) -> str:
        return (self.carrier_other if self.carrier_choice == OTHER_CARRIER else self.carrier_choice).strip()

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def _blank_ship_form(order: Order) -> ShipForm:
    return ShipForm(
        quantities={line.id: str(line.open_quantity) for line in order.lines if line.open_quantity}
    )


def _parse_ship_form(order: Order) -> tuple[ShipForm, dict[int, int] | None]:
    data = request.form
    form = ShipForm(
        carrier_choice=data.get("carrier", "").strip(),
        carrier_other=data.get("carrier_other", "").strip(),
        waybill_no=data.get("waybill_no", "").strip(),
    )
    if not form.carrier:
        form.error("carrier", _("Choose the carrier, or type its name."))
    elif len(form.carrier) > 50:
        form.error("carrier", _("At most 50 characters."))
    if not form.waybill_no:
        form.error("waybill_no", _("Enter the waybill number."))
    elif len(form.waybill_no) > 64:
        form.error("waybill_no", _("At most 64 characters."))
    quantities: dict[int, int] = {}
    for line in order.lines:
        if not line.open_quantity:
            continue
        raw = data.get(f"qty-{line.id}", "0").strip() or "0"
        form.quantities[line.id] = raw
        if not raw.isdigit():
            form.error(
                f"qty-{line.id}", _("Enter a whole number from 0 to %(open)d.", open=line.open_quantity)
            )
            continue
        quantity = int(raw)
        if quantity > line.open_quantity:
            form.error(f"qty-{line.id}", _("Only %(open)d left to ship.", open=line.open_quantity))
        quantities[line.id] = quantity
    if not form.errors and not any(quantities.values()):
        form.error("form", _("Enter a quantity for at least one line."))
    return form, None if form.errors else quantities


def _render_ship(order: Order, form: ShipForm, status: int = 200):
    return render_template(
        "merchant/orders/ship.html",
        order=order,
        form=form,
        carriers=CARRIERS,
        other_carrier=OTHER_CARRIER,
        may_ship=may("ship", order.status),
        **_labels(),
    ), status


@bp.get("/orders/<int:order_id>/ship")
@requires("orders.ship")
def order_ship_form(order_id: int):
    order = _order(order_id)
    return _render_ship(order, _blank_ship_form(order))


@bp.post("/orders/<int:order_id>/ship")
@requires("orders.ship")
def order_ship(order_id: int):
    order = _order(order_id)
    form, quantities = _parse_ship_form(order)
    if quantities is None:
        return _render_ship(order, form, 422)
    try:
        services.ship_by_shop(
            db.session,
            order,
            quantities=quantities,
            carrier=form.carrier,
            waybill_no=form.waybill_no,
            actor=services.OrderActor.of(current_user),
        )
    except DomainError as exc:
        db.session.rollback()  # nothing of the shipment stays
        form.error("form", exc.text)
        return _render_ship(_order(order_id), form, exc.status)
    db.session.commit()
    units = sum(quantities.values())
    flash(_("Shipped %(units)d units with %(carrier)s %(waybill)s.", units=units, carrier=form.carrier,
            waybill=form.waybill_no), "success")  # fmt: skip
    return redirect(url_for("merchant.order_detail", order_id=order_id))


@bp.get("/orders/<int:order_id>/packing-slip")
@requires("orders.ship")
def order_packing_slip(order_id: int):
    order = _order(order_id)
    return render_template(
        "merchant/orders/packing_slip.html",
        order=order,
        shop=get_merchant(db.session, g.tenant_id),
        province_label=_province,
    )


# --- cancelling -----------------------------------------------------------------------------------------


@bp.post("/orders/<int:order_id>/cancel")
@requires("orders.cancel")
def order_cancel(order_id: int):
    order = _order(order_id)
    reason = request.form.get("reason", "").strip()[:500]
    try:
        services.cancel_order(db.session, order, actor=services.OrderActor.of(current_user), reason=reason)
    except DomainError as exc:
        db.session.rollback()
        return _render_order(_order(order_id), status=exc.status, cancel_error=exc.text, reason=reason)
    db.session.commit()
    flash(_("Order %(number)s cancelled; its stock is released.", number=order.number), "success")
    return redirect(url_for("merchant.order_detail", order_id=order_id))
