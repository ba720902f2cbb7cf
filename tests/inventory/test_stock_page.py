"""The merchant's stock page: per SKU per warehouse, inline htmx changes, refusals in the row, the tenant wall."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.identity.services import save_role
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement, Warehouse
from marketplace.inventory.services import platform_warehouse, reserve, set_on_hand
from marketplace.notifications.models import Notification
from tests.factories import login, make_merchant, make_user
from tests.jobs_helpers import run_jobs
from tests.page_helpers import english_client

HX = {"HX-Request": "true"}


def _product(app, shop, *, title: str, codes: list[str], stock: int = 10) -> dict[str, int]:
    """A product whose SKUs have ``stock`` units each in the shop's own warehouse: {code: sku id}."""
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name=f"Teas {title}")
        specs = [{"name": "Size", "values": [c for c in codes]}] if len(codes) > 1 else []
        product = create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(
                title=title,
                category_id=category.id,
                specs=specs,
                skus=[SkuInput({"Size": c} if specs else {}, c, 1200, stock=stock) for c in codes],
            ),
            actor_id=None,
        )
        db.session.commit()
        return {s.code: s.id for s in product.skus}


@pytest.fixture
def shop(app):
    return make_merchant(app, "Tea House")


@pytest.fixture
def owner(app, shop):
    return make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True, email="owner@tea.test")


@pytest.fixture
def browser(app, owner):
    client = english_client(app)
    assert login(client, owner).status_code == 302
    return client


@pytest.fixture
def skus(app, shop):
    return _product(app, shop, title="Green tea", codes=["GT-S", "GT-L"])


def _level(app, sku_id: int) -> tuple[int, int, int, int]:
    with app.app_context():
        level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == sku_id))
        return level.on_hand, level.reserved, level.available, level.low_stock_threshold


def _movements(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StockMovement))


def test_the_list_shows_each_sku_per_warehouse_and_filters(app, browser, shop, skus):
    _product(app, shop, title="Black tea", codes=["BT-1"], stock=2)
    with app.app_context(), acting_as(SYSTEM):
        reserve(db.session, sku_id=skus["GT-S"], quantity=3, order_id=1)
        db.session.commit()

    page = browser.get("/merchant/stock")
    assert page.status_code == 200
    assert all(code in page.text for code in ("GT-S", "GT-L", "BT-1"))
    row = page.text.split(f'id="stock-{skus["GT-S"]}-')[1].split("</tr>")[0]
    assert [int(n) for n in _cells(row, "num")[:3]] == [10, 3, 7]
    assert f"SHOP-{shop.id}" in row

    found = browser.get("/merchant/stock?q=black", headers=HX)
    assert "BT-1" in found.text and "GT-S" not in found.text

    browser.post(f"/merchant/stock/{skus['GT-L']}/threshold", data={"threshold": "12"}, headers=HX)
    low = browser.get("/merchant/stock?low=1")
    assert "GT-L" in low.text and "GT-S" not in low.text and "BT-1" not in low.text


def _cells(row: str, css: str) -> list[str]:
    import re

    return [
        re.sub(r"<[^>]+>", "", cell).split()[0]
        for cell in re.findall(rf'<td[^>]*class="{css}"[^>]*>(.*?)</td>', row, re.S)
    ]


def test_inline_set_answers_the_row_with_the_new_numbers_and_writes_the_ledger(app, browser, owner, skus):
    sku_id = skus["GT-S"]

    response = browser.post(f"/merchant/stock/{sku_id}/set", data={"on_hand": "25"}, headers=HX)

    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="stock-{sku_id}-')  # the row only, swapped in place
    assert "Stock saved." in response.text
    assert _cells(response.text, "num")[:3] == ["25", "0", "25"]
    assert _level(app, sku_id)[:3] == (25, 0, 25)
    with app.app_context():
        last = db.session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()
    assert (last.kind, last.on_hand_delta, last.actor_id) == (MovementKind.ADJUST, 15, owner.id)


def test_a_refused_change_shows_its_message_in_the_row_and_changes_nothing(app, browser, skus):
    sku_id = skus["GT-S"]
    with app.app_context(), acting_as(SYSTEM):
        reserve(db.session, sku_id=sku_id, quantity=4, order_id=1)
        db.session.commit()
    before, movements = _level(app, sku_id), _movements(app)

    below = browser.post(f"/merchant/stock/{sku_id}/set", data={"on_hand": "2"}, headers=HX)
    taken = browser.post(
        f"/merchant/stock/{sku_id}/adjust", data={"delta": "-7", "reason": "broken"}, headers=HX
    )
    no_reason = browser.post(
        f"/merchant/stock/{sku_id}/adjust", data={"delta": "5", "reason": " "}, headers=HX
    )
    not_a_number = browser.post(f"/merchant/stock/{sku_id}/set", data={"on_hand": "ten"}, headers=HX)

    message = "4 units of GT-S are reserved by open orders: stock on hand cannot go below that."
    assert below.status_code == 200 and message in html.unescape(below.text)
    assert 'class="field-error"' in below.text and 'value="2"' in below.text  # what was typed stays
    assert message in html.unescape(taken.text)
    assert "Give a reason for the correction." in no_reason.text
    assert "Stock must be a whole number" in not_a_number.text
    assert (_level(app, sku_id), _movements(app)) == (before, movements)


