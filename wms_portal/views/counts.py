"""Cycle counts and stock adjustments.

The supervisor's desk (``wms.adjust``) lists counts, creates one for some bins, a zone or a SKU, reviews the
variances of a submitted count (approve or reject each with a reason) and adjusts a bin's stock by hand. The
handheld page (``wms.count``) is a blind count: scan a bin, then items (the quantity field says how many per
scan, 1 by default); every scan is one htmx POST that swaps only the result panel and carries a one-time token,
so a double Enter counts once. The expected quantity is never sent to the counter's browser.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.catalog.models import Sku
from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.fulfillment import counts, queries
from marketplace.fulfillment.count_models import CountDecision, CountScope, CountStatus, CycleCountLine
from marketplace.fulfillment.putaway import UnknownBin
from marketplace.inventory.models import MAX_UNITS
from wms_portal import bp
from wms_portal.scanning import new_token
from wms_portal.warehouse_choice import chosen_warehouse

STATUSES = {
    CountStatus.OPEN: _l("Counting"),
    CountStatus.COUNTED: _l("To review"),
    CountStatus.CLOSED: _l("Closed"),
}
SCOPES = {CountScope.BINS: _l("Bins"), CountScope.ZONE: _l("Zone"), CountScope.SKU: _l("SKU")}
DECISIONS = {CountDecision.APPROVED: _l("Approved"), CountDecision.REJECTED: _l("Rejected")}


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.strip().isdigit()]


# --- desk ---------------------------------------------------------------------------------------------------


@bp.get("/counts")
@requires("wms.adjust")
def counts_desk():
    warehouse = chosen_warehouse(required=False)
    if warehouse is None:
        return render_template("wms/counts/desk.html", warehouse=None)
    return render_template(
        "wms/counts/desk.html",
        warehouse=warehouse,
        warehouses=[s.warehouse for s in queries.platform_warehouses(db.session)],
        counts=counts.recent_counts(db.session, warehouse.id),
        zones=queries.zones(db.session, warehouse.id),
        bins=queries.bins(db.session, warehouse.id, active_only=True),
        statuses=STATUSES,
        scopes=SCOPES,
    )


def _sku_for_count(warehouse_id: int, scanned: str) -> int | None:
    scanned = scanned.strip()
    return counts.item_by_code(db.session, warehouse_id, scanned).id if scanned else None


@bp.post("/counts")
@requires("wms.adjust")
def counts_create():
    warehouse = chosen_warehouse()
    form = request.form
    try:
        scope = CountScope(form.get("scope", ""))
    except ValueError:
        scope = CountScope.BINS
    zone_id = form.get("zone", "")
    try:
        count = counts.create_count(
            db.session,
            warehouse,
            scope=scope,
            bin_ids=_ids(form.getlist("bins")),
            zone_id=int(zone_id) if zone_id.isdigit() else None,
            sku_id=_sku_for_count(warehouse.id, form.get("sku", "")) if scope == CountScope.SKU else None,
            note=form.get("note", ""),
            actor_id=current_user.id,
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return redirect(url_for("wms.counts_desk", warehouse=warehouse.id))
    db.session.commit()
    flash(_("Count %(number)s created: the counters can start.", number=count.number), "success")
    return redirect(url_for("wms.counts_review", count_id=count.id))


@bp.get("/counts/<int:count_id>")
@requires("wms.adjust")
def counts_review(count_id: int):
    count = counts.get_count(db.session, count_id)
    rows = counts.lines_in(db.session, count)
    return render_template(
        "wms/counts/review.html",
        count=count,
        rows=rows,
        variances=[r for r in rows if r[0].variance],
        statuses=STATUSES,
        scopes=SCOPES,
        decisions=DECISIONS,
    )


@bp.post("/counts/<int:count_id>/lines/<int:line_id>")
@requires("wms.adjust")
def counts_decide(count_id: int, line_id: int):
    line = db.session.get(CycleCountLine, line_id)
    if line is None or line.count_id != count_id:
        abort(404)
    approve = request.form.get("decision") == "approve"
    try:
        counts.review(
            db.session, line, approve=approve, reason=request.form.get("reason", ""), actor_id=current_user.id
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return redirect(url_for("wms.counts_review", count_id=count_id))
    db.session.commit()
    flash(_("Variance approved: stock adjusted.") if approve else _("Variance rejected."), "success")
    return redirect(url_for("wms.counts_review", count_id=count_id))


@bp.get("/counts/adjust")
@requires("wms.adjust")
def counts_adjust():
    warehouse = chosen_warehouse(required=False)
    return render_template("wms/counts/adjust.html", warehouse=warehouse, form={}, error=None)


@bp.post("/counts/adjust")
@requires("wms.adjust")
def counts_adjust_post():
    warehouse = chosen_warehouse()
    form = request.form
    delta_text = form.get("delta", "").strip()
    try:
        bin_ = queries.bin_by_barcode(db.session, warehouse.id, form.get("bin", ""))
        if bin_ is None:
            raise UnknownBin(scanned=form.get("bin", "").strip())
        sku = counts.item_by_code(db.session, warehouse.id, form.get("sku", ""), bin_id=bin_.id)
        delta = int(delta_text) if delta_text.lstrip("-").isdigit() else 0
        quantity = counts.manual_adjust(
            db.session,
            bin_=bin_,
            sku=sku,
            delta=delta,
            reason=form.get("reason", ""),
            actor_id=current_user.id,
        )
    except DomainError as exc:
        db.session.rollback()
        return render_template(
            "wms/counts/adjust.html", warehouse=warehouse, form=form, error=exc.text
        ), exc.status
    db.session.commit()
    flash(
        _("%(sku)s in %(bin)s adjusted by %(delta)s: now %(quantity)s.", sku=sku.code, bin=bin_.code,
          delta=f"{delta:+d}", quantity=quantity),
        "success",
    )  # fmt: skip
    return redirect(url_for("wms.counts_adjust", warehouse=warehouse.id))


# --- handheld: blind count ------------------------------------------------------------------------------------


@bp.get("/count")
@requires("wms.count")
def handheld_count():
    return render_template(
        "wms/counts/handheld_list.html", counts=counts.open_counts(db.session), scopes=SCOPES
    )


def _open_count(count_id: int):
    count = counts.get_count(db.session, count_id)
    if count.status != CountStatus.OPEN:
        flash(counts.CountNotOpen(number=count.number).text, "info")
        return None
    return count


def _progress(count) -> tuple[list, set[int]]:
    """The count's bins in route order and those already scanned (no quantities: the count is blind)."""
    in_scope = set(count.bin_ids or [])
    bins = [b for b in queries.bins(db.session, count.warehouse_id, active_only=True) if b.id in in_scope]
    return bins, counts.counted_bins(db.session, count)


