"""End-to-end on a handheld (360 x 740): the supervisor releases a wave of the demo orders, picks them by
typing scans and pressing Enter (one wrong scan refused), then checks, weighs, packs and ships each at the
pack station; the shopper then sees the waybill. Skipped when Chromium is not installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from sqlalchemy import select  # noqa: E402

from marketplace.extensions import db  # noqa: E402
from marketplace.orders.models import Shipment  # noqa: E402

HANDHELD = {"width": 360, "height": 740}


def _scan(page, value: str) -> None:
    """What a keyboard-wedge scanner does: type into the focused field, then Enter."""
    page.keyboard.type(value)
    page.keyboard.press("Enter")


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= HANDHELD["width"], page.url


def _pick_everything(page) -> int:
    """Pick task after task from the screen; the first task gets a wrong bin scan first. Returns tasks picked."""
    page.goto("/wms/pick")
    with page.expect_navigation():
        page.click("text=Start the next pick")
    page.evaluate("window.__noReload = true")
    picked = 0
    while page.locator("#pick-bin").count():
        _fits(page)
        bin_code = page.inner_text("#pick-bin").strip()
        item = page.inner_text("#pick-item").split()[0]
        if picked == 0:
            _scan(page, "A-04-03" if bin_code != "A-04-03" else "A-04-02")
            page.wait_for_selector("#scan-result .scan-error")
            assert f"go to bin {bin_code}" in page.inner_text("#scan-result")
        _scan(page, bin_code)
        page.wait_for_selector(f"#scan-result .scan-ok:has-text('Bin {bin_code}. Now scan the item.')")
        before = page.locator("#pick-screen").element_handle()
        _scan(page, item)
        page.wait_for_function("(old) => !old.isConnected", arg=before)
        picked += 1
        assert page.evaluate("window.__noReload") is True  # the next task came in place
    assert "Nothing left to pick" in page.inner_text("#pick-screen")
    return picked


def _pack(page, number: str) -> str:
    page.goto("/wms/pack")
    page.click("input[name=scan]")
    _scan(page, number)
    page.wait_for_url(re.compile(r"/wms/pack/\d+$"))
    while page.locator("#check-area tbody tr:not(.done)").count():
        _fits(page)
        row = page.locator("#check-area tbody tr:not(.done)").first
        code = row.locator("td").first.inner_text().split()[0]
        checked, wanted = (int(n) for n in row.locator("td").nth(2).inner_text().split("/"))
        page.fill("input[name=quantity]", str(wanted - checked))
        page.click("input[name=scan]")
        _scan(page, code)
        page.wait_for_load_state("networkidle")
    page.wait_for_selector("input[name=weight]")
    expected = re.search(r"Expected ([\d.]+) kg", page.inner_text("main"))
    page.fill("input[name=weight]", expected.group(1) if expected else "0.5")
    for step in ("text=Record weight", "button:has-text('M ·')", "text=Issue an e-waybill and ship"):
        with page.expect_navigation():
            page.click(step)
        _fits(page)
    page.wait_for_selector(".scan-panel.scan-ok:has-text('Shipped with')")
    return re.search(r"(WB\d+)", page.inner_text(".scan-panel.scan-ok")).group(1)


@pytest.mark.parametrize("viewport", [HANDHELD])
def test_release_pick_check_weigh_pack_ship_on_a_handheld(app, browser, base_url, page, sign_in, viewport):
    sign_in(page, "wms", "supervisor@demo.test")
    page.goto("/wms/outbound")
    _fits(page)
    with page.expect_navigation():
        page.click("text=Release wave")
    page.wait_for_url(re.compile(r"/wms/outbound/waves/\d+$"))

    assert _pick_everything(page) == 2

    page.goto("/wms/pack")
    numbers = [b.inner_text().split(" ·")[0] for b in page.locator(".task-list button").all()]
    assert len(numbers) == 2
    waybills = [_pack(page, number) for number in numbers]

    with app.app_context():
        assert sorted(db.session.scalars(select(Shipment.waybill_no))) == sorted(waybills)

    shopper = browser.new_context(base_url=base_url, viewport=HANDHELD, locale="en-US").new_page()
    sign_in(shopper, "storefront", "shopper@demo.test")
    shopper.goto(f"/account/orders/{numbers[0]}")
    assert any(waybill in shopper.inner_text("main") for waybill in waybills)
    shopper.context.close()
