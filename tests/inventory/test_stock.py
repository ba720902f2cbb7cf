"""Stock per SKU per warehouse: atomic reservations that never go negative, the ledger, corrections, alerts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.errors import ValidationFailed
from marketplace.core.jobs import OutboxMessage, dispatch_outbox
from marketplace.extensions import db
from marketplace.inventory.errors import BelowReserved, InsufficientStock, InvalidAdjustment
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement, Warehouse
from marketplace.inventory.services import (
    adjust,
    default_warehouse,
    platform_warehouse,
    release,
    reserve,
    set_on_hand,
    set_threshold,
    ship,
)
from marketplace.inventory.tasks import send_low_stock_alert
from marketplace.notifications.models import Notification, SentMessage
from tests.concurrency import race
from tests.factories import make_merchant
from tests.jobs_helpers import run_jobs


def _sku_with_stock(app, stock: int, *, code: str = "HOT-1", contact: str = "") -> tuple[int, int]:
    """A SKU of a new shop with ``stock`` units in the shop's own warehouse: (sku id, shop id)."""
    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        if contact:
            db.session.get(type(shop), shop.id).contact_email = contact
        category = save_category(db.session, name=f"Flash sale {shop.id}")
        product = create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(
                title="Hot item", category_id=category.id, skus=[SkuInput({}, code, 9900, stock=stock)]
            ),
            actor_id=None,
        )
        db.session.commit()
        return product.skus[0].id, shop.id


def _platform_stock(app, sku_id: int, shop_id: int, units: int) -> int:
    """The platform warehouse (created here: tests empty every table) receives ``units`` of the SKU."""
    with app.app_context(), acting_as(SYSTEM):
        platform = platform_warehouse(db.session)
        set_on_hand(
            db.session, sku_id=sku_id, tenant_id=shop_id, quantity=units, kind=MovementKind.RECEIVE,
            reason="inbound", warehouse_id=platform.id,
        )  # fmt: skip
        db.session.commit()
        return platform.id


def _own(app, shop_id: int) -> int:
    with app.app_context(), acting_as(SYSTEM):
        warehouse_id = default_warehouse(db.session, shop_id).id
        db.session.commit()
        return warehouse_id


def _level(app, sku_id: int, warehouse_id: int | None = None) -> tuple[int, int, int]:
    with app.app_context():
        stmt = select(StockLevel).where(StockLevel.sku_id == sku_id)
        if warehouse_id is not None:
            stmt = stmt.where(StockLevel.warehouse_id == warehouse_id)
        level = db.session.scalar(stmt)
        return level.on_hand, level.reserved, level.available


def _deliver(app) -> None:
    """Run queued jobs and the jobs they queue (the alert job queues the e-mail), as workers would."""
    for _ in range(2):
        with app.app_context():
            dispatch_outbox()
        run_jobs(app)


def test_reserve_release_and_ship_move_the_right_columns_and_write_the_ledger(app):
    sku_id, shop_id = _sku_with_stock(app, 10)
    own = _own(app, shop_id)

    with app.app_context(), acting_as(SYSTEM):
        assert reserve(db.session, sku_id=sku_id, quantity=3, order_id=1, actor_id=7).warehouse_id == own
        reserve(db.session, sku_id=sku_id, quantity=2, order_id=2)
        release(
            db.session, sku_id=sku_id, quantity=2, order_id=2, reason="payment timed out", warehouse_id=own
        )
        ship(db.session, sku_id=sku_id, quantity=3, order_id=1, warehouse_id=own)
        db.session.commit()
        ledger = [
            (m.kind, m.warehouse_id, m.on_hand_delta, m.reserved_delta, m.available_before, m.available_after,
             m.order_id, m.reason)
            for m in db.session.scalars(select(StockMovement).order_by(StockMovement.id))
        ]  # fmt: skip
        actors = db.session.scalars(select(StockMovement.actor_id).order_by(StockMovement.id)).all()

    assert _level(app, sku_id) == (7, 0, 7)
    assert ledger == [
        (MovementKind.ADJUST, own, 10, 0, 0, 10, None, "product edit"),
        (MovementKind.RESERVE, own, 0, 3, 10, 7, 1, "order placed"),
        (MovementKind.RESERVE, own, 0, 2, 7, 5, 2, "order placed"),
        (MovementKind.RELEASE, own, 0, -2, 5, 7, 2, "payment timed out"),
        (MovementKind.SHIP, own, -3, -3, 7, 7, 1, "shipped"),
    ]
    assert actors[1] == 7


