"""The admin OMS: every shop's orders, newest first, with filters and tabs; the order page with its history,
money and shipments; marking invalid, bulk removal of invalid orders, restore; review decisions; cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin_portal import bp
from marketplace.core.errors import DomainError
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.merchants.queries import merchant_names
from marketplace.merchants.regions import province_label
from marketplace.orders import oms, queries, services
from marketplace.orders.drafts import OrderActor
from marketplace.orders.models import OrderChannel, OrderStatus
from marketplace.orders.states import STATUS_LABELS, may

# Quick tabs: name -> (label, what it adds to the filters)
TABS: dict[str, tuple[str, dict]] = {
    "all": (_l("All"), {}),
    "new": (_l("New"), {"new_only": True}),
    "shipping": (_l("Awaiting shipment"), {"status": OrderStatus.AWAITING_SHIPMENT}),
    "review": (_l("Under review"), {"status": OrderStatus.UNDER_REVIEW}),
    "timeout": (_l("Timed out"), {"timed_out": True}),
    "completed": (_l("Completed"), {"status": OrderStatus.COMPLETED}),
    "invalid": (_l("Invalid"), {"invalid_only": True}),
    "removed": (_l("Removed"), {"deleted": True}),
}
CHANNEL_LABELS = {
    OrderChannel.STOREFRONT: _l("storefront"),
    OrderChannel.PHONE: _l("phone order"),
    OrderChannel.GROUP_BUY: _l("group buy"),
    OrderChannel.GIFT: _l("gift"),
}
EVENT_LABELS = {
    "placed": _l("placed"),
    "marked_invalid": _l("marked invalid"),
    "removed": _l("removed"),
    "restored": _l("restored"),
    "address_changed": _l("address changed"),
    "note_changed": _l("note changed"),
    **services.ACTION_LABELS,
}


def _date(value: str | None, *, end: bool = False) -> datetime | None:
    """A date of the filter form, in the staff's time zone, as the UTC instant it starts (or the next one ends)."""
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d")
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    return day.replace(tzinfo=ZoneInfo(str(get_timezone())))


def _filters(args) -> tuple[str, queries.OrderFilters]:
    tab = args.get("tab", "all")
    tab = tab if tab in TABS else "all"
    status = args.get("status", "")
    filters = queries.OrderFilters(
        number=args.get("number", "")[:32],
        status=OrderStatus(status) if status in OrderStatus._value2member_map_ else None,
        tenant_id=queries.shop_id_for(db.session, args.get("shop", "")[:100]),
        phone=args.get("phone", "")[:20],
        customer=args.get("customer", "")[:255],
        keyword=args.get("keyword", "")[:100],
        created_from=_date(args.get("from")),
        created_to=_date(args.get("to"), end=True),
        new_only=args.get("new") == "1",
    )
    for key, value in TABS[tab][1].items():
        setattr(filters, key, value)
    return tab, filters


def _list_context(message: str | None = None, error: str | None = None) -> dict:
    tab, filters = _filters(request.args)
    page = queries.search_orders(db.session, filters, before=parse_cursor(request.args.get("before")))
    return {
        "page": page,
        "tab": tab,
        "tabs": TABS,
        "shops": merchant_names(db.session, {order.tenant_id for order in page.items}),
        "status_labels": STATUS_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "statuses": list(OrderStatus),
        "message": message,
        "error": error,
        "list_args": {key: value for key, value in request.args.items() if key != "before"},
    }


@bp.get("/orders")
@requires("orders.view")
def orders_list():
    context = _list_context()
    if htmx and request.args.get("before"):
        return render_template("admin/orders/_rows.html", **context)
    if htmx and htmx.target == "order-results":
        return render_template("admin/orders/_results.html", **context)
    return render_template("admin/orders/list.html", **context)


def _chosen_ids() -> list[int]:
    return [int(v) for v in request.form.getlist("ids") if v.isdigit()][: oms.MAX_BULK + 1]


def _bulk_answer(message: str | None, error: str | None):
    """htmx: the refreshed results (with the message in them); otherwise back to the list with a flash."""
    if htmx:
        return render_template("admin/orders/_results.html", **_list_context(message, error))
    flash(error or message, "error" if error else "success")
    return redirect(url_for("admin.orders_list", **request.args))


