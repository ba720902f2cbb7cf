"""Sub-accounts: the owner creates the shop's staff accounts and gives them merchant roles."""

from __future__ import annotations

from flask import g, render_template, request

from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.identity import queries
from marketplace.identity.models import UserKind
from marketplace.web.user_admin import create_account, edit_account
from merchant_portal import bp


@bp.get("/staff")
@requires("subaccounts.manage")
def staff_list():
    page = queries.list_users(
        db.session,
        kind=UserKind.MERCHANT,
        tenant_id=g.tenant_id,
        search=request.args.get("q", ""),
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "merchant/staff/_rows.html" if htmx and request.args.get("before") else "merchant/staff/list.html"
    )
    return render_template(template, page=page)


@bp.route("/staff/new", methods=["GET", "POST"])
@requires("subaccounts.manage")
def staff_create():
    return create_account(
        UserKind.MERCHANT,
        tenant_id=g.tenant_id,
        edit_endpoint="merchant.staff_edit",
        template="users/create.html",
    )


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@requires("subaccounts.manage")
def staff_edit(user_id: int):
    # Another shop's account is a 404, exactly like an id that does not exist.
    user = queries.get_user(db.session, user_id, kind=UserKind.MERCHANT, tenant_id=g.tenant_id)
    return edit_account(
        user, can_manage=True, edit_endpoint="merchant.staff_edit", template="merchant/staff/edit.html"
    )
