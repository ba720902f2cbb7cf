"""Handheld receiving and putaway: scans count once, wrong items are refused, units land in the right bin."""

from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.catalog.models import Sku
from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.fulfillment import putaway
from marketplace.fulfillment import services as setup
from marketplace.fulfillment.models import Bin, BinStock, PutawayStatus, PutawayTask
from marketplace.identity.models import User, UserKind
from marketplace.inventory.models import StockLevel
from marketplace.inventory.services import platform_warehouse
from marketplace.purchasing import services
from marketplace.purchasing.models import PurchaseOrder
from marketplace.purchasing.services import PoLineInput, ReceiveLine, SupplierInput
from tests.concurrency import race
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client, flashes

_TOKEN = re.compile(r'name="token" id="scan-token" value="([^"]+)"')


def _setup(app, lines=(("TEA-1", 10), ("CUP-1", 4))) -> dict:
    """A shop with SKUs (TEA-1 has barcode 6900000000011), zone A with bins A-01-01..A-01-03, an approved PO."""
    shop = make_merchant(app)
    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name=f"Kitchen {shop.id}")
        sku_ids = {}
        for code, _quantity in lines:
            product = create_product(
                db.session,
                tenant_id=shop.id,
                data=ProductInput(title=code, category_id=category.id, skus=[SkuInput({}, code, 5000)]),
                actor_id=None,
            )
            sku_ids[code] = product.skus[0].id
        db.session.get(Sku, sku_ids["TEA-1"]).barcode = "6900000000011"
        warehouse = platform_warehouse(db.session)
        zone = setup.create_zone(db.session, warehouse, code="A", name="Ambient")
        setup.create_bin_range(db.session, warehouse, zone, aisle="A", bays=(1, 1), levels=(1, 3))
        supplier = services.save_supplier(db.session, SupplierInput(name=f"Supplier {shop.id}"))
        po = services.create_po(
            db.session, supplier_id=supplier.id, warehouse_id=warehouse.id,
            lines=[PoLineInput(sku_ids[code], quantity, 100) for code, quantity in lines], actor_id=None,
        )  # fmt: skip
        services.approve_po(db.session, po, actor=db.session.get(User, supervisor.id))
        db.session.commit()
        return {
            "po_id": po.id,
            "number": po.number,
            "warehouse_id": warehouse.id,
            "skus": sku_ids,
            "shop": shop.id,
        }


def _receiver(app, role="receiver"):
    client = english_client(app)
    assert login(client, make_user(app, UserKind.WAREHOUSE, role=role)).status_code == 302
    return client


def _open_po(client, number):
    assert client.post("/wms/receive/po", data={"po": number.lower()}).status_code == 302
    page = client.get("/wms/receive")
    return _TOKEN.search(page.text).group(1)


def _scan(client, token, code, **extra):
    response = client.post(
        "/wms/receive/scan", data={"token": token, "code": code, **extra}, headers={"HX-Request": "true"}
    )
    match = re.search(r'id="scan-token" value="([^"]+)"', response.text)
    return response, match.group(1) if match else None


def _bin_stock(app, sku_id) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            select(Bin.code, BinStock.quantity)
            .join(Bin, Bin.id == BinStock.bin_id)
            .where(BinStock.sku_id == sku_id)
        ).all()
        return dict(rows)


