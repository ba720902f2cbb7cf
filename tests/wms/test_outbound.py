"""Outbound: releasing waves of paid orders, picking on the handheld bin by bin, short picks, and the races."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.fulfillment import outbound, services
from marketplace.fulfillment.models import BinStock, PickStatus, PickTask, Wave, WaveOrder, WaveStatus
from marketplace.identity.models import UserKind
from marketplace.inventory.services import default_warehouse, platform_warehouse
from marketplace.orders.models import Order, OrderLine, OrderStatus
from tests.concurrency import race
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client, flashes

_numbers = itertools.count(1)
PAID = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def floor(app):
    """The platform warehouse with bins A-01-01, A-02-01, A-10-01 (route order) and a shop's two SKUs."""
    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = platform_warehouse(db.session)
        zone = services.create_zone(db.session, warehouse, code="A", name="Ambient")
        bins = {
            code: services.create_bin(db.session, warehouse, zone, code=code).id
            for code in ["A-10-01", "A-02-01", "A-01-01"]
        }
        category = save_category(db.session, name=f"Outbound {shop.id}")
        products = {
            code: create_product(
                db.session,
                tenant_id=shop.id,
                data=ProductInput(
                    title=f"Tea {code}",
                    category_id=category.id,
                    skus=[SkuInput({}, code, 990, barcode=barcode)],
                ),
                actor_id=None,
            )
            for code, barcode in [("TEA-S", "6900000000011"), ("TEA-L", "6900000000028")]
        }
        db.session.commit()
        return {
            "warehouse_id": warehouse.id,
            "zone_id": zone.id,
            "bins": bins,
            "shop_id": shop.id,
            "products": {code: product.id for code, product in products.items()},
            "skus": {code: product.skus[0].id for code, product in products.items()},
        }


def _stock(app, floor, bin_code: str, sku_code: str, quantity: int) -> None:
    with app.app_context(), acting_as(SYSTEM):
        db.session.add(
            BinStock(
                tenant_id=floor["shop_id"],
                sku_id=floor["skus"][sku_code],
                bin_id=floor["bins"][bin_code],
                warehouse_id=floor["warehouse_id"],
                quantity=quantity,
            )
        )
        db.session.commit()


def _order(
    app,
    floor,
    lines: dict[str, int],
    *,
    status: OrderStatus = OrderStatus.AWAITING_SHIPMENT,
    carrier: str = "SF Express",
    paid_at: datetime = PAID,
    warehouse_id: int | None = None,
) -> int:
    with app.app_context(), acting_as(SYSTEM):
        order = Order(
            tenant_id=floor["shop_id"],
            number=f"OB{next(_numbers):08d}",
            status=status,
            shipping_method=carrier,
            paid_at=paid_at,
        )
        db.session.add(order)
        db.session.flush()
        for code, quantity in lines.items():
            db.session.add(
                OrderLine(
                    tenant_id=floor["shop_id"],
                    order_id=order.id,
                    product_id=floor["products"][code],
                    sku_id=floor["skus"][code],
                    warehouse_id=warehouse_id or floor["warehouse_id"],
                    title="Tea",
                    sku_code=code,
                    unit_price=990,
                    quantity=quantity,
                    amount=990 * quantity,
                )
            )
        db.session.commit()
        return order.id


def _release(app, floor, **filters) -> int:
    with app.app_context(), acting_as(SYSTEM):
        warehouse = db.session.get(outbound.Warehouse, floor["warehouse_id"])
        wave = outbound.release_wave(db.session, warehouse, **filters)
        db.session.commit()
        return wave.id


def _tasks(app, wave_id: int) -> list[tuple[str | None, str, int, str]]:
    """(bin code, SKU code, quantity, status) per task of the wave in route order."""
    with app.app_context():
        rows = db.session.execute(
            select(PickTask, outbound.Bin.code, outbound.Sku.code)
            .outerjoin(outbound.Bin, outbound.Bin.id == PickTask.bin_id)
            .join(outbound.Sku, outbound.Sku.id == PickTask.sku_id)
            .where(PickTask.wave_id == wave_id)
            .order_by(PickTask.status, PickTask.sequence, outbound.Sku.code.desc(), PickTask.id)
        ).all()
        return [(bin_code, sku, task.quantity, task.status.value) for task, bin_code, sku in rows]


