"""The order state machine refuses every illegal transition, naming the order's current state, and changes
nothing when it does."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.orders import oms, services
from marketplace.orders.errors import IllegalTransition
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from marketplace.orders.states import FINAL, TRANSITIONS, may
from tests.factories import make_merchant
from tests.orders.oms_helpers import complete, history, order, staff_client
from tests.orders.order_helpers import place, place_paid, shopper_with_address, stocked_sku
from tests.page_helpers import flashes

ILLEGAL = [
    (action, status)
    for action, (sources, _t) in TRANSITIONS.items()
    for status in OrderStatus
    if status not in sources
]


@pytest.fixture
def placed(app):
    sku = stocked_sku(app, make_merchant(app), price=1000, stock=10)
    shopper, address_id = shopper_with_address(app)
    return {
        "pending": place(app, shopper, address_id, [(sku, 1)]).order_ids[0],
        "paid": place_paid(app, shopper, address_id, [(sku, 1)]).order_ids[0],
    }


def _english(app):
    """A request context in English: the refusal names the state in the reader's language."""
    return app.test_request_context(headers={"Accept-Language": "en"})


def _events(order_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order_id)
    )


def test_every_step_outside_the_table_is_refused_naming_the_current_state(app, placed):
    """All (action, status) pairs the table does not allow, on a real order: refused, nothing written."""
    with _english(app), acting_as(SYSTEM):
        target = db.session.get(Order, placed["pending"])
        events_before = _events(target.id)
        for action, status in ILLEGAL:
            target.status = status
            with pytest.raises(IllegalTransition) as refused:
                services._transition(db.session, target, action, actor=services.SYSTEM)
            label = str(services.STATUS_LABELS[status])
            assert refused.value.facts["current"] == label, (action, status)
            assert f"Order {target.number} is {label};" in str(refused.value), (action, status)
            assert target.status is status
            assert not [obj for obj in db.session.new if isinstance(obj, OrderEvent)], (action, status)
        assert _events(target.id) == events_before
        db.session.rollback()


def test_the_table_allows_nothing_out_of_a_final_state_and_may_agrees_with_it():
    for action, (sources, _target) in TRANSITIONS.items():
        assert not sources & FINAL, action
        for status in OrderStatus:
            assert may(action, status) is (status in sources)
    reachable = {target for _sources, target in TRANSITIONS.values()}
    assert reachable >= FINAL


@pytest.mark.parametrize(
    ("which", "attempt", "sentence"),
    [
        (
            "pending",
            lambda o: services.ship_order(
                db.session, o, quantities=None, carrier="SF", waybill_no="1", actor=services.SYSTEM
            ),
            "is awaiting payment; it cannot be shipped now.",
        ),
        (
            "paid",
            lambda o: services.confirm_receipt(db.session, o, actor=services.SYSTEM),
            "is awaiting shipment; it cannot be marked received now.",
        ),
        (
            "paid",
            lambda o: oms.decide_review(db.session, o, approve=True, actor=services.SYSTEM, reason=""),
            "is awaiting shipment; it cannot be released to the warehouse now.",
        ),
        (
            "pending",
            lambda o: oms.decide_review(db.session, o, approve=False, actor=services.SYSTEM, reason="fraud"),
            "is awaiting payment; it cannot be cancelled now.",
        ),
    ],
    ids=["ship-unpaid", "receive-unshipped", "approve-not-in-review", "reject-not-in-review"],
)
def test_services_refuse_illegal_steps_and_leave_the_order_as_it_was(app, placed, which, attempt, sentence):
    order_id = placed[which]
    before = (order(app, order_id).status, history(app, order_id))

    with _english(app), acting_as(SYSTEM):
        target = db.session.get(Order, order_id)
        with pytest.raises(IllegalTransition) as refused:
            attempt(target)
        db.session.rollback()

    assert str(refused.value) == f"Order {order(app, order_id).number} {sentence}"
    assert (order(app, order_id).status, history(app, order_id)) == before


def test_cancelling_a_shipped_order_is_refused_naming_its_state(app, placed):
    with _english(app), acting_as(SYSTEM):
        paid = db.session.get(Order, placed["paid"])
        services.ship_order(
            db.session, paid, quantities=None, carrier="SF", waybill_no="SF1", actor=services.SYSTEM
        )
        db.session.commit()
        with pytest.raises(IllegalTransition, match=r"is shipped; it cannot be cancelled now\."):
            services.cancel_order(
                db.session, db.session.get(Order, placed["paid"]), actor=services.SYSTEM, reason="x"
            )
        db.session.rollback()
    assert order(app, placed["paid"]).status is OrderStatus.SHIPPED


def test_the_admin_page_says_why_a_step_is_refused(app, placed):
    complete(app, placed["paid"])
    client, _staff = staff_client(app)

    response = client.post(
        f"/admin/orders/{placed['paid']}/cancel", data={"reason": "late"}, follow_redirects=True
    )

    number = order(app, placed["paid"]).number
    assert ("error", f"Order {number} is completed; it cannot be cancelled now.") in flashes(response.text)
    assert order(app, placed["paid"]).status is OrderStatus.COMPLETED
