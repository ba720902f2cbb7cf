"""WMS portal: warehouse staff on handheld browsers at /wms."""

from flask_babel import lazy_gettext as _l

from marketplace.identity.models import UserKind
from marketplace.web.auth import register_auth_routes
from marketplace.web.nav import NavItem, install_nav
from marketplace.web.portal import Portal, make_portal

PORTAL = Portal(name="wms", kind=UserKind.WAREHOUSE, title=_l("Warehouse"), home_endpoint="wms.dashboard")
bp = make_portal(PORTAL, __name__, "/wms")
register_auth_routes(bp, PORTAL)
install_nav(
    bp,
    [
        NavItem("wms.dashboard", _l("Home"), "dashboard.view"),
        NavItem("wms.setup_warehouses", _l("Warehouse setup"), "wms.setup"),
        NavItem("wms.purchasing_orders", _l("Purchasing"), "purchasing.view"),
        NavItem("wms.outbound_desk", _l("Outbound"), "wms.setup"),
        NavItem("wms.transfers_list", _l("Transfers"), "wms.setup"),
        NavItem("wms.counts_desk", _l("Counts"), "wms.adjust"),
        NavItem("wms.stock_list", _l("Stock"), "wms.stock"),
        NavItem("wms.handheld_receive", _l("Receive"), "wms.receive"),
        NavItem("wms.handheld_putaway", _l("Put away"), "wms.putaway"),
        NavItem("wms.pick", _l("Pick"), "wms.pick"),
        NavItem("wms.pack", _l("Pack"), "wms.pack"),
        NavItem("wms.handheld_count", _l("Count"), "wms.count"),
    ],
)

from wms_portal.views import (  # noqa: E402,F401
    counts,
    dashboard,
    handheld,
    outbound,
    pack,
    pick,
    purchasing,
    setup,
    stock,
    transfers,
)
