"""Outbound: paid orders of a warehouse become waves of pick tasks, picked on the handheld bin by bin.

* :func:`release_wave` takes the warehouse's awaiting-shipment orders not yet in a wave (optionally of one
  carrier, paid before a cut-off, single- or multi-line), and plans every open order line onto the bins holding
  its SKU in pick-route order, set-based (``INSERT ... SELECT``), so releasing thousands of orders is a handful
  of statements. Stock already promised to open tasks is not promised twice. What no bin can cover becomes a
  ``short`` task without a bin, with the reason ``no_bin_stock``: the line is left out of picking and shown.
* :func:`claim_next_task` hands a picker the next open task in route order with ``FOR UPDATE SKIP LOCKED``:
  two pickers never get the same task.
* :func:`scan_bin` / :func:`scan_item` refuse a wrong scan naming what was expected, and change nothing.
* :func:`confirm_pick` takes the units out of the bin with one conditional ``UPDATE`` (never below zero) and
  marks the task picked; the same scan token submitted twice is counted once.
* :func:`report_short` records what was found and why, and re-plans the rest onto other bins, or flags the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, func, literal, select, text, update
from sqlalchemy.orm import Session

from marketplace.catalog.models import Sku
from marketplace.core.errors import N_, DomainError
from marketplace.fulfillment.models import (
    Bin,
    BinStock,
    PickStatus,
    PickTask,
    Wave,
    WaveOrder,
    WaveStatus,
)
from marketplace.fulfillment.queries import bin_by_barcode
from marketplace.inventory.models import Warehouse
from marketplace.orders.models import Order, OrderLine, OrderStatus

MAX_WAVE = 10_000  # orders one release may take
NO_BIN_STOCK = "no_bin_stock"
ORDER_CANCELLED = "order_cancelled"
SHIPPABLE = (OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPED)
SHORT_REASONS = {
    "not_found": _l("Not in the bin"),
    "not_enough": _l("Fewer units than expected"),
    "damaged": _l("Damaged"),
    "wrong_item": _l("Wrong item in the bin"),
    NO_BIN_STOCK: _l("No bin holds enough of this SKU"),
    ORDER_CANCELLED: _l("Order cancelled before picking"),
}
PICKER_REASONS = ("not_found", "not_enough", "damaged", "wrong_item")


class NothingToRelease(DomainError):
    code = "wms.nothing_to_release"
    status = 409
    message = N_("No awaiting orders match these filters.")


class WrongBin(DomainError):
    code = "wms.wrong_bin"
    status = 422
    message = N_("Wrong bin “{scanned}”: go to bin {expected}.")


class WrongItem(DomainError):
    code = "wms.wrong_item"
    status = 422
    message = N_("Wrong item “{scanned}”: pick {expected}.")


class TaskNotYours(DomainError):
    code = "wms.task_not_yours"
    status = 409
    message = N_("This task is no longer yours to pick.")


class BinRunsShort(DomainError):
    code = "wms.bin_short"
    status = 409
    message = N_("Bin {bin} does not hold {quantity} units: report a short pick.")


class InvalidShort(DomainError):
    code = "wms.invalid_short"
    status = 422
    message = N_("Enter the units found (0 to {maximum}) and a reason.")


def _name(member) -> str:
    """How a non-native Enum column stores a member (its name), for hand-written SQL."""
    return member.name


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _next_wave_number(session: Session, warehouse_id: int) -> int:
    last = session.scalar(select(func.max(Wave.number)).where(Wave.warehouse_id == warehouse_id))
    return (last or 0) + 1


# The bins' units of each SKU not yet promised to an open or claimed task, laid end to end in route order:
# a bin covers [bin_start, bin_end) of its SKU's units.
_BIN_RANGES = """
    bin_free AS (
        SELECT bs.tenant_id, bs.sku_id, bs.bin_id, b.sort_key,
               bs.quantity - COALESCE((
                   SELECT SUM(pt.quantity - pt.quantity_picked) FROM pick_tasks pt
                   WHERE pt.bin_id = bs.bin_id AND pt.sku_id = bs.sku_id
                     AND pt.status IN ('OPEN', 'CLAIMED')
               ), 0) AS free
        FROM bin_stocks bs JOIN bins b ON b.id = bs.bin_id
        WHERE bs.warehouse_id = :warehouse_id AND b.is_active AND bs.sku_id IN (SELECT sku_id FROM need)
          AND NOT EXISTS (
              SELECT 1 FROM pick_tasks s
              WHERE s.order_line_id = :replan_line AND s.bin_id = bs.bin_id AND s.status = 'SHORT'
          )
    ),
    bin_range AS MATERIALIZED (
        SELECT sku_id, bin_id, sort_key,
               SUM(free) OVER (PARTITION BY sku_id ORDER BY sort_key, bin_id ROWS UNBOUNDED PRECEDING) - free
                   AS bin_start,
               SUM(free) OVER (PARTITION BY sku_id ORDER BY sort_key, bin_id ROWS UNBOUNDED PRECEDING)
                   AS bin_end
        FROM bin_free WHERE free > 0
    ),
    need_range AS MATERIALIZED (
        SELECT need.*,
               SUM(qty) OVER (PARTITION BY sku_id ORDER BY rank_key, line_id ROWS UNBOUNDED PRECEDING) - qty
                   AS need_start,
               SUM(qty) OVER (PARTITION BY sku_id ORDER BY rank_key, line_id ROWS UNBOUNDED PRECEDING)
                   AS need_end
        FROM need
    ),
    alloc AS (
        SELECT n.tenant_id, n.order_id, n.line_id, n.sku_id, r.bin_id, r.sort_key,
               LEAST(n.need_end, r.bin_end) - GREATEST(n.need_start, r.bin_start) AS qty
        FROM need_range n JOIN bin_range r ON r.sku_id = n.sku_id
        WHERE LEAST(n.need_end, r.bin_end) > GREATEST(n.need_start, r.bin_start)
    ),
    -- Lines are served in order from each SKU's free units laid end to end: past the total, nothing is covered.
    sku_total AS (SELECT sku_id, MAX(bin_end) AS total FROM bin_range GROUP BY sku_id)
