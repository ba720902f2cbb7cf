"""Read side of outbound and packing that the WMS pages share: wave progress and task lists, the picker's task
in progress, a parcel's checklist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Sku
from marketplace.fulfillment.models import Bin, PickStatus, PickTask, Wave, WaveOrder
from marketplace.fulfillment.pack_models import Parcel, ParcelLine, ParcelStatus
from marketplace.orders.models import Order, OrderLine


def wave_progress(session: Session, wave_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per wave: orders, tasks, tasks done (picked or short), short tasks."""
    if not wave_ids:
        return {}
    done = case((PickTask.status.in_([PickStatus.PICKED, PickStatus.SHORT]), 1), else_=0)
    short = case((PickTask.status == PickStatus.SHORT, 1), else_=0)
    rows = session.execute(
        select(PickTask.wave_id, func.count(), func.sum(done), func.sum(short))
        .where(PickTask.wave_id.in_(wave_ids))
        .group_by(PickTask.wave_id)
    ).all()
    orders = dict(
        session.execute(
            select(WaveOrder.wave_id, func.count())
            .where(WaveOrder.wave_id.in_(wave_ids))
            .group_by(WaveOrder.wave_id)
        ).all()
    )
    result = {w: {"orders": orders.get(w, 0), "tasks": 0, "done": 0, "short": 0} for w in wave_ids}
    for wave_id, tasks, finished, shorts in rows:
        result[wave_id].update(tasks=tasks, done=int(finished or 0), short=int(shorts or 0))
    return result


def recent_waves(session: Session, warehouse_id: int, limit: int) -> list[Wave]:
    return list(
        session.scalars(
            select(Wave).where(Wave.warehouse_id == warehouse_id).order_by(Wave.number.desc()).limit(limit)
        )
    )


def wave_tasks(session: Session, wave_id: int, *, open_only: bool = False):
    """(task, bin, SKU, order number) of the wave in bin-route order; short tasks without a bin last."""
    query = (
        select(PickTask, Bin, Sku, Order.number)
        .outerjoin(Bin, Bin.id == PickTask.bin_id)
        .join(Sku, Sku.id == PickTask.sku_id)
        .join(Order, Order.id == PickTask.order_id)
        .where(PickTask.wave_id == wave_id)
    )
    if open_only:
        query = query.where(PickTask.status.in_([PickStatus.OPEN, PickStatus.CLAIMED]))
    return session.execute(query.order_by(Bin.sort_key.nulls_last(), PickTask.sequence, PickTask.id)).all()


def current_task(session: Session, picker_id: int) -> PickTask | None:
    """The task the picker has claimed and not finished (uses the partial index on claimed tasks)."""
    return session.scalar(
        select(PickTask)
        .where(PickTask.status == PickStatus.CLAIMED, PickTask.claimed_by == picker_id)
        .order_by(PickTask.sequence, PickTask.id)
        .limit(1)
    )


@dataclass(frozen=True)
class ReadyOrder:
    order_id: int
    number: str
    wave_number: int
    parcel_id: int | None
    parcel_status: ParcelStatus | None


def _ready(warehouse_id: int):
    """Orders of the warehouse's waves with nothing left to pick and no shipped or returned parcel."""
    open_tasks = (
        select(PickTask.id)
        .where(
            PickTask.order_id == WaveOrder.order_id,
            PickTask.wave_id == WaveOrder.wave_id,
            PickTask.status.in_([PickStatus.OPEN, PickStatus.CLAIMED]),
        )
        .exists()
    )
    return (
        select(Order.id, Order.number, Wave.number, Parcel.id, Parcel.status)
        .join(WaveOrder, WaveOrder.order_id == Order.id)
        .join(Wave, Wave.id == WaveOrder.wave_id)
        .outerjoin(Parcel, (Parcel.order_id == Order.id) & (Parcel.wave_id == Wave.id))
        .where(
            Wave.warehouse_id == warehouse_id,
            ~open_tasks,
            or_(Parcel.id.is_(None), Parcel.status.notin_([ParcelStatus.SHIPPED, ParcelStatus.RETURNED])),
        )
    )


def ready_to_pack(session: Session, warehouse_id: int, *, limit: int = 50) -> list[ReadyOrder]:
    """The orders waiting at the pack station, oldest wave first."""
    rows = session.execute(_ready(warehouse_id).order_by(Wave.number, Order.paid_at, Order.id).limit(limit))
    return [ReadyOrder(*row) for row in rows]


def ready_count(session: Session, warehouse_id: int) -> int:
    return session.scalar(select(func.count()).select_from(_ready(warehouse_id).subquery()))


def checklist(session: Session, parcel: Parcel) -> list[tuple[ParcelLine, OrderLine, Sku]]:
    """The parcel's lines with their order lines and SKUs, as the check screen and the documents list them."""
    return list(
        session.execute(
            select(ParcelLine, OrderLine, Sku)
            .join(OrderLine, OrderLine.id == ParcelLine.order_line_id)
            .join(Sku, Sku.id == ParcelLine.sku_id)
            .where(ParcelLine.parcel_id == parcel.id)
            .order_by(ParcelLine.id)
        )
    )
