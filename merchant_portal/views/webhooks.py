"""The order webhook: URL, signing secret, a test event, and the delivery log with every attempt and redelivery."""

from __future__ import annotations

import json

from flask import current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from marketplace.core.errors import DomainError
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.merchants.queries import get_merchant
from marketplace.notifications import queries, webhooks
from marketplace.notifications.models import WebhookDelivery
from merchant_portal import bp


def _order_number(delivery: WebhookDelivery) -> str:
    """The order a delivery was about, as its body names it (the log shows numbers, not ids)."""
    try:
        return str(json.loads(delivery.body).get("order", {}).get("number", ""))
    except (ValueError, AttributeError):
        return ""


def _log_context() -> dict:
    page = queries.deliveries_page(
        db.session, tenant_id=g.tenant_id, before=parse_cursor(request.args.get("before"))
    )
    return {
        "page": page,
        "attempts": queries.attempts_by_delivery(db.session, [d.id for d in page.items]),
        "numbers": {d.id: _order_number(d) for d in page.items if d.order_id},
    }


def _render(*, url: str | None = None, error: str | None = None, status: int = 200):
    shop = get_merchant(db.session, g.tenant_id)
    response = make_response(
        render_template(
            "merchant/webhooks/settings.html",
            shop=shop,
            url=shop.webhook_url if url is None else url,
            error=error,
            signature_header=webhooks.SIGNATURE_HEADER,
            timestamp_header=webhooks.TIMESTAMP_HEADER,
            event_header=webhooks.EVENT_HEADER,
            delivery_header=webhooks.DELIVERY_HEADER,
            max_attempts=webhooks.MAX_ATTEMPTS,
            **_log_context(),
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the page shows the signing secret
    return response


@bp.get("/webhook")
@requires("webhooks.manage")
def webhook_settings():
    if htmx and request.args.get("before"):
        return render_template("merchant/webhooks/_deliveries.html", **_log_context())
    return _render()


@bp.post("/webhook")
@requires("webhooks.manage")
def webhook_save():
    url = request.form.get("url", "").strip()
    shop = get_merchant(db.session, g.tenant_id)
    try:
        webhooks.configure_webhook(
            db.session, shop, url=url, allow_loopback=bool(current_app.config.get("WEBHOOK_ALLOW_LOOPBACK"))
        )
    except DomainError as exc:
        db.session.rollback()
        return _render(url=url, error=exc.text, status=exc.status)
    db.session.commit()
    flash(_("Webhook saved.") if url else _("Webhook switched off."), "success")
    return redirect(url_for("merchant.webhook_settings"))


@bp.post("/webhook/secret")
@requires("webhooks.manage")
def webhook_secret_regenerate():
    webhooks.regenerate_secret(db.session, get_merchant(db.session, g.tenant_id))
    db.session.commit()
    flash(_("New signing secret made. Update your server: the old secret no longer verifies."), "warning")
    return redirect(url_for("merchant.webhook_settings"))


@bp.post("/webhook/test")
@requires("webhooks.manage")
def webhook_test():
    try:
        webhooks.send_test_event(db.session, get_merchant(db.session, g.tenant_id))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(_("Test event sent; its attempts appear in the log below."), "success")
    return redirect(url_for("merchant.webhook_settings"))


@bp.post("/webhook/deliveries/<int:delivery_id>/redeliver")
@requires("webhooks.manage")
def webhook_redeliver(delivery_id: int):
    delivery = queries.get_delivery(db.session, delivery_id)  # another shop's delivery is a 404
    try:
        webhooks.redeliver(db.session, delivery, merchant=get_merchant(db.session, g.tenant_id))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(_("Delivery %(id)d sent again as a new delivery.", id=delivery_id), "success")
    return redirect(url_for("merchant.webhook_settings"))
