"""Read side of purchasing for the WMS desk: suppliers, orders (filtered, newest first), one order in full."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from marketplace.catalog.models import Sku
from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.inventory.models import Warehouse
from marketplace.merchants.models import Merchant
from marketplace.purchasing.errors import AmbiguousSku, UnknownSku
from marketplace.purchasing.models import (
    PoKind,
    PoStatus,
    PurchaseOrder,
    Receipt,
    Supplier,
    SupplierDocument,
)


def suppliers(session: Session, *, active_only: bool = False) -> list[Supplier]:
    stmt = select(Supplier).order_by(Supplier.name)
    if active_only:
        stmt = stmt.where(Supplier.is_active.is_(True))
    return list(session.scalars(stmt))


def get_supplier(session: Session, supplier_id: int) -> Supplier:
    supplier = session.scalar(
        select(Supplier).where(Supplier.id == supplier_id).options(selectinload(Supplier.documents))
    )
    if supplier is None:
        raise NotFound()
    return supplier


def get_document(session: Session, supplier_id: int, document_id: int) -> SupplierDocument:
    document = session.get(SupplierDocument, document_id)
    if document is None or document.supplier_id != supplier_id:
        raise NotFound()
    return document


def warehouses(session: Session) -> list[Warehouse]:
    """Warehouses the platform buys into: the platform's own ones first."""
    rows = session.scalars(select(Warehouse).where(Warehouse.is_active.is_(True)).order_by(Warehouse.code))
    return sorted(rows, key=lambda w: (not w.is_platform, w.code))


def orders(
    session: Session,
    *,
    status: PoStatus | None = None,
    supplier_id: int | None = None,
    kind: PoKind | None = None,
    before: int | None = None,
) -> Page[PurchaseOrder]:
    stmt = select(PurchaseOrder).options(selectinload(PurchaseOrder.supplier))
    if status is not None:
        stmt = stmt.where(PurchaseOrder.status == status)
    if supplier_id:
        stmt = stmt.where(PurchaseOrder.supplier_id == supplier_id)
    if kind is not None:
        stmt = stmt.where(PurchaseOrder.kind == kind)
    return keyset_page(session, stmt, PurchaseOrder.id, before)


def get_order(session: Session, po_id: int) -> PurchaseOrder:
    po = session.scalar(
        select(PurchaseOrder)
        .where(PurchaseOrder.id == po_id)
        .options(
            selectinload(PurchaseOrder.supplier),
            selectinload(PurchaseOrder.lines),
            selectinload(PurchaseOrder.receipts).selectinload(Receipt.lines),
        )
    )
    if po is None:
        raise NotFound()
    return po


def sku_labels(session: Session, po: PurchaseOrder) -> dict[int, tuple[str, str]]:
    """SKU id -> (code, shop name) for every SKU on the order and its receipts, in one query."""
    ids = {line.sku_id for line in po.lines} | {rl.sku_id for r in po.receipts for rl in r.lines}
    if not ids:
        return {}
    rows = session.execute(
        select(Sku.id, Sku.code, Merchant.name)
        .join(Merchant, Merchant.id == Sku.tenant_id)
        .where(Sku.id.in_(ids))
    )
    return {row.id: (row.code, row.name) for row in rows}


def order_by_number(session: Session, number: str) -> PurchaseOrder | None:
    """The order a scanner read, whatever the case of the letters."""
    return session.scalar(
        select(PurchaseOrder).where(func.upper(PurchaseOrder.number) == number.strip().upper())
    )


def skus_of(session: Session, po: PurchaseOrder) -> dict[int, Sku]:
    """The SKUs on the order's lines, by id, in one query."""
    ids = [line.sku_id for line in po.lines]
    return {sku.id: sku for sku in session.scalars(select(Sku).where(Sku.id.in_(ids)))} if ids else {}


def find_sku(session: Session, code: str, tenant_id: int | None = None) -> Sku:
    """The SKU with ``code`` or that barcode (of shop ``tenant_id`` when given); refused when none or several
    shops match."""
    code = (code or "").strip()
    stmt = select(Sku).where(or_(Sku.code == code, Sku.barcode == code))
    if tenant_id:
        stmt = stmt.where(Sku.tenant_id == tenant_id)
    found = session.scalars(stmt.limit(2)).all()
    if not found:
        raise UnknownSku(code=code)
    if len(found) > 1:
        raise AmbiguousSku(code=code)
    return found[0]
