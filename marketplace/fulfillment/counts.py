"""Cycle counts and stock adjustments of the platform warehouse.

* :func:`create_count` snapshots the stock of the bins in scope (a bin list, a zone, or every bin holding one
  SKU) as count lines, set-based (``INSERT ... SELECT``), with one audit entry for the count.
* :func:`record_count` is one blind scan: bin, item, quantity. The counter never sees the expected quantity.
  The scan's one-time token is a unique key (``INSERT ... ON CONFLICT DO NOTHING``), so a scanner's double Enter
  or a resent request counts once. An item found where nothing was expected adds a line.
* :func:`submit` ends counting: lines nobody scanned were not found and count 0.
* :func:`review` approves or rejects one variance with a reason. Approved, the variance moves the bin's stock
  (conditional ``UPDATE``, never negative) and the warehouse's on-hand stock (``inventory.adjust``: a movement
  of kind ``adjust`` with the reason, refused below what orders have reserved), both in one savepoint.
* :func:`manual_adjust` moves one bin's stock and on-hand by a signed delta with a mandatory reason.

Keeping on-hand and bins moving together keeps the warehouse invariant: on hand = units in bins + units of open
putaway tasks + units picked and not shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Insert, func, literal, or_, select, text, update
from sqlalchemy.orm import Session

from marketplace.catalog.models import Sku
from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, NotFound, ValidationFailed
from marketplace.fulfillment.count_models import (
    CountDecision,
    CountScope,
    CountStatus,
    CycleCount,
    CycleCountLine,
    CycleCountScan,
)
from marketplace.fulfillment.errors import (  # noqa: F401 - the count errors, raised here and caught by the views
    AlreadyDecided,
    AmbiguousItem,
    BinNotInCount,
    BinWouldGoNegative,
    CountNotCounted,
    CountNotOpen,
    InvalidCountQuantity,
    InvalidDelta,
    MissingScanToken,
    NothingToCount,
    NotThisSku,
    NoVariance,
    UnknownItem,
)
from marketplace.fulfillment.models import Bin, BinStock
from marketplace.fulfillment.queries import bin_by_barcode, platform_warehouse
from marketplace.inventory import services as inventory
from marketplace.inventory.models import MAX_UNITS, Warehouse

REASON_MAX = 150  # leaves room for "count <n> <bin>: " in the movement's 200 characters


def _insert(session: Session, model) -> Insert:
    """``INSERT`` with ``ON CONFLICT`` support on PostgreSQL and on SQLite (the embedded mode)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _reason(reason: str | None) -> str:
    """A stripped reason of 1..REASON_MAX characters, else a field error (nothing has changed yet)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": [N_("Give a reason.")]})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": [N_("At most 150 characters.")]})
    return reason


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _next_number(session: Session, warehouse_id: int) -> int:
    """The warehouse's next count number; on PostgreSQL under a per-warehouse lock held to the commit, so two
    supervisors creating counts at once get different numbers instead of a unique-key error."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(727015, :w)"), {"w": warehouse_id})
    last = session.scalar(select(func.max(CycleCount.number)).where(CycleCount.warehouse_id == warehouse_id))
    return (last or 0) + 1


