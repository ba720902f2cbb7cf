"""Customer-return receipts and transfers: handheld return receiving, the transfer desk (list, create, ship,
printable slip) and handheld transfer receiving.

The handheld screens work like purchasing receipts (``views/handheld.py``): every scan is an htmx POST that
swaps only the result panel, the scan list lives in Redis per user (``HINCRBY``), every scan form carries a
one-time token (a double-submitted scan counts once), and "Book" renames the list first so a double submit
books once. The services (``fulfillment.returns``, ``fulfillment.transfers``) check again and move stock.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import DomainError, NotFound, ValidationFailed
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.fulfillment import queries, returns, transfers
from marketplace.fulfillment.labels import code128_svg
from marketplace.fulfillment.transfer_models import Transfer, TransferStatus
from marketplace.inventory import services as inventory
from marketplace.orders.models import Order
from marketplace.purchasing import queries as purchasing_queries
from wms_portal import bp
from wms_portal.scanning import (
    add_scan,
    claim_scan,
    drop,
    give_back,
    leave,
    matches,
    new_token,
    release_scan,
    scan_list,
    scanned_quantity,
    take_for_booking,
)

NEW_ROWS = 8


# --- customer returns (handheld) -------------------------------------------------------------------------


def _return_warehouse():
    """The platform warehouse receiving returns: chosen with ``?warehouse=``, remembered, else the first."""
    chosen = request.values.get("warehouse", "")
    if chosen.isdigit():
        session["wms_return_warehouse"] = int(chosen)
    remembered = session.get("wms_return_warehouse")
    if remembered:
        try:
            return queries.platform_warehouse(db.session, remembered)
        except NotFound:
            session.pop("wms_return_warehouse", None)
    summaries = queries.platform_warehouses(db.session)
    return summaries[0].warehouse if summaries else None


def _return_key(order_id: int) -> str:
    return f"wms:return:{current_user.id}:{order_id}"


def _current_return() -> tuple[Order | None, int | None]:
    opened = session.get("wms_return") or {}
    order = db.session.get(Order, opened.get("order")) if opened.get("order") else None
    if order is None or order.status not in returns.RETURNABLE:
        session.pop("wms_return", None)
        return None, None
    return order, opened.get("warehouse")


def _return_rows(order: Order, warehouse_id: int) -> list[dict]:
    draft = scan_list(_return_key(order.id))
    return [
        {
            "line": line,
            "sku": sku,
            "left": left,
            "scanned": draft.get(line.id, (0, 0))[0],
            "damaged": draft.get(line.id, (0, 0))[1],
        }
        for line, sku, left in returns.return_lines(db.session, order, warehouse_id)
    ]


def _return_panel(order: Order, warehouse_id: int, *, ok: bool, message: str, status: int = 200):
    rows = _return_rows(order, warehouse_id)
    return render_template(
        "wms/returns/_result.html", rows=rows, ok=ok, message=message, token=new_token()
    ), status


@bp.get("/returns")
@requires("wms.receive")
def returns_receive():
    order, warehouse_id = _current_return()
    warehouse = _return_warehouse() if order is None else queries.platform_warehouse(db.session, warehouse_id)
    return render_template(
        "wms/returns/receive.html",
        order=order,
        warehouse=warehouse,
        warehouses=[s.warehouse for s in queries.platform_warehouses(db.session)],
        rows=_return_rows(order, warehouse_id) if order else [],
        token=new_token(),
        error=None,
    )


@bp.post("/returns/order")
@requires("wms.receive")
def returns_order():
    warehouse = _return_warehouse()
    if warehouse is None:
        abort(404)
    try:
        order = returns.find_order(db.session, request.form.get("order", ""), warehouse.id)
    except DomainError as exc:
        page = render_template(
            "wms/returns/receive.html", order=None, warehouse=warehouse, warehouses=[], rows=[],
            token=new_token(), error=exc.text,
        )  # fmt: skip
        return page, 422
    session["wms_return"] = {"order": order.id, "warehouse": warehouse.id}
    return redirect(url_for("wms.returns_receive"))


def _return_row(rows: list[dict], scanned: str, quantity: int) -> dict | None:
    """The order line a scanned item counts against: the first of its SKU with room left, else the first."""
    matching = [r for r in rows if scanned and matches(r["sku"], scanned)]
    roomy = [r for r in matching if r["scanned"] + quantity <= r["left"]]
    return (roomy or matching or [None])[0]


@bp.post("/returns/scan")
@requires("wms.receive")
def returns_scan():
    order, warehouse_id = _current_return()
    if order is None:
        return leave(url_for("wms.returns_receive"))
    quantity = scanned_quantity(request.form.get("qty"))
    if quantity is None:
        message = _("The quantity is a whole number above 0.")
        return _return_panel(order, warehouse_id, ok=False, message=message, status=422)
    scanned = request.form.get("code", "").strip()
    rows = _return_rows(order, warehouse_id)
    row = _return_row(rows, scanned, quantity)
    if row is None:
        expected = ", ".join(
            f"{r['sku'].code} ({r['sku'].barcode or r['sku'].code})" for r in rows if r["left"]
        )
        message = _(
            "%(scanned)s is not on order %(number)s. Expected: %(expected)s.",
            scanned=scanned or "—", number=order.number, expected=expected or "—",
        )  # fmt: skip
        return _return_panel(order, warehouse_id, ok=False, message=message, status=422)
    token = request.form.get("token", "")
    if not claim_scan(token):  # a repeat of a counted scan, checked first: its quantity may no longer fit
        return _return_panel(order, warehouse_id, ok=True, message=_("Already counted."))
    if row["scanned"] + quantity > row["left"]:
        release_scan(token)
        message = returns.ReturnTooMany(sku=row["sku"].code, left=row["left"]).text
        return _return_panel(order, warehouse_id, ok=False, message=message, status=409)
    damaged = bool(request.form.get("damaged"))
    add_scan(_return_key(order.id), row["line"].id, quantity, damaged)
    if damaged:
        message = _("%(sku)s: %(count)s damaged.", sku=row["sku"].code, count=quantity)
    else:
        message = _("%(sku)s: +%(count)s.", sku=row["sku"].code, count=quantity)
    return _return_panel(order, warehouse_id, ok=True, message=message)


@bp.post("/returns/book")
@requires("wms.receive")
def returns_book():
    order, warehouse_id = _current_return()
    if order is None:
        return leave(url_for("wms.returns_receive"))
    key = _return_key(order.id)
    booking = take_for_booking(key)
    if booking is None:
        return _return_panel(order, warehouse_id, ok=False, message=_("Nothing scanned yet."), status=422)
    lines = [returns.ReturnLine(line_id, q - d, d) for line_id, (q, d) in scan_list(booking).items() if q > 0]
    try:
        receipt = returns.receive_return(
            db.session, order_id=order.id, warehouse_id=warehouse_id, lines=lines,
            case_reference=request.form.get("case_reference", ""), actor_id=current_user.id,
        )  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        give_back(booking, key)
        return _return_panel(
            db.session.get(Order, order.id), warehouse_id, ok=False, message=exc.text, status=422
        )
    db.session.commit()
    drop(booking)
    session.pop("wms_return", None)
    flash(_("Return %(number)s booked: now put the good units away.", number=receipt.number), "success")
    return leave(url_for("wms.returns_receive"))


@bp.post("/returns/clear")
@requires("wms.receive")
def returns_clear():
    opened = session.pop("wms_return", None) or {}
    if opened.get("order"):
        drop(_return_key(opened["order"]))
    return redirect(url_for("wms.returns_receive"))


# --- transfer desk --------------------------------------------------------------------------------------------


def _status_labels() -> dict[TransferStatus, str]:
    return {
        TransferStatus.DRAFT: _("Draft"),
        TransferStatus.SHIPPED: _("In transit"),
        TransferStatus.PARTIALLY_RECEIVED: _("Partially received"),
        TransferStatus.RECEIVED: _("Received"),
        TransferStatus.CANCELLED: _("Cancelled"),
    }


def _transfer(transfer_id: int) -> Transfer:
    try:
        return transfers.get_transfer(db.session, transfer_id)
    except NotFound:
        abort(404)


@bp.get("/transfers")
@requires("wms.setup")
def transfers_list():
    status = request.args.get("status", "")
    chosen = TransferStatus(status) if status in {s.value for s in TransferStatus} else None
    rows = transfers.recent_transfers(db.session, status=chosen)
    return render_template(
        "wms/transfers/list.html",
        transfers=rows,
        names=transfers.labels(db.session, rows),
        status=chosen,
        status_labels=_status_labels(),
    )


def _form_page(*, errors: list[str] | None = None, status: int = 200):
    return render_template(
        "wms/transfers/form.html",
        shops=transfers.shop_choices(db.session),
        warehouses=[s.warehouse for s in queries.platform_warehouses(db.session)],
        values=request.form,
        rows=NEW_ROWS,
        errors=errors or [],
    ), status


def _endpoint_id(value: str, shop_id: int) -> int | None:
    """A warehouse id from the form; ``shop`` means the shop's own warehouse (created on first use)."""
    if value == "shop" and shop_id:
        return inventory.default_warehouse(db.session, shop_id).id
    return int(value) if value.isdigit() else None


