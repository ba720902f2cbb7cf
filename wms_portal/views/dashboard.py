"""The handheld home screen."""

from flask import render_template

from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.reports.queries import warehouse_counts
from wms_portal import bp


@bp.get("/")
@requires("dashboard.view")
def dashboard():
    return render_template("wms/dashboard.html", counts=warehouse_counts(db.session))
