"""Transfers: one shop's goods moving from one warehouse to another (draft -> shipped -> received).

A transfer carries the goods of one shop only (its lines' SKUs all belong to the transfer's tenant), between
two different warehouses, each a platform warehouse or that shop's own. Every step locks the transfer
(``SELECT ... FOR UPDATE``) and checks everything before moving stock, and the caller rolls back on a refusal,
so a refused step changes nothing.

* **Ship** takes each line's units out of the source: from a warehouse with bins, out of the line's named bin
  by one conditional ``UPDATE bin_stocks ... WHERE quantity >= n`` (never negative), then out of the stock
  level by ``inventory.issue`` (refused when fewer units are *available*: stock held for orders stays). So for
  a platform warehouse ``on_hand = bins + open putaway + picked-not-shipped`` still holds afterwards.
* **Receive** books what was scanned at the destination: one stock movement per line (reason
  ``Transfer <number>``) and, in a warehouse with bins, one putaway task. More units of a SKU than were sent
  need a user who may confirm over-receipts (``purchasing.approve``); items not on the transfer are refused.
  A receipt that leaves units open makes the transfer partially received (closing short is not built yet).
"""

from __future__ import annotations

import secrets
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from marketplace.catalog.models import Sku
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, DomainError, NotFound, ValidationFailed
from marketplace.fulfillment.models import Bin, BinStock
from marketplace.fulfillment.returns import putaway_task
from marketplace.fulfillment.transfer_models import (
    Transfer,
    TransferLine,
    TransferReceiptLine,
    TransferStatus,
)
from marketplace.inventory import services as inventory
from marketplace.inventory.models import MAX_UNITS, Warehouse
from marketplace.merchants.models import Merchant, MerchantStatus

CONFIRM_OVER = "purchasing.approve"
RECEIVABLE = (TransferStatus.SHIPPED, TransferStatus.PARTIALLY_RECEIVED)


class TransferWrongStatus(DomainError):
    code = "wms.transfer_wrong_status"
    status = 409
    message = N_("Transfer {number} is {status}: this step is not possible now.")


class BinShort(DomainError):
    """The named source bin holds fewer units than the line sends; ``facts``: ``sku``, ``bin``, ``held``."""

    code = "wms.transfer_bin_short"
    status = 409
    message = N_("{sku}: bin {bin} holds only {held} units.")


class OverReceipt(DomainError):
    code = "wms.transfer_over_receipt"
    status = 409
    message = N_("{sku}: more than was sent on this transfer. A supervisor must confirm it.")


class NotOnTransfer(DomainError):
    code = "wms.transfer_unknown_item"
    status = 422
    message = N_("{sku} is not on transfer {number}.")


class NotSupervisor(DomainError):
    code = "wms.transfer_not_supervisor"
    status = 403
    message = N_("Only a user who may confirm over-receipts can confirm this.")


class TransferLineInput(NamedTuple):
    sku_id: int
    quantity: int
    from_bin_id: int | None = None


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_UNITS


def _fail(field: str, message: str) -> None:
    raise ValidationFailed({field: [message]})


# --- drafts -----------------------------------------------------------------------------------------------


def _endpoint(session: Session, warehouse_id: int | None, tenant_id: int, field: str) -> Warehouse:
    """A warehouse a shop's goods may move through: a platform warehouse or the shop's own."""
    warehouse = session.get(Warehouse, warehouse_id) if warehouse_id else None
    if warehouse is None or not warehouse.is_active or warehouse.merchant_id not in (None, tenant_id):
        _fail(field, N_("Choose a platform warehouse or the shop's own."))
    return warehouse


def _check_line(session: Session, line: TransferLineInput, tenant_id: int, source: Warehouse) -> None:
    sku = session.get(Sku, line.sku_id)
    if sku is None or sku.tenant_id != tenant_id:
        _fail("lines", N_("A transfer carries the goods of one shop: every SKU must be that shop's."))
    if not _count(line.quantity):
        _fail("lines", N_("Quantities are whole numbers above 0."))
    if source.is_platform:
        found = session.get(Bin, line.from_bin_id) if line.from_bin_id else None
        if found is None or found.warehouse_id != source.id or not found.is_active:
            _fail("lines", N_("Name the bin of the source warehouse each line is taken from."))
    elif line.from_bin_id:
        _fail("lines", N_("The source warehouse has no bins."))


