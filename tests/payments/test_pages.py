"""Payment pages: admin gift cards (codes shown once), wallets, payment detail and callback log, permissions;
the shopper's wallet page."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

from sqlalchemy import select

from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.payments.accounts import balance_code, gift_card_code, points_code
from marketplace.payments.gift_cards import check_gift_card
from marketplace.payments.models import GiftCard, TenderKind
from marketplace.payments.services import TenderRequest, open_payment
from tests.factories import login, make_user
from tests.page_helpers import english_client, flashes
from tests.payments.helpers import balances, funded_shopper, gift_card

ISSUED_ROW = re.compile(r"<tr><td><code>(GC-[A-Z0-9-]+)</code></td><td><code>(\d{6})</code></td>")


def _staff(app, role: str = "super_admin"):
    client = english_client(app)
    assert login(client, make_user(app, UserKind.STAFF, role=role)).status_code == 302
    return client


def test_issued_gift_cards_show_their_codes_and_pins_once(app):
    client = _staff(app)
    expires = (date.today() + timedelta(days=90)).isoformat()

    response = client.post(
        "/admin/payments/gift-cards", data={"count": "3", "value": "50", "expires_on": expires}
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    issued = ISSUED_ROW.findall(response.get_data(as_text=True))
    assert len(issued) == 3
    with app.app_context(), acting_as(SYSTEM):
        cards = db.session.scalars(select(GiftCard).order_by(GiftCard.id)).all()
        assert [c.code for c in cards] == [code for code, _pin in issued]
        assert all(pin not in card.pin_hash for card, (_code, pin) in zip(cards, issued, strict=True))
        assert balances(db.session, *(gift_card_code(code) for code, _pin in issued)) == [5_000] * 3
        code, pin = issued[0]
        assert check_gift_card(db.session, code=code, pin=pin)[1] == 5_000  # the PIN shown is the one stored
        db.session.rollback()

    later = client.get("/admin/payments/gift-cards").get_data(as_text=True)
    assert all(code in later for code, _pin in issued)
    assert ISSUED_ROW.findall(later) == []
    assert not any(f"<code>{pin}</code>" in later for _code, pin in issued)


def test_a_bad_batch_is_refused_with_field_errors(app):
    client = _staff(app)

    response = client.post("/admin/payments/gift-cards", data={"count": "3", "value": "abc"})

    assert response.status_code == 422
    assert "Enter an amount in yuan" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(GiftCard)).all() == []


def test_customer_service_sees_payments_but_cannot_issue_cards_or_top_up(app):
    shopper = funded_shopper(app)
    client = _staff(app, role="customer_service")

    page = client.get("/admin/payments/gift-cards")
    assert page.status_code == 200
    assert "Issue gift cards" not in page.get_data(as_text=True)
    assert client.post("/admin/payments/gift-cards", data={"count": "1", "value": "50"}).status_code == 403
    top_up = client.post(f"/admin/payments/wallets/{shopper.id}/top-up", data={"amount": "10", "reason": "x"})
    assert top_up.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(GiftCard)).all() == []
        assert balances(db.session, balance_code(shopper.id)) == [0]


def test_staff_top_up_and_points_grant_go_through_the_ledger_and_the_audit_log(app):
    shopper = funded_shopper(app)
    client = _staff(app)

    found = client.get(f"/admin/payments/wallets?email={shopper.email}")
    assert found.status_code == 200 and shopper.email in found.get_data(as_text=True)
    topped = client.post(
        f"/admin/payments/wallets/{shopper.id}/top-up",
        data={"amount": "12.50", "reason": "goodwill", "email": shopper.email},
        follow_redirects=True,
    )
    granted = client.post(
        f"/admin/payments/wallets/{shopper.id}/points",
        data={"points": "300", "reason": "birthday", "email": shopper.email},
        follow_redirects=True,
    )
    refused = client.post(f"/admin/payments/wallets/{shopper.id}/top-up", data={"amount": "5", "reason": ""})

    assert ("success", "¥12.50 added to the balance.") in flashes(topped.get_data(as_text=True))
    assert ("success", "300 points granted.") in flashes(granted.get_data(as_text=True))
    assert refused.status_code == 422
    with app.app_context():
        assert balances(db.session, balance_code(shopper.id), points_code(shopper.id)) == [1_250, 300]
        actions = db.session.execute(
            select(AuditEntry.action, AuditEntry.reason)
            .where(AuditEntry.action.like("wallet.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == [("wallet.top_up", "goodwill"), ("wallet.grant_points", "birthday")]


def test_the_payment_page_shows_tenders_ledger_lines_and_refused_callbacks(app):
    shopper = funded_shopper(app, balance_fen=1_000)
    with app.app_context(), acting_as(SYSTEM):
        payment = open_payment(
            db.session,
            shopper_id=shopper.id,
            amount=3_000,
            checkout_id=None,
            tenders=[TenderRequest(TenderKind.BALANCE, amount=1_000)],
            expires_at=None,
        )
        db.session.commit()
    body = f'{{"payment_number": "{payment.number}", "txn_id": "X1", "amount": 2000, "status": "succeeded"}}'
    forged = app.test_client().post(
        "/payments/callback/simulated",
        data=body,
        headers={"X-Timestamp": str(int(time.time())), "X-Signature": "00"},
    )
    assert forged.status_code == 400
    client = _staff(app, role="customer_service")

    detail = client.get(f"/admin/payments/{payment.id}").get_data(as_text=True)
    log = client.get("/admin/payments/callbacks?refused=1").get_data(as_text=True)

    assert payment.number in detail and "¥20.00" in detail and "¥10.00" in detail
    assert f"customer_balance:{shopper.id}" in detail and "payment_holds" in detail
    assert "bad_signature" in detail
    assert "callback-refused" in log and "bad_signature" in log and payment.number in log
    assert payment.number in client.get("/admin/payments").get_data(as_text=True)


def test_the_wallet_page_shows_money_points_and_checks_a_gift_card(app):
    shopper = funded_shopper(app, balance_fen=10_000, points=2_000)
    gift_card(app, "GC-WALLET-0001", 5_000)
    client = english_client(app)
    assert client.get("/account/wallet").status_code == 302  # guests sign in first
    login(client, shopper)

    page = client.get("/account/wallet").get_data(as_text=True)
    wrong = client.post("/account/wallet/gift-card", data={"code": "GC-WALLET-0001", "pin": "999999"})
    right = client.post(
        "/account/wallet/gift-card", data={"code": "gc-wallet-0001", "pin": "123456", "add": "1"}
    )

    assert "¥100.00" in page and 'id="wallet-points">2000<' in page and "worth ¥20.00" in page
    assert wrong.status_code == 422 and "4 tries left" in wrong.get_data(as_text=True)
    text = right.get_data(as_text=True)
    assert right.status_code == 200 and "has ¥50.00 left" in text
    assert "<code>GC-WALLET-0001</code>" in client.get("/account/wallet").get_data(as_text=True)
