"""Sign-in, sign-out, password reset and change: the same pages for every portal, bound to its kind."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from marketplace.core.audit import Actor, set_actor
from marketplace.core.errors import DomainError
from marketplace.core.permissions import LOGIN_ONLY, public, requires
from marketplace.extensions import db
from marketplace.identity import services as identity
from marketplace.web.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from marketplace.web.portal import Portal, client_ip, public_url, safe_next_url


def register_auth_routes(bp: Blueprint, portal: Portal) -> None:
    home = portal.home_endpoint

    @bp.route("/login", methods=["GET", "POST"])
    @public
    def login():
        if current_user.is_authenticated and current_user.kind is portal.kind:
            return redirect(url_for(home))
        form = LoginForm()
        status = 200
        if form.validate_on_submit():
            try:
                user = identity.authenticate(
                    db.session,
                    kind=portal.kind,
                    email=form.email.data,
                    password=form.password.data,
                    ip=client_ip(),
                )
            except DomainError as exc:
                db.session.commit()  # keep the failed attempt and the lockout counter
                flash(exc.text, "error")
                status = exc.status if exc.status in (401, 403, 423, 429) else 400
            else:
                login_user(user, remember=form.remember.data)
                session.permanent = True  # signed-in sessions end after PERMANENT_SESSION_LIFETIME
                set_actor(Actor(user.id, portal.kind.value, user.tenant_id, client_ip(), user.email))
                db.session.commit()
                return redirect(safe_next_url(request.args.get("next"), url_for(home)))
        elif request.method == "POST":
            status = 400
        return render_template("auth/login.html", form=form), status

    @bp.post("/logout")
    @requires(LOGIN_ONLY)
    def logout():
        logout_user()
        flash(_("You are signed out."), "info")
        return redirect(url_for(portal.login_endpoint))

    @bp.post("/logout-everywhere")
    @requires(LOGIN_ONLY)
    def logout_everywhere():
        identity.sign_out_everywhere(db.session, current_user._get_current_object())
        db.session.commit()
        logout_user()
        flash(_("Every session of your account is signed out."), "info")
        return redirect(url_for(portal.login_endpoint))

    @bp.route("/forgot-password", methods=["GET", "POST"])
    @public
    def forgot_password():
        form = ForgotPasswordForm()
        if form.validate_on_submit():
            identity.request_password_reset(
                db.session,
                kind=portal.kind,
                email=form.email.data,
                reset_url=public_url(f"{portal.name}.reset_password") + "?token=",
            )
            db.session.commit()
            flash(_("If an account exists for that email, a reset link is on its way."), "info")
            return redirect(url_for(portal.login_endpoint))
        return render_template("auth/forgot.html", form=form), 400 if request.method == "POST" else 200

    @bp.route("/reset-password", methods=["GET", "POST"])
    @public
    def reset_password():
        form = ResetPasswordForm(token=request.args.get("token", ""))
        if form.validate_on_submit():
            try:
                identity.reset_password(
                    db.session, kind=portal.kind, token=form.token.data, new_password=form.password.data
                )
            except DomainError as exc:
                db.session.rollback()
                flash(exc.text, "error")
            else:
                db.session.commit()
                flash(_("Your password is changed. Sign in with the new one."), "success")
                return redirect(url_for(portal.login_endpoint))
        return render_template("auth/reset.html", form=form), 400 if request.method == "POST" else 200

    @bp.route("/account", methods=["GET", "POST"])
    @requires(LOGIN_ONLY)
    def account():
        form = ChangePasswordForm()
        if form.validate_on_submit():
            user = current_user._get_current_object()
            try:
                identity.change_password(db.session, user, current=form.current.data, new=form.password.data)
            except DomainError as exc:
                db.session.rollback()
                form.current.errors.append(exc.text)
            else:
                db.session.commit()
                login_user(user)  # the session id carries the new version; keep this session signed in
                flash(_("Password changed. Other sessions are signed out."), "success")
                return redirect(url_for(f"{portal.name}.account"))
        return render_template("auth/account.html", form=form), 400 if request.method == "POST" else 200
