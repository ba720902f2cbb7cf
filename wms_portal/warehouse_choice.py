"""Which platform warehouse a desk or station page works on: ``?warehouse=<id>``, else the first one."""

from __future__ import annotations

from flask import abort, request

from marketplace.extensions import db
from marketplace.fulfillment import queries
from marketplace.inventory.models import Warehouse


def chosen_warehouse(*, required: bool = True) -> Warehouse | None:
    """The warehouse asked for (404 when it is not a platform warehouse), else the first; with none at all,
    404 when ``required``, else None."""
    chosen = request.values.get("warehouse", "")
    if chosen.isdigit():
        return queries.platform_warehouse(db.session, int(chosen))
    summaries = queries.platform_warehouses(db.session)
    if not summaries:
        if required:
            abort(404)
        return None
    return summaries[0].warehouse
