"""Builders for end-to-end warehouse tests: a platform warehouse with bins holding a shop's goods, orders placed
and paid through the real checkout (so their stock is reserved in the platform warehouse), waves released
and picked through the services, and the stock invariant every flow must keep."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, select

from marketplace.catalog.models import Sku
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.fulfillment import outbound, services
from marketplace.fulfillment.models import BinStock, PickStatus, PickTask, PutawayStatus, PutawayTask
from marketplace.fulfillment.pack_models import Parcel, ParcelLine, ParcelStatus
from marketplace.inventory import services as stock
from marketplace.inventory.models import StockLevel, StockMovement, Warehouse
from marketplace.merchants.models import Merchant
from marketplace.orders.models import OrderLine
from tests.factories import make_merchant
from tests.orders.order_helpers import stocked_sku


@dataclass
class Floor:
    warehouse_id: int
    shop_id: int
    bins: dict[str, int]  # code -> id
    skus: dict[str, int]  # code -> id
    box_id: int


def platform_floor(app: Flask, *, units: dict[str, int], weight_g: int = 250) -> Floor:
    """The platform warehouse (zone A, bins A-01-01 and A-02-01, box type M) serving one shop whose SKUs
    are stocked only there: ``units`` maps an SKU code to units received and put in bin A-01-01."""
    shop = make_merchant(app)
    skus = {}
    for code in units:
        sku_id = stocked_sku(app, shop, stock=0, title=f"Goods {code}")
        with app.app_context(), acting_as(SYSTEM):
            sku = db.session.get(Sku, sku_id)
            sku.code, sku.barcode, sku.weight_g = (
                f"{code}-{shop.id}",
                f"69{shop.id:06d}{len(skus):05d}",
                weight_g,
            )
            db.session.commit()
        skus[code] = sku_id
    with app.app_context(), acting_as(SYSTEM):
        warehouse = stock.platform_warehouse(db.session)
        zone = services.create_zone(db.session, warehouse, code=f"Z{shop.id}", name="Ambient")
        bins = {
            code: services.create_bin(db.session, warehouse, zone, code=f"{code}-{shop.id}").id
            for code in ("A-01-01", "A-02-01")
        }
        services.assign_shop(db.session, warehouse, db.session.get(Merchant, shop.id))
        box = services.create_box_type(
            db.session,
            warehouse,
            code=f"M{shop.id}",
            name="Medium",
            dimensions_mm=(300, 200, 150),
            tare_g=120,
        )
        for code, quantity in units.items():
            stock.receive(
                db.session, sku_id=skus[code], tenant_id=shop.id, quantity=quantity,
                warehouse_id=warehouse.id, reason="test receipt",
            )  # fmt: skip
            db.session.add(
                BinStock(
                    tenant_id=shop.id, sku_id=skus[code], bin_id=bins["A-01-01"], warehouse_id=warehouse.id,
                    quantity=quantity,
                )
            )  # fmt: skip
        db.session.commit()
        return Floor(warehouse.id, shop.id, bins, skus, box.id)


def release(app: Flask, floor: Floor) -> int:
    with app.app_context(), acting_as(SYSTEM):
        wave = outbound.release_wave(db.session, db.session.get(Warehouse, floor.warehouse_id))
        db.session.commit()
        return wave.id


def pick_all(app: Flask, wave_id: int, picker_id: int) -> None:
    """Pick every task of the wave with the right scans, as a picker would."""
    with app.app_context(), acting_as(SYSTEM):
        wave = db.session.get(outbound.Wave, wave_id)
        while (task := outbound.claim_next_task(db.session, wave, picker_id)) is not None:
            bin_ = db.session.get(outbound.Bin, task.bin_id)
            sku = db.session.get(Sku, task.sku_id)
            outbound.confirm_pick(
                db.session, task, picker_id=picker_id, bin_scan=bin_.barcode, item_scan=sku.barcode, token=""
            )
        db.session.commit()


def unreconciled(app: Flask, warehouse_id: int) -> dict[int, tuple[int, int, int]]:
    """SKUs whose on-hand stock in the warehouse differs from where the units are, as
    {sku id: (on hand, units located, ledger sum)}: empty when the books agree.

    Units are located in bins, in open putaway tasks, picked in a wave with no parcel yet, or in a parcel still
    at the pack station. The ledger sum is the on-hand
    deltas of every stock movement of the SKU in the warehouse.
    """
    with app.app_context():
        on_hand = dict(
            db.session.execute(
                select(StockLevel.sku_id, StockLevel.on_hand).where(StockLevel.warehouse_id == warehouse_id)
            ).all()
        )
        located: dict[int, int] = {}

        def add(rows) -> None:
            for sku_id, quantity in rows:
                located[sku_id] = located.get(sku_id, 0) + int(quantity or 0)

        add(
            db.session.execute(
                select(BinStock.sku_id, func.sum(BinStock.quantity))
                .where(BinStock.warehouse_id == warehouse_id)
                .group_by(BinStock.sku_id)
            ).all()
        )
        add(
            db.session.execute(
                select(PutawayTask.sku_id, func.sum(PutawayTask.quantity - PutawayTask.quantity_done))
                .where(PutawayTask.warehouse_id == warehouse_id, PutawayTask.status == PutawayStatus.OPEN)
                .group_by(PutawayTask.sku_id)
            ).all()
        )
        parcel_of_task = select(Parcel.id).where(
            Parcel.wave_id == PickTask.wave_id, Parcel.order_id == PickTask.order_id
        )
        add(  # picked, no parcel opened yet: the units are in the picker's tote
            db.session.execute(
                select(PickTask.sku_id, func.sum(PickTask.quantity_picked))
                .join(outbound.Wave, outbound.Wave.id == PickTask.wave_id)
                .where(
                    outbound.Wave.warehouse_id == warehouse_id,
                    PickTask.status.in_([PickStatus.PICKED, PickStatus.SHORT]),
                    ~parcel_of_task.exists(),
                )
                .group_by(PickTask.sku_id)
            ).all()
        )
        add(  # at the pack station: what the open parcels hold
            db.session.execute(
                select(ParcelLine.sku_id, func.sum(ParcelLine.quantity))
                .join(Parcel, Parcel.id == ParcelLine.parcel_id)
                .where(
                    Parcel.warehouse_id == warehouse_id,
                    Parcel.status.notin_([ParcelStatus.SHIPPED, ParcelStatus.RETURNED]),
                )
                .group_by(ParcelLine.sku_id)
            ).all()
        )
        ledger = dict(
            db.session.execute(
                select(StockMovement.sku_id, func.sum(StockMovement.on_hand_delta))
                .where(StockMovement.warehouse_id == warehouse_id)
                .group_by(StockMovement.sku_id)
            ).all()
        )
        skus = set(on_hand) | set(located) | set(ledger)
        return {
            sku: (on_hand.get(sku, 0), located.get(sku, 0), int(ledger.get(sku, 0)))
            for sku in skus
            if not on_hand.get(sku, 0) == located.get(sku, 0) == int(ledger.get(sku, 0))
        }


def parcel_lines(app: Flask, parcel_id: int) -> list[tuple[int, int, int]]:
    """(order line id, quantity, checked) per line of the parcel."""
    with app.app_context():
        return [
            (line.order_line_id, line.quantity, line.quantity_checked)
            for line in db.session.scalars(
                select(ParcelLine).where(ParcelLine.parcel_id == parcel_id).order_by(ParcelLine.id)
            )
        ]


def shipped(app: Flask, order_id: int) -> dict[int, int]:
    with app.app_context():
        return dict(
            db.session.execute(
                select(OrderLine.id, OrderLine.shipped_quantity).where(OrderLine.order_id == order_id)
            ).all()
        )