def test_scanned_receipt_makes_a_putaway_task_and_putaway_fills_the_suggested_bin(app):
    data = _setup(app)
    client = _receiver(app)
    token = _open_po(client, data["number"])

    response, token = _scan(client, token, "6900000000011", qty="6")  # a carton: quantity typed first
    assert response.status_code == 200 and "TEA-1: +6." in response.text
    response, token = _scan(client, token, "tea-1")  # the SKU code works when read by hand
    response, token = _scan(client, token, "CUP-1", damaged="1")
    assert "CUP-1: 1 damaged." in response.text
    response = client.post("/wms/receive/book", headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["HX-Redirect"] == "/wms/receive"
    assert ("success", f"Receipt {data['number']}-1 booked: now put the goods away.") in flashes(
        client.get("/wms/receive").text
    )
    again = client.post("/wms/receive/book", headers={"HX-Request": "true"})  # a double submit books nothing
    assert again.headers["HX-Redirect"] == "/wms/receive"

    with app.app_context():
        tasks = db.session.scalars(select(PutawayTask).order_by(PutawayTask.id)).all()
        assert [(t.sku_id, t.quantity, t.status) for t in tasks] == [
            (data["skus"]["TEA-1"], 7, PutawayStatus.OPEN)
        ]  # the damaged cup makes no task
        task_id = tasks[0].id
        level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == data["skus"]["TEA-1"]))
        assert level.on_hand == 7

    page = client.get(f"/wms/putaway/{task_id}")
    assert page.status_code == 200
    assert '<strong id="suggested-bin">A-01-01</strong>' in page.text  # empty storage bin first on the route
    token = _TOKEN.search(page.text).group(1)
    response = client.post(
        f"/wms/putaway/{task_id}", data={"token": token, "bin": "platform-a-01-01", "qty": "5"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200 and "5 × TEA-1 into A-01-01." in response.text
    assert "Open: 2 of 7" in response.text
    token = re.search(r'id="scan-token" value="([^"]+)"', response.text).group(1)
    response = client.post(
        f"/wms/putaway/{task_id}", data={"token": token, "bin": "A-01-03", "qty": "2"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert "2 × TEA-1 into A-01-03. (Not the suggested bin A-01-01.)" in response.text
    assert "Task done." in response.text

    assert _bin_stock(app, data["skus"]["TEA-1"]) == {"A-01-01": 5, "A-01-03": 2}
    with app.app_context():
        task = db.session.get(PutawayTask, task_id)
        assert (task.quantity_done, task.status) == (7, PutawayStatus.DONE)
        level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == data["skus"]["TEA-1"]))
        assert level.on_hand == 7  # putaway says where, it books nothing


def test_suggested_bin_is_the_one_already_holding_the_sku(app):
    data = _setup(app)
    with app.app_context(), acting_as(SYSTEM):
        held = db.session.scalar(select(Bin).where(Bin.code == "A-01-02"))
        db.session.add(
            BinStock(sku_id=data["skus"]["TEA-1"], bin_id=held.id, warehouse_id=data["warehouse_id"],
                     tenant_id=data["shop"], quantity=3)
        )  # fmt: skip
        po = db.session.get(PurchaseOrder, data["po_id"])
        services.receive(db.session, po, [ReceiveLine(data["skus"]["TEA-1"], 4)], actor_id=None)
        db.session.commit()
        task = db.session.scalar(select(PutawayTask))
        assert putaway.suggested_bin(db.session, task).code == "A-01-02"


def test_a_wrong_item_is_refused_naming_what_the_order_expects(app):
    data = _setup(app)
    client = _receiver(app)
    token = _open_po(client, data["number"])

    response, _token = _scan(client, token, "5555555555555")

    assert response.status_code == 422
    assert "5555555555555 is not on" in response.text
    assert "TEA-1 (6900000000011)" in response.text and "CUP-1 (CUP-1)" in response.text
    assert "scan-error" in response.text


def test_a_double_submitted_scan_counts_once(app):
    data = _setup(app)
    client = _receiver(app)
    token = _open_po(client, data["number"])

    first, _next = _scan(client, token, "TEA-1", qty="3")
    again, _next2 = _scan(client, token, "TEA-1", qty="3")

    assert "TEA-1: +3." in first.text
    assert "Already counted." in again.text
    client.post("/wms/receive/book", headers={"HX-Request": "true"})
    with app.app_context():
        level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == data["skus"]["TEA-1"]))
        assert level.on_hand == 3


def test_scanning_more_than_is_open_needs_a_supervisor(app):
    data = _setup(app)
    client = _receiver(app)
    token = _open_po(client, data["number"])

    response, _token = _scan(client, token, "CUP-1", qty="5")

    assert response.status_code == 409
    assert "CUP-1: more than the order still expects. A supervisor must confirm it." in response.text