def _bin_quantity(app, floor, bin_code: str, sku_code: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(BinStock.quantity).where(
                BinStock.bin_id == floor["bins"][bin_code], BinStock.sku_id == floor["skus"][sku_code]
            )
        )


def test_a_wave_takes_only_this_warehouses_awaiting_orders_not_already_in_a_wave(app, floor):
    _stock(app, floor, "A-01-01", "TEA-S", 50)
    first = _order(app, floor, {"TEA-S": 1})
    _order(app, floor, {"TEA-S": 1}, status=OrderStatus.PENDING_PAYMENT)
    _order(app, floor, {"TEA-S": 1}, status=OrderStatus.SHIPPED)
    with app.app_context(), acting_as(SYSTEM):
        own = default_warehouse(db.session, floor["shop_id"]).id
        db.session.commit()
    _order(app, floor, {"TEA-S": 1}, warehouse_id=own)

    wave_id = _release(app, floor)
    with app.app_context():
        assert db.session.scalars(select(WaveOrder.order_id).where(WaveOrder.wave_id == wave_id)).all() == [
            first
        ]
    second = _order(app, floor, {"TEA-S": 2})
    again = _release(app, floor)
    with app.app_context():
        assert db.session.scalars(select(WaveOrder.order_id).where(WaveOrder.wave_id == again)).all() == [
            second
        ]
        assert db.session.get(Wave, again).number == db.session.get(Wave, wave_id).number + 1
    with pytest.raises(outbound.NothingToRelease), app.app_context(), acting_as(SYSTEM):
        outbound.release_wave(db.session, db.session.get(outbound.Warehouse, floor["warehouse_id"]))


def test_wave_filters_by_carrier_cutoff_and_single_or_multi_line(app, floor):
    _stock(app, floor, "A-01-01", "TEA-S", 50)
    _stock(app, floor, "A-01-01", "TEA-L", 50)
    single_sf = _order(app, floor, {"TEA-S": 1})
    multi_sf = _order(app, floor, {"TEA-S": 1, "TEA-L": 1})
    late_sf = _order(app, floor, {"TEA-S": 1}, paid_at=PAID + timedelta(hours=5))
    yto = _order(app, floor, {"TEA-S": 1}, carrier="YTO")

    with app.app_context():
        pool = outbound.outbound_pool(db.session, floor["warehouse_id"])
    assert {(p.carrier, p.single_line, p.orders) for p in pool} == {
        ("SF Express", True, 2),
        ("SF Express", False, 1),
        ("YTO", True, 1),
    }

    def members(wave_id):
        with app.app_context():
            return set(db.session.scalars(select(WaveOrder.order_id).where(WaveOrder.wave_id == wave_id)))

    assert members(_release(app, floor, carrier="SF Express", single_line=False)) == {multi_sf}
    assert members(_release(app, floor, cutoff=PAID + timedelta(hours=1), single_line=True)) == {
        single_sf,
        yto,
    }
    assert members(_release(app, floor, carrier="SF Express")) == {late_sf}


def test_tasks_follow_the_bin_route_and_spill_to_the_next_bin(app, floor):
    _stock(app, floor, "A-10-01", "TEA-S", 10)
    _stock(app, floor, "A-02-01", "TEA-S", 2)
    _stock(app, floor, "A-01-01", "TEA-L", 5)
    _order(app, floor, {"TEA-S": 3, "TEA-L": 1})

    wave_id = _release(app, floor)

    assert _tasks(app, wave_id) == [
        ("A-01-01", "TEA-L", 1, "open"),
        ("A-02-01", "TEA-S", 2, "open"),
        ("A-10-01", "TEA-S", 1, "open"),
    ]


def test_a_line_no_bin_can_cover_is_left_out_with_the_reason(app, floor):
    _stock(app, floor, "A-01-01", "TEA-S", 3)
    first = _order(app, floor, {"TEA-S": 2})
    _order(app, floor, {"TEA-S": 2, "TEA-L": 1}, paid_at=PAID + timedelta(minutes=1))

    wave_id = _release(app, floor)

    assert _tasks(app, wave_id) == [
        ("A-01-01", "TEA-S", 2, "open"),
        ("A-01-01", "TEA-S", 1, "open"),
        (None, "TEA-S", 1, "short"),
        (None, "TEA-L", 1, "short"),
    ]
    with app.app_context():
        reasons = set(db.session.scalars(select(PickTask.short_reason).where(PickTask.bin_id.is_(None))))
        assert reasons == {outbound.NO_BIN_STOCK}
        # The oldest order is served first; units already promised are not promised again.
        assert (
            db.session.scalar(
                select(func.sum(PickTask.quantity)).where(
                    PickTask.order_id == first, PickTask.status == PickStatus.OPEN
                )
            )
            == 2
        )
    _order(app, floor, {"TEA-S": 1})
    later = _release(app, floor)
    assert _tasks(app, later) == [(None, "TEA-S", 1, "short")]


