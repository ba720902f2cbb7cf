"""Checkout: address, delivery fee and note per shop, invoice, tenders, and one submit that places everything.

The page carries an idempotency key (a double click or a retried POST places the orders once) and the total
the shopper saw (a different total at submit time asks the shopper to confirm instead of charging it).
"""

from __future__ import annotations

import secrets
from decimal import InvalidOperation

from flask import redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.checkout.cart import CartOwner
from marketplace.checkout.errors import LinesUnavailable, PriceChanged
from marketplace.checkout.queries import placed_orders, quote
from marketplace.checkout.services import CheckoutRequest, TenderPreview, place_checkout, preview_tenders
from marketplace.core.db import Money
from marketplace.core.errors import DomainError
from marketplace.core.permissions import LOGIN_ONLY, requires
from marketplace.crm import queries as addresses
from marketplace.extensions import db, htmx
from marketplace.merchants.regions import province_label
from marketplace.orders.drafts import Invoice
from marketplace.orders.models import InvoiceType
from marketplace.payments import queries as payment_queries
from marketplace.payments.models import TenderKind
from marketplace.payments.services import TenderRequest, gateway_page_url
from storefront import bp


class BadInput(DomainError):
    code = "checkout.bad_input"
    status = 422


def _chosen_address(address_list, raw: str | None):
    wanted = int(raw) if raw and raw.isdigit() else None
    for address in address_list:
        if address.id == wanted:
            return address
    return next((a for a in address_list if a.is_default), address_list[0] if address_list else None)


def _render(values: dict, error: str = "", status: int = 200):
    address_list = addresses.addresses_of(db.session, current_user.id)
    address = _chosen_address(address_list, values.get("address_id"))
    current = quote(db.session, CartOwner(user_id=current_user.id), address)
    locale = str(get_locale() or "zh_Hans")
    template = (
        "storefront/checkout/_summary.html"
        if htmx and htmx.target == "checkout-summary"
        else "storefront/checkout/page.html"
    )
    try:
        tenders = preview_tenders(
            db.session, shopper_id=current_user.id, total=current.total_amount, tenders=_tenders(values)
        )
    except DomainError as exc:
        tenders = TenderPreview([], current.total_amount, exc.text)
    db.session.commit()  # a wrong gift card PIN counts, even in a preview
    return render_template(
        template,
        quote=current,
        addresses=address_list,
        address=address,
        province_label=lambda code: province_label(code, locale),
        wallet=payment_queries.wallet(db.session, current_user.id),
        values=values,
        idempotency_key=values.get("idempotency_key") or secrets.token_hex(16),
        error=error,
        tenders=tenders,
    ), status


def _tenders(form) -> list[TenderRequest]:
    """Gift card, then points, then balance; whatever is left goes to the gateway."""
    tenders = []
    code = form.get("gift_card_code", "").strip()
    if code:
        tenders.append(
            TenderRequest(TenderKind.GIFT_CARD, code=code, pin=form.get("gift_card_pin", "").strip())
        )
    points = form.get("points", "").strip()
    if points:
        if not points.isdigit():
            raise BadInput(_("Points must be a whole number."))
        if int(points):
            tenders.append(TenderRequest(TenderKind.POINTS, points=int(points)))
    balance = form.get("balance", "").strip()
    if balance:
        try:
            amount = Money.parse(balance).amount
        except (ValueError, InvalidOperation):
            raise BadInput(_("Enter the balance to use as an amount, e.g. 12.50.")) from None
        if amount:
            tenders.append(TenderRequest(TenderKind.BALANCE, amount=amount))
    return tenders


def _request(form) -> CheckoutRequest:
    address_id = form.get("address_id", "")
    if not address_id.isdigit():
        raise BadInput(_("Choose a delivery address."))
    try:
        invoice_type = InvoiceType(form.get("invoice_type", "none"))
    except ValueError:
        raise BadInput(_("Choose an invoice type.")) from None
    invoice = Invoice(
        invoice_type, form.get("invoice_title", "").strip()[:200], form.get("invoice_tax_no", "").strip()[:32]
    )
    if invoice_type is InvoiceType.COMPANY and not (invoice.title and invoice.tax_no):
        raise BadInput(_("A company invoice needs the company name and its tax number."))
    if invoice_type is InvoiceType.PERSONAL and not invoice.title:
        invoice = Invoice(invoice_type, current_user.display_name, "")
    notes = {
        int(key.removeprefix("note_")): value.strip()[:500]
        for key, value in form.items()
        if key.startswith("note_") and key.removeprefix("note_").isdigit()
    }
    total = form.get("expected_total", "")
    return CheckoutRequest(
        address_id=int(address_id),
        idempotency_key=form.get("idempotency_key", "")[:64] or secrets.token_hex(16),
        expected_total=int(total) if total.isdigit() else -1,
        notes=notes,
        invoice=invoice,
        tenders=_tenders(form),
    )


@bp.get("/checkout")
@requires(LOGIN_ONLY)
def checkout():
    return _render(request.args.to_dict())


@bp.post("/checkout")
@requires(LOGIN_ONLY)
def checkout_submit():
    values = request.form.to_dict()
    try:
        result = place_checkout(db.session, shopper=current_user, request=_request(request.form))
    except PriceChanged as exc:
        db.session.rollback()
        return _render(values | {"expected_total": str(exc.facts["amount"])}, exc.text, 409)
    except LinesUnavailable as exc:
        db.session.rollback()  # a short page, not the whole checkout again: in a sale most buyers land here
        return render_template("storefront/checkout/unavailable.html", error=exc.text), exc.status
    except DomainError as exc:
        db.session.rollback()
        return _render(values, exc.text, exc.status)
    db.session.commit()
    return redirect(after_checkout_url(result.payment))


def after_checkout_url(payment) -> str:
    """The gateway's hosted page when something is left to pay there, else the confirmation."""
    done = url_for("storefront.checkout_done", number=payment.number)
    return gateway_page_url(payment, done) or done


@bp.get("/checkout/done/<number>")
@requires(LOGIN_ONLY)
def checkout_done(number: str):
    payment, placed = placed_orders(db.session, current_user.id, number)
    return render_template(
        "storefront/checkout/done.html", payment=payment, orders=placed, pay_url=after_checkout_url(payment)
    )
