"""Orders react to payments through signals, so payments never imports orders."""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.orders import services
from marketplace.payments.models import Payment
from marketplace.payments.signals import payment_captured, payment_released


@payment_captured.connect
def _paid(payment: Payment, *, session: Session) -> None:
    services.mark_payment_paid(session, payment)


@payment_released.connect
def _failed(payment: Payment, *, session: Session) -> None:
    services.cancel_for_failed_payment(session, payment)
