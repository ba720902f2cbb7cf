"""The product page: gallery, price, spec choice against stock, details, reviews placeholder; and /media."""

from __future__ import annotations

import re

import pytest

from marketplace.catalog.models import Product
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from tests.factories import make_merchant
from tests.page_helpers import english_client
from tests.storefront.catalog_helpers import make_brand, make_category, make_product

SPECS = [{"name": "颜色", "values": ["黑", "白", "灰"]}, {"name": "尺码", "values": ["M", "L"]}]
# 黑 only in M, 白 only in L, 灰 not at all.
STOCK = {("黑", "M"): 3, ("黑", "L"): 0, ("白", "M"): 0, ("白", "L"): 2, ("灰", "M"): 0, ("灰", "L"): 0}


@pytest.fixture
def shop(app):
    return make_merchant(app, "Geek Digital")


@pytest.fixture
def hoodie(app, shop):
    category = make_category(app, "卫衣", name_en="Hoodies")
    brand = make_brand(app, "极客", "Geek")
    return make_product(
        app, shop, category, "极客卫衣 Geek hoodie", brand=brand, specs=SPECS,
        price=lambda c: 19900 if c["尺码"] == "M" else 21900,
        stock=lambda c: STOCK[(c["颜色"], c["尺码"])],
        attributes={"材质": "棉 Cotton"}, images=3,
        description_html="<p>Warm <b>and</b> soft.</p>",
    )  # fmt: skip


@pytest.fixture
def browser(app):
    return english_client(app)


def _options(html: str) -> list[tuple[str, str]]:
    """(value, state) of each spec button: selected, available, dimmed (needs another choice), or disabled."""
    found = []
    for tag, attrs, label in re.findall(r'<(a|button) ([^>]*class="spec-option[^>]*)>(.*?)</\1>', html, re.S):
        value = label.split("<")[0].strip()
        if tag == "button":
            found.append((value, "disabled"))
        elif "selected" in attrs:
            found.append((value, "selected"))
        else:
            found.append((value, "dimmed" if "secondary" in attrs else "available"))
    return found


def test_product_page_shows_everything_a_shopper_needs(app, browser, hoodie, shop):
    page = browser.get(f"/p/{hoodie}").text

    assert "<h1>极客卫衣 Geek hoodie</h1>" in page
    assert "<strong>¥199.00 – ¥219.00</strong>" in page
    assert f'Sold by <a href="/shop/{shop.slug}">Geek Digital</a>' in page
    assert '<a href="/c/' in page and ">Hoodies</a>" in page  # breadcrumb
    assert "<p>Warm <b>and</b> soft.</p>" in page  # the sanitised description, as HTML
    assert '<th scope="row">材质</th><td>棉 Cotton</td>' in page
    assert '<th scope="row">Brand</th><td>Geek</td>' in page
    assert _options(page) == [
        ("黑", "available"),
        ("白", "available"),
        ("灰", "disabled"),
        ("M", "available"),
        ("L", "available"),
    ]
    assert "Choose 颜色 / 尺码." in page
    assert f'hx-get="/p/{hoodie}/reviews" hx-trigger="load" hx-swap="outerHTML"' in page
    assert "No reviews yet." in page
    assert "Shoppers who bought this also bought" in page
    assert "Recommendations appear here once shoppers have ordered this product." in page
    with app.app_context():
        keys = [image.key for image in db.session.get(Product, hoodie).images]
    assert f'<img id="main-image" src="/media/{keys[0]}/medium"' in page
    assert [f"/media/{key}/thumb" for key in keys] == re.findall(r'<img src="(/media/\w+/thumb)"', page)


def test_choosing_specs_updates_price_and_stock(browser, hoodie):
    page = browser.get(f"/p/{hoodie}?颜色=黑").text
    assert _options(page) == [
        ("黑", "selected"),
        ("白", "available"),
        ("灰", "disabled"),
        ("M", "available"),
        ("L", "dimmed"),
    ]
    assert "<strong>¥199.00 – ¥219.00</strong>" in page
    assert "Choose 尺码." in page

    page = browser.get(f"/p/{hoodie}?颜色=黑&尺码=M").text
    assert "<strong>¥199.00</strong>" in page
    assert '<span class="badge badge-ok">In stock</span> Only 3 left' in page

    page = browser.get(f"/p/{hoodie}?颜色=黑&尺码=L").text  # reachable by URL only: L is dimmed for 黑
    assert "<strong>¥219.00</strong>" in page
    assert '<span class="badge badge-bad">Out of stock</span>' in page


