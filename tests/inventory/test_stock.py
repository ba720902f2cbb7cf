"""Stock reservations: atomic, never negative, every change in the ledger, and no oversell under concurrency."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.inventory.errors import InsufficientStock
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement
from marketplace.inventory.services import release, reserve, ship
from tests.concurrency import race
from tests.factories import make_merchant


def _sku_with_stock(app, stock: int) -> int:
    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name="Flash sale")
        product = create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(
                title="Hot item", category_id=category.id, skus=[SkuInput({}, "HOT-1", 9900, stock=stock)]
            ),
            actor_id=None,
        )
        db.session.commit()
        return product.skus[0].id


def _level(app, sku_id: int) -> tuple[int, int, int]:
    with app.app_context():
        level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == sku_id))
        return level.on_hand, level.reserved, level.available


def test_reserve_release_and_ship_move_the_right_columns_and_write_the_ledger(app):
    sku_id = _sku_with_stock(app, 10)

    with app.app_context(), acting_as(SYSTEM):
        reserve(db.session, sku_id=sku_id, quantity=3, order_id=1)
        reserve(db.session, sku_id=sku_id, quantity=2, order_id=2)
        release(db.session, sku_id=sku_id, quantity=2, order_id=2, reason="payment timed out")
        ship(db.session, sku_id=sku_id, quantity=3, order_id=1)
        db.session.commit()
        ledger = [
            (m.kind, m.on_hand_delta, m.reserved_delta, m.available_before, m.available_after, m.order_id)
            for m in db.session.scalars(select(StockMovement).order_by(StockMovement.id))
        ]

    assert _level(app, sku_id) == (7, 0, 7)
    assert ledger == [
        (MovementKind.ADJUST, 10, 0, 0, 10, None),
        (MovementKind.RESERVE, 0, 3, 10, 7, 1),
        (MovementKind.RESERVE, 0, 2, 7, 5, 2),
        (MovementKind.RELEASE, 0, -2, 5, 7, 2),
        (MovementKind.SHIP, -3, -3, 7, 7, 1),
    ]


def test_reserving_more_than_available_is_refused_with_what_is_left_and_changes_nothing(app):
    sku_id = _sku_with_stock(app, 2)

    with app.app_context(), acting_as(SYSTEM):
        with pytest.raises(InsufficientStock) as refused:
            reserve(db.session, sku_id=sku_id, quantity=3, order_id=9)
        db.session.rollback()

    assert refused.value.facts == {"available": 2, "sku": sku_id}
    assert _level(app, sku_id) == (2, 0, 2)


def test_shipping_more_than_reserved_is_refused(app):
    sku_id = _sku_with_stock(app, 5)
    with app.app_context(), acting_as(SYSTEM):
        reserve(db.session, sku_id=sku_id, quantity=1, order_id=1)
        db.session.commit()
        with pytest.raises(InsufficientStock):
            ship(db.session, sku_id=sku_id, quantity=2, order_id=1)
        db.session.rollback()

    assert _level(app, sku_id) == (5, 1, 4)


def test_concurrent_buyers_never_oversell(app, postgres_only):
    """20 buyers on 20 separate connections race for 5 units: exactly 5 win, stock ends at 0, not below."""
    sku_id = _sku_with_stock(app, 5)
    outcomes = race(
        app,
        20,
        lambda order_id: reserve(db.session, sku_id=sku_id, quantity=1, order_id=order_id),
        InsufficientStock,
    )

    assert sorted(outcomes) == ["refused"] * 15 + ["won"] * 5
    assert _level(app, sku_id) == (5, 5, 0)
    with app.app_context():
        reserved = db.session.scalar(
            select(func.count()).select_from(StockMovement).where(StockMovement.kind == MovementKind.RESERVE)
        )
        assert reserved == 5


def test_the_ledger_reconciles_to_the_levels(app):
    sku_id = _sku_with_stock(app, 8)
    with app.app_context(), acting_as(SYSTEM):
        for order_id in (1, 2, 3):
            reserve(db.session, sku_id=sku_id, quantity=2, order_id=order_id)
        ship(db.session, sku_id=sku_id, quantity=2, order_id=1)
        release(db.session, sku_id=sku_id, quantity=2, order_id=2, reason="cancelled")
        db.session.commit()
        on_hand, reserved = db.session.execute(
            select(func.sum(StockMovement.on_hand_delta), func.sum(StockMovement.reserved_delta)).where(
                StockMovement.sku_id == sku_id
            )
        ).one()

    assert _level(app, sku_id) == (on_hand, reserved, on_hand - reserved) == (6, 2, 4)
