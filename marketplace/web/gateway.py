"""The payment gateway's side of the site: the callback endpoint providers POST to, and the simulated
provider's hosted page (pay, decline, or cancel and come back later).

Neither belongs to a portal: the gateway is not a user, and the hosted page stands for a page on the
provider's own site, so it shows nothing of the marketplace but the amount and the payment number.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _

from marketplace.core.audit import Actor, acting_as
from marketplace.core.db import utcnow
from marketplace.core.errors import DomainError
from marketplace.core.permissions import public
from marketplace.extensions import csrf, db
from marketplace.payments import queries
from marketplace.payments.callbacks import HANDLED, log_failed_callback, receive_callback
from marketplace.payments.gateway import FAILED, SUCCEEDED, get_provider
from marketplace.payments.models import PaymentTender, TenderStatus
from marketplace.payments.simulated import SimulatedProvider

bp = Blueprint("gateway", __name__)


def _gateway_actor(provider: str) -> Actor:
    return Actor(user_id=None, kind="system", ip=request.remote_addr, label=f"gateway:{provider[:32]}")


def _handle_callback(provider: str, headers, body: bytes):
    """Verify and apply a callback, then commit: the change and its log row, or the log row alone."""
    with acting_as(_gateway_actor(provider)):
        try:
            entry = receive_callback(db.session, provider, headers, body, request.remote_addr)
            db.session.commit()
        except DomainError as exc:  # verified, but applying it failed: keep the log of it
            db.session.rollback()
            entry = log_failed_callback(
                db.session, provider, body, request.remote_addr, outcome="error", detail=f"{exc.code}: {exc}"
            )
            db.session.commit()
    return entry


@bp.post("/payments/callback/<provider>")
@public
@csrf.exempt
def callback(provider: str):
    """A provider's server tells the result of a payment. 200 = handled (or already), 400 = refused."""
    entry = _handle_callback(provider, request.headers, request.get_data(cache=False))
    status = 200 if entry.outcome in HANDLED else 404 if entry.outcome == "unknown_provider" else 400
    return jsonify({"outcome": entry.outcome, "detail": entry.detail}), status


# --- the simulated provider's hosted page ------------------------------------------------------------


def _simulated() -> SimulatedProvider:
    provider = get_provider("simulated")
    assert isinstance(provider, SimulatedProvider)
    return provider


def _page_context(token: str):
    provider = _simulated()
    link = provider.read_page_token(token)
    if link is None:
        abort(404)
    payment = queries.payment_by_number(db.session, link.payment_number)
    tender = db.session.get(PaymentTender, link.tender_id)
    if payment is None or tender is None or tender.payment_id != payment.id:
        abort(404)
    return provider, link, payment, tender


@bp.get("/gateway/simulated/<token>")
@public
def simulated_page(token: str):
    _provider, link, payment, tender = _page_context(token)
    return render_template(
        "gateway/simulated.html",
        payment=payment,
        tender=tender,
        return_url=link.return_url,
        awaiting=tender.status is TenderStatus.AWAITING,
    )


@bp.post("/gateway/simulated/<token>")
@public
def simulated_action(token: str):
    """Pay or Decline: the simulated provider signs the callback it would POST and delivers it through the same
    verification path. Cancel: back to the shop, nothing changed, the shopper may pay later."""
    provider, link, payment, tender = _page_context(token)
    action = request.form.get("action", "")
    if action not in ("pay", "decline", "cancel"):
        abort(400)
    if action == "cancel" or tender.status is not TenderStatus.AWAITING:
        return redirect(link.return_url)
    headers, body = provider.signed_callback(
        payment_number=payment.number,
        txn_id=provider.new_txn_id(),
        amount=tender.amount,
        status=SUCCEEDED if action == "pay" else FAILED,
        now=utcnow(),
    )
    entry = _handle_callback(provider.name, headers, body)
    if entry.outcome == "declined":
        flash(_("The payment was declined."), "error")
    elif entry.outcome not in HANDLED:
        flash(_("The payment could not be completed (%(reason)s).", reason=entry.outcome), "error")
    return redirect(link.return_url)
