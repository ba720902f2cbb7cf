"""Transfers: shipping takes one shop's units out of named source bins (refused when not there or not
available), receiving at the destination books stock with putaway tasks, over-receipts need a supervisor, and
the stock invariant holds in both platform warehouses after every step."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.fulfillment import transfers
from marketplace.fulfillment.models import BinStock, PutawayStatus, PutawayTask
from marketplace.fulfillment.transfer_models import Transfer, TransferReceiptLine, TransferStatus
from marketplace.identity.models import User, UserKind
from marketplace.inventory import services as inventory
from marketplace.inventory.models import StockMovement
from tests.concurrency import race
from tests.factories import make_merchant, make_user
from tests.orders.order_helpers import stocked_sku
from tests.wms.returns_helpers import TOKEN, assert_invariant, level, make_floor, stock_bin, worker


@pytest.fixture
def floor(app):
    floor = make_floor(app)
    stock_bin(app, floor, "A-01-01", "TEA", 10)
    stock_bin(app, floor, "A-01-02", "CUP", 5)
    return floor


def _create(app, floor, lines=(("TEA", 4, "A-01-01"),), **extra) -> int:
    with app.app_context(), acting_as(SYSTEM):
        transfer = transfers.create_transfer(
            db.session,
            tenant_id=floor["shop"],
            from_warehouse_id=extra.get("source", floor["main"]),
            to_warehouse_id=extra.get("target", floor["other"]),
            lines=[(floor["skus"][n], q, floor["bins"].get(b) if b else None) for n, q, b in lines],
        )
        db.session.commit()
        return transfer.id


def _ship(app, transfer_id: int) -> None:
    with app.app_context(), acting_as(SYSTEM):
        try:
            transfers.ship_transfer(db.session, transfer_id, actor_id=None)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise


def _receive(app, transfer_id: int, quantities: dict[int, int], confirmer_id: int | None = None):
    with app.app_context(), acting_as(SYSTEM):
        confirmer = db.session.get(User, confirmer_id) if confirmer_id else None
        try:
            rows = transfers.receive_transfer(
                db.session, transfer_id, quantities, actor_id=None, confirmer=confirmer
            )
            db.session.commit()
            return [(r.quantity, r.putaway_task_id is not None, r.confirmed_by_id) for r in rows]
        except Exception:
            db.session.rollback()
            raise


def _bin(app, floor, bin_code: str, name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(BinStock.quantity).where(
                BinStock.bin_id == floor["bins"][bin_code], BinStock.sku_id == floor["skus"][name]
            )
        )


def _status(app, transfer_id: int) -> TransferStatus:
    with app.app_context():
        return db.session.get(Transfer, transfer_id).status


def _invariants(app, floor) -> None:
    assert_invariant(app, floor["main"])
    assert_invariant(app, floor["other"])


def test_shipping_takes_the_units_out_of_the_bin_and_receiving_books_them_with_putaway(app, floor):
    transfer_id = _create(app, floor)
    tea = floor["skus"]["TEA"]
    assert _status(app, transfer_id) == TransferStatus.DRAFT

    _ship(app, transfer_id)
    assert _status(app, transfer_id) == TransferStatus.SHIPPED
    assert level(app, floor["main"], tea) == (6, 6)
    assert _bin(app, floor, "A-01-01", "TEA") == 6
    _invariants(app, floor)

    assert _receive(app, transfer_id, {tea: 3}) == [(3, True, None)]
    assert _status(app, transfer_id) == TransferStatus.PARTIALLY_RECEIVED
    assert level(app, floor["other"], tea) == (3, 3)
    _invariants(app, floor)

    assert _receive(app, transfer_id, {tea: 1}) == [(1, True, None)]
    assert _status(app, transfer_id) == TransferStatus.RECEIVED
    assert level(app, floor["other"], tea) == (4, 4)
    with app.app_context():
        tasks = db.session.scalars(select(PutawayTask).order_by(PutawayTask.id)).all()
        assert [(t.warehouse_id, t.quantity, t.status) for t in tasks] == [
            (floor["other"], 3, PutawayStatus.OPEN),
            (floor["other"], 1, PutawayStatus.OPEN),
        ]
        reasons = db.session.scalars(select(StockMovement.reason).order_by(StockMovement.id)).all()
        number = db.session.get(Transfer, transfer_id).number
        assert reasons[-3:] == [f"Transfer {number} out", f"Transfer {number} in", f"Transfer {number} in"]
    _invariants(app, floor)


def test_shipping_more_than_the_bin_holds_or_is_available_is_refused_and_changes_nothing(app, floor):
    short_bin = _create(app, floor, lines=(("TEA", 4, "A-01-01"), ("CUP", 6, "A-01-02")))
    with pytest.raises(transfers.BinShort) as refused:
        _ship(app, short_bin)
    assert refused.value.facts == {"sku": floor["codes"]["CUP"], "bin": "A-01-02", "held": 5}
    assert (_status(app, short_bin), _bin(app, floor, "A-01-01", "TEA")) == (TransferStatus.DRAFT, 10)
    assert level(app, floor["main"], floor["skus"]["TEA"]) == (10, 10)

    with app.app_context(), acting_as(SYSTEM):  # 8 of the 10 teas are held for orders
        inventory.reserve(db.session, sku_id=floor["skus"]["TEA"], quantity=8, order_id=None,
                          warehouse_id=floor["main"])  # fmt: skip
        db.session.commit()
    held = _create(app, floor, lines=(("TEA", 3, "A-01-01"),))
    with pytest.raises(inventory.InsufficientStock):
        _ship(app, held)
    assert _bin(app, floor, "A-01-01", "TEA") == 10
    assert level(app, floor["main"], floor["skus"]["TEA"]) == (10, 2)
    _invariants(app, floor)


def test_receiving_more_than_was_sent_needs_a_supervisor(app, floor):
    transfer_id = _create(app, floor)
    _ship(app, transfer_id)
    tea = floor["skus"]["TEA"]
    receiver = make_user(app, UserKind.WAREHOUSE, role="receiver").id
    supervisor = make_user(app, UserKind.WAREHOUSE, role="supervisor").id

    with pytest.raises(transfers.OverReceipt):
        _receive(app, transfer_id, {tea: 5})
    with pytest.raises(transfers.NotSupervisor):
        _receive(app, transfer_id, {tea: 5}, confirmer_id=receiver)
    assert level(app, floor["other"], tea) == (0, 0)

    assert _receive(app, transfer_id, {tea: 5}, confirmer_id=supervisor) == [(5, True, supervisor)]
    assert level(app, floor["other"], tea) == (5, 5)
    assert _status(app, transfer_id) == TransferStatus.RECEIVED
    _invariants(app, floor)


def test_an_item_not_on_the_transfer_and_a_draft_cannot_be_received(app, floor):
    transfer_id = _create(app, floor)
    with pytest.raises(transfers.TransferWrongStatus):
        _receive(app, transfer_id, {floor["skus"]["TEA"]: 1})
    _ship(app, transfer_id)
    with pytest.raises(transfers.NotOnTransfer):
        _receive(app, transfer_id, {floor["skus"]["CUP"]: 1})
    with pytest.raises(transfers.TransferWrongStatus):
        _ship(app, transfer_id)  # shipped once only
    assert level(app, floor["main"], floor["skus"]["TEA"]) == (6, 6)


def test_a_transfer_carries_one_shops_goods_from_named_bins(app, floor):
    other_shop = make_merchant(app)
    foreign = stocked_sku(app, other_shop, stock=0)
    with app.app_context(), acting_as(SYSTEM):
        with pytest.raises(ValidationFailed) as mixed:
            transfers.create_transfer(
                db.session, tenant_id=floor["shop"], from_warehouse_id=floor["main"],
                to_warehouse_id=floor["other"], lines=[(foreign, 1, floor["bins"]["A-01-01"])],
            )  # fmt: skip
        assert "one shop" in mixed.value.fields["lines"][0]
        with pytest.raises(ValidationFailed) as no_bin:
            transfers.create_transfer(
                db.session, tenant_id=floor["shop"], from_warehouse_id=floor["main"],
                to_warehouse_id=floor["other"], lines=[(floor["skus"]["TEA"], 1, floor["bins"]["B-01-01"])],
            )  # fmt: skip
        assert "bin of the source warehouse" in no_bin.value.fields["lines"][0]
        db.session.rollback()


def test_a_transfer_from_the_shops_own_warehouse_needs_no_bin(app, floor):
    with app.app_context(), acting_as(SYSTEM):
        own = inventory.default_warehouse(db.session, floor["shop"])
        inventory.receive(db.session, sku_id=floor["skus"]["CUP"], tenant_id=floor["shop"], quantity=3,
                          warehouse_id=own.id, reason="test")  # fmt: skip
        db.session.commit()
        own_id = own.id
    transfer_id = _create(app, floor, lines=(("CUP", 3, None),), source=own_id, target=floor["main"])
    _ship(app, transfer_id)
    assert level(app, own_id, floor["skus"]["CUP"]) == (0, 0)
    _receive(app, transfer_id, {floor["skus"]["CUP"]: 3})
    assert level(app, floor["main"], floor["skus"]["CUP"]) == (8, 8)
    _invariants(app, floor)


def test_two_receipts_racing_for_the_last_open_units_book_once(app, floor, postgres_only):
    transfer_id = _create(app, floor)
    _ship(app, transfer_id)
    tea = floor["skus"]["TEA"]

    def attempt(n):
        transfers.receive_transfer(db.session, transfer_id, {tea: 4}, actor_id=None)

    outcomes = race(app, 2, attempt, (transfers.TransferWrongStatus, transfers.OverReceipt))

    assert sorted(outcomes) == ["refused", "won"]
    assert level(app, floor["other"], tea) == (4, 4)
    with app.app_context():
        assert db.session.scalar(select(func.sum(TransferReceiptLine.quantity))) == 4
    _invariants(app, floor)


# --- pages ------------------------------------------------------------------------------------------------


def test_the_desk_creates_ships_and_prints_a_transfer(app, floor):
    desk = worker(app, "supervisor")
    form = {
        "shop": str(floor["shop"]),
        "from_warehouse_id": str(floor["main"]),
        "to_warehouse_id": str(floor["other"]),
        "sku_code": [floor["codes"]["TEA"], floor["codes"]["CUP"], ""],
        "quantity": ["4", "2", ""],
        "bin": ["platform-a-01-01", "A-01-02", ""],
        "note": "Rebalance",
    }
    response = desk.post("/wms/transfers/new", data=form)
    assert response.status_code == 302, response.text
    with app.app_context():
        transfer = db.session.scalar(select(Transfer))
        transfer_id, number = transfer.id, transfer.number
    assert response.headers["Location"].endswith(f"/wms/transfers/{transfer_id}")
    assert number in desk.get("/wms/transfers").text

    slip = desk.get(f"/wms/transfers/{transfer_id}/slip")
    assert slip.status_code == 200
    assert f'<svg role="img" aria-label="{number}" class="barcode"' in slip.text
    assert "@media print" in slip.text and "A-01-01" in slip.text

    response = desk.post(f"/wms/transfers/{transfer_id}/ship")
    assert response.status_code == 302
    assert _status(app, transfer_id) == TransferStatus.SHIPPED
    assert (_bin(app, floor, "A-01-01", "TEA"), _bin(app, floor, "A-01-02", "CUP")) == (6, 3)
    _invariants(app, floor)


def test_the_desk_names_an_unknown_bin_and_changes_nothing(app, floor):
    desk = worker(app, "supervisor")
    form = {
        "shop": str(floor["shop"]), "from_warehouse_id": str(floor["main"]),
        "to_warehouse_id": str(floor["other"]), "sku_code": [floor["codes"]["TEA"]], "quantity": ["4"],
        "bin": ["Z-99"],
    }  # fmt: skip
    response = desk.post("/wms/transfers/new", data=form)
    assert response.status_code == 422 and "No bin Z-99 in the source warehouse." in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0


def _scan(client, token: str, code: str, **extra):
    response = client.post(
        "/wms/transfers/receive/scan", data={"token": token, "code": code, **extra},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    match = TOKEN.search(response.text)
    return response, match.group(1) if match else None


def test_handheld_transfer_receipt_counts_a_double_scan_once_and_refuses_over(app, floor):
    transfer_id = _create(app, floor)
    _ship(app, transfer_id)
    with app.app_context():
        number = db.session.get(Transfer, transfer_id).number
    client = worker(app)
    assert client.post("/wms/transfers/receive/open", data={"transfer": number.lower()}).status_code == 302
    token = TOKEN.search(client.get("/wms/transfers/receive").text).group(1)
    tea = floor["codes"]["TEA"]

    first, next_token = _scan(client, token, "6900000000011", qty="3")
    again, _ = _scan(client, token, "6900000000011", qty="3")
    over, _ = _scan(client, next_token, tea, qty="2")
    wrong, _ = _scan(client, next_token, floor["codes"]["CUP"])

    assert f"{tea}: +3." in first.text
    assert "Already counted." in again.text
    assert over.status_code == 409
    assert f"{tea}: more than was sent on this transfer. A supervisor must confirm it." in over.text
    assert wrong.status_code == 422 and f"{floor['codes']['CUP']} is not on transfer {number}." in wrong.text
    response = client.post("/wms/transfers/receive/book", headers={"HX-Request": "true"})
    assert response.headers.get("HX-Redirect") == "/wms/transfers/receive", response.text
    again = client.post("/wms/transfers/receive/book", headers={"HX-Request": "true"})
    assert again.headers.get("HX-Redirect") == "/wms/transfers/receive"

    assert level(app, floor["other"], floor["skus"]["TEA"]) == (3, 3)
    assert _status(app, transfer_id) == TransferStatus.PARTIALLY_RECEIVED
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PutawayTask)) == 1
    _invariants(app, floor)


def test_a_supervisor_confirms_extra_units_on_the_handheld(app, floor):
    transfer_id = _create(app, floor)
    _ship(app, transfer_id)
    with app.app_context():
        number = db.session.get(Transfer, transfer_id).number
    client = worker(app, "supervisor")
    client.post("/wms/transfers/receive/open", data={"transfer": number})
    token = TOKEN.search(client.get("/wms/transfers/receive").text).group(1)

    response, _ = _scan(client, token, floor["codes"]["TEA"], qty="5", confirm="1")
    assert response.status_code == 200
    refused = client.post("/wms/transfers/receive/book", headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "A supervisor must confirm it." in refused.text
    booked = client.post("/wms/transfers/receive/book", data={"confirm": "1"}, headers={"HX-Request": "true"})
    assert booked.headers.get("HX-Redirect") == "/wms/transfers/receive"

    assert level(app, floor["other"], floor["skus"]["TEA"]) == (5, 5)
    assert _status(app, transfer_id) == TransferStatus.RECEIVED
    _invariants(app, floor)


def test_permissions_of_the_transfer_pages(app, floor):
    transfer_id = _create(app, floor)
    receiver = worker(app)
    assert receiver.get("/wms/transfers").status_code == 403
    assert receiver.get(f"/wms/transfers/{transfer_id}/slip").status_code == 403
    assert receiver.post(f"/wms/transfers/{transfer_id}/ship").status_code == 403
    assert receiver.get("/wms/transfers/receive").status_code == 200
    assert worker(app, "picker").get("/wms/transfers/receive").status_code == 403
    page = receiver.get("/wms/transfers/receive")
    assert 'name="viewport"' in page.text and "data-scan-focus" in page.text