def _claim(app, wave_id: int, picker_id: int) -> int | None:
    with app.app_context(), acting_as(SYSTEM):
        task = outbound.claim_next_task(db.session, db.session.get(Wave, wave_id), picker_id)
        db.session.commit()
        return task.id if task else None


def _picker(app) -> int:
    return make_user(app, UserKind.WAREHOUSE, role="picker").id


def test_wrong_bin_and_wrong_item_scans_are_refused_and_change_nothing(app, floor):
    _stock(app, floor, "A-02-01", "TEA-S", 5)
    _order(app, floor, {"TEA-S": 2})
    wave_id = _release(app, floor)
    picker = _picker(app)
    task_id = _claim(app, wave_id, picker)

    with app.app_context(), acting_as(SYSTEM):
        task = db.session.get(PickTask, task_id)
        with pytest.raises(outbound.WrongBin) as wrong_bin:
            outbound.confirm_pick(
                db.session,
                task,
                picker_id=picker,
                bin_scan="PLATFORM-A-01-01",
                item_scan="6900000000011",
                token="t1",
            )
        assert wrong_bin.value.facts == {"scanned": "PLATFORM-A-01-01", "expected": "A-02-01"}
        with pytest.raises(outbound.WrongItem) as wrong_item:
            outbound.confirm_pick(
                db.session,
                task,
                picker_id=picker,
                bin_scan="platform-a-02-01",
                item_scan="6900000000028",
                token="t1",
            )
        assert wrong_item.value.facts == {"scanned": "6900000000028", "expected": "TEA-S"}
        db.session.rollback()
        task = db.session.get(PickTask, task_id)
        assert task.status == PickStatus.CLAIMED and task.quantity_picked == 0
    assert _bin_quantity(app, floor, "A-02-01", "TEA-S") == 5


def test_confirming_takes_the_units_from_the_bin_once_even_if_submitted_twice(app, floor):
    _stock(app, floor, "A-02-01", "TEA-S", 5)
    _order(app, floor, {"TEA-S": 2})
    wave_id = _release(app, floor)
    picker = _picker(app)
    task_id = _claim(app, wave_id, picker)

    for _ in range(2):
        with app.app_context(), acting_as(SYSTEM):
            task = db.session.get(PickTask, task_id)
            outbound.confirm_pick(
                db.session, task, picker_id=picker, bin_scan="A-02-01", item_scan="TEA-S", token="scan-1"
            )
            db.session.commit()

    assert _bin_quantity(app, floor, "A-02-01", "TEA-S") == 3
    with app.app_context():
        task = db.session.get(PickTask, task_id)
        assert (task.status, task.quantity_picked) == (PickStatus.PICKED, 2)
        assert db.session.get(Wave, wave_id).status == WaveStatus.PICKED
    assert _claim(app, wave_id, picker) is None


def test_a_double_submitted_scan_racing_itself_is_counted_once(app, floor, postgres_only):
    _stock(app, floor, "A-02-01", "TEA-S", 5)
    _order(app, floor, {"TEA-S": 2})
    wave_id = _release(app, floor)
    picker = _picker(app)
    task_id = _claim(app, wave_id, picker)

    def submit(n: int) -> None:
        task = db.session.get(PickTask, task_id)
        outbound.confirm_pick(
            db.session, task, picker_id=picker, bin_scan="A-02-01", item_scan="6900000000011", token="same"
        )

    assert sorted(race(app, 2, submit, outbound.TaskNotYours)) == ["won", "won"]
    assert _bin_quantity(app, floor, "A-02-01", "TEA-S") == 3


