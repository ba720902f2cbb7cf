"""Admin portal: platform staff at /admin, behind the IP allowlist."""

from flask_babel import lazy_gettext as _l

from marketplace.identity.models import UserKind
from marketplace.web.auth import register_auth_routes
from marketplace.web.nav import NavItem, install_nav
from marketplace.web.portal import Portal, make_portal

PORTAL = Portal(
    name="admin",
    kind=UserKind.STAFF,
    title=_l("Platform admin"),
    home_endpoint="admin.dashboard",
    check_ip_allowlist=True,
)
bp = make_portal(PORTAL, __name__, "/admin")
register_auth_routes(bp, PORTAL)
install_nav(
    bp,
    [
        NavItem("admin.dashboard", _l("Dashboard"), "dashboard.view"),
        NavItem("admin.merchants_list", _l("Merchants"), "merchants.view"),
        NavItem("admin.orders_list", _l("Orders"), "orders.view"),
        NavItem("admin.payments_list", _l("Payments"), "payments.view"),
        NavItem("admin.applications_list", _l("Shop applications"), "merchants.view"),
        NavItem("admin.approvals_list", _l("Product approval"), "catalog.approve"),
        NavItem("admin.categories_list", _l("Categories"), "catalog.view"),
        NavItem("admin.brands_list", _l("Brands"), "catalog.view"),
        NavItem("admin.reviews_list", _l("Reviews"), "reviews.moderate"),
        NavItem("admin.staff_list", _l("Staff"), "staff.view"),
        NavItem("admin.users_list", _l("Users"), "users.view"),
        NavItem("admin.roles_list", _l("Roles"), "roles.manage"),
        NavItem("admin.ip_rules_list", _l("IP allowlist"), "security.manage"),
        NavItem("admin.audit_list", _l("Audit log"), "audit.view"),
        NavItem("admin.jobs_overview", _l("Queues"), "jobs.view"),
    ],
)

from admin_portal.views import (  # noqa: E402,F401
    applications,
    approvals,
    audit,
    catalog_admin,
    dashboard,
    ip_rules,
    jobs,
    merchants,
    order_entry,
    order_review_rules,
    orders,
    payments,
    reviews,
    roles,
    users,
)
