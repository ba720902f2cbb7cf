"""Customer returns: a parcel a customer sent back is received against the original order.

The order is locked (``SELECT ... FOR UPDATE``) while a return is booked, so two receivers booking returns of
the same order cannot both return the last shipped unit. Every line is checked first (the order must have left
this warehouse; per order line, good plus damaged units not above what was shipped minus what earlier returns
took back), so a refused return changes nothing. Good units enter the warehouse's stock (one movement per line,
reason ``Return <number>``) and get a putaway task; damaged units are only recorded on the line (for the
after-sales case and claims), never booked as stock, so they can never be sold or picked.

The order itself is not changed: refunds and after-sales cases are not part of the warehouse.
"""

from __future__ import annotations

import secrets
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Sku
from marketplace.core.errors import N_, DomainError, ValidationFailed
from marketplace.fulfillment.models import PutawayStatus, PutawayTask
from marketplace.fulfillment.transfer_models import ReturnReceipt, ReturnReceiptLine
from marketplace.inventory import services as inventory
from marketplace.inventory.models import MAX_UNITS, Warehouse
from marketplace.orders.models import Order, OrderLine, OrderStatus

# Orders whose goods have left the warehouse (a closed order may have been refunded after shipment).
RETURNABLE = (
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.RECEIVED,
    OrderStatus.COMPLETED,
    OrderStatus.CLOSED,
)


class UnknownOrder(DomainError):
    code = "wms.return_unknown_order"
    status = 404
    message = N_("No order {number} shipped from this warehouse.")


class OrderNotShipped(DomainError):
    code = "wms.return_not_shipped"
    status = 409
    message = N_("Order {number} has not been shipped: nothing can come back yet.")


class ReturnTooMany(DomainError):
    """More units of a line than were shipped and not yet returned; ``facts``: ``sku``, ``left``."""

    code = "wms.return_too_many"
    status = 409
    message = N_("{sku}: only {left} units of this order can still come back.")


class ReturnLine(NamedTuple):
    """What came back of one order line: ``good`` units to stock, ``damaged`` units recorded only."""

    order_line_id: int
    good: int
    damaged: int = 0


def _count(value: object, *, zero: bool = True) -> bool:
    low = 0 if zero else 1
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= MAX_UNITS


def find_order(session: Session, number: str, warehouse_id: int) -> Order:
    """The order a scanner read, with lines from this warehouse, shipped; else a refusal saying why."""
    number = (number or "").strip().upper()
    order = session.scalar(select(Order).where(func.upper(Order.number) == number)) if number else None
    if order is None or not any(line.warehouse_id == warehouse_id for line in order.lines):
        raise UnknownOrder(number=number or "—")
    if order.status not in RETURNABLE:
        raise OrderNotShipped(number=order.number)
    return order


def returned_quantities(session: Session, order_id: int) -> dict[int, int]:
    """Order line id -> units (good and damaged) already received back by earlier returns."""
    rows = session.execute(
        select(
            ReturnReceiptLine.order_line_id,
            func.sum(ReturnReceiptLine.quantity_good + ReturnReceiptLine.quantity_damaged),
        )
        .join(ReturnReceipt, ReturnReceipt.id == ReturnReceiptLine.receipt_id)
        .where(ReturnReceipt.order_id == order_id)
        .group_by(ReturnReceiptLine.order_line_id)
    ).all()
    return {line_id: int(total) for line_id, total in rows}


def returnable(session: Session, order: Order, warehouse_id: int) -> dict[int, int]:
    """Order line id -> units that may still come back to this warehouse (shipped minus returned)."""
    returned = returned_quantities(session, order.id)
    return {
        line.id: max(line.shipped_quantity - returned.get(line.id, 0), 0)
        for line in order.lines
        if line.warehouse_id == warehouse_id
    }


def _locked_order(session: Session, order_id: int) -> Order:
    return session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )


