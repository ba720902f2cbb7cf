"""Purchasing at the warehouse desk: suppliers and their documents, purchase and return orders, receipts.

Views parse the form, call the purchasing services and commit; a refused step rolls back and says why.
The "supervisor confirms" box of a receipt passes the signed-in user as the confirmer; the service honours it
only for users who may approve purchase orders.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.db import Money
from marketplace.core.errors import DomainError, ValidationFailed
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.core.storage import document_path
from marketplace.extensions import db, htmx
from marketplace.purchasing import queries, services
from marketplace.purchasing.models import PoKind, PoStatus
from marketplace.purchasing.services import PoLineInput, ReceiveLine, SupplierInput
from wms_portal import bp


def _status_labels() -> dict[PoStatus, str]:
    return {
        PoStatus.DRAFT: _("Draft"),
        PoStatus.APPROVED: _("Approved"),
        PoStatus.PARTIALLY_RECEIVED: _("Partially received"),
        PoStatus.RECEIVED: _("Received"),
        PoStatus.CLOSED: _("Closed"),
        PoStatus.CANCELLED: _("Cancelled"),
    }


def _errors(exc: ValidationFailed) -> list[str]:
    return [_(m) for messages in exc.fields.values() for m in messages]


def _int(value: str | None, default: int | None = None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else default


def _fen(value: str | None) -> int:
    """A price typed in yuan ("12.50") as fen; ValueError when it is not one."""
    text = (value or "").strip() or "0"
    try:
        return Money.parse(text).amount
    except ArithmeticError as exc:
        raise ValueError(text) from exc


# --- suppliers -------------------------------------------------------------------------------------------


@bp.get("/purchasing/suppliers")
@requires("purchasing.view")
def purchasing_suppliers():
    return render_template("wms/purchasing/suppliers.html", suppliers=queries.suppliers(db.session))


SUPPLIER_FIELDS = ("name", "contact_person", "phone", "email", "terms", "payment_days")


def _supplier_page(supplier, *, errors: dict[str, list[str]] | None = None, status: int = 200):
    """The supplier's form: what was typed when it was refused, else the stored values."""
    if request.method == "POST":
        data = {f: request.form.get(f, "") for f in SUPPLIER_FIELDS}
        data["is_active"] = bool(request.form.get("is_active"))
    elif supplier is not None:
        data = {f: getattr(supplier, f) for f in SUPPLIER_FIELDS}
        data["is_active"] = supplier.is_active
    else:
        data = {f: "" for f in SUPPLIER_FIELDS} | {"payment_days": 30, "is_active": True}
    return render_template(
        "wms/purchasing/supplier.html", supplier=supplier, data=data, errors=errors or {}
    ), status


def _supplier_input() -> SupplierInput:
    return SupplierInput(
        name=request.form.get("name", ""),
        contact_person=request.form.get("contact_person", ""),
        phone=request.form.get("phone", ""),
        email=request.form.get("email", ""),
        terms=request.form.get("terms", ""),
        payment_days=_int(request.form.get("payment_days"), -1) if request.form.get("payment_days") else 0,
        is_active=bool(request.form.get("is_active")),
    )


@bp.route("/purchasing/suppliers/new", methods=["GET", "POST"])
@requires("purchasing.manage")
def purchasing_supplier_new():
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            supplier = services.save_supplier(db.session, _supplier_input())
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.fields
        else:
            db.session.commit()
            flash(_("Supplier %(name)s added.", name=supplier.name), "success")
            return redirect(url_for("wms.purchasing_supplier", supplier_id=supplier.id))
    return _supplier_page(None, errors=errors, status=422 if errors else 200)


@bp.get("/purchasing/suppliers/<int:supplier_id>")
@requires("purchasing.view")
def purchasing_supplier(supplier_id: int):
    supplier = queries.get_supplier(db.session, supplier_id)
    return _supplier_page(supplier)


