"""The pack station: check, weigh, pack and ship one picked order.

* :func:`open_parcel` takes a scanned order number: the order must be in a wave of the warehouse with nothing
  left to pick; the parcel's lines are the units picked for each order line (short picks leave less).
* :func:`check_item` counts a scanned item against the parcel: an item not in the order, or one more than was
  picked, is refused naming what is still expected; the same scan token submitted twice counts once.
  :func:`finish_check` refuses while any unit is missing, naming them.
* :func:`weigh` records the weight; one off the expected weight by more than the tolerance is refused until
  the packer confirms it (the confirmation is kept).
* :func:`choose_box` records the box type; :func:`ship_parcel` ships exactly the checked units through
  ``orders.services.ship_order``: the order becomes (partially) shipped with the waybill, and the warehouse's
  on-hand and reserved stock go down. The bins were emptied at picking, so bin stock stays consistent.
* :func:`return_to_stock` handles an order cancelled after picking: its picked units get a putaway task.
* :func:`report_missing` lets a supervisor write off units picked but not found at the check, so the parcel
  ships what is there and the rest of the order is picked again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.catalog.models import Sku
from marketplace.core.audit import record
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, DomainError
from marketplace.fulfillment.models import PickStatus, PickTask, PutawayStatus, PutawayTask, Wave, WaveOrder
from marketplace.fulfillment.pack_models import BoxType, Parcel, ParcelLine, ParcelStatus
from marketplace.inventory import services as inventory
from marketplace.inventory.models import Warehouse
from marketplace.orders import services as orders
from marketplace.orders.drafts import OrderActor
from marketplace.orders.models import Order, OrderLine, OrderStatus, Shipment

SHIPPABLE = frozenset({OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPED})


class NotInWave(DomainError):
    code = "wms.pack_not_in_wave"
    status = 404
    message = N_("Order “{scanned}” is not in a wave of this warehouse.")


class StillPicking(DomainError):
    code = "wms.pack_still_picking"
    status = 409
    message = N_("Order {number} still has {left} pick tasks open: finish picking first.")


class NothingPicked(DomainError):
    code = "wms.pack_nothing_picked"
    status = 409
    message = N_("Nothing of order {number} was picked (every line ran short).")


class AlreadyShipped(DomainError):
    code = "wms.pack_shipped"
    status = 409
    message = N_("Order {number} was already shipped with {carrier} {waybill}.")


class NotInOrder(DomainError):
    code = "wms.pack_not_in_order"
    status = 422
    message = N_("“{scanned}” is not in this order: still expected {expected}.")


class TooMany(DomainError):
    code = "wms.pack_too_many"
    status = 422
    message = N_("Too many {sku}: {left} more expected. Enter 1 to {left} units, or put the extra aside.")


class MissingItems(DomainError):
    code = "wms.pack_missing"
    status = 409
    message = N_("Missing: {missing}. Find them before packing, or call a supervisor.")


class NothingMissing(DomainError):
    code = "wms.pack_nothing_missing"
    status = 409
    message = N_("Every picked unit of this parcel was checked: nothing is missing.")


class WrongStep(DomainError):
    code = "wms.pack_wrong_step"
    status = 409
    message = N_("This parcel is {status}: that step is not open now.")


class InvalidWeight(DomainError):
    code = "wms.pack_invalid_weight"
    status = 422
    message = N_("Enter the weight in kilograms, more than 0 and at most 100.")


class WeightOffTolerance(DomainError):
    code = "wms.pack_weight_off"
    status = 409
    message = N_(
        "{weight} kg is {difference} kg off the expected {expected} kg (tolerance {tolerance} kg): weigh again "
        "or check the contents, then confirm."
    )


class UnknownBox(DomainError):
    code = "wms.pack_unknown_box"
    status = 422
    message = N_("Choose one of this warehouse's box types.")


class DuplicateWaybill(DomainError):
    code = "wms.pack_duplicate_waybill"
    status = 409
    message = N_("Waybill {waybill} of {carrier} is already on order {number}.")


class OrderNotShippable(DomainError):
    code = "wms.pack_not_shippable"
    status = 409
    message = N_("Order {number} is {status}: it cannot be shipped. Return the picked units to stock.")


@dataclass(frozen=True)
class Tolerance:
    """How far a parcel's weight may be from the expected one: the larger of a share and a fixed allowance."""

    percent: int = 10
    grams: int = 50

    def allowed(self, expected_g: int) -> int:
        return max(expected_g * self.percent // 100, self.grams)


def _kg(grams: int) -> str:
    return f"{grams / 1000:.3f}"


def _normal(value: str) -> str:
    return (value or "").strip().upper()


def _expected(session: Session, parcel: Parcel) -> str:
    """What is still to be scanned, as the packer reads it: "2 × TEA-250, 1 × CUP-01"."""
    left = session.execute(
        select(Sku.code, ParcelLine.quantity - ParcelLine.quantity_checked)
        .join(Sku, Sku.id == ParcelLine.sku_id)
        .where(ParcelLine.parcel_id == parcel.id, ParcelLine.quantity > ParcelLine.quantity_checked)
        .order_by(ParcelLine.id)
    ).all()
    return ", ".join(f"{n} × {code}" for code, n in left) or "—"


def _wave_of(session: Session, warehouse: Warehouse, order: Order | None, scanned: str) -> Wave:
    wave = None
    if order is not None:
        wave = session.scalar(
            select(Wave)
            .join(WaveOrder, WaveOrder.wave_id == Wave.id)
            .where(WaveOrder.order_id == order.id, Wave.warehouse_id == warehouse.id)
        )
    if wave is None:
        raise NotInWave(scanned=(scanned or "").strip())
    return wave


def _picked_by_line(session: Session, wave_id: int, order: Order) -> dict[int, tuple[int, int]]:
    """{order line id: (sku id, units picked)} for the order's tasks in the wave; raises while some are open."""
    rows = session.execute(
        select(PickTask.order_line_id, PickTask.sku_id, PickTask.status, PickTask.quantity_picked).where(
            PickTask.wave_id == wave_id, PickTask.order_id == order.id
        )
    ).all()
    open_tasks = sum(1 for row in rows if row.status in (PickStatus.OPEN, PickStatus.CLAIMED))
    if open_tasks:
        raise StillPicking(number=order.number, left=open_tasks)
    picked: dict[int, tuple[int, int]] = {}
    for row in rows:
        sku_id, units = picked.get(row.order_line_id, (row.sku_id, 0))
        picked[row.order_line_id] = (sku_id, units + row.quantity_picked)
    return {line_id: value for line_id, value in picked.items() if value[1] > 0}


def _expected_weight(session: Session, lines: dict[int, tuple[int, int]]) -> int:
    """Grams of the picked units, from the order lines' weights (a line's weight covers all its units)."""
    grams = 0
    for order_line in session.scalars(select(OrderLine).where(OrderLine.id.in_(lines))):
        grams += order_line.weight_grams * lines[order_line.id][1] // max(order_line.quantity, 1)
    return grams


def open_parcel(session: Session, warehouse: Warehouse, scanned: str, *, packer_id: int) -> Parcel:
    """The parcel of the scanned order's wave, opened (or resumed) at the pack station."""
    order = session.scalar(select(Order).where(Order.number == (scanned or "").strip()))
    wave = _wave_of(session, warehouse, order, scanned)
    existing = session.scalar(select(Parcel).where(Parcel.wave_id == wave.id, Parcel.order_id == order.id))
    if existing is not None:
        if existing.status == ParcelStatus.SHIPPED:
            raise AlreadyShipped(number=order.number, carrier=existing.carrier, waybill=existing.waybill_no)
        return existing
    lines = _picked_by_line(session, wave.id, order)
    if not lines:
        raise NothingPicked(number=order.number)
    parcel = Parcel(
        tenant_id=order.tenant_id,
        warehouse_id=warehouse.id,
        wave_id=wave.id,
        order_id=order.id,
        status=ParcelStatus.CHECKING,
        expected_weight_g=_expected_weight(session, lines),
        packer_id=packer_id,
    )
    try:
        with session.begin_nested():
            session.add(parcel)
            session.flush()
    except IntegrityError:
        # Another packer opened it at the same moment: work on theirs.
        return session.scalar(select(Parcel).where(Parcel.wave_id == wave.id, Parcel.order_id == order.id))
    session.add_all(
        ParcelLine(
            tenant_id=order.tenant_id,
            parcel_id=parcel.id,
            order_line_id=line_id,
            sku_id=sku_id,
            quantity=units,
            quantity_checked=0,
        )
        for line_id, (sku_id, units) in sorted(lines.items())
    )
    session.flush()
    session.refresh(parcel)
    return parcel


def _expect_status(parcel: Parcel, *statuses: ParcelStatus) -> None:
    if parcel.status not in statuses:
        raise WrongStep(status=str(parcel.status))


def _first_time(session: Session, parcel: Parcel, token: str) -> bool:
    """Claim the scan token on the parcel row: False when this very scan was already counted."""
    if not token:
        return True
    claimed = session.execute(
        update(Parcel)
        .where(Parcel.id == parcel.id, or_(Parcel.scan_token.is_(None), Parcel.scan_token != token[:64]))
        .values(scan_token=token[:64])
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def check_item(session: Session, parcel: Parcel, scanned: str, *, quantity: int = 1, token: str = "") -> Sku:
    """Count ``quantity`` scanned units against the parcel; refused (changing nothing) when the item is not in
    the order or more than was picked. Returns the SKU scanned."""
    _expect_status(parcel, ParcelStatus.CHECKING)
    value = _normal(scanned)
    lines = session.execute(
        select(ParcelLine, Sku)
        .join(Sku, Sku.id == ParcelLine.sku_id)
        .where(ParcelLine.parcel_id == parcel.id)
        .order_by(ParcelLine.id)
    ).all()
    matching = [
        (line, sku) for line, sku in lines if value and value in {_normal(sku.code), _normal(sku.barcode)}
    ]
    if not matching:
        raise NotInOrder(scanned=(scanned or "").strip(), expected=_expected(session, parcel))
    sku = matching[0][1]
    if not _first_time(session, parcel, token):
        return sku
    left = sum(line.left for line, _sku in matching)
    if quantity < 1 or quantity > left:
        raise TooMany(sku=sku.code, left=left)
    for line, _sku in matching:  # one SKU on several order lines: fill them in order
        take = min(quantity, line.left)
        if take <= 0:
            continue
        counted = session.execute(
            update(ParcelLine)
            .where(ParcelLine.id == line.id, ParcelLine.quantity_checked + take <= ParcelLine.quantity)
            .values(quantity_checked=ParcelLine.quantity_checked + take)
            .execution_options(synchronize_session=False)
        )
        if counted.rowcount != 1:
            raise TooMany(sku=sku.code, left=0)
        quantity -= take
    session.flush()
    session.expire(parcel)
    return sku


def all_checked(session: Session, parcel: Parcel) -> bool:
    """Read from the table, not the session: the check scans count with UPDATE statements."""
    missing = session.scalar(
        select(func.count())
        .select_from(ParcelLine)
        .where(ParcelLine.parcel_id == parcel.id, ParcelLine.quantity_checked < ParcelLine.quantity)
    )
    return missing == 0


def finish_check(session: Session, parcel: Parcel) -> Parcel:
    """Every picked unit scanned: the parcel goes on to weighing; otherwise :class:`MissingItems`."""
    _expect_status(parcel, ParcelStatus.CHECKING)
    if not all_checked(session, parcel):
        raise MissingItems(missing=_expected(session, parcel))
    parcel.status = ParcelStatus.CHECKED
    session.flush()
    return parcel


def weigh(
    session: Session, parcel: Parcel, weight_g: int, *, tolerance: Tolerance, confirmed: bool = False
) -> Parcel:
    """Record the weight; one outside the tolerance needs ``confirmed`` (kept on the parcel)."""
    _expect_status(parcel, ParcelStatus.CHECKED, ParcelStatus.WEIGHED)
    if not isinstance(weight_g, int) or not 0 < weight_g <= 100_000:
        raise InvalidWeight()
    difference = abs(weight_g - parcel.expected_weight_g)
    off = parcel.expected_weight_g > 0 and difference > tolerance.allowed(parcel.expected_weight_g)
    if off and not confirmed:
        raise WeightOffTolerance(
            weight=_kg(weight_g),
            expected=_kg(parcel.expected_weight_g),
            difference=_kg(difference),
            tolerance=_kg(tolerance.allowed(parcel.expected_weight_g)),
        )
    parcel.weight_g = weight_g
    parcel.weight_confirmed = bool(off)
    if off:
        record(
            session,
            "parcel.weight_confirmed",
            parcel,
            changes={"weight_g": weight_g, "expected_weight_g": parcel.expected_weight_g},
            tenant_id=parcel.tenant_id,
        )
    parcel.status = ParcelStatus.WEIGHED
    session.flush()
    return parcel


def box_types(session: Session, warehouse_id: int) -> list[BoxType]:
    return list(
        session.scalars(
            select(BoxType)
            .where(BoxType.warehouse_id == warehouse_id, BoxType.is_active.is_(True))
            .order_by(BoxType.code)
        )
    )


def choose_box(session: Session, parcel: Parcel, box_type_id: int) -> Parcel:
    _expect_status(parcel, ParcelStatus.WEIGHED, ParcelStatus.PACKED)
    box = session.get(BoxType, box_type_id)
    if box is None or box.warehouse_id != parcel.warehouse_id or not box.is_active:
        raise UnknownBox()
    parcel.box_type_id = box.id
    parcel.status = ParcelStatus.PACKED
    session.flush()
    return parcel


def issue_waybill(parcel: Parcel, *, now: datetime | None = None) -> str:
    """A waybill number from the built-in electronic waybill: date and parcel id, unique in this system.

    Stands in for a carrier's e-waybill API; a scanned pre-printed waybill is used as is instead.
    """
    return f"WB{(now or utcnow()):%y%m%d}{parcel.id:08d}"


def _refuse_reused_waybill(session: Session, parcel: Parcel, carrier: str, waybill_no: str) -> None:
    taken = session.execute(
        select(Order.number)
        .join(Shipment, Shipment.order_id == Order.id)
        .where(
            Shipment.carrier == carrier,
            Shipment.waybill_no == waybill_no,
            Shipment.order_id != parcel.order_id,
        )
        .limit(1)
    ).first()
    if taken is not None:
        raise DuplicateWaybill(waybill=waybill_no, carrier=carrier, number=taken.number)


def ship_parcel(
    session: Session, parcel: Parcel, *, carrier: str, waybill_no: str, actor: OrderActor
) -> Shipment:
    """Ship the checked units with the carrier's waybill; what the wave could not pick goes back to the pool."""
    _expect_status(parcel, ParcelStatus.PACKED)
    order = session.get(Order, parcel.order_id)
    if order.status not in SHIPPABLE:
        raise OrderNotShippable(number=order.number, status=str(order.status))
    carrier, waybill_no = (carrier or "").strip()[:50], (waybill_no or "").strip()[:64]
    if carrier and waybill_no:
        _refuse_reused_waybill(session, parcel, carrier, waybill_no)
    quantities = dict(
        session.execute(
            select(ParcelLine.order_line_id, ParcelLine.quantity_checked).where(
                ParcelLine.parcel_id == parcel.id
            )
        ).all()
    )
    shipment = orders.ship_order(
        session, order, quantities=quantities, carrier=carrier, waybill_no=waybill_no, actor=actor
    )
    parcel.carrier, parcel.waybill_no = shipment.carrier, shipment.waybill_no
    parcel.shipment_id = shipment.id
    parcel.status = ParcelStatus.SHIPPED
    parcel.shipped_at = utcnow()
    if any(line.open_quantity for line in order.lines if line.warehouse_id == parcel.warehouse_id):
        session.execute(delete(WaveOrder).where(WaveOrder.order_id == order.id))
    session.flush()
    return shipment


def return_to_stock(session: Session, parcel: Parcel) -> list[PutawayTask]:
    """The order can no longer ship (cancelled after picking): its picked units get putaway tasks back to
    bins. On-hand stock never left the warehouse, so only where the units sit changes."""
    _expect_status(
        parcel, ParcelStatus.CHECKING, ParcelStatus.CHECKED, ParcelStatus.WEIGHED, ParcelStatus.PACKED
    )
    order = session.get(Order, parcel.order_id)
    if order.status in SHIPPABLE:
        raise WrongStep(status=str(parcel.status))
    tasks = [
        PutawayTask(
            tenant_id=parcel.tenant_id,
            warehouse_id=parcel.warehouse_id,
            receipt_line_id=None,
            sku_id=line.sku_id,
            quantity=line.quantity,
            quantity_done=0,
            status=PutawayStatus.OPEN,
        )
        for line in parcel.lines
    ]
    session.add_all(tasks)
    parcel.status = ParcelStatus.RETURNED
    session.flush()
    return tasks


def report_missing(session: Session, parcel: Parcel, *, actor_id: int | None) -> dict[int, int]:
    """Units picked for the parcel that the check cannot find are written off: one ADJUST movement per SKU with
    the order in its reason (refused, changing nothing, when the warehouse's other stock cannot keep the order's
    reservation: count first, or cancel that part with the shop). The parcel goes on with what was checked; the
    order's rest returns to the pool and is picked again. Returns {sku id: units written off}."""
    _expect_status(parcel, ParcelStatus.CHECKING)
    lines = session.scalars(
        select(ParcelLine).where(ParcelLine.parcel_id == parcel.id).order_by(ParcelLine.id).with_for_update()
    ).all()
    missing = {
        line.id: line.quantity - line.quantity_checked
        for line in lines
        if line.quantity_checked < line.quantity
    }
    if not missing:
        raise NothingMissing()
    order = session.get(Order, parcel.order_id)
    written_off: dict[int, int] = {}
    for line in lines:
        units = missing.get(line.id)
        if not units:
            continue
        inventory.adjust(
            session, sku_id=line.sku_id, tenant_id=parcel.tenant_id, delta=-units, actor_id=actor_id,
            warehouse_id=parcel.warehouse_id, reason=f"missing at pack check, order {order.number}",
        )  # fmt: skip
        written_off[line.sku_id] = written_off.get(line.sku_id, 0) + units
        if line.quantity_checked:
            line.quantity = line.quantity_checked
        else:
            session.delete(line)
    record(
        session,
        "parcel.missing_written_off",
        parcel,
        changes={"units": written_off},
        tenant_id=parcel.tenant_id,
    )
    if len(missing) == len(lines) and not any(line.quantity_checked for line in lines):
        parcel.status = ParcelStatus.RETURNED  # nothing left to ship: the whole order is picked again
        session.execute(delete(WaveOrder).where(WaveOrder.order_id == order.id))
    else:
        parcel.status = ParcelStatus.CHECKED
    kept = {
        line.order_line_id: (line.sku_id, line.quantity_checked) for line in lines if line.quantity_checked
    }
    parcel.expected_weight_g = _expected_weight(session, kept) if kept else 0
    session.flush()
    return written_off
