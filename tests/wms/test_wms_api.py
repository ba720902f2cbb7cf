"""The merchant API for goods in the platform warehouse: stock per warehouse and bin, inbound receipts and
shipments, each only of the key's own shop (another shop's id is a 404), the scopes, and the OpenAPI document."""

from __future__ import annotations

import itertools

import pytest

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.fulfillment import services
from marketplace.fulfillment.models import BinStock
from marketplace.identity.models import User, UserKind
from marketplace.inventory import services as stock
from marketplace.merchants.services import create_api_key
from marketplace.orders.models import Order, OrderLine, OrderStatus, Shipment, ShipmentLine
from marketplace.purchasing import services as purchasing
from marketplace.purchasing.services import PoLineInput, ReceiveLine, SupplierInput
from tests.factories import make_merchant, make_user

_numbers = itertools.count(1)


def _key(app, shop_id: int, scopes=("stock.view", "orders.view")) -> dict[str, str]:
    with app.app_context(), acting_as(SYSTEM):
        _, secret = create_api_key(
            db.session, tenant_id=shop_id, name="erp", scopes=list(scopes), created_by_id=None
        )
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _sku(shop_id: int, category_id: int, code: str) -> int:
    product = create_product(
        db.session,
        tenant_id=shop_id,
        data=ProductInput(title=f"Item {code}", category_id=category_id, skus=[SkuInput({}, code, 990)]),
        actor_id=None,
    )
    return product.skus[0].id


def _receive(po_lines: list[tuple[int, int]], warehouse_id: int, supervisor_id: int, name: str) -> int:
    supplier = purchasing.save_supplier(db.session, SupplierInput(name=name))
    po = purchasing.create_po(
        db.session, supplier_id=supplier.id, warehouse_id=warehouse_id,
        lines=[PoLineInput(sku_id, quantity, 100) for sku_id, quantity in po_lines], actor_id=None,
    )  # fmt: skip
    purchasing.approve_po(db.session, po, actor=db.session.get(User, supervisor_id))
    lines = [ReceiveLine(sku_id, quantity) for sku_id, quantity in po_lines]
    return purchasing.receive(db.session, po, lines, actor_id=None, confirmer=None).id


def _shipment(shop_id: int, sku_id: int, code: str, warehouse_id: int, waybill: str) -> int:
    order = Order(tenant_id=shop_id, number=f"WA{next(_numbers):08d}", status=OrderStatus.SHIPPED)
    db.session.add(order)
    db.session.flush()
    line = OrderLine(
        tenant_id=shop_id, order_id=order.id, product_id=0, sku_id=sku_id, warehouse_id=warehouse_id,
        title=f"Item {code}", sku_code=code, unit_price=990, quantity=2, amount=1980, shipped_quantity=2,
    )  # fmt: skip
    db.session.add(line)
    db.session.flush()
    shipment = Shipment(
        tenant_id=shop_id,
        order_id=order.id,
        carrier="SF Express",
        waybill_no=waybill,
        warehouse_id=warehouse_id,
    )
    db.session.add(shipment)
    db.session.flush()
    db.session.add(
        ShipmentLine(tenant_id=shop_id, shipment_id=shipment.id, order_line_id=line.id, quantity=2)
    )
    db.session.flush()
    return shipment.id


@pytest.fixture
def world(app):
    """Two shops' goods in the platform warehouse: a receipt with both shops' lines, one with the cup shop's
    only, and a shipment of each shop."""
    tea, cup = make_merchant(app, "Tea shop"), make_merchant(app, "Cup shop")
    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    with app.app_context(), acting_as(SYSTEM):
        warehouse = stock.platform_warehouse(db.session)
        zone = services.create_zone(db.session, warehouse, code="A", name="Ambient")
        bins = {
            c: services.create_bin(db.session, warehouse, zone, code=c).id for c in ("A-01-01", "B-01-01")
        }
        category = save_category(db.session, name="API")
        tea_sku, cup_sku = _sku(tea.id, category.id, "TEA-S"), _sku(cup.id, category.id, "CUP-1")
        both = _receive([(tea_sku, 8), (cup_sku, 3)], warehouse.id, supervisor.id, "Mixed supplier")
        cup_only = _receive([(cup_sku, 2)], warehouse.id, supervisor.id, "Cup supplier")
        for shop_id, sku_id, bin_code, quantity in [
            (tea.id, tea_sku, "A-01-01", 5),
            (cup.id, cup_sku, "B-01-01", 5),
        ]:
            db.session.add(
                BinStock(tenant_id=shop_id, sku_id=sku_id, bin_id=bins[bin_code], warehouse_id=warehouse.id,
                         quantity=quantity)
            )  # fmt: skip
        tea_shipment = _shipment(tea.id, tea_sku, "TEA-S", warehouse.id, "SF100")
        cup_shipment = _shipment(cup.id, cup_sku, "CUP-1", warehouse.id, "SF200")
        cup_own = stock.default_warehouse(db.session, cup.id).id
        db.session.commit()
        return {
            "tea": tea.id, "cup": cup.id, "warehouse_id": warehouse.id, "cup_own_warehouse": cup_own,
            "tea_sku": tea_sku, "cup_sku": cup_sku, "both": both, "cup_only": cup_only,
            "tea_shipment": tea_shipment, "cup_shipment": cup_shipment,
        }  # fmt: skip


