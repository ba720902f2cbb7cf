"""Read side of warehouse setup, shared by the WMS pages (and later the API)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound
from marketplace.fulfillment.models import Bin, BinStock, WarehouseShop, Zone
from marketplace.inventory.models import Warehouse
from marketplace.merchants.models import Merchant, MerchantStatus


@dataclass(frozen=True)
class WarehouseSummary:
    warehouse: Warehouse
    zones: int
    bins: int
    shops: int


def platform_warehouses(session: Session) -> list[WarehouseSummary]:
    """The platform's warehouses (not shops' own), with how many zones, active bins and shops each has."""
    zones = select(Zone.warehouse_id, func.count().label("n")).group_by(Zone.warehouse_id).subquery()
    bins = (
        select(Bin.warehouse_id, func.count().label("n"))
        .where(Bin.is_active.is_(True))
        .group_by(Bin.warehouse_id)
        .subquery()
    )
    shops = (
        select(WarehouseShop.warehouse_id, func.count().label("n"))
        .group_by(WarehouseShop.warehouse_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Warehouse,
            func.coalesce(zones.c.n, 0),
            func.coalesce(bins.c.n, 0),
            func.coalesce(shops.c.n, 0),
        )
        .outerjoin(zones, zones.c.warehouse_id == Warehouse.id)
        .outerjoin(bins, bins.c.warehouse_id == Warehouse.id)
        .outerjoin(shops, shops.c.warehouse_id == Warehouse.id)
        .where(Warehouse.merchant_id.is_(None))
        .order_by(Warehouse.code)
    ).all()
    return [WarehouseSummary(w, z, b, s) for w, z, b, s in rows]


def platform_warehouse(session: Session, warehouse_id: int) -> Warehouse:
    """A platform warehouse by id; a shop's own warehouse or an unknown id is :class:`NotFound`."""
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None or warehouse.merchant_id is not None:
        raise NotFound()
    return warehouse


def zones(session: Session, warehouse_id: int) -> list[Zone]:
    return list(session.scalars(select(Zone).where(Zone.warehouse_id == warehouse_id).order_by(Zone.code)))


def zone_in(session: Session, warehouse_id: int, zone_id: int) -> Zone:
    zone = session.get(Zone, zone_id)
    if zone is None or zone.warehouse_id != warehouse_id:
        raise NotFound()
    return zone


def bins(
    session: Session, warehouse_id: int, *, zone_id: int | None = None, active_only: bool = False
) -> list[Bin]:
    """The warehouse's bins in pick-route order, optionally of one zone or only the active ones."""
    query = select(Bin).where(Bin.warehouse_id == warehouse_id)
    if zone_id is not None:
        query = query.where(Bin.zone_id == zone_id)
    if active_only:
        query = query.where(Bin.is_active.is_(True))
    return list(session.scalars(query.order_by(Bin.sort_key, Bin.id)))


def bin_in(session: Session, warehouse_id: int, bin_id: int) -> Bin:
    found = session.get(Bin, bin_id)
    if found is None or found.warehouse_id != warehouse_id:
        raise NotFound()
    return found


def bin_quantities(session: Session, bin_ids: list[int]) -> dict[int, int]:
    """Units held per bin (bins holding nothing are left out)."""
    if not bin_ids:
        return {}
    rows = session.execute(
        select(BinStock.bin_id, func.sum(BinStock.quantity))
        .where(BinStock.bin_id.in_(bin_ids))
        .group_by(BinStock.bin_id)
        .having(func.sum(BinStock.quantity) > 0)
    ).all()
    return {bin_id: int(quantity) for bin_id, quantity in rows}


def served_shops(session: Session, warehouse_id: int) -> list[Merchant]:
    """The shops whose goods the warehouse holds, by name."""
    return list(
        session.scalars(
            select(Merchant)
            .join(WarehouseShop, WarehouseShop.merchant_id == Merchant.id)
            .where(WarehouseShop.warehouse_id == warehouse_id)
            .order_by(Merchant.name)
        )
    )


def shops_to_add(session: Session, warehouse_id: int) -> list[Merchant]:
    """Active shops the warehouse does not serve yet, by name (the choices of the add-shop form)."""
    served = select(WarehouseShop.merchant_id).where(WarehouseShop.warehouse_id == warehouse_id)
    return list(
        session.scalars(
            select(Merchant)
            .where(Merchant.status == MerchantStatus.ACTIVE, Merchant.id.not_in(served))
            .order_by(Merchant.name)
        )
    )


def bin_by_barcode(session: Session, warehouse_id: int, scanned: str) -> Bin | None:
    """The active bin of the warehouse a scanner read (its barcode, or its code typed by hand), or None."""
    value = (scanned or "").strip().upper()
    if not value:
        return None
    return session.scalar(
        select(Bin).where(
            Bin.warehouse_id == warehouse_id,
            Bin.is_active.is_(True),
            (Bin.barcode == value) | (Bin.code == value),
        )
    )
