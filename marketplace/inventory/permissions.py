"""Permission names of stock, as data."""

from flask_babel import lazy_gettext as _l

MERCHANT = {
    "stock.view": _l("See stock levels and the stock ledger"),
}
