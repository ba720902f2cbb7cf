"""Permission names of orders, as data."""

from flask_babel import lazy_gettext as _l

PLATFORM = {
    "orders.view": _l("See all orders"),
    "orders.manage": _l("Mark orders invalid, remove invalid orders, cancel orders"),
    "orders.restore": _l("Restore removed orders"),
    "orders.review": _l("Approve or reject orders held for review"),
    "orders.create": _l("Enter phone, group-buy and gift orders"),
}

MERCHANT = {
    "orders.view": _l("See the shop's orders"),
    "orders.ship": _l("Ship orders and print packing slips"),
    "orders.cancel": _l("Cancel orders before shipment"),
    "webhooks.manage": _l("Configure the order webhook and redeliver pushes"),
}
