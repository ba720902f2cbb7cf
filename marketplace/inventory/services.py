"""Changes of stock, per SKU per warehouse. Each one writes a StockMovement; none can make a level negative.

Order-driven changes (:func:`reserve`, :func:`release`, :func:`ship`) are one conditional
``UPDATE ... WHERE every column stays >= 0 ... RETURNING`` on one warehouse's row, checked by its row count: no
read-then-write, so two buyers of the last unit cannot both win. A reservation that names no warehouse tries the
warehouses that hold enough, one such UPDATE each, until one succeeds; a failed attempt changes nothing. The merchant's own changes (:func:`set_on_hand`,
:func:`adjust`, :func:`set_threshold`) lock the row (``SELECT ... FOR UPDATE``) and check it first, so a
refusal changes nothing and says why.

Every change looks at the low-stock threshold afterwards: when available drops to the threshold or below, the
level is flagged and one alert job is written to the outbox (notifications queue); the flag clears when
available rises above the threshold again, so one dip sends one alert.
"""

from __future__ import annotations

from sqlalchemy import column, func, select, table, update
from sqlalchemy.orm import Session

from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, ValidationFailed
from marketplace.core.jobs import enqueue
from marketplace.inventory.errors import (
    BelowReserved,
    InsufficientStock,
    InvalidAdjustment,
    InvalidQuantity,
    InvalidThreshold,
)
from marketplace.inventory.models import MAX_UNITS, MovementKind, StockLevel, StockMovement, Warehouse
from marketplace.inventory.tasks import send_low_stock_alert

PLATFORM_CODE = "PLATFORM"

# The catalogue imports inventory (a product's editor sets its stock), so inventory reads the SKU's code by
# table name instead of importing the catalogue's models.
_SKUS = table("skus", column("id"), column("code"))


def _warehouse(session: Session, code: str, name: str, merchant_id: int | None) -> Warehouse:
    """The warehouse with ``code``, created on first use (two first uses at once are fine)."""
    found = session.scalar(select(Warehouse).where(Warehouse.code == code))
    if found is None:
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        now = utcnow()
        session.execute(
            dialect_insert(Warehouse.__table__)
            .values(code=code, name=name, merchant_id=merchant_id, address="", is_active=True,
                    created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["code"])
        )  # fmt: skip
        found = session.scalar(select(Warehouse).where(Warehouse.code == code))
    return found


def default_warehouse(session: Session, merchant_id: int) -> Warehouse:
    """The shop's own warehouse (code ``SHOP-<id>``), created on first use."""
    return _warehouse(session, f"SHOP-{merchant_id}", f"SHOP-{merchant_id}", merchant_id)


def platform_warehouse(session: Session) -> Warehouse:
    """The platform's warehouse (code ``PLATFORM``) that the WMS runs, created on first use."""
    return _warehouse(session, PLATFORM_CODE, "Platform warehouse", None)