def _form_lines(shop_id: int, source_id: int | None) -> list[transfers.TransferLineInput]:
    """The filled rows as service input; unknown SKU codes and bins are refused here, naming them."""
    form = request.form
    lines = []
    for code, qty, bin_code in zip(
        form.getlist("sku_code"), form.getlist("quantity"), form.getlist("bin"), strict=False
    ):
        if not code.strip() and not qty.strip():
            continue
        sku = purchasing_queries.find_sku(db.session, code, shop_id)
        bin_id = None
        if bin_code.strip():
            found = queries.bin_by_barcode(db.session, source_id, bin_code) if source_id else None
            if found is None:
                raise ValidationFailed(
                    {"lines": [_("No bin %(code)s in the source warehouse.", code=bin_code)]}
                )
            bin_id = found.id
        quantity = int(qty) if qty.strip().isdigit() else 0
        lines.append(transfers.TransferLineInput(sku.id, quantity, bin_id))
    return lines


@bp.route("/transfers/new", methods=["GET", "POST"])
@requires("wms.setup")
def transfer_new():
    if request.method == "GET":
        return _form_page()
    form = request.form
    shop_id = int(form["shop"]) if form.get("shop", "").isdigit() else 0
    try:
        if not shop_id:
            raise ValidationFailed({"shop": [_("Choose the shop whose goods move.")]})
        source_id = _endpoint_id(form.get("from_warehouse_id", ""), shop_id)
        transfer = transfers.create_transfer(
            db.session, tenant_id=shop_id, from_warehouse_id=source_id,
            to_warehouse_id=_endpoint_id(form.get("to_warehouse_id", ""), shop_id),
            lines=_form_lines(shop_id, source_id), note=form.get("note", ""), actor_id=current_user.id,
        )  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        return _form_page(errors=[exc.text], status=422)
    db.session.commit()
    flash(_("Transfer %(number)s saved as a draft.", number=transfer.number), "success")
    return redirect(url_for("wms.transfer_detail", transfer_id=transfer.id))