def test_a_short_pick_is_replanned_to_another_bin(app, floor):
    _stock(app, floor, "A-01-01", "TEA-S", 2)
    _stock(app, floor, "A-10-01", "TEA-S", 4)
    _order(app, floor, {"TEA-S": 2})
    wave_id = _release(app, floor)
    picker = _picker(app)
    task_id = _claim(app, wave_id, picker)

    with app.app_context(), acting_as(SYSTEM):
        task = db.session.get(PickTask, task_id)
        with pytest.raises(outbound.InvalidShort):
            outbound.report_short(db.session, task, picker_id=picker, quantity_found=2, reason="damaged")
        new = outbound.report_short(db.session, task, picker_id=picker, quantity_found=1, reason="damaged")
        db.session.commit()
        assert [(t.bin_id, t.quantity, t.status) for t in new] == [
            (floor["bins"]["A-10-01"], 1, PickStatus.OPEN)
        ]

    assert _bin_quantity(app, floor, "A-01-01", "TEA-S") == 1
    assert _tasks(app, wave_id) == [
        ("A-10-01", "TEA-S", 1, "open"),
        ("A-01-01", "TEA-S", 2, "short"),
    ]
    with app.app_context():
        assert db.session.get(PickTask, task_id).short_reason == "damaged"

    # Nothing found at the second bin either, and no other bin holds it: the line is flagged short.
    second = _claim(app, wave_id, picker)
    with app.app_context(), acting_as(SYSTEM):
        task = db.session.get(PickTask, second)
        new = outbound.report_short(db.session, task, picker_id=picker, quantity_found=0, reason="not_found")
        db.session.commit()
        assert [(t.bin_id, t.quantity, t.status, t.short_reason) for t in new] == [
            (None, 1, PickStatus.SHORT, outbound.NO_BIN_STOCK)
        ]
        assert db.session.get(Wave, wave_id).status == WaveStatus.PICKED
    assert _bin_quantity(app, floor, "A-10-01", "TEA-S") == 4


def test_a_bin_that_runs_out_refuses_the_pick_and_never_goes_negative(app, floor):
    _stock(app, floor, "A-02-01", "TEA-S", 2)
    _order(app, floor, {"TEA-S": 2})
    wave_id = _release(app, floor)
    picker = _picker(app)
    task_id = _claim(app, wave_id, picker)
    with app.app_context(), acting_as(SYSTEM):
        db.session.execute(
            outbound.update(BinStock).where(BinStock.bin_id == floor["bins"]["A-02-01"]).values(quantity=1)
        )
        db.session.commit()

    with app.app_context(), acting_as(SYSTEM):
        task = db.session.get(PickTask, task_id)
        with pytest.raises(outbound.BinRunsShort):
            outbound.confirm_pick(
                db.session, task, picker_id=picker, bin_scan="A-02-01", item_scan="TEA-S", token="x"
            )
        db.session.rollback()
    assert _bin_quantity(app, floor, "A-02-01", "TEA-S") == 1


def test_two_pickers_racing_never_claim_the_same_task(app, floor, postgres_only):
    _stock(app, floor, "A-01-01", "TEA-S", 50)
    for _ in range(6):
        _order(app, floor, {"TEA-S": 1})
    wave_id = _release(app, floor)
    pickers = [_picker(app) for _ in range(4)]
    claimed: list[int] = []

    def claim(n: int) -> None:
        task = outbound.claim_next_task(db.session, db.session.get(Wave, wave_id), pickers[n])
        claimed.append(task.id)

    assert race(app, 4, claim, outbound.TaskNotYours) == ["won"] * 4
    assert len(set(claimed)) == 4
    with app.app_context():
        owners = db.session.execute(
            select(PickTask.claimed_by).where(PickTask.status == PickStatus.CLAIMED)
        ).scalars()
        assert sorted(owners) == sorted(pickers)


def test_a_user_without_wms_pick_gets_403(app, floor):
    client = english_client(app)
    login(client, make_user(app, UserKind.WAREHOUSE, role="packer"))
    assert client.get("/wms/pick").status_code == 403
    assert client.get("/wms/outbound").status_code == 403
    picker = english_client(app)
    login(picker, make_user(app, UserKind.WAREHOUSE, role="picker"))
    assert picker.get("/wms/outbound").status_code == 403
    assert picker.get("/wms/pick").status_code == 200


