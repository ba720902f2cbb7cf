"""The pack station: scan a picked order, check every unit by scan, weigh, choose the box, ship with a waybill,
print the packing slip and the shipping label.

Check scans are htmx POSTs that swap the checklist and the result panel (wrong item: red panel and a beep,
nothing counted); each form carries a fresh token, so a double-submitted scan counts once. The other steps
are small forms that move the parcel on and come back to the station page.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.fulfillment import outbound_queries, packing
from marketplace.fulfillment.labels import code128_svg
from marketplace.fulfillment.pack_models import BoxType, Parcel, ParcelStatus
from marketplace.inventory.models import Warehouse
from marketplace.merchants.models import Merchant
from marketplace.merchants.regions import province_label
from marketplace.orders.carriers import CARRIERS
from marketplace.orders.drafts import OrderActor
from marketplace.orders.models import Order
from wms_portal import bp
from wms_portal.scanning import leave, new_token
from wms_portal.warehouse_choice import chosen_warehouse

OTHER_CARRIER = "other"


def _parcel(parcel_id: int) -> Parcel:
    parcel = db.session.get(Parcel, parcel_id)
    if parcel is None:
        abort(404)
    return parcel


def _tolerance() -> packing.Tolerance:
    config = current_app.config
    return packing.Tolerance(config["WMS_WEIGHT_TOLERANCE_PERCENT"], config["WMS_WEIGHT_TOLERANCE_GRAMS"])


def _checklist(parcel: Parcel):
    return outbound_queries.checklist(db.session, parcel)


@bp.get("/pack")
@requires("wms.pack")
def pack():
    warehouse = chosen_warehouse(required=False)
    ready = outbound_queries.ready_to_pack(db.session, warehouse.id) if warehouse else []
    return render_template("wms/pack/start.html", warehouse=warehouse, ready=ready, statuses=_statuses())


@bp.post("/pack/open")
@requires("wms.pack")
def pack_open():
    warehouse = chosen_warehouse()
    try:
        parcel = packing.open_parcel(
            db.session, warehouse, request.form.get("scan", ""), packer_id=current_user.id
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if htmx:
            return render_template("wms/pack/_result.html", message=exc.text, ok=False), exc.status
        flash(exc.text, "error")
        return redirect(url_for("wms.pack", warehouse=warehouse.id))
    return leave(url_for("wms.pack_parcel", parcel_id=parcel.id))


def _statuses() -> dict[ParcelStatus, str]:
    return {
        ParcelStatus.CHECKING: _("Checking"),
        ParcelStatus.CHECKED: _("Checked"),
        ParcelStatus.WEIGHED: _("Weighed"),
        ParcelStatus.PACKED: _("Packed"),
        ParcelStatus.SHIPPED: _("Shipped"),
        ParcelStatus.RETURNED: _("Returned to stock"),
    }


@bp.get("/pack/<int:parcel_id>")
@requires("wms.pack")
def pack_parcel(parcel_id: int):
    parcel = _parcel(parcel_id)
    order = db.session.get(Order, parcel.order_id)
    return render_template(
        "wms/pack/parcel.html",
        parcel=parcel,
        order=order,
        shippable=order.status in packing.SHIPPABLE,
        checklist=_checklist(parcel),
        token=new_token(),
        statuses=_statuses(),
        boxes=packing.box_types(db.session, parcel.warehouse_id),
        box=db.session.get(BoxType, parcel.box_type_id) if parcel.box_type_id else None,
        carriers=CARRIERS,
        other_carrier=OTHER_CARRIER,
        tolerance=_tolerance().allowed(parcel.expected_weight_g),
    )


def _check_panel(parcel: Parcel, message: str, *, ok: bool, status: int = 200):
    html = render_template(
        "wms/pack/_check.html",
        parcel=parcel,
        checklist=_checklist(parcel),
        message=message,
        ok=ok,
        token=new_token(),
    )
    return html, status


@bp.post("/pack/<int:parcel_id>/check")
@requires("wms.pack")
def pack_check(parcel_id: int):
    parcel = _parcel(parcel_id)
    quantity = request.form.get("quantity", "").strip() or "1"
    try:
        sku = packing.check_item(
            db.session,
            parcel,
            request.form.get("scan", ""),
            quantity=int(quantity) if quantity.isdigit() else 0,
            token=request.form.get("token", ""),
        )
        done = packing.all_checked(db.session, parcel)
        if done:
            packing.finish_check(db.session, parcel)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _check_panel(parcel, exc.text, ok=False, status=exc.status)
    if done:
        flash(_("Every unit checked. Weigh the goods."), "success")
        return leave(url_for("wms.pack_parcel", parcel_id=parcel.id))
    return _check_panel(parcel, _("%(sku)s checked.", sku=sku.code), ok=True)


@bp.post("/pack/<int:parcel_id>/check/done")
@requires("wms.pack")
def pack_check_done(parcel_id: int):
    parcel = _parcel(parcel_id)
    try:
        packing.finish_check(db.session, parcel)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if htmx:
            return _check_panel(parcel, exc.text, ok=False, status=exc.status)
        flash(exc.text, "error")
    return leave(url_for("wms.pack_parcel", parcel_id=parcel.id))


def _grams(value: str) -> int | None:
    """Kilograms as typed or read off the scale ("1.25", "1,25") as whole grams; None when not a number."""
    try:
        kilograms = Decimal((value or "").strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not kilograms.is_finite():
        return None
    return int((kilograms * 1000).to_integral_value())


def _step(parcel: Parcel, action, success: str):
    """Run one pack step; refused steps flash why and change nothing. Back to the station page either way."""
    try:
        action()
        db.session.commit()
        flash(success, "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    return leave(url_for("wms.pack_parcel", parcel_id=parcel.id))


@bp.post("/pack/<int:parcel_id>/weigh")
@requires("wms.pack")
def pack_weigh(parcel_id: int):
    parcel = _parcel(parcel_id)
    grams = _grams(request.form.get("weight", ""))
    confirmed = request.form.get("confirm") == "1"
    try:
        packing.weigh(db.session, parcel, grams if grams is not None else -1, tolerance=_tolerance(),
                      confirmed=confirmed)  # fmt: skip
        db.session.commit()
    except packing.WeightOffTolerance as exc:
        db.session.rollback()
        flash(exc.text, "warning")
        return leave(
            url_for("wms.pack_parcel", parcel_id=parcel.id, confirm_weight=request.form.get("weight"))
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return leave(url_for("wms.pack_parcel", parcel_id=parcel.id))
    flash(_("Weight recorded. Choose the box."), "success")
    return leave(url_for("wms.pack_parcel", parcel_id=parcel.id))


@bp.post("/pack/<int:parcel_id>/box")
@requires("wms.pack")
def pack_box(parcel_id: int):
    parcel = _parcel(parcel_id)
    box = request.form.get("box", "")
    return _step(
        parcel,
        lambda: packing.choose_box(db.session, parcel, int(box) if box.isdigit() else 0),
        _("Packed. Scan or issue the waybill and ship."),
    )


@bp.post("/pack/<int:parcel_id>/ship")
@requires("wms.pack")
def pack_ship(parcel_id: int):
    parcel = _parcel(parcel_id)
    form = request.form
    carrier = (
        form.get("carrier_other", "") if form.get("carrier") == OTHER_CARRIER else form.get("carrier", "")
    )
    waybill = packing.issue_waybill(parcel) if form.get("issue") == "1" else form.get("waybill", "")
    try:
        shipment = packing.ship_parcel(
            db.session, parcel, carrier=carrier, waybill_no=waybill, actor=OrderActor.of(current_user)
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return leave(url_for("wms.pack_parcel", parcel_id=parcel.id))
    flash(_("Shipped with %(carrier)s %(waybill)s.", carrier=shipment.carrier, waybill=shipment.waybill_no),
          "success")  # fmt: skip
    return leave(url_for("wms.pack_parcel", parcel_id=parcel.id))


@bp.post("/pack/<int:parcel_id>/missing")
@requires("wms.adjust")
def pack_missing(parcel_id: int):
    parcel = _parcel(parcel_id)
    return _step(
        parcel,
        lambda: packing.report_missing(db.session, parcel, actor_id=current_user.id),
        _(
            "The missing units are written off. Weigh what was checked; the rest of the order will be picked again."
        ),
    )


@bp.post("/pack/<int:parcel_id>/return")
@requires("wms.pack")
def pack_return(parcel_id: int):
    parcel = _parcel(parcel_id)
    return _step(
        parcel,
        lambda: packing.return_to_stock(db.session, parcel),
        _("The picked units have putaway tasks: put them back into bins."),
    )


def _document(parcel_id: int, template: str, **extra):
    parcel = _parcel(parcel_id)
    order = db.session.get(Order, parcel.order_id)
    return render_template(
        template,
        parcel=parcel,
        order=order,
        shop=db.session.get(Merchant, parcel.tenant_id),
        warehouse=db.session.get(Warehouse, parcel.warehouse_id),
        checklist=_checklist(parcel),
        box=db.session.get(BoxType, parcel.box_type_id) if parcel.box_type_id else None,
        province_label=province_label,
        order_barcode=code128_svg(order.number, module_height_mm=10),
        **extra,
    )


@bp.get("/pack/<int:parcel_id>/packing-slip")
@requires("wms.pack")
def pack_slip(parcel_id: int):
    return _document(parcel_id, "wms/pack/packing_slip.html")


@bp.get("/pack/<int:parcel_id>/label")
@requires("wms.pack")
def pack_label(parcel_id: int):
    parcel = _parcel(parcel_id)
    if not parcel.waybill_no:
        abort(404)
    return _document(
        parcel_id, "wms/pack/label.html", waybill_barcode=code128_svg(parcel.waybill_no, module_height_mm=18)
    )
