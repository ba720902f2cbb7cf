"""Purchasing: split and over deliveries, unexpected items, damaged units, returns to the supplier, the desk."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.errors import PermissionDenied
from marketplace.extensions import db
from marketplace.fulfillment.errors import BinsHoldFewer
from marketplace.fulfillment.models import BinStock
from marketplace.identity.models import User, UserKind
from marketplace.inventory import services as inventory_services
from marketplace.inventory.errors import InsufficientStock
from marketplace.inventory.models import StockLevel, StockMovement
from marketplace.inventory.services import platform_warehouse
from marketplace.purchasing import services
from marketplace.purchasing.errors import ConfirmationNeeded, NotSupervisor
from marketplace.purchasing.models import PoKind, PoStatus, PurchaseOrder, Receipt, ReceiptLine
from marketplace.purchasing.services import PoLineInput, ReceiveLine, SupplierInput
from tests.concurrency import race
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client, flashes
from tests.wms.flow_helpers import platform_floor, unreconciled


def _skus(app, codes=("TEA-1", "CUP-1", "POT-1")) -> tuple[list[int], int]:
    """One SKU per code, each its own product of a new shop: (sku ids, shop id)."""
    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name=f"Kitchen {shop.id}")
        ids = []
        for code in codes:
            product = create_product(
                db.session,
                tenant_id=shop.id,
                data=ProductInput(title=code, category_id=category.id, skus=[SkuInput({}, code, 5000)]),
                actor_id=None,
            )
            ids.append(product.skus[0].id)
        db.session.commit()
        return ids, shop.id


def _approved_po(app, lines, *, kind=PoKind.PURCHASE) -> tuple[int, int]:
    """An approved order from a new supplier into the platform warehouse: (po id, warehouse id)."""
    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    with app.app_context(), acting_as(SYSTEM):
        supplier = services.save_supplier(db.session, SupplierInput(name=f"Supplier {len(lines)}-{kind}"))
        warehouse = platform_warehouse(db.session)
        po = services.create_po(
            db.session, supplier_id=supplier.id, warehouse_id=warehouse.id, kind=kind,
            lines=[PoLineInput(*line) for line in lines], actor_id=None,
        )  # fmt: skip
        services.approve_po(db.session, po, actor=db.session.get(User, supervisor.id))
        db.session.commit()
        return po.id, warehouse.id


def _receive(app, po_id, lines, *, confirmer_id=None):
    with app.app_context(), acting_as(SYSTEM):
        po = db.session.get(PurchaseOrder, po_id)
        confirmer = db.session.get(User, confirmer_id) if confirmer_id else None
        try:
            receipt = services.receive(db.session, po, lines, actor_id=None, confirmer=confirmer)
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
        return receipt.id


def _state(app, po_id, warehouse_id):
    """(status, {sku: received}, {sku: (on_hand, available)}, receipts)"""
    with app.app_context():
        po = db.session.get(PurchaseOrder, po_id)
        received = {line.sku_id: line.quantity_received for line in po.lines}
        levels = {
            lv.sku_id: (lv.on_hand, lv.available)
            for lv in db.session.scalars(select(StockLevel).where(StockLevel.warehouse_id == warehouse_id))
        }
        receipts = len(db.session.scalars(select(Receipt).where(Receipt.po_id == po_id)).all())
        return po.status, received, levels, receipts


def test_split_delivery_leaves_the_order_partially_received_then_received(app):
    (tea, cup, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 10, 1200), (cup, 5, 300)])

    _receive(app, po_id, [ReceiveLine(tea, 6)])
    status, received, levels, receipts = _state(app, po_id, wh)
    assert status == PoStatus.PARTIALLY_RECEIVED
    assert received == {tea: 6, cup: 0}
    assert levels[tea] == (6, 6)

    _receive(app, po_id, [ReceiveLine(tea, 4), ReceiveLine(cup, 5)])
    status, received, levels, receipts = _state(app, po_id, wh)
    assert status == PoStatus.RECEIVED
    assert received == {tea: 10, cup: 5}
    assert levels[tea] == (10, 10) and levels[cup] == (5, 5)
    assert receipts == 2


def test_stock_movements_carry_the_po_number_and_costs_are_recorded_per_receipt(app):
    (tea, cup, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 10, 1200), (cup, 5, 300)])
    receipt_id = _receive(app, po_id, [ReceiveLine(tea, 10), ReceiveLine(cup, 2)])
    with app.app_context():
        number = db.session.get(PurchaseOrder, po_id).number
        movements = db.session.scalars(select(StockMovement).order_by(StockMovement.id)).all()
        assert [(m.sku_id, m.on_hand_delta, m.warehouse_id, m.reason) for m in movements] == [
            (tea, 10, wh, f"PO {number}"),
            (cup, 2, wh, f"PO {number}"),
        ]
        receipt = db.session.get(Receipt, receipt_id)
        assert {(rl.sku_id, rl.unit_cost) for rl in receipt.lines} == {(tea, 1200), (cup, 300)}
        assert receipt.total_cost == 10 * 1200 + 2 * 300
        assert receipt.number == f"{number}-1"


def test_over_delivery_is_refused_without_a_supervisor_and_changes_nothing(app):
    (tea, _, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 10, 1200)])
    picker = make_user(app, UserKind.WAREHOUSE, role="receiver")

    with pytest.raises(ConfirmationNeeded):
        _receive(app, po_id, [ReceiveLine(tea, 12)])
    with pytest.raises(NotSupervisor):
        _receive(app, po_id, [ReceiveLine(tea, 12)], confirmer_id=picker.id)
    status, received, levels, receipts = _state(app, po_id, wh)
    assert (status, received, levels.get(tea, (0, 0)), receipts) == (PoStatus.APPROVED, {tea: 0}, (0, 0), 0)

    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    receipt_id = _receive(app, po_id, [ReceiveLine(tea, 12)], confirmer_id=supervisor.id)
    status, received, levels, _ = _state(app, po_id, wh)
    assert status == PoStatus.RECEIVED and received == {tea: 12} and levels[tea] == (12, 12)
    with app.app_context():
        line = db.session.scalar(select(ReceiptLine).where(ReceiptLine.receipt_id == receipt_id))
        assert line.confirmed_by_id == supervisor.id


def test_an_unexpected_item_needs_a_supervisor(app):
    (tea, cup, _), shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 4, 1200)])
    with pytest.raises(ConfirmationNeeded):
        _receive(app, po_id, [ReceiveLine(tea, 4), ReceiveLine(cup, 2)])
    assert _state(app, po_id, wh)[3] == 0

    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    receipt_id = _receive(
        app, po_id, [ReceiveLine(tea, 4), ReceiveLine(cup, 2, 0, 250)], confirmer_id=supervisor.id
    )
    status, _, levels, _ = _state(app, po_id, wh)
    assert status == PoStatus.RECEIVED and levels[cup] == (2, 2)
    with app.app_context():
        extra = db.session.scalar(
            select(ReceiptLine).where(ReceiptLine.receipt_id == receipt_id, ReceiptLine.sku_id == cup)
        )
        assert (extra.po_line_id, extra.unit_cost, extra.tenant_id, extra.confirmed_by_id) == (
            None, 250, shop, supervisor.id,
        )  # fmt: skip


def test_damaged_units_do_not_enter_available_stock(app):
    (tea, _, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 10, 1200)])
    _receive(app, po_id, [ReceiveLine(tea, 10, 3)])
    status, received, levels, _ = _state(app, po_id, wh)
    assert levels[tea] == (7, 7)
    assert received == {tea: 7}
    assert status == PoStatus.PARTIALLY_RECEIVED  # the supplier still owes 3 good units


def test_short_close_ends_a_partially_received_order(app):
    (tea, _, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 10, 1200)])
    _receive(app, po_id, [ReceiveLine(tea, 8)])
    with app.app_context(), acting_as(SYSTEM):
        services.close_po(db.session, db.session.get(PurchaseOrder, po_id))
        db.session.commit()
    assert _state(app, po_id, wh)[0] == PoStatus.CLOSED


def test_return_to_supplier_takes_stock_out_and_is_refused_beyond_what_is_there(app):
    (tea, _, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 10, 1200)])
    _receive(app, po_id, [ReceiveLine(tea, 10)])

    rt_id, _ = _approved_po(app, [(tea, 12, 1200)], kind=PoKind.RETURN)
    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    with pytest.raises(InsufficientStock):
        _receive(app, rt_id, [ReceiveLine(tea, 11)])
    assert _state(app, rt_id, wh)[2][tea] == (10, 10)
    assert _state(app, rt_id, wh)[3] == 0

    _receive(app, rt_id, [ReceiveLine(tea, 4)])
    status, received, levels, _ = _state(app, rt_id, wh)
    assert status == PoStatus.PARTIALLY_RECEIVED and received == {tea: 4} and levels[tea] == (6, 6)
    with pytest.raises(InsufficientStock):
        _receive(app, rt_id, [ReceiveLine(tea, 7)], confirmer_id=supervisor.id)
    assert _state(app, rt_id, wh)[2][tea] == (6, 6)
    with app.app_context():
        number = db.session.get(PurchaseOrder, rt_id).number
        last = db.session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()
        assert number.startswith("RT") and last.on_hand_delta == -4 and number in last.reason


def test_only_a_supervisor_approves(app):
    (tea, _, _), _shop = _skus(app)
    receiver = make_user(app, UserKind.WAREHOUSE, role="receiver")
    with app.app_context(), acting_as(SYSTEM):
        supplier = services.save_supplier(db.session, SupplierInput(name="Tea Co"))
        po = services.create_po(
            db.session, supplier_id=supplier.id, warehouse_id=platform_warehouse(db.session).id,
            lines=[PoLineInput(tea, 3, 100)],
        )  # fmt: skip
        with pytest.raises(PermissionDenied):
            services.approve_po(db.session, po, actor=db.session.get(User, receiver.id))
        db.session.rollback()


def test_deliveries_at_once_never_receive_more_than_is_open(app, postgres_only):
    """Four receivers book 6 units each against 10 open at the same moment: the order's lock lets one win."""
    (tea, _, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 10, 1200)])

    def attempt(_n: int) -> None:
        services.receive(
            db.session, db.session.get(PurchaseOrder, po_id), [ReceiveLine(tea, 6)], actor_id=None
        )

    outcomes = race(app, 4, attempt, ConfirmationNeeded)
    assert sorted(outcomes) == ["refused"] * 3 + ["won"]
    status, received, levels, receipts = _state(app, po_id, wh)
    assert (status, received[tea], levels[tea], receipts) == (PoStatus.PARTIALLY_RECEIVED, 6, (6, 6), 1)


