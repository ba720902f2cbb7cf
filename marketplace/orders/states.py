"""The order state machine as data: which status may follow which, and under what action name.

Keeping it a table (not scattered ``if`` statements) lets one function refuse every illegal step with the
same message, and lets the pages ask "may this order be cancelled?" before offering the button.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.orders.models import OrderStatus as S

# action -> (statuses it may start from, status it ends in)
TRANSITIONS: dict[str, tuple[frozenset[S], S]] = {
    "pay": (frozenset({S.PENDING_PAYMENT}), S.PAID),
    "hold_for_review": (frozenset({S.PAID}), S.UNDER_REVIEW),
    "release_to_warehouse": (frozenset({S.PAID, S.UNDER_REVIEW}), S.AWAITING_SHIPMENT),
    "ship_part": (frozenset({S.AWAITING_SHIPMENT, S.PARTIALLY_SHIPPED}), S.PARTIALLY_SHIPPED),
    "ship": (frozenset({S.AWAITING_SHIPMENT, S.PARTIALLY_SHIPPED}), S.SHIPPED),
    "receive": (frozenset({S.SHIPPED}), S.RECEIVED),
    "complete": (frozenset({S.RECEIVED}), S.COMPLETED),
    "cancel": (frozenset({S.PENDING_PAYMENT, S.PAID, S.UNDER_REVIEW, S.AWAITING_SHIPMENT}), S.CANCELLED),
    "close": (frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.RECEIVED}), S.CLOSED),
}

# Statuses in which the shopper may still change the address or the note.
EDITABLE = frozenset({S.PENDING_PAYMENT, S.PAID, S.UNDER_REVIEW, S.AWAITING_SHIPMENT})
# Statuses after which nothing more happens.
FINAL = frozenset({S.COMPLETED, S.CANCELLED, S.CLOSED})


def may(action: str, status: S) -> bool:
    """Whether ``action`` is allowed from ``status`` (for showing or hiding buttons)."""
    sources, _target = TRANSITIONS[action]
    return status in sources


# How statuses and actions read in messages ("Order N is shipped; it cannot be cancelled now").
STATUS_LABELS = {
    S.PENDING_PAYMENT: _l("awaiting payment"),
    S.PAID: _l("paid"),
    S.UNDER_REVIEW: _l("under review"),
    S.AWAITING_SHIPMENT: _l("awaiting shipment"),
    S.PARTIALLY_SHIPPED: _l("partially shipped"),
    S.SHIPPED: _l("shipped"),
    S.RECEIVED: _l("received"),
    S.COMPLETED: _l("completed"),
    S.CANCELLED: _l("cancelled"),
    S.CLOSED: _l("closed"),
}
ACTION_LABELS = {
    "pay": _l("paid"),
    "hold_for_review": _l("held for review"),
    "release_to_warehouse": _l("released to the warehouse"),
    "ship_part": _l("shipped"),
    "ship": _l("shipped"),
    "receive": _l("marked received"),
    "complete": _l("completed"),
    "cancel": _l("cancelled"),
    "close": _l("closed"),
    "edit": _l("changed"),
}
