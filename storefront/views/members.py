"""Shopper sign-up; sign-in, reset and account pages come from the shared auth routes."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from marketplace.core.errors import DomainError
from marketplace.core.permissions import public
from marketplace.extensions import db
from marketplace.identity import services
from marketplace.identity.models import UserKind
from storefront import bp
from storefront.forms import RegisterForm


@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    if current_user.is_authenticated and current_user.kind is UserKind.SHOPPER:
        return redirect(url_for("storefront.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                db.session,
                kind=UserKind.SHOPPER,
                email=form.email.data,
                password=form.password.data,
                name=form.name.data,
            )
        except DomainError as exc:
            db.session.rollback()
            form.email.errors.append(exc.text)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome, %(name)s!", name=user.display_name), "success")
            return redirect(url_for("storefront.home"))
    return render_template("storefront/register.html", form=form), 422 if request.method == "POST" else 200
