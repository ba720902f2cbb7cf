"""Platform staff and the other user kinds: list, create, edit roles and status, unlock."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from admin_portal import bp
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.identity import queries, services
from marketplace.identity.models import UserKind
from marketplace.web.user_admin import create_account, edit_account

# Staff are managed under staff.*; warehouse staff, merchant accounts and shoppers under users.*.
OTHER_KINDS = {"warehouse": UserKind.WAREHOUSE, "shopper": UserKind.SHOPPER, "merchant": UserKind.MERCHANT}


def _list(kind: UserKind, list_endpoint: str):
    page = queries.list_users(
        db.session,
        kind=kind,
        search=request.args.get("q", ""),
        before=parse_cursor(request.args.get("before")),
    )
    template = "admin/users/_rows.html" if htmx and request.args.get("before") else "admin/users/list.html"
    return render_template(template, page=page, kind=kind, list_endpoint=list_endpoint)


def _kind_from_args() -> UserKind:
    kind = OTHER_KINDS.get(request.args.get("kind", "warehouse"))
    if kind is None:
        abort(404)
    return kind


@bp.get("/staff")
@requires("staff.view")
def staff_list():
    return _list(UserKind.STAFF, "admin.staff_list")


@bp.get("/users")
@requires("users.view")
def users_list():
    return _list(_kind_from_args(), "admin.users_list")


@bp.route("/staff/new", methods=["GET", "POST"])
@requires("staff.manage")
def staff_create():
    return create_account(
        UserKind.STAFF, tenant_id=None, edit_endpoint="admin.user_edit", template="users/create.html"
    )


@bp.route("/users/new", methods=["GET", "POST"])
@requires("users.manage")
def user_create():
    if _kind_from_args() is not UserKind.WAREHOUSE:
        abort(404)  # shoppers sign up themselves; merchant accounts come with their shop
    return create_account(
        UserKind.WAREHOUSE, tenant_id=None, edit_endpoint="admin.user_edit", template="users/create.html"
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.view")
def user_edit(user_id: int):
    user = queries.get_user(db.session, user_id)
    is_staff = user.kind is UserKind.STAFF
    if is_staff and not current_user.can("staff.view"):
        abort(403)
    can_manage = current_user.can("staff.manage" if is_staff else "users.manage")
    return edit_account(
        user, can_manage=can_manage, edit_endpoint="admin.user_edit", template="admin/users/edit.html"
    )


@bp.post("/users/<int:user_id>/unlock")
@requires("users.manage")
def user_unlock(user_id: int):
    user = queries.get_user(db.session, user_id)
    if user.kind is UserKind.STAFF and not current_user.can("staff.manage"):
        abort(403)
    services.unlock_user(db.session, user)
    db.session.commit()
    flash(_("Account unlocked."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))