@bp.post("/orders/remove-invalid")
@requires("orders.manage")
def orders_remove_invalid():
    try:
        removal = oms.remove_invalid(db.session, _chosen_ids(), actor=OrderActor.of(current_user))
    except DomainError as exc:
        db.session.rollback()
        return _bulk_answer(None, exc.text)
    db.session.commit()
    message = ngettext("Removed %(num)d invalid order.", "Removed %(num)d invalid orders.", removal.count)
    if removal.skipped:
        message += " " + ngettext(
            "%(num)d chosen order was left alone: it is not marked invalid.",
            "%(num)d chosen orders were left alone: they are not marked invalid.",
            removal.skipped,
        )
    return _bulk_answer(message, None)


@bp.post("/orders/restore")
@requires("orders.restore")
def orders_restore():
    restored, errors = 0, []
    for order in queries.orders_by_ids(db.session, _chosen_ids()):
        try:
            oms.restore_order(db.session, order, user=current_user)
            restored += 1
        except DomainError as exc:
            errors.append(exc.text)
    db.session.commit()
    message = ngettext("Restored %(num)d order.", "Restored %(num)d orders.", restored)
    return _bulk_answer(message if restored or not errors else None, " ".join(errors) or None)


# --- the order page ------------------------------------------------------------------------------------


@bp.get("/orders/<int:order_id>")
@requires("orders.view")
def order_page(order_id: int):
    detail = queries.order_detail(db.session, order_id, include_deleted=True)
    if oms.mark_seen(db.session, order_id):
        db.session.commit()
    return render_template(
        "admin/orders/detail.html",
        detail=detail,
        order=detail.order,
        status_labels=STATUS_LABELS,
        channel_labels=CHANNEL_LABELS,
        event_labels=EVENT_LABELS,
        may=may,
        may_mark_invalid=oms.may_mark_invalid,
        status_label=_status_label,
        province_name=lambda code: province_label(code, str(get_locale() or "zh_Hans")),
    )


def _status_label(value: str | None) -> str:
    try:
        return str(STATUS_LABELS[OrderStatus(value)])
    except ValueError:
        return value or ""


def _act(order_id: int, action, done: str):
    """Run an action on one order: commit and say so, or roll back and show why."""
    order = queries.get_order(db.session, order_id, include_deleted=True)
    try:
        action(order)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("admin.order_page", order_id=order_id))


def _reason() -> str:
    return request.form.get("reason", "")


@bp.post("/orders/<int:order_id>/invalid")
@requires("orders.manage")
def order_mark_invalid(order_id: int):
    return _act(
        order_id,
        lambda order: oms.mark_invalid(
            db.session, order, actor=OrderActor.of(current_user), reason=_reason()
        ),
        _("The order is marked invalid."),
    )


@bp.post("/orders/<int:order_id>/restore")
@requires("orders.restore")
def order_restore(order_id: int):
    return _act(
        order_id,
        lambda order: oms.restore_order(db.session, order, user=current_user),
        _("The order is back (still marked invalid)."),
    )


@bp.post("/orders/<int:order_id>/approve")
@requires("orders.review")
def order_approve(order_id: int):
    return _act(
        order_id,
        lambda order: oms.decide_review(
            db.session, order, approve=True, actor=OrderActor.of(current_user), reason=_reason()
        ),
        _("Approved: the order goes to the warehouse."),
    )


@bp.post("/orders/<int:order_id>/reject")
@requires("orders.review")
def order_reject(order_id: int):
    return _act(
        order_id,
        lambda order: oms.decide_review(
            db.session, order, approve=False, actor=OrderActor.of(current_user), reason=_reason()
        ),
        _("Rejected: the order is cancelled and refunded."),
    )


@bp.post("/orders/<int:order_id>/cancel")
@requires("orders.manage")
def order_cancel(order_id: int):
    return _act(
        order_id,
        lambda order: services.cancel_order(
            db.session, order, actor=OrderActor.of(current_user), reason=_reason()
        ),
        _("The order is cancelled."),
    )
