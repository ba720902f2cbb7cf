"""Jinja filters and globals every portal's templates use."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, request
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from marketplace.core.db import Money


def money(amount: int | Money | None, currency: str | None = None) -> str:
    """Integer minor units as a price, CNY by default: ``12345`` → ``¥123.45``."""
    if amount is None:
        return "—"
    if isinstance(amount, Money):
        return amount.format()
    return Money(int(amount), currency or current_app.config["DEFAULT_CURRENCY"]).format()


def when(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, fmt) if value else "—"


def url_with(**changes) -> str:
    """The current URL with some query arguments replaced (filters, pagination links)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    from urllib.parse import urlencode

    query = urlencode(args)
    return request.path + (f"?{query}" if query else "")


# Stored codes (statuses, user kinds) and the words people read for them.
LABELS = {
    "active": _l("Active"),
    "pending": _l("Pending"),
    "suspended": _l("Suspended"),
    "draft": _l("Draft"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "staff": _l("Platform staff"),
    "merchant": _l("Merchants"),
    "warehouse": _l("Warehouse"),
    "shopper": _l("Shoppers"),
    "system": _l("System"),
    "anonymous": _l("Anonymous"),
    # orders
    "pending_payment": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "under_review": _l("Under review"),
    "awaiting_shipment": _l("Awaiting shipment"),
    "partially_shipped": _l("Partially shipped"),
    "shipped": _l("Shipped"),
    "received": _l("Received"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "closed": _l("Closed"),
    "storefront": _l("Storefront"),
    "phone": _l("Phone order"),
    "group_buy": _l("Group buy"),
    "gift": _l("Gift order"),
    # payments
    "gift_card": _l("Gift card"),
    "points": _l("Points"),
    "balance": _l("Balance"),
    "gateway": _l("Online payment"),
    "held": _l("Held"),
    "awaiting": _l("Awaiting"),
    "captured": _l("Captured"),
    "released": _l("Released"),
    "failed": _l("Failed"),
    "expired": _l("Expired"),
    "refunded": _l("Refunded"),
}


def label(code: str) -> str:
    return str(LABELS.get(code, code))


def install(app: Flask) -> None:
    app.add_template_filter(label, "label")
    app.add_template_filter(yuan, "yuan")
    app.add_template_global(image_url, "image_url")
    app.add_template_filter(money, "money")
    app.add_template_filter(when, "when")
    app.add_template_global(url_with, "url_with")

    @app.context_processor
    def globals_():
        locale = get_locale()
        return {"current_locale": str(locale) if locale else "zh_Hans", "languages": app.config["LANGUAGES"]}


def image_url(key: str | None, variant: str = "") -> str:
    """Public URL of a stored product image (served by the storefront's media route)."""
    if not key:
        return ""
    return f"/media/{key}/{variant}" if variant else f"/media/{key}"


def yuan(amount: int | None) -> str:
    """Minor units as a plain decimal for form inputs: 1250 → "12.50"."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 100)
    return f"{sign}{major}.{minor:02d}"
