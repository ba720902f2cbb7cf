"""Read side of stock in the platform warehouses: by SKU, bin, zone and shop; the ledger; the stock reports.

Shared by the WMS desk (all shops) and the merchant API (one shop: pass ``tenant_id``; the ORM's tenant filter
and row-level security stand behind it). Everything is one statement per page plus one for the bin rows of the
listed SKUs, keyset-paginated by the stock level's id (newest first), so no page costs more than the first.

A SKU's numbers in a warehouse are its ``stock_levels`` row (on hand, reserved, available: what the storefront
sells), what sits in bins (``bin_stocks``) and what was received but not put away yet (open putaway tasks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from marketplace.catalog.models import Product, Sku
from marketplace.core.db import utcnow
from marketplace.core.errors import NotFound
from marketplace.core.pagination import PAGE_SIZE, Page
from marketplace.fulfillment.models import Bin, BinStock, PutawayStatus, PutawayTask, Zone
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement, Warehouse
from marketplace.merchants.models import Merchant
from marketplace.orders.models import Order, OrderLine, Shipment
from marketplace.purchasing.models import PurchaseOrder, Receipt, ReceiptLine

SLOW_MOVING_DAYS = 30
# Days of cover are measured on what shipped in this many days (at least the slow-moving window).
COVER_WINDOW_DAYS = 90
EXPORT_LIMIT = 10_000


@dataclass(frozen=True)
class StockFilters:
    """What the stock list is narrowed to; empty values mean "any"."""

    q: str = ""  # part of a SKU code or product title, or a SKU barcode
    bin_code: str = ""  # a bin code prefix ("A-01") or a bin barcode
    zone_id: int | None = None
    warehouse_id: int | None = None
    tenant_id: int | None = None  # the shop


@dataclass(frozen=True)
class BinRow:
    bin_id: int
    bin_code: str
    zone_code: str
    quantity: int


@dataclass
class SkuStockRow:
    """One SKU in one platform warehouse with its totals; ``bins`` are the bins holding it, in route order."""

    level_id: int
    sku_id: int
    sku_code: str
    barcode: str | None
    title: str
    tenant_id: int
    shop_name: str
    warehouse_id: int
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int
    in_bins: int
    awaiting_putaway: int
    bins: list[BinRow] = field(default_factory=list)
    last_shipped_at: datetime | None = None
    shipped_in_window: int = 0
    cover_window_days: int = COVER_WINDOW_DAYS

    @property
    def days_of_cover(self) -> float | None:
        """On hand divided by the average daily shipments of the cover window; None: nothing shipped."""
        if self.shipped_in_window <= 0:
            return None
        return round(self.on_hand * self.cover_window_days / self.shipped_in_window, 1)

    def days_since_shipped(self, now: datetime | None = None) -> int | None:
        if self.last_shipped_at is None:
            return None
        return ((now or utcnow()) - self.last_shipped_at).days


# --- the stock list ----------------------------------------------------------------------------------------


def _in_bins():
    return (
        select(func.coalesce(func.sum(BinStock.quantity), 0))
        .where(BinStock.sku_id == StockLevel.sku_id, BinStock.warehouse_id == StockLevel.warehouse_id)
        .correlate(StockLevel)
        .scalar_subquery()
    )


def _awaiting_putaway():
    return (
        select(func.coalesce(func.sum(PutawayTask.quantity - PutawayTask.quantity_done), 0))
        .where(
            PutawayTask.sku_id == StockLevel.sku_id,
            PutawayTask.warehouse_id == StockLevel.warehouse_id,
            PutawayTask.status == PutawayStatus.OPEN,
        )
        .correlate(StockLevel)
        .scalar_subquery()
    )


def _level_select(*extra: Any) -> Select:
    """Stock levels in platform warehouses with the SKU, its shop and the bin and putaway totals (one row each)."""
    return (
        select(
            StockLevel,
            Sku.code,
            Sku.barcode,
            Product.title,
            Merchant.name,
            Warehouse.code.label("warehouse_code"),
            _in_bins().label("in_bins"),
            _awaiting_putaway().label("awaiting"),
            *extra,
        )
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .join(Merchant, Merchant.id == StockLevel.tenant_id)
        .where(Warehouse.merchant_id.is_(None))
    )


def _bin_match(filters: StockFilters):
    """Conditions on ``Bin`` for the bin-code and zone filters (None when neither is set)."""
    conditions = []
    if code := filters.bin_code.strip().upper():
        conditions.append(or_(Bin.code.startswith(code, autoescape=True), Bin.barcode == code))
    if filters.zone_id:
        conditions.append(Bin.zone_id == filters.zone_id)
    return and_(*conditions) if conditions else None


def _filtered(stmt: Select, filters: StockFilters) -> Select:
    if filters.warehouse_id:
        stmt = stmt.where(StockLevel.warehouse_id == filters.warehouse_id)
    if filters.tenant_id:
        stmt = stmt.where(StockLevel.tenant_id == filters.tenant_id)
    if q := filters.q.strip():
        stmt = stmt.where(
            or_(
                Sku.code.icontains(q, autoescape=True),
                Sku.barcode == q,
                Product.title.icontains(q, autoescape=True),
            )
        )
    if (match := _bin_match(filters)) is not None:
        stmt = stmt.where(
            exists()
            .where(
                BinStock.sku_id == StockLevel.sku_id,
                BinStock.warehouse_id == StockLevel.warehouse_id,
                BinStock.quantity > 0,
                Bin.id == BinStock.bin_id,
                match,
            )
            .correlate(StockLevel)
        )
    return stmt


def _row(row: Any) -> SkuStockRow:
    level: StockLevel = row[0]
    return SkuStockRow(
        level_id=level.id,
        sku_id=level.sku_id,
        sku_code=row.code,
        barcode=row.barcode,
        title=row.title,
        tenant_id=level.tenant_id,
        shop_name=row.name,
        warehouse_id=level.warehouse_id,
        warehouse_code=row.warehouse_code,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        low_stock_threshold=level.low_stock_threshold,
        in_bins=int(row.in_bins or 0),
        awaiting_putaway=int(row.awaiting or 0),
    )


def _page(session: Session, stmt: Select, before: int | None, size: int) -> tuple[list[Any], int | None]:
    """Keyset page of level rows, newest level first: (rows, next cursor)."""
    if before:
        stmt = stmt.where(StockLevel.id < before)
    rows = session.execute(stmt.order_by(StockLevel.id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1][0].id if more and rows else None)


def attach_bins(session: Session, items: list[SkuStockRow], filters: StockFilters | None = None) -> None:
    """The bins holding each listed SKU (only the matching ones when a bin or zone filter is set), one query."""
    if not items:
        return
    stmt = (
        select(BinStock.sku_id, BinStock.warehouse_id, Bin.id, Bin.code, Zone.code, BinStock.quantity)
        .join(Bin, Bin.id == BinStock.bin_id)
        .join(Zone, Zone.id == Bin.zone_id)
        .where(
            BinStock.sku_id.in_({i.sku_id for i in items}),
            BinStock.warehouse_id.in_({i.warehouse_id for i in items}),
            BinStock.quantity > 0,
        )
        .order_by(Bin.sort_key, Bin.id)
    )
    if filters is not None and (match := _bin_match(filters)) is not None:
        stmt = stmt.where(match)
    if filters is not None and filters.tenant_id:
        stmt = stmt.where(BinStock.tenant_id == filters.tenant_id)
    by_key: dict[tuple[int, int], list[BinRow]] = {}
    for sku_id, warehouse_id, bin_id, bin_code, zone_code, quantity in session.execute(stmt):
        by_key.setdefault((sku_id, warehouse_id), []).append(BinRow(bin_id, bin_code, zone_code, quantity))
    for item in items:
        item.bins = by_key.get((item.sku_id, item.warehouse_id), [])


def stock_page(
    session: Session, filters: StockFilters, *, before: int | None = None, size: int = PAGE_SIZE
) -> Page[SkuStockRow]:
    """SKUs in platform warehouses matching ``filters``, each with its bins and warehouse totals."""
    rows, cursor = _page(session, _filtered(_level_select(), filters), before, size)
    items = [_row(r) for r in rows]
    attach_bins(session, items, filters)
    return Page(items, cursor)


def sku_levels(session: Session, sku_id: int, *, tenant_id: int | None = None) -> list[SkuStockRow]:
    """One SKU in every platform warehouse holding a level of it, with its bins; none at all is a 404."""
    stmt = _level_select().where(StockLevel.sku_id == sku_id).order_by(Warehouse.code)
    if tenant_id:
        stmt = stmt.where(StockLevel.tenant_id == tenant_id)
    items = [_row(r) for r in session.execute(stmt)]
    if not items:
        raise NotFound()
    attach_bins(session, items)
    return items


# --- the ledger --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    movement: StockMovement
    order_number: str | None


def ledger_page(
    session: Session, *, sku_id: int, warehouse_id: int, before: int | None = None, size: int = PAGE_SIZE
) -> Page[LedgerRow]:
    """The SKU's stock movements in one warehouse, newest first, with the order number of order moves."""
    stmt = (
        select(StockMovement, Order.number)
        .outerjoin(Order, Order.id == StockMovement.order_id)
        .where(StockMovement.sku_id == sku_id, StockMovement.warehouse_id == warehouse_id)
    )
    if before:
        stmt = stmt.where(StockMovement.id < before)
    rows = session.execute(stmt.order_by(StockMovement.id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    items = [LedgerRow(m, number) for m, number in rows[:size]]
    return Page(items, items[-1].movement.id if more and items else None)


# --- reports -----------------------------------------------------------------------------------------------


def low_stock_page(
    session: Session,
    filters: StockFilters,
    *,
    threshold: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> Page[SkuStockRow]:
    """SKUs whose available stock is at or below a threshold: the one given, else each level's own (if set)."""
    if threshold is not None:
        condition = StockLevel.available <= threshold
    else:
        condition = and_(
            StockLevel.low_stock_threshold > 0, StockLevel.available <= StockLevel.low_stock_threshold
        )
    rows, cursor = _page(session, _filtered(_level_select(), filters).where(condition), before, size)
    items = [_row(r) for r in rows]
    attach_bins(session, items, filters)
    return Page(items, cursor)


def _ships(since: datetime | None = None):
    """SHIP movements of the current level's SKU in its warehouse (since a time)."""
    conditions = [
        StockMovement.sku_id == StockLevel.sku_id,
        StockMovement.warehouse_id == StockLevel.warehouse_id,
        StockMovement.kind == MovementKind.SHIP,
    ]
    if since is not None:
        conditions.append(StockMovement.created_at >= since)
    return conditions


def slow_moving_page(
    session: Session,
    filters: StockFilters,
    *,
    days: int = SLOW_MOVING_DAYS,
    now: datetime | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> Page[SkuStockRow]:
    """SKUs with units on hand and no shipment from that warehouse in ``days``: the last shipment, days of cover.

    Days of cover use the shipments of the last ``max(days, COVER_WINDOW_DAYS)`` days; none shipped: no cover.
    """
    now = now or utcnow()
    window = max(days, COVER_WINDOW_DAYS)
    last = select(func.max(StockMovement.created_at)).where(*_ships()).correlate(StockLevel).scalar_subquery()
    shipped = (
        select(func.coalesce(func.sum(-StockMovement.on_hand_delta), 0))
        .where(*_ships(now - timedelta(days=window)))
        .correlate(StockLevel)
        .scalar_subquery()
    )
    recent = exists().where(*_ships(now - timedelta(days=days))).correlate(StockLevel)
    stmt = _filtered(_level_select(last.label("last_shipped"), shipped.label("shipped")), filters)
    rows, cursor = _page(session, stmt.where(StockLevel.on_hand > 0, ~recent), before, size)
    items = []
    for row in rows:
        item = _row(row)
        item.last_shipped_at, item.shipped_in_window = row.last_shipped, int(row.shipped or 0)
        item.cover_window_days = window
        items.append(item)
    attach_bins(session, items, filters)
    return Page(items, cursor)


# --- choices for the filters -------------------------------------------------------------------------------


def zones_of_platform(session: Session, warehouse_id: int | None = None) -> list[tuple[Zone, str]]:
    """Zones of the platform warehouses (of one), with their warehouse's code, for the zone filter."""
    stmt = (
        select(Zone, Warehouse.code)
        .join(Warehouse, Warehouse.id == Zone.warehouse_id)
        .where(Warehouse.merchant_id.is_(None))
        .order_by(Warehouse.code, Zone.code)
    )
    if warehouse_id:
        stmt = stmt.where(Zone.warehouse_id == warehouse_id)
    return [(zone, code) for zone, code in session.execute(stmt)]


def shops_in_platform(session: Session) -> list[Merchant]:
    """Shops with stock levels in a platform warehouse, by name, for the shop filter."""
    holding = (
        select(StockLevel.tenant_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(Warehouse.merchant_id.is_(None))
        .distinct()
    )
    return list(session.scalars(select(Merchant).where(Merchant.id.in_(holding)).order_by(Merchant.name)))


# --- inbound receipts and shipments ------------------------------------------------------------------------


@dataclass(frozen=True)
class SkuLabel:
    code: str
    barcode: str | None
    title: str
    shop_name: str


def sku_labels(session: Session, sku_ids: set[int]) -> dict[int, SkuLabel]:
    """SKU id -> code, barcode, product title and shop name, in one query."""
    if not sku_ids:
        return {}
    rows = session.execute(
        select(Sku.id, Sku.code, Sku.barcode, Product.title, Merchant.name)
        .join(Product, Product.id == Sku.product_id)
        .join(Merchant, Merchant.id == Sku.tenant_id)
        .where(Sku.id.in_(sku_ids))
    )
    return {r.id: SkuLabel(r.code, r.barcode, r.title, r.name) for r in rows}


def _receipts():
    return select(Receipt).options(
        selectinload(Receipt.lines),
        selectinload(Receipt.po).selectinload(PurchaseOrder.supplier),
    )


def receipt_note(session: Session, receipt_id: int) -> Receipt:
    """A receipt with its lines, order and supplier (the printed note); an unknown id is a 404."""
    receipt = session.scalar(_receipts().where(Receipt.id == receipt_id))
    if receipt is None:
        raise NotFound()
    return receipt


@dataclass(frozen=True)
class ShopReceipt:
    """A receipt as one shop sees it: only the lines of its own goods."""

    receipt: Receipt
    warehouse_code: str
    lines: list[ReceiptLine]


def _shop_receipts(session: Session, tenant_id: int, receipts: list[Receipt]) -> list[ShopReceipt]:
    codes = dict(
        session.execute(
            select(Warehouse.id, Warehouse.code).where(Warehouse.id.in_({r.warehouse_id for r in receipts}))
        ).all()
    )
    return [
        ShopReceipt(r, codes.get(r.warehouse_id, ""), [rl for rl in r.lines if rl.tenant_id == tenant_id])
        for r in receipts
    ]


def shop_receipt_page(
    session: Session,
    *,
    tenant_id: int,
    warehouse_id: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> Page[ShopReceipt]:
    """Receipts holding the shop's goods, newest first. Receipts are platform documents (not tenant-scoped),
    so the shop is filtered here explicitly, and each receipt shows only the shop's own lines."""
    own = exists().where(ReceiptLine.receipt_id == Receipt.id, ReceiptLine.tenant_id == tenant_id)
    stmt = _receipts().where(own)
    if warehouse_id:
        stmt = stmt.where(Receipt.warehouse_id == warehouse_id)
    if before:
        stmt = stmt.where(Receipt.id < before)
    receipts = list(session.scalars(stmt.order_by(Receipt.id.desc()).limit(size + 1)))
    more = len(receipts) > size
    receipts = receipts[:size]
    return Page(_shop_receipts(session, tenant_id, receipts), receipts[-1].id if more and receipts else None)


def shop_receipt(session: Session, *, tenant_id: int, receipt_id: int) -> ShopReceipt:
    """One receipt with the shop's lines; a receipt without any of the shop's goods is a 404."""
    own = exists().where(ReceiptLine.receipt_id == Receipt.id, ReceiptLine.tenant_id == tenant_id)
    receipt = session.scalar(_receipts().where(Receipt.id == receipt_id, own))
    if receipt is None:
        raise NotFound()
    return _shop_receipts(session, tenant_id, [receipt])[0]


@dataclass(frozen=True)
class ShipmentView:
    shipment: Shipment
    order_number: str
    warehouse_code: str | None
    lines: list[tuple[Any, OrderLine]]  # (shipment line, order line)


def _shipment_views(session: Session, shipments: list[Shipment]) -> list[ShipmentView]:
    """Order numbers, warehouse codes and the order lines of the shipments, in three queries."""
    if not shipments:
        return []
    numbers = dict(
        session.execute(
            select(Order.id, Order.number).where(Order.id.in_({s.order_id for s in shipments}))
        ).all()
    )
    codes = dict(
        session.execute(
            select(Warehouse.id, Warehouse.code).where(
                Warehouse.id.in_({s.warehouse_id for s in shipments if s.warehouse_id})
            )
        ).all()
    )
    line_ids = {sl.order_line_id for s in shipments for sl in s.lines}
    order_lines = {ol.id: ol for ol in session.scalars(select(OrderLine).where(OrderLine.id.in_(line_ids)))}
    return [
        ShipmentView(
            s,
            numbers.get(s.order_id, ""),
            codes.get(s.warehouse_id) if s.warehouse_id else None,
            [(sl, order_lines[sl.order_line_id]) for sl in s.lines if sl.order_line_id in order_lines],
        )
        for s in shipments
    ]


def shop_shipment_page(
    session: Session,
    *,
    tenant_id: int,
    warehouse_id: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> Page[ShipmentView]:
    """The shop's shipments, newest first, with carrier, waybill, warehouse and lines."""
    stmt = select(Shipment).options(selectinload(Shipment.lines)).where(Shipment.tenant_id == tenant_id)
    if warehouse_id:
        stmt = stmt.where(Shipment.warehouse_id == warehouse_id)
    if before:
        stmt = stmt.where(Shipment.id < before)
    shipments = list(session.scalars(stmt.order_by(Shipment.id.desc()).limit(size + 1)))
    more = len(shipments) > size
    shipments = shipments[:size]
    return Page(_shipment_views(session, shipments), shipments[-1].id if more and shipments else None)


def shop_shipment(session: Session, *, tenant_id: int, shipment_id: int) -> ShipmentView:
    """One of the shop's shipments; another shop's (or an unknown) id is a 404."""
    shipment = session.scalar(
        select(Shipment)
        .options(selectinload(Shipment.lines))
        .where(Shipment.id == shipment_id, Shipment.tenant_id == tenant_id)
    )
    if shipment is None:
        raise NotFound()
    return _shipment_views(session, [shipment])[0]
