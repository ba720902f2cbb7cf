"""The supervisor's outbound desk: the pool of orders waiting to be picked, releasing waves, the printable
pick list of a wave in bin-route order."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.fulfillment import outbound, outbound_queries, queries
from marketplace.fulfillment.models import PickStatus, Wave
from wms_portal import bp
from wms_portal.warehouse_choice import chosen_warehouse

WAVES_SHOWN = 50


def _wave(wave_id: int) -> Wave:
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        abort(404)
    queries.platform_warehouse(db.session, wave.warehouse_id)
    return wave


def _progress(wave_ids: list[int]) -> dict[int, dict[str, int]]:
    return outbound_queries.wave_progress(db.session, wave_ids)


@bp.get("/outbound")
@requires("wms.setup")
def outbound_desk():
    warehouse = chosen_warehouse(required=False)
    if warehouse is None:
        return render_template("wms/outbound/desk.html", warehouse=None)
    pool = outbound.outbound_pool(db.session, warehouse.id)
    waves = outbound_queries.recent_waves(db.session, warehouse.id, WAVES_SHOWN)
    return render_template(
        "wms/outbound/desk.html",
        warehouse=warehouse,
        warehouses=[s.warehouse for s in queries.platform_warehouses(db.session)],
        pool=pool,
        carriers=sorted({p.carrier for p in pool}),
        total=sum(p.orders for p in pool),
        waves=waves,
        progress=_progress([w.id for w in waves]),
        max_wave=outbound.MAX_WAVE,
    )


def _cutoff(value: str) -> datetime | None:
    """A ``datetime-local`` value in the warehouse's time zone; ValueError when it is not one."""
    value = (value or "").strip()
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=get_timezone())


@bp.post("/outbound/waves")
@requires("wms.setup")
def outbound_release():
    warehouse = chosen_warehouse()
    form = request.form
    lines = form.get("lines", "")
    limit = form.get("limit", "").strip()
    try:
        cutoff = _cutoff(form.get("cutoff", ""))
        limit_value = int(limit) if limit else 500
        if not 0 < limit_value <= outbound.MAX_WAVE:
            raise ValueError(limit)
    except ValueError:
        flash(
            _("Enter a valid cut-off time and a wave size of 1 to %(max)s orders.", max=outbound.MAX_WAVE),
            "error",
        )
        return redirect(url_for("wms.outbound_desk", warehouse=warehouse.id))
    try:
        wave = outbound.release_wave(
            db.session,
            warehouse,
            carrier=form.get("carrier") or None,
            cutoff=cutoff,
            single_line={"single": True, "multi": False}.get(lines),
            limit=limit_value,
            created_by_id=current_user.id,
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return redirect(url_for("wms.outbound_desk", warehouse=warehouse.id))
    count = _progress([wave.id])[wave.id]["orders"]
    flash(_("Wave %(number)s released with %(count)s orders.", number=wave.number, count=count), "success")
    return redirect(url_for("wms.outbound_wave", wave_id=wave.id))


def _task_rows(wave: Wave, *, open_only: bool = False):
    return outbound_queries.wave_tasks(db.session, wave.id, open_only=open_only)


def _status_labels() -> dict[PickStatus, str]:
    return {
        PickStatus.OPEN: _("Open"),
        PickStatus.CLAIMED: _("Being picked"),
        PickStatus.PICKED: _("Picked"),
        PickStatus.SHORT: _("Short"),
    }


@bp.get("/outbound/waves/<int:wave_id>")
@requires("wms.setup")
def outbound_wave(wave_id: int):
    wave = _wave(wave_id)
    return render_template(
        "wms/outbound/wave.html",
        wave=wave,
        rows=_task_rows(wave),
        progress=_progress([wave.id])[wave.id],
        statuses=_status_labels(),
        reasons=outbound.SHORT_REASONS,
    )


@bp.get("/outbound/waves/<int:wave_id>/pick-list")
@requires("wms.setup")
def outbound_pick_list(wave_id: int):
    wave = _wave(wave_id)
    return render_template("wms/outbound/pick_list.html", wave=wave, rows=_task_rows(wave, open_only=True))
