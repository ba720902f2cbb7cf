"""Picking on the handheld: the picker's task shows the bin, the item and the quantity; scan the bin, then the
item. Each scan is an htmx POST that swaps only the result panel; a wrong scan is refused (red panel and a
short beep) and changes nothing. The item scan confirms the pick with the form's token, so a double-submitted
scan is counted once, and the next task of the wave is claimed straight away. "Short pick" reports what was
found and why; the rest is re-planned onto another bin.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.catalog.models import Sku
from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.fulfillment import outbound, outbound_queries
from marketplace.fulfillment.models import Bin, PickStatus, PickTask
from wms_portal import bp
from wms_portal.scanning import new_token


def _current_task() -> PickTask | None:
    return outbound_queries.current_task(db.session, current_user.id)


def _claim_next(prefer_wave_id: int | None = None) -> PickTask | None:
    return outbound.claim_next_anywhere(db.session, current_user.id, prefer_wave_id=prefer_wave_id)


def _own_task(task_id: int) -> PickTask:
    task = db.session.get(PickTask, task_id)
    if task is None:
        abort(404)
    return task


def _screen(task: PickTask | None, *, message: str = "") -> dict:
    """What the picker's screen shows: the task's bin, item and quantity, a fresh scan token, short reasons."""
    if task is None:
        return {"task": None, "bin": None, "message": message}
    return {
        "task": task,
        "bin": db.session.get(Bin, task.bin_id),
        "sku": db.session.get(Sku, task.sku_id),
        "token": new_token(),
        "reasons": [(code, outbound.SHORT_REASONS[code]) for code in outbound.PICKER_REASONS],
        "message": message,
    }


@bp.get("/pick")
@requires("wms.pick")
def pick():
    return render_template("wms/pick/task.html", **_screen(_current_task()))


@bp.post("/pick/next")
@requires("wms.pick")
def pick_next():
    task = _current_task() or _claim_next()
    db.session.commit()
    if task is None:
        flash(_("Nothing to pick right now."), "info")
    return redirect(url_for("wms.pick"))


def _panel(message: str, *, ok: bool, bin_scan: str = "", status: int = 200):
    html = render_template("wms/pick/_result.html", message=message, ok=ok, bin_scan=bin_scan)
    return html, status


@bp.post("/pick/<int:task_id>/scan")
@requires("wms.pick")
def pick_scan(task_id: int):
    """First the bin (remembered in the form), then the item, which confirms the pick."""
    task = _own_task(task_id)
    scanned = request.form.get("scan", "")
    bin_scan = request.form.get("bin_scan", "")
    token = request.form.get("token", "")[:64]
    if task.status != PickStatus.PICKED and (
        task.status != PickStatus.CLAIMED or task.claimed_by != current_user.id
    ):
        return _panel(outbound.TaskNotYours().text, ok=False, status=409)
    try:
        if not bin_scan:
            found = outbound.scan_bin(db.session, task, scanned)
            return _panel(
                _("Bin %(bin)s. Now scan the item.", bin=found.code), ok=True, bin_scan=scanned.strip()
            )
        outbound.confirm_pick(
            db.session, task, picker_id=current_user.id, bin_scan=bin_scan, item_scan=scanned, token=token
        )
        sku = db.session.get(Sku, task.sku_id)
        following = _current_task() or _claim_next(task.wave_id)
        db.session.commit()
    except outbound.WrongItem as exc:
        db.session.rollback()
        return _panel(exc.text, ok=False, bin_scan=bin_scan, status=422)
    except DomainError as exc:
        db.session.rollback()
        return _panel(exc.text, ok=False, status=exc.status)
    message = _("Picked %(count)s × %(sku)s.", count=task.quantity, sku=sku.code)
    if following is None:
        message = " ".join([message, _("Nothing left to pick.")])
    if htmx:
        # The next task replaces the whole screen in place: no page load between scans.
        screen = render_template("wms/pick/_screen.html", **_screen(following, message=message))
        return screen, 200, {"HX-Retarget": "#pick-screen", "HX-Reswap": "outerHTML settle:0ms"}
    flash(message, "success")
    return redirect(url_for("wms.pick"))


@bp.post("/pick/<int:task_id>/short")
@requires("wms.pick")
def pick_short(task_id: int):
    task = _own_task(task_id)
    found = request.form.get("found", "").strip()
    try:
        new = outbound.report_short(
            db.session,
            task,
            picker_id=current_user.id,
            quantity_found=int(found) if found.isdigit() else -1,
            reason=request.form.get("reason", ""),
        )
        flagged = any(t.status == PickStatus.SHORT for t in new)
        _current_task() or _claim_next(task.wave_id)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return redirect(url_for("wms.pick"))
    if flagged:
        flash(
            _("Short pick recorded. No other bin holds the rest: the order line is flagged short."), "warning"
        )
    else:
        flash(_("Short pick recorded. The rest is planned from another bin."), "success")
    return redirect(url_for("wms.pick"))
