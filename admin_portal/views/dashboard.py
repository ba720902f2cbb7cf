"""Admin dashboard: the platform's counts at a glance."""

from flask import render_template

from admin_portal import bp
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.reports.queries import platform_counts


@bp.get("/")
@requires("dashboard.view")
def dashboard():
    return render_template("admin/dashboard.html", counts=platform_counts(db.session))
