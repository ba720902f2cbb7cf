"""Signals other domains listen to, so payments never imports the domains above it.

Receivers run inside the sender's transaction: what they change commits (or rolls back) with the payment.
"""

from blinker import Namespace

_signals = Namespace()

# sender=the Payment, kwargs: session. Sent once, when every tender has been captured.
payment_captured = _signals.signal("payment-captured")
# sender=the Payment, kwargs: session. Sent when held tenders were given back because the gateway failed.
payment_released = _signals.signal("payment-released")