def test_stock_lists_only_the_shops_skus_with_totals_and_bins(app, client, world):
    headers = _key(app, world["tea"])

    listed = client.get("/api/v1/warehouse/stock", headers=headers)
    by_bin = client.get("/api/v1/warehouse/stock?bin=B-01", headers=headers).get_json()
    one = client.get(f"/api/v1/warehouse/stock/{world['tea_sku']}", headers=headers)
    other = client.get(f"/api/v1/warehouse/stock/{world['cup_sku']}", headers=headers)

    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [(i["sku_code"], i["warehouse_code"], i["on_hand"], i["available"], i["in_bins"], i["awaiting_putaway"])
            for i in items] == [("TEA-S", "PLATFORM", 8, 8, 5, 8)]  # fmt: skip
    assert items[0]["bins"] == [
        {"bin_id": items[0]["bins"][0]["bin_id"], "bin_code": "A-01-01", "zone_code": "A", "quantity": 5}
    ]
    assert listed.get_json()["next_cursor"] is None
    assert by_bin["items"] == []  # the cup shop's bin
    assert one.status_code == 200 and [lv["sku_code"] for lv in one.get_json()["levels"]] == ["TEA-S"]
    assert other.status_code == 404


def test_receipts_show_only_the_shops_lines_and_another_shops_receipt_is_404(app, client, world):
    headers = _key(app, world["tea"])

    listed = client.get("/api/v1/warehouse/receipts", headers=headers).get_json()
    one = client.get(f"/api/v1/warehouse/receipts/{world['both']}", headers=headers)
    foreign = client.get(f"/api/v1/warehouse/receipts/{world['cup_only']}", headers=headers)
    cup_view = client.get("/api/v1/warehouse/receipts", headers=_key(app, world["cup"])).get_json()

    assert [r["id"] for r in listed["items"]] == [world["both"]]
    assert one.status_code == 200
    receipt = one.get_json()
    assert receipt["warehouse_code"] == "PLATFORM" and receipt["po_number"] and receipt["is_return"] is False
    assert [
        (rl["sku_code"], rl["quantity"], rl["good_quantity"], rl["on_order"]) for rl in receipt["lines"]
    ] == [("TEA-S", 8, 8, True)]
    assert "unit_cost" not in receipt["lines"][0]
    assert foreign.status_code == 404 and foreign.get_json()["code"] == "not_found"
    assert [r["id"] for r in cup_view["items"]] == [world["cup_only"], world["both"]]
    assert [[rl["sku_code"] for rl in r["lines"]] for r in cup_view["items"]] == [["CUP-1"], ["CUP-1"]]


def test_shipments_show_only_the_shops_own_and_another_shops_is_404(app, client, world):
    headers = _key(app, world["tea"])

    listed = client.get("/api/v1/warehouse/shipments", headers=headers).get_json()
    one = client.get(f"/api/v1/warehouse/shipments/{world['tea_shipment']}", headers=headers)
    foreign = client.get(f"/api/v1/warehouse/shipments/{world['cup_shipment']}", headers=headers)

    assert [s["id"] for s in listed["items"]] == [world["tea_shipment"]]
    shipment = one.get_json()
    assert (shipment["carrier"], shipment["waybill_no"], shipment["warehouse_code"]) == (
        "SF Express",
        "SF100",
        "PLATFORM",
    )
    assert shipment["order_number"].startswith("WA")
    assert [(sl["sku_code"], sl["quantity"]) for sl in shipment["lines"]] == [("TEA-S", 2)]
    assert foreign.status_code == 404


def test_scopes_and_warehouse_filters_are_enforced(app, client, world):
    stock_only = _key(app, world["tea"], ("stock.view",))
    orders_only = _key(app, world["tea"], ("orders.view",))

    assert client.get("/api/v1/warehouse/shipments", headers=stock_only).status_code == 403
    assert client.get("/api/v1/warehouse/stock", headers=orders_only).status_code == 403
    assert client.get("/api/v1/warehouse/receipts", headers=orders_only).status_code == 403
    assert client.get("/api/v1/warehouse/stock").status_code == 401
    # Another shop's own warehouse is a 404 for every filter; a platform warehouse is fine.
    foreign = world["cup_own_warehouse"]
    for path in ("stock", "receipts"):
        assert (
            client.get(f"/api/v1/warehouse/{path}?warehouse_id={foreign}", headers=stock_only).status_code
            == 404
        )
    assert (
        client.get(f"/api/v1/warehouse/shipments?warehouse_id={foreign}", headers=orders_only).status_code
        == 404
    )
    platform = client.get(f"/api/v1/warehouse/stock?warehouse_id={world['warehouse_id']}", headers=stock_only)
    assert [i["sku_code"] for i in platform.get_json()["items"]] == ["TEA-S"]
    bad = client.get("/api/v1/warehouse/stock?limit=0", headers=stock_only)
    assert bad.status_code == 422 and bad.get_json()["code"] == "validation_failed"


def test_openapi_documents_the_warehouse_resources(client):
    spec = client.get("/api/openapi.json").get_json()

    paths = spec["paths"]
    for path in (
        "/api/v1/warehouse/stock",
        "/api/v1/warehouse/stock/{sku_id}",
        "/api/v1/warehouse/receipts",
        "/api/v1/warehouse/receipts/{receipt_id}",
        "/api/v1/warehouse/shipments",
        "/api/v1/warehouse/shipments/{shipment_id}",
    ):
        assert paths[path]["get"]["summary"], path
    assert {"WarehouseStock", "WarehouseBin", "InboundReceipt", "WarehouseShipment"} <= set(
        spec["components"]["schemas"]
    )
    assert {"Shipment", "SkuLevels"} <= set(spec["components"]["schemas"])  # the other APIs' names are intact
