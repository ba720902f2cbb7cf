"""The cart: add from the product page, change quantities and remove lines with htmx, guest carts merged at login.

A guest's cart is keyed by a random token kept in the signed session cookie; at login its lines join the
member's cart (Flask-Login's ``user_logged_in`` signal), so nothing chosen before signing in is lost.
"""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in

from marketplace.checkout import cart as carts
from marketplace.checkout.queries import cart_view
from marketplace.core.errors import DomainError
from marketplace.core.permissions import public
from marketplace.extensions import db, htmx
from marketplace.identity.models import UserKind
from storefront import bp

TOKEN_KEY = "cart_token"  # noqa: S105 - a session key name, not a secret


def cart_owner(create: bool = False) -> carts.CartOwner | None:
    """The member's cart, or the guest's (a token is only made when the guest adds something)."""
    if current_user.is_authenticated and current_user.kind is UserKind.SHOPPER:
        return carts.CartOwner(user_id=current_user.id)
    token = session.get(TOKEN_KEY)
    if token is None and create:
        token = session[TOKEN_KEY] = secrets.token_urlsafe(24)
    return carts.CartOwner(token=token) if token else None


@user_logged_in.connect
def _merge_guest_cart(app, user) -> None:
    token = session.pop(TOKEN_KEY, None)
    if token and user.kind is UserKind.SHOPPER:
        carts.merge_guest_cart(db.session, token=token, user_id=user.id)
        db.session.commit()


def _quantity(raw: str | None) -> int:
    try:
        return int(raw or "1")
    except ValueError:
        return 0  # refused by the service with the allowed range


def _render_cart(status: int = 200, error: str = ""):
    owner = cart_owner()
    view = cart_view(db.session, owner) if owner else None
    template = "storefront/cart/_cart.html" if htmx else "storefront/cart/cart.html"
    return render_template(template, cart=view, error=error), status


@bp.get("/cart")
@public
def cart():
    return _render_cart()


@bp.post("/cart/add")
@public
def cart_add():
    owner = cart_owner(create=True)
    try:
        carts.add_line(
            db.session,
            owner,
            sku_id=_quantity(request.form.get("sku_id")),
            quantity=_quantity(request.form.get("quantity")),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return redirect(request.referrer or url_for("storefront.cart"))
    db.session.commit()
    if request.form.get("buy_now"):
        return redirect(url_for("storefront.checkout"))
    flash(_("Added to your cart."), "success")
    return redirect(url_for("storefront.cart"))


def _line_action(line_id: int, change) -> tuple:
    owner = cart_owner()
    if owner is None:
        return _render_cart(404)
    try:
        change(owner)
    except DomainError as exc:
        db.session.rollback()
        return _render_cart(exc.status if not htmx else 200, error=exc.text)
    db.session.commit()
    return _render_cart()


@bp.post("/cart/lines/<int:line_id>")
@public
def cart_line_update(line_id: int):
    def change(owner):
        if "selected" in request.form:
            carts.set_selected(db.session, owner, line_id, request.form.get("selected") == "1")
        if "quantity" in request.form:
            carts.set_quantity(db.session, owner, line_id, _quantity(request.form.get("quantity")))

    response = _line_action(line_id, change)
    if not htmx:
        return redirect(url_for("storefront.cart"))
    return response


@bp.post("/cart/lines/<int:line_id>/remove")
@public
def cart_line_remove(line_id: int):
    response = _line_action(line_id, lambda owner: carts.remove_line(db.session, owner, line_id))
    if not htmx:
        return redirect(url_for("storefront.cart"))
    return response


@bp.post("/cart/accept-prices")
@public
def cart_accept_prices():
    owner = cart_owner()
    if owner is not None:
        carts.accept_price(db.session, owner)
        db.session.commit()
    return redirect(url_for("storefront.cart"))
