"""Permission names of the warehouse, as data."""

from flask_babel import lazy_gettext as _l

PLATFORM = {
    "wms.view": _l("See warehouses, bins and bin stock"),
    "wms.setup": _l("Set up warehouses, zones and bins"),
}

WAREHOUSE = {
    "wms.setup": _l("Set up zones and bins, print bin labels"),
    "wms.receive": _l("Receive goods"),
    "wms.putaway": _l("Put goods away"),
    "wms.pick": _l("Pick orders"),
    "wms.pack": _l("Check, weigh, pack and ship orders"),
    "wms.count": _l("Count stock"),
    "wms.adjust": _l("Approve count variances and adjust stock"),
    "wms.stock": _l("See stock by SKU and bin, the stock ledger and the stock reports"),
}
