"""Stock at the warehouse desk: the stock query by SKU, bin, zone and shop, the ledger, the low-stock and
slow-moving reports, their pages and CSV exports, the printed receipt note, and who may see them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import update

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.db import utcnow
from marketplace.extensions import db
from marketplace.fulfillment import services, stock_queries
from marketplace.fulfillment.models import BinStock, PutawayStatus, PutawayTask
from marketplace.fulfillment.stock_queries import StockFilters
from marketplace.identity.models import User, UserKind
from marketplace.inventory import services as stock
from marketplace.inventory.models import MovementKind, StockMovement
from marketplace.purchasing import services as purchasing
from marketplace.purchasing.services import PoLineInput, ReceiveLine, SupplierInput
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client


def _sku(shop_id: int, category_id: int, code: str, title: str, barcode: str | None = None) -> int:
    product = create_product(
        db.session,
        tenant_id=shop_id,
        data=ProductInput(
            title=title, category_id=category_id, skus=[SkuInput({}, code, 990, barcode=barcode)]
        ),
        actor_id=None,
    )
    return product.skus[0].id


@pytest.fixture
def floor(app):
    """The platform warehouse with zones A (bins A-01-01, A-02-01) and B (B-01-01); two shops' SKUs in it.

    Tea shop: TEA-S 10 on hand (A-01-01: 6, B-01-01: 3, 1 awaiting putaway), TEA-L 4 (A-02-01: 4).
    Cup shop: CUP-1 5 on hand, nothing in bins yet (5 awaiting putaway).
    """
    tea_shop, cup_shop = make_merchant(app, "Tea shop"), make_merchant(app, "Cup shop")
    with app.app_context(), acting_as(SYSTEM):
        warehouse = stock.platform_warehouse(db.session)
        zone_a = services.create_zone(db.session, warehouse, code="A", name="Ambient")
        zone_b = services.create_zone(db.session, warehouse, code="B", name="Bulk")
        bins = {
            code: services.create_bin(db.session, warehouse, zone, code=code).id
            for code, zone in [("A-01-01", zone_a), ("A-02-01", zone_a), ("B-01-01", zone_b)]
        }
        category = save_category(db.session, name="Stock queries")
        skus = {
            "TEA-S": (
                tea_shop.id,
                _sku(tea_shop.id, category.id, "TEA-S", "Green tea small", "6900000000011"),
            ),
            "TEA-L": (tea_shop.id, _sku(tea_shop.id, category.id, "TEA-L", "Green tea large")),
            "CUP-1": (cup_shop.id, _sku(cup_shop.id, category.id, "CUP-1", "Porcelain cup")),
        }
        for code, quantity in [("TEA-S", 10), ("TEA-L", 4), ("CUP-1", 5)]:
            shop_id, sku_id = skus[code]
            stock.receive(
                db.session, sku_id=sku_id, tenant_id=shop_id, quantity=quantity, warehouse_id=warehouse.id,
                reason="opening",
            )  # fmt: skip
        for code, bin_code, quantity in [
            ("TEA-S", "A-01-01", 6),
            ("TEA-S", "B-01-01", 3),
            ("TEA-L", "A-02-01", 4),
        ]:
            shop_id, sku_id = skus[code]
            db.session.add(
                BinStock(tenant_id=shop_id, sku_id=sku_id, bin_id=bins[bin_code], warehouse_id=warehouse.id,
                         quantity=quantity)
            )  # fmt: skip
        for code, quantity, done in [("TEA-S", 4, 3), ("CUP-1", 5, 0)]:
            shop_id, sku_id = skus[code]
            db.session.add(
                PutawayTask(tenant_id=shop_id, warehouse_id=warehouse.id, sku_id=sku_id, quantity=quantity,
                            quantity_done=done, status=PutawayStatus.OPEN)
            )  # fmt: skip
        db.session.commit()
        return {
            "warehouse_id": warehouse.id,
            "zones": {"A": zone_a.id, "B": zone_b.id},
            "bins": bins,
            "skus": {code: sku_id for code, (_shop, sku_id) in skus.items()},
            "shops": {"tea": tea_shop.id, "cup": cup_shop.id},
        }


def _query(app, **filters) -> list[tuple]:
    """(SKU code, [(bin code, quantity)], on hand, reserved, available, in bins, awaiting) per listed SKU."""
    with app.app_context():
        page = stock_queries.stock_page(db.session, StockFilters(**filters))
        return [
            (i.sku_code, [(b.bin_code, b.quantity) for b in i.bins], i.on_hand, i.reserved, i.available,
             i.in_bins, i.awaiting_putaway)
            for i in page.items
        ]  # fmt: skip


def test_the_stock_query_lists_each_sku_with_its_bins_and_warehouse_totals(app, floor):
    with app.app_context(), acting_as(SYSTEM):
        stock.reserve(db.session, sku_id=floor["skus"]["TEA-S"], quantity=2, order_id=None,
                      warehouse_id=floor["warehouse_id"])  # fmt: skip
        db.session.commit()

    assert _query(app) == [
        ("CUP-1", [], 5, 0, 5, 0, 5),
        ("TEA-L", [("A-02-01", 4)], 4, 0, 4, 4, 0),
        ("TEA-S", [("A-01-01", 6), ("B-01-01", 3)], 10, 2, 8, 9, 1),
    ]


def test_filters_by_sku_code_barcode_title_bin_zone_shop_and_warehouse(app, floor):
    def codes(**filters) -> list[str]:
        return [row[0] for row in _query(app, **filters)]

    assert codes(q="tea-") == ["TEA-L", "TEA-S"]
    assert codes(q="6900000000011") == ["TEA-S"]
    assert codes(q="porcelain") == ["CUP-1"]
    assert codes(q="nothing like it") == []
    assert codes(tenant_id=floor["shops"]["cup"]) == ["CUP-1"]
    assert codes(warehouse_id=floor["warehouse_id"]) == ["CUP-1", "TEA-L", "TEA-S"]
    # A bin or zone filter keeps the SKUs in matching bins and shows only those bins.
    assert _query(app, bin_code="a-01")[0][:2] == ("TEA-S", [("A-01-01", 6)])
    assert codes(bin_code="A-0") == ["TEA-L", "TEA-S"]
    assert _query(app, zone_id=floor["zones"]["B"]) == [("TEA-S", [("B-01-01", 3)], 10, 0, 10, 9, 1)]
    assert codes(bin_code="B", tenant_id=floor["shops"]["cup"]) == []


def test_the_stock_query_pages_by_keyset_without_repeats(app, floor):
    with app.app_context():
        seen, before = [], None
        while True:
            page = stock_queries.stock_page(db.session, StockFilters(), before=before, size=2)
            seen += [i.sku_code for i in page.items]
            if not page.has_more:
                break
            before = page.next_cursor
    assert seen == ["CUP-1", "TEA-L", "TEA-S"]


def test_the_ledger_of_a_sku_in_a_warehouse_is_newest_first(app, floor):
    sku_id = floor["skus"]["TEA-S"]
    with app.app_context(), acting_as(SYSTEM):
        stock.reserve(
            db.session, sku_id=sku_id, quantity=3, order_id=None, warehouse_id=floor["warehouse_id"]
        )
        stock.ship(db.session, sku_id=sku_id, quantity=3, order_id=None, warehouse_id=floor["warehouse_id"])
        db.session.commit()
        page = stock_queries.ledger_page(db.session, sku_id=sku_id, warehouse_id=floor["warehouse_id"])
        assert [
            (r.movement.kind, r.movement.on_hand_delta, r.movement.reserved_delta) for r in page.items
        ] == [
            (MovementKind.SHIP, -3, -3),
            (MovementKind.RESERVE, 0, 3),
            (MovementKind.RECEIVE, 10, 0),
        ]
        assert (
            stock_queries.ledger_page(
                db.session, sku_id=sku_id, warehouse_id=floor["warehouse_id"] + 99
            ).items
            == []
        )


def test_low_stock_uses_each_levels_threshold_or_the_one_given(app, floor):
    with app.app_context(), acting_as(SYSTEM):
        for code, threshold in [("TEA-L", 4), ("TEA-S", 5)]:
            stock.set_threshold(db.session, sku_id=floor["skus"][code], tenant_id=floor["shops"]["tea"],
                                threshold=threshold, warehouse_id=floor["warehouse_id"])  # fmt: skip
        db.session.commit()
        own = stock_queries.low_stock_page(db.session, StockFilters())
        given = stock_queries.low_stock_page(db.session, StockFilters(), threshold=5)
        cup_only = stock_queries.low_stock_page(
            db.session, StockFilters(tenant_id=floor["shops"]["cup"]), threshold=5
        )
    assert [i.sku_code for i in own.items] == ["TEA-L"]  # 4 <= 4; TEA-S 10 > 5; CUP-1 has no threshold
    assert [i.sku_code for i in given.items] == ["CUP-1", "TEA-L"]
    assert [i.sku_code for i in cup_only.items] == ["CUP-1"]


def _ship(app, floor, code: str, quantity: int, days_ago: int) -> None:
    """A real shipment out of the warehouse, dated ``days_ago``."""
    with app.app_context(), acting_as(SYSTEM):
        sku_id, warehouse_id = floor["skus"][code], floor["warehouse_id"]
        stock.reserve(db.session, sku_id=sku_id, quantity=quantity, order_id=None, warehouse_id=warehouse_id)
        stock.ship(db.session, sku_id=sku_id, quantity=quantity, order_id=None, warehouse_id=warehouse_id)
        db.session.flush()
        db.session.execute(
            update(StockMovement)
            .where(StockMovement.sku_id == sku_id, StockMovement.created_at > utcnow() - timedelta(minutes=5))
            .where(StockMovement.kind.in_([MovementKind.SHIP, MovementKind.RESERVE]))
            .values(created_at=utcnow() - timedelta(days=days_ago))
        )
        db.session.commit()


def test_slow_moving_lists_stock_not_shipped_in_the_window_with_last_shipment_and_cover(app, floor):
    _ship(app, floor, "TEA-S", 2, days_ago=2)  # shipped recently: not slow
    _ship(app, floor, "TEA-L", 1, days_ago=45)  # 3 left, 1 shipped in 90 days: 270 days of cover
    with app.app_context():
        page = stock_queries.slow_moving_page(db.session, StockFilters())
        rows = {i.sku_code: i for i in page.items}
        longer = stock_queries.slow_moving_page(db.session, StockFilters(), days=60)
    assert sorted(rows) == ["CUP-1", "TEA-L"]
    assert rows["CUP-1"].last_shipped_at is None and rows["CUP-1"].days_of_cover is None
    assert rows["TEA-L"].on_hand == 3
    assert rows["TEA-L"].days_since_shipped() == 45
    assert rows["TEA-L"].days_of_cover == 270.0
    assert [i.sku_code for i in longer.items] == ["CUP-1"]


def test_slow_moving_leaves_out_skus_with_nothing_on_hand(app, floor):
    _ship(app, floor, "TEA-L", 4, days_ago=100)
    with app.app_context():
        page = stock_queries.slow_moving_page(db.session, StockFilters())
    assert [i.sku_code for i in page.items] == ["CUP-1", "TEA-S"]


# --- pages -------------------------------------------------------------------------------------------------


def _desk(app, role: str = "supervisor"):
    client = english_client(app)
    login(client, make_user(app, UserKind.WAREHOUSE, role=role))
    return client


def test_the_stock_page_filters_with_htmx_and_exports_csv(app, floor):
    client = _desk(app)

    page = client.get("/wms/stock")
    partial = client.get("/wms/stock?bin=B-01", headers={"HX-Request": "true", "HX-Target": "stock-results"})
    more = client.get("/wms/stock?before=999999", headers={"HX-Request": "true"})
    exported = client.get("/wms/stock/export.csv?q=TEA-S")

    assert page.status_code == 200 and "<html" in page.text
    assert 'data-sku="CUP-1"' in page.text and 'data-bin="A-01-01"' in page.text
    assert "<html" not in partial.text and 'id="stock-results"' in partial.text
    assert (
        'data-bin="B-01-01"' in partial.text and "A-01-01" not in partial.text and "CUP-1" not in partial.text
    )
    assert "<html" not in more.text and "<table" not in more.text
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert exported.mimetype == "text/csv"
    assert [r[:1] + r[5:8] + r[8:] for r in rows[1:]] == [
        ["TEA-S", "A-01-01", "A", "6", "10", "0", "10", "9", "1"],
        ["TEA-S", "B-01-01", "B", "3", "10", "0", "10", "9", "1"],
    ]


def test_the_sku_page_shows_bins_and_the_ledger(app, floor):
    client = _desk(app)
    sku_id = floor["skus"]["TEA-S"]

    page = client.get(f"/wms/stock/sku/{sku_id}")

    assert page.status_code == 200
    assert "B-01-01" in page.text and 'data-kind="receive"' in page.text and "opening" in page.text
    assert client.get("/wms/stock/sku/999999").status_code == 404


def test_the_report_pages_render_and_export(app, floor):
    _ship(app, floor, "TEA-S", 1, days_ago=1)
    client = _desk(app)

    low = client.get("/wms/reports/low-stock?threshold=5")
    slow = client.get("/wms/reports/slow-moving?days=30")
    low_csv = client.get("/wms/reports/low-stock.csv?threshold=5")
    slow_csv = client.get("/wms/reports/slow-moving.csv")

    assert low.status_code == 200 and 'data-sku="CUP-1"' in low.text and 'data-sku="TEA-S"' not in low.text
    assert slow.status_code == 200 and 'data-sku="TEA-L"' in slow.text and 'data-sku="TEA-S"' not in slow.text
    assert [r[0] for r in csv.reader(io.StringIO(low_csv.text.lstrip("\ufeff")))][1:] == ["CUP-1", "TEA-L"]
    assert [r[0] for r in csv.reader(io.StringIO(slow_csv.text.lstrip("\ufeff")))][1:] == ["CUP-1", "TEA-L"]


def test_a_user_without_wms_stock_gets_403_and_a_receiver_may_look(app, floor):
    packer = _desk(app, "packer")
    receiver = _desk(app, "receiver")
    paths = ["/wms/stock", "/wms/stock/export.csv", f"/wms/stock/sku/{floor['skus']['TEA-S']}",
             "/wms/reports/low-stock", "/wms/reports/low-stock.csv", "/wms/reports/slow-moving",
             "/wms/reports/slow-moving.csv"]  # fmt: skip
    assert [packer.get(p).status_code for p in paths] == [403] * len(paths)
    assert [receiver.get(p).status_code for p in paths] == [200] * len(paths)


def _receipt(app, floor) -> tuple[int, str]:
    """An approved order for TEA-S and CUP-1, received with one damaged cup: (receipt id, receipt number)."""
    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    with app.app_context(), acting_as(SYSTEM):
        supplier = purchasing.save_supplier(db.session, SupplierInput(name="Leaf & Clay"))
        po = purchasing.create_po(
            db.session, supplier_id=supplier.id, warehouse_id=floor["warehouse_id"],
            lines=[PoLineInput(floor["skus"]["TEA-S"], 12, 450), PoLineInput(floor["skus"]["CUP-1"], 3, 1200)],
            actor_id=None,
        )  # fmt: skip
        purchasing.approve_po(db.session, po, actor=db.session.get(User, supervisor.id))
        receipt = purchasing.receive(
            db.session, po, [ReceiveLine(floor["skus"]["TEA-S"], 12), ReceiveLine(floor["skus"]["CUP-1"], 3, 1)],
            actor_id=supervisor.id, confirmer=None,
        )  # fmt: skip
        db.session.commit()
        return receipt.id, receipt.number


def test_the_receipt_note_prints_the_barcode_and_the_lines(app, floor):
    receipt_id, number = _receipt(app, floor)
    client = _desk(app, "receiver")

    note = client.get(f"/wms/receipts/{receipt_id}/note")
    po_page = client.get(f"/wms/purchasing/orders/{_po_id(app, receipt_id)}")

    assert note.status_code == 200
    assert f'aria-label="{number}"' in note.text and "<svg" in note.text
    assert "Leaf &amp; Clay" in note.text
    assert "TEA-S" in note.text and "Green tea small" in note.text and "Tea shop" in note.text
    assert "CUP-1" in note.text and "Porcelain cup" in note.text
    assert "@media print" in note.text
    assert f"/wms/receipts/{receipt_id}/note" in po_page.text
    assert client.get("/wms/receipts/999999/note").status_code == 404
    assert _desk(app, "picker").get(f"/wms/receipts/{receipt_id}/note").status_code == 403


def _po_id(app, receipt_id: int) -> int:
    with app.app_context():
        return db.session.get(stock_queries.Receipt, receipt_id).po_id


def _statements(app, action) -> int:
    """How many SQL statements ``action`` sends."""
    from sqlalchemy import event

    count = 0

    def counter(*args, **kwargs) -> None:
        nonlocal count
        count += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            action()
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_a_page_costs_the_same_few_statements_however_many_skus_it_lists(app, floor):
    def pages() -> None:
        stock_queries.stock_page(db.session, StockFilters())
        stock_queries.low_stock_page(db.session, StockFilters(), threshold=100)
        stock_queries.slow_moving_page(db.session, StockFilters())

    assert _statements(app, pages) <= 7  # per report: the rows, then the bins of all listed SKUs