def test_reserving_more_than_available_is_refused_naming_the_sku_and_what_is_left(app):
    sku_id, _ = _sku_with_stock(app, 2)

    with app.app_context(), acting_as(SYSTEM):
        with pytest.raises(InsufficientStock) as refused:
            reserve(db.session, sku_id=sku_id, quantity=3, order_id=9)
        db.session.rollback()

    assert str(refused.value) == "Only 2 left of HOT-1."
    assert refused.value.facts == {"available": 2, "sku": "HOT-1", "sku_id": sku_id}
    assert refused.value.code == "stock.insufficient"
    assert _level(app, sku_id) == (2, 0, 2)


def test_a_reservation_falls_to_the_second_warehouse_when_the_first_lacks_stock(app):
    sku_id, shop_id = _sku_with_stock(app, 2)
    own = _own(app, shop_id)
    platform = _platform_stock(app, sku_id, shop_id, 5)

    with app.app_context(), acting_as(SYSTEM):
        # The shop's own warehouse comes first while it can serve the whole line ...
        assert reserve(db.session, sku_id=sku_id, quantity=2, order_id=1).warehouse_id == own
        # ... and when it cannot, the line goes to the warehouse that can.
        assert reserve(db.session, sku_id=sku_id, quantity=3, order_id=2).warehouse_id == platform
        db.session.commit()
        with pytest.raises(InsufficientStock) as refused:
            reserve(db.session, sku_id=sku_id, quantity=3, order_id=3)  # 0 + 2 left: no one warehouse has 3
        db.session.rollback()
        orders = dict(
            db.session.execute(
                select(StockMovement.order_id, StockMovement.warehouse_id).where(
                    StockMovement.kind == MovementKind.RESERVE
                )
            ).all()
        )

    assert str(refused.value) == "Only 2 left of HOT-1."
    assert _level(app, sku_id, own) == (2, 2, 0)
    assert _level(app, sku_id, platform) == (5, 3, 2)
    assert orders == {1: own, 2: platform}


def test_the_own_warehouse_is_preferred_then_the_one_with_most_available(app):
    sku_id, shop_id = _sku_with_stock(app, 4)
    own = _own(app, shop_id)
    platform = _platform_stock(app, sku_id, shop_id, 50)
    with app.app_context(), acting_as(SYSTEM):
        other = Warehouse(code="PLATFORM-2", name="Second platform warehouse", merchant_id=None)
        db.session.add(other)
        db.session.flush()
        set_on_hand(db.session, sku_id=sku_id, tenant_id=shop_id, quantity=80, warehouse_id=other.id)
        db.session.commit()
        first = reserve(db.session, sku_id=sku_id, quantity=4, order_id=1).warehouse_id
        second = reserve(db.session, sku_id=sku_id, quantity=4, order_id=2).warehouse_id
        third = reserve(db.session, sku_id=sku_id, quantity=60, order_id=3).warehouse_id
        explicit = reserve(
            db.session, sku_id=sku_id, quantity=1, order_id=4, warehouse_id=platform
        ).warehouse_id
        db.session.commit()
        other_id = other.id

    assert (first, second, third, explicit) == (own, other_id, other_id, platform)


def test_shipping_more_than_reserved_is_refused(app):
    sku_id, shop_id = _sku_with_stock(app, 5)
    own = _own(app, shop_id)
    with app.app_context(), acting_as(SYSTEM):
        reserve(db.session, sku_id=sku_id, quantity=1, order_id=1)
        db.session.commit()
        with pytest.raises(InsufficientStock):
            ship(db.session, sku_id=sku_id, quantity=2, order_id=1, warehouse_id=own)
        db.session.rollback()

    assert _level(app, sku_id) == (5, 1, 4)


