"""Permission names of the reviews domain, as data."""

from flask_babel import lazy_gettext as _l

PLATFORM = {
    "reviews.moderate": _l("Approve and hide product reviews"),
}

MERCHANT = {
    "reviews.reply": _l("Reply to reviews of the shop's products"),
}