def level_for(session: Session, sku_id: int, tenant_id: int, warehouse_id: int | None = None) -> StockLevel:
    """The SKU's stock row in ``warehouse_id`` (default: the shop's own warehouse), locked, created empty."""
    if warehouse_id is None:
        warehouse_id = default_warehouse(session, tenant_id).id
    level = session.scalar(
        select(StockLevel)
        .where(StockLevel.sku_id == sku_id, StockLevel.warehouse_id == warehouse_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if level is None:
        level = StockLevel(
            tenant_id=tenant_id,
            sku_id=sku_id,
            warehouse_id=warehouse_id,
            on_hand=0,
            reserved=0,
            available=0,
            low_stock_threshold=0,
            low_stock_alerted=False,
        )
        session.add(level)
        session.flush()
    return level


def _whole(number: object) -> bool:
    """A count of units: an int (not a bool) of at most MAX_UNITS."""
    return isinstance(number, int) and not isinstance(number, bool) and number <= MAX_UNITS


def sku_code(session: Session, sku_id: int) -> str:
    return session.scalar(select(_SKUS.c.code).where(_SKUS.c.id == sku_id)) or f"#{sku_id}"


def _total_available(session: Session, sku_id: int) -> int:
    """What is left of a SKU across its active warehouses (for the message of a refused reservation)."""
    return session.scalar(
        select(func.coalesce(func.sum(StockLevel.available), 0))
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.sku_id == sku_id, Warehouse.is_active.is_(True))
    )


def _log(
    session: Session,
    level: StockLevel,
    *,
    kind: MovementKind,
    on_hand_delta: int,
    reserved_delta: int,
    available_before: int,
    reason: str,
    actor_id: int | None,
    order_id: int | None = None,
) -> StockMovement:
    movement = StockMovement(
        tenant_id=level.tenant_id,
        sku_id=level.sku_id,
        warehouse_id=level.warehouse_id,
        kind=kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        available_before=available_before,
        available_after=level.available,
        reason=reason,
        actor_id=actor_id,
        order_id=order_id,
    )
    session.add(movement)
    session.flush()
    return movement


def is_low(available: int, threshold: int) -> bool:
    return threshold > 0 and available <= threshold


def _watch_low_stock(session: Session, level: StockLevel) -> None:
    """Flag a level that just went low and queue its one alert; re-arm it once stock is above the threshold.

    The caller holds the row's lock (its UPDATE or ``FOR UPDATE``), so two changes at once cannot both see
    the flag down and both alert.
    """
    low = is_low(level.available, level.low_stock_threshold)
    if low and not level.low_stock_alerted:
        level.low_stock_alerted = True
        session.flush()
        enqueue(
            send_low_stock_alert, tenant_id=level.tenant_id, level_id=level.id, since=utcnow().isoformat()
        )
    elif not low and level.low_stock_alerted:
        level.low_stock_alerted = False
        session.flush()


def set_on_hand(
    session: Session,
    *,
    sku_id: int,
    tenant_id: int,
    quantity: int,
    kind: MovementKind = MovementKind.ADJUST,
    reason: str = "",
    actor_id: int | None = None,
    warehouse_id: int | None = None,
) -> StockLevel:
    """Set the counted quantity on hand (a stocktake or the merchant's own number); reservations are kept.

    Refused, changing nothing, below what open orders have reserved.
    """
    if not _whole(quantity) or quantity < 0:
        raise InvalidQuantity()
    level = level_for(session, sku_id, tenant_id, warehouse_id)
    delta = quantity - level.on_hand
    if delta == 0:
        return level
    if quantity < level.reserved:
        raise BelowReserved(
            reserved=level.reserved, available=level.available, sku=sku_code(session, sku_id), sku_id=sku_id
        )
    before = level.available
    level.on_hand = quantity
    level.available = quantity - level.reserved
    _log(
        session, level, kind=kind, on_hand_delta=delta, reserved_delta=0, available_before=before,
        reason=reason, actor_id=actor_id,
    )  # fmt: skip
    _watch_low_stock(session, level)
    return level


def adjust(
    session: Session,
    *,
    sku_id: int,
    tenant_id: int,
    delta: int,
    reason: str,
    actor_id: int | None = None,
    warehouse_id: int | None = None,
) -> StockLevel:
    """Add or take off units with a reason (found, damaged, returned to supplier).

    Refused, changing nothing, when it would take on hand below 0 or below what open orders have reserved.
    """
    if not _whole(delta) or delta == 0 or abs(delta) > MAX_UNITS:
        raise InvalidAdjustment()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": [N_("Give a reason for the correction.")]})
    if len(reason) > 200:
        raise ValidationFailed({"reason": [N_("At most 200 characters.")]})
    level = level_for(session, sku_id, tenant_id, warehouse_id)
    quantity = level.on_hand + delta
    if quantity > MAX_UNITS:
        raise InvalidQuantity()
    if quantity < level.reserved:
        code = sku_code(session, sku_id)
        if level.reserved:
            raise BelowReserved(reserved=level.reserved, available=level.available, sku=code, sku_id=sku_id)
        raise InsufficientStock(available=level.available, sku=code, sku_id=sku_id)
    before = level.available
    level.on_hand = quantity
    level.available = quantity - level.reserved
    _log(
        session, level, kind=MovementKind.ADJUST, on_hand_delta=delta, reserved_delta=0,
        available_before=before, reason=reason, actor_id=actor_id,
    )  # fmt: skip
    _watch_low_stock(session, level)
    return level


def set_threshold(
    session: Session,
    *,
    sku_id: int,
    tenant_id: int,
    threshold: int,
    warehouse_id: int | None = None,
) -> StockLevel:
    """The low-stock threshold of one SKU in one warehouse (0: no alert). Audited; may alert at once."""
    if not _whole(threshold) or threshold < 0:
        raise InvalidThreshold()
    level = level_for(session, sku_id, tenant_id, warehouse_id)
    old = level.low_stock_threshold
    if old == threshold:
        return level
    level.low_stock_threshold = threshold
    session.flush()
    # StockLevel is not audited row by row (the movement ledger is the trail of quantities), so say it here.
    audit.record(
        session,
        "stock_levels.threshold",
        level,
        changes={
            "low_stock_threshold": [old, threshold],
            "sku_id": sku_id,
            "warehouse_id": level.warehouse_id,
        },
        tenant_id=tenant_id,
    )
    _watch_low_stock(session, level)
    return level


def _move(
    session: Session,
    *,
    sku_id: int,
    warehouse_id: int,
    on_hand_delta: int,
    reserved_delta: int,
) -> StockLevel | None:
    """Apply signed deltas to one row in one conditional UPDATE ... RETURNING; None when it would go negative.

    No read-then-write: two buyers of the last unit both run the UPDATE, and the database lets exactly one of
    them match "every column stays >= 0"; the CHECK constraints stand behind it. The row comes back as the
    session's StockLevel, refreshed, and stays locked until the commit.
    """
    available_delta = on_hand_delta - reserved_delta
    return session.scalars(
        update(StockLevel)
        .where(
            StockLevel.sku_id == sku_id,
            StockLevel.warehouse_id == warehouse_id,
            StockLevel.on_hand + on_hand_delta >= 0,
            StockLevel.reserved + reserved_delta >= 0,
            StockLevel.available + available_delta >= 0,
        )
        .values(
            on_hand=StockLevel.on_hand + on_hand_delta,
            reserved=StockLevel.reserved + reserved_delta,
            available=StockLevel.available + available_delta,
        )
        .returning(StockLevel)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).first()


def _record_move(
    session: Session,
    level: StockLevel,
    *,
    kind: MovementKind,
    on_hand_delta: int,
    reserved_delta: int,
    order_id: int | None,
    reason: str,
    actor_id: int | None,
) -> StockLevel:
    _log(
        session, level, kind=kind, on_hand_delta=on_hand_delta, reserved_delta=reserved_delta,
        available_before=level.available - (on_hand_delta - reserved_delta), reason=reason, actor_id=actor_id,
        order_id=order_id,
    )  # fmt: skip
    _watch_low_stock(session, level)
    return level


def _positive(quantity: int) -> None:
    if not _whole(quantity) or quantity <= 0:
        raise InvalidQuantity()


def _candidates(session: Session, sku_id: int, quantity: int) -> list[int]:
    """Warehouses that held enough of the SKU a moment ago: the shop's own first, then most available first."""
    rows = session.execute(
        select(StockLevel.warehouse_id, StockLevel.available, StockLevel.tenant_id, Warehouse.merchant_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.sku_id == sku_id, Warehouse.is_active.is_(True), StockLevel.available >= quantity)
    ).all()
    rows.sort(key=lambda r: (r.merchant_id != r.tenant_id, -r.available, r.warehouse_id))
    return [r.warehouse_id for r in rows]


def reserve(
    session: Session,
    *,
    sku_id: int,
    quantity: int,
    order_id: int | None,
    actor_id: int | None = None,
    warehouse_id: int | None = None,
) -> StockLevel:
    """Hold stock for an order being placed; refused (changing nothing) when not enough is available.

    Without ``warehouse_id`` the stock comes from one warehouse that holds enough: the shop's own first, then
    the others by most available. Each attempt is one conditional UPDATE; a failed one changes nothing and
    the next candidate is tried. The caller keeps ``level.warehouse_id`` on the order line.
    """
    _positive(quantity)
    candidates = [warehouse_id] if warehouse_id is not None else _candidates(session, sku_id, quantity)
    for candidate in candidates:
        level = _move(
            session, sku_id=sku_id, warehouse_id=candidate, on_hand_delta=0, reserved_delta=quantity
        )
        if level is not None:
            return _record_move(
                session, level, kind=MovementKind.RESERVE, on_hand_delta=0, reserved_delta=quantity,
                order_id=order_id, reason="order placed", actor_id=actor_id,
            )  # fmt: skip
    if warehouse_id is not None:
        left = session.scalar(
            select(StockLevel.available).where(
                StockLevel.sku_id == sku_id, StockLevel.warehouse_id == warehouse_id
            )
        )
    else:
        left = _total_available(session, sku_id)
    raise InsufficientStock(available=left or 0, sku=sku_code(session, sku_id), sku_id=sku_id)


def _order_move(
    session: Session,
    *,
    sku_id: int,
    warehouse_id: int,
    quantity: int,
    kind: MovementKind,
    on_hand_delta: int,
    reserved_delta: int,
    order_id: int | None,
    reason: str,
    actor_id: int | None,
) -> StockLevel:
    _positive(quantity)
    level = _move(
        session,
        sku_id=sku_id,
        warehouse_id=warehouse_id,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
    )
    if level is None:
        row = session.execute(
            select(StockLevel.available, StockLevel.reserved).where(
                StockLevel.sku_id == sku_id, StockLevel.warehouse_id == warehouse_id
            )
        ).first()
        raise InsufficientStock(
            available=row.available if row else 0,
            reserved=row.reserved if row else 0,
            sku=sku_code(session, sku_id),
            sku_id=sku_id,
        )
    return _record_move(
        session, level, kind=kind, on_hand_delta=on_hand_delta, reserved_delta=reserved_delta,
        order_id=order_id, reason=reason, actor_id=actor_id,
    )  # fmt: skip


def release(
    session: Session,
    *,
    sku_id: int,
    quantity: int,
    order_id: int | None,
    reason: str,
    actor_id: int | None = None,
    warehouse_id: int,
) -> StockLevel:
    """Give held stock back in the warehouse that held it (payment timed out, order cancelled)."""
    return _order_move(
        session, sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity, kind=MovementKind.RELEASE,
        on_hand_delta=0, reserved_delta=-quantity, order_id=order_id, reason=reason, actor_id=actor_id,
    )  # fmt: skip


def ship(
    session: Session,
    *,
    sku_id: int,
    quantity: int,
    order_id: int | None,
    actor_id: int | None = None,
    warehouse_id: int,
) -> StockLevel:
    """Held stock leaves the warehouse: on hand and reserved both go down, available is unchanged."""
    return _order_move(
        session, sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity, kind=MovementKind.SHIP,
        on_hand_delta=-quantity, reserved_delta=-quantity, order_id=order_id, reason="shipped",
        actor_id=actor_id,
    )  # fmt: skip


def receive(
    session: Session,
    *,
    sku_id: int,
    tenant_id: int,
    quantity: int,
    warehouse_id: int,
    reason: str,
    actor_id: int | None = None,
) -> StockLevel:
    """Goods arrive in a warehouse (a purchase-order receipt): on hand and available go up by ``quantity``.

    The row is created empty on first use, then changed by one conditional UPDATE like the order moves.
    """
    _positive(quantity)
    level_for(session, sku_id, tenant_id, warehouse_id)
    level = _move(session, sku_id=sku_id, warehouse_id=warehouse_id, on_hand_delta=quantity, reserved_delta=0)
    if level is None or level.on_hand > MAX_UNITS:
        raise InvalidQuantity()
    return _record_move(
        session, level, kind=MovementKind.RECEIVE, on_hand_delta=quantity, reserved_delta=0, order_id=None,
        reason=reason, actor_id=actor_id,
    )  # fmt: skip


def issue(
    session: Session,
    *,
    sku_id: int,
    quantity: int,
    warehouse_id: int,
    reason: str,
    actor_id: int | None = None,
) -> StockLevel:
    """Goods leave a warehouse outside an order (returned to the supplier): available and on hand go down.

    One conditional UPDATE; refused (changing nothing) when fewer units are available than asked, so stock
    held for open orders is never taken and nothing goes negative.
    """
    return _order_move(
        session, sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity, kind=MovementKind.ADJUST,
        on_hand_delta=-quantity, reserved_delta=0, order_id=None, reason=reason, actor_id=actor_id,
    )  # fmt: skip
