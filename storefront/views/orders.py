"""The shopper's order centre: the list by status, one order's page and what may be done with it, reviews of
a completed order's products, and the public look-up of an order by its number and the phone or e-mail used.

Which buttons show is asked of ``states.may``; the services refuse anything not allowed from the current state
with a message that names it, and the page then shows that message and nothing changes.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.catalog.models import Product
from marketplace.core.errors import DomainError, NotFound, ValidationFailed
from marketplace.core.jobs import redis_connection
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import LOGIN_ONLY, public, requires
from marketplace.crm import queries as address_book
from marketplace.extensions import db, htmx
from marketplace.merchants.regions import province_label
from marketplace.orders import account, states
from marketplace.orders import services as orders
from marketplace.orders.errors import IllegalTransition
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.models import Payment
from marketplace.payments.services import gateway_page_url
from marketplace.reviews import services as reviews
from marketplace.web.portal import client_ip
from storefront import bp

NOTE_MAX = 500
CANCEL_TEXT_MAX = 200


def _province(code: str) -> str:
    return province_label(code, str(get_locale() or "zh_Hans")) if code else ""


def _common() -> dict:
    return {
        "tabs": account.TABS,
        "status_labels": orders.STATUS_LABELS,
        "status_tone": account.STATUS_TONE,
        "province_label": _province,
    }


# --- the list ------------------------------------------------------------------------------------------


@bp.get("/account/orders")
@requires(LOGIN_ONLY)
def my_orders():
    """Newest first; htmx asks for the list of a tab (``#order-list``) or the next page ("load more")."""
    tab = request.args.get("tab", "all")
    if tab not in account.TABS:
        tab = "all"
    before = parse_cursor(request.args.get("before"))
    page = account.my_orders(db.session, current_user.id, tab, before=before)
    if htmx and before:
        template = "storefront/orders/_cards.html"
    elif htmx and htmx.target == "order-list":
        template = "storefront/orders/_list.html"
    else:
        template = "storefront/orders/list.html"
    return render_template(
        template, page=page, tab=tab, shops=account.shop_names(db.session, page.items), **_common()
    )


# --- one order -----------------------------------------------------------------------------------------


def _pay_url(order: Order) -> str | None:
    """The gateway's page for the unpaid order's payment, when a gateway part is still awaited."""
    if order.status is not OrderStatus.PENDING_PAYMENT or order.payment_id is None:
        return None
    payment = db.session.get(Payment, order.payment_id)
    if payment is None:
        return None
    back = url_for("storefront.my_order", number=order.number)  # a path on this site
    return gateway_page_url(payment, back)


def _detail(order: Order, status: int = 200, **extra):
    editable = order.status in states.EDITABLE
    completed = order.status is OrderStatus.COMPLETED
    context = {
        "order": order,
        "shop": account.shop_names(db.session, [order]).get(order.tenant_id, ""),
        "history": account.history(order),
        "shipments": account.shipment_rows(order),
        "may_cancel": states.may("cancel", order.status) and order.status is OrderStatus.PENDING_PAYMENT,
        "may_receive": states.may("receive", order.status),
        "editable": editable,
        "pay_url": _pay_url(order),
        "together": account.paid_together(db.session, order),
        "addresses": address_book.addresses_of(db.session, current_user.id) if editable else [],
        "reviewed": account.reviewed_products(db.session, order) if completed else set(),
        "cancel_reasons": [str(r) for r in account.CANCEL_REASONS],
        "values": {},
        "errors": {},
        **_common(),
    }
    context.update(extra)
    return render_template("storefront/orders/detail.html", **context), status


@bp.get("/account/orders/<number>")
@requires(LOGIN_ONLY)
def my_order(number: str):
    return _detail(account.my_order(db.session, current_user.id, number))


def _act(number: str, change, done: str):
    """Run ``change(order)`` on the shopper's order: commit and go back to the page, or show the refusal."""
    order = account.my_order(db.session, current_user.id, number)  # someone else's: 404
    try:
        change(order)
    except NotFound:
        raise
    except ValidationFailed as exc:
        db.session.rollback()
        order = account.my_order(db.session, current_user.id, number)
        return _detail(order, exc.status, errors=exc.fields, values=request.form.to_dict())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return _detail(account.my_order(db.session, current_user.id, number), exc.status)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("storefront.my_order", number=number), 303)


def _cancel_reason() -> str:
    choice = request.form.get("reason", "").strip()
    if choice not in [str(r) for r in account.CANCEL_REASONS]:
        choice = ""
    text = request.form.get("reason_text", "").strip()[:CANCEL_TEXT_MAX]
    return f"{choice}: {text}" if choice and text else choice or text


