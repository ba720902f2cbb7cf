"""Builders for the return and transfer tests: two platform warehouses with bins, a shop's SKUs stocked into
bins, a shipped order (placed, paid, picked from bins, shipped), and the stock invariant of a platform
warehouse: ``on_hand = bin stock + open putaway units + picked-not-shipped units`` for every SKU."""

from __future__ import annotations

import itertools
import re

from flask import Flask
from sqlalchemy import func, select

from marketplace.catalog.models import Sku
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.fulfillment import outbound
from marketplace.fulfillment import services as setup
from marketplace.fulfillment.models import Bin, BinStock, PickTask, PutawayStatus, PutawayTask, Wave
from marketplace.identity.models import UserKind
from marketplace.inventory import services as inventory
from marketplace.inventory.models import StockLevel
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderLine
from tests.factories import login, make_merchant, make_user
from tests.orders.order_helpers import place_paid, shopper_with_address, stocked_sku
from tests.page_helpers import english_client

TOKEN = re.compile(r'id="scan-token" value="([^"]+)"')
_phones = itertools.count(13800138100)


def make_floor(app: Flask) -> dict:
    """Warehouse PLATFORM (bins A-01-01..A-01-03) and WH2 (bins B-01-01..B-01-02), a shop with SKUs TEA
    (barcode 6900000000011) and CUP, neither with stock of its own."""
    shop = make_merchant(app)
    skus = {"TEA": stocked_sku(app, shop, stock=0), "CUP": stocked_sku(app, shop, stock=0)}
    with app.app_context(), acting_as(SYSTEM):
        main = inventory.platform_warehouse(db.session)
        zone = setup.create_zone(db.session, main, code="A", name="Ambient")
        setup.create_bin_range(db.session, main, zone, aisle="A", bays=(1, 1), levels=(1, 3))
        other = setup.create_warehouse(db.session, code="WH2", name="Second")
        zone2 = setup.create_zone(db.session, other, code="B", name="Ambient")
        setup.create_bin_range(db.session, other, zone2, aisle="B", bays=(1, 1), levels=(1, 2))
        db.session.get(Sku, skus["TEA"]).barcode = "6900000000011"
        codes = {name: db.session.get(Sku, sku_id).code for name, sku_id in skus.items()}
        bins = {b.code: b.id for b in db.session.scalars(select(Bin))}
        db.session.commit()
        return {
            "shop": shop.id,
            "main": main.id,
            "other": other.id,
            "skus": skus,
            "codes": codes,
            "bins": bins,
        }


def stock_bin(app: Flask, floor: dict, bin_code: str, name: str, quantity: int) -> None:
    """Units booked into the bin's warehouse and lying in the bin (as a finished putaway leaves them)."""
    with app.app_context(), acting_as(SYSTEM):
        bin_ = db.session.get(Bin, floor["bins"][bin_code])
        inventory.receive(
            db.session, sku_id=floor["skus"][name], tenant_id=floor["shop"], quantity=quantity,
            warehouse_id=bin_.warehouse_id, reason="test stock",
        )  # fmt: skip
        db.session.add(
            BinStock(
                tenant_id=floor["shop"], sku_id=floor["skus"][name], bin_id=bin_.id,
                warehouse_id=bin_.warehouse_id, quantity=quantity,
            )
        )  # fmt: skip
        db.session.commit()


def shipped_order(app: Flask, floor: dict, items: dict[str, int]) -> str:
    """An order placed and paid by a shopper, picked from the main warehouse's bins and shipped: its number."""
    shopper, address_id = shopper_with_address(app, phone=str(next(_phones)))
    placed = place_paid(app, shopper, address_id, [(floor["skus"][n], q) for n, q in items.items()])
    picker = make_user(app, UserKind.WAREHOUSE, role="picker").id
    with app.app_context(), acting_as(SYSTEM):
        main = db.session.get(outbound.Warehouse, floor["main"])
        wave = outbound.release_wave(db.session, main)
        db.session.commit()
        while (
            task := outbound.claim_next_task(db.session, db.session.get(Wave, wave.id), picker)
        ) is not None:
            bin_code = db.session.get(Bin, task.bin_id).barcode
            sku_code = db.session.get(Sku, task.sku_id).code
            outbound.confirm_pick(
                db.session, task, picker_id=picker, bin_scan=bin_code, item_scan=sku_code, token=f"t{task.id}"
            )
            db.session.commit()
        order = db.session.get(Order, placed.order_ids[0])
        orders.ship_order(
            db.session, order, quantities=None, carrier="SF", waybill_no="SF1234567", actor=orders.SYSTEM
        )
        db.session.commit()
        return order.number


def _picked_not_shipped(warehouse_id: int, sku_id: int) -> int:
    rows = db.session.execute(
        select(OrderLine.shipped_quantity, func.coalesce(func.sum(PickTask.quantity_picked), 0))
        .join(PickTask, PickTask.order_line_id == OrderLine.id)
        .where(OrderLine.warehouse_id == warehouse_id, OrderLine.sku_id == sku_id)
        .group_by(OrderLine.id)
    ).all()
    return sum(max(int(picked) - shipped, 0) for shipped, picked in rows)


def assert_invariant(app: Flask, warehouse_id: int) -> None:
    """For every SKU of the warehouse: on hand = bins + open putaway + picked but not shipped."""
    with app.app_context():
        for level in db.session.scalars(select(StockLevel).where(StockLevel.warehouse_id == warehouse_id)):
            in_bins = db.session.scalar(
                select(func.coalesce(func.sum(BinStock.quantity), 0)).where(
                    BinStock.warehouse_id == warehouse_id, BinStock.sku_id == level.sku_id
                )
            )
            putaway_open = db.session.scalar(
                select(func.coalesce(func.sum(PutawayTask.quantity - PutawayTask.quantity_done), 0)).where(
                    PutawayTask.warehouse_id == warehouse_id,
                    PutawayTask.sku_id == level.sku_id,
                    PutawayTask.status == PutawayStatus.OPEN,
                )
            )
            picked = _picked_not_shipped(warehouse_id, level.sku_id)
            assert level.on_hand == in_bins + putaway_open + picked, (level, in_bins, putaway_open, picked)


def level(app: Flask, warehouse_id: int, sku_id: int) -> tuple[int, int]:
    """(on hand, available) of the SKU in the warehouse; (0, 0) when it never had a row."""
    with app.app_context():
        row = db.session.execute(
            select(StockLevel.on_hand, StockLevel.available).where(
                StockLevel.warehouse_id == warehouse_id, StockLevel.sku_id == sku_id
            )
        ).first()
        return (row.on_hand, row.available) if row else (0, 0)


def worker(app: Flask, role: str = "receiver"):
    """A logged-in English client of a warehouse user with ``role``."""
    client = english_client(app)
    assert login(client, make_user(app, UserKind.WAREHOUSE, role=role)).status_code == 302
    return client
