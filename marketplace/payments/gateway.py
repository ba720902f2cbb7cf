"""The payment gateway, as a pluggable interface: a provider sends the shopper to its hosted page, tells the
platform the result in a signed callback, and gives money back on a refund.

One provider is built in: ``simulated`` (marketplace/payments/simulated.py). A real one implements
:class:`Provider` and is added with :func:`register_provider`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from marketplace.payments.errors import CallbackRefused, UnknownProvider

if TYPE_CHECKING:
    from marketplace.payments.models import Payment, PaymentTender

__all__ = [
    "CallbackRefused",
    "GatewayNotice",
    "Provider",
    "get_provider",
    "hmac_signature",
    "register_provider",
]

SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True)
class GatewayNotice:
    """What a verified callback says: this payment's gateway part was paid (or refused) for this amount."""

    payment_number: str
    txn_id: str
    amount: int
    status: str  # "succeeded" or "failed"


class Provider(Protocol):
    name: str

    def hosted_page_url(self, payment: Payment, tender: PaymentTender, return_url: str) -> str:
        """Where to send the shopper to pay ``tender``; the provider sends them back to ``return_url``."""
        ...

    def verify_callback(self, headers: Mapping[str, str], body: bytes, now: datetime) -> GatewayNotice:
        """The callback's content if it is authentic and fresh; raises :class:`CallbackRefused` otherwise."""
        ...

    def refund(self, tender: PaymentTender, amount: int) -> str:
        """Give ``amount`` of a captured gateway tender back to the shopper; the provider's refund reference."""
        ...


def hmac_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``f"{timestamp}.{body}"``, hex: what a callback carries in ``X-Signature``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


_providers: dict[str, Provider] = {}


def register_provider(provider: Provider) -> None:
    _providers[provider.name] = provider


def get_provider(name: str) -> Provider:
    if "simulated" not in _providers:  # the built-in provider, loaded on first use
        from marketplace.payments.simulated import SimulatedProvider

        _providers.setdefault("simulated", SimulatedProvider())
    try:
        return _providers[name]
    except KeyError:
        raise UnknownProvider(name=name[:32]) from None
