"""Gateway callbacks (signed, fresh, right amount, once per transaction, every one logged) and the simulated
provider's hosted page, through the HTTP endpoints."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.payments.accounts import balance_code
from marketplace.payments.gateway import hmac_signature
from marketplace.payments.models import (
    GatewayCallback,
    JournalEntry,
    Payment,
    PaymentStatus,
    TenderKind,
    TenderStatus,
)
from marketplace.payments.services import TenderRequest, gateway_page_url, open_payment
from tests.page_helpers import csrf_token
from tests.payments.helpers import assert_books_balance, balances, funded_shopper


@pytest.fixture
def pending(app):
    """A ¥50 payment: ¥10 from the shopper's balance, ¥40 awaiting the simulated gateway."""
    shopper = funded_shopper(app, balance_fen=1_000)
    with app.app_context(), acting_as(SYSTEM):
        payment = open_payment(
            db.session,
            shopper_id=shopper.id,
            amount=5_000,
            checkout_id=None,
            tenders=[TenderRequest(TenderKind.BALANCE, amount=1_000)],
            expires_at=None,
        )
        db.session.commit()
        return {"number": payment.number, "id": payment.id, "shopper_id": shopper.id}


def _body(number: str, *, txn: str = "TXN-1", amount: int = 4_000, status: str = "succeeded") -> bytes:
    return json.dumps({"payment_number": number, "txn_id": txn, "amount": amount, "status": status}).encode()


def _post(client, app, body: bytes, *, timestamp: int | None = None, signed_body: bytes | None = None):
    timestamp = timestamp or int(time.time())
    signature = hmac_signature(app.config["GATEWAY_SECRET"], str(timestamp), signed_body or body)
    return client.post(
        "/payments/callback/simulated",
        data=body,
        headers={"Content-Type": "application/json", "X-Timestamp": str(timestamp), "X-Signature": signature},
    )


def _state(app, number: str):
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.number == number))
        gateway = next(t for t in payment.tenders if t.kind is TenderKind.GATEWAY)
        entries = db.session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.payment_id == payment.id)
        )
        log = [
            (c.outcome, c.provider_txn_id, c.payment_number)
            for c in db.session.scalars(select(GatewayCallback).order_by(GatewayCallback.id))
        ]
        return payment.status, gateway.status, gateway.provider_txn_id, entries, log


def test_a_valid_callback_captures_the_payment(app, client, pending):
    response = _post(client, app, _body(pending["number"]))

    assert response.status_code == 200
    assert response.get_json()["outcome"] == "accepted"
    status, gateway, txn, entries, log = _state(app, pending["number"])
    assert (status, gateway, txn) == (PaymentStatus.PAID, TenderStatus.CAPTURED, "TXN-1")
    assert entries == 3  # the balance hold, then the balance and the gateway captured
    assert log == [("accepted", "TXN-1", pending["number"])]
    with app.app_context():
        assert balances(db.session, "sales_clearing", "gateway_clearing") == [5_000, -4_000]
        assert_books_balance(db.session)


def test_the_same_transaction_again_is_a_duplicate_and_changes_nothing(app, client, pending):
    _post(client, app, _body(pending["number"]))
    before = _state(app, pending["number"])

    again = _post(client, app, _body(pending["number"]))

    assert (again.status_code, again.get_json()["outcome"]) == (200, "duplicate")
    after = _state(app, pending["number"])
    assert after[:4] == before[:4]
    assert [outcome for outcome, *_ in after[4]] == ["accepted", "duplicate"]


def test_a_tampered_body_is_refused_and_logged(app, client, pending):
    signed = _body(pending["number"], amount=1)
    response = _post(client, app, _body(pending["number"]), signed_body=signed)  # signature of another body

    assert (response.status_code, response.get_json()["outcome"]) == (400, "bad_signature")
    status, gateway, txn, entries, log = _state(app, pending["number"])
    assert (status, gateway, txn, entries) == (PaymentStatus.PENDING, TenderStatus.AWAITING, None, 1)
    assert log == [("bad_signature", "TXN-1", pending["number"])]  # committed although nothing else changed


