"""The platform-wide audit log."""

from admin_portal import bp
from marketplace.core.permissions import requires
from marketplace.web.audit_views import render_audit_log


@bp.get("/audit")
@requires("audit.view")
def audit_list():
    return render_audit_log(tenant_id=None, show_tenant=True)
