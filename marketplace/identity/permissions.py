"""Permission names of the identity domain (users, roles, security, audit, jobs), as data."""

from flask_babel import lazy_gettext as _l

PLATFORM = {
    "dashboard.view": _l("See the dashboard"),
    "staff.view": _l("See platform staff"),
    "staff.manage": _l("Create and change platform staff"),
    "users.view": _l("See shoppers and warehouse staff"),
    "users.manage": _l("Change shoppers and warehouse staff"),
    "roles.manage": _l("Create and change roles"),
    "security.manage": _l("Manage the admin IP allowlist"),
    "audit.view": _l("Read the audit log"),
    "jobs.view": _l("See job queues and failed jobs"),
    "jobs.retry": _l("Retry failed jobs"),
}

MERCHANT = {
    "dashboard.view": _l("See the dashboard"),
    "subaccounts.manage": _l("Create sub-accounts and assign their roles"),
    "audit.view": _l("Read the shop's audit log"),
}

WAREHOUSE = {
    "dashboard.view": _l("See the dashboard"),
}