@bp.get("/count/<int:count_id>")
@requires("wms.count")
def handheld_count_page(count_id: int):
    count = _open_count(count_id)
    if count is None:
        return redirect(url_for("wms.handheld_count"))
    bins, done = _progress(count)
    sku = db.session.get(Sku, count.sku_id) if count.sku_id else None
    return render_template(
        "wms/counts/handheld_count.html", count=count, bins=bins, done=done, sku=sku, token=new_token()
    )


def _panel(message: str, *, ok: bool, bin_scan: str, status: int = 200):
    html = render_template(
        "wms/counts/_scan_result.html", message=message, ok=ok, bin_scan=bin_scan, token=new_token()
    )
    return html, status


def _quantity(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return 1
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_UNITS else None


@bp.post("/count/<int:count_id>/scan")
@requires("wms.count")
def handheld_count_scan(count_id: int):
    """A bin label switches the bin; anything else is an item counted in the current bin."""
    count = counts.get_count(db.session, count_id)
    scanned = request.form.get("scan", "").strip()
    bin_scan = request.form.get("bin_scan", "").strip()
    try:
        if queries.bin_by_barcode(db.session, count.warehouse_id, scanned) is not None:
            found = counts.scan_bin(db.session, count, scanned)
            return _panel(_("Bin %(bin)s. Now scan the items.", bin=found.code), ok=True, bin_scan=scanned)
        if not bin_scan:
            return _panel(_("Scan a bin first."), ok=False, bin_scan="", status=422)
        quantity = _quantity(request.form.get("qty"))
        result = counts.record_count(
            db.session, count, bin_scan=bin_scan, item_scan=scanned,
            quantity=-1 if quantity is None else quantity, token=request.form.get("token", ""),
            actor_id=current_user.id,
        )  # fmt: skip
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _panel(exc.text, ok=False, bin_scan=bin_scan, status=exc.status)
    if result.repeated:
        return _panel(_("Already counted."), ok=True, bin_scan=bin_scan)
    message = _(
        "%(sku)s: %(count)s counted in %(bin)s.",
        sku=result.sku.code,
        count=result.line.counted_quantity,
        bin=result.bin.code,
    )
    return _panel(message, ok=True, bin_scan=bin_scan)


@bp.post("/count/<int:count_id>/submit")
@requires("wms.count")
def handheld_count_submit(count_id: int):
    count = counts.get_count(db.session, count_id)
    try:
        counts.submit(db.session, count, actor_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return _leave(url_for("wms.handheld_count"))
    db.session.commit()
    flash(_("Count %(number)s submitted for review.", number=count.number), "success")
    return _leave(url_for("wms.handheld_count"))


def _leave(url: str):
    """A full redirect, also when the request came from htmx."""
    if htmx:
        return "", 200, {"HX-Redirect": url}
    return redirect(url)
