"""Property: whatever the warehouse does, in whatever order (orders paid, waves released, picks and short picks,
parcels checked and shipped, orders cancelled and their picked units put back, putaway), for every SKU of the
platform warehouse the on-hand stock equals the units located (bins + open putaway + picked not yet shipped)
and equals the sum of the stock-movement ledger."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from marketplace.catalog.models import Sku
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.errors import DomainError
from marketplace.extensions import db
from marketplace.fulfillment import outbound, outbound_queries, packing, putaway
from marketplace.fulfillment.models import Bin, PickTask, PutawayStatus, PutawayTask
from marketplace.fulfillment.pack_models import Parcel, ParcelLine, ParcelStatus
from marketplace.identity.models import UserKind
from marketplace.inventory.models import Warehouse
from marketplace.orders.drafts import OrderActor
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.services import cancel_order
from tests.factories import make_user
from tests.orders.order_helpers import place_paid, shopper_with_address
from tests.wms.flow_helpers import Floor, platform_floor, unreconciled

STEPS = ("order", "order", "release", "pick", "pick", "short", "pack", "missing", "cancel", "putaway")
ACTOR = OrderActor(None, "warehouse")


def _order(app, floor: Floor, shopper, address_id: int, data) -> None:
    sku = data.draw(st.sampled_from(sorted(floor.skus)))
    quantity = data.draw(st.integers(1, 3))
    with contextlib.suppress(DomainError):  # sold out: nothing was placed
        place_paid(app, shopper, address_id, [(floor.skus[sku], quantity)])


def _release(app, floor: Floor, _data) -> None:
    with contextlib.suppress(outbound.NothingToRelease):
        outbound.release_wave(db.session, db.session.get(Warehouse, floor.warehouse_id))


def _claim(picker_id: int) -> PickTask | None:
    for wave in db.session.scalars(select(outbound.Wave).order_by(outbound.Wave.id)):
        task = outbound.claim_next_task(db.session, wave, picker_id)
        if task is not None:
            return task
    return None


def _pick(picker_id: int, *, short: bool, data) -> None:
    task = _claim(picker_id)
    if task is None:
        return
    if short:
        found = data.draw(st.integers(0, task.quantity - 1))
        outbound.report_short(db.session, task, picker_id=picker_id, quantity_found=found, reason="not_found")
        return
    bin_ = db.session.get(Bin, task.bin_id)
    sku = db.session.get(Sku, task.sku_id)
    outbound.confirm_pick(
        db.session, task, picker_id=picker_id, bin_scan=bin_.code, item_scan=sku.code, token=f"t{task.id}"
    )


def _pack(floor: Floor, packer_id: int) -> None:
    warehouse = db.session.get(Warehouse, floor.warehouse_id)
    for ready in outbound_queries.ready_to_pack(db.session, floor.warehouse_id):
        try:
            parcel = packing.open_parcel(db.session, warehouse, ready.number, packer_id=packer_id)
        except packing.NothingPicked:
            continue
        order = db.session.get(Order, parcel.order_id)
        if order.status not in packing.SHIPPABLE:
            packing.return_to_stock(db.session, parcel)
            return
        for line in db.session.scalars(select(ParcelLine).where(ParcelLine.parcel_id == parcel.id)):
            if line.left:
                code = db.session.get(Sku, line.sku_id).code
                packing.check_item(db.session, parcel, code, quantity=line.left, token=f"c{line.id}")
        packing.finish_check(db.session, parcel)
        packing.weigh(db.session, parcel, 500, tolerance=packing.Tolerance(), confirmed=True)
        packing.choose_box(db.session, parcel, floor.box_id)
        packing.ship_parcel(db.session, parcel, carrier="顺丰速运", waybill_no=f"SF{parcel.id}", actor=ACTOR)
        return


def _missing(floor: Floor, packer_id: int, data) -> None:
    """Check part of a parcel, then a supervisor writes the rest off (refused when it would oversell)."""
    warehouse = db.session.get(Warehouse, floor.warehouse_id)
    for ready in outbound_queries.ready_to_pack(db.session, floor.warehouse_id):
        try:
            parcel = packing.open_parcel(db.session, warehouse, ready.number, packer_id=packer_id)
        except packing.NothingPicked:
            continue
        if parcel.status != ParcelStatus.CHECKING:
            continue
        line = db.session.scalars(select(ParcelLine).where(ParcelLine.parcel_id == parcel.id)).first()
        if line.left > 1:
            code = db.session.get(Sku, line.sku_id).code
            quantity = data.draw(st.integers(1, line.left - 1))
            packing.check_item(db.session, parcel, code, quantity=quantity, token=f"m{line.id}")
        with contextlib.suppress(DomainError), db.session.begin_nested():  # a refusal changes nothing
            packing.report_missing(db.session, parcel, actor_id=None)
        return


def _cancel(floor: Floor, data) -> None:
    orders = db.session.scalars(
        select(Order).where(Order.tenant_id == floor.shop_id, Order.status == OrderStatus.AWAITING_SHIPMENT)
    ).all()
    if not orders:
        return
    order = data.draw(st.sampled_from(orders))
    cancel_order(db.session, order, actor=ACTOR, reason="shopper changed their mind")
    for parcel in db.session.scalars(
        select(Parcel).where(Parcel.order_id == order.id, Parcel.status != ParcelStatus.SHIPPED)
    ):
        packing.return_to_stock(db.session, parcel)


def _put_away(floor: Floor) -> None:
    task = db.session.scalar(
        select(PutawayTask).where(
            PutawayTask.warehouse_id == floor.warehouse_id, PutawayTask.status == PutawayStatus.OPEN
        )
    )
    if task is not None:
        bin_ = db.session.get(Bin, floor.bins["A-02-01"])
        putaway.put_away(
            db.session, task.id, scanned_bin=bin_.code, quantity=task.open_quantity, actor_id=None
        )


@settings(
    max_examples=12,
    derandomize=True,  # the same examples on every run: CI is never red by chance
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_on_hand_stock_always_matches_the_bins_tasks_and_ledger(app, data):
    floor = platform_floor(app, units={"TEA": 6, "CUP": 4})
    shopper, address_id = shopper_with_address(app)
    picker = make_user(app, UserKind.WAREHOUSE, role="picker")
    steps = data.draw(st.lists(st.sampled_from(STEPS), min_size=4, max_size=14), label="steps")
    # Then the day's work to the end: every order released, picked, packed and shipped, all put away.
    drain = ["order", "release", *["pick"] * 8, *["pack"] * 8, *["putaway"] * 6]
    for step in [*steps, *drain]:
        if step == "order":
            _order(app, floor, shopper, address_id, data)
        else:
            with app.app_context(), acting_as(SYSTEM):
                {
                    "release": lambda: _release(app, floor, data),
                    "pick": lambda: _pick(picker.id, short=False, data=data),
                    "short": lambda: _pick(picker.id, short=True, data=data),
                    "pack": lambda: _pack(floor, picker.id),
                    "missing": lambda: _missing(floor, picker.id, data),
                    "cancel": lambda: _cancel(floor, data),
                    "putaway": lambda: _put_away(floor),
                }[step]()
                db.session.commit()
        assert unreconciled(app, floor.warehouse_id) == {}, step
    with app.app_context():
        shipped = db.session.scalar(
            select(func.count()).select_from(Parcel).where(Parcel.status == ParcelStatus.SHIPPED)
        )
    assert shipped >= 1  # the drain shipped at least the order it placed
