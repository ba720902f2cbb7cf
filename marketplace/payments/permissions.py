"""Permission names of payments, as data."""

from flask_babel import lazy_gettext as _l

PLATFORM = {
    "payments.view": _l("See payments, gift cards and gateway callbacks"),
    "payments.manage": _l("Issue gift cards and adjust shopper balances and points"),
}
