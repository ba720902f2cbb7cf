"""Handheld screens: receiving against a purchase order by scanning, and putaway into bins.

Each scan is an htmx POST that swaps only the result panel; a keyboard-wedge scanner's Enter submits. The
scan list of a receipt in progress lives in Redis per user and order (``HINCRBY``, atomic), and every scan
form carries a fresh token claimed with ``SET NX``: a double-submitted scan counts once. "Book receipt" hands
the list to ``purchasing.services.receive``, which books stock and makes the putaway tasks.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.catalog.models import Sku
from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.fulfillment import putaway
from marketplace.purchasing import queries as purchasing_queries
from marketplace.purchasing import services as purchasing
from marketplace.purchasing.errors import ConfirmationNeeded
from marketplace.purchasing.models import PoKind, PoStatus, PurchaseOrder
from marketplace.purchasing.services import APPROVE, ReceiveLine
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

# --- receiving --------------------------------------------------------------------------------------------


def _draft_key(po_id: int) -> str:
    return f"wms:receive:{current_user.id}:{po_id}"


def _draft(po_id: int) -> dict[int, tuple[int, int]]:
    """{sku id: (units scanned, of them damaged)}"""
    return scan_list(_draft_key(po_id))


def _current_po() -> PurchaseOrder | None:
    po_id = session.get("wms_receive_po")
    po = db.session.get(PurchaseOrder, po_id) if po_id else None
    if po is None or po.status not in (PoStatus.APPROVED, PoStatus.PARTIALLY_RECEIVED):
        session.pop("wms_receive_po", None)
        return None
    return po


def _rows(po: PurchaseOrder) -> list[dict]:
    """The order's lines with what was scanned, then items scanned that are not on the order (open 0)."""
    draft = _draft(po.id)
    skus = purchasing_queries.skus_of(db.session, po)
    rows = [
        {
            "sku": skus[line.sku_id],
            "open": line.open_quantity,
            "scanned": draft.get(line.sku_id, (0, 0))[0],
            "damaged": draft.get(line.sku_id, (0, 0))[1],
        }
        for line in po.lines
    ]
    for sku_id in sorted(set(draft) - set(skus)):
        scanned, damaged = draft[sku_id]
        rows.append({"sku": db.session.get(Sku, sku_id), "open": 0, "scanned": scanned, "damaged": damaged})
    return rows


def _unexpected(scanned: str) -> dict | None:
    """An item not on the order, accepted only when a supervisor ticks the confirmation."""
    if not (request.form.get("confirm") and current_user.can(APPROVE)):
        return None
    try:
        sku = purchasing_queries.find_sku(db.session, scanned)
    except DomainError:
        return None
    return {"sku": sku, "open": 0, "scanned": 0, "damaged": 0}


def _receive_panel(po: PurchaseOrder, *, ok: bool, message: str, status: int = 200):
    return render_template(
        "wms/handheld/_receive_result.html", po=po, rows=_rows(po), ok=ok, message=message, token=new_token()
    ), status


@bp.get("/receive")
@requires("wms.receive")
def handheld_receive():
    po = _current_po()
    return render_template(
        "wms/handheld/receive.html", po=po, rows=_rows(po) if po else [], token=new_token(), error=None
    )


@bp.post("/receive/po")
@requires("wms.receive")
def handheld_receive_po():
    number = request.form.get("po", "").strip().upper()
    po = purchasing_queries.order_by_number(db.session, number)
    error = None
    if po is None or po.kind != PoKind.PURCHASE:
        error = _("No purchase order %(number)s.", number=number or "—")
    elif po.status not in (PoStatus.APPROVED, PoStatus.PARTIALLY_RECEIVED):
        error = _("Purchase order %(number)s is not open for receiving.", number=po.number)
    if error:
        return render_template(
            "wms/handheld/receive.html", po=None, rows=[], token=new_token(), error=error
        ), 422
    session["wms_receive_po"] = po.id
    return redirect(url_for("wms.handheld_receive"))