def test_returns_at_once_never_take_more_than_is_there(app, postgres_only):
    (tea, _, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 10, 1200)])
    _receive(app, po_id, [ReceiveLine(tea, 10)])
    rt_id, _ = _approved_po(app, [(tea, 16, 1200)], kind=PoKind.RETURN)

    def attempt(_n: int) -> None:
        services.receive(
            db.session, db.session.get(PurchaseOrder, rt_id), [ReceiveLine(tea, 4)], actor_id=None
        )

    outcomes = race(app, 4, attempt, InsufficientStock)
    assert sorted(outcomes) == ["refused"] * 2 + ["won"] * 2
    assert _state(app, rt_id, wh)[2][tea] == (2, 2)


# --- the desk pages ------------------------------------------------------------------------------------


def _signed_in(app, role: str):
    user = make_user(app, UserKind.WAREHOUSE, role=role)
    client = english_client(app)
    assert login(client, user).status_code == 302
    return client, user


def test_a_picker_without_purchasing_permissions_gets_403(app):
    (tea, _, _), _shop = _skus(app)
    po_id, _ = _approved_po(app, [(tea, 2, 100)])
    client, _ = _signed_in(app, "picker")
    assert client.get("/wms/purchasing/orders").status_code == 403
    assert client.get(f"/wms/purchasing/orders/{po_id}").status_code == 403
    assert client.get("/wms/purchasing/suppliers").status_code == 403
    assert client.post(f"/wms/purchasing/orders/{po_id}/receive", data={}).status_code == 403
    assert client.post(f"/wms/purchasing/orders/{po_id}/close").status_code == 403


