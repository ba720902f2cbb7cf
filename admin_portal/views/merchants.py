"""Merchants across the platform: list, suspend and reopen."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin_portal import bp
from marketplace.core.errors import DomainError
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.merchants import queries, services


@bp.get("/merchants")
@requires("merchants.view")
def merchants_list():
    page = queries.list_merchants(
        db.session,
        status=request.args.get("status", ""),
        search=request.args.get("q", ""),
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "admin/merchants/_rows.html" if htmx and request.args.get("before") else "admin/merchants/list.html"
    )
    return render_template(template, page=page)


@bp.post("/merchants/<int:merchant_id>/suspend")
@requires("merchants.manage")
def merchant_suspend(merchant_id: int):
    merchant = queries.get_merchant(db.session, merchant_id)
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(_("Give a reason for the suspension."), "error")
        return redirect(url_for("admin.merchants_list"))
    try:
        services.suspend_merchant(db.session, merchant, reason=reason)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(_("%(name)s is suspended.", name=merchant.name), "success")
    return redirect(url_for("admin.merchants_list"))


@bp.post("/merchants/<int:merchant_id>/reopen")
@requires("merchants.manage")
def merchant_reopen(merchant_id: int):
    merchant = queries.get_merchant(db.session, merchant_id)
    try:
        services.reopen_merchant(db.session, merchant)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(_("%(name)s is open again.", name=merchant.name), "success")
    return redirect(url_for("admin.merchants_list"))
