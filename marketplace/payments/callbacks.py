"""Gateway callbacks: verify, apply once, and log every one of them, refused ones included.

A callback is applied only if the provider vouches for it (signature, replay window), it names a known payment
whose gateway part is awaiting, and its amount is that part's amount. The provider's transaction id makes it
idempotent: the same transaction again is answered "duplicate" and changes nothing. Every callback leaves a
``gateway_callbacks`` row with its outcome; a refused one changes nothing else, so the caller can commit the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core.db import utcnow
from marketplace.payments.errors import CallbackRefused, UnknownProvider
from marketplace.payments.gateway import SUCCEEDED, GatewayNotice, Provider, get_provider
from marketplace.payments.models import (
    GatewayCallback,
    Payment,
    PaymentStatus,
    PaymentTender,
    TenderKind,
    TenderStatus,
)

log = logging.getLogger(__name__)

# Outcomes the gateway is told were handled (HTTP 200); every other outcome is a refusal (HTTP 400).
HANDLED = frozenset({"accepted", "declined", "duplicate"})
BODY_LOG_LIMIT = 4000


def receive_callback(
    session: Session,
    provider_name: str,
    headers: Mapping[str, str],
    body: bytes,
    remote_addr: str | None,
    *,
    now: datetime | None = None,
) -> GatewayCallback:
    """Verify and apply one callback; the logged row, whose ``outcome`` says what happened.

    accepted: the payment is captured; declined: the gateway refused, the payment is released (FAILED);
    duplicate: this transaction was already applied; anything else: refused, nothing changed but the log.
    """
    now = now or utcnow()
    entry = GatewayCallback(
        provider=provider_name[:32],
        body=body[:BODY_LOG_LIMIT].decode("utf-8", "replace"),
        remote_addr=(remote_addr or "")[:64],
        outcome="received",
        detail="",
        created_at=now,
    )
    _describe_untrusted(entry, body)
    try:
        provider = get_provider(provider_name)
        notice = provider.verify_callback(headers, body, now)
        entry.payment_number, entry.provider_txn_id, entry.amount = (
            notice.payment_number,
            notice.txn_id,
            notice.amount,
        )
        entry.outcome, entry.detail = _apply(session, provider, notice)
    except UnknownProvider:
        entry.outcome, entry.detail = "unknown_provider", f"no provider named {provider_name[:32]!r}"
    except CallbackRefused as refused:
        entry.outcome, entry.detail = refused.reason, refused.detail
    entry.detail = entry.detail[:255]
    session.add(entry)
    session.flush()
    if entry.outcome not in HANDLED:
        log.warning(
            "gateway callback refused: provider=%s outcome=%s detail=%s payment=%s txn=%s from=%s",
            entry.provider,
            entry.outcome,
            entry.detail,
            entry.payment_number,
            entry.provider_txn_id,
            entry.remote_addr,
        )
    return entry


def log_failed_callback(
    session: Session, provider_name: str, body: bytes, remote_addr: str | None, *, outcome: str, detail: str
) -> GatewayCallback:
    """Log a callback whose processing failed with an error (after the caller rolled its changes back)."""
    entry = GatewayCallback(
        provider=provider_name[:32],
        body=body[:BODY_LOG_LIMIT].decode("utf-8", "replace"),
        remote_addr=(remote_addr or "")[:64],
        outcome=outcome[:32],
        detail=detail[:255],
    )
    _describe_untrusted(entry, body)
    session.add(entry)
    session.flush()
    log.error("gateway callback failed: provider=%s outcome=%s detail=%s", provider_name, outcome, detail)
    return entry


def _describe_untrusted(entry: GatewayCallback, body: bytes) -> None:
    """Fill the log's payment number, transaction and amount from the body, so even a refused callback can be
    found by payment; the verified values overwrite these when the callback is authentic."""
    try:
        data = json.loads(body)
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    entry.payment_number = str(data.get("payment_number") or "")[:32]
    entry.provider_txn_id = str(data.get("txn_id") or "")[:64]
    amount = data.get("amount")
    if isinstance(amount, int) and not isinstance(amount, bool) and abs(amount) < 2**62:
        entry.amount = amount


def _apply(session: Session, provider: Provider, notice: GatewayNotice) -> tuple[str, str]:
    from marketplace.payments.services import capture_payment, release_payment

    payment = session.scalars(
        select(Payment)
        .where(Payment.number == notice.payment_number)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if payment is None:
        raise CallbackRefused("unknown_payment", f"no payment {notice.payment_number}")
    session.refresh(payment, ["tenders"])
    tender = next(
        (
            t
            for t in reversed(payment.tenders)
            if t.kind is TenderKind.GATEWAY and t.provider == provider.name
        ),
        None,
    )
    if tender is None:
        raise CallbackRefused(
            "no_gateway_part", f"payment {payment.number} has nothing to pay at {provider.name}"
        )
    if tender.provider_txn_id == notice.txn_id:
        return "duplicate", f"transaction {notice.txn_id} was already applied"
    used = session.scalar(
        select(PaymentTender.id).where(
            PaymentTender.provider == provider.name, PaymentTender.provider_txn_id == notice.txn_id
        )
    )
    if used is not None:
        raise CallbackRefused("txn_reused", f"transaction {notice.txn_id} belongs to another payment")
    if tender.status is not TenderStatus.AWAITING or payment.status is not PaymentStatus.PENDING:
        raise CallbackRefused("not_awaiting", f"payment {payment.number} is {payment.status.value}")
    if notice.amount != tender.amount:
        raise CallbackRefused("wrong_amount", f"expected {tender.amount}, got {notice.amount}")
    if notice.status == SUCCEEDED:
        capture_payment(session, payment, provider_txn_id=notice.txn_id)
        return "accepted", f"payment {payment.number} captured"
    tender.provider_txn_id = notice.txn_id  # a declined transaction is applied once too
    session.flush()
    release_payment(session, payment, status=PaymentStatus.FAILED, reason="declined by the gateway")
    return "declined", f"payment {payment.number} released"
