"""Merchant portal: a shop's owner and sub-accounts at /merchant, always inside their own tenant."""

from flask_babel import lazy_gettext as _l

from marketplace.identity.models import UserKind
from marketplace.web.auth import register_auth_routes
from marketplace.web.nav import NavItem, install_nav
from marketplace.web.portal import Portal, make_portal

PORTAL = Portal(
    name="merchant",
    kind=UserKind.MERCHANT,
    title=_l("Merchant centre"),
    home_endpoint="merchant.dashboard",
    is_tenant=True,
)
bp = make_portal(PORTAL, __name__, "/merchant")
register_auth_routes(bp, PORTAL)
install_nav(
    bp,
    [
        NavItem("merchant.dashboard", _l("Dashboard"), "dashboard.view"),
        NavItem("merchant.products_list", _l("Products"), "catalog.view"),
        NavItem("merchant.stock_list", _l("Stock"), "stock.view"),
        NavItem("merchant.orders_list", _l("Orders"), "orders.view"),
        NavItem("merchant.imports_page", _l("Import / export"), "catalog.import"),
        NavItem("merchant.reviews_list", _l("Reviews"), "reviews.reply"),
        NavItem("merchant.shop_settings", _l("Shop settings"), "shop.view"),
        NavItem("merchant.shipping_templates_list", _l("Shipping templates"), "shop.view"),
        NavItem("merchant.staff_list", _l("Sub-accounts"), "subaccounts.manage"),
        NavItem("merchant.api_keys_list", _l("API keys"), "api_keys.manage"),
        NavItem("merchant.webhook_settings", _l("Order webhook"), "webhooks.manage"),
        NavItem("merchant.audit_list", _l("Audit log"), "audit.view"),
    ],
)

from merchant_portal.views import (  # noqa: E402,F401  # noqa: E402,F401
    api_keys,
    audit,
    dashboard,
    imports,
    notifications,
    orders,
    products,
    reviews,
    shop,
    staff,
    stock,  # noqa: E402,F401
    webhooks,
)
