"""The permission catalogue of each portal and the default roles, as data.

Roles are written as patterns over the catalogue (``orders.*``), so a permission a later domain adds
joins the right default roles when ``flask seed-roles`` (part of ``seed-demo``) runs again.
"""

from __future__ import annotations

from fnmatch import fnmatch

from marketplace.catalog import permissions as catalog_permissions
from marketplace.core.errors import N_
from marketplace.fulfillment import permissions as fulfillment_permissions
from marketplace.identity import permissions as identity_permissions
from marketplace.identity.models import UserKind
from marketplace.inventory import permissions as inventory_permissions
from marketplace.merchants import permissions as merchant_permissions
from marketplace.orders import permissions as order_permissions
from marketplace.payments import permissions as payment_permissions
from marketplace.purchasing import permissions as purchasing_permissions
from marketplace.reviews import permissions as review_permissions

_DOMAINS = (
    identity_permissions,
    merchant_permissions,
    catalog_permissions,
    inventory_permissions,
    order_permissions,
    payment_permissions,
    fulfillment_permissions,
    purchasing_permissions,
    review_permissions,
)


def catalogue(kind: UserKind) -> dict[str, str]:
    """All permission names (with labels) that roles of ``kind`` may hold."""
    attr = {UserKind.STAFF: "PLATFORM", UserKind.MERCHANT: "MERCHANT", UserKind.WAREHOUSE: "WAREHOUSE"}.get(
        kind
    )
    merged: dict[str, str] = {}
    if attr is None:
        return merged
    for module in _DOMAINS:
        merged.update(getattr(module, attr, {}))
    return dict(sorted(merged.items()))


DEFAULT_ROLES: dict[UserKind, dict[str, tuple[str, tuple[str, ...]]]] = {
    UserKind.STAFF: {
        "super_admin": (N_("Super admin"), ("*",)),
        "operations": (
            "Operations",
            (
                "dashboard.view",
                "merchants.*",
                "catalog.*",
                "orders.view",
                "orders.manage",
                "orders.review",
                "orders.create",
                "reviews.*",
                "content.view",
                "users.view",
            ),
        ),
        "finance": (
            "Finance",
            ("dashboard.view", "finance.*", "settlement.*", "payments.*", "orders.view", "merchants.view"),
        ),
        "customer_service": (
            "Customer service",
            (
                "dashboard.view",
                "orders.view",
                "orders.review",
                "orders.create",
                "payments.view",
                "aftersales.*",
                "reviews.*",
                "users.view",
            ),
        ),
        "content_editor": (N_("Content editor"), ("dashboard.view", "content.*")),
    },
    UserKind.MERCHANT: {
        "owner": (N_("Owner"), ("*",)),
        "operator": (
            N_("Operator"),
            ("dashboard.view", "shop.view", "catalog.*", "stock.*", "orders.*", "reviews.*"),
        ),
        "finance": (N_("Finance"), ("dashboard.view", "shop.view", "finance.*", "orders.view")),
        "customer_service": (
            N_("Customer service"),
            ("dashboard.view", "orders.view", "orders.cancel", "aftersales.*", "reviews.*"),
        ),
    },
    UserKind.WAREHOUSE: {
        "supervisor": (N_("Supervisor"), ("*",)),
        "receiver": (
            N_("Receiver"),
            ("dashboard.view", "wms.receive", "wms.putaway", "wms.stock", "purchasing.view"),
        ),
        "picker": (N_("Picker"), ("dashboard.view", "wms.pick")),
        "packer": (N_("Packer"), ("dashboard.view", "wms.pack")),
        "counter": (N_("Counter"), ("dashboard.view", "wms.count")),
    },
}


def expand(kind: UserKind, patterns: tuple[str, ...] | list[str]) -> list[str]:
    names = catalogue(kind)
    return sorted(n for n in names if any(fnmatch(n, p) for p in patterns))
