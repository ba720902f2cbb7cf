"""Putaway: received units go from the dock into bins.

A purchasing receipt makes one :class:`PutawayTask` per line with good units (same transaction). The handheld
shows a suggested bin (a bin of the warehouse already holding the SKU, else the first empty active storage bin
on the route), the worker scans a bin and confirms a quantity. The task's done quantity grows by one
conditional UPDATE (never past the task's quantity, never on a done task), and the bin's stock by one
``INSERT ... ON CONFLICT DO UPDATE``, so two workers cannot put the same units away twice. The warehouse's
``StockLevel`` does not change: the goods were booked at receipt; bin stock says where they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from marketplace.catalog.models import Sku
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, DomainError, NotFound
from marketplace.fulfillment.models import Bin, BinKind, BinStock, PutawayStatus, PutawayTask
from marketplace.fulfillment.queries import bin_by_barcode
from marketplace.purchasing.models import ReceiptLine


class UnknownBin(DomainError):
    code = "wms.unknown_bin"
    status = 422
    message = N_("“{scanned}” is not an active bin of this warehouse.")


class PutawayQuantity(DomainError):
    code = "wms.putaway_quantity"
    status = 422
    message = N_("Put away 1 to {open} units: that is what this task still has open.")


class TaskDone(DomainError):
    code = "wms.putaway_done"
    status = 409
    message = N_("This putaway task is already done.")


def create_tasks(session: Session, *, receipt_id: int, warehouse_id: int) -> list[PutawayTask]:
    """One open task per line of the receipt with good units (called by purchasing's receive)."""
    tasks = []
    for line in session.scalars(select(ReceiptLine).where(ReceiptLine.receipt_id == receipt_id)):
        good = line.quantity - (line.damaged_quantity or 0)
        if good <= 0:
            continue
        task = PutawayTask(
            warehouse_id=warehouse_id,
            receipt_line_id=line.id,
            sku_id=line.sku_id,
            tenant_id=line.tenant_id,
            quantity=good,
            quantity_done=0,
            status=PutawayStatus.OPEN,
        )
        session.add(task)
        tasks.append(task)
    session.flush()
    return tasks


def open_tasks(session: Session, *, sku_id: int | None = None) -> list[tuple[PutawayTask, Sku]]:
    """Open tasks, oldest first, with their SKU."""
    query = (
        select(PutawayTask, Sku)
        .join(Sku, Sku.id == PutawayTask.sku_id)
        .where(PutawayTask.status == PutawayStatus.OPEN)
        .order_by(PutawayTask.id)
    )
    if sku_id is not None:
        query = query.where(PutawayTask.sku_id == sku_id)
    return [(task, sku) for task, sku in session.execute(query)]


def get_task(session: Session, task_id: int) -> PutawayTask:
    task = session.get(PutawayTask, task_id, populate_existing=True)
    if task is None:
        raise NotFound()
    return task


def suggested_bin(session: Session, task: PutawayTask) -> Bin | None:
    """A bin of the warehouse already holding the SKU, else the first empty active storage bin on the route."""
    holding = session.scalar(
        select(Bin)
        .join(BinStock, BinStock.bin_id == Bin.id)
        .where(
            BinStock.sku_id == task.sku_id,
            BinStock.quantity > 0,
            Bin.warehouse_id == task.warehouse_id,
            Bin.is_active.is_(True),
            Bin.kind.in_([BinKind.STORAGE, BinKind.PICK]),
        )
        .order_by(Bin.sort_key, Bin.id)
        .limit(1)
    )
    if holding is not None:
        return holding
    occupied = exists().where(and_(BinStock.bin_id == Bin.id, BinStock.quantity > 0))
    return session.scalar(
        select(Bin)
        .where(
            Bin.warehouse_id == task.warehouse_id,
            Bin.is_active.is_(True),
            Bin.kind == BinKind.STORAGE,
            ~occupied,
        )
        .order_by(Bin.sort_key, Bin.id)
        .limit(1)
    )


@dataclass(frozen=True)
class PutawayResult:
    task: PutawayTask
    bin: Bin
    quantity: int
    suggested: Bin | None

    @property
    def other_bin(self) -> bool:
        return self.suggested is not None and self.suggested.id != self.bin.id


def put_away(
    session: Session, task_id: int, *, scanned_bin: str, quantity: int, actor_id: int | None
) -> PutawayResult:
    """Put ``quantity`` units of the task into the scanned bin; refused (changing nothing) when the bin is not
    an active bin of the task's warehouse, the quantity is not 1..open, or the task is done meanwhile."""
    task = get_task(session, task_id)
    if task.status == PutawayStatus.DONE:
        raise TaskDone()
    suggested = suggested_bin(session, task)
    target = bin_by_barcode(session, task.warehouse_id, scanned_bin)
    if target is None:
        raise UnknownBin(scanned=(scanned_bin or "").strip())
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= task.open_quantity:
        raise PutawayQuantity(open=task.open_quantity)
    done = session.execute(
        update(PutawayTask)
        .where(
            PutawayTask.id == task.id,
            PutawayTask.status == PutawayStatus.OPEN,
            PutawayTask.quantity_done + quantity <= PutawayTask.quantity,
        )
        .values(quantity_done=PutawayTask.quantity_done + quantity, claimed_by=actor_id, updated_at=utcnow())
        .returning(PutawayTask.quantity_done, PutawayTask.quantity)
        .execution_options(synchronize_session=False)
    ).first()
    if done is None:
        task = get_task(session, task_id)
        if task.status == PutawayStatus.DONE:
            raise TaskDone()
        raise PutawayQuantity(open=task.open_quantity)
    if done.quantity_done >= done.quantity:
        session.execute(
            update(PutawayTask)
            .where(PutawayTask.id == task.id)
            .values(status=PutawayStatus.DONE)
            .execution_options(synchronize_session=False)
        )
    insert = pg_insert(BinStock).values(
        sku_id=task.sku_id,
        bin_id=target.id,
        warehouse_id=task.warehouse_id,
        tenant_id=task.tenant_id,
        quantity=quantity,
        updated_at=utcnow(),
    )
    session.execute(
        insert.on_conflict_do_update(
            constraint="uq_bin_stocks_bin_id_sku_id",
            set_={"quantity": BinStock.quantity + insert.excluded.quantity, "updated_at": utcnow()},
        )
    )
    session.flush()
    return PutawayResult(get_task(session, task.id), target, quantity, suggested)
