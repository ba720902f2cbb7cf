"""The built-in simulated gateway: a hosted page where the shopper pays, declines or cancels, and callbacks
signed exactly like an outside provider's (HMAC-SHA256 with ``GATEWAY_SECRET``), verified on the same path.

Nothing leaves the machine: a confirmation on the hosted page builds the signed callback a real provider would
POST and hands it to ``receive_callback``; a refund is recorded with a reference and no network call.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from marketplace.payments.errors import CallbackRefused
from marketplace.payments.gateway import FAILED, SUCCEEDED, GatewayNotice, hmac_signature
from marketplace.payments.models import Payment, PaymentTender

PAGE_MAX_AGE = 24 * 3600  # a hosted-page link works this long (the payment's own expiry usually comes first)


@dataclass(frozen=True)
class PageToken:
    payment_number: str
    tender_id: int
    return_url: str


def is_local_path(url: str) -> bool:
    """Only paths on this site are return addresses: never another host (open redirect)."""
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


class SimulatedProvider:
    name = "simulated"

    @staticmethod
    def _secret() -> str:
        return current_app.config["GATEWAY_SECRET"]

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret(), salt="simulated-gateway-page")

    # --- the hosted page -----------------------------------------------------------------------------

    def hosted_page_url(self, payment: Payment, tender: PaymentTender, return_url: str) -> str:
        if not is_local_path(return_url):
            raise ValueError(f"the return address must be a path on this site, got {return_url!r}")
        token = self._serializer().dumps({"p": payment.number, "t": tender.id, "r": return_url})
        return url_for("gateway.simulated_page", token=token)

    def read_page_token(self, token: str) -> PageToken | None:
        """The payment, tender and return address a hosted-page link carries; None if forged or too old."""
        try:
            data = self._serializer().loads(token, max_age=PAGE_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not is_local_path(str(data.get("r", ""))):
            return None
        return PageToken(str(data["p"]), int(data["t"]), str(data["r"]))

    # --- callbacks -----------------------------------------------------------------------------------

    def signed_callback(
        self, *, payment_number: str, txn_id: str, amount: int, status: str, now: datetime
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body the provider POSTs to ``/payments/callback/simulated``."""
        body = json.dumps(
            {"payment_number": payment_number, "txn_id": txn_id, "amount": amount, "status": status},
            sort_keys=True,
        ).encode()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Timestamp": timestamp,
            "X-Signature": hmac_signature(self._secret(), timestamp, body),
        }
        return headers, body

    @staticmethod
    def new_txn_id() -> str:
        return "SIM" + secrets.token_hex(10).upper()

    def verify_callback(self, headers: Mapping[str, str], body: bytes, now: datetime) -> GatewayNotice:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        timestamp, signature = lowered.get("x-timestamp", ""), lowered.get("x-signature", "")
        if not timestamp or not signature:
            raise CallbackRefused("missing_signature", "X-Timestamp and X-Signature are required")
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise CallbackRefused("malformed", "X-Timestamp is not a Unix time")
        expected = hmac_signature(self._secret(), timestamp, body)
        if not hmac.compare_digest(expected, signature.strip().lower()):
            raise CallbackRefused("bad_signature", "the signature does not match the body")
        window = current_app.config["GATEWAY_REPLAY_WINDOW_SECONDS"]
        age = now.timestamp() - int(timestamp)
        if abs(age) > window:
            raise CallbackRefused("stale", f"signed {int(age)} s from now, the window is {window} s")
        try:
            data = json.loads(body)
        except ValueError:
            raise CallbackRefused("malformed", "the body is not JSON") from None
        if not isinstance(data, dict):
            raise CallbackRefused("malformed", "the body is not a JSON object")
        number, txn_id, amount, status = (
            data.get(k) for k in ("payment_number", "txn_id", "amount", "status")
        )
        if not isinstance(number, str) or not number or len(number) > 32:
            raise CallbackRefused("malformed", "payment_number is missing")
        if not isinstance(txn_id, str) or not txn_id or len(txn_id) > 64:
            raise CallbackRefused("malformed", "txn_id is missing")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise CallbackRefused("malformed", "amount must be a positive integer (fen)")
        if status not in (SUCCEEDED, FAILED):
            raise CallbackRefused("malformed", "status must be succeeded or failed")
        return GatewayNotice(payment_number=number, txn_id=txn_id, amount=amount, status=status)

    # --- refunds -------------------------------------------------------------------------------------

    def refund(self, tender: PaymentTender, amount: int) -> str:
        """Recorded only (the simulated gateway holds no money): the reference goes into the ledger memo."""
        return "SIMREF" + secrets.token_hex(6).upper()