@bp.post("/receive/scan")
@requires("wms.receive")
def handheld_receive_scan():
    po = _current_po()
    if po is None:
        return leave(url_for("wms.handheld_receive"))
    token = request.form.get("token", "")
    scanned = request.form.get("code", "").strip()
    quantity = scanned_quantity(request.form.get("qty"))
    damaged = bool(request.form.get("damaged"))
    if quantity is None:
        return _receive_panel(po, ok=False, message=_("The quantity is a whole number above 0."), status=422)
    rows = _rows(po)
    row = next((r for r in rows if scanned and matches(r["sku"], scanned)), None) or _unexpected(scanned)
    if row is None:
        expected = ", ".join(
            f"{r['sku'].code} ({r['sku'].barcode or r['sku'].code})" for r in rows if r["open"]
        )
        return _receive_panel(
            po,
            ok=False,
            message=_(
                "%(scanned)s is not on %(number)s. Expected: %(expected)s. A supervisor may accept an unexpected "
                "item by ticking the confirmation.",
                scanned=scanned or "—",
                number=po.number,
                expected=expected or "—",
            ),
            status=422,
        )
    good_after = row["scanned"] - row["damaged"] + (0 if damaged else quantity)
    if good_after > row["open"] and not (request.form.get("confirm") and current_user.can(APPROVE)):
        why = _("more than the order still expects.")
        message = ConfirmationNeeded(sku=row["sku"].code, why=why).text
        return _receive_panel(po, ok=False, message=message, status=409)
    if not claim_scan(token):
        return _receive_panel(po, ok=True, message=_("Already counted."))
    add_scan(_draft_key(po.id), row["sku"].id, quantity, damaged)
    if damaged:
        message = _("%(sku)s: %(count)s damaged.", sku=row["sku"].code, count=quantity)
    else:
        message = _("%(sku)s: +%(count)s.", sku=row["sku"].code, count=quantity)
    return _receive_panel(po, ok=True, message=message)


@bp.post("/receive/book")
@requires("wms.receive")
def handheld_receive_book():
    po = _current_po()
    if po is None:
        return leave(url_for("wms.handheld_receive"))
    key = _draft_key(po.id)
    booking = take_for_booking(key)  # a double-submitted "Book receipt" books once
    if booking is None:
        return _receive_panel(po, ok=False, message=_("Nothing scanned yet."), status=422)
    draft = scan_list(booking)
    lines = [ReceiveLine(sku_id, q, d) for sku_id, (q, d) in draft.items() if q > 0]
    confirmer = current_user if request.form.get("confirm") else None
    try:
        receipt = purchasing.receive(db.session, po, lines, actor_id=current_user.id, confirmer=confirmer)
    except DomainError as exc:
        db.session.rollback()
        give_back(booking, key)
        return _receive_panel(db.session.get(PurchaseOrder, po.id), ok=False, message=exc.text, status=422)
    db.session.commit()
    drop(booking)
    session.pop("wms_receive_po", None)
    flash(_("Receipt %(number)s booked: now put the goods away.", number=receipt.number), "success")
    return leave(url_for("wms.handheld_receive"))


@bp.post("/receive/clear")
@requires("wms.receive")
def handheld_receive_clear():
    po_id = session.pop("wms_receive_po", None)
    if po_id:
        drop(_draft_key(po_id))
    return redirect(url_for("wms.handheld_receive"))


# --- putaway ----------------------------------------------------------------------------------------------


@bp.get("/putaway")
@requires("wms.putaway")
def handheld_putaway():
    scanned = request.args.get("scan", "").strip()
    tasks = putaway.open_tasks(db.session)
    error = None
    if scanned:
        found = [task for task, sku in tasks if matches(sku, scanned)]
        if found:
            return redirect(url_for("wms.handheld_putaway_task", task_id=found[0].id))
        error = _("No open putaway task for %(scanned)s.", scanned=scanned)
    return render_template("wms/handheld/putaway.html", tasks=tasks, error=error), 422 if error else 200


def _task_page(task_id: int):
    task = putaway.get_task(db.session, task_id)
    sku = db.session.get(Sku, task.sku_id)
    return task, sku


@bp.get("/putaway/<int:task_id>")
@requires("wms.putaway")
def handheld_putaway_task(task_id: int):
    task, sku = _task_page(task_id)
    suggested = putaway.suggested_bin(db.session, task)
    return render_template(
        "wms/handheld/putaway_task.html", task=task, sku=sku, suggested=suggested, token=new_token()
    )


@bp.post("/putaway/<int:task_id>")
@requires("wms.putaway")
def handheld_putaway_confirm(task_id: int):
    task, sku = _task_page(task_id)
    token = request.form.get("token", "")
    quantity = (
        scanned_quantity(request.form.get("qty"))
        if request.form.get("qty", "").strip()
        else task.open_quantity
    )

    def panel(ok: bool, message: str, status: int = 200, result=None):
        current = putaway.get_task(db.session, task_id)
        return render_template(
            "wms/handheld/_putaway_result.html", task=current, sku=sku, ok=ok, message=message,
            result=result, token=new_token(),
        ), status  # fmt: skip

    if quantity is None:
        return panel(False, _("The quantity is a whole number above 0."), 422)
    if not claim_scan(token):
        return panel(True, _("Already put away."))
    try:
        result = putaway.put_away(
            db.session, task_id, scanned_bin=request.form.get("bin", ""), quantity=quantity,
            actor_id=current_user.id,
        )  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        release_scan(token)
        return panel(False, exc.text, exc.status)
    db.session.commit()
    message = _("%(count)s × %(sku)s into %(bin)s.", count=result.quantity, sku=sku.code, bin=result.bin.code)
    if result.other_bin:
        message += " " + _("(Not the suggested bin %(bin)s.)", bin=result.suggested.code)
    return panel(True, message, result=result)