@bp.get("/transfers/<int:transfer_id>")
@requires("wms.setup")
def transfer_detail(transfer_id: int):
    transfer = _transfer(transfer_id)
    return render_template(
        "wms/transfers/detail.html",
        transfer=transfer,
        names=transfers.labels(db.session, [transfer]),
        receipts=transfers.receipt_rows(db.session, transfer.id),
        status_labels=_status_labels(),
    )


def _step(transfer_id: int, action, done: str):
    _transfer(transfer_id)
    try:
        transfer = action(db.session, transfer_id)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return redirect(url_for("wms.transfer_detail", transfer_id=transfer_id))
    db.session.commit()
    flash(done % {"number": transfer.number}, "success")
    return redirect(url_for("wms.transfer_detail", transfer_id=transfer_id))


@bp.post("/transfers/<int:transfer_id>/ship")
@requires("wms.setup")
def transfer_ship(transfer_id: int):
    def ship(session, tid):
        return transfers.ship_transfer(session, tid, actor_id=current_user.id)

    return _step(transfer_id, ship, _("Transfer %(number)s shipped: the units left the source warehouse."))


@bp.post("/transfers/<int:transfer_id>/cancel")
@requires("wms.setup")
def transfer_cancel(transfer_id: int):
    return _step(transfer_id, transfers.cancel_transfer, _("Transfer %(number)s cancelled."))


@bp.get("/transfers/<int:transfer_id>/slip")
@requires("wms.setup")
def transfer_slip(transfer_id: int):
    transfer = _transfer(transfer_id)
    return render_template(
        "wms/transfers/slip.html",
        transfer=transfer,
        names=transfers.labels(db.session, [transfer]),
        barcode=code128_svg(transfer.number),
        status_labels=_status_labels(),
    )


# --- transfer receiving (handheld) ----------------------------------------------------------------------------


def _transfer_key(transfer_id: int) -> str:
    return f"wms:transfer:{current_user.id}:{transfer_id}"


def _current_transfer() -> Transfer | None:
    transfer_id = session.get("wms_transfer")
    transfer = db.session.get(Transfer, transfer_id) if transfer_id else None
    if transfer is None or transfer.status not in transfers.RECEIVABLE:
        session.pop("wms_transfer", None)
        return None
    return transfer


