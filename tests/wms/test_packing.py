"""The pack station: check every unit by scan, weigh within tolerance, choose a box, ship with a waybill; the
order becomes shipped for the shopper, stock leaves the books once, and bins, tasks and ledger agree."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.catalog.models import Sku
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.fulfillment import outbound, packing
from marketplace.fulfillment.models import PickTask, PutawayTask, WaveOrder
from marketplace.fulfillment.pack_models import Parcel, ParcelStatus
from marketplace.identity.models import UserKind
from marketplace.inventory.models import StockLevel
from marketplace.merchants.models import Merchant
from marketplace.orders.drafts import OrderActor
from marketplace.orders.errors import FulfilledByPlatform
from marketplace.orders.models import Order, OrderStatus, Shipment
from marketplace.orders.services import cancel_order, ship_by_shop
from tests.factories import login, make_user
from tests.orders.order_helpers import place_paid, shopper_with_address
from tests.page_helpers import english_client, flashes
from tests.wms.flow_helpers import (
    Floor,
    parcel_lines,
    pick_all,
    platform_floor,
    release,
    shipped,
    unreconciled,
)


@pytest.fixture
def picked(app):
    """One paid order (2 × TEA, 1 × CUP) fulfilled from the platform warehouse, released and picked."""
    floor = platform_floor(app, units={"TEA": 10, "CUP": 5})
    shopper, address_id = shopper_with_address(app)
    placed = place_paid(app, shopper, address_id, [(floor.skus["TEA"], 2), (floor.skus["CUP"], 1)])
    wave_id = release(app, floor)
    picker = make_user(app, UserKind.WAREHOUSE, role="picker")
    pick_all(app, wave_id, picker.id)
    return {
        "floor": floor,
        "order_id": placed.order_ids[0],
        "number": placed.order_numbers[0],
        "wave": wave_id,
    }


@pytest.fixture
def packer_client(app):
    client = english_client(app)
    login(client, make_user(app, UserKind.WAREHOUSE, role="packer"))
    return client


def _barcode(app, sku_id: int) -> str:
    with app.app_context():
        return db.session.get(Sku, sku_id).barcode


def _open(client, number: str) -> int:
    response = client.post("/wms/pack/open", data={"scan": number}, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(re.search(r"/wms/pack/(\d+)$", response.headers["HX-Redirect"]).group(1))


def _scan(client, parcel_id: int, code: str, *, token: str, quantity: str = ""):
    return client.post(
        f"/wms/pack/{parcel_id}/check",
        data={"scan": code, "token": token, "quantity": quantity},
        headers={"HX-Request": "true"},
    )


def _status(app, parcel_id: int) -> ParcelStatus:
    with app.app_context():
        return db.session.get(Parcel, parcel_id).status


def _check_everything(app, client, parcel_id: int, floor: Floor) -> None:
    assert (
        _scan(client, parcel_id, _barcode(app, floor.skus["TEA"]), token="t1", quantity="2").status_code
        == 200
    )
    done = _scan(client, parcel_id, _barcode(app, floor.skus["CUP"]), token="t2")
    assert done.headers["HX-Redirect"].endswith(f"/wms/pack/{parcel_id}")
    assert _status(app, parcel_id) == ParcelStatus.CHECKED


def test_check_weigh_pack_ship_marks_the_order_shipped_and_takes_stock_out_once(app, picked, packer_client):
    floor = picked["floor"]
    parcel_id = _open(packer_client, picked["number"])
    assert sorted(q for _line, q, _c in parcel_lines(app, parcel_id)) == [1, 2]
    _check_everything(app, packer_client, parcel_id, floor)
    # 3 units of 250 g: 0.750 kg expected.
    page = packer_client.post(f"/wms/pack/{parcel_id}/weigh", data={"weight": "0.76"}, follow_redirects=True)
    assert ("success", "Weight recorded. Choose the box.") in flashes(page.get_data(as_text=True))
    packer_client.post(f"/wms/pack/{parcel_id}/box", data={"box": floor.box_id})
    assert _status(app, parcel_id) == ParcelStatus.PACKED
    page = packer_client.post(
        f"/wms/pack/{parcel_id}/ship",
        data={"carrier": "顺丰速运", "waybill": "SF1234567890"},
        follow_redirects=True,
    )
    assert ("success", "Shipped with 顺丰速运 SF1234567890.") in flashes(page.get_data(as_text=True))

    with app.app_context():
        order = db.session.get(Order, picked["order_id"])
        assert order.status == OrderStatus.SHIPPED
        shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
        assert (shipment.carrier, shipment.waybill_no, shipment.warehouse_id) == (
            "顺丰速运",
            "SF1234567890",
            floor.warehouse_id,
        )
        levels = {
            row.sku_id: (row.on_hand, row.reserved)
            for row in db.session.scalars(
                select(StockLevel).where(StockLevel.warehouse_id == floor.warehouse_id)
            )
        }
    assert levels[floor.skus["TEA"]] == (8, 0)
    assert levels[floor.skus["CUP"]] == (4, 0)
    assert shipped(app, picked["order_id"]) == {line: q for line, q, _c in parcel_lines(app, parcel_id)}
    assert unreconciled(app, floor.warehouse_id) == {}
    label = packer_client.get(f"/wms/pack/{parcel_id}/label").get_data(as_text=True)
    assert "SF1234567890" in label and "<svg" in label
    slip = packer_client.get(f"/wms/pack/{parcel_id}/packing-slip").get_data(as_text=True)
    assert picked["number"] in slip and "<svg" in slip


def test_check_refuses_an_item_not_in_the_order_and_one_too_many(app, picked, packer_client):
    floor = picked["floor"]
    parcel_id = _open(packer_client, picked["number"])
    wrong = _scan(packer_client, parcel_id, "6999999999999", token="a")
    assert wrong.status_code == 422
    body = wrong.get_data(as_text=True)
    assert "is not in this order" in body and "2 × TEA-" in body and "1 × CUP-" in body
    too_many = _scan(packer_client, parcel_id, _barcode(app, floor.skus["CUP"]), token="b", quantity="2")
    assert too_many.status_code == 422
    assert "Too many CUP-" in too_many.get_data(as_text=True)
    assert [c for _line, _q, c in parcel_lines(app, parcel_id)] == [0, 0]


def test_finishing_the_check_with_a_missing_item_is_refused_naming_it(app, picked, packer_client):
    floor = picked["floor"]
    parcel_id = _open(packer_client, picked["number"])
    _scan(packer_client, parcel_id, _barcode(app, floor.skus["TEA"]), token="a", quantity="2")
    refused = packer_client.post(f"/wms/pack/{parcel_id}/check/done", headers={"HX-Request": "true"})
    assert refused.status_code == 409
    assert re.search(r"Missing: 1 × CUP-\d+", refused.get_data(as_text=True))
    assert _status(app, parcel_id) == ParcelStatus.CHECKING
    # Shipping is not open either: the steps go in order.
    packer_client.post(f"/wms/pack/{parcel_id}/ship", data={"carrier": "顺丰速运", "waybill": "SF1"})
    assert shipped(app, picked["order_id"]) == {line: 0 for line, _q, _c in parcel_lines(app, parcel_id)}


def test_the_same_check_scan_submitted_twice_counts_once(app, picked, packer_client):
    floor = picked["floor"]
    parcel_id = _open(packer_client, picked["number"])
    tea = _barcode(app, floor.skus["TEA"])
    assert _scan(packer_client, parcel_id, tea, token="same").status_code == 200
    assert _scan(packer_client, parcel_id, tea, token="same").status_code == 200
    assert sorted(c for _line, _q, c in parcel_lines(app, parcel_id)) == [0, 1]


def test_a_weight_off_tolerance_needs_a_confirmation(app, picked, packer_client):
    floor = picked["floor"]
    parcel_id = _open(packer_client, picked["number"])
    _check_everything(app, packer_client, parcel_id, floor)
    # Expected 0.750 kg, tolerance max(10 %, 50 g) = 75 g: 1.2 kg is far off.
    page = packer_client.post(f"/wms/pack/{parcel_id}/weigh", data={"weight": "1.2"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "1.200 kg is 0.450 kg off the expected 0.750 kg" in text
    assert 'name="confirm"' in text
    assert _status(app, parcel_id) == ParcelStatus.CHECKED
    packer_client.post(f"/wms/pack/{parcel_id}/weigh", data={"weight": "1.2", "confirm": "1"})
    with app.app_context():
        parcel = db.session.get(Parcel, parcel_id)
        assert (parcel.status, parcel.weight_g, parcel.weight_confirmed) == (ParcelStatus.WEIGHED, 1200, True)
    # Within tolerance no confirmation is asked.
    packer_client.post(f"/wms/pack/{parcel_id}/weigh", data={"weight": "0,8"})
    with app.app_context():
        parcel = db.session.get(Parcel, parcel_id)
        assert (parcel.weight_g, parcel.weight_confirmed) == (800, False)
    bad = packer_client.post(f"/wms/pack/{parcel_id}/weigh", data={"weight": "heavy"}, follow_redirects=True)
    assert ("error", "Enter the weight in kilograms, more than 0 and at most 100.") in flashes(
        bad.get_data(as_text=True)
    )


def test_an_order_still_being_picked_cannot_be_packed(app, packer_client):
    floor = platform_floor(app, units={"TEA": 5})
    shopper, address_id = shopper_with_address(app)
    placed = place_paid(app, shopper, address_id, [(floor.skus["TEA"], 1)])
    release(app, floor)
    response = packer_client.post(
        "/wms/pack/open", data={"scan": placed.order_numbers[0]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "still has 1 pick tasks open" in response.get_data(as_text=True)
    unknown = packer_client.post("/wms/pack/open", data={"scan": "NOPE"}, headers={"HX-Request": "true"})
    assert unknown.status_code == 404


def test_a_short_pick_ships_what_was_picked_and_the_rest_returns_to_the_pool(app, packer_client):
    floor = platform_floor(app, units={"TEA": 3})
    shopper, address_id = shopper_with_address(app)
    placed = place_paid(app, shopper, address_id, [(floor.skus["TEA"], 3)])
    wave_id = release(app, floor)
    picker = make_user(app, UserKind.WAREHOUSE, role="picker")
    with app.app_context(), acting_as(SYSTEM):
        task = outbound.claim_next_task(db.session, db.session.get(outbound.Wave, wave_id), picker.id)
        outbound.report_short(db.session, task, picker_id=picker.id, quantity_found=2, reason="damaged")
        db.session.commit()
    parcel_id = _open(packer_client, placed.order_numbers[0])
    assert [q for _line, q, _c in parcel_lines(app, parcel_id)] == [2]
    _scan(packer_client, parcel_id, _barcode(app, floor.skus["TEA"]), token="x", quantity="2")
    packer_client.post(f"/wms/pack/{parcel_id}/weigh", data={"weight": "0.5"})
    packer_client.post(f"/wms/pack/{parcel_id}/box", data={"box": floor.box_id})
    packer_client.post(f"/wms/pack/{parcel_id}/ship", data={"carrier": "中通快递", "issue": "1"})
    with app.app_context():
        order = db.session.get(Order, placed.order_ids[0])
        assert order.status == OrderStatus.PARTIALLY_SHIPPED
        assert re.fullmatch(r"WB\d{6}\d{8}", order.shipments[0].waybill_no)
        assert db.session.scalar(select(WaveOrder.id).where(WaveOrder.order_id == order.id)) is None
        pool = outbound.outbound_pool(db.session, floor.warehouse_id)
    assert sum(p.orders for p in pool) == 1  # the third unit waits for the next wave
    assert unreconciled(app, floor.warehouse_id) == {}


def test_a_waybill_already_used_by_another_order_is_refused(app, packer_client):
    floor = platform_floor(app, units={"TEA": 5})
    shopper, address_id = shopper_with_address(app)
    first = place_paid(app, shopper, address_id, [(floor.skus["TEA"], 1)])
    second = place_paid(app, shopper, address_id, [(floor.skus["TEA"], 1)])
    wave_id = release(app, floor)
    pick_all(app, wave_id, make_user(app, UserKind.WAREHOUSE, role="picker").id)
    parcels = []
    for number in (first.order_numbers[0], second.order_numbers[0]):
        parcel_id = _open(packer_client, number)
        _scan(packer_client, parcel_id, _barcode(app, floor.skus["TEA"]), token=number)
        packer_client.post(f"/wms/pack/{parcel_id}/weigh", data={"weight": "0.25"})
        packer_client.post(f"/wms/pack/{parcel_id}/box", data={"box": floor.box_id})
        parcels.append(parcel_id)
    packer_client.post(f"/wms/pack/{parcels[0]}/ship", data={"carrier": "韵达快递", "waybill": "YD100"})
    page = packer_client.post(
        f"/wms/pack/{parcels[1]}/ship",
        data={"carrier": "韵达快递", "waybill": "YD100"},
        follow_redirects=True,
    )
    assert (
        "error",
        f"Waybill YD100 of 韵达快递 is already on order {first.order_numbers[0]}.",
    ) in flashes(page.get_data(as_text=True))
    assert _status(app, parcels[1]) == ParcelStatus.PACKED


def test_an_order_cancelled_after_picking_goes_back_to_stock(app, picked, packer_client):
    floor = picked["floor"]
    parcel_id = _open(packer_client, picked["number"])
    with app.app_context(), acting_as(SYSTEM):
        cancel_order(
            db.session,
            db.session.get(Order, picked["order_id"]),
            actor=OrderActor(None, "shop"),
            reason="test",
        )
        db.session.commit()
    page = packer_client.get(f"/wms/pack/{parcel_id}").get_data(as_text=True)
    assert "This order can no longer ship" in page
    packer_client.post(f"/wms/pack/{parcel_id}/return")
    assert _status(app, parcel_id) == ParcelStatus.RETURNED
    with app.app_context():
        tasks = db.session.scalars(
            select(PutawayTask).where(
                PutawayTask.warehouse_id == floor.warehouse_id, PutawayTask.quantity_done == 0
            )
        ).all()
        assert sorted(t.quantity for t in tasks) == [1, 2]
        level = db.session.scalar(
            select(StockLevel).where(
                StockLevel.warehouse_id == floor.warehouse_id, StockLevel.sku_id == floor.skus["TEA"]
            )
        )
        assert (level.on_hand, level.reserved, level.available) == (10, 0, 10)
    assert unreconciled(app, floor.warehouse_id) == {}


def test_open_tasks_of_a_cancelled_order_are_dropped_before_picking(app):
    floor = platform_floor(app, units={"TEA": 5})
    shopper, address_id = shopper_with_address(app)
    placed = place_paid(app, shopper, address_id, [(floor.skus["TEA"], 2)])
    wave_id = release(app, floor)
    with app.app_context(), acting_as(SYSTEM):
        cancel_order(
            db.session, db.session.get(Order, placed.order_ids[0]), actor=OrderActor(None, "shop"), reason="x"
        )
        db.session.commit()
    picker = make_user(app, UserKind.WAREHOUSE, role="picker")
    with app.app_context(), acting_as(SYSTEM):
        wave = db.session.get(outbound.Wave, wave_id)
        assert outbound.claim_next_task(db.session, wave, picker.id) is None
        db.session.commit()
        task = db.session.scalar(select(PickTask).where(PickTask.wave_id == wave_id))
        assert (task.status.value, task.short_reason) == ("short", outbound.ORDER_CANCELLED)
    assert unreconciled(app, floor.warehouse_id) == {}


def test_a_picker_cannot_use_the_pack_station(app, picked):
    client = english_client(app)
    login(client, make_user(app, UserKind.WAREHOUSE, role="picker"))
    assert client.post("/wms/pack/open", data={"scan": picked["number"]}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Parcel.id)) is None


def test_the_tolerance_is_the_larger_of_the_share_and_the_allowance():
    tolerance = packing.Tolerance(percent=10, grams=50)
    assert tolerance.allowed(200) == 50
    assert tolerance.allowed(2000) == 200


def test_the_shop_cannot_ship_lines_held_in_the_platform_warehouse(app, picked):
    with app.app_context(), acting_as(SYSTEM):
        order = db.session.get(Order, picked["order_id"])
        with pytest.raises(FulfilledByPlatform):
            ship_by_shop(
                db.session,
                order,
                quantities=None,
                carrier="顺丰速运",
                waybill_no="SF9",
                actor=OrderActor(None, "shop"),
            )
        db.session.rollback()
        assert db.session.get(Order, picked["order_id"]).status == OrderStatus.AWAITING_SHIPMENT


def test_the_home_screen_offers_each_role_its_tasks_with_the_work_waiting(app, picked, packer_client):
    home = packer_client.get("/wms/").text
    assert 'href="/wms/pack"' in home and 'href="/wms/pick"' not in home
    assert re.search(r'data-count="pack">1 waiting<', home)
    picker = english_client(app)
    login(picker, make_user(app, UserKind.WAREHOUSE, role="picker"))
    home = picker.get("/wms/").text
    assert 'href="/wms/pick"' in home and 'href="/wms/pack"' not in home
    assert re.search(r'data-count="pick">0 waiting<', home)


def test_the_shop_sees_that_the_platform_warehouse_ships_its_order(app, picked):
    with app.app_context():
        shop = db.session.get(Merchant, picked["floor"].shop_id)
    client = english_client(app)
    login(client, make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True))
    page = client.get(f"/merchant/orders/{picked['order_id']}").text
    assert 'id="platform-fulfilled"' in page
    assert f"/merchant/orders/{picked['order_id']}/ship" not in page


def test_a_supervisor_writes_off_units_missing_at_the_check_and_the_rest_is_picked_again(app, picked):
    floor = picked["floor"]
    packer = english_client(app)
    login(packer, make_user(app, UserKind.WAREHOUSE, role="packer"))
    parcel_id = _open(packer, picked["number"])
    _scan(packer, parcel_id, _barcode(app, floor.skus["TEA"]), token="a", quantity="2")
    assert packer.post(f"/wms/pack/{parcel_id}/missing").status_code == 403  # a packer may not write off

    supervisor = english_client(app)
    login(supervisor, make_user(app, UserKind.WAREHOUSE, role="supervisor"))
    page = supervisor.post(f"/wms/pack/{parcel_id}/missing", follow_redirects=True).text
    assert ("success", "The missing units are written off. Weigh what was checked; the rest of the order will "
            "be picked again.") in flashes(page)  # fmt: skip
    assert _status(app, parcel_id) == ParcelStatus.CHECKED
    assert unreconciled(app, floor.warehouse_id) == {}
    with app.app_context():
        cup = db.session.scalar(
            select(StockLevel).where(
                StockLevel.warehouse_id == floor.warehouse_id, StockLevel.sku_id == floor.skus["CUP"]
            )
        )
        assert (cup.on_hand, cup.reserved) == (4, 1)  # one unit lost; the order still holds one
    supervisor.post(f"/wms/pack/{parcel_id}/weigh", data={"weight": "0.5"})
    supervisor.post(f"/wms/pack/{parcel_id}/box", data={"box": floor.box_id})
    supervisor.post(f"/wms/pack/{parcel_id}/ship", data={"carrier": "顺丰速运", "waybill": "SF42"})
    with app.app_context():
        assert db.session.get(Order, picked["order_id"]).status == OrderStatus.PARTIALLY_SHIPPED
        pool = outbound.outbound_pool(db.session, floor.warehouse_id)
    assert sum(p.orders for p in pool) == 1  # the cup is picked again in the next wave
    assert unreconciled(app, floor.warehouse_id) == {}
