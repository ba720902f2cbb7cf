"""Read helpers for stock: per SKU (storefront, product editor) and per SKU per warehouse (stock page, API)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    String,
    and_,
    cast,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound
from marketplace.core.pagination import PAGE_SIZE, Page
from marketplace.inventory.models import StockLevel, StockMovement, Warehouse

# The catalogue imports inventory, so inventory reads SKU codes and product titles by table name. These are
# Core tables: the ORM's automatic tenant filter does not see them, so every query below filters the tenant
# itself (row-level security stands behind it on PostgreSQL).
_SKUS = table(
    "skus",
    column("id", BigInteger),
    column("tenant_id", BigInteger),
    column("product_id", BigInteger),
    column("code", String),
    column("spec_values", JSON),
    column("is_active", Boolean),
)
_PRODUCTS = table(
    "products", column("id", BigInteger), column("tenant_id", BigInteger), column("title", String)
)


def _in_own_warehouse():
    """Join condition: the level sits in the shop's own default warehouse (code ``SHOP-<tenant id>``)."""
    return and_(
        Warehouse.id == StockLevel.warehouse_id,
        Warehouse.code == literal("SHOP-") + cast(StockLevel.tenant_id, String),
    )


def on_hand_by_sku(session: Session, sku_ids: list[int]) -> dict[int, int]:
    """Units on hand in the shop's own warehouse: what the product editor shows and writes back."""
    if not sku_ids:
        return {}
    return {sku_id: numbers[0] for sku_id, numbers in levels_by_sku(session, sku_ids).items()}


def available_by_sku(session: Session, sku_ids: list[int]) -> dict[int, int]:
    """Units a shopper can buy, summed over the active warehouses (the storefront's "in stock")."""
    if not sku_ids:
        return {}
    rows = session.execute(
        select(StockLevel.sku_id, func.sum(StockLevel.available))
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.sku_id.in_(sku_ids), Warehouse.is_active.is_(True))
        .group_by(StockLevel.sku_id)
    )
    return {sku_id: int(available or 0) for sku_id, available in rows}


def levels_by_sku(session: Session, sku_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(on hand, reserved, available) of each SKU in the shop's own warehouse, in one query.

    The product editor and the product API set stock in that warehouse, so they read it back from there; the
    stock page and /api/v1/stock show every warehouse.
    """
    if not sku_ids:
        return {}
    rows = session.execute(
        select(StockLevel.sku_id, StockLevel.on_hand, StockLevel.reserved, StockLevel.available)
        .join(Warehouse, _in_own_warehouse())
        .where(StockLevel.sku_id.in_(sku_ids))
    )
    return {sku_id: (on_hand, reserved, available) for sku_id, on_hand, reserved, available in rows}


def default_warehouse_id(session: Session, tenant_id: int) -> int | None:
    """The id of the shop's own warehouse, if it exists yet (the stock services create it on first use)."""
    return session.scalar(select(Warehouse.id).where(Warehouse.code == f"SHOP-{tenant_id}"))


# --- the stock page and API ------------------------------------------------------------------------------


@dataclass
class LevelRow:
    """One SKU in one warehouse. ``level_id`` is None for a SKU with no stock row yet (all zeros)."""

    level_id: int | None
    warehouse_id: int | None
    warehouse_code: str
    warehouse_name: str
    is_platform: bool
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    low_stock_threshold: int = 0
    low_stock_alerted: bool = False

    @property
    def is_low(self) -> bool:
        return self.low_stock_threshold > 0 and self.available <= self.low_stock_threshold

    @property
    def editable(self) -> bool:
        """The shop sets and corrects stock in its own warehouses; the platform warehouse counts its own."""
        return not self.is_platform


@dataclass
class SkuStock:
    sku_id: int
    code: str
    product_id: int
    product_title: str
    spec_values: dict
    is_active: bool
    levels: list[LevelRow] = field(default_factory=list)

    @property
    def id(self) -> int:  # the keyset cursor
        return self.sku_id

    @property
    def on_hand(self) -> int:
        return sum(lv.on_hand for lv in self.levels)

    @property
    def reserved(self) -> int:
        return sum(lv.reserved for lv in self.levels)

    @property
    def available(self) -> int:
        return sum(lv.available for lv in self.levels)

    @property
    def is_low(self) -> bool:
        return any(lv.is_low for lv in self.levels)


def shop_warehouses(session: Session, tenant_id: int) -> list[Warehouse]:
    """The shop's own warehouses and the platform warehouses that hold some of its stock."""
    holding = select(StockLevel.warehouse_id).where(StockLevel.tenant_id == tenant_id).distinct()
    return list(
        session.scalars(
            select(Warehouse)
            .where(or_(Warehouse.merchant_id == tenant_id, Warehouse.id.in_(holding)))
            .order_by(Warehouse.merchant_id.is_(None), Warehouse.code)
        )
    )


def shop_warehouse(session: Session, tenant_id: int, warehouse_id: int) -> Warehouse:
    """A warehouse the shop may see (its own, or a platform one); another shop's warehouse is a 404."""
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None or warehouse.merchant_id not in (None, tenant_id):
        raise NotFound()
    return warehouse


def _sku_filter(stmt, *, tenant_id: int, q: str, low_only: bool, warehouse_id: int | None):
    stmt = stmt.where(_SKUS.c.tenant_id == tenant_id)
    level_here = and_(StockLevel.sku_id == _SKUS.c.id, StockLevel.tenant_id == tenant_id)
    if warehouse_id is not None:
        level_here = and_(level_here, StockLevel.warehouse_id == warehouse_id)
    # Active SKUs, and dropped ones that still hold or owe stock.
    stmt = stmt.where(
        or_(
            _SKUS.c.is_active.is_(True),
            exists().where(level_here, or_(StockLevel.on_hand > 0, StockLevel.reserved > 0)),
        )
    )
    if q := (q or "").strip():
        stmt = stmt.where(
            or_(_SKUS.c.code.icontains(q, autoescape=True), _PRODUCTS.c.title.icontains(q, autoescape=True))
        )
    if low_only:
        stmt = stmt.where(
            exists().where(
                level_here,
                StockLevel.low_stock_threshold > 0,
                StockLevel.available <= StockLevel.low_stock_threshold,
            )
        )
    elif warehouse_id is not None:
        stmt = stmt.where(exists().where(level_here))
    return stmt


def _attach_levels(
    session: Session, tenant_id: int, skus: list[SkuStock], warehouse_id: int | None
) -> list[SkuStock]:
    """Every warehouse row of the listed SKUs in one query; a SKU with none shows its own warehouse at 0."""
    if not skus:
        return skus
    stmt = (
        select(StockLevel, Warehouse)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.tenant_id == tenant_id, StockLevel.sku_id.in_([s.sku_id for s in skus]))
        .order_by(StockLevel.sku_id, Warehouse.merchant_id.is_(None), Warehouse.code)
    )
    if warehouse_id is not None:
        stmt = stmt.where(StockLevel.warehouse_id == warehouse_id)
    by_sku: dict[int, list[LevelRow]] = {}
    for level, warehouse in session.execute(stmt):
        by_sku.setdefault(level.sku_id, []).append(
            LevelRow(
                level_id=level.id,
                warehouse_id=warehouse.id,
                warehouse_code=warehouse.code,
                warehouse_name=warehouse.name,
                is_platform=warehouse.is_platform,
                on_hand=level.on_hand,
                reserved=level.reserved,
                available=level.available,
                low_stock_threshold=level.low_stock_threshold,
                low_stock_alerted=level.low_stock_alerted,
            )
        )
    own_id = default_warehouse_id(session, tenant_id)
    for sku in skus:
        sku.levels = by_sku.get(sku.sku_id, [])
        if not sku.levels and warehouse_id in (None, own_id):
            code = f"SHOP-{tenant_id}"
            sku.levels = [LevelRow(None, own_id, code, code, is_platform=False)]
    return skus


