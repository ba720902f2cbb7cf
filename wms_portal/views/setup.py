"""Warehouse setup for supervisors: platform warehouses, zones, bins (single or a range), shops served, bin labels,
and the warehouse team with its roles."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from marketplace.core.errors import DomainError, NotFound
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.fulfillment import packing, queries, services
from marketplace.fulfillment.labels import code128_svg
from marketplace.fulfillment.models import BinKind
from marketplace.identity import queries as identity_queries
from marketplace.identity.models import UserKind
from marketplace.merchants.models import Merchant
from wms_portal import bp
from wms_portal.setup_forms import (
    BIN_KINDS,
    BinForm,
    BinRangeForm,
    BoxTypeForm,
    ShopForm,
    WarehouseForm,
    ZoneForm,
)


@bp.get("/setup/warehouses")
@requires("wms.setup")
def setup_warehouses():
    return render_template(
        "wms/setup/warehouses.html", summaries=queries.platform_warehouses(db.session), form=WarehouseForm()
    )


@bp.post("/setup/warehouses")
@requires("wms.setup")
def setup_warehouse_create():
    form = WarehouseForm()
    if form.validate_on_submit():
        try:
            warehouse = services.create_warehouse(
                db.session, code=form.code.data, name=form.name.data, address=form.address.data or ""
            )
        except DomainError as exc:
            db.session.rollback()
            form.code.errors.append(exc.text)
        else:
            db.session.commit()
            flash(_("Warehouse %(code)s added.", code=warehouse.code), "success")
            return redirect(url_for("wms.setup_warehouse", warehouse_id=warehouse.id))
    return render_template(
        "wms/setup/warehouses.html", summaries=queries.platform_warehouses(db.session), form=form
    ), 422


def _zone_choices(zones) -> list[tuple[int, str]]:
    return [(z.id, f"{z.code} · {z.name}") for z in zones]


def _forms(warehouse_id: int, zones, **given):
    """The page's forms (the one just posted, with its errors, replaces its fresh copy)."""
    forms = {
        "zone_form": given.get("zone_form") or ZoneForm(prefix="zone", formdata=None),
        "bin_form": given.get("bin_form") or BinForm(prefix="bin", formdata=None),
        "range_form": given.get("range_form") or BinRangeForm(prefix="range", formdata=None),
        "shop_form": given.get("shop_form") or ShopForm(prefix="shop", formdata=None),
        "box_form": given.get("box_form") or BoxTypeForm(prefix="box", formdata=None),
    }
    for name in ("bin_form", "range_form"):
        forms[name].zone.choices = _zone_choices(zones)
    forms["shop_form"].merchant.choices = [
        (m.id, m.name) for m in queries.shops_to_add(db.session, warehouse_id)
    ]
    return forms


def _zone_filter(zones) -> int | None:
    zone_id = request.args.get("zone", type=int)
    return zone_id if zone_id in {z.id for z in zones} else None


def _render_page(warehouse, *, status: int = 200, **given):
    zones = queries.zones(db.session, warehouse.id)
    zone_id = _zone_filter(zones)
    bins = queries.bins(db.session, warehouse.id, zone_id=zone_id)
    context = {
        "warehouse": warehouse,
        "zones": zones,
        "zone_codes": {z.id: z.code for z in zones},
        "zone_id": zone_id,
        "bins": bins,
        "held": queries.bin_quantities(db.session, [b.id for b in bins]),
        "kinds": BIN_KINDS,
    }
    if htmx and htmx.target == "bins":
        return render_template("wms/setup/_bins.html", **context), status
    context.update(
        shops=queries.served_shops(db.session, warehouse.id),
        boxes=packing.box_types(db.session, warehouse.id),
        **_forms(warehouse.id, zones, **given),
    )
    return render_template("wms/setup/warehouse.html", **context), status


@bp.get("/setup/warehouses/<int:warehouse_id>")
@requires("wms.setup")
def setup_warehouse(warehouse_id: int):
    return _render_page(queries.platform_warehouse(db.session, warehouse_id))


def _back(warehouse_id: int, anchor: str, **args):
    return redirect(url_for("wms.setup_warehouse", warehouse_id=warehouse_id, _anchor=anchor, **args))


@bp.post("/setup/warehouses/<int:warehouse_id>/zones")
@requires("wms.setup")
def setup_zone_create(warehouse_id: int):
    warehouse = queries.platform_warehouse(db.session, warehouse_id)
    form = ZoneForm(prefix="zone")
    if form.validate_on_submit():
        try:
            zone = services.create_zone(db.session, warehouse, code=form.code.data, name=form.name.data)
        except DomainError as exc:
            db.session.rollback()
            form.code.errors.append(exc.text)
        else:
            db.session.commit()
            flash(_("Zone %(code)s added.", code=zone.code), "success")
            return _back(warehouse_id, "zones")
    return _render_page(warehouse, status=422, zone_form=form)


@bp.post("/setup/warehouses/<int:warehouse_id>/boxes")
@requires("wms.setup")
def setup_box_create(warehouse_id: int):
    warehouse = queries.platform_warehouse(db.session, warehouse_id)
    form = BoxTypeForm(prefix="box")
    if form.validate_on_submit():
        try:
            dimensions = (form.length_mm.data or 0, form.width_mm.data or 0, form.height_mm.data or 0)
            box = services.create_box_type(
                db.session, warehouse, code=form.code.data, name=form.name.data, dimensions_mm=dimensions,
                tare_g=form.tare_g.data or 0,
            )  # fmt: skip
        except DomainError as exc:
            db.session.rollback()
            form.code.errors.append(exc.text)
        else:
            db.session.commit()
            flash(_("Box type %(code)s added.", code=box.code), "success")
            return _back(warehouse_id, "boxes")
    return _render_page(warehouse, status=422, box_form=form)


