"""The handheld home screen: one big button per task the user may do, with the work waiting on it."""

from __future__ import annotations

from typing import NamedTuple

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.fulfillment.work import work_counts
from marketplace.reports.queries import warehouse_counts
from wms_portal import bp


class Tile(NamedTuple):
    endpoint: str
    label: str
    permission: str
    count: str | None  # the key of work_counts shown on the tile


TILES = (
    Tile("wms.handheld_receive", _l("Receive a purchase order"), "wms.receive", None),
    Tile("wms.returns_receive", _l("Receive a customer return"), "wms.receive", None),
    Tile("wms.transfer_receive", _l("Receive a transfer"), "wms.receive", "transfers"),
    Tile("wms.handheld_putaway", _l("Put away"), "wms.putaway", "putaway"),
    Tile("wms.outbound_desk", _l("Release waves"), "wms.setup", "pool"),
    Tile("wms.pick", _l("Pick"), "wms.pick", "pick"),
    Tile("wms.pack", _l("Pack and ship"), "wms.pack", "pack"),
    Tile("wms.handheld_count", _l("Count"), "wms.count", "counts"),
    Tile("wms.stock_list", _l("Stock"), "wms.stock", None),
)


@bp.get("/")
@requires("dashboard.view")
def dashboard():
    tiles = [tile for tile in TILES if current_user.can(tile.permission)]
    return render_template(
        "wms/dashboard.html",
        tiles=tiles,
        work=work_counts(db.session) if any(tile.count for tile in tiles) else {},
        counts=warehouse_counts(db.session),
    )