def create_transfer(
    session: Session,
    *,
    tenant_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    lines: list[TransferLineInput] | list[tuple],
    note: str = "",
    actor_id: int | None = None,
) -> Transfer:
    """A draft transfer of one shop's goods, numbered TR000001; one line per SKU and source bin."""
    wanted = [TransferLineInput(*line) for line in lines]
    source = _endpoint(session, from_warehouse_id, tenant_id, "from_warehouse_id")
    target = _endpoint(session, to_warehouse_id, tenant_id, "to_warehouse_id")
    if source.id == target.id:
        _fail("to_warehouse_id", N_("Choose two different warehouses."))
    if not wanted:
        _fail("lines", N_("Add at least one line."))
    if len({(line.sku_id, line.from_bin_id) for line in wanted}) != len(wanted):
        _fail("lines", N_("Each SKU may appear once per bin."))
    for line in wanted:
        _check_line(session, line, tenant_id, source)
    if len((note or "").strip()) > 500:
        _fail("note", N_("At most 500 characters."))
    transfer = Transfer(
        number=f"tmp-{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        from_warehouse_id=source.id,
        to_warehouse_id=target.id,
        status=TransferStatus.DRAFT,
        note=(note or "").strip(),
        created_by_id=actor_id,
    )
    session.add(transfer)
    session.flush()
    transfer.number = f"TR{transfer.id:06d}"
    for line in wanted:
        session.add(
            TransferLine(
                transfer_id=transfer.id, tenant_id=tenant_id, sku_id=line.sku_id,
                from_bin_id=line.from_bin_id, quantity_sent=line.quantity, quantity_received=0,
            )
        )  # fmt: skip
    session.flush()
    session.refresh(transfer)
    return transfer


