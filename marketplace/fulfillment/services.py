"""Setting up a platform warehouse: the warehouse itself, its zones and bins, and the shops whose goods it holds.

Codes are upper-case letters, digits and dashes (what a label scanner reads back without ambiguity). A bin's
barcode defaults to ``<warehouse code>-<bin code>`` so that it is unique across warehouses. A range of bins
(aisle ``A``, bays 1-10, levels 1-4) is created all or nothing: if any code exists already, nothing is created
and the error names the duplicates.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound
from marketplace.fulfillment.errors import (
    BinNotEmpty,
    BinsHoldFewer,
    DuplicateBarcode,
    DuplicateBins,
    DuplicateBoxType,
    DuplicateWarehouse,
    DuplicateZone,
    InvalidBinRange,
    InvalidLocationCode,
)
from marketplace.fulfillment.models import Bin, BinKind, BinStock, WarehouseShop, Zone
from marketplace.fulfillment.pack_models import BoxType
from marketplace.inventory.models import Warehouse
from marketplace.merchants.models import Merchant

_CODE = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]*[A-Z0-9])?$")
_NUMBER = re.compile(r"(\d+)")
MAX_RANGE = 1000  # bins one bulk request may create
SORT_KEY_LENGTH = 96


def normalise_code(value: str, max_length: int) -> str:
    """``value`` upper-cased and trimmed, or :class:`InvalidLocationCode`."""
    code = (value or "").strip().upper()
    if not code or len(code) > max_length or not _CODE.match(code):
        raise InvalidLocationCode(value=value or "", max_length=max_length)
    return code


def sort_key(code: str) -> str:
    """The pick-route order of a bin code: numbers compare as numbers (``A-2-1`` before ``A-10-1``)."""
    return "".join(part.zfill(6) if part.isdigit() else part for part in _NUMBER.split(code))[
        :SORT_KEY_LENGTH
    ]


def _check_platform(warehouse: Warehouse) -> None:
    if warehouse.merchant_id is not None:
        raise NotFound()


def create_warehouse(session: Session, *, code: str, name: str, address: str = "") -> Warehouse:
    """A new platform warehouse (not owned by a shop)."""
    code = normalise_code(code, 32)
    if session.scalar(select(Warehouse.id).where(Warehouse.code == code)) is not None:
        raise DuplicateWarehouse(code=code)
    warehouse = Warehouse(code=code, name=name.strip() or code, address=address.strip(), merchant_id=None)
    try:
        with session.begin_nested():
            session.add(warehouse)
            session.flush()
    except IntegrityError:
        raise DuplicateWarehouse(code=code) from None
    return warehouse


def create_zone(session: Session, warehouse: Warehouse, *, code: str, name: str) -> Zone:
    _check_platform(warehouse)
    code = normalise_code(code, 16)
    exists = session.scalar(select(Zone.id).where(Zone.warehouse_id == warehouse.id, Zone.code == code))
    if exists is not None:
        raise DuplicateZone(code=code)
    zone = Zone(warehouse_id=warehouse.id, code=code, name=name.strip() or code)
    try:
        with session.begin_nested():
            session.add(zone)
            session.flush()
    except IntegrityError:
        raise DuplicateZone(code=code) from None
    return zone


def create_box_type(
    session: Session,
    warehouse: Warehouse,
    *,
    code: str,
    name: str,
    dimensions_mm: tuple[int, int, int] = (0, 0, 0),
    tare_g: int = 0,
) -> BoxType:
    """A carton size the pack station offers; codes are unique per warehouse."""
    _check_platform(warehouse)
    code = normalise_code(code, 16)
    taken = session.scalar(
        select(BoxType.id).where(BoxType.warehouse_id == warehouse.id, BoxType.code == code)
    )
    if taken is not None:
        raise DuplicateBoxType(code=code)
    length, width, height = dimensions_mm
    box = BoxType(
        warehouse_id=warehouse.id,
        code=code,
        name=name.strip() or code,
        length_mm=length,
        width_mm=width,
        height_mm=height,
        tare_g=tare_g,
        is_active=True,
    )
    try:
        with session.begin_nested():
            session.add(box)
            session.flush()
    except IntegrityError:
        raise DuplicateBoxType(code=code) from None
    return box


def rename_zone(session: Session, zone: Zone, *, name: str) -> Zone:
    zone.name = name.strip() or zone.code
    session.flush()
    return zone


def _zone_of(warehouse: Warehouse, zone: Zone) -> None:
    _check_platform(warehouse)
    if zone.warehouse_id != warehouse.id:
        raise NotFound()


def _taken_codes(session: Session, warehouse: Warehouse, codes: list[str]) -> list[str]:
    return list(
        session.scalars(
            select(Bin.code)
            .where(Bin.warehouse_id == warehouse.id, Bin.code.in_(codes))
            .order_by(Bin.sort_key)
        )
    )


def _duplicates(taken: list[str]) -> DuplicateBins:
    return DuplicateBins(codes=", ".join(taken[:10]) + (" …" if len(taken) > 10 else ""))


def _insert_bins(session: Session, warehouse: Warehouse, bins: list[Bin]) -> list[Bin]:
    """Adds ``bins`` all or nothing, refusing codes or barcodes that exist already."""
    codes = [b.code for b in bins]
    taken = _taken_codes(session, warehouse, codes)
    if taken:
        raise _duplicates(taken)
    barcodes = [b.barcode for b in bins]
    barcode_taken = session.scalar(select(Bin.barcode).where(Bin.barcode.in_(barcodes)).limit(1))
    if barcode_taken is not None:
        raise DuplicateBarcode(barcode=barcode_taken)
    try:
        with session.begin_nested():  # added inside the savepoint, so its rollback forgets them
            session.add_all(bins)
            session.flush()
    except IntegrityError:  # someone created some of them a moment ago (now committed, so visible)
        raise _duplicates(_taken_codes(session, warehouse, codes) or codes[:10]) from None
    return bins


def create_bin(
    session: Session,
    warehouse: Warehouse,
    zone: Zone,
    *,
    code: str,
    kind: BinKind = BinKind.STORAGE,
    barcode: str | None = None,
) -> Bin:
    _zone_of(warehouse, zone)
    code = normalise_code(code, 32)
    barcode = normalise_code(barcode, 64) if barcode else f"{warehouse.code}-{code}"[:64]
    new = Bin(
        warehouse_id=warehouse.id,
        zone_id=zone.id,
        code=code,
        barcode=barcode,
        kind=BinKind(kind),
        sort_key=sort_key(code),
        is_active=True,
    )
    return _insert_bins(session, warehouse, [new])[0]


def range_codes(aisle: str, bays: tuple[int, int], levels: tuple[int, int]) -> list[str]:
    """``A-01-01, A-01-02, …`` for aisle ``A``, bays and levels inclusive, in pick-route order."""
    aisle = normalise_code(aisle, 16)
    (first_bay, last_bay), (first_level, last_level) = bays, levels
    if not (1 <= first_bay <= last_bay <= 99 and 1 <= first_level <= last_level <= 99):
        raise InvalidBinRange(limit=MAX_RANGE)
    if (last_bay - first_bay + 1) * (last_level - first_level + 1) > MAX_RANGE:
        raise InvalidBinRange(limit=MAX_RANGE)
    return [
        f"{aisle}-{bay:02d}-{level:02d}"
        for bay in range(first_bay, last_bay + 1)
        for level in range(first_level, last_level + 1)
    ]


def create_bin_range(
    session: Session,
    warehouse: Warehouse,
    zone: Zone,
    *,
    aisle: str,
    bays: tuple[int, int],
    levels: tuple[int, int],
    kind: BinKind = BinKind.STORAGE,
) -> list[Bin]:
    """Every bin of aisle ``aisle``, bays × levels, or none of them if any exists already."""
    _zone_of(warehouse, zone)
    bins = [
        Bin(
            warehouse_id=warehouse.id,
            zone_id=zone.id,
            code=code,
            barcode=f"{warehouse.code}-{code}"[:64],
            kind=BinKind(kind),
            sort_key=sort_key(code),
            is_active=True,
        )
        for code in range_codes(aisle, bays, levels)
    ]
    return _insert_bins(session, warehouse, bins)


def set_bin_active(session: Session, bin_: Bin, active: bool) -> Bin:
    """Deactivate (no new stock goes there; refused while it holds stock) or reactivate a bin."""
    if not active:
        held = session.scalar(
            select(func.coalesce(func.sum(BinStock.quantity), 0)).where(BinStock.bin_id == bin_.id)
        )
        if held:
            raise BinNotEmpty(code=bin_.code, quantity=held)
    bin_.is_active = active
    session.flush()
    return bin_


def assign_shop(session: Session, warehouse: Warehouse, merchant: Merchant) -> WarehouseShop:
    """The warehouse holds ``merchant``'s goods from now on (asking twice changes nothing)."""
    _check_platform(warehouse)
    link = session.scalar(
        select(WarehouseShop).where(
            WarehouseShop.warehouse_id == warehouse.id, WarehouseShop.merchant_id == merchant.id
        )
    )
    if link is None:
        link = WarehouseShop(warehouse_id=warehouse.id, merchant_id=merchant.id)
        session.add(link)
        session.flush()
    return link