def test_a_stale_callback_is_refused_and_logged(app, client, pending):
    replayed = int(time.time()) - app.config["GATEWAY_REPLAY_WINDOW_SECONDS"] - 5

    response = _post(client, app, _body(pending["number"]), timestamp=replayed)

    assert (response.status_code, response.get_json()["outcome"]) == (400, "stale")
    assert _state(app, pending["number"])[0] is PaymentStatus.PENDING
    assert [outcome for outcome, *_ in _state(app, pending["number"])[4]] == ["stale"]


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        (lambda number: _body(number, amount=3_999), "wrong_amount"),
        (lambda number: _body("P-NO-SUCH"), "unknown_payment"),
        (lambda number: b"not json", "malformed"),
    ],
)
def test_a_callback_that_does_not_match_the_payment_is_refused(app, client, pending, body, outcome):
    response = _post(client, app, body(pending["number"]))

    assert (response.status_code, response.get_json()["outcome"]) == (400, outcome)
    assert _state(app, pending["number"])[:3] == (PaymentStatus.PENDING, TenderStatus.AWAITING, None)


def test_an_unsigned_callback_is_refused_and_an_unknown_provider_is_not_found(app, client, pending):
    unsigned = client.post("/payments/callback/simulated", data=_body(pending["number"]))
    unknown = client.post("/payments/callback/acme", data=_body(pending["number"]))

    assert (unsigned.status_code, unsigned.get_json()["outcome"]) == (400, "missing_signature")
    assert (unknown.status_code, unknown.get_json()["outcome"]) == (404, "unknown_provider")
    assert [outcome for outcome, *_ in _state(app, pending["number"])[4]] == [
        "missing_signature",
        "unknown_provider",
    ]


def test_a_declined_payment_gives_the_held_balance_back(app, client, pending):
    response = _post(client, app, _body(pending["number"], status="failed"))
    replay = _post(client, app, _body(pending["number"], status="failed"))

    assert response.get_json()["outcome"] == "declined"
    assert replay.get_json()["outcome"] == "duplicate"
    assert _state(app, pending["number"])[:3] == (PaymentStatus.FAILED, TenderStatus.FAILED, "TXN-1")
    with app.app_context():
        assert balances(db.session, balance_code(pending["shopper_id"]), "payment_holds") == [1_000, 0]
    late = _post(client, app, _body(pending["number"], txn="TXN-2"))
    assert (late.status_code, late.get_json()["outcome"]) == (400, "not_awaiting")


def test_the_callback_needs_no_csrf_token_but_the_hosted_page_does(csrf_app, pending):
    client = csrf_app.test_client()
    with csrf_app.test_request_context(), csrf_app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.number == pending["number"]))
        url = gateway_page_url(payment, "/account")

    assert client.post(url, data={"action": "pay"}).status_code == 400  # no token
    assert _post(client, csrf_app, _body(pending["number"])).status_code == 200


def _page_url(app, number: str, return_url: str = "/account/orders") -> str:
    with app.test_request_context(), app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.number == number))
        return gateway_page_url(payment, return_url)


def test_paying_on_the_hosted_page_captures_through_the_signed_callback(app, client, pending):
    url = _page_url(app, pending["number"])
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "¥40.00" in html and pending["number"] in html

    response = client.post(url, data={"action": "pay", "csrf_token": csrf_token(html)})

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/orders"
    status, gateway, txn, _entries, log = _state(app, pending["number"])
    assert (status, gateway) == (PaymentStatus.PAID, TenderStatus.CAPTURED)
    assert txn.startswith("SIM") and log == [("accepted", txn, pending["number"])]
    assert "already paid" in client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_declining_on_the_hosted_page_fails_the_payment(app, client, pending):
    response = client.post(_page_url(app, pending["number"]), data={"action": "decline"})

    assert response.status_code == 302
    assert _state(app, pending["number"])[:2] == (PaymentStatus.FAILED, TenderStatus.FAILED)


def test_cancelling_on_the_hosted_page_changes_nothing_and_the_shopper_can_pay_later(app, client, pending):
    url = _page_url(app, pending["number"])

    cancelled = client.post(url, data={"action": "cancel"})

    assert cancelled.headers["Location"] == "/account/orders"
    status, gateway, _txn, _entries, log = _state(app, pending["number"])
    assert (status, gateway, log) == (PaymentStatus.PENDING, TenderStatus.AWAITING, [])
    client.post(url, data={"action": "pay"})
    assert _state(app, pending["number"])[0] is PaymentStatus.PAID


def test_a_forged_page_link_is_not_found(app, client, pending):
    url = _page_url(app, pending["number"])

    assert client.get(url[:-3] + "xyz").status_code == 404
    with app.test_request_context(), app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.number == pending["number"]))
        with pytest.raises(ValueError):
            gateway_page_url(payment, "https://evil.example/")
