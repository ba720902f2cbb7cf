"""Permission names of the merchants domain, as data."""

from flask_babel import lazy_gettext as _l

PLATFORM = {
    "merchants.view": _l("See merchants"),
    "merchants.manage": _l("Approve, suspend and reopen merchants"),
}

MERCHANT = {
    "shop.view": _l("See shop settings"),
    "shop.manage": _l("Change shop settings"),
    "api_keys.manage": _l("Create and revoke API keys"),
}

# What an API key may be granted: the merchant permissions the API uses.
API_SCOPES = (
    "shop.view",
    "catalog.view",
    "catalog.edit",
    "stock.view",
    "stock.edit",
    "orders.view",
    "orders.ship",
    "orders.cancel",
)
