"""Merchant webhooks: the signature, the address check (SSRF), one delivery attempt, and the delivery job.

A delivery is one event body for one shop, stored as the exact text that is signed and sent, so a redelivery
sends the same bytes. Each HTTP attempt is a :class:`WebhookAttempt` row the merchant sees in the delivery log.

Signing: ``X-Marketplace-Signature`` is the hex HMAC-SHA256, under the shop's webhook secret, of
``f"{timestamp}.{body}"`` where ``timestamp`` is the ``X-Marketplace-Timestamp`` header (Unix seconds, new on
every attempt, so a receiver can refuse old replays). Verify with :func:`verify`.

Safety (DESIGN rule 10): the URL's host is resolved and every address must be public; loopback is allowed
only when the setting ``WEBHOOK_ALLOW_LOOPBACK`` says so (tests), and plain ``http`` only to such a loopback
target. The connection goes to the address that was checked (no second lookup a DNS rebinding could change),
redirects are never followed, and the timeout is short.

Retries: the delivery job raises on a non-2xx answer or a network error, so its RQ ``Retry`` runs it again
after 10 s, 30 s, 2 min, 10 min and 30 min (``core.jobs.RETRY_INTERVALS``). The attempt is written in a
transaction of its own, so it survives the job's rollback. After the last try (at once when there is no
retrying queue, or when the address is refused) the delivery is ``failed``; the merchant can redeliver.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, DomainError
from marketplace.core.jobs import RETRY_INTERVALS, enqueue, job
from marketplace.merchants.models import Merchant
from marketplace.notifications.models import WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Marketplace-Timestamp"
SIGNATURE_HEADER = "X-Marketplace-Signature"
EVENT_HEADER = "X-Marketplace-Event"
DELIVERY_HEADER = "X-Marketplace-Delivery"
TEST_EVENT = "webhook.test"
TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 1 + len(RETRY_INTERVALS)  # the first try and every RQ retry of the delivery job

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class WebhookUrlInvalid(DomainError):
    code = "webhook.url_invalid"
    status = 422
    message = N_("Enter a full https:// address of your server (at most 500 characters).")


class WebhookUrlUnsafe(DomainError):
    code = "webhook.url_unsafe"
    status = 422
    message = N_(
        "{host} resolves to a private, loopback or reserved address; webhooks go to public addresses only."
    )


class WebhookHostUnknown(DomainError):
    code = "webhook.host_unknown"
    status = 422
    message = N_("The host {host} cannot be resolved.")


class WebhookNotConfigured(DomainError):
    code = "webhook.not_configured"
    status = 409
    message = N_("Set a webhook URL first.")


class WebhookFailed(Exception):
    """An attempt failed and the job should be retried by RQ (not a DomainError: nobody reads it but RQ)."""


# --- signing ----------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int | str, body: str) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: int | str, body: str, signature: str) -> bool:
    """What a receiver does (constant-time comparison); it should also refuse an old timestamp."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def new_secret() -> str:
    return secrets.token_hex(32)


def dumps(payload: dict) -> str:
    """The canonical body text: compact, keys sorted, UTF-8 characters kept."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- the address check ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the connection goes to


def _is_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    # is_global is False for private, link-local, shared (100.64/10), reserved, documentation, unspecified.
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_loopback: bool) -> Target:
    """The URL's target if it is safe to POST to, else a WebhookUrl* error (before any request is made)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlInvalid() from None
    host = parts.hostname or ""
    if (
        len(url) > 500
        or parts.scheme not in ("http", "https")
        or not host
        or parts.username
        or parts.password
    ):
        raise WebhookUrlInvalid()
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise WebhookHostUnknown(host=host) from None
    addresses = []
    for info in infos:
        try:
            addresses.append(ipaddress.ip_address(info[4][0].split("%", 1)[0]))
        except ValueError:
            continue
    if not addresses:
        raise WebhookHostUnknown(host=host)
    # Every address the name has must pass: a name with one public and one private address is refused.
    if not all(_is_allowed(a, allow_loopback) for a in addresses):
        raise WebhookUrlUnsafe(host=host)
    if parts.scheme == "http" and not all(a.is_loopback for a in addresses):
        raise WebhookUrlInvalid()  # plain http only to a loopback test server
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


# --- one attempt ------------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the name resolves to by now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)  # the certificate names the host


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int
    refused: bool = False  # the address check said no: nothing was sent, and retrying will not help

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def headers_for(delivery: WebhookDelivery, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Marketplace-Webhooks/1",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, delivery.body),
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.id),
    }


def _post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, str]:
    """One POST; (status, first bytes of the answer, Location header). Redirects are not followed."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = cls(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(2048).decode("utf-8", "replace")
        return response.status, excerpt, response.getheader("Location", "")
    finally:
        connection.close()


def attempt(delivery: WebhookDelivery, secret: str, *, allow_loopback: bool, timeout: float) -> Outcome:
    """Check the address, then POST once. Never raises for the endpoint's faults: they are the outcome."""
    started = time.monotonic()
    status, error, excerpt = None, "", ""
    try:
        target = check_url(delivery.url, allow_loopback=allow_loopback)
    except DomainError as exc:
        # An unsafe or malformed URL stays so; a name that does not resolve may resolve on the next try.
        refused = not isinstance(exc, WebhookHostUnknown)
        return Outcome(None, exc.text[:500], "", int((time.monotonic() - started) * 1000), refused=refused)
    try:
        status, excerpt, location = _post(
            target, delivery.body.encode(), headers_for(delivery, secret, int(time.time())), timeout
        )
        if 300 <= status < 400:
            error = f"redirect to {location or '?'} not followed"
        elif not 200 <= status < 300:
            error = f"HTTP {status}"
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timeout, TLS, garbled answer
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return Outcome(status, error[:500], excerpt[:500], int((time.monotonic() - started) * 1000))


