"""Changes of purchasing: suppliers and their documents, purchase and return orders, receipts against them.

A receipt locks its order (``SELECT ... FOR UPDATE``), checks every line first and only then moves stock, so a
refused receipt changes nothing. Units beyond what is still open, and items the order does not list, are
refused unless a user who may approve purchase orders confirms them. Good units enter the order's warehouse
through the inventory services (one stock movement per line, reason ``PO <number>``); damaged units are only
recorded. A return order's receipt takes units out instead, refused when they are not available.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Sku
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.storage import save_document
from marketplace.fulfillment import putaway
from marketplace.fulfillment.services import take_from_bins
from marketplace.inventory import services as inventory
from marketplace.inventory.models import MAX_UNITS, Warehouse
from marketplace.purchasing.errors import ConfirmationNeeded, NotSupervisor, WrongStatus
from marketplace.purchasing.models import (
    DocumentKind,
    PoKind,
    PoStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierDocument,
)

APPROVE = "purchasing.approve"
MAX_COST = 10**12  # fen per unit: far above any real price, far below BIGINT
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_UNITS


# --- suppliers -------------------------------------------------------------------------------------------


@dataclass
class SupplierInput:
    name: str
    contact_person: str = ""
    phone: str = ""
    email: str = ""
    terms: str = ""
    payment_days: int = 0
    is_active: bool = True


def save_supplier(session: Session, data: SupplierInput, supplier: Supplier | None = None) -> Supplier:
    """Create a supplier, or change ``supplier``; the name is required and unique."""
    name = (data.name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [N_("Give the supplier's name.")]
    elif len(name) > 120:
        errors["name"] = [N_("At most 120 characters.")]
    else:
        other = session.scalar(select(Supplier).where(func.lower(Supplier.name) == name.lower()))
        if other is not None and other is not supplier:
            errors["name"] = [N_("A supplier with this name exists already.")]
    email = (data.email or "").strip()
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        errors["email"] = [N_("Not an e-mail address.")]
    if not isinstance(data.payment_days, int) or not 0 <= data.payment_days <= 365:
        errors["payment_days"] = [N_("Payment days are a whole number from 0 to 365.")]
    for field, limit in (("contact_person", 80), ("phone", 32)):
        if len((getattr(data, field) or "").strip()) > limit:
            errors[field] = [N_("Too long.")]
    if errors:
        raise ValidationFailed(errors)
    if supplier is None:
        supplier = Supplier()
        session.add(supplier)
    supplier.name = name
    supplier.contact_person = (data.contact_person or "").strip()
    supplier.phone = (data.phone or "").strip()
    supplier.email = email
    supplier.terms = (data.terms or "").strip()
    supplier.payment_days = data.payment_days
    supplier.is_active = bool(data.is_active)
    session.flush()
    return supplier


def add_supplier_document(
    session: Session, supplier: Supplier, *, kind: str, stream, filename: str, actor_id: int | None
) -> SupplierDocument:
    """Store a contract or invoice (PDF, JPEG or PNG, checked by content) with the supplier."""
    try:
        doc_kind = DocumentKind(kind)
    except ValueError:
        raise ValidationFailed({"kind": [N_("Choose contract or invoice.")]}) from None
    filename = (filename or "document").strip().replace("/", "_").replace("\\", "_")[-200:] or "document"
    key = save_document(stream, filename)
    document = SupplierDocument(
        supplier_id=supplier.id, kind=doc_kind, storage_key=key, filename=filename, uploaded_by_id=actor_id
    )
    session.add(document)
    session.flush()
    return document


# --- purchase orders -------------------------------------------------------------------------------------


class PoLineInput(NamedTuple):
    sku_id: int
    quantity: int
    unit_cost: int = 0


def create_po(
    session: Session,
    *,
    supplier_id: int,
    warehouse_id: int,
    lines: list[PoLineInput],
    kind: PoKind = PoKind.PURCHASE,
    expected_on: date | None = None,
    note: str = "",
    actor_id: int | None = None,
) -> PurchaseOrder:
    """A draft purchase (or return) order with one line per SKU; numbered PO000001 / RT000001."""
    errors: dict[str, list[str]] = {}
    supplier = session.get(Supplier, supplier_id) if supplier_id else None
    if supplier is None or not supplier.is_active:
        errors["supplier_id"] = [N_("Choose an active supplier.")]
    if not warehouse_id or session.get(Warehouse, warehouse_id) is None:
        errors["warehouse_id"] = [N_("Choose a warehouse.")]
    if not lines:
        errors["lines"] = [N_("Add at least one line.")]
    seen: set[int] = set()
    skus: dict[int, Sku] = {}
    for line in lines:
        sku = session.get(Sku, line.sku_id)
        if sku is None:
            errors.setdefault("lines", []).append(N_("A line names a SKU that does not exist."))
            continue
        if line.sku_id in seen:
            errors.setdefault("lines", []).append(N_("Each SKU may appear on one line only."))
        seen.add(line.sku_id)
        skus[line.sku_id] = sku
        if not _count(line.quantity):
            errors.setdefault("lines", []).append(N_("Quantities are whole numbers above 0."))
        if not isinstance(line.unit_cost, int) or isinstance(line.unit_cost, bool):
            errors.setdefault("lines", []).append(N_("Unit costs are amounts of money."))
        elif not 0 <= line.unit_cost <= MAX_COST:
            errors.setdefault("lines", []).append(N_("Unit costs cannot be negative."))
    if len((note or "").strip()) > 2000:
        errors["note"] = [N_("At most 2000 characters.")]
    if errors:
        raise ValidationFailed({k: list(dict.fromkeys(v)) for k, v in errors.items()})
    po = PurchaseOrder(
        number=f"tmp-{secrets.token_hex(8)}",
        supplier_id=supplier_id,
        warehouse_id=warehouse_id,
        kind=PoKind(kind),
        status=PoStatus.DRAFT,
        expected_on=expected_on,
        note=(note or "").strip(),
        created_by_id=actor_id,
    )
    session.add(po)
    session.flush()
    po.number = f"{'RT' if po.kind == PoKind.RETURN else 'PO'}{po.id:06d}"
    for line in lines:
        session.add(
            PurchaseOrderLine(
                po_id=po.id,
                sku_id=line.sku_id,
                tenant_id=skus[line.sku_id].tenant_id,
                quantity_ordered=line.quantity,
                quantity_received=0,
                unit_cost=line.unit_cost,
            )
        )
    session.flush()
    session.refresh(po)
    return po


def _locked(session: Session, po: PurchaseOrder) -> PurchaseOrder:
    locked = session.scalar(
        select(PurchaseOrder)
        .where(PurchaseOrder.id == po.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound()
    return locked


def _expect(po: PurchaseOrder, *statuses: PoStatus) -> None:
    if po.status not in statuses:
        raise WrongStatus(number=po.number, status=po.status.value)


def approve_po(session: Session, po: PurchaseOrder, *, actor) -> PurchaseOrder:
    """A draft becomes approved; only a user who may approve purchase orders can do it."""
    if actor is None or not actor.can(APPROVE):
        raise PermissionDenied()
    po = _locked(session, po)
    _expect(po, PoStatus.DRAFT)
    po.status = PoStatus.APPROVED
    po.approved_by_id = actor.id
    po.approved_at = utcnow()
    session.flush()
    return po


def cancel_po(session: Session, po: PurchaseOrder) -> PurchaseOrder:
    """A draft or approved order with nothing received yet is cancelled."""
    po = _locked(session, po)
    _expect(po, PoStatus.DRAFT, PoStatus.APPROVED)
    po.status = PoStatus.CANCELLED
    session.flush()
    return po


def close_po(session: Session, po: PurchaseOrder) -> PurchaseOrder:
    """Short-close: nothing more is expected on an approved or partially received order."""
    po = _locked(session, po)
    _expect(po, PoStatus.APPROVED, PoStatus.PARTIALLY_RECEIVED)
    po.status = PoStatus.CLOSED
    session.flush()
    return po


# --- receipts ---------------------------------------------------------------------------------------------


class ReceiveLine(NamedTuple):
    """What arrived of one SKU: ``quantity`` units in all, ``damaged`` of them unusable.

    ``unit_cost`` (fen) is only read for an item the order does not list; listed items cost what the order says.
    """

    sku_id: int
    quantity: int
    damaged: int = 0
    unit_cost: int | None = None


def receive(
    session: Session,
    po: PurchaseOrder,
    lines: list[ReceiveLine] | list[tuple],
    *,
    actor_id: int | None,
    confirmer=None,
) -> Receipt:
    """Record one delivery against an approved order and move its good units into stock.

    For a return order the units leave the warehouse instead (refused, changing nothing, when fewer are
    available). Quantities above the open quantity and unlisted items need ``confirmer``, a user who may
    approve purchase orders. A delivery that leaves something open makes the order partially received.
    """
    po = _locked(session, po)
    _expect(po, PoStatus.APPROVED, PoStatus.PARTIALLY_RECEIVED)
    wanted = [ReceiveLine(*line) for line in lines]
    if not wanted:
        raise ValidationFailed({"lines": [N_("Enter what arrived.")]})
    by_sku = {line.sku_id: line for line in po.lines}
    seen: set[int] = set()
    needs_confirmation: set[int] = set()
    skus: dict[int, Sku] = {}
    for line in wanted:
        if line.sku_id in seen:
            raise ValidationFailed({"lines": [N_("Each SKU may appear on one line only.")]})
        seen.add(line.sku_id)
        if not _count(line.quantity):
            raise ValidationFailed({"lines": [N_("Quantities are whole numbers above 0.")]})
        damaged = line.damaged or 0
        if not isinstance(damaged, int) or isinstance(damaged, bool) or not 0 <= damaged <= line.quantity:
            raise ValidationFailed({"lines": [N_("Damaged units are between 0 and the units that arrived.")]})
        if po.is_return and damaged:
            raise ValidationFailed({"lines": [N_("A return to the supplier has no damaged units.")]})
        if line.unit_cost is not None and (
            not isinstance(line.unit_cost, int) or not 0 <= line.unit_cost <= MAX_COST
        ):
            raise ValidationFailed({"lines": [N_("Unit costs cannot be negative.")]})
        sku = session.get(Sku, line.sku_id)
        if sku is None:
            raise ValidationFailed({"lines": [N_("A line names a SKU that does not exist.")]})
        skus[line.sku_id] = sku
        ordered = by_sku.get(line.sku_id)
        good = line.quantity - damaged
        if ordered is None:
            why = N_("not on this order.")
        elif good > ordered.open_quantity:
            why = N_("more than the order still expects.")
        else:
            continue
        if confirmer is None:
            raise ConfirmationNeeded(sku=sku.code, why=why, sku_id=sku.id)
        needs_confirmation.add(line.sku_id)
    if needs_confirmation and not confirmer.can(APPROVE):
        raise NotSupervisor()

    count = session.scalar(select(func.count()).select_from(Receipt).where(Receipt.po_id == po.id)) or 0
    receipt = Receipt(
        po_id=po.id, warehouse_id=po.warehouse_id, number=f"{po.number}-{count + 1}", received_by_id=actor_id
    )
    session.add(receipt)
    session.flush()
    reason = f"PO {po.number}"
    for line in wanted:
        sku = skus[line.sku_id]
        ordered = by_sku.get(line.sku_id)
        damaged = line.damaged or 0
        good = line.quantity - damaged
        if po.is_return:
            inventory.issue(
                session, sku_id=sku.id, quantity=line.quantity, warehouse_id=po.warehouse_id,
                reason=f"{reason} return to supplier", actor_id=actor_id,
            )  # fmt: skip
            take_from_bins(
                session,
                warehouse_id=po.warehouse_id,
                sku_id=sku.id,
                quantity=line.quantity,
                sku_code=sku.code,
            )
        elif good:
            inventory.receive(
                session, sku_id=sku.id, tenant_id=sku.tenant_id, quantity=good, warehouse_id=po.warehouse_id,
                reason=reason, actor_id=actor_id,
            )  # fmt: skip
        if ordered is not None:
            ordered.quantity_received += good
        cost = ordered.unit_cost if ordered is not None else (line.unit_cost or 0)
        session.add(
            ReceiptLine(
                receipt_id=receipt.id,
                po_line_id=ordered.id if ordered is not None else None,
                sku_id=sku.id,
                tenant_id=sku.tenant_id,
                quantity=line.quantity,
                damaged_quantity=damaged,
                unit_cost=cost,
                confirmed_by_id=confirmer.id if line.sku_id in needs_confirmation else None,
            )
        )
    if not po.is_return:
        session.flush()
        putaway.create_tasks(session, receipt_id=receipt.id, warehouse_id=po.warehouse_id)
    complete = all(line.quantity_received >= line.quantity_ordered for line in po.lines)
    po.status = PoStatus.RECEIVED if complete else PoStatus.PARTIALLY_RECEIVED
    session.flush()
    session.refresh(receipt)
    return receipt
