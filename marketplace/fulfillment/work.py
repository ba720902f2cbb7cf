"""Open work across the platform warehouses: what the handheld home screen counts on its tiles."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.fulfillment.models import PickStatus, PickTask, PutawayStatus, PutawayTask
from marketplace.fulfillment.outbound import outbound_pool
from marketplace.fulfillment.packing import ready_to_pack
from marketplace.fulfillment.queries import platform_warehouses

READY_SHOWN = 1000  # past this many orders ready to pack the tile says "1000"


def work_counts(session: Session) -> dict[str, int]:
    """Units of work waiting: putaway tasks, pick tasks, orders in the pool and orders ready to pack."""
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
        "pack": sum(len(ready_to_pack(session, w, limit=READY_SHOWN)) for w in warehouses),
    }