def _record(delivery_id: int, outcome: Outcome, *, final: bool) -> str:
    """Write the attempt and the delivery's new state in a transaction of its own; returns the new status."""
    from marketplace.extensions import db

    with Session(db.engine) as own, own.begin():
        row = own.scalars(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
        ).one()
        own.add(
            WebhookAttempt(
                tenant_id=row.tenant_id,
                delivery_id=row.id,
                status_code=outcome.status_code,
                error=outcome.error,
                response_excerpt=outcome.excerpt,
                duration_ms=outcome.duration_ms,
            )
        )
        row.attempt_count += 1
        row.last_status_code = outcome.status_code
        row.last_error = outcome.error
        if outcome.ok:
            row.status, row.delivered_at = DELIVERED, utcnow()
        elif final:
            row.status = FAILED
        status = row.status
    return status


def deliver(session: Session, delivery: WebhookDelivery) -> str:
    """Make one attempt of a pending delivery and record it; returns the delivery's status afterwards.

    Raises :class:`WebhookFailed` when the attempt failed and another try will come (the RQ retry).
    """
    if delivery.status != PENDING:
        return delivery.status
    config = current_app.config
    allow_loopback = bool(config.get("WEBHOOK_ALLOW_LOOPBACK"))
    merchant = session.get(Merchant, delivery.tenant_id)
    if merchant is None or not merchant.webhook_url or not merchant.webhook_secret:
        outcome = Outcome(None, "webhook no longer configured", "", 0)
        return _record(delivery.id, outcome, final=True)
    outcome = attempt(
        delivery,
        merchant.webhook_secret,
        allow_loopback=allow_loopback,
        timeout=float(config.get("WEBHOOK_TIMEOUT_SECONDS", TIMEOUT_SECONDS)),
    )
    retries_left = current_app.extensions.get("rq_async", False) and delivery.attempt_count + 1 < MAX_ATTEMPTS
    final = outcome.ok or outcome.refused or not retries_left
    status = _record(delivery.id, outcome, final=final)
    session.refresh(delivery)
    if status == PENDING:
        raise WebhookFailed(f"delivery {delivery.id} to {delivery.url}: {outcome.error}")
    if status == FAILED:
        log.warning("webhook delivery %s failed after %s attempts", delivery.id, delivery.attempt_count)
    return status


@job("order_push", timeout=60)
def deliver_webhook(delivery_id: int) -> None:
    """Try a delivery once more; safe to run twice (a delivered or failed delivery is left alone)."""
    from marketplace.extensions import db

    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is not None:
        deliver(db.session, delivery)


# --- services: configuration, test event, redelivery -------------------------------------------------


def configure_webhook(session: Session, merchant: Merchant, *, url: str, allow_loopback: bool) -> Merchant:
    """Set (or, with an empty URL, switch off) the shop's webhook; a secret is made on first use."""
    url = (url or "").strip()
    if url:
        check_url(url, allow_loopback=allow_loopback)
    merchant.webhook_url = url
    if url and not merchant.webhook_secret:
        merchant.webhook_secret = new_secret()
    session.flush()
    return merchant


def regenerate_secret(session: Session, merchant: Merchant) -> str:
    """A new signing secret; deliveries from now on are signed with it (pending retries included)."""
    merchant.webhook_secret = new_secret()
    session.flush()  # audited as a change of the shop, the secret itself shown as "(changed)"
    return merchant.webhook_secret


def create_delivery(
    session: Session, *, merchant: Merchant, event: str, body: str, order_id: int | None = None
) -> WebhookDelivery:
    """A pending delivery to the shop's current URL, and the job that sends it (after the commit)."""
    if not merchant.webhook_url:
        raise WebhookNotConfigured()
    delivery = WebhookDelivery(
        tenant_id=merchant.id, event=event, order_id=order_id, url=merchant.webhook_url, body=body
    )
    session.add(delivery)
    session.flush()
    enqueue(deliver_webhook, tenant_id=merchant.id, delivery_id=delivery.id)
    return delivery


def send_test_event(session: Session, merchant: Merchant) -> WebhookDelivery:
    body = dumps(
        {
            "event": TEST_EVENT,
            "created_at": utcnow().isoformat(timespec="seconds"),
            "shop": {"id": merchant.id, "name": merchant.name},
            "message": "A test event from the marketplace: your endpoint answered it.",
        }
    )
    delivery = create_delivery(session, merchant=merchant, event=TEST_EVENT, body=body)
    audit.record(session, "webhook.test", delivery)
    return delivery


def redeliver(session: Session, delivery: WebhookDelivery, *, merchant: Merchant) -> WebhookDelivery:
    """A fresh delivery of the same body (to the shop's URL as it is now); the old one keeps its log."""
    fresh = create_delivery(
        session, merchant=merchant, event=delivery.event, body=delivery.body, order_id=delivery.order_id
    )
    audit.record(session, "webhook.redeliver", fresh, reason=f"redelivery of {delivery.id}")
    return fresh
