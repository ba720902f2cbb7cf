"""Create and edit accounts: used by the admin portal (staff, warehouse) and merchants (sub-accounts).

One implementation, so both portals validate, audit and protect accounts the same way.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import DomainError
from marketplace.extensions import db
from marketplace.identity import queries, services
from marketplace.identity.models import User, UserKind
from marketplace.web.forms import UserCreateForm, UserEditForm


def create_account(kind: UserKind, *, tenant_id: int | None, edit_endpoint: str, template: str):
    form = UserCreateForm()
    form.roles.choices = [(r.id, r.label) for r in queries.roles_for(db.session, kind)]
    if form.validate_on_submit():
        try:
            user = services.create_user(
                db.session,
                kind=kind,
                email=form.email.data,
                password=form.password.data,
                name=form.name.data,
                phone=form.phone.data or None,
                tenant_id=tenant_id,
                roles=queries.roles_by_ids(db.session, kind, form.roles.data),
                granted_by=current_user._get_current_object(),
            )
        except DomainError as exc:
            db.session.rollback()
            (form.roles if exc.code == "role.cannot_grant" else form.email).errors.append(exc.text)
        else:
            db.session.commit()
            flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for(edit_endpoint, user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, kind=kind), status


def edit_account(user: User, *, can_manage: bool, edit_endpoint: str, template: str):
    form = UserEditForm(obj=user)
    form.roles.choices = [(r.id, r.label) for r in queries.roles_for(db.session, user.kind)]
    if request.method == "GET":
        form.roles.data = [r.id for r in user.roles]
    elif not can_manage:
        abort(403)
    elif form.validate():
        try:
            services.update_user(
                db.session,
                user,
                actor=current_user._get_current_object(),
                name=form.name.data,
                phone=form.phone.data,
                roles=queries.roles_by_ids(db.session, user.kind, form.roles.data),
                is_active=form.is_active.data,
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.text, "error")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(edit_endpoint, user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, user=user, can_manage=can_manage), status