@bp.post("/purchasing/suppliers/<int:supplier_id>")
@requires("purchasing.manage")
def purchasing_supplier_save(supplier_id: int):
    supplier = queries.get_supplier(db.session, supplier_id)
    try:
        services.save_supplier(db.session, _supplier_input(), supplier)
    except ValidationFailed as exc:
        db.session.rollback()
        supplier = queries.get_supplier(db.session, supplier_id)
        return _supplier_page(supplier, errors=exc.fields, status=422)
    db.session.commit()
    flash(_("Supplier saved."), "success")
    return redirect(url_for("wms.purchasing_supplier", supplier_id=supplier_id))


@bp.post("/purchasing/suppliers/<int:supplier_id>/documents")
@requires("purchasing.manage")
def purchasing_document_upload(supplier_id: int):
    supplier = queries.get_supplier(db.session, supplier_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file."), "error")
        return redirect(url_for("wms.purchasing_supplier", supplier_id=supplier_id))
    try:
        services.add_supplier_document(
            db.session, supplier, kind=request.form.get("kind", ""), stream=upload.stream,
            filename=upload.filename, actor_id=current_user.id,
        )  # fmt: skip
    except ValidationFailed as exc:
        db.session.rollback()
        flash(" ".join(_errors(exc)), "error")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(_("Document stored."), "success")
    return redirect(url_for("wms.purchasing_supplier", supplier_id=supplier_id))


@bp.get("/purchasing/suppliers/<int:supplier_id>/documents/<int:document_id>")
@requires("purchasing.view")
def purchasing_document(supplier_id: int, document_id: int):
    document = queries.get_document(db.session, supplier_id, document_id)
    path = document_path(document.storage_key)
    if path is None:
        abort(404)
    return send_file(path, download_name=document.filename, as_attachment=True)


# --- purchase orders -------------------------------------------------------------------------------------


@bp.get("/purchasing/orders")
@requires("purchasing.view")
def purchasing_orders():
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    page = queries.orders(
        db.session,
        status=PoStatus(status) if status in PoStatus._value2member_map_ else None,
        supplier_id=_int(request.args.get("supplier")),
        kind=PoKind(kind) if kind in PoKind._value2member_map_ else None,
        before=parse_cursor(request.args.get("before")),
    )
    template = "wms/purchasing/_orders.html" if htmx else "wms/purchasing/orders.html"
    return render_template(
        template,
        page=page,
        statuses=list(PoStatus),
        status_labels=_status_labels(),
        suppliers=queries.suppliers(db.session),
    )


def _order_form(kind: PoKind, *, errors: list[str] | None = None, status: int = 200):
    return render_template(
        "wms/purchasing/order_form.html",
        kind=kind,
        suppliers=queries.suppliers(db.session, active_only=True),
        warehouses=queries.warehouses(db.session),
        values=request.form,
        rows=max(5, len(request.form.getlist("sku_code"))),
        errors=errors or [],
    ), status


@bp.route("/purchasing/orders/new", methods=["GET", "POST"])
@requires("purchasing.manage")
def purchasing_order_new():
    kind = PoKind.RETURN if request.values.get("kind") == "return" else PoKind.PURCHASE
    if request.method == "GET":
        return _order_form(kind)
    errors: list[str] = []
    lines: list[PoLineInput] = []
    shop_id = _int(request.form.get("shop"))
    codes = request.form.getlist("sku_code")
    quantities = request.form.getlist("quantity")
    costs = request.form.getlist("unit_cost")
    for index, code in enumerate(codes):
        code = code.strip()
        if not code:
            continue
        quantity = _int(quantities[index] if index < len(quantities) else "", -1)
        try:
            cost = _fen(costs[index] if index < len(costs) else "")
        except ValueError:
            errors.append(_("%(code)s: the unit cost is not an amount.", code=code))
            continue
        try:
            sku = queries.find_sku(db.session, code, shop_id)
        except DomainError as exc:
            errors.append(exc.text)
            continue
        lines.append(PoLineInput(sku.id, quantity, cost))
    expected = None
    if request.form.get("expected_on"):
        try:
            expected = date.fromisoformat(request.form["expected_on"])
        except ValueError:
            errors.append(_("The expected date is not a date."))
    if errors:
        return _order_form(kind, errors=errors, status=422)
    try:
        po = services.create_po(
            db.session, supplier_id=_int(request.form.get("supplier_id"), 0),
            warehouse_id=_int(request.form.get("warehouse_id"), 0), kind=kind, lines=lines, expected_on=expected,
            note=request.form.get("note", ""), actor_id=current_user.id,
        )  # fmt: skip
    except ValidationFailed as exc:
        db.session.rollback()
        return _order_form(kind, errors=_errors(exc), status=422)
    db.session.commit()
    flash(_("Order %(number)s drafted.", number=po.number), "success")
    return redirect(url_for("wms.purchasing_order", po_id=po.id))


def _order_page(po_id: int, *, errors: list[str] | None = None, status: int = 200):
    po = queries.get_order(db.session, po_id)
    return render_template(
        "wms/purchasing/order.html",
        po=po,
        labels=queries.sku_labels(db.session, po),
        status_labels=_status_labels(),
        values=request.form,
        errors=errors or [],
        can_receive=po.status in (PoStatus.APPROVED, PoStatus.PARTIALLY_RECEIVED),
    ), status


@bp.get("/purchasing/orders/<int:po_id>")
@requires("purchasing.view")
def purchasing_order(po_id: int):
    return _order_page(po_id)


def _step(po_id: int, action, done: str):
    po = queries.get_order(db.session, po_id)
    try:
        action(po)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("wms.purchasing_order", po_id=po_id))