def _posted(form_class, prefix: str, warehouse_id: int):
    form = form_class(prefix=prefix)
    form.zone.choices = _zone_choices(queries.zones(db.session, warehouse_id))
    return form


@bp.post("/setup/warehouses/<int:warehouse_id>/bins")
@requires("wms.setup")
def setup_bin_create(warehouse_id: int):
    warehouse = queries.platform_warehouse(db.session, warehouse_id)
    form = _posted(BinForm, "bin", warehouse_id)
    if form.validate_on_submit():
        try:
            new = services.create_bin(
                db.session,
                warehouse,
                queries.zone_in(db.session, warehouse_id, form.zone.data),
                code=form.code.data,
                kind=BinKind(form.kind.data),
                barcode=form.barcode.data or None,
            )
        except DomainError as exc:
            db.session.rollback()
            form.code.errors.append(exc.text)
        else:
            db.session.commit()
            flash(_("Bin %(code)s added.", code=new.code), "success")
            return _back(warehouse_id, "bins", zone=new.zone_id)
    return _render_page(warehouse, status=422, bin_form=form)


@bp.post("/setup/warehouses/<int:warehouse_id>/bins/range")
@requires("wms.setup")
def setup_bin_range(warehouse_id: int):
    warehouse = queries.platform_warehouse(db.session, warehouse_id)
    form = _posted(BinRangeForm, "range", warehouse_id)
    if form.validate_on_submit():
        try:
            created = services.create_bin_range(
                db.session,
                warehouse,
                queries.zone_in(db.session, warehouse_id, form.zone.data),
                aisle=form.aisle.data,
                bays=(form.first_bay.data, form.last_bay.data),
                levels=(form.first_level.data, form.last_level.data),
                kind=BinKind(form.kind.data),
            )
        except DomainError as exc:
            db.session.rollback()
            form.aisle.errors.append(exc.text)
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d bin added (%(first)s to %(last)s).",
                    "%(num)d bins added (%(first)s to %(last)s).",
                    len(created),
                    first=created[0].code,
                    last=created[-1].code,
                ),
                "success",
            )
            return _back(warehouse_id, "bins", zone=form.zone.data)
    return _render_page(warehouse, status=422, range_form=form)


@bp.post("/setup/warehouses/<int:warehouse_id>/bins/<int:bin_id>/active")
@requires("wms.setup")
def setup_bin_active(warehouse_id: int, bin_id: int):
    queries.platform_warehouse(db.session, warehouse_id)
    found = queries.bin_in(db.session, warehouse_id, bin_id)
    active = request.form.get("active") == "1"
    try:
        services.set_bin_active(db.session, found, active)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        if active:
            flash(_("Bin %(code)s is active again.", code=found.code), "success")
        else:
            flash(_("Bin %(code)s deactivated.", code=found.code), "success")
    return _back(warehouse_id, "bins", zone=request.form.get("zone", type=int))


@bp.post("/setup/warehouses/<int:warehouse_id>/shops")
@requires("wms.setup")
def setup_shop_add(warehouse_id: int):
    warehouse = queries.platform_warehouse(db.session, warehouse_id)
    form = ShopForm(prefix="shop")
    form.merchant.choices = [(m.id, m.name) for m in queries.shops_to_add(db.session, warehouse_id)]
    if form.validate_on_submit():
        merchant = db.session.get(Merchant, form.merchant.data)
        services.assign_shop(db.session, warehouse, merchant)
        db.session.commit()
        flash(
            _("%(warehouse)s now holds the goods of %(shop)s.", warehouse=warehouse.code, shop=merchant.name),
            "success",
        )
        return _back(warehouse_id, "shops")
    return _render_page(warehouse, status=422, shop_form=form)


@bp.post("/setup/warehouses/<int:warehouse_id>/shops/<int:merchant_id>/remove")
@requires("wms.setup")
def setup_shop_remove(warehouse_id: int, merchant_id: int):
    warehouse = queries.platform_warehouse(db.session, warehouse_id)
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None or not services.unassign_shop(db.session, warehouse, merchant_id):
        raise NotFound()
    db.session.commit()
    flash(
        _(
            "%(warehouse)s no longer holds the goods of %(shop)s.",
            warehouse=warehouse.code,
            shop=merchant.name,
        ),
        "success",
    )
    return _back(warehouse_id, "shops")


@bp.get("/setup/warehouses/<int:warehouse_id>/labels")
@requires("wms.setup")
def setup_labels(warehouse_id: int):
    """Printable bin labels (A4, print CSS): the active bins of the warehouse, or of one zone."""
    warehouse = queries.platform_warehouse(db.session, warehouse_id)
    zones = queries.zones(db.session, warehouse.id)
    zone_id = _zone_filter(zones)
    bins = queries.bins(db.session, warehouse.id, zone_id=zone_id, active_only=True)
    zone_names = {z.id: z for z in zones}
    labels = [(b, zone_names[b.zone_id], code128_svg(b.barcode)) for b in bins]
    return render_template("wms/setup/labels.html", warehouse=warehouse, labels=labels, zone_id=zone_id)


@bp.get("/setup/team")
@requires("wms.setup")
def setup_team():
    """The warehouse team and their roles (accounts are created and given roles in the admin portal)."""
    page = identity_queries.list_users(
        db.session,
        kind=UserKind.WAREHOUSE,
        search=request.args.get("q", ""),
        before=parse_cursor(request.args.get("before")),
    )
    template = "wms/setup/_team_rows.html" if htmx and request.args.get("before") else "wms/setup/team.html"
    return render_template(template, page=page)