def _check(
    session: Session, order: Order, warehouse_id: int, lines: list[ReturnLine]
) -> dict[int, OrderLine]:
    """Refuse (before anything changes) unknown lines, bad counts and more than may still come back."""
    if not lines:
        raise ValidationFailed({"lines": [N_("Scan what came back.")]})
    left = returnable(session, order, warehouse_id)
    by_id = {line.id: line for line in order.lines}
    seen: set[int] = set()
    for line in lines:
        if line.order_line_id not in left or line.order_line_id in seen:
            raise ValidationFailed({"lines": [N_("Each line must be a line of the order, once.")]})
        seen.add(line.order_line_id)
        if not _count(line.good) or not _count(line.damaged) or line.good + line.damaged <= 0:
            raise ValidationFailed({"lines": [N_("Quantities are whole numbers above 0.")]})
        if line.good + line.damaged > left[line.order_line_id]:
            order_line = by_id[line.order_line_id]
            raise ReturnTooMany(sku=order_line.sku_code or order_line.title, left=left[line.order_line_id])
    return by_id


def receive_return(
    session: Session,
    *,
    order_id: int,
    warehouse_id: int,
    lines: list[ReturnLine] | list[tuple],
    case_reference: str = "",
    actor_id: int | None,
) -> ReturnReceipt:
    """Book a customer return into ``warehouse_id``: good units to stock with a putaway task, damaged recorded."""
    warehouse = session.get(Warehouse, warehouse_id)
    order = _locked_order(session, order_id)
    if warehouse is None or order is None:
        raise UnknownOrder(number="—")
    if order.status not in RETURNABLE:
        raise OrderNotShipped(number=order.number)
    wanted = [ReturnLine(*line) for line in lines]
    case_reference = (case_reference or "").strip()
    if len(case_reference) > 64:
        raise ValidationFailed({"case_reference": [N_("At most 64 characters.")]})
    by_id = _check(session, order, warehouse_id, wanted)
    receipt = ReturnReceipt(
        number=f"tmp-{secrets.token_hex(8)}",
        tenant_id=order.tenant_id,
        warehouse_id=warehouse_id,
        order_id=order.id,
        case_reference=case_reference,
        received_by_id=actor_id,
    )
    session.add(receipt)
    session.flush()
    receipt.number = f"RR{receipt.id:06d}"
    for line in wanted:
        _book_line(session, receipt, by_id[line.order_line_id], line, warehouse, actor_id)
    session.flush()
    session.refresh(receipt)
    return receipt


def _book_line(
    session: Session,
    receipt: ReturnReceipt,
    order_line: OrderLine,
    line: ReturnLine,
    warehouse: Warehouse,
    actor_id: int | None,
) -> ReturnReceiptLine:
    task = None
    if line.good:
        inventory.receive(
            session, sku_id=order_line.sku_id, tenant_id=receipt.tenant_id, quantity=line.good,
            warehouse_id=warehouse.id, reason=f"Return {receipt.number} (order {_order_number(session, receipt)})",
            actor_id=actor_id,
        )  # fmt: skip
        task = putaway_task(session, warehouse, order_line.sku_id, receipt.tenant_id, line.good)
    row = ReturnReceiptLine(
        receipt_id=receipt.id,
        tenant_id=receipt.tenant_id,
        order_line_id=order_line.id,
        sku_id=order_line.sku_id,
        quantity_good=line.good,
        quantity_damaged=line.damaged,
        putaway_task_id=task.id if task is not None else None,
    )
    session.add(row)
    return row


def _order_number(session: Session, receipt: ReturnReceipt) -> str:
    return session.scalar(select(Order.number).where(Order.id == receipt.order_id)) or ""


def putaway_task(
    session: Session, warehouse: Warehouse, sku_id: int, tenant_id: int, quantity: int
) -> PutawayTask | None:
    """An open putaway task for units that just arrived; None for a warehouse without bins (a shop's own)."""
    if not warehouse.is_platform:
        return None
    task = PutawayTask(
        warehouse_id=warehouse.id,
        receipt_line_id=None,
        sku_id=sku_id,
        tenant_id=tenant_id,
        quantity=quantity,
        quantity_done=0,
        status=PutawayStatus.OPEN,
    )
    session.add(task)
    session.flush()
    return task


def return_lines(session: Session, order: Order, warehouse_id: int) -> list[tuple[OrderLine, Sku, int]]:
    """The order's lines from this warehouse with their SKU and the units that may still come back."""
    left = returnable(session, order, warehouse_id)
    lines = [line for line in order.lines if line.id in left]
    ids = [line.sku_id for line in lines]
    skus = {sku.id: sku for sku in session.scalars(select(Sku).where(Sku.id.in_(ids)))} if ids else {}
    return [(line, skus[line.sku_id], left[line.id]) for line in lines]