@bp.post("/purchasing/orders/<int:po_id>/approve")
@requires("purchasing.approve")
def purchasing_order_approve(po_id: int):
    return _step(
        po_id, lambda po: services.approve_po(db.session, po, actor=current_user), _("Order approved.")
    )


@bp.post("/purchasing/orders/<int:po_id>/close")
@requires("purchasing.manage")
def purchasing_order_close(po_id: int):
    return _step(
        po_id, lambda po: services.close_po(db.session, po), _("Order closed: nothing more is expected.")
    )


@bp.post("/purchasing/orders/<int:po_id>/cancel")
@requires("purchasing.manage")
def purchasing_order_cancel(po_id: int):
    return _step(po_id, lambda po: services.cancel_po(db.session, po), _("Order cancelled."))


@bp.post("/purchasing/orders/<int:po_id>/receive")
@requires("wms.receive")
def purchasing_order_receive(po_id: int):
    po = queries.get_order(db.session, po_id)
    errors: list[str] = []
    lines: list[ReceiveLine] = []
    for line in po.lines:
        quantity = _int(request.form.get(f"qty-{line.id}"), -1 if request.form.get(f"qty-{line.id}") else 0)
        damaged = _int(
            request.form.get(f"damaged-{line.id}"), -1 if request.form.get(f"damaged-{line.id}") else 0
        )
        if quantity == 0 and damaged == 0:
            continue
        lines.append(ReceiveLine(line.sku_id, quantity, damaged))
    extra_code = request.form.get("extra_code", "").strip()
    if extra_code:
        try:
            sku = queries.find_sku(db.session, extra_code, _int(request.form.get("extra_shop")))
            cost = _fen(request.form.get("extra_cost"))
        except DomainError as exc:
            errors.append(exc.text)
        except ValueError:
            errors.append(_("The unit cost is not an amount."))
        else:
            lines.append(
                ReceiveLine(
                    sku.id,
                    _int(request.form.get("extra_qty"), -1),
                    _int(request.form.get("extra_damaged"), 0),
                    cost,
                )
            )
    if errors:
        return _order_page(po_id, errors=errors, status=422)
    confirmer = current_user if request.form.get("confirm") else None
    try:
        receipt = services.receive(db.session, po, lines, actor_id=current_user.id, confirmer=confirmer)
    except ValidationFailed as exc:
        db.session.rollback()
        return _order_page(po_id, errors=_errors(exc), status=422)
    except DomainError as exc:
        db.session.rollback()
        return _order_page(po_id, errors=[exc.text], status=exc.status if exc.status != 403 else 422)
    db.session.commit()
    flash(_("Receipt %(number)s recorded.", number=receipt.number), "success")
    return redirect(url_for("wms.purchasing_order", po_id=po_id))