def get_count(session: Session, count_id: int, *, lock: str | None = None) -> CycleCount:
    """A count of a platform warehouse (else NotFound); ``lock``: "share" or "update" to lock its row."""
    query = select(CycleCount).where(CycleCount.id == count_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update(read=lock == "share")
    count = session.scalar(query)
    if count is None:
        raise NotFound()
    platform_warehouse(session, count.warehouse_id)
    return count


# --- creating a count --------------------------------------------------------------------------------------


def _scope_bins(
    session: Session, warehouse: Warehouse, scope: CountScope, bin_ids: list[int], zone_id: int | None,
    sku_id: int | None,
) -> list[int]:  # fmt: skip
    """The active bins of the warehouse the count covers, in route order."""
    query = select(Bin.id).where(Bin.warehouse_id == warehouse.id, Bin.is_active.is_(True))
    if scope == CountScope.BINS:
        query = query.where(Bin.id.in_(bin_ids or [-1]))
    elif scope == CountScope.ZONE:
        query = query.where(Bin.zone_id == (zone_id or -1))
    else:
        holding = select(BinStock.bin_id).where(BinStock.sku_id == sku_id, BinStock.quantity > 0)
        query = query.where(Bin.id.in_(holding))
    return list(session.scalars(query.order_by(Bin.sort_key, Bin.id)))


def create_count(
    session: Session,
    warehouse: Warehouse,
    *,
    scope: CountScope,
    bin_ids: list[int] | None = None,
    zone_id: int | None = None,
    sku_id: int | None = None,
    note: str = "",
    actor_id: int | None,
) -> CycleCount:
    """A new open count; every bin stock row in scope becomes a line with its quantity as expected.

    A SKU count with no bin holding the SKU is allowed (the counter may find it anywhere); a bin or zone count
    needs at least one active bin.
    """
    platform_warehouse(session, warehouse.id)
    if scope == CountScope.SKU and (sku_id is None or session.get(Sku, sku_id) is None):
        raise NothingToCount()
    bins = _scope_bins(session, warehouse, scope, bin_ids or [], zone_id, sku_id)
    if not bins and scope != CountScope.SKU:
        raise NothingToCount()
    count = CycleCount(
        warehouse_id=warehouse.id,
        number=_next_number(session, warehouse.id),
        scope=scope,
        zone_id=zone_id if scope == CountScope.ZONE else None,
        sku_id=sku_id if scope == CountScope.SKU else None,
        bin_ids=bins,
        status=CountStatus.OPEN,
        note=(note or "").strip()[:200],
        created_by_id=actor_id,
    )
    session.add(count)
    session.flush()
    _snapshot_lines(session, count, bins)
    audit.record(
        session, "cycle_count.create", count,
        changes={"number": count.number, "scope": scope.value, "bins": len(bins), "sku_id": count.sku_id},
    )  # fmt: skip
    return count


def _snapshot_lines(session: Session, count: CycleCount, bins: list[int]) -> None:
    """One line per SKU in each bin in scope, expected = the bin's quantity now (set-based)."""
    if not bins:
        return
    now = utcnow()
    source = select(
        literal(count.id), BinStock.bin_id, BinStock.sku_id, BinStock.tenant_id, BinStock.quantity,
        literal(False), literal(""), literal(now), literal(now),
    ).where(BinStock.bin_id.in_(bins), BinStock.quantity > 0)  # fmt: skip
    if count.sku_id is not None:
        source = source.where(BinStock.sku_id == count.sku_id)
    columns = [
        "count_id", "bin_id", "sku_id", "tenant_id", "expected_quantity", "found_extra", "decision_reason",
        "created_at", "updated_at",
    ]  # fmt: skip
    session.execute(CycleCountLine.__table__.insert().from_select(columns, source))


# --- counting -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    line: CycleCountLine
    bin: Bin
    sku: Sku
    repeated: bool  # the token was used already: nothing was added


def scan_bin(session: Session, count: CycleCount, scanned: str) -> Bin:
    """The scanned bin if the count covers it (a SKU count covers every active bin: the SKU may be anywhere)."""
    if count.status != CountStatus.OPEN:
        raise CountNotOpen(number=count.number)
    found = bin_by_barcode(session, count.warehouse_id, scanned)
    if found is None or (count.scope != CountScope.SKU and found.id not in (count.bin_ids or [])):
        raise BinNotInCount(scanned=(scanned or "").strip(), number=count.number)
    return found


def find_item(session: Session, count: CycleCount, bin_: Bin, scanned: str) -> Sku:
    """The SKU a count scan names; a SKU count refuses any other item."""
    sku = item_by_code(session, count.warehouse_id, scanned, bin_id=bin_.id, count_id=count.id)
    if count.sku_id is not None and sku.id != count.sku_id:
        expected = session.get(Sku, count.sku_id)
        raise NotThisSku(expected=expected.code if expected else "—", scanned=(scanned or "").strip())
    return sku


def item_by_code(
    session: Session,
    warehouse_id: int,
    scanned: str,
    *,
    bin_id: int | None = None,
    count_id: int | None = None,
) -> Sku:
    """The SKU a scan names (barcode or code). Codes are unique per shop only: among several, the one with a
    line of the count in this bin wins, then one stocked in this bin, then in this warehouse; still several is
    :class:`AmbiguousItem`."""
    value = (scanned or "").strip().upper()
    matches = []
    if value:
        matches = list(
            session.scalars(
                select(Sku)
                .where(or_(func.upper(Sku.barcode) == value, func.upper(Sku.code) == value))
                .limit(20)
            )
        )
    if len(matches) > 1:
        matches = _narrow(session, warehouse_id, matches, bin_id, count_id)
    if not matches:
        raise UnknownItem(scanned=(scanned or "").strip())
    if len(matches) > 1:
        raise AmbiguousItem(scanned=(scanned or "").strip())
    return matches[0]


def _narrow(
    session: Session, warehouse_id: int, skus: list[Sku], bin_id: int | None, count_id: int | None
) -> list[Sku]:
    ids = [s.id for s in skus]
    tiers = []
    if count_id is not None and bin_id is not None:
        tiers.append(
            select(CycleCountLine.sku_id).where(
                CycleCountLine.count_id == count_id,
                CycleCountLine.bin_id == bin_id,
                CycleCountLine.sku_id.in_(ids),
            )
        )
    if bin_id is not None:
        tiers.append(select(BinStock.sku_id).where(BinStock.bin_id == bin_id, BinStock.sku_id.in_(ids)))
    tiers.append(
        select(BinStock.sku_id).where(BinStock.warehouse_id == warehouse_id, BinStock.sku_id.in_(ids))
    )
    for tier in tiers:
        found = set(session.scalars(tier))
        if found:
            return [s for s in skus if s.id in found]
    return skus


def _line_for(session: Session, count: CycleCount, bin_: Bin, sku: Sku) -> CycleCountLine:
    """The count's line of this SKU in this bin, added when the item was found where no line was snapshotted.

    An added line expects what the bin holds now (goods put away after the snapshot are not a gain); when that
    is 0 the line is marked as found extra.
    """
    query = select(CycleCountLine).where(
        CycleCountLine.count_id == count.id, CycleCountLine.bin_id == bin_.id, CycleCountLine.sku_id == sku.id
    )
    line = session.scalar(query)
    if line is not None:
        return line
    held = session.scalar(
        select(BinStock.quantity).where(BinStock.bin_id == bin_.id, BinStock.sku_id == sku.id)
    ) or 0  # fmt: skip
    now = utcnow()
    session.execute(
        _insert(session, CycleCountLine)
        .values(
            count_id=count.id, bin_id=bin_.id, sku_id=sku.id, tenant_id=sku.tenant_id, expected_quantity=held,
            found_extra=held == 0, decision_reason="", created_at=now, updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["count_id", "bin_id", "sku_id"])
    )  # fmt: skip
    return session.scalar(query)


def record_count(
    session: Session,
    count: CycleCount,
    *,
    bin_scan: str,
    item_scan: str,
    quantity: int,
    token: str,
    actor_id: int | None,
) -> ScanResult:
    """Add ``quantity`` counted units of the scanned item in the scanned bin (blind: nothing says what was
    expected). The same ``token`` again adds nothing and returns ``repeated``. The count row is share-locked,
    so a scan cannot slip in after :func:`submit` has locked it."""
    if not token or len(token) > 64:
        raise MissingScanToken()
    if not _whole(quantity) or not 0 < quantity <= MAX_UNITS:
        raise InvalidCountQuantity(maximum=MAX_UNITS)
    count = get_count(session, count.id, lock="share")
    bin_ = scan_bin(session, count, bin_scan)
    sku = find_item(session, count, bin_, item_scan)
    line = _line_for(session, count, bin_, sku)
    claimed = session.scalar(
        _insert(session, CycleCountScan)
        .values(line_id=line.id, tenant_id=line.tenant_id, token=token, quantity=quantity, counted_by_id=actor_id,
                created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["token"])
        .returning(CycleCountScan.id)
    )  # fmt: skip
    if claimed is not None:
        session.execute(
            update(CycleCountLine)
            .where(CycleCountLine.id == line.id)
            .values(
                counted_quantity=func.coalesce(CycleCountLine.counted_quantity, 0) + quantity,
                counted_by_id=actor_id, counted_at=utcnow(), updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    session.refresh(line)
    return ScanResult(line, bin_, sku, repeated=claimed is None)


def counted_bins(session: Session, count: CycleCount) -> set[int]:
    """Bins of the count where something has been scanned (the counter's progress, without quantities)."""
    return set(
        session.scalars(
            select(CycleCountLine.bin_id).where(
                CycleCountLine.count_id == count.id, CycleCountLine.counted_quantity.is_not(None)
            )
        )
    )


def submit(session: Session, count: CycleCount, *, actor_id: int | None) -> CycleCount:
    """Counting is over: lines nobody scanned were not found (counted 0). A count without variance closes."""
    count = get_count(session, count.id, lock="update")
    if count.status != CountStatus.OPEN:
        raise CountNotOpen(number=count.number)
    session.execute(
        update(CycleCountLine)
        .where(CycleCountLine.count_id == count.id, CycleCountLine.counted_quantity.is_(None))
        .values(counted_quantity=0, counted_by_id=actor_id, counted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    count.status = CountStatus.COUNTED
    count.submitted_by_id = actor_id
    count.submitted_at = utcnow()
    session.flush()
    _close_if_decided(session, count)
    audit.record(session, "cycle_count.submit", count, changes={"number": count.number})
    return count


# --- review and adjustments ---------------------------------------------------------------------------------


def variance_lines(session: Session, count: CycleCount) -> list[CycleCountLine]:
    return list(
        session.scalars(
            select(CycleCountLine)
            .join(Bin, Bin.id == CycleCountLine.bin_id)
            .where(
                CycleCountLine.count_id == count.id,
                CycleCountLine.counted_quantity != CycleCountLine.expected_quantity,
            )
            .order_by(Bin.sort_key, CycleCountLine.id)
        )
    )


def _close_if_decided(session: Session, count: CycleCount) -> None:
    open_variances = session.scalar(
        select(func.count())
        .select_from(CycleCountLine)
        .where(
            CycleCountLine.count_id == count.id,
            CycleCountLine.counted_quantity != CycleCountLine.expected_quantity,
            CycleCountLine.decision.is_(None),
        )
    )
    if not open_variances:
        count.status = CountStatus.CLOSED
        count.closed_at = utcnow()
        session.flush()


def _move_bin(session: Session, bin_: Bin, sku: Sku, delta: int) -> None:
    """Add ``delta`` units to the bin's stock of the SKU: a gain inserts or adds, a loss is one conditional
    UPDATE that only matches while the bin holds enough (never negative)."""
    now = utcnow()
    if delta > 0:
        insert = _insert(session, BinStock).values(
            sku_id=sku.id, bin_id=bin_.id, warehouse_id=bin_.warehouse_id, tenant_id=sku.tenant_id,
            quantity=delta, updated_at=now,
        )  # fmt: skip
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["bin_id", "sku_id"],
                set_={"quantity": BinStock.quantity + insert.excluded.quantity, "updated_at": now},
            )
        )
        return
    taken = session.execute(
        update(BinStock)
        .where(BinStock.bin_id == bin_.id, BinStock.sku_id == sku.id, BinStock.quantity >= -delta)
        .values(quantity=BinStock.quantity + delta, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        held = session.scalar(
            select(BinStock.quantity).where(BinStock.bin_id == bin_.id, BinStock.sku_id == sku.id)
        )  # fmt: skip
        raise BinWouldGoNegative(bin=bin_.code, quantity=held or 0, sku=sku.code, loss=-delta)


def _apply(session: Session, bin_: Bin, sku: Sku, delta: int, reason: str, actor_id: int | None) -> None:
    """Bin stock and the warehouse's on hand move together: the bin first, the hot stock row last."""
    _move_bin(session, bin_, sku, delta)
    inventory.adjust(
        session, sku_id=sku.id, tenant_id=sku.tenant_id, delta=delta, reason=reason, actor_id=actor_id,
        warehouse_id=bin_.warehouse_id,
    )  # fmt: skip


def review(
    session: Session, line: CycleCountLine, *, approve: bool, reason: str, actor_id: int | None
) -> CycleCountLine:
    """Approve or reject one variance, with a reason (audited either way).

    Approving applies the variance as a delta (counted - expected), not the counted figure: units picked or
    put away in the bin between the snapshot and the review stay accounted for. Refused, changing nothing (one
    savepoint), when the bin no longer holds the loss or on hand would drop below what orders have reserved.
    A line is decided once: the decision is a conditional UPDATE, so two supervisors cannot both apply it.
    """
    reason = _reason(reason)
    count = get_count(session, line.count_id)
    if count.status != CountStatus.COUNTED:
        raise CountNotCounted(number=count.number)
    session.refresh(line)
    delta = line.variance
    if not delta:
        raise NoVariance()
    bin_, sku = session.get(Bin, line.bin_id), session.get(Sku, line.sku_id)
    decision = CountDecision.APPROVED if approve else CountDecision.REJECTED
    with session.begin_nested():
        _decide(session, line, decision, reason, actor_id)
        if approve:
            _apply(session, bin_, sku, delta, f"count {count.number} {bin_.code}: {reason}", actor_id)
    session.refresh(line)
    audit.record(
        session, f"cycle_count.{decision.value}", line, reason=reason,
        changes={"count": count.number, "bin": bin_.code, "sku": sku.code, "expected": line.expected_quantity,
                 "counted": line.counted_quantity, "delta": delta if approve else 0},
    )  # fmt: skip
    _close_if_decided(session, count)
    return line


def _decide(
    session: Session, line: CycleCountLine, decision: CountDecision, reason: str, actor_id: int | None
) -> None:
    decided = session.execute(
        update(CycleCountLine)
        .where(CycleCountLine.id == line.id, CycleCountLine.decision.is_(None))
        .values(decision=decision, decision_reason=reason, decided_by_id=actor_id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if decided.rowcount != 1:
        raise AlreadyDecided()


def manual_adjust(
    session: Session, *, bin_: Bin, sku: Sku, delta: int, reason: str, actor_id: int | None
) -> int:
    """Move one bin's stock of a SKU and the warehouse's on hand by ``delta`` (found units, damage, ...).

    The reason is required; every refusal (no reason, bin would go negative, on hand below reserved) changes
    nothing. Audited with the reason. Returns the bin's new quantity.
    """
    reason = _reason(reason)
    if not _whole(delta) or delta == 0 or abs(delta) > MAX_UNITS:
        raise InvalidDelta()
    platform_warehouse(session, bin_.warehouse_id)
    with session.begin_nested():
        _apply(session, bin_, sku, delta, f"adjust {bin_.code}: {reason}", actor_id)
    quantity = session.scalar(
        select(BinStock.quantity).where(BinStock.bin_id == bin_.id, BinStock.sku_id == sku.id)
    )  # fmt: skip
    audit.record(
        session, "bin_stock.adjust", bin_, reason=reason, tenant_id=sku.tenant_id,
        changes={"bin": bin_.code, "sku": sku.code, "sku_id": sku.id, "delta": delta, "quantity": quantity},
    )  # fmt: skip
    return quantity


def lines_in(session: Session, count: CycleCount) -> list[tuple[CycleCountLine, Bin, Sku, int]]:
    """Every line of a count with its bin, SKU and what the bin holds now (for the review desk)."""
    held = (
        select(BinStock.quantity)
        .where(BinStock.bin_id == CycleCountLine.bin_id, BinStock.sku_id == CycleCountLine.sku_id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(CycleCountLine, Bin, Sku, func.coalesce(held, 0))
        .join(Bin, Bin.id == CycleCountLine.bin_id)
        .join(Sku, Sku.id == CycleCountLine.sku_id)
        .where(CycleCountLine.count_id == count.id)
        .order_by(Bin.sort_key, Sku.code, CycleCountLine.id)
    ).all()
    return [(line, bin_, sku, int(now)) for line, bin_, sku, now in rows]


def open_counts(session: Session) -> list[CycleCount]:
    """Counts open for counting in every platform warehouse, oldest first (the counter's list)."""
    return list(
        session.scalars(
            select(CycleCount)
            .join(Warehouse, Warehouse.id == CycleCount.warehouse_id)
            .where(CycleCount.status == CountStatus.OPEN, Warehouse.merchant_id.is_(None))
            .order_by(CycleCount.id)
            .limit(100)
        )
    )


def recent_counts(session: Session, warehouse_id: int, *, status: CountStatus | None = None, limit: int = 50):
    query = select(CycleCount).where(CycleCount.warehouse_id == warehouse_id)
    if status is not None:
        query = query.where(CycleCount.status == status)
    return list(session.scalars(query.order_by(CycleCount.number.desc()).limit(limit)))
