"""Order push: a paid order reaches the shop as a portal notice and a signed webhook, retried with backoff,
logged attempt by attempt, redeliverable, refused to private addresses, and never holding up the order."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.tenancy import tenant_context
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.merchants.models import Merchant
from marketplace.notifications import webhooks
from marketplace.notifications.models import Notification, WebhookAttempt, WebhookDelivery
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.tasks import push_order
from tests.factories import login, make_merchant, make_user
from tests.orders.order_helpers import place_paid, shopper_with_address, stocked_sku
from tests.orders.push_helpers import (
    dispatch_and_run,
    run_retries_now,
    scheduled_retries,
    webhook_receiver,
)
from tests.page_helpers import english_client, flashes


@pytest.fixture
def shop(app):
    return make_merchant(app, "Push Shop")


@pytest.fixture
def owner(app, shop):
    return make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)


@pytest.fixture
def buyer(app):
    return shopper_with_address(app)


@pytest.fixture
def needs_rq(app):
    if not app.extensions["rq_async"]:
        pytest.skip("RQ retries need a real Redis (the embedded queue runs jobs once, synchronously)")


def _set_webhook(app, shop, url: str) -> str:
    with app.app_context(), acting_as(SYSTEM):
        merchant = db.session.get(Merchant, shop.id)
        webhooks.configure_webhook(db.session, merchant, url=url, allow_loopback=True)
        db.session.commit()
        return merchant.webhook_secret


def _paid_order(app, shop, buyer, quantity: int = 2) -> str:
    sku = stocked_sku(app, shop, price=1250, stock=10)
    shopper, address_id = buyer
    return place_paid(app, shopper, address_id, [(sku, quantity)]).order_numbers[0]


def _deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _attempts(app, delivery_id: int) -> list[WebhookAttempt]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.id)
            )
        )


def _status(app, number: str) -> OrderStatus:
    with app.app_context():
        return db.session.scalar(select(Order.status).where(Order.number == number))


def test_a_paid_order_is_posted_signed_and_the_signature_verifies_with_the_shops_secret(app, shop, buyer):
    with webhook_receiver([200]) as receiver:
        secret = _set_webhook(app, shop, receiver.url)
        number = _paid_order(app, shop, buyer, quantity=2)
        dispatch_and_run(app)

    assert len(receiver.requests) == 1
    received = receiver.requests[0]
    headers = received.headers
    assert received.path == "/hooks/orders"
    assert headers["X-Marketplace-Event"] == "order.ready_to_ship"
    assert headers["Content-Type"].startswith("application/json")
    timestamp = headers["X-Marketplace-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    assert webhooks.verify(secret, timestamp, received.body, headers["X-Marketplace-Signature"])
    assert not webhooks.verify("another-secret", timestamp, received.body, headers["X-Marketplace-Signature"])
    assert not webhooks.verify(secret, timestamp, received.body + " ", headers["X-Marketplace-Signature"])

    body = json.loads(received.body)
    assert body["event"] == "order.ready_to_ship"
    order = body["order"]
    assert order["number"] == number
    assert order["status"] == "awaiting_shipment"
    assert order["goods_amount"] == 2500 and order["total_amount"] >= 2500
    assert order["address"]["recipient"] == "Li Lei" and order["address"]["detail"] == "1 Test Road"
    assert [(line["quantity"], line["unit_price"]) for line in order["lines"]] == [(2, 1250)]
    assert order["created_at"]

    [delivery] = _deliveries(app)
    assert headers["X-Marketplace-Delivery"] == str(delivery.id)
    assert delivery.body == received.body  # stored exactly as signed and sent
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("delivered", 1, 200)
    [attempt] = _attempts(app, delivery.id)
    assert attempt.status_code == 200 and attempt.error == "" and attempt.duration_ms >= 0


def test_a_500_is_retried_with_backoff_and_every_attempt_is_logged(app, shop, buyer, needs_rq):
    with webhook_receiver([500, 200]) as receiver:
        _set_webhook(app, shop, receiver.url)
        number = _paid_order(app, shop, buyer)
        dispatch_and_run(app)

        assert len(receiver.requests) == 1
        [delivery] = _deliveries(app)
        assert (delivery.status, delivery.attempt_count, delivery.last_error) == ("pending", 1, "HTTP 500")
        [(_job, due)] = scheduled_retries(app)
        assert 5 <= due.timestamp() - time.time() <= 15  # RETRY_INTERVALS[0] = 10 s
        assert _status(app, number) is OrderStatus.AWAITING_SHIPMENT  # the order did not wait

        assert run_retries_now(app) == 1

    assert len(receiver.requests) == 2
    assert receiver.requests[1].body == receiver.requests[0].body
    [delivery] = _deliveries(app)
    assert (delivery.status, delivery.attempt_count) == ("delivered", 2)
    assert [a.status_code for a in _attempts(app, delivery.id)] == [500, 200]
    assert scheduled_retries(app) == []


def test_after_the_last_retry_the_delivery_is_failed_and_the_order_goes_on(app, shop, buyer, needs_rq):
    with webhook_receiver([500]) as receiver:
        _set_webhook(app, shop, receiver.url)
        number = _paid_order(app, shop, buyer)
        dispatch_and_run(app)
        for _ in range(webhooks.MAX_ATTEMPTS + 2):
            if not run_retries_now(app):
                break

    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    [delivery] = _deliveries(app)
    assert (delivery.status, delivery.attempt_count) == ("failed", webhooks.MAX_ATTEMPTS)
    assert len(_attempts(app, delivery.id)) == webhooks.MAX_ATTEMPTS
    assert _status(app, number) is OrderStatus.AWAITING_SHIPMENT
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_redirect_is_not_followed(app, shop, buyer):
    with webhook_receiver([302]) as receiver:
        _set_webhook(app, shop, receiver.url)
        _paid_order(app, shop, buyer)
        dispatch_and_run(app)

    assert len(receiver.requests) == 1
    [delivery] = _deliveries(app)
    [attempt] = _attempts(app, delivery.id)
    assert attempt.status_code == 302
    assert "not followed" in attempt.error
    assert delivery.status != "delivered"


def test_a_loopback_address_is_refused_without_a_request_when_loopback_is_not_allowed(app, shop, buyer):
    with webhook_receiver([200]) as receiver:
        _set_webhook(app, shop, receiver.url)  # accepted while loopback is allowed (the test setting)
        app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
        try:
            number = _paid_order(app, shop, buyer)
            dispatch_and_run(app)
        finally:
            app.config["WEBHOOK_ALLOW_LOOPBACK"] = True

    assert receiver.requests == []
    [delivery] = _deliveries(app)
    assert delivery.status == "failed"  # an unsafe address stays unsafe: no retries
    [attempt] = _attempts(app, delivery.id)
    with app.app_context():  # the job writes the message in the shop's language, as the portal shows it
        refusal = webhooks.WebhookUrlUnsafe(host="127.0.0.1").text
    assert (attempt.status_code, attempt.error) == (None, refusal)
    assert _status(app, number) is OrderStatus.AWAITING_SHIPMENT
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


@pytest.mark.parametrize(
    "url, error",
    [
        ("https://10.1.2.3/hook", webhooks.WebhookUrlUnsafe),
        ("https://192.168.0.10/hook", webhooks.WebhookUrlUnsafe),
        ("https://169.254.169.254/latest/meta-data", webhooks.WebhookUrlUnsafe),  # cloud metadata
        ("https://100.64.0.1/hook", webhooks.WebhookUrlUnsafe),  # carrier-grade NAT
        ("https://127.0.0.1/hook", webhooks.WebhookUrlUnsafe),
        ("https://[::1]/hook", webhooks.WebhookUrlUnsafe),
        ("https://[::ffff:10.0.0.1]/hook", webhooks.WebhookUrlUnsafe),
        ("https://0.0.0.0/hook", webhooks.WebhookUrlUnsafe),
        ("http://93.184.215.14/hook", webhooks.WebhookUrlInvalid),  # plain http to a public address
        ("ftp://93.184.215.14/hook", webhooks.WebhookUrlInvalid),
        ("https://user:pw@93.184.215.14/hook", webhooks.WebhookUrlInvalid),
        ("not a url", webhooks.WebhookUrlInvalid),
    ],
)
def test_unsafe_webhook_urls_are_refused(url, error):
    with pytest.raises(error):
        webhooks.check_url(url, allow_loopback=False)


def test_a_public_https_address_passes_the_check():
    target = webhooks.check_url("https://93.184.215.14:8443/hooks?x=1", allow_loopback=False)
    assert (target.scheme, target.port, target.path, target.address) == (
        "https",
        8443,
        "/hooks?x=1",
        "93.184.215.14",
    )


def test_redeliver_sends_the_same_body_as_a_new_delivery(app, shop, owner, buyer):
    other_owner = make_user(app, UserKind.MERCHANT, tenant=make_merchant(app), is_owner=True)
    with webhook_receiver([200]) as receiver:
        secret = _set_webhook(app, shop, receiver.url)
        _paid_order(app, shop, buyer)
        dispatch_and_run(app)
        [first] = _deliveries(app)

        intruder = english_client(app)
        login(intruder, other_owner)
        assert intruder.post(f"/merchant/webhook/deliveries/{first.id}/redeliver").status_code == 404

        client = english_client(app)
        login(client, owner)
        response = client.post(f"/merchant/webhook/deliveries/{first.id}/redeliver", follow_redirects=True)
        assert response.status_code == 200
        assert ("success", f"Delivery {first.id} sent again as a new delivery.") in flashes(response.text)
        dispatch_and_run(app)

    assert len(receiver.requests) == 2
    again = receiver.requests[1]
    assert again.body == receiver.requests[0].body
    first_, second = _deliveries(app)
    assert again.headers["X-Marketplace-Delivery"] == str(second.id) != str(first_.id)
    assert webhooks.verify(secret, again.headers["X-Marketplace-Timestamp"], again.body,
                           again.headers["X-Marketplace-Signature"])  # fmt: skip
    assert (second.status, second.order_id, first_.status) == ("delivered", first_.order_id, "delivered")


def test_send_test_event_and_the_delivery_log_shows_every_attempt(app, shop, owner):
    client = english_client(app)
    login(client, owner)
    with webhook_receiver([500, 200]) as receiver:
        response = client.post("/merchant/webhook", data={"url": receiver.url}, follow_redirects=True)
        assert ("success", "Webhook saved.") in flashes(response.text)
        with app.app_context():
            secret = db.session.get(Merchant, shop.id).webhook_secret
        assert secret and secret in response.text  # shown to whoever manages the webhook

        client.post("/merchant/webhook/test")
        dispatch_and_run(app)
        if app.extensions["rq_async"]:
            run_retries_now(app)

    first = receiver.requests[0]
    assert first.headers["X-Marketplace-Event"] == "webhook.test"
    assert webhooks.verify(secret, first.headers["X-Marketplace-Timestamp"], first.body,
                           first.headers["X-Marketplace-Signature"])  # fmt: skip
    page = client.get("/merchant/webhook")
    assert page.headers["Cache-Control"] == "no-store"
    assert "webhook.test" in page.text
    assert "HTTP 500" in page.text and " ms</td>" in page.text
    if app.extensions["rq_async"]:
        assert page.text.count("<td>200</td>") == 1 and "delivered" in page.text


def test_a_private_url_is_refused_on_the_settings_page_and_nothing_is_saved(app, shop, owner):
    client = english_client(app)
    login(client, owner)
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    try:
        response = client.post("/merchant/webhook", data={"url": "https://10.0.0.8/hook"})
    finally:
        app.config["WEBHOOK_ALLOW_LOOPBACK"] = True
    assert response.status_code == 422
    assert "private" in response.text
    with app.app_context():
        merchant = db.session.get(Merchant, shop.id)
        assert (merchant.webhook_url, merchant.webhook_secret) == ("", "")


def test_a_new_secret_replaces_the_old_one_and_is_audited_without_its_value(app, shop, owner):
    old = _set_webhook(app, shop, "http://127.0.0.1:9/hook")
    client = english_client(app)
    login(client, owner)
    client.post("/merchant/webhook/secret")
    with app.app_context():
        new = db.session.get(Merchant, shop.id).webhook_secret
    assert new and new != old and len(new) == 64
    audit = client.get("/merchant/audit").text
    assert new not in audit and old not in audit


def test_webhook_pages_need_the_permission(app, shop):
    finance = make_user(app, UserKind.MERCHANT, tenant=shop, role="finance")
    client = english_client(app)
    login(client, finance)
    assert client.get("/merchant/webhook").status_code == 403
    assert client.post("/merchant/webhook", data={"url": ""}).status_code == 403
    assert client.post("/merchant/webhook/test").status_code == 403


def test_without_a_webhook_the_shop_gets_the_portal_notice_only(app, shop, buyer):
    number = _paid_order(app, shop, buyer)
    dispatch_and_run(app)

    assert _deliveries(app) == []
    with app.app_context():
        notices = db.session.scalars(select(Notification)).all()
    assert [(n.tenant_id, n.kind, n.title) for n in notices] == [
        (shop.id, "order.ready_to_ship", f"New order {number}")
    ]


def test_the_push_job_run_twice_notifies_and_posts_once(app, shop, buyer):
    with webhook_receiver([200]) as receiver:
        _set_webhook(app, shop, receiver.url)
        number = _paid_order(app, shop, buyer)
        dispatch_and_run(app)
        with app.app_context():
            order_id = db.session.scalar(select(Order.id).where(Order.number == number))
            with tenant_context(db.session, shop.id):
                push_order(order_id=order_id, event="order.ready_to_ship")
            db.session.commit()
        dispatch_and_run(app)

    assert len(receiver.requests) == 1
    assert len(_deliveries(app)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_the_bell_counts_unread_notices_and_the_list_marks_them_read(app, shop, owner, buyer):
    first = _paid_order(app, shop, buyer)
    second = _paid_order(app, shop, buyer)
    dispatch_and_run(app)
    stranger = make_user(app, UserKind.MERCHANT, tenant=make_merchant(app), is_owner=True)

    client = english_client(app)
    login(client, owner)
    dashboard = client.get("/merchant/")
    assert 'hx-get="/merchant/notifications/badge"' in dashboard.text
    assert 'hx-trigger="load, every 30s"' in dashboard.text
    badge = client.get("/merchant/notifications/badge", headers={"HX-Request": "true"})
    assert ">2</span>" in badge.text

    other = english_client(app)
    login(other, stranger)
    assert "badge" not in other.get("/merchant/notifications/badge").text
    assert first not in other.get("/merchant/notifications").text

    page = client.get("/merchant/notifications")
    assert f"New order {first}" in page.text and f"New order {second}" in page.text
    assert page.text.count('class="notification is-new"') == 2
    assert client.get("/merchant/notifications/badge").text.strip() == ""
    assert 'class="notification is-new"' not in client.get("/merchant/notifications").text