"""


def _with_plan(session: Session, need_sql: str, statement: str) -> str:
    """``need`` (a SELECT written in this module, never user text) and the plan's CTEs before ``statement``.

    PostgreSQL spells two-argument min/max LEAST/GREATEST; SQLite (the embedded mode) uses MIN/MAX.
    """
    sql = "".join(["WITH need AS (", need_sql, "), ", _BIN_RANGES, statement])
    if not _is_postgres(session):
        sql = sql.replace("LEAST(", "MIN(").replace("GREATEST(", "MAX(")
    return sql


_SHORT_TASKS = """
    INSERT INTO pick_tasks (tenant_id, wave_id, order_id, order_line_id, sku_id, bin_id, quantity,
                            quantity_picked, status, sequence, short_reason, created_at, updated_at)
    SELECT n.tenant_id, :wave_id, n.order_id, n.line_id, n.sku_id, NULL,
           n.need_end - GREATEST(n.need_start, COALESCE(t.total, 0)), 0, 'SHORT', '', :no_bin_stock, :now, :now
    FROM need_range n LEFT JOIN sku_total t ON t.sku_id = n.sku_id
    WHERE n.need_end > COALESCE(t.total, 0)"""

_PLANNED_TASKS = """
    INSERT INTO pick_tasks (tenant_id, wave_id, order_id, order_line_id, sku_id, bin_id, quantity,
                            quantity_picked, status, sequence, short_reason, created_at, updated_at)
    SELECT a.tenant_id, :wave_id, a.order_id, a.line_id, a.sku_id, a.bin_id, a.qty, 0, 'OPEN',
           a.sort_key, '', :now, :now
    FROM alloc a
    ORDER BY a.sort_key, a.line_id"""


def _plan(session: Session, *, wave_id: int, warehouse_id: int, need_sql: str, params: dict) -> None:
    """Insert the pick tasks covering ``need`` (tenant_id, order_id, line_id, sku_id, qty, rank_key) from the
    warehouse's bins in route order, and one ``short`` task per line for what no bin covers.

    The short tasks go in first: they hold no bin, so the plan that follows sees the bins exactly as they were.
    """
    now = {"now": datetime.now().astimezone()}
    base = {"warehouse_id": warehouse_id, "wave_id": wave_id, "replan_line": None, **now, **params}
    postgres = _is_postgres(session)
    if postgres:
        # With no tenant set, the planner misjudges the tenant policy's filter as matching almost no rows and
        # joins lines to bins by nested loop: 16,000 lines x 4,000 bins took 3 of the 4 s of a 10,000-order
        # release. Hash joins here, for these two statements only.
        session.execute(text("SET LOCAL enable_nestloop = off"))
    session.execute(text(_with_plan(session, need_sql, _SHORT_TASKS)), {**base, "no_bin_stock": NO_BIN_STOCK})
    session.execute(text(_with_plan(session, need_sql, _PLANNED_TASKS)), base)
    if postgres:
        session.execute(text("SET LOCAL enable_nestloop = on"))


@dataclass(frozen=True)
class PoolCount:
    carrier: str
    single_line: bool
    orders: int


def _pool(warehouse_id: int):
    """Orders waiting to ship (also the rest of a partly shipped one) with open lines from this warehouse that
    are not in a wave."""
    lines = (
        select(
            OrderLine.order_id,
            func.count().label("lines"),
        )
        .where(OrderLine.warehouse_id == warehouse_id, OrderLine.quantity > OrderLine.shipped_quantity)
        .group_by(OrderLine.order_id)
        .subquery()
    )
    query = (
        select(Order.id, Order.shipping_method, Order.paid_at, lines.c.lines)
        .join(lines, lines.c.order_id == Order.id)
        .where(
            Order.status.in_(SHIPPABLE),
            Order.deleted_at.is_(None),
            ~select(WaveOrder.id).where(WaveOrder.order_id == Order.id).exists(),
        )
    )
    return query, lines


def outbound_pool(session: Session, warehouse_id: int) -> list[PoolCount]:
    """How many orders wait to be released, by carrier and single- vs multi-line."""
    query, _ = _pool(warehouse_id)
    pool = query.subquery()
    single = pool.c.lines == 1
    rows = session.execute(
        select(pool.c.shipping_method, single, func.count())
        .group_by(pool.c.shipping_method, single)
        .order_by(pool.c.shipping_method, single.desc())
    ).all()
    return [PoolCount(carrier or "", bool(one), int(n)) for carrier, one, n in rows]


def release_wave(
    session: Session,
    warehouse: Warehouse,
    *,
    carrier: str | None = None,
    cutoff: datetime | None = None,
    single_line: bool | None = None,
    limit: int = 500,
    created_by_id: int | None = None,
) -> Wave:
    """Release up to ``limit`` pool orders (oldest paid first) matching the filters as a new wave, planned onto
    bins; :class:`NothingToRelease` when none match. Set-based: a few statements whatever the size."""
    limit = max(1, min(int(limit), MAX_WAVE))
    if _is_postgres(session):
        # One release at a time per warehouse, so two waves never promise the same bin units.
        session.execute(text("SELECT pg_advisory_xact_lock(727001, :w)"), {"w": warehouse.id})
    query, lines = _pool(warehouse.id)
    if carrier is not None:
        query = query.where(Order.shipping_method == carrier)
    if cutoff is not None:
        query = query.where(Order.paid_at <= cutoff)
    if single_line is True:
        query = query.where(lines.c.lines == 1)
    elif single_line is False:
        query = query.where(lines.c.lines > 1)
    query = query.order_by(Order.paid_at, Order.id).limit(limit)

    wave = Wave(
        warehouse_id=warehouse.id,
        number=_next_wave_number(session, warehouse.id),
        status=WaveStatus.OPEN,
        filters={
            "carrier": carrier,
            "cutoff": cutoff.isoformat() if cutoff else None,
            "single_line": single_line,
            "limit": limit,
        },
        created_by_id=created_by_id,
    )
    session.add(wave)
    session.flush()
    chosen = query.with_only_columns(Order.id).subquery()
    inserted = session.execute(
        WaveOrder.__table__.insert()
        .from_select(["wave_id", "order_id"], select(literal(wave.id, BigInteger), chosen.c.id))
        .returning(WaveOrder.__table__.c.order_id)
    ).all()
    if not inserted:
        raise NothingToRelease()
    need = """
        SELECT ol.tenant_id, ol.order_id, ol.id AS line_id, ol.sku_id, ol.quantity - ol.shipped_quantity AS qty,
               o.paid_at AS rank_key
        FROM wave_orders wo JOIN order_lines ol ON ol.order_id = wo.order_id JOIN orders o ON o.id = ol.order_id
        WHERE wo.wave_id = :wave_id AND ol.warehouse_id = :warehouse_id AND ol.quantity > ol.shipped_quantity
    """
    _plan(session, wave_id=wave.id, warehouse_id=warehouse.id, need_sql=need, params={})
    session.flush()
    _settle(session, wave)
    return wave


def _settle(session: Session, wave: Wave) -> None:
    """A wave with nothing left to pick is picked."""
    left = session.scalar(
        select(func.count())
        .select_from(PickTask)
        .where(PickTask.wave_id == wave.id, PickTask.status.in_([PickStatus.OPEN, PickStatus.CLAIMED]))
    )
    if not left:
        wave.status = WaveStatus.PICKED
    elif wave.status == WaveStatus.PICKED:
        wave.status = WaveStatus.PICKING


def _drop_cancelled(session: Session, wave: Wave) -> None:
    """Open tasks of orders cancelled since the release end short: their units stay in the bins."""
    session.execute(
        update(PickTask)
        .where(
            PickTask.wave_id == wave.id,
            PickTask.status == PickStatus.OPEN,
            PickTask.order_id.in_(select(Order.id).where(Order.status.notin_(SHIPPABLE))),
        )
        .values(status=PickStatus.SHORT, short_reason=ORDER_CANCELLED)
        .execution_options(synchronize_session=False)
    )


def claim_next_task(session: Session, wave: Wave, picker_id: int) -> PickTask | None:
    """The picker's task in progress, or the next open task of the wave in route order, now claimed by them;
    None when nothing is left. Two pickers asking at once get different tasks (``SKIP LOCKED``). Tasks of
    orders cancelled meanwhile are dropped first, so nobody picks for them."""
    mine = session.scalar(
        select(PickTask)
        .where(
            PickTask.wave_id == wave.id,
            PickTask.status == PickStatus.CLAIMED,
            PickTask.claimed_by == picker_id,
        )
        .order_by(PickTask.sequence, PickTask.id)
        .limit(1)
    )
    if mine is not None:
        return mine
    _drop_cancelled(session, wave)
    task = session.scalar(
        select(PickTask)
        .where(PickTask.wave_id == wave.id, PickTask.status == PickStatus.OPEN)
        .order_by(PickTask.sequence, PickTask.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if task is None:
        _settle(session, wave)
        return None
    task.status = PickStatus.CLAIMED
    task.claimed_by = picker_id
    if wave.status == WaveStatus.OPEN:
        wave.status = WaveStatus.PICKING
    session.flush()
    return task


def claim_next_anywhere(
    session: Session, picker_id: int, *, prefer_wave_id: int | None = None
) -> PickTask | None:
    """The next open task of the platform warehouses: of the preferred wave first, then the oldest wave with
    work left; None when there is nothing to pick."""
    waves = session.scalars(
        select(Wave)
        .join(Warehouse, Warehouse.id == Wave.warehouse_id)
        .where(Wave.status != WaveStatus.PICKED, Warehouse.merchant_id.is_(None))
        .order_by((Wave.id == (prefer_wave_id or 0)).desc(), Wave.id)
    ).all()
    for wave in waves:
        task = claim_next_task(session, wave, picker_id)
        if task is not None:
            return task
    return None


def _normal(value: str) -> str:
    return (value or "").strip().upper()


def _own(task: PickTask, picker_id: int) -> None:
    if task.status != PickStatus.CLAIMED or task.claimed_by != picker_id:
        raise TaskNotYours()


def scan_bin(session: Session, task: PickTask, scanned: str) -> Bin:
    """The task's bin if ``scanned`` is its label (or code); else :class:`WrongBin` naming the bin to go to."""
    expected = session.get(Bin, task.bin_id)
    found = bin_by_barcode(session, expected.warehouse_id, scanned)
    if found is None or found.id != expected.id:
        raise WrongBin(scanned=(scanned or "").strip(), expected=expected.code)
    return found


