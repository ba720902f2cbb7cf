"""Permission names of purchasing, as data."""

from flask_babel import lazy_gettext as _l

PLATFORM = {
    "purchasing.view": _l("See suppliers and purchase orders"),
    "purchasing.manage": _l("Manage suppliers and purchase orders"),
    "purchasing.approve": _l("Approve purchase orders"),
}

WAREHOUSE = {
    "purchasing.view": _l("See purchase orders"),
    "purchasing.manage": _l("Manage suppliers and purchase orders"),
    "purchasing.approve": _l("Approve purchase orders and confirm over-receipts"),
}
