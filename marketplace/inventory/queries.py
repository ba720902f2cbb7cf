"""Read helpers for stock."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.inventory.models import StockLevel, StockMovement


def on_hand_by_sku(session: Session, sku_ids: list[int]) -> dict[int, int]:
    if not sku_ids:
        return {}
    rows = session.execute(
        select(StockLevel.sku_id, StockLevel.on_hand).where(StockLevel.sku_id.in_(sku_ids))
    )
    return dict(rows.all())


def available_by_sku(session: Session, sku_ids: list[int]) -> dict[int, int]:
    if not sku_ids:
        return {}
    rows = session.execute(
        select(StockLevel.sku_id, StockLevel.available).where(StockLevel.sku_id.in_(sku_ids))
    )
    return dict(rows.all())


def levels_by_sku(session: Session, sku_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(on hand, reserved, available) of each SKU, in one query."""
    if not sku_ids:
        return {}
    rows = session.execute(
        select(StockLevel.sku_id, StockLevel.on_hand, StockLevel.reserved, StockLevel.available).where(
            StockLevel.sku_id.in_(sku_ids)
        )
    )
    return {sku_id: (on_hand, reserved, available) for sku_id, on_hand, reserved, available in rows}


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
