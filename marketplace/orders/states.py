"""The order state machine as data: which status may follow which, and under what action name.

Keeping it a table (not scattered ``if`` statements) lets one function refuse every illegal step with the
same message, and lets the pages ask "may this order be cancelled?" before offering the button.
"""

from __future__ import annotations

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