def _locked(session: Session, transfer_id: int) -> Transfer:
    transfer = session.scalar(
        select(Transfer)
        .where(Transfer.id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if transfer is None:
        raise NotFound()
    return transfer


def _expect(transfer: Transfer, *statuses: TransferStatus) -> None:
    if transfer.status not in statuses:
        raise TransferWrongStatus(number=transfer.number, status=transfer.status.value)


def cancel_transfer(session: Session, transfer_id: int) -> Transfer:
    """A draft is cancelled; nothing had moved yet."""
    transfer = _locked(session, transfer_id)
    _expect(transfer, TransferStatus.DRAFT)
    transfer.status = TransferStatus.CANCELLED
    session.flush()
    return transfer


# --- shipping ---------------------------------------------------------------------------------------------


def _take_from_bin(session: Session, line: TransferLine, warehouse_id: int) -> None:
    """One conditional UPDATE: the bin loses the units only if it holds them (never negative)."""
    taken = session.execute(
        update(BinStock)
        .where(
            BinStock.bin_id == line.from_bin_id,
            BinStock.sku_id == line.sku_id,
            BinStock.warehouse_id == warehouse_id,
            BinStock.quantity >= line.quantity_sent,
        )
        .values(quantity=BinStock.quantity - line.quantity_sent, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        held = session.scalar(
            select(BinStock.quantity).where(
                BinStock.bin_id == line.from_bin_id, BinStock.sku_id == line.sku_id
            )
        )
        code = session.scalar(select(Bin.code).where(Bin.id == line.from_bin_id))
        raise BinShort(sku=inventory.sku_code(session, line.sku_id), bin=code, held=held or 0)


def ship_transfer(session: Session, transfer_id: int, *, actor_id: int | None) -> Transfer:
    """The draft leaves its source: bins (if any) and available stock go down per line; refused if not there."""
    transfer = _locked(session, transfer_id)
    _expect(transfer, TransferStatus.DRAFT)
    source = session.get(Warehouse, transfer.from_warehouse_id)
    for line in transfer.lines:
        if line.from_bin_id is not None:
            _take_from_bin(session, line, source.id)
        inventory.issue(
            session, sku_id=line.sku_id, quantity=line.quantity_sent, warehouse_id=source.id,
            reason=f"Transfer {transfer.number} out", actor_id=actor_id,
        )  # fmt: skip
    transfer.status = TransferStatus.SHIPPED
    transfer.shipped_by_id = actor_id
    transfer.shipped_at = utcnow()
    session.flush()
    return transfer


# --- receiving --------------------------------------------------------------------------------------------


def find_transfer(session: Session, number: str) -> Transfer | None:
    """The transfer a scanner read, whatever the case of the letters."""
    number = (number or "").strip().upper()
    return session.scalar(select(Transfer).where(Transfer.number == number)) if number else None


def open_by_sku(transfer: Transfer) -> dict[int, int]:
    """SKU id -> units sent and not yet received (lines of the same SKU from several bins added up)."""
    result: dict[int, int] = {}
    for line in transfer.lines:
        result[line.sku_id] = result.get(line.sku_id, 0) + line.open_quantity
    return result


def _check_receipt(session: Session, transfer: Transfer, wanted: dict[int, int], confirmer) -> None:
    """Refuse unknown items, bad counts, and units over what was sent unless a supervisor confirms them."""
    if not wanted:
        _fail("lines", N_("Scan what arrived."))
    left = open_by_sku(transfer)
    over = False
    for sku_id, quantity in wanted.items():
        if sku_id not in left:
            raise NotOnTransfer(sku=inventory.sku_code(session, sku_id), number=transfer.number)
        if not _count(quantity):
            _fail("lines", N_("Quantities are whole numbers above 0."))
        if quantity > left[sku_id]:
            if confirmer is None:
                raise OverReceipt(sku=inventory.sku_code(session, sku_id))
            over = True
    if over and not confirmer.can(CONFIRM_OVER):
        raise NotSupervisor()


def _spread(transfer: Transfer, sku_id: int, quantity: int) -> list[tuple[TransferLine, int]]:
    """Units of a SKU over its lines, open lines first; what is beyond every line goes on the last one."""
    lines = [line for line in transfer.lines if line.sku_id == sku_id]
    parts: list[tuple[TransferLine, int]] = []
    for line in lines:
        take = min(line.open_quantity, quantity)
        if take:
            parts.append((line, take))
            quantity -= take
    if quantity and parts and parts[-1][0] is lines[-1]:
        parts[-1] = (lines[-1], parts[-1][1] + quantity)
    elif quantity:
        parts.append((lines[-1], quantity))
    return parts


def receive_transfer(
    session: Session,
    transfer_id: int,
    quantities: dict[int, int],
    *,
    actor_id: int | None,
    confirmer=None,
) -> list[TransferReceiptLine]:
    """Book units that arrived at the destination (``quantities``: SKU id -> units) with putaway tasks."""
    transfer = _locked(session, transfer_id)
    _expect(transfer, *RECEIVABLE)
    _check_receipt(session, transfer, quantities, confirmer)
    target = session.get(Warehouse, transfer.to_warehouse_id)
    booked = []
    for sku_id, quantity in sorted(quantities.items()):
        extra = quantity > open_by_sku(transfer)[sku_id]
        for line, units in _spread(transfer, sku_id, quantity):
            booked.append(
                _book(session, transfer, line, units, target, actor_id, confirmer if extra else None)
            )
    complete = all(line.quantity_received >= line.quantity_sent for line in transfer.lines)
    transfer.status = TransferStatus.RECEIVED if complete else TransferStatus.PARTIALLY_RECEIVED
    transfer.received_at = utcnow() if complete else transfer.received_at
    session.flush()
    return booked


def _book(
    session: Session,
    transfer: Transfer,
    line: TransferLine,
    units: int,
    target: Warehouse,
    actor_id: int | None,
    confirmer,
) -> TransferReceiptLine:
    inventory.receive(
        session, sku_id=line.sku_id, tenant_id=transfer.tenant_id, quantity=units, warehouse_id=target.id,
        reason=f"Transfer {transfer.number} in", actor_id=actor_id,
    )  # fmt: skip
    task = putaway_task(session, target, line.sku_id, transfer.tenant_id, units)
    line.quantity_received += units
    row = TransferReceiptLine(
        transfer_id=transfer.id,
        transfer_line_id=line.id,
        tenant_id=transfer.tenant_id,
        sku_id=line.sku_id,
        quantity=units,
        confirmed_by_id=confirmer.id if confirmer is not None else None,
        putaway_task_id=task.id if task is not None else None,
        received_by_id=actor_id,
    )
    session.add(row)
    session.flush()
    return row


# --- read side for the pages ------------------------------------------------------------------------------


def recent_transfers(
    session: Session, *, status: TransferStatus | None = None, limit: int = 100
) -> list[Transfer]:
    """The newest transfers first (optionally of one status), with their lines, in two queries."""
    query = select(Transfer).options(selectinload(Transfer.lines)).order_by(Transfer.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Transfer.status == status)
    return list(session.scalars(query))


def get_transfer(session: Session, transfer_id: int) -> Transfer:
    transfer = session.scalar(
        select(Transfer).where(Transfer.id == transfer_id).options(selectinload(Transfer.lines))
    )
    if transfer is None:
        raise NotFound()
    return transfer


def labels(session: Session, transfers: list[Transfer]) -> dict[str, dict[int, object]]:
    """Names for the pages in four queries: ``skus`` (id -> Sku), ``bins`` (id -> code), ``warehouses``
    (id -> Warehouse) and ``shops`` (id -> name)."""
    sku_ids = {line.sku_id for t in transfers for line in t.lines}
    bin_ids = {line.from_bin_id for t in transfers for line in t.lines if line.from_bin_id}
    warehouse_ids = {t.from_warehouse_id for t in transfers} | {t.to_warehouse_id for t in transfers}
    shop_ids = {t.tenant_id for t in transfers}
    return {
        "skus": {s.id: s for s in session.scalars(select(Sku).where(Sku.id.in_(sku_ids)))} if sku_ids else {},
        "bins": dict(session.execute(select(Bin.id, Bin.code).where(Bin.id.in_(bin_ids))).all())
        if bin_ids
        else {},
        "warehouses": {
            w.id: w for w in session.scalars(select(Warehouse).where(Warehouse.id.in_(warehouse_ids)))
        }
        if warehouse_ids
        else {},
        "shops": dict(
            session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(shop_ids))).all()
        )
        if shop_ids
        else {},
    }


def receipt_rows(session: Session, transfer_id: int) -> list[TransferReceiptLine]:
    return list(
        session.scalars(
            select(TransferReceiptLine)
            .where(TransferReceiptLine.transfer_id == transfer_id)
            .order_by(TransferReceiptLine.id)
        )
    )


def shop_choices(session: Session) -> list[Merchant]:
    """Active shops by name: whose goods a new transfer carries."""
    return list(
        session.scalars(
            select(Merchant).where(Merchant.status == MerchantStatus.ACTIVE).order_by(Merchant.name)
        )
    )