def test_the_supervisor_releases_a_wave_and_prints_its_pick_list_in_route_order(app, floor):
    _stock(app, floor, "A-10-01", "TEA-S", 5)
    _stock(app, floor, "A-01-01", "TEA-L", 5)
    _order(app, floor, {"TEA-S": 2, "TEA-L": 1})
    _order(app, floor, {"TEA-S": 1}, carrier="YTO")
    client = english_client(app)
    login(client, make_user(app, UserKind.WAREHOUSE, role="supervisor"))

    desk = client.get("/wms/outbound")
    assert desk.status_code == 200
    assert "Waiting to be picked: 2" in desk.text and "YTO" in desk.text

    released = client.post(
        "/wms/outbound/waves",
        data={
            "warehouse": floor["warehouse_id"],
            "carrier": "SF Express",
            "lines": "",
            "cutoff": "",
            "limit": "10",
        },
        follow_redirects=True,
    )
    assert released.status_code == 200
    assert ("success", "Wave 1 released with 1 orders.") in flashes(released.text)
    with app.app_context():
        wave_id = db.session.scalar(select(Wave.id))
    pick_list = client.get(f"/wms/outbound/waves/{wave_id}/pick-list").text
    assert pick_list.index("A-01-01") < pick_list.index("A-10-01")
    refused = client.post(
        "/wms/outbound/waves", data={"carrier": "SF Express", "limit": "10"}, follow_redirects=True
    )
    assert ("error", "No awaiting orders match these filters.") in flashes(refused.text)


def test_picking_on_the_handheld_scan_by_scan(app, floor):
    _stock(app, floor, "A-02-01", "TEA-S", 5)
    _order(app, floor, {"TEA-S": 2})
    _release(app, floor)
    client = english_client(app)
    login(client, make_user(app, UserKind.WAREHOUSE, role="picker"))

    assert "Start the next pick" in client.get("/wms/pick").text
    page = client.post("/wms/pick/next", follow_redirects=True).text
    assert 'id="pick-bin">A-02-01<' in page and 'id="pick-qty">2<' in page
    with app.app_context():
        task_id = db.session.scalar(select(PickTask.id).where(PickTask.status == PickStatus.CLAIMED))
    url = f"/wms/pick/{task_id}/scan"
    headers = {"HX-Request": "true"}

    wrong = client.post(url, data={"scan": "PLATFORM-A-01-01", "token": "t"}, headers=headers)
    assert wrong.status_code == 422 and "go to bin A-02-01" in wrong.text and "scan-error" in wrong.text
    ok = client.post(url, data={"scan": "PLATFORM-A-02-01", "token": "t"}, headers=headers)
    assert ok.status_code == 200 and 'value="PLATFORM-A-02-01"' in ok.text and "hx-swap-oob" in ok.text
    wrong_item = client.post(
        url, data={"scan": "nope", "bin_scan": "PLATFORM-A-02-01", "token": "t"}, headers=headers
    )
    assert wrong_item.status_code == 422 and "pick TEA-S" in wrong_item.text
    assert _bin_quantity(app, floor, "A-02-01", "TEA-S") == 5

    for _ in range(2):
        done = client.post(url, data={"scan": "6900000000011", "bin_scan": "PLATFORM-A-02-01", "token": "t"},
                           headers=headers)  # fmt: skip
        # The next screen replaces this one in place (here: nothing left), no page load; settled at once, so
        # a scan fired right after the swap already goes through htmx.
        assert done.status_code == 200 and done.headers["HX-Retarget"] == "#pick-screen"
        assert 'id="pick-screen"' in done.text and "Picked 2 × TEA-S. Nothing left to pick." in done.text
    assert _bin_quantity(app, floor, "A-02-01", "TEA-S") == 3
    assert "Start the next pick" in client.get("/wms/pick").text


def test_a_short_pick_on_the_handheld_moves_to_another_bin(app, floor):
    _stock(app, floor, "A-01-01", "TEA-S", 1)
    _stock(app, floor, "A-10-01", "TEA-S", 5)
    _order(app, floor, {"TEA-S": 3})
    _release(app, floor)
    client = english_client(app)
    login(client, make_user(app, UserKind.WAREHOUSE, role="picker"))
    page = client.post("/wms/pick/next", follow_redirects=True).text
    assert 'id="pick-bin">A-01-01<' in page
    with app.app_context():
        task_id = db.session.scalar(select(PickTask.id).where(PickTask.status == PickStatus.CLAIMED))

    after = client.post(
        f"/wms/pick/{task_id}/short", data={"found": "0", "reason": "not_found"}, follow_redirects=True
    )
    assert ("success", "Short pick recorded. The rest is planned from another bin.") in flashes(after.text)
    assert 'id="pick-bin">A-10-01<' in after.text
