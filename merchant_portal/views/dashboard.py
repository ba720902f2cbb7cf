"""The shop's dashboard."""

from flask import g, render_template

from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.merchants.queries import get_merchant
from marketplace.reports.queries import merchant_counts
from merchant_portal import bp


@bp.app_context_processor
def shop_context():
    tenant_id = g.get("tenant_id")
    if tenant_id is None or g.get("portal") is None or g.portal.name != "merchant":
        return {}
    return {"current_shop": get_merchant(db.session, tenant_id)}


@bp.get("/")
@requires("dashboard.view")
def dashboard():
    return render_template("merchant/dashboard.html", counts=merchant_counts(db.session, g.tenant_id))
