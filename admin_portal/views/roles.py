"""Roles: the system roles (read-only names, editable permissions) and custom roles of each user kind."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from admin_portal import bp
from admin_portal.forms import RoleForm
from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.identity import queries, services
from marketplace.identity.models import UserKind
from marketplace.identity.roles import catalogue

ROLE_KINDS = (UserKind.STAFF, UserKind.MERCHANT, UserKind.WAREHOUSE)


@bp.get("/roles")
@requires("roles.manage")
def roles_list():
    roles = {kind: queries.roles_for(db.session, kind) for kind in ROLE_KINDS}
    return render_template(
        "admin/roles/list.html", roles=roles, catalogues={k: catalogue(k) for k in ROLE_KINDS}
    )


def _form_for(kind: UserKind, role=None) -> RoleForm:
    form = RoleForm(obj=role)
    form.kind.data = form.kind.data or kind.value
    chosen = UserKind(form.kind.data) if form.kind.data in {k.value for k in ROLE_KINDS} else kind
    form.permissions.choices = [(name, f"{name} — {label}") for name, label in catalogue(chosen).items()]
    if role is not None and request.method == "GET":
        form.permissions.data = list(role.permissions)
    return form


@bp.route("/roles/new", methods=["GET", "POST"])
@requires("roles.manage")
def role_create():
    kind = (
        UserKind(request.args.get("kind", "staff"))
        if request.args.get("kind") in {"staff", "merchant", "warehouse"}
        else UserKind.STAFF
    )
    form = _form_for(kind)
    if form.validate_on_submit():
        try:
            role = services.save_role(
                db.session,
                kind=UserKind(form.kind.data),
                name=form.name.data,
                permissions=form.permissions.data,
            )
        except DomainError as exc:
            db.session.rollback()
            form.permissions.errors.append(exc.text)
        else:
            db.session.commit()
            flash(_("Role %(name)s created.", name=role.name), "success")
            return redirect(url_for("admin.roles_list"))
    return render_template(
        "admin/roles/form.html", form=form, role=None
    ), 422 if request.method == "POST" else 200


@bp.route("/roles/<int:role_id>", methods=["GET", "POST"])
@requires("roles.manage")
def role_edit(role_id: int):
    role = queries.get_role(db.session, role_id)
    form = _form_for(role.kind, role)
    form.kind.data = role.kind.value  # a role never changes kind
    if form.validate_on_submit():
        try:
            services.save_role(
                db.session,
                kind=role.kind,
                name=form.name.data,
                permissions=form.permissions.data,
                role=role,
                actor=current_user._get_current_object(),
            )
        except DomainError as exc:
            db.session.rollback()
            form.permissions.errors.append(exc.text)
        else:
            db.session.commit()
            flash(_("Role %(name)s saved.", name=role.name), "success")
            return redirect(url_for("admin.roles_list"))
    return render_template(
        "admin/roles/form.html", form=form, role=role
    ), 422 if request.method == "POST" else 200


@bp.post("/roles/<int:role_id>/delete")
@requires("roles.manage")
def role_delete(role_id: int):
    role = queries.get_role(db.session, role_id)
    try:
        services.delete_role(db.session, role)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(_("Role deleted."), "success")
    return redirect(url_for("admin.roles_list"))