def _sku_select():
    return select(
        _SKUS.c.id,
        _SKUS.c.code,
        _SKUS.c.product_id,
        _PRODUCTS.c.title,
        _SKUS.c.spec_values,
        _SKUS.c.is_active,
    ).join(_PRODUCTS, _PRODUCTS.c.id == _SKUS.c.product_id)


def _sku_stock(row) -> SkuStock:
    return SkuStock(row.id, row.code, row.product_id, row.title, row.spec_values or {}, bool(row.is_active))


def stock_page(
    session: Session,
    *,
    tenant_id: int,
    q: str = "",
    low_only: bool = False,
    warehouse_id: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> Page[SkuStock]:
    """The shop's SKUs, newest first, each with its stock per warehouse; keyset-paginated by SKU id.

    ``q`` matches part of a SKU code or product title; ``low_only`` keeps SKUs with a warehouse at or below
    its threshold; ``warehouse_id`` keeps SKUs stocked there and shows only that warehouse.
    """
    stmt = _sku_filter(_sku_select(), tenant_id=tenant_id, q=q, low_only=low_only, warehouse_id=warehouse_id)
    if before:
        stmt = stmt.where(_SKUS.c.id < before)
    rows = session.execute(stmt.order_by(_SKUS.c.id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    items = [_sku_stock(row) for row in rows[:size]]
    _attach_levels(session, tenant_id, items, warehouse_id)
    return Page(items, items[-1].sku_id if more and items else None)


def sku_stock(session: Session, *, tenant_id: int, sku_id: int, warehouse_id: int | None = None) -> SkuStock:
    """One SKU of the shop with its stock per warehouse (or in one warehouse); another shop's SKU is a 404."""
    row = session.execute(_sku_select().where(_SKUS.c.id == sku_id, _SKUS.c.tenant_id == tenant_id)).first()
    if row is None:
        raise NotFound()
    return _attach_levels(session, tenant_id, [_sku_stock(row)], warehouse_id)[0]


def level_row(sku: SkuStock, warehouse_id: int | None) -> LevelRow | None:
    """The SKU's row in one warehouse (None: its own), as listed."""
    for level in sku.levels:
        if level.warehouse_id == warehouse_id or (warehouse_id is None and not level.is_platform):
            return level
    return None


def movement_page(
    session: Session,
    *,
    tenant_id: int,
    sku_id: int,
    warehouse_id: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> Page[StockMovement]:
    """The stock ledger of one SKU (of one warehouse), newest first, keyset-paginated."""
    stmt = select(StockMovement).where(StockMovement.tenant_id == tenant_id, StockMovement.sku_id == sku_id)
    if warehouse_id is not None:
        stmt = stmt.where(StockMovement.warehouse_id == warehouse_id)
    if before:
        stmt = stmt.where(StockMovement.id < before)
    rows = list(session.scalars(stmt.order_by(StockMovement.id.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].id if more and rows else None)


def movements(session: Session, sku_ids: list[int], limit: int = 100) -> list[StockMovement]:
    if not sku_ids:
        return []
    stmt = (
        select(StockMovement)
        .where(StockMovement.sku_id.in_(sku_ids))
        .order_by(StockMovement.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def actor_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Who made the movements of a ledger page: each user's name, else e-mail."""
    from marketplace.identity.models import User

    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(user_ids)))
    return {user_id: name or email for user_id, name, email in rows}
