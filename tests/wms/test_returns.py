"""Customer returns: good units back to stock with a putaway task, damaged units recorded only, never more back
than was shipped, and the platform warehouse's stock invariant after every step."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.fulfillment import returns
from marketplace.fulfillment.models import PutawayStatus, PutawayTask
from marketplace.fulfillment.transfer_models import ReturnReceipt, ReturnReceiptLine
from marketplace.inventory.models import StockMovement
from marketplace.orders.models import Order, OrderLine
from tests.concurrency import race
from tests.wms.returns_helpers import (
    TOKEN,
    assert_invariant,
    level,
    make_floor,
    shipped_order,
    stock_bin,
    worker,
)


@pytest.fixture
def floor(app):
    floor = make_floor(app)
    stock_bin(app, floor, "A-01-01", "TEA", 10)
    stock_bin(app, floor, "A-01-02", "CUP", 5)
    floor["order"] = shipped_order(app, floor, {"TEA": 3, "CUP": 2})
    assert_invariant(app, floor["main"])
    return floor


def _lines(app, number: str) -> dict[str, int]:
    """SKU name -> order line id."""
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        return {line.sku_code: line.id for line in order.lines}


def _receive(app, floor, lines, case: str = ""):
    with app.app_context(), acting_as(SYSTEM):
        order = returns.find_order(db.session, floor["order"].lower(), floor["main"])
        receipt = returns.receive_return(
            db.session, order_id=order.id, warehouse_id=floor["main"], lines=lines, case_reference=case,
            actor_id=None,
        )  # fmt: skip
        db.session.commit()
        return receipt.number


def test_a_return_of_a_shipped_order_books_good_units_with_a_putaway_task(app, floor):
    ids = _lines(app, floor["order"])
    tea, cup = floor["skus"]["TEA"], floor["skus"]["CUP"]
    assert level(app, floor["main"], tea) == (7, 7)

    number = _receive(
        app, floor, [(ids[floor["codes"]["TEA"]], 2, 0), (ids[floor["codes"]["CUP"]], 0, 1)], case="AS-77"
    )

    assert level(app, floor["main"], tea) == (9, 9)
    assert level(app, floor["main"], cup) == (3, 3)  # the damaged cup is not stock
    with app.app_context():
        tasks = db.session.scalars(select(PutawayTask)).all()
        assert [(t.sku_id, t.quantity, t.status, t.receipt_line_id) for t in tasks] == [
            (tea, 2, PutawayStatus.OPEN, None)
        ]
        receipt = db.session.scalar(select(ReturnReceipt))
        assert (receipt.number, receipt.case_reference) == (number, "AS-77")
        assert [(ln.quantity_good, ln.quantity_damaged, ln.putaway_task_id) for ln in receipt.lines] == [
            (2, 0, tasks[0].id),
            (0, 1, None),
        ]
        movement = db.session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()
        assert movement.reason == f"Return {number} (order {floor['order']})"
    assert_invariant(app, floor["main"])


def test_returning_more_than_was_shipped_is_refused_and_changes_nothing(app, floor):
    ids = _lines(app, floor["order"])
    tea_line = ids[floor["codes"]["TEA"]]
    _receive(app, floor, [(tea_line, 2, 0)])
    before = level(app, floor["main"], floor["skus"]["TEA"])

    with pytest.raises(returns.ReturnTooMany) as refused:
        _receive(app, floor, [(ids[floor["codes"]["CUP"]], 1, 0), (tea_line, 1, 1)])

    assert refused.value.facts["left"] == 1
    assert level(app, floor["main"], floor["skus"]["TEA"]) == before
    assert level(app, floor["main"], floor["skus"]["CUP"]) == (3, 3)
    with app.app_context():
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(ReturnReceipt)) == 1
        assert db.session.scalar(select(func.count()).select_from(PutawayTask)) == 1
    assert_invariant(app, floor["main"])


def test_an_order_not_shipped_from_this_warehouse_or_unknown_is_refused(app, floor):
    with app.app_context():
        with pytest.raises(returns.UnknownOrder):
            returns.find_order(db.session, floor["order"], floor["other"])
        with pytest.raises(returns.UnknownOrder):
            returns.find_order(db.session, "NOPE", floor["main"])
        order = db.session.scalar(select(Order).where(Order.number == floor["order"]))
        order.status = returns.OrderStatus.AWAITING_SHIPMENT
        with pytest.raises(returns.OrderNotShipped):
            returns.find_order(db.session, floor["order"], floor["main"])
        db.session.rollback()


# --- handheld -----------------------------------------------------------------------------------------------


def _open(client, number: str) -> str:
    response = client.post("/wms/returns/order", data={"order": number.lower()})
    assert response.status_code == 302, response.text
    return TOKEN.search(client.get("/wms/returns").text).group(1)


def _scan(client, token: str, code: str, **extra):
    response = client.post(
        "/wms/returns/scan", data={"token": token, "code": code, **extra}, headers={"HX-Request": "true"}
    )
    match = TOKEN.search(response.text)
    return response, match.group(1) if match else None


def test_handheld_return_scan_by_scan_with_a_damaged_unit(app, floor):
    client = worker(app)
    token = _open(client, floor["order"])

    response, token = _scan(client, token, "6900000000011", qty="2")
    assert response.status_code == 200 and f"{floor['codes']['TEA']}: +2." in response.text
    response, token = _scan(client, token, "6900000000011")  # empty quantity: one unit
    response, token = _scan(client, token, floor["codes"]["CUP"], damaged="1")
    assert f"{floor['codes']['CUP']}: 1 damaged." in response.text
    response = client.post(
        "/wms/returns/book", data={"case_reference": "AS-1"}, headers={"HX-Request": "true"}
    )
    assert response.headers.get("HX-Redirect") == "/wms/returns", response.text

    assert level(app, floor["main"], floor["skus"]["TEA"]) == (10, 10)
    assert level(app, floor["main"], floor["skus"]["CUP"]) == (3, 3)
    with app.app_context():
        rows = db.session.execute(
            select(OrderLine.sku_code, ReturnReceiptLine.quantity_good, ReturnReceiptLine.quantity_damaged)
            .join(OrderLine, OrderLine.id == ReturnReceiptLine.order_line_id)
            .order_by(ReturnReceiptLine.id)
        ).all()
        assert sorted(rows) == sorted([(floor["codes"]["TEA"], 3, 0), (floor["codes"]["CUP"], 0, 1)])
    assert_invariant(app, floor["main"])


def test_a_double_submitted_return_scan_counts_once(app, floor):
    client = worker(app)
    token = _open(client, floor["order"])

    first, _ = _scan(client, token, floor["codes"]["TEA"], qty="2")
    again, _ = _scan(client, token, floor["codes"]["TEA"], qty="2")

    assert f"{floor['codes']['TEA']}: +2." in first.text
    assert "Already counted." in again.text
    client.post("/wms/returns/book", headers={"HX-Request": "true"})
    assert level(app, floor["main"], floor["skus"]["TEA"]) == (9, 9)
    assert_invariant(app, floor["main"])


def test_scanning_more_than_was_shipped_is_refused_on_the_handheld(app, floor):
    client = worker(app)
    token = _open(client, floor["order"])

    response, _ = _scan(client, token, floor["codes"]["CUP"], qty="3")

    assert response.status_code == 409
    assert f"{floor['codes']['CUP']}: only 2 units of this order can still come back." in response.text
    assert level(app, floor["main"], floor["skus"]["CUP"]) == (3, 3)


def test_an_unknown_order_is_refused_and_a_picker_may_not_receive_returns(app, floor):
    client = worker(app)
    response = client.post("/wms/returns/order", data={"order": "NOPE-1"})
    assert response.status_code == 422 and "No order NOPE-1 shipped from this warehouse." in response.text
    assert worker(app, "picker").get("/wms/returns").status_code == 403


def test_two_receivers_returning_the_last_units_at_once_book_once(app, floor, postgres_only):
    tea_line = _lines(app, floor["order"])[floor["codes"]["TEA"]]
    with app.app_context():
        order_id = db.session.scalar(select(Order.id).where(Order.number == floor["order"]))

    def attempt(n):
        returns.receive_return(
            db.session, order_id=order_id, warehouse_id=floor["main"], lines=[(tea_line, 2, 0)], actor_id=None
        )

    outcomes = race(app, 2, attempt, returns.ReturnTooMany)

    assert sorted(outcomes) == ["refused", "won"]
    assert level(app, floor["main"], floor["skus"]["TEA"]) == (9, 9)
    assert_invariant(app, floor["main"])