def _transfer_rows(transfer: Transfer) -> list[dict]:
    draft = scan_list(_transfer_key(transfer.id))
    left = transfers.open_by_sku(transfer)
    skus = transfers.labels(db.session, [transfer])["skus"]
    return [
        {"sku": skus[sku_id], "open": left[sku_id], "scanned": draft.get(sku_id, (0, 0))[0]}
        for sku_id in left
    ]


def _transfer_panel(transfer: Transfer, *, ok: bool, message: str, status: int = 200):
    return render_template(
        "wms/transfers/_receive_result.html", rows=_transfer_rows(transfer), ok=ok, message=message,
        token=new_token(),
    ), status  # fmt: skip


@bp.get("/transfers/receive")
@requires("wms.receive")
def transfer_receive():
    transfer = _current_transfer()
    return render_template(
        "wms/transfers/receive.html",
        transfer=transfer,
        names=transfers.labels(db.session, [transfer]) if transfer else {},
        rows=_transfer_rows(transfer) if transfer else [],
        token=new_token(),
        error=None,
    )


@bp.post("/transfers/receive/open")
@requires("wms.receive")
def transfer_receive_open():
    number = request.form.get("transfer", "").strip().upper()
    transfer = transfers.find_transfer(db.session, number)
    error = None
    if transfer is None:
        error = _("No transfer %(number)s.", number=number or "—")
    elif transfer.status not in transfers.RECEIVABLE:
        error = _("Transfer %(number)s is not in transit.", number=transfer.number)
    if error:
        page = render_template(
            "wms/transfers/receive.html", transfer=None, names={}, rows=[], token=new_token(), error=error
        )
        return page, 422
    session["wms_transfer"] = transfer.id
    return redirect(url_for("wms.transfer_receive"))


@bp.post("/transfers/receive/scan")
@requires("wms.receive")
def transfer_receive_scan():
    transfer = _current_transfer()
    if transfer is None:
        return leave(url_for("wms.transfer_receive"))
    quantity = scanned_quantity(request.form.get("qty"))
    if quantity is None:
        return _transfer_panel(
            transfer, ok=False, message=_("The quantity is a whole number above 0."), status=422
        )
    scanned = request.form.get("code", "").strip()
    rows = _transfer_rows(transfer)
    row = next((r for r in rows if scanned and matches(r["sku"], scanned)), None)
    if row is None:
        message = transfers.NotOnTransfer(sku=scanned or "—", number=transfer.number).text
        return _transfer_panel(transfer, ok=False, message=message, status=422)
    confirmed = request.form.get("confirm") and current_user.can(transfers.CONFIRM_OVER)
    token = request.form.get("token", "")
    if not claim_scan(token):  # a repeat of a counted scan, checked first: its quantity may no longer fit
        return _transfer_panel(transfer, ok=True, message=_("Already counted."))
    if row["scanned"] + quantity > row["open"] and not confirmed:
        release_scan(token)
        message = transfers.OverReceipt(sku=row["sku"].code).text
        return _transfer_panel(transfer, ok=False, message=message, status=409)
    add_scan(_transfer_key(transfer.id), row["sku"].id, quantity, False)
    return _transfer_panel(
        transfer, ok=True, message=_("%(sku)s: +%(count)s.", sku=row["sku"].code, count=quantity)
    )


@bp.post("/transfers/receive/book")
@requires("wms.receive")
def transfer_receive_book():
    transfer = _current_transfer()
    if transfer is None:
        return leave(url_for("wms.transfer_receive"))
    key = _transfer_key(transfer.id)
    booking = take_for_booking(key)
    if booking is None:
        return _transfer_panel(transfer, ok=False, message=_("Nothing scanned yet."), status=422)
    quantities = {sku_id: q for sku_id, (q, _d) in scan_list(booking).items() if q > 0}
    confirmer = current_user if request.form.get("confirm") else None
    try:
        transfers.receive_transfer(
            db.session, transfer.id, quantities, actor_id=current_user.id, confirmer=confirmer
        )
    except DomainError as exc:
        db.session.rollback()
        give_back(booking, key)
        return _transfer_panel(db.session.get(Transfer, transfer.id), ok=False, message=exc.text, status=422)
    db.session.commit()
    drop(booking)
    session.pop("wms_transfer", None)
    flash(_("Transfer %(number)s booked in: now put the goods away.", number=transfer.number), "success")
    return leave(url_for("wms.transfer_receive"))


@bp.post("/transfers/receive/clear")
@requires("wms.receive")
def transfer_receive_clear():
    transfer_id = session.pop("wms_transfer", None)
    if transfer_id:
        drop(_transfer_key(transfer_id))
    return redirect(url_for("wms.transfer_receive"))
