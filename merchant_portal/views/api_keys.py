"""API keys for the shop's own systems: created here, shown once, revocable."""

from __future__ import annotations

import secrets

from flask import flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.merchants import queries, services
from merchant_portal import bp
from merchant_portal.forms import ApiKeyForm


@bp.route("/api-keys", methods=["GET", "POST"])
@requires("api_keys.manage")
def api_keys_list():
    form = ApiKeyForm()
    secret = None
    if request.method == "POST" and request.form.get("nonce") in session.get("api_key_nonces", []):
        # A reload of the page that showed the secret re-posts the form: never create a second key.
        flash(_("That key was already created; its secret was shown once."), "warning")
        return redirect(url_for("merchant.api_keys_list"))
    if form.validate_on_submit():
        try:
            key, secret = services.create_api_key(
                db.session,
                tenant_id=g.tenant_id,
                name=form.name.data,
                scopes=form.scopes.data,
                created_by_id=current_user.id,
            )
        except DomainError as exc:
            db.session.rollback()
            form.scopes.errors.append(exc.text)
        else:
            db.session.commit()
            session["api_key_nonces"] = [*session.get("api_key_nonces", [])[-9:], request.form.get("nonce")]
            flash(_("Key %(name)s created. Copy it now: it is not shown again.", name=key.name), "success")
            form = ApiKeyForm(formdata=None)
    status = 422 if request.method == "POST" and secret is None else 200
    response = make_response(
        render_template(
            "merchant/api_keys/list.html",
            form=form,
            keys=queries.api_keys(db.session),
            secret=secret,
            nonce=secrets.token_urlsafe(12),
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api-keys/<int:key_id>/revoke")
@requires("api_keys.manage")
def api_key_revoke(key_id: int):
    key = queries.get_api_key(db.session, key_id)  # tenant-filtered: another shop's key is a 404
    services.revoke_api_key(db.session, key)
    db.session.commit()
    flash(_("Key %(name)s revoked.", name=key.name), "success")
    return redirect(url_for("merchant.api_keys_list"))