@bp.post("/account/orders/<number>/cancel")
@requires(LOGIN_ONLY)
def my_order_cancel(number: str):
    reason = _cancel_reason()

    def change(order: Order) -> None:
        if order.status is not OrderStatus.PENDING_PAYMENT:
            # Once paid, the money goes back through an after-sales refund, not through this button.
            raise IllegalTransition(
                number=order.number,
                current=str(orders.STATUS_LABELS[order.status]),
                action=str(orders.ACTION_LABELS["cancel"]),
            )
        if not reason:
            raise ValidationFailed({"reason": [_("Choose a reason or write one.")]})
        orders.cancel_order(db.session, order, actor=orders.OrderActor.of(current_user), reason=reason)

    return _act(number, change, _("The order is cancelled."))


@bp.post("/account/orders/<number>/address")
@requires(LOGIN_ONLY)
def my_order_address(number: str):
    raw = request.form.get("address_id", "")

    def change(order: Order) -> None:
        if not raw.isdigit():
            raise ValidationFailed({"address_id": [_("Choose an address from your address book.")]})
        chosen = address_book.get_address(db.session, current_user.id, int(raw))  # someone else's: 404
        address = orders.DeliveryAddress(
            recipient=chosen.recipient,
            phone=chosen.phone,
            province=chosen.province,
            city=chosen.city,
            detail=chosen.detail,
            district=chosen.district or "",
            postal_code=chosen.postal_code or "",
        )
        orders.change_delivery(db.session, order, actor=orders.OrderActor.of(current_user), address=address)

    return _act(number, change, _("The delivery address is changed."))


@bp.post("/account/orders/<number>/note")
@requires(LOGIN_ONLY)
def my_order_note(number: str):
    text = request.form.get("note", "").strip()

    def change(order: Order) -> None:
        if len(text) > NOTE_MAX:
            raise ValidationFailed({"note": [_("At most 500 characters.")]})
        orders.change_delivery(db.session, order, actor=orders.OrderActor.of(current_user), note_text=text)

    return _act(number, change, _("The note is saved."))


@bp.post("/account/orders/<number>/receive")
@requires(LOGIN_ONLY)
def my_order_receive(number: str):
    def change(order: Order) -> None:
        orders.confirm_receipt(db.session, order, actor=orders.OrderActor.of(current_user))

    return _act(number, change, _("Thank you! The order is marked as received."))


# --- reviews of a completed order ----------------------------------------------------------------------


@bp.route("/account/orders/<number>/lines/<int:line_id>/review", methods=["GET", "POST"])
@requires(LOGIN_ONLY)
def my_order_review(number: str, line_id: int):
    """Write the review of one line's product; only the order's shopper, only once the order is completed."""
    order, line = account.reviewable_line(db.session, current_user.id, number, line_id)
    if line.product_id in account.reviewed_products(db.session, order):
        flash(_("You have already reviewed this product for this order."), "info")
        return redirect(url_for("storefront.my_order", number=number), 303)
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = request.form.to_dict()
        rating = values.get("rating", "")
        product = db.session.get(Product, line.product_id)
        if product is None:
            abort(404)
        try:
            reviews.create_review(
                db.session,
                product=product,
                user_id=current_user.id,
                order_id=order.id,
                rating=int(rating) if rating.isdigit() else 0,
                text=values.get("text", ""),
            )
        except ValidationFailed as exc:
            db.session.rollback()
            errors, status = exc.fields, 422
        except DomainError as exc:
            db.session.rollback()
            flash(exc.text, "error")
            return redirect(url_for("storefront.my_order", number=number), 303)
        else:
            db.session.commit()
            flash(_("Thank you! Your review appears once it is checked."), "success")
            return redirect(url_for("storefront.my_order", number=number), 303)
    return render_template(
        "storefront/orders/review.html", order=order, line=line, values=values, errors=errors
    ), status


# --- the public look-up --------------------------------------------------------------------------------


@bp.route("/orders/lookup", methods=["GET", "POST"])
@public
def order_lookup():
    """Number plus phone or e-mail: the order's progress with the address masked, and nothing else.

    A wrong number and a wrong contact get the same sentence; each address has a few tries per window.
    """
    if request.method == "GET":
        return render_template("storefront/orders/lookup.html", number="", error="")
    number = request.form.get("number", "").strip()[:32]
    contact = request.form.get("contact", "")[:255]
    if not account.lookup_allowed(redis_connection(), client_ip()):
        return render_template(
            "storefront/orders/lookup.html",
            number=number,
            error=_("Too many look-ups from your address. Try again in a few minutes."),
        ), 429
    order = account.lookup_order(db.session, number, contact)
    if order is None:
        return render_template(
            "storefront/orders/lookup.html",
            number=number,
            error=_("No order matches this number and phone or e-mail."),
        ), 404
    return render_template(
        "storefront/orders/lookup_result.html",
        order=order,
        recipient=account.mask_name(order.recipient),
        phone=account.mask_phone(order.phone),
        history=account.history(order, with_reasons=False),
        shipments=account.shipment_rows(order),
        **_common(),
    )