@pytest.mark.parametrize(("buyers", "own_units", "platform_units"), [(20, 4, 3), (6, 5, 5)])
def test_concurrent_buyers_never_oversell_across_warehouses(
    app, postgres_only, buyers, own_units, platform_units
):
    """N buyers on N connections race for S units in two warehouses: exactly min(N, S) win, none below 0."""
    sku_id, shop_id = _sku_with_stock(app, own_units)
    own = _own(app, shop_id)
    platform = _platform_stock(app, sku_id, shop_id, platform_units)
    stock = own_units + platform_units

    outcomes = race(
        app,
        buyers,
        lambda order_id: reserve(db.session, sku_id=sku_id, quantity=1, order_id=order_id + 1),
        InsufficientStock,
    )

    wins = min(buyers, stock)
    assert sorted(outcomes) == ["refused"] * (buyers - wins) + ["won"] * wins
    own_level, platform_level = _level(app, sku_id, own), _level(app, sku_id, platform)
    assert own_level[2] >= 0 and platform_level[2] >= 0
    assert own_level[1] + platform_level[1] == wins
    assert own_level[2] + platform_level[2] == stock - wins
    with app.app_context():
        reserved = db.session.scalar(
            select(func.count()).select_from(StockMovement).where(StockMovement.kind == MovementKind.RESERVE)
        )
        assert reserved == wins


def test_an_adjustment_needs_a_reason_and_never_goes_below_reserved(app):
    sku_id, shop_id = _sku_with_stock(app, 5)
    with app.app_context(), acting_as(SYSTEM):
        reserve(db.session, sku_id=sku_id, quantity=3, order_id=1)
        level = adjust(
            db.session, sku_id=sku_id, tenant_id=shop_id, delta=4, reason="found in the back", actor_id=5
        )
        assert (level.on_hand, level.reserved, level.available) == (9, 3, 6)
        adjust(db.session, sku_id=sku_id, tenant_id=shop_id, delta=-6, reason="water damage")
        db.session.commit()

        with pytest.raises(BelowReserved) as below:
            adjust(db.session, sku_id=sku_id, tenant_id=shop_id, delta=-1, reason="lost")
        db.session.rollback()
        with pytest.raises(BelowReserved):
            set_on_hand(db.session, sku_id=sku_id, tenant_id=shop_id, quantity=2)
        db.session.rollback()
        with pytest.raises(ValidationFailed) as no_reason:
            adjust(db.session, sku_id=sku_id, tenant_id=shop_id, delta=2, reason="  ")
        db.session.rollback()
        with pytest.raises(InvalidAdjustment):
            adjust(db.session, sku_id=sku_id, tenant_id=shop_id, delta=0, reason="nothing")
        db.session.rollback()
        last = db.session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()

    assert (
        str(below.value)
        == "3 units of HOT-1 are reserved by open orders: stock on hand cannot go below that."
    )
    assert below.value.code == "stock.insufficient"
    assert list(no_reason.value.fields) == ["reason"]
    assert _level(app, sku_id) == (3, 3, 0)
    assert (last.kind, last.on_hand_delta, last.reason, last.available_before, last.available_after) == (
        MovementKind.ADJUST, -6, "water damage", 6, 0,
    )  # fmt: skip


