"""Cycle counts and adjustments: blind counting, variance review, manual adjustments, and what they refuse."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, Actor, AuditEntry, acting_as
from marketplace.core.errors import DomainError, ValidationFailed
from marketplace.extensions import db
from marketplace.fulfillment import counts
from marketplace.fulfillment import services as setup
from marketplace.fulfillment.count_models import (
    CountDecision,
    CountScope,
    CountStatus,
    CycleCount,
    CycleCountLine,
    CycleCountScan,
)
from marketplace.fulfillment.models import Bin, BinStock
from marketplace.identity.models import UserKind
from marketplace.inventory import services as inventory
from marketplace.inventory.errors import BelowReserved
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement
from tests.concurrency import race
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client, flashes

_TOKEN = re.compile(r'name="token" id="scan-token" value="([^"]+)"')
SUPERVISOR = Actor(user_id=None, kind="warehouse", label="supervisor@test")


@pytest.fixture
def floor(app):
    """The platform warehouse: zone A with bins A-01-01..A-01-03; TEA (barcode 6900000000011) 10 in A-01-01 and
    2 in A-01-02, CUP 4 in A-01-02; on hand matches the bins."""
    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = inventory.platform_warehouse(db.session)
        zone = setup.create_zone(db.session, warehouse, code="A", name="Ambient")
        setup.create_bin_range(db.session, warehouse, zone, aisle="A", bays=(1, 1), levels=(1, 3))
        category = save_category(db.session, name=f"Counts {shop.id}")
        skus = {}
        for code, barcode in [("TEA", "6900000000011"), ("CUP", None)]:
            product = create_product(
                db.session, tenant_id=shop.id, actor_id=None,
                data=ProductInput(title=code, category_id=category.id, skus=[SkuInput({}, code, 990, barcode=barcode)]),
            )  # fmt: skip
            skus[code] = product.skus[0].id
        bins = {b.code: b.id for b in db.session.scalars(select(Bin).where(Bin.warehouse_id == warehouse.id))}
        for bin_code, sku_code, quantity in [
            ("A-01-01", "TEA", 10),
            ("A-01-02", "TEA", 2),
            ("A-01-02", "CUP", 4),
        ]:
            db.session.add(
                BinStock(tenant_id=shop.id, sku_id=skus[sku_code], bin_id=bins[bin_code],
                         warehouse_id=warehouse.id, quantity=quantity)
            )  # fmt: skip
        for sku_code, quantity in [("TEA", 12), ("CUP", 4)]:
            inventory.set_on_hand(
                db.session, sku_id=skus[sku_code], tenant_id=shop.id, quantity=quantity, reason="opening", kind=MovementKind.INITIAL,
                warehouse_id=warehouse.id,
            )  # fmt: skip
        db.session.commit()
        return {"warehouse_id": warehouse.id, "zone_id": zone.id, "bins": bins, "skus": skus, "shop": shop.id}


def _state(app, floor, bin_code: str, sku_code: str) -> tuple[int, int, int]:
    """(units in the bin, on hand, available) of a SKU."""
    with app.app_context():
        held = db.session.scalar(
            select(BinStock.quantity).where(
                BinStock.bin_id == floor["bins"][bin_code], BinStock.sku_id == floor["skus"][sku_code]
            )
        )
        level = db.session.scalar(
            select(StockLevel).where(
                StockLevel.sku_id == floor["skus"][sku_code], StockLevel.warehouse_id == floor["warehouse_id"]
            )
        )
        return held or 0, level.on_hand, level.available


def _adjust_movements(app, sku_id: int) -> list[tuple[int, str]]:
    with app.app_context():
        return [
            (m.on_hand_delta, m.reason)
            for m in db.session.scalars(
                select(StockMovement)
                .where(StockMovement.sku_id == sku_id, StockMovement.kind == MovementKind.ADJUST)
                .order_by(StockMovement.id)
            )
        ]


def _create(app, floor, **scope) -> int:
    with app.app_context(), acting_as(SUPERVISOR):
        warehouse = db.session.get(counts.Warehouse, floor["warehouse_id"])
        count = counts.create_count(db.session, warehouse, actor_id=None, **scope)
        db.session.commit()
        return count.id


def _scan(app, count_id: int, bin_code: str, item: str, quantity: int, token: str) -> counts.ScanResult:
    with app.app_context(), acting_as(SUPERVISOR):
        count = counts.get_count(db.session, count_id)
        result = counts.record_count(
            db.session,
            count,
            bin_scan=bin_code,
            item_scan=item,
            quantity=quantity,
            token=token,
            actor_id=None,
        )
        db.session.commit()
        return result


def _submit(app, count_id: int) -> None:
    with app.app_context(), acting_as(SUPERVISOR):
        counts.submit(db.session, counts.get_count(db.session, count_id), actor_id=None)
        db.session.commit()


def _line(app, count_id: int, floor, bin_code: str, sku_code: str) -> CycleCountLine:
    with app.app_context():
        line = db.session.scalar(
            select(CycleCountLine).where(
                CycleCountLine.count_id == count_id,
                CycleCountLine.bin_id == floor["bins"][bin_code],
                CycleCountLine.sku_id == floor["skus"][sku_code],
            )
        )
        db.session.expunge(line)
        return line


def _review(app, line_id: int, *, approve: bool, reason: str) -> None:
    with app.app_context(), acting_as(SUPERVISOR):
        counts.review(
            db.session, db.session.get(CycleCountLine, line_id), approve=approve, reason=reason, actor_id=None
        )
        db.session.commit()


def _supervisor(app, role: str = "supervisor"):
    client = english_client(app)
    assert login(client, make_user(app, UserKind.WAREHOUSE, role=role)).status_code == 302
    return client


def test_a_zone_count_snapshots_every_bin_stock_and_an_approved_loss_moves_bin_and_on_hand(app, floor):
    count_id = _create(app, floor, scope=CountScope.ZONE, zone_id=floor["zone_id"])
    with app.app_context():
        count = db.session.get(CycleCount, count_id)
        assert (count.number, count.status, len(count.bin_ids)) == (1, CountStatus.OPEN, 3)
        lines = db.session.scalars(select(CycleCountLine).where(CycleCountLine.count_id == count_id)).all()
        assert sorted((line.expected_quantity, line.counted_quantity) for line in lines) == [
            (2, None), (4, None), (10, None)
        ]  # fmt: skip

    _scan(app, count_id, "A-01-01", "6900000000011", 5, "t1")
    _scan(app, count_id, "A-01-01", "tea", 2, "t2")  # the SKU code typed by hand works too
    _scan(app, count_id, "A-01-02", "CUP", 4, "t3")  # TEA in A-01-02 is not found: counts 0 at submit
    _submit(app, count_id)

    tea = _line(app, count_id, floor, "A-01-01", "TEA")
    assert (tea.counted_quantity, tea.variance) == (7, -3)
    assert _line(app, count_id, floor, "A-01-02", "TEA").variance == -2
    assert _line(app, count_id, floor, "A-01-02", "CUP").variance == 0

    _review(app, tea.id, approve=True, reason="damaged in the rack")

    assert _state(app, floor, "A-01-01", "TEA") == (7, 9, 9)
    assert _adjust_movements(app, floor["skus"]["TEA"]) == [(-3, "count 1 A-01-01: damaged in the rack")]
    with app.app_context():
        line = db.session.get(CycleCountLine, tea.id)
        assert (line.decision, line.decision_reason) == (CountDecision.APPROVED, "damaged in the rack")
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle_count.approved"))
        assert entry.reason == "damaged in the rack" and entry.tenant_id == floor["shop"]
        assert entry.changes["delta"] == -3 and entry.actor_label == "supervisor@test"
        assert db.session.get(CycleCount, count_id).status == CountStatus.COUNTED  # one variance still open

    _review(app, _line(app, count_id, floor, "A-01-02", "TEA").id, approve=False, reason="recount tomorrow")
    with app.app_context():
        assert db.session.get(CycleCount, count_id).status == CountStatus.CLOSED


def test_a_rejected_variance_changes_no_stock(app, floor):
    count_id = _create(app, floor, scope=CountScope.BINS, bin_ids=[floor["bins"]["A-01-01"]])
    _scan(app, count_id, "A-01-01", "TEA", 13, "t1")
    _submit(app, count_id)
    line = _line(app, count_id, floor, "A-01-01", "TEA")
    assert line.variance == 3

    _review(app, line.id, approve=False, reason="counted the neighbour's carton")

    assert _state(app, floor, "A-01-01", "TEA") == (10, 12, 12)
    assert _adjust_movements(app, floor["skus"]["TEA"]) == []
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle_count.rejected"))
        assert entry.reason == "counted the neighbour's carton"


def test_review_needs_a_reason_and_decides_a_line_once(app, floor):
    count_id = _create(app, floor, scope=CountScope.BINS, bin_ids=[floor["bins"]["A-01-01"]])
    _scan(app, count_id, "A-01-01", "TEA", 11, "t1")
    _submit(app, count_id)
    line = _line(app, count_id, floor, "A-01-01", "TEA")
    with pytest.raises(ValidationFailed), app.app_context(), acting_as(SUPERVISOR):
        counts.review(
            db.session, db.session.get(CycleCountLine, line.id), approve=True, reason=" ", actor_id=None
        )
    _review(app, line.id, approve=True, reason="found behind the box")
    with pytest.raises(counts.CountNotCounted), app.app_context(), acting_as(SUPERVISOR):  # decided: closed
        counts.review(
            db.session, db.session.get(CycleCountLine, line.id), approve=True, reason="again", actor_id=None
        )
    assert _state(app, floor, "A-01-01", "TEA") == (11, 13, 13)


def test_two_supervisors_approving_the_same_variance_at_once_apply_it_once(app, floor, postgres_only):
    count_id = _create(app, floor, scope=CountScope.ZONE, zone_id=floor["zone_id"])
    _scan(app, count_id, "A-01-01", "TEA", 11, "t1")
    _submit(app, count_id)  # TEA and CUP in A-01-02 not found: the count stays open for review after one
    line_id = _line(app, count_id, floor, "A-01-01", "TEA").id

    def attempt(_n: int) -> None:
        with acting_as(SUPERVISOR):
            line = db.session.get(CycleCountLine, line_id)
            counts.review(db.session, line, approve=True, reason="found", actor_id=None)

    outcomes = race(app, 3, attempt, counts.AlreadyDecided)
    assert sorted(outcomes) == ["refused", "refused", "won"]
    assert _state(app, floor, "A-01-01", "TEA") == (11, 13, 13)
    assert _adjust_movements(app, floor["skus"]["TEA"]) == [(1, "count 1 A-01-01: found")]


def test_stock_picked_after_the_snapshot_stays_accounted_for(app, floor):
    """The variance is applied as a delta: a pick between counting and review is not undone."""
    count_id = _create(app, floor, scope=CountScope.BINS, bin_ids=[floor["bins"]["A-01-01"]])
    _scan(app, count_id, "A-01-01", "TEA", 9, "t1")  # one lost
    _submit(app, count_id)
    with app.app_context(), acting_as(SYSTEM):  # meanwhile 4 are picked and shipped
        db.session.execute(
            update(BinStock)
            .where(BinStock.bin_id == floor["bins"]["A-01-01"], BinStock.sku_id == floor["skus"]["TEA"])
            .values(quantity=6)
        )
        inventory.adjust(
            db.session, sku_id=floor["skus"]["TEA"], tenant_id=floor["shop"], delta=-4, reason="shipped",
            warehouse_id=floor["warehouse_id"],
        )  # fmt: skip
        db.session.commit()

    _review(app, _line(app, count_id, floor, "A-01-01", "TEA").id, approve=True, reason="lost")

    assert _state(app, floor, "A-01-01", "TEA") == (5, 7, 7)


def test_an_unexpected_item_in_a_bin_adds_a_line_and_a_gain(app, floor):
    count_id = _create(app, floor, scope=CountScope.BINS, bin_ids=[floor["bins"]["A-01-03"]])
    with app.app_context():
        assert (
            db.session.scalars(select(CycleCountLine).where(CycleCountLine.count_id == count_id)).all() == []
        )

    result = _scan(app, count_id, "A-01-03", "CUP", 2, "t1")
    assert result.line.found_extra and result.line.expected_quantity == 0
    _submit(app, count_id)
    _review(app, result.line.id, approve=True, reason="found during count")

    assert _state(app, floor, "A-01-03", "CUP") == (2, 6, 6)


def test_a_loss_cannot_take_stock_below_reserved_and_changes_nothing(app, floor):
    with app.app_context(), acting_as(SYSTEM):
        inventory.reserve(db.session, sku_id=floor["skus"]["CUP"], quantity=3, order_id=None,
                          warehouse_id=floor["warehouse_id"])  # fmt: skip
        db.session.commit()
    count_id = _create(app, floor, scope=CountScope.SKU, sku_id=floor["skus"]["CUP"])
    _scan(app, count_id, "A-01-02", "CUP", 2, "t1")  # 2 of 4 found, 3 reserved
    _submit(app, count_id)
    line = _line(app, count_id, floor, "A-01-02", "CUP")

    with pytest.raises(BelowReserved) as refused, app.app_context(), acting_as(SUPERVISOR):
        counts.review(
            db.session, db.session.get(CycleCountLine, line.id), approve=True, reason="lost", actor_id=None
        )
    assert "CUP" in str(refused.value)

    assert _state(app, floor, "A-01-02", "CUP") == (4, 4, 1)
    assert _line(app, count_id, floor, "A-01-02", "CUP").decision is None


def test_manual_adjustment_needs_a_reason_and_never_makes_a_bin_negative(app, floor):
    with app.app_context(), acting_as(SUPERVISOR):
        bin_ = db.session.get(Bin, floor["bins"]["A-01-02"])
        cup = db.session.get(counts.Sku, floor["skus"]["CUP"])
        with pytest.raises(ValidationFailed):
            counts.manual_adjust(db.session, bin_=bin_, sku=cup, delta=-1, reason="  ", actor_id=None)
        with pytest.raises(counts.BinWouldGoNegative) as refused:
            counts.manual_adjust(db.session, bin_=bin_, sku=cup, delta=-5, reason="broken", actor_id=None)
        assert "A-01-02" in refused.value.text and "CUP" in refused.value.text
        db.session.rollback()
    assert _state(app, floor, "A-01-02", "CUP") == (4, 4, 4)
    assert _adjust_movements(app, floor["skus"]["CUP"]) == []

    with app.app_context(), acting_as(SUPERVISOR):
        quantity = counts.manual_adjust(
            db.session, bin_=db.session.get(Bin, floor["bins"]["A-01-02"]),
            sku=db.session.get(counts.Sku, floor["skus"]["CUP"]), delta=-4, reason="broken", actor_id=None,
        )  # fmt: skip
        db.session.commit()
    assert quantity == 0
    assert _state(app, floor, "A-01-02", "CUP") == (0, 0, 0)
    assert _adjust_movements(app, floor["skus"]["CUP"]) == [(-4, "adjust A-01-02: broken")]
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "bin_stock.adjust"))
        assert (entry.reason, entry.changes["delta"], entry.tenant_id) == ("broken", -4, floor["shop"])


def test_a_double_submitted_scan_counts_once_even_at_the_same_moment(app, floor, postgres_only):
    count_id = _create(app, floor, scope=CountScope.BINS, bin_ids=[floor["bins"]["A-01-01"]])

    def attempt(_n: int) -> None:
        count = counts.get_count(db.session, count_id)
        counts.record_count(
            db.session, count, bin_scan="A-01-01", item_scan="TEA", quantity=3, token="same", actor_id=None
        )

    outcomes = race(app, 4, attempt, DomainError)
    assert outcomes == ["won"] * 4
    assert _scan(app, count_id, "A-01-01", "TEA", 3, "same").repeated
    with app.app_context():
        assert db.session.scalar(select(CycleCountLine.counted_quantity)) == 3
        assert len(db.session.scalars(select(CycleCountScan)).all()) == 1


def test_the_blind_count_page_never_shows_the_expected_quantity(app, floor):
    count_id = _create(app, floor, scope=CountScope.BINS, bin_ids=[floor["bins"]["A-01-01"]])
    client = _supervisor(app)

    page = client.get(f"/wms/count/{count_id}")
    assert page.status_code == 200
    assert "A-01-01" in page.text and not re.search(r"\b10\b", page.text.replace("A-01-01", ""))
    token = _TOKEN.search(page.text).group(1)
    bin_panel = client.post(
        f"/wms/count/{count_id}/scan", data={"scan": "PLATFORM-A-01-01", "token": token},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert "Bin A-01-01. Now scan the items." in bin_panel.text
    first = client.post(
        f"/wms/count/{count_id}/scan", data={"scan": "6900000000011", "bin_scan": "PLATFORM-A-01-01", "qty": "4",
                                             "token": token}, headers={"HX-Request": "true"},
    )  # fmt: skip
    again = client.post(
        f"/wms/count/{count_id}/scan", data={"scan": "6900000000011", "bin_scan": "PLATFORM-A-01-01", "qty": "4",
                                             "token": token}, headers={"HX-Request": "true"},
    )  # fmt: skip
    assert first.status_code == 200 and "TEA: 4 counted in A-01-01." in first.text
    assert "Already counted." in again.text
    for response in (page, bin_panel, first, again):
        assert "expected" not in response.text.lower() and not re.search(r"\b10\b", response.text)
    assert _TOKEN.search(first.text).group(1) != token  # a fresh token for the next scan

    wrong = client.post(
        f"/wms/count/{count_id}/scan", data={"scan": "A-01-02", "bin_scan": "A-01-01", "token": "x"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert wrong.status_code == 422 and "“A-01-02” is not a bin of count 1." in wrong.text

    done = client.post(f"/wms/count/{count_id}/submit", headers={"HX-Request": "true"})
    assert done.headers["HX-Redirect"] == "/wms/count"
    assert ("success", "Count 1 submitted for review.") in flashes(client.get("/wms/count").text)
    assert _line(app, count_id, floor, "A-01-01", "TEA").counted_quantity == 4


def test_desk_review_approves_with_a_reason_and_other_roles_cannot(app, floor):
    client = _supervisor(app)
    created = client.post(
        "/wms/counts", data={"scope": "bins", "bins": [str(floor["bins"]["A-01-01"])], "warehouse": floor["warehouse_id"]}
    )  # fmt: skip
    assert created.status_code == 302
    with app.app_context():
        count_id = db.session.scalar(select(CycleCount.id))
    _scan(app, count_id, "A-01-01", "TEA", 8, "t1")
    _submit(app, count_id)
    line = _line(app, count_id, floor, "A-01-01", "TEA")
    review = client.get(f"/wms/counts/{count_id}")
    assert review.status_code == 200 and "-2" in review.text

    picker = _supervisor(app, role="picker")
    assert picker.get(f"/wms/counts/{count_id}").status_code == 403
    url = f"/wms/counts/{count_id}/lines/{line.id}"
    assert picker.post(url, data={"decision": "approve", "reason": "lost"}).status_code == 403
    assert picker.get(f"/wms/count/{count_id}").status_code == 403
    assert _state(app, floor, "A-01-01", "TEA") == (10, 12, 12)

    no_reason = client.post(url, data={"decision": "approve", "reason": ""}, follow_redirects=True)
    assert ("error", "Give a reason.") in flashes(no_reason.text)
    assert _state(app, floor, "A-01-01", "TEA") == (10, 12, 12)

    approved = client.post(url, data={"decision": "approve", "reason": "lost"}, follow_redirects=True)
    assert ("success", "Variance approved: stock adjusted.") in flashes(approved.text)
    assert _state(app, floor, "A-01-01", "TEA") == (8, 10, 10)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle_count.approved"))
        assert entry.reason == "lost" and entry.actor_kind == "warehouse" and entry.actor_id is not None


def test_desk_manual_adjustment_form(app, floor):
    client = _supervisor(app)
    assert client.get("/wms/counts/adjust").status_code == 200
    data = {
        "warehouse": floor["warehouse_id"],
        "bin": "A-01-03",
        "sku": "6900000000011",
        "delta": "+3",
        "reason": "",
    }
    refused = client.post("/wms/counts/adjust", data=data)
    assert refused.status_code == 422 and "Give a reason." in refused.text
    assert _state(app, floor, "A-01-03", "TEA") == (0, 12, 12)

    done = client.post(
        "/wms/counts/adjust", data={**data, "delta": "3", "reason": "found"}, follow_redirects=True
    )
    assert ("success", "TEA in A-01-03 adjusted by +3: now 3.") in flashes(done.text)
    assert _state(app, floor, "A-01-03", "TEA") == (3, 15, 15)


def test_desk_creates_zone_and_sku_counts_and_the_handheld_lists_them(app, floor):
    client = _supervisor(app)
    zone = client.post("/wms/counts", data={"scope": "zone", "zone": floor["zone_id"]}, follow_redirects=True)
    assert ("success", "Count 1 created: the counters can start.") in flashes(zone.text)
    sku = client.post("/wms/counts", data={"scope": "sku", "sku": "6900000000011"}, follow_redirects=True)
    assert ("success", "Count 2 created: the counters can start.") in flashes(sku.text)
    unknown = client.post("/wms/counts", data={"scope": "sku", "sku": "NOPE"}, follow_redirects=True)
    assert ("error", "No item with the code “NOPE”.") in flashes(unknown.text)
    empty = client.post("/wms/counts", data={"scope": "bins"}, follow_redirects=True)
    assert flashes(empty.text)[0][0] == "error"

    with app.app_context():
        by_number = {c.number: c for c in db.session.scalars(select(CycleCount))}
        assert set(by_number) == {1, 2}
        assert by_number[2].scope == CountScope.SKU and len(by_number[2].bin_ids) == 2
    listing = client.get("/wms/count")
    assert "Count 1" in listing.text and "Count 2" in listing.text

    with pytest.raises(counts.NotThisSku):
        _scan(app, by_number[2].id, "A-01-02", "CUP", 1, "t1")
    assert _scan(app, by_number[2].id, "A-01-03", "TEA", 1, "t2").line.found_extra  # a SKU count: any bin

    first = client.post(
        f"/wms/count/{by_number[1].id}/scan",
        data={"scan": "TEA", "token": "t3"},
        headers={"HX-Request": "true"},
    )
    assert first.status_code == 422 and "Scan a bin first." in first.text