def test_adjust_with_a_reason_and_a_threshold_change_which_is_audited(app, browser, shop, owner, skus):
    sku_id = skus["GT-L"]

    adjusted = browser.post(
        f"/merchant/stock/{sku_id}/adjust", data={"delta": "-3", "reason": "tasting samples"}, headers=HX
    )
    threshold = browser.post(f"/merchant/stock/{sku_id}/threshold", data={"threshold": "8"}, headers=HX)

    assert "Correction saved." in adjusted.text
    assert "Threshold saved." in threshold.text and "Low" in threshold.text  # 7 available <= 8
    assert _level(app, sku_id) == (7, 0, 7, 8)
    with app.app_context():
        movement = db.session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "stock_levels.threshold"))
    assert (movement.on_hand_delta, movement.reason, movement.actor_id) == (-3, "tasting samples", owner.id)
    assert (entry.actor_id, entry.tenant_id) == (owner.id, shop.id)
    assert entry.changes["low_stock_threshold"] == [0, 8]
    assert "stock_levels.threshold" in browser.get("/merchant/audit").text


def test_without_htmx_a_change_flashes_and_goes_back(app, browser, skus):
    response = browser.post(
        f"/merchant/stock/{skus['GT-S']}/set", data={"on_hand": "4"}, headers={"Referer": "/merchant/stock"}
    )

    assert response.status_code == 302
    assert "Stock saved." in browser.get("/merchant/stock").text


def test_another_shops_sku_is_a_404_and_is_never_changed(app, browser, skus):
    other = make_merchant(app, "Coffee Corner")
    theirs = _product(app, other, title="Espresso", codes=["ESP-1"])["ESP-1"]
    before = _level(app, theirs)

    assert "ESP-1" not in browser.get("/merchant/stock").text
    assert browser.get(f"/merchant/stock/{theirs}").status_code == 404
    for action, data in (
        ("set", {"on_hand": "0"}),
        ("adjust", {"delta": "-5", "reason": "x"}),
        ("threshold", {"threshold": "3"}),
    ):
        assert browser.post(f"/merchant/stock/{theirs}/{action}", data=data, headers=HX).status_code == 404
    with app.app_context():
        their_warehouse = db.session.scalar(select(Warehouse.id).where(Warehouse.code == f"SHOP-{other.id}"))
    mine = skus["GT-S"]
    assert browser.get(f"/merchant/stock?warehouse={their_warehouse}").status_code == 404
    sneaky = browser.post(
        f"/merchant/stock/{mine}/set", data={"on_hand": "1", "warehouse_id": str(their_warehouse)}, headers=HX
    )
    assert sneaky.status_code == 404
    assert _level(app, theirs) == before
    assert _level(app, mine)[0] == 10


def test_a_sub_account_without_stock_edit_sees_stock_but_cannot_change_it(app, shop, skus):
    with app.app_context(), acting_as(SYSTEM):
        role = save_role(db.session, kind=UserKind.MERCHANT, name="Stock viewer", permissions=["stock.view"])
        db.session.commit()
        role_code = role.code
    clerk = make_user(app, UserKind.MERCHANT, tenant=shop, role=role_code)
    browser = english_client(app)
    login(browser, clerk)
    before = _level(app, skus["GT-S"])

    page = browser.get("/merchant/stock")
    refused = browser.post(f"/merchant/stock/{skus['GT-S']}/set", data={"on_hand": "0"}, headers=HX)

    assert page.status_code == 200 and "GT-S" in page.text
    assert "Set on hand" not in page.text  # no forms for what it may not do
    assert refused.status_code == 403
    assert _level(app, skus["GT-S"]) == before


def test_the_platform_warehouse_is_shown_but_its_quantities_are_not_the_shops_to_set(
    app, browser, shop, skus
):
    sku_id = skus["GT-S"]
    with app.app_context(), acting_as(SYSTEM):
        platform = platform_warehouse(db.session)
        set_on_hand(db.session, sku_id=sku_id, tenant_id=shop.id, quantity=30, warehouse_id=platform.id)
        db.session.commit()
        platform_id = platform.id

    page = browser.get(f"/merchant/stock?warehouse={platform_id}")
    refused = browser.post(
        f"/merchant/stock/{sku_id}/set", data={"on_hand": "0", "warehouse_id": str(platform_id)}, headers=HX
    )
    threshold = browser.post(
        f"/merchant/stock/{sku_id}/threshold",
        data={"threshold": "5", "warehouse_id": str(platform_id)},
        headers=HX,
    )

    assert f'id="stock-{sku_id}-{platform_id}"' in page.text and "GT-L" not in page.text
    assert "counted by the platform" in refused.text
    assert "Threshold saved." in threshold.text
    with app.app_context():
        level = db.session.scalar(select(StockLevel).where(StockLevel.warehouse_id == platform_id))
    assert (level.on_hand, level.low_stock_threshold) == (30, 5)


def test_the_ledger_page_lists_every_movement_and_the_low_stock_alert_links_to_it(app, browser, shop, skus):
    sku_id = skus["GT-S"]
    browser.post(f"/merchant/stock/{sku_id}/threshold", data={"threshold": "5"}, headers=HX)
    browser.post(f"/merchant/stock/{sku_id}/adjust", data={"delta": "-6", "reason": "gift boxes"}, headers=HX)
    run_jobs(app)

    with app.app_context():
        notice = db.session.scalar(select(Notification).where(Notification.kind == "low_stock"))
    assert notice is not None and notice.tenant_id == shop.id
    ledger = browser.get(notice.link)

    assert ledger.status_code == 200
    assert "gift boxes" in ledger.text and "merchant user" in ledger.text
    assert "Set / corrected" in ledger.text and "10 → 4" in ledger.text
    assert ledger.text.count('id="movement-') == 2  # the product's opening stock and the correction
