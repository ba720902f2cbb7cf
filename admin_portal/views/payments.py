"""Payments in the admin portal: payments with their tenders, ledger lines and callbacks; the gateway callback
log; gift cards (issue a batch, unlock, deactivate); shoppers' wallets (balance top-up, points grant)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from admin_portal import bp
from marketplace.core.db import Money
from marketplace.core.errors import DomainError
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.payments import gift_cards, queries, wallet
from marketplace.payments.models import PaymentStatus


class GiftCardIssueForm(FlaskForm):
    count = IntegerField(
        _l("Number of cards"), default=10, validators=[DataRequired(), NumberRange(1, gift_cards.MAX_BATCH)]
    )
    value = StringField(_l("Value of each (yuan)"), validators=[DataRequired(), Length(max=12)])
    expires_on = DateField(_l("Expires on"), validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class TopUpForm(FlaskForm):
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=12)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class PointsForm(FlaskForm):
    points = IntegerField(_l("Points"), validators=[DataRequired(), NumberRange(1, wallet.MAX_POINTS_GRANT)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


def _yuan(field) -> int | None:
    """A yuan amount typed by staff ("12.5") in fen, or None with the field's error set."""
    try:
        amount = Money.parse(field.data or "").amount
    except (InvalidOperation, ValueError):
        amount = 0
    if amount <= 0:
        field.errors = [*field.errors, _("Enter an amount in yuan, such as 50 or 12.50.")]
        return None
    return amount