def unassign_shop(session: Session, warehouse: Warehouse, merchant_id: int) -> bool:
    """The warehouse no longer serves the shop; False if it did not."""
    _check_platform(warehouse)
    link = session.scalar(
        select(WarehouseShop).where(
            WarehouseShop.warehouse_id == warehouse.id, WarehouseShop.merchant_id == merchant_id
        )
    )
    if link is None:
        return False
    session.delete(link)  # through the unit of work, so the audit log sees it
    session.flush()
    return True


def take_from_bins(session: Session, *, warehouse_id: int, sku_id: int, quantity: int, sku_code: str) -> None:
    """Units leave the warehouse outside picking (a return to the supplier): they come out of the bins holding
    the SKU in route order, each bin by one conditional UPDATE that never goes below zero; refused, changing
    nothing, when the bins hold fewer. A warehouse without bins (a shop's own) has nothing to take."""
    if session.scalar(select(Bin.id).where(Bin.warehouse_id == warehouse_id).limit(1)) is None:
        return
    rows = session.execute(
        select(BinStock.bin_id, BinStock.quantity)
        .join(Bin, Bin.id == BinStock.bin_id)
        .where(BinStock.warehouse_id == warehouse_id, BinStock.sku_id == sku_id, BinStock.quantity > 0)
        .order_by(Bin.sort_key, Bin.id)
    ).all()
    held = sum(row.quantity for row in rows)
    if held < quantity:
        raise BinsHoldFewer(held=held, sku=sku_code, quantity=quantity)
    left = quantity
    for bin_id, in_bin in rows:
        take = min(in_bin, left)
        taken = session.execute(
            update(BinStock)
            .where(BinStock.bin_id == bin_id, BinStock.sku_id == sku_id, BinStock.quantity >= take)
            .values(quantity=BinStock.quantity - take)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # the bin changed since it was read: refuse rather than guess
            raise BinsHoldFewer(held=held - take, sku=sku_code, quantity=quantity)
        left -= take
        if not left:
            return