def test_a_short_line_and_an_unexpected_item_confirmed_by_a_supervisor_are_received(app):
    data = _setup(app, lines=(("TEA-1", 10), ("CUP-1", 4), ("POT-1", 1)))
    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    with app.app_context(), acting_as(SYSTEM):  # POT-1 is not on a second order: the unexpected item there
        supplier = services.save_supplier(db.session, SupplierInput(name="Second supplier"))
        po = services.create_po(
            db.session, supplier_id=supplier.id, warehouse_id=data["warehouse_id"],
            lines=[PoLineInput(data["skus"]["TEA-1"], 10, 100)], actor_id=None,
        )  # fmt: skip
        services.approve_po(db.session, po, actor=db.session.get(User, supervisor.id))
        db.session.commit()
        number = po.number
    receiver = _receiver(app)
    token = _open_po(receiver, number)
    refused, token = _scan(receiver, token, "POT-1", confirm="1")  # a receiver's tick counts for nothing
    assert refused.status_code == 422 and "A supervisor may accept" in refused.text

    client = _receiver(app, role="supervisor")
    token = _open_po(client, number)
    short, token = _scan(client, token, "6900000000011", qty="7")
    extra, token = _scan(client, token, "POT-1", qty="2", confirm="1")
    assert "TEA-1: +7." in short.text and "POT-1: +2." in extra.text
    client.post("/wms/receive/book", data={"confirm": "1"}, headers={"HX-Request": "true"})
    with app.app_context():
        levels = {
            level.sku_id: level.on_hand
            for level in db.session.scalars(
                select(StockLevel).where(StockLevel.warehouse_id == data["warehouse_id"])
            )
        }
        order = db.session.get(PurchaseOrder, po.id)
        assert order.status.value == "partially_received"
    assert levels[data["skus"]["TEA-1"]] == 7 and levels[data["skus"]["POT-1"]] == 2


def test_putaway_above_the_open_quantity_is_refused_and_changes_nothing(app):
    data = _setup(app)
    with app.app_context(), acting_as(SYSTEM):
        po = db.session.get(PurchaseOrder, data["po_id"])
        services.receive(db.session, po, [ReceiveLine(data["skus"]["TEA-1"], 4)], actor_id=None)
        db.session.commit()
        task_id = db.session.scalar(select(PutawayTask.id))
    client = _receiver(app)
    page = client.get(f"/wms/putaway/{task_id}")
    token = _TOKEN.search(page.text).group(1)

    response = client.post(
        f"/wms/putaway/{task_id}", data={"token": token, "bin": "A-01-01", "qty": "5"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    wrong_bin = client.post(
        f"/wms/putaway/{task_id}", data={"token": token, "bin": "Z-99", "qty": "1"},
        headers={"HX-Request": "true"},
    )  # fmt: skip

    assert response.status_code == 422
    assert "Put away 1 to 4 units" in response.text
    assert wrong_bin.status_code == 422 and "“Z-99” is not an active bin of this warehouse." in wrong_bin.text
    assert _bin_stock(app, data["skus"]["TEA-1"]) == {}
    with app.app_context():
        task = db.session.get(PutawayTask, task_id)
        assert (task.quantity_done, task.status) == (0, PutawayStatus.OPEN)


def test_two_workers_cannot_put_the_same_task_away_twice(app):
    data = _setup(app)
    with app.app_context(), acting_as(SYSTEM):
        po = db.session.get(PurchaseOrder, data["po_id"])
        services.receive(db.session, po, [ReceiveLine(data["skus"]["TEA-1"], 4)], actor_id=None)
        db.session.commit()
        task_id = db.session.scalar(select(PutawayTask.id))

    def attempt(n):
        putaway.put_away(db.session, task_id, scanned_bin="A-01-01", quantity=4, actor_id=None)

    outcomes = race(app, 2, attempt, (putaway.TaskDone, putaway.PutawayQuantity))

    assert sorted(outcomes) == ["refused", "won"]
    assert _bin_stock(app, data["skus"]["TEA-1"]) == {"A-01-01": 4}


def test_a_picker_may_not_receive_or_put_away(app):
    client = _receiver(app, role="picker")
    assert client.get("/wms/putaway").status_code == 403
    assert client.get("/wms/receive").status_code == 403


def test_handheld_pages_render_for_a_small_screen(app):
    data = _setup(app)
    client = _receiver(app)
    _open_po(client, data["number"])
    page = client.get("/wms/receive")
    assert 'name="viewport"' in page.text and "width=device-width" in page.text
    assert "autofocus" in page.text
    assert "/static/css/handheld.css" in page.text and "/static/js/handheld.js" in page.text
    assert "min-height: 48px" in client.get("/static/css/handheld.css").text
    assert "htmx:afterSwap" in client.get("/static/js/handheld.js").text
    assert client.get("/wms/putaway").status_code == 200
