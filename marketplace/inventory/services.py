"""Changes of stock. Each one writes a StockMovement; none can make a level negative."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.inventory.errors import InvalidQuantity
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement


def level_for(session: Session, sku_id: int, tenant_id: int) -> StockLevel:
    level = session.scalar(select(StockLevel).where(StockLevel.sku_id == sku_id).with_for_update())
    if level is None:
        level = StockLevel(tenant_id=tenant_id, sku_id=sku_id, on_hand=0, reserved=0, available=0)
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
        from marketplace.inventory.errors import InsufficientStock

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
