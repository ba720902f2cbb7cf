"""Changes of stock. Each one writes a StockMovement; none can make a level negative."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.inventory.errors import InsufficientStock, InvalidQuantity
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement, Warehouse


def default_warehouse(session: Session, merchant_id: int) -> Warehouse:
    """The shop's own warehouse (code ``SHOP-<id>``), created on first use."""
    code = f"SHOP-{merchant_id}"
    found = session.scalar(select(Warehouse).where(Warehouse.code == code))
    if found is None:
        found = Warehouse(code=code, name=code, merchant_id=merchant_id, address="", is_active=True)
        session.add(found)
        session.flush()
    return found


def level_for(session: Session, sku_id: int, tenant_id: int, warehouse_id: int | None = None) -> StockLevel:
    """The SKU's stock row in ``warehouse_id`` (default: the shop's own warehouse), locked, created empty."""
    if warehouse_id is None:
        warehouse_id = default_warehouse(session, tenant_id).id
    level = session.scalar(
        select(StockLevel)
        .where(StockLevel.sku_id == sku_id, StockLevel.warehouse_id == warehouse_id)
        .with_for_update()
    )
    if level is None:
        level = StockLevel(
            tenant_id=tenant_id, sku_id=sku_id, warehouse_id=warehouse_id, on_hand=0, reserved=0, available=0
        )
        session.add(level)
        session.flush()
    return level


def set_on_hand(
    session: Session,
    *,
    sku_id: int,
    tenant_id: int,
    quantity: int,
    kind: MovementKind = MovementKind.ADJUST,
    reason: str = "",
    actor_id: int | None = None,
) -> StockLevel:
    """Set the counted quantity on hand (a stocktake or the merchant's own number); reservations are kept."""
    if not isinstance(quantity, int) or quantity < 0:
        raise InvalidQuantity()
    level = level_for(session, sku_id, tenant_id)
    delta = quantity - level.on_hand
    if delta == 0:
        return level
    if quantity < level.reserved:
        raise InsufficientStock(
            f"{level.reserved} units are reserved by open orders; stock cannot go below that.",
            available=level.available,
            sku=sku_id,
        )
    before = level.available
    level.on_hand = quantity
    level.available = quantity - level.reserved
    session.add(
        StockMovement(
            tenant_id=tenant_id,
            sku_id=sku_id,
            kind=kind,
            on_hand_delta=delta,
            available_before=before,
            available_after=level.available,
            reason=reason,
            actor_id=actor_id,
        )
    )
    session.flush()
    return level


def _move(
    session: Session,
    *,
    sku_id: int,
    quantity: int,
    kind: MovementKind,
    on_hand_delta: int,
    reserved_delta: int,
    order_id: int | None,
    reason: str,
    actor_id: int | None,
) -> StockLevel:
    """Apply signed deltas in one conditional UPDATE ... RETURNING, checked by its row count, then log it.

    No read-then-write: two buyers of the last unit both run the UPDATE, and the database lets exactly one of
    them match "every column stays >= 0"; the CHECK constraints stand behind it.
    """
    if not isinstance(quantity, int) or quantity <= 0:
        raise InvalidQuantity()
    available_delta = on_hand_delta - reserved_delta
    row = session.execute(
        update(StockLevel)
        .where(
            StockLevel.sku_id == sku_id,
            StockLevel.on_hand + on_hand_delta >= 0,
            StockLevel.reserved + reserved_delta >= 0,
            StockLevel.available + available_delta >= 0,
        )
        .values(
            on_hand=StockLevel.on_hand + on_hand_delta,
            reserved=StockLevel.reserved + reserved_delta,
            available=StockLevel.available + available_delta,
        )
        .returning(StockLevel.id, StockLevel.tenant_id, StockLevel.available)
    ).first()
    if row is None:
        level = session.scalar(select(StockLevel).where(StockLevel.sku_id == sku_id))
        raise InsufficientStock(available=level.available if level else 0, sku=sku_id)
    session.add(
        StockMovement(
            tenant_id=row.tenant_id,
            sku_id=sku_id,
            kind=kind,
            on_hand_delta=on_hand_delta,
            reserved_delta=reserved_delta,
            available_before=row.available - available_delta,
            available_after=row.available,
            reason=reason,
            actor_id=actor_id,
            order_id=order_id,
        )
    )
    session.flush()
    return session.get(StockLevel, row.id)


def reserve(
    session: Session, *, sku_id: int, quantity: int, order_id: int | None, actor_id=None
) -> StockLevel:
    """Hold stock for an order being placed; refused (changing nothing) when not enough is available."""
    return _move(
        session, sku_id=sku_id, quantity=quantity, kind=MovementKind.RESERVE, on_hand_delta=0,
        reserved_delta=quantity, order_id=order_id, reason="order placed", actor_id=actor_id,
    )  # fmt: skip


def release(
    session: Session, *, sku_id: int, quantity: int, order_id: int | None, reason: str, actor_id=None
) -> StockLevel:
    """Give held stock back (payment timed out, order cancelled)."""
    return _move(
        session, sku_id=sku_id, quantity=quantity, kind=MovementKind.RELEASE, on_hand_delta=0,
        reserved_delta=-quantity, order_id=order_id, reason=reason, actor_id=actor_id,
    )  # fmt: skip


def ship(session: Session, *, sku_id: int, quantity: int, order_id: int | None, actor_id=None) -> StockLevel:
    """Held stock leaves the building: on hand and reserved both go down, available is unchanged."""
    return _move(
        session, sku_id=sku_id, quantity=quantity, kind=MovementKind.SHIP, on_hand_delta=-quantity,
        reserved_delta=-quantity, order_id=order_id, reason="shipped", actor_id=actor_id,
    )  # fmt: skip