def test_spec_buttons_link_to_the_next_choice(browser, hoodie):
    page = browser.get(f"/p/{hoodie}?颜色=黑").text
    links = {label: url for url, label in re.findall(r'hx-get="(/p/\d+[^"]*)"[^>]*>([^<]+)</a>', page)}
    assert links["黑"] == f"/p/{hoodie}"  # a chosen value is unchosen
    assert links["白"] == f"/p/{hoodie}?%E9%A2%9C%E8%89%B2=%E7%99%BD"
    assert links["M"] == f"/p/{hoodie}?%E9%A2%9C%E8%89%B2=%E9%BB%91&amp;%E5%B0%BA%E7%A0%81=M"
    assert links["L"] == f"/p/{hoodie}?%E5%B0%BA%E7%A0%81=L"  # 黑/L is out of stock: start again from L


def test_buy_box_fragment_for_htmx(browser, hoodie):
    response = browser.get(
        f"/p/{hoodie}?颜色=黑&尺码=M", headers={"HX-Request": "true", "HX-Target": "buy-box"}
    )
    assert response.text.lstrip().startswith('<div id="buy-box" class="buy-box">')
    assert "<html" not in response.text
    assert "<strong>¥199.00</strong>" in response.text


def test_unknown_spec_values_are_ignored(browser, hoodie):
    page = browser.get(f"/p/{hoodie}?颜色=紫&尺码=M&other=1").text
    assert _options(page)[3] == ("M", "selected")
    assert "Choose 颜色." in page


def test_a_product_without_specs_shows_its_stock_at_once(app, browser, shop):
    category = make_category(app, "充电器", name_en="Chargers")
    in_stock = make_product(app, shop, category, "65W charger", price=9900, stock=50)
    sold_out = make_product(app, shop, category, "20W charger", price=4900, stock=0)

    page = browser.get(f"/p/{in_stock}").text
    assert "<strong>¥99.00</strong>" in page and '<span class="badge badge-ok">In stock</span>' in page
    assert "Only" not in page
    assert '<span class="badge badge-bad">Out of stock</span>' in browser.get(f"/p/{sold_out}").text


def test_a_product_whose_skus_are_all_out_of_stock_is_sold_out(app, browser, shop):
    category = make_category(app, "手机壳", name_en="Cases")
    product = make_product(
        app, shop, category, "Case", specs=[{"name": "颜色", "values": ["红", "蓝"]}], stock=0
    )
    page = browser.get(f"/p/{product}").text
    assert _options(page) == [("红", "disabled"), ("蓝", "disabled")]
    assert '<span class="badge badge-bad">Sold out</span>' in page


def test_rating_is_shown_when_there_are_ratings(app, browser, hoodie):
    from sqlalchemy import update

    with app.app_context(), acting_as(SYSTEM):
        db.session.execute(update(Product).where(Product.id == hoodie).values(rating_count=4, rating_sum=18))
        db.session.commit()
    page = browser.get(f"/p/{hoodie}").text
    assert '★ 4.5</span> <small class="muted">4 ratings</small>' in page


# --- /media ---------------------------------------------------------------------------------------


def test_media_serves_images_with_long_cache_headers(app, browser, hoodie):
    with app.app_context():
        key = db.session.get(Product, hoodie).images[0].key
    for path in (f"/media/{key}", f"/media/{key}/thumb", f"/media/{key}/medium"):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "image/jpeg"
        assert response.data.startswith(b"\xff\xd8\xff")
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert response.cache_control.public and response.cache_control.immutable
    etag = browser.get(f"/media/{key}").headers["ETag"]
    assert browser.get(f"/media/{key}", headers={"If-None-Match": etag}).status_code == 304


def test_media_answers_404_for_unknown_keys_and_variants(app, browser, hoodie):
    with app.app_context():
        key = db.session.get(Product, hoodie).images[0].key
    for path in (
        "/media/0123456789abcdef0123456789abcdef",
        f"/media/{key}/huge",
        "/media/..%2F..%2Fsecret",
        f"/media/{key}.jpg",
    ):
        assert browser.get(path).status_code == 404, path