def _end_of_day(day) -> datetime:
    """The end of ``day`` where the platform is (BABEL_DEFAULT_TIMEZONE), as a UTC time."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


# --- payments ---------------------------------------------------------------------------------------


@bp.get("/payments")
@requires("payments.view")
def payments_list():
    page = queries.list_payments(
        db.session,
        search=request.args.get("q", ""),
        status=request.args.get("status", ""),
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "admin/payments/_rows.html" if htmx and request.args.get("before") else "admin/payments/list.html"
    )
    return render_template(template, page=page, statuses=list(PaymentStatus))


@bp.get("/payments/<int:payment_id>")
@requires("payments.view")
def payment_detail(payment_id: int):
    payment = queries.payment_with_tenders(db.session, payment_id)
    return render_template(
        "admin/payments/detail.html",
        payment=payment,
        lines=queries.journal_lines(db.session, payment_id=payment.id),
        callbacks=queries.callbacks_for(db.session, payment.number),
        refunds=queries.refunds_for(db.session, payment.id),
        is_refused=queries.is_refused,
    )


@bp.get("/payments/callbacks")
@requires("payments.view")
def payment_callbacks():
    refused_only = request.args.get("refused") == "1"
    page = queries.list_callbacks(
        db.session, refused_only=refused_only, before=parse_cursor(request.args.get("before"))
    )
    template = (
        "admin/payments/_callback_rows.html"
        if htmx and request.args.get("before")
        else "admin/payments/callbacks.html"
    )
    return render_template(
        template,
        page=page,
        refused_only=refused_only,
        is_refused=queries.is_refused,
        payment_ids=queries.payment_ids(db.session, [c.payment_number for c in page.items]),
    )


# --- gift cards -------------------------------------------------------------------------------------


def _gift_cards_page(form: GiftCardIssueForm, status: int = 200, issued=None):
    page = queries.list_gift_cards(
        db.session, search=request.args.get("q", ""), before=parse_cursor(request.args.get("before"))
    )
    if htmx and request.args.get("before"):
        return render_template("admin/payments/_gift_card_rows.html", page=page)
    response = current_app.make_response(
        (render_template("admin/payments/gift_cards.html", page=page, form=form, issued=issued), status)
    )
    if issued:
        response.headers["Cache-Control"] = "no-store"  # the PINs are on this page, once
    return response


@bp.get("/payments/gift-cards")
@requires("payments.view")
def gift_cards_list():
    return _gift_cards_page(GiftCardIssueForm(formdata=None))


@bp.post("/payments/gift-cards")
@requires("payments.manage")
def gift_cards_issue():
    """Issue a batch; the codes and PINs are shown on this response only (the PINs are stored as hashes)."""
    form = GiftCardIssueForm()
    value = _yuan(form.value) if form.validate() else None
    if value is None:
        return _gift_cards_page(form, 422)
    try:
        issued = gift_cards.issue_gift_cards(
            db.session,
            count=form.count.data,
            value=value,
            expires_at=_end_of_day(form.expires_on.data) if form.expires_on.data else None,
            actor_id=current_user.id,
        )
    except DomainError as exc:
        db.session.rollback()
        form.count.errors = [*form.count.errors, exc.text]
        return _gift_cards_page(form, 422)
    db.session.commit()
    return _gift_cards_page(GiftCardIssueForm(formdata=None), 200, issued=issued)


def _card_action(card_id: int, action):
    card = queries.get_gift_card(db.session, card_id)
    form = ReasonForm()
    if not form.validate():
        flash(_("Give a reason."), "error")
        return redirect(url_for("admin.gift_cards_list", q=card.code))
    try:
        message = action(card, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("admin.gift_cards_list", q=card.code))


@bp.post("/payments/gift-cards/<int:card_id>/unlock")
@requires("payments.manage")
def gift_card_unlock(card_id: int):
    def unlock(card, reason):
        gift_cards.unlock_gift_card(db.session, card, reason=reason)
        return _("Gift card %(code)s is unlocked.", code=card.code)

    return _card_action(card_id, unlock)


@bp.post("/payments/gift-cards/<int:card_id>/active")
@requires("payments.manage")
def gift_card_active(card_id: int):
    active = request.form.get("active") == "1"

    def switch(card, reason):
        gift_cards.set_gift_card_active(db.session, card, active=active, reason=reason)
        if active:
            return _("Gift card %(code)s can be used again.", code=card.code)
        return _("Gift card %(code)s is deactivated.", code=card.code)

    return _card_action(card_id, switch)


# --- shoppers' wallets ------------------------------------------------------------------------------


def _wallet_page(email: str, top_up: TopUpForm, points: PointsForm, status: int = 200):
    shopper, error = None, None
    if email.strip():
        try:
            shopper = wallet.find_shopper(db.session, email)
        except DomainError as exc:
            error = exc.text
    return render_template(
        "admin/payments/wallets.html",
        email=email,
        shopper=shopper,
        error=error,
        purse=queries.wallet(db.session, shopper.id) if shopper else None,
        top_up=top_up,
        points=points,
    ), status


@bp.get("/payments/wallets")
@requires("payments.view")
def wallets():
    return _wallet_page(request.args.get("email", ""), TopUpForm(formdata=None), PointsForm(formdata=None))


@bp.post("/payments/wallets/<int:user_id>/top-up")
@requires("payments.manage")
def wallet_top_up(user_id: int):
    form = TopUpForm()
    amount = _yuan(form.amount) if form.validate() else None
    email = request.form.get("email", "")
    if amount is not None:
        try:
            wallet.top_up_balance(
                db.session, user_id=user_id, amount=amount, reason=form.reason.data, actor_id=current_user.id
            )
        except DomainError as exc:
            db.session.rollback()
            form.amount.errors = [*form.amount.errors, exc.text]
        else:
            db.session.commit()
            flash(_("%(amount)s added to the balance.", amount=Money(amount).format()), "success")
            return redirect(url_for("admin.wallets", email=email))
    return _wallet_page(email, form, PointsForm(formdata=None), 422)


@bp.post("/payments/wallets/<int:user_id>/points")
@requires("payments.manage")
def wallet_points(user_id: int):
    form = PointsForm()
    email = request.form.get("email", "")
    if form.validate():
        try:
            wallet.grant_points(
                db.session,
                user_id=user_id,
                points=form.points.data,
                reason=form.reason.data,
                actor_id=current_user.id,
            )
        except DomainError as exc:
            db.session.rollback()
            form.points.errors = [*form.points.errors, exc.text]
        else:
            db.session.commit()
            flash(_("%(points)d points granted.", points=form.points.data), "success")
            return redirect(url_for("admin.wallets", email=email))
    return _wallet_page(email, TopUpForm(formdata=None), form, 422)
