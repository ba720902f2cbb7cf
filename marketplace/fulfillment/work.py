"""Open work across the platform warehouses: what the handheld home screen counts on its tiles."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.fulfillment.count_models import CountStatus, CycleCount
from marketplace.fulfillment.models import PickStatus, PickTask, PutawayStatus, PutawayTask
from marketplace.fulfillment.outbound import outbound_pool
from marketplace.fulfillment.outbound_queries import ready_count
from marketplace.fulfillment.queries import platform_warehouses
from marketplace.fulfillment.transfer_models import Transfer, TransferStatus


def work_counts(session: Session) -> dict[str, int]:
    """Work waiting: putaway and pick tasks, orders in the pool and ready to pack, transfers on their way in,
    counts being counted."""
    warehouses = [summary.warehouse.id for summary in platform_warehouses(session)]
    return {
        "putaway": session.scalar(
            select(func.count()).select_from(PutawayTask).where(PutawayTask.status == PutawayStatus.OPEN)
        ),
        "pick": session.scalar(
            select(func.count())
            .select_from(PickTask)
            .where(PickTask.status.in_([PickStatus.OPEN, PickStatus.CLAIMED]))
        ),
        "pool": sum(pool.orders for w in warehouses for pool in outbound_pool(session, w)),
        "pack": sum(ready_count(session, w) for w in warehouses),
        "transfers": session.scalar(
            select(func.count())
            .select_from(Transfer)
            .where(
                Transfer.to_warehouse_id.in_(warehouses),
                Transfer.status.in_([TransferStatus.SHIPPED, TransferStatus.PARTIALLY_RECEIVED]),
            )
        ),
        "counts": session.scalar(
            select(func.count()).select_from(CycleCount).where(CycleCount.status == CountStatus.OPEN)
        ),
    }