def test_supervisor_buys_approves_and_receives_through_the_pages(app):
    (tea, cup, _), shop = _skus(app)
    with app.app_context():
        warehouse_id = platform_warehouse(db.session).id
        db.session.commit()
    client, supervisor = _signed_in(app, "supervisor")

    page = client.post(
        "/wms/purchasing/suppliers/new",
        data={"name": "Leaf & Co", "contact_person": "Ms Li", "email": "li@leaf.test", "payment_days": "45",
              "terms": "Net 45", "is_active": "1"},
    )  # fmt: skip
    assert page.status_code == 302
    supplier_url = page.headers["Location"]
    supplier_id = int(supplier_url.rstrip("/").rsplit("/", 1)[1])
    upload = client.post(
        f"/wms/purchasing/suppliers/{supplier_id}/documents",
        data={"kind": "contract", "file": (io.BytesIO(b"%PDF-1.4 contract"), "contract.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    page = client.get(supplier_url).get_data(as_text=True)
    assert "contract.pdf" in page and "Ms Li" in page
    assert client.get(f"/wms/purchasing/suppliers/{supplier_id}/documents/1").data.startswith(b"%PDF")
    assert "Leaf &amp; Co" in client.get("/wms/purchasing/suppliers").get_data(as_text=True)
    assert "New return to supplier" in client.get("/wms/purchasing/orders/new?kind=return").get_data(
        as_text=True
    )

    created = client.post(
        "/wms/purchasing/orders/new",
        data={"kind": "purchase", "supplier_id": str(supplier_id), "warehouse_id": str(warehouse_id),
              "sku_code": ["TEA-1", "CUP-1", ""], "quantity": ["10", "4", ""], "unit_cost": ["12.50", "3", ""]},
    )  # fmt: skip
    assert created.status_code == 302
    po_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert client.post(f"/wms/purchasing/orders/{po_id}/approve").status_code == 302

    over = client.post(f"/wms/purchasing/orders/{po_id}/receive", data={"qty-1": "12"})
    assert over.status_code == 409
    assert "A supervisor must confirm it" in over.get_data(as_text=True)
    assert _state(app, po_id, warehouse_id)[3] == 0

    with app.app_context():
        line_ids = {line.sku_id: line.id for line in db.session.get(PurchaseOrder, po_id).lines}
    done = client.post(
        f"/wms/purchasing/orders/{po_id}/receive",
        data={f"qty-{line_ids[tea]}": "12", f"damaged-{line_ids[tea]}": "1", "confirm": "1"},
    )
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert ("success", f"Receipt PO{po_id:06d}-1 recorded.") in flashes(page)
    assert "Partially received" in page
    status, received, levels, _ = _state(app, po_id, warehouse_id)
    assert status == PoStatus.PARTIALLY_RECEIVED and received[tea] == 11 and levels[tea] == (11, 11)

    listing = client.get("/wms/purchasing/orders?status=partially_received", headers={"HX-Request": "true"})
    fragment = listing.get_data(as_text=True)
    assert f"PO{po_id:06d}" in fragment and "<html" not in fragment
    assert f"PO{po_id:06d}" not in client.get("/wms/purchasing/orders?status=draft").get_data(as_text=True)

    assert client.post(f"/wms/purchasing/orders/{po_id}/close").status_code == 302
    assert _state(app, po_id, warehouse_id)[0] == PoStatus.CLOSED


def test_a_receivers_confirmation_is_not_honoured(app):
    (tea, _, _), _shop = _skus(app)
    po_id, wh = _approved_po(app, [(tea, 2, 100)])
    client, _ = _signed_in(app, "receiver")
    with app.app_context():
        line_id = db.session.get(PurchaseOrder, po_id).lines[0].id
    answer = client.post(
        f"/wms/purchasing/orders/{po_id}/receive", data={f"qty-{line_id}": "3", "confirm": "1"}
    )
    assert answer.status_code == 422
    assert "Only a user who may approve purchase orders can confirm this." in answer.get_data(as_text=True)
    assert _state(app, po_id, wh)[3] == 0
    ok = client.post(f"/wms/purchasing/orders/{po_id}/receive", data={f"qty-{line_id}": "2"})
    assert ok.status_code == 302 and _state(app, po_id, wh)[0] == PoStatus.RECEIVED


def test_a_return_to_supplier_takes_the_units_out_of_the_bins_in_route_order(app):
    floor = platform_floor(app, units={"TEA": 5})
    tea = floor.skus["TEA"]
    with app.app_context(), acting_as(SYSTEM):
        db.session.add(
            BinStock(
                tenant_id=floor.shop_id, sku_id=tea, bin_id=floor.bins["A-02-01"], warehouse_id=floor.warehouse_id,
                quantity=3,
            )
        )  # fmt: skip
        inventory_services.receive(
            db.session, sku_id=tea, tenant_id=floor.shop_id, quantity=3, warehouse_id=floor.warehouse_id,
            reason="test receipt",
        )  # fmt: skip
        db.session.commit()
    rt_id, _ = _approved_po(app, [(tea, 8, 1200)], kind=PoKind.RETURN)
    _receive(app, rt_id, [ReceiveLine(tea, 6)])
    with app.app_context():
        in_bins = dict(
            db.session.execute(select(BinStock.bin_id, BinStock.quantity).where(BinStock.sku_id == tea)).all()
        )
    assert in_bins == {floor.bins["A-01-01"]: 0, floor.bins["A-02-01"]: 2}
    assert unreconciled(app, floor.warehouse_id) == {}
    # The two left are in a bin, but a third unit would have to come from nowhere: refused, nothing changes.
    with app.app_context(), acting_as(SYSTEM):
        inventory_services.receive(
            db.session, sku_id=tea, tenant_id=floor.shop_id, quantity=1, warehouse_id=floor.warehouse_id,
            reason="counted at the dock, not put away",
        )  # fmt: skip
        db.session.commit()
    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor")
    with pytest.raises(BinsHoldFewer):
        _receive(app, rt_id, [ReceiveLine(tea, 3)], confirmer_id=supervisor.id)
    assert _state(app, rt_id, floor.warehouse_id)[2][tea] == (3, 3)
