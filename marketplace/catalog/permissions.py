"""Permission names of the catalogue, as data."""

from flask_babel import lazy_gettext as _l

PLATFORM = {
    "catalog.view": _l("See all products"),
    "catalog.approve": _l("Approve and reject products and their edits"),
    "catalog.manage": _l("Manage categories, brands and tags"),
}

MERCHANT = {
    "catalog.view": _l("See the shop's products"),
    "catalog.edit": _l("Create and edit products, submit them for approval"),
    "catalog.list": _l("List and unlist approved products"),
    "catalog.import": _l("Import and export products"),
    "stock.edit": _l("Change stock"),
}
