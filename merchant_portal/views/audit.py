"""The shop's own audit log: only entries of this tenant."""

from flask import g

from marketplace.core.permissions import requires
from marketplace.web.audit_views import render_audit_log
from merchant_portal import bp


@bp.get("/audit")
@requires("audit.view")
def audit_list():
    return render_audit_log(tenant_id=g.tenant_id, show_tenant=False)