def scan_item(session: Session, task: PickTask, scanned: str) -> Sku:
    """The task's SKU if ``scanned`` is its barcode (or SKU code); else :class:`WrongItem`."""
    sku = session.get(Sku, task.sku_id)
    value = _normal(scanned)
    if not value or value not in {_normal(sku.barcode or ""), _normal(sku.code)} - {""}:
        raise WrongItem(scanned=(scanned or "").strip(), expected=sku.code)
    return sku


def _take_from_bin(session: Session, task: PickTask, quantity: int) -> None:
    """Decrement the bin's stock by ``quantity`` only if it holds that many (never negative)."""
    if quantity <= 0:
        return
    taken = session.execute(
        update(BinStock)
        .where(
            BinStock.bin_id == task.bin_id,
            BinStock.sku_id == task.sku_id,
            BinStock.quantity >= quantity,
        )
        .values(quantity=BinStock.quantity - quantity)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        bin_ = session.get(Bin, task.bin_id)
        raise BinRunsShort(bin=bin_.code, quantity=quantity)


def confirm_pick(
    session: Session, task: PickTask, *, picker_id: int, bin_scan: str, item_scan: str, token: str
) -> PickTask:
    """Both scans right: the task's units leave the bin and the task is picked. Submitting the same ``token``
    again (a double tap, a resent request) returns the picked task without taking anything twice."""
    if task.status == PickStatus.PICKED and token and task.scan_token == token:
        return task
    _own(task, picker_id)
    scan_bin(session, task, bin_scan)
    scan_item(session, task, item_scan)
    done = session.execute(
        update(PickTask)
        .where(
            PickTask.id == task.id,
            PickTask.status == PickStatus.CLAIMED,
            PickTask.claimed_by == picker_id,
        )
        .values(status=PickStatus.PICKED, quantity_picked=PickTask.quantity, scan_token=token or None)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.refresh(task)
        if task.status == PickStatus.PICKED and token and task.scan_token == token:
            return task
        raise TaskNotYours()
    _take_from_bin(session, task, task.quantity)
    session.refresh(task)
    _settle(session, session.get(Wave, task.wave_id))
    session.flush()
    return task


def report_short(
    session: Session, task: PickTask, *, picker_id: int, quantity_found: int, reason: str
) -> list[PickTask]:
    """The picker found only ``quantity_found`` units: those leave the bin, the task ends ``short`` with the
    reason, and the rest is re-planned onto other bins in route order; what no bin holds is flagged short.
    Returns the new tasks (open ones first)."""
    _own(task, picker_id)
    if reason not in PICKER_REASONS or not 0 <= quantity_found < task.quantity:
        raise InvalidShort(maximum=task.quantity - 1)
    _take_from_bin(session, task, quantity_found)
    task.status = PickStatus.SHORT
    task.quantity_picked = quantity_found
    task.short_reason = reason
    session.flush()
    before = session.scalar(select(func.max(PickTask.id)).where(PickTask.wave_id == task.wave_id))
    wave = session.get(Wave, task.wave_id)
    need = """
        SELECT CAST(:tenant_id AS BIGINT) AS tenant_id, CAST(:order_id AS BIGINT) AS order_id,
               CAST(:line_id AS BIGINT) AS line_id, CAST(:sku_id AS BIGINT) AS sku_id,
               CAST(:qty AS INTEGER) AS qty, 0 AS rank_key
    """
    params = {
        "tenant_id": task.tenant_id,
        "order_id": task.order_id,
        "line_id": task.order_line_id,
        "sku_id": task.sku_id,
        "qty": task.quantity - quantity_found,
        "replan_line": task.order_line_id,  # bins that ran short for this line are not planned again
    }
    _plan(session, wave_id=wave.id, warehouse_id=wave.warehouse_id, need_sql=need, params=params)
    session.flush()
    _settle(session, wave)
    return list(
        session.scalars(
            select(PickTask)
            .where(
                PickTask.wave_id == wave.id,
                PickTask.id > before,
                PickTask.order_line_id == task.order_line_id,
            )
            .order_by(PickTask.status, PickTask.sequence, PickTask.id)
        )
    )
