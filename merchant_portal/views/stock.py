"""The shop's stock per SKU per warehouse: the list, inline set / adjust / threshold, and a SKU's stock ledger.

The inline forms post through htmx and get their row back (a 200, so htmx swaps it in place) with the new
numbers or the refusal's message; without htmx they flash the message and go back to the page.
"""

from __future__ import annotations

import re

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.core.errors import DomainError
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.inventory import queries, services
from marketplace.inventory.errors import (
    InvalidAdjustment,
    InvalidQuantity,
    InvalidThreshold,
    WarehouseNotEditable,
)
from marketplace.inventory.models import MovementKind
from merchant_portal import bp

KIND_LABELS = {
    MovementKind.INITIAL: _l("Opening stock"),
    MovementKind.ADJUST: _l("Set / corrected"),
    MovementKind.IMPORT: _l("Imported"),
    MovementKind.RESERVE: _l("Reserved by an order"),
    MovementKind.RELEASE: _l("Released"),
    MovementKind.SHIP: _l("Shipped"),
    MovementKind.RECEIVE: _l("Received"),
    MovementKind.COUNT: _l("Stocktake"),
}
_COUNT = re.compile(r"^\d{1,10}$")
_SIGNED = re.compile(r"^[+-]?\d{1,10}$")


def _warehouse_arg(name: str = "warehouse") -> int | None:
    value = (request.values.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        abort(404)
    return queries.shop_warehouse(db.session, g.tenant_id, int(value)).id  # another shop's: 404


@bp.get("/stock")
@requires("stock.view")
def stock_list():
    page = queries.stock_page(
        db.session,
        tenant_id=g.tenant_id,
        q=request.args.get("q", ""),
        low_only=request.args.get("low") == "1",
        warehouse_id=_warehouse_arg(),
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "merchant/stock/_rows.html" if htmx and request.args.get("before") else "merchant/stock/list.html"
    )
    return render_template(
        template, page=page, warehouses=queries.shop_warehouses(db.session, g.tenant_id), show_sku=True
    )


@bp.get("/stock/<int:sku_id>")
@requires("stock.view")
def stock_ledger(sku_id: int):
    warehouse_id = _warehouse_arg()
    sku = queries.sku_stock(db.session, tenant_id=g.tenant_id, sku_id=sku_id)  # another shop's: 404
    page = queries.movement_page(
        db.session,
        tenant_id=g.tenant_id,
        sku_id=sku_id,
        warehouse_id=warehouse_id,
        before=parse_cursor(request.args.get("before")),
    )
    context = {
        "sku": sku,
        "page": page,
        "kinds": KIND_LABELS,
        "warehouse_codes": {lv.warehouse_id: lv.warehouse_code for lv in sku.levels},
        "actors": queries.actor_names(db.session, {m.actor_id for m in page.items if m.actor_id}),
    }
    if htmx and request.args.get("before"):
        return render_template("merchant/stock/_ledger_rows.html", **context)
    return render_template("merchant/stock/ledger.html", warehouse_id=warehouse_id, show_sku=False, **context)


def _number(field: str, pattern: re.Pattern, error: DomainError) -> int:
    value = (request.form.get(field) or "").strip()
    if not pattern.match(value):
        raise error
    return int(value)


def _editable_warehouse(warehouse_id: int | None) -> None:
    """Stock in a platform warehouse is the platform's to count; the shop changes its own warehouses only."""
    if warehouse_id is None:
        return
    warehouse = queries.shop_warehouse(db.session, g.tenant_id, warehouse_id)
    if warehouse.is_platform:
        raise WarehouseNotEditable(warehouse=warehouse.code)


def _change(sku_id: int, change, done: str):
    """Run one stock change on one row; answer with the row again, with the numbers or the message."""
    queries.sku_stock(db.session, tenant_id=g.tenant_id, sku_id=sku_id)  # another shop's SKU: 404
    warehouse_id = _warehouse_arg("warehouse_id")
    error = None
    try:
        change(warehouse_id)
    except DomainError as exc:  # a ValidationFailed's text names each field's problem
        db.session.rollback()
        error = exc.text
    else:
        db.session.commit()
    if htmx:
        sku = queries.sku_stock(db.session, tenant_id=g.tenant_id, sku_id=sku_id)
        level = queries.level_row(sku, warehouse_id)
        if level is None:
            abort(404)
        return render_template(
            "merchant/stock/_row.html",
            s=sku,
            lv=level,
            error=error,
            saved=None if error else done,
            show_sku=request.form.get("context") != "ledger",
            form=request.form if error else {},
        )
    flash(error or done, "error" if error else "success")
    return redirect(request.referrer or url_for("merchant.stock_list"))


@bp.post("/stock/<int:sku_id>/set")
@requires("stock.edit")
def stock_set(sku_id: int):
    def change(warehouse_id):
        _editable_warehouse(warehouse_id)
        services.set_on_hand(
            db.session,
            sku_id=sku_id,
            tenant_id=g.tenant_id,
            quantity=_number("on_hand", _COUNT, InvalidQuantity()),
            reason=_("set in the stock page"),
            actor_id=current_user.id,
            warehouse_id=warehouse_id,
        )

    return _change(sku_id, change, _("Stock saved."))


@bp.post("/stock/<int:sku_id>/adjust")
@requires("stock.edit")
def stock_adjust(sku_id: int):
    def change(warehouse_id):
        _editable_warehouse(warehouse_id)
        services.adjust(
            db.session,
            sku_id=sku_id,
            tenant_id=g.tenant_id,
            delta=_number("delta", _SIGNED, InvalidAdjustment()),
            reason=request.form.get("reason", ""),
            actor_id=current_user.id,
            warehouse_id=warehouse_id,
        )

    return _change(sku_id, change, _("Correction saved."))


@bp.post("/stock/<int:sku_id>/threshold")
@requires("stock.edit")
def stock_threshold(sku_id: int):
    def change(warehouse_id):
        services.set_threshold(
            db.session,
            sku_id=sku_id,
            tenant_id=g.tenant_id,
            threshold=_number("threshold", _COUNT, InvalidThreshold()),
            warehouse_id=warehouse_id,
        )

    return _change(sku_id, change, _("Threshold saved."))