def test_the_ledger_reconciles_to_on_hand_and_reserved_per_sku_and_warehouse(app):
    sku_a, shop_id = _sku_with_stock(app, 8, code="A-1")
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name="More")
        product = create_product(
            db.session,
            tenant_id=shop_id,
            data=ProductInput(
                title="Other", category_id=category.id, skus=[SkuInput({}, "B-1", 500, stock=3)]
            ),
            actor_id=None,
        )
        db.session.commit()
        sku_b = product.skus[0].id
    platform = _platform_stock(app, sku_a, shop_id, 6)

    with app.app_context(), acting_as(SYSTEM):
        lines = [
            reserve(db.session, sku_id=sku_a, quantity=3, order_id=n) for n in (1, 2, 3)
        ]  # own, own, plat.
        lines.append(reserve(db.session, sku_id=sku_b, quantity=2, order_id=4))
        ship(db.session, sku_id=sku_a, quantity=3, order_id=1, warehouse_id=lines[0].warehouse_id)
        release(db.session, sku_id=sku_a, quantity=3, order_id=3, reason="cancelled", warehouse_id=platform)
        adjust(db.session, sku_id=sku_b, tenant_id=shop_id, delta=5, reason="supplier delivery")
        set_on_hand(db.session, sku_id=sku_a, tenant_id=shop_id, quantity=9, reason="count")
        ship(db.session, sku_id=sku_b, quantity=2, order_id=4, warehouse_id=lines[3].warehouse_id)
        db.session.commit()
        sums = {
            (sku_id, warehouse_id): (on_hand, reserved)
            for sku_id, warehouse_id, on_hand, reserved in db.session.execute(
                select(
                    StockMovement.sku_id,
                    StockMovement.warehouse_id,
                    func.sum(StockMovement.on_hand_delta),
                    func.sum(StockMovement.reserved_delta),
                ).group_by(StockMovement.sku_id, StockMovement.warehouse_id)
            )
        }
        levels = {
            (level.sku_id, level.warehouse_id): (level.on_hand, level.reserved)
            for level in db.session.scalars(select(StockLevel))
        }
        unplaced = db.session.scalar(
            select(func.count()).select_from(StockMovement).where(StockMovement.warehouse_id.is_(None))
        )

    assert sums == levels
    assert len(levels) == 3 and unplaced == 0
    assert levels[(sku_a, platform)] == (6, 0)


def test_a_low_stock_dip_alerts_the_shop_once_and_a_restock_rearms_it(app):
    sku_id, shop_id = _sku_with_stock(app, 10, contact="stock@shop.test")
    with app.app_context(), acting_as(SYSTEM):
        set_threshold(db.session, sku_id=sku_id, tenant_id=shop_id, threshold=5)
        reserve(db.session, sku_id=sku_id, quantity=3, order_id=1)  # 7 left: fine
        db.session.commit()
        reserve(db.session, sku_id=sku_id, quantity=2, order_id=2)  # 5 left: the dip
        db.session.commit()
        reserve(db.session, sku_id=sku_id, quantity=1, order_id=3)  # 4 left: same dip, no second alert
        db.session.commit()
    _deliver(app)
    _deliver(app)  # running the workers again sends nothing more

    with app.app_context():
        notices = db.session.scalars(select(Notification)).all()
        mails = db.session.scalars(select(SentMessage)).all()
        assert db.session.scalar(select(StockLevel.low_stock_alerted).where(StockLevel.sku_id == sku_id))
    assert [(n.tenant_id, n.kind) for n in notices] == [(shop_id, "low_stock")]
    assert "HOT-1" in notices[0].title and "4 left" in notices[0].title  # as it stands when sent
    assert notices[0].link.startswith(f"/merchant/stock/{sku_id}")
    assert [m.recipient for m in mails] == ["stock@shop.test"]
    assert "HOT-1" in mails[0].subject and notices[0].link in mails[0].body

    with app.app_context(), acting_as(SYSTEM):
        set_on_hand(
            db.session, sku_id=sku_id, tenant_id=shop_id, quantity=20, reason="restock"
        )  # 14 available
        db.session.commit()
        assert not db.session.scalar(select(StockLevel.low_stock_alerted).where(StockLevel.sku_id == sku_id))
        adjust(db.session, sku_id=sku_id, tenant_id=shop_id, delta=-10, reason="sold at the market")  # 4: dip
        db.session.commit()
    _deliver(app)

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
        assert db.session.scalar(select(func.count()).select_from(SentMessage)) == 2


def test_the_alert_job_is_safe_to_run_twice(app):
    sku_id, shop_id = _sku_with_stock(app, 3)
    with app.app_context(), acting_as(SYSTEM):
        set_threshold(db.session, sku_id=sku_id, tenant_id=shop_id, threshold=3)  # at the threshold already
        db.session.commit()
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.task.like("%send_low_stock_alert"))
        )
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
        for _ in range(2):  # the handler delivered twice, past the outbox's own once-only guard
            send_low_stock_alert(**message.payload)
            db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(Notification))

    assert count == 1
