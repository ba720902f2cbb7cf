"""Home, category, shop and product pages: what shoppers see, filters, sorting, htmx fragments, visibility."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from marketplace.catalog.models import Product
from marketplace.catalog.services import unlist_product
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.merchants.models import Merchant
from marketplace.merchants.services import reopen_merchant, suspend_merchant
from tests.factories import make_merchant
from tests.page_helpers import english_client
from tests.storefront.catalog_helpers import make_brand, make_category, make_product

_CARD_TITLE = re.compile(r'<span class="title">(.*?)</span>')


def card_titles(html: str) -> list[str]:
    return _CARD_TITLE.findall(html)


@pytest.fixture
def shop(app):
    return make_merchant(app, "Green Hill Tea")


@pytest.fixture
def catalogue(app, shop):
    """A small tea and headphones catalogue; ids by short name."""
    tea = make_category(app, "茶叶", name_en="Tea")
    green = make_category(app, "绿茶", name_en="Green tea", parent=tea)
    oolong = make_category(app, "乌龙茶", name_en="Oolong", parent=tea)
    digital = make_category(app, "数码", name_en="Digital")
    phones = make_category(app, "耳机", name_en="Headphones", parent=digital)
    west_lake = make_brand(app, "西湖", "West Lake")
    sound = make_brand(app, "声悦", "SoundJoy")
    weights = [{"name": "规格", "values": ["100g", "250g"]}]
    ids = {
        "longjing": make_product(
            app, shop, green, "西湖龙井绿茶 Longjing", brand=west_lake, specs=weights,
            price=lambda c: 6800 if c["规格"] == "100g" else 15800, attributes={"产地": "杭州"}, sales_count=50,
            description_html="<p>Picked <b>before Qingming</b>.</p>",
        ),
        "biluochun": make_product(
            app, shop, green, "碧螺春 Biluochun green tea", price=4800, attributes={"产地": "苏州"}, sales_count=20
        ),
        "tieguanyin": make_product(app, shop, oolong, "铁观音 Tieguanyin Oolong Tea", price=9800, sales_count=80),
        "headphones": make_product(
            app, shop, phones, "声悦 Wireless Headphones", brand=sound,
            specs=[{"name": "颜色", "values": ["黑", "白"]}], price=29900,
            stock=lambda c: 5 if c["颜色"] == "黑" else 0, sales_count=10, images=2,
        ),
    }  # fmt: skip
    return {"tea": tea, "green": green, "oolong": oolong, "digital": digital, "phones": phones,
            "west_lake": west_lake, "sound": sound, **ids}  # fmt: skip


@pytest.fixture
def browser(app):
    return english_client(app)


# --- home ---------------------------------------------------------------------------------------


def test_home_shows_hero_categories_bestsellers_and_new_arrivals(browser, catalogue):
    page = browser.get("/").text

    assert "<h1>Welcome to the marketplace</h1>" in page
    nav = page[page.index('class="category-nav"') : page.index('id="bestsellers-title"')]
    assert re.findall(r'<a href="/c/(\d+)"[^>]*>([^<]+)</a>', nav) == [
        (str(catalogue["tea"].id), "Tea"),
        (str(catalogue["green"].id), "Green tea"),
        (str(catalogue["oolong"].id), "Oolong"),
        (str(catalogue["digital"].id), "Digital"),
        (str(catalogue["phones"].id), "Headphones"),
    ]
    bestsellers = page[page.index('id="bestsellers-title"') : page.index('id="arrivals-title"')]
    assert card_titles(bestsellers) == [
        "铁观音 Tieguanyin Oolong Tea",
        "西湖龙井绿茶 Longjing",
        "碧螺春 Biluochun green tea",
        "声悦 Wireless Headphones",
    ]
    arrivals = page[page.index('id="arrivals-title"') :]
    assert card_titles(arrivals)[0] == "声悦 Wireless Headphones"  # listed last, shown first
    assert "from ¥68.00" in bestsellers and "¥98.00" in bestsellers and "80 sold" in bestsellers


def test_home_in_chinese_uses_chinese_category_names(app, catalogue):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = client.get("/").text
    assert ">茶叶</a>" in page and ">绿茶</a>" in page and ">Tea</a>" not in page


def test_empty_home_says_nothing_is_on_sale(browser):
    page = browser.get("/").text
    assert "No products are on sale yet." in page
    assert 'class="category-nav"' not in page


# --- category pages -------------------------------------------------------------------------------


def test_category_page_lists_its_subtree_by_sales(browser, catalogue):
    page = browser.get(f"/c/{catalogue['tea'].id}").text

    assert "<h1>Tea</h1>" in page
    assert card_titles(page) == [
        "铁观音 Tieguanyin Oolong Tea",
        "西湖龙井绿茶 Longjing",
        "碧螺春 Biluochun green tea",
    ]
    assert '<p class="count">3 products</p>' in page
    assert f'<a href="/c/{catalogue["green"].id}">Green tea</a>' in page  # subcategory chips
    assert f'<a href="/c/{catalogue["oolong"].id}">Oolong</a>' in page


def test_leaf_category_shows_its_path_and_only_its_products(browser, catalogue):
    page = browser.get(f"/c/{catalogue['green'].id}").text
    assert card_titles(page) == ["西湖龙井绿茶 Longjing", "碧螺春 Biluochun green tea"]
    assert f'<li><a href="/c/{catalogue["tea"].id}">Tea</a></li>' in page
    assert '<li aria-current="page">Green tea</li>' in page


def test_unknown_category_is_404(browser, catalogue):
    assert browser.get("/c/999999").status_code == 404


def test_filter_by_brand(browser, catalogue):
    page = browser.get(f"/c/{catalogue['tea'].id}?brand={catalogue['west_lake'].id}").text
    assert card_titles(page) == ["西湖龙井绿茶 Longjing"]
    assert f'name="brand" value="{catalogue["west_lake"].id}" checked' in page


def test_filter_by_several_brands_takes_any_of_them(browser, catalogue):
    url = f"/c/{catalogue['tea'].id}?brand={catalogue['west_lake'].id}&brand={catalogue['sound'].id}"
    assert card_titles(browser.get(url).text) == ["西湖龙井绿茶 Longjing"]
    url = f"/?brand={catalogue['sound'].id}"  # the home page has no filters: the argument changes nothing
    assert browser.get(url).status_code == 200


def test_filter_by_price_range_in_yuan(browser, catalogue):
    page = browser.get(f"/c/{catalogue['tea'].id}?min_price=50&max_price=70.5").text
    assert card_titles(page) == ["西湖龙井绿茶 Longjing"]  # lowest price ¥68; ¥48 and ¥98 are outside
    assert 'name="min_price" value="50.00"' in page and 'name="max_price" value="70.50"' in page


def test_price_bounds_typed_the_wrong_way_round_are_swapped_and_junk_is_ignored(browser, catalogue):
    assert card_titles(browser.get(f"/c/{catalogue['tea'].id}?min_price=70&max_price=50").text) == [
        "西湖龙井绿茶 Longjing"
    ]
    assert len(card_titles(browser.get(f"/c/{catalogue['tea'].id}?min_price=abc&max_price=-3").text)) == 3


def test_filter_by_spec_and_attribute_values(browser, catalogue):
    tea = catalogue["tea"].id
    assert card_titles(browser.get(f"/c/{tea}?f.产地=杭州").text) == ["西湖龙井绿茶 Longjing"]
    assert card_titles(browser.get(f"/c/{tea}?f.产地=杭州&f.产地=苏州").text) == [
        "西湖龙井绿茶 Longjing",
        "碧螺春 Biluochun green tea",
    ]
    assert card_titles(browser.get(f"/c/{tea}?f.规格=250g").text) == ["西湖龙井绿茶 Longjing"]
    assert card_titles(browser.get(f"/c/{tea}?f.规格=250g&f.产地=苏州").text) == []


def test_facets_offer_the_values_found_in_the_result(browser, catalogue):
    page = browser.get(f"/c/{catalogue['tea'].id}").text
    facets = page[page.index('id="facets"') : page.index('class="results"')]
    assert re.findall(r'name="f\.([^"]+)" value="([^"]+)"', facets) == [
        ("产地", "杭州"),
        ("产地", "苏州"),
        ("规格", "100g"),
        ("规格", "250g"),
    ]
    assert re.findall(r'name="brand" value="(\d+)"', facets) == [str(catalogue["west_lake"].id)]

    narrowed = browser.get(f"/c/{catalogue['tea'].id}?f.产地=苏州").text
    facets = narrowed[narrowed.index('id="facets"') : narrowed.index('class="results"')]
    assert re.findall(r'name="f\.([^"]+)" value="([^"]+)"', facets) == [("产地", "苏州")]
    assert 'value="苏州" checked' in facets


def test_no_match_says_so_with_a_way_back(browser, catalogue):
    page = browser.get(f"/c/{catalogue['tea'].id}?min_price=1000").text
    assert "No products match these filters." in page
    assert f'<a href="/c/{catalogue["tea"].id}">Clear filters</a>' in page


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("sales", ["铁观音 Tieguanyin Oolong Tea", "西湖龙井绿茶 Longjing", "碧螺春 Biluochun green tea"]),
        (
            "price_asc",
            ["碧螺春 Biluochun green tea", "西湖龙井绿茶 Longjing", "铁观音 Tieguanyin Oolong Tea"],
        ),
        (
            "price_desc",
            ["铁观音 Tieguanyin Oolong Tea", "西湖龙井绿茶 Longjing", "碧螺春 Biluochun green tea"],
        ),
        ("newest", ["铁观音 Tieguanyin Oolong Tea", "碧螺春 Biluochun green tea", "西湖龙井绿茶 Longjing"]),
        ("bogus", ["铁观音 Tieguanyin Oolong Tea", "西湖龙井绿茶 Longjing", "碧螺春 Biluochun green tea"]),
    ],
)
def test_sorting(browser, catalogue, sort, expected):
    page = browser.get(f"/c/{catalogue['tea'].id}?sort={sort}").text
    assert card_titles(page) == expected
    assert f'<option value="{sort if sort != "bogus" else "sales"}" selected>' in page


def test_filter_change_through_htmx_returns_the_listing_form_only(browser, catalogue):
    response = browser.get(
        f"/c/{catalogue['tea'].id}?sort=price_asc&f.产地=杭州",
        headers={"HX-Request": "true", "HX-Target": "listing"},
    )
    assert response.text.lstrip().startswith('<form id="listing"')
    assert "<html" not in response.text
    assert card_titles(response.text) == ["西湖龙井绿茶 Longjing"]
    assert 'hx-push-url="true"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_load_more_pages_through_htmx(app, browser, shop):
    category = make_category(app, "红茶", name_en="Black tea")
    for n in range(30):
        make_product(app, shop, category, f"Black tea no. {n:02d}", price=1000 + n, images=1)
    first = browser.get(f"/c/{category.id}?sort=price_asc").text
    assert card_titles(first) == [f"Black tea no. {n:02d}" for n in range(24)]
    assert '<p class="count">30 products</p>' in first
    more = re.search(r'<li id="more" class="more">.*?hx-get="([^"]+)"', first, re.S).group(1)
    assert more == f"/c/{category.id}?sort=price_asc&amp;page=2"

    fragment = browser.get(
        more.replace("&amp;", "&"), headers={"HX-Request": "true", "HX-Target": "more"}
    ).text

    assert card_titles(fragment) == [f"Black tea no. {n:02d}" for n in range(24, 30)]
    assert fragment.lstrip().startswith("<li>") and "<html" not in fragment
    assert 'id="more"' not in fragment  # the last page
    assert "products</p>" not in fragment


def test_category_page_runs_a_handful_of_queries_whatever_the_page_size(app, browser, shop):
    category = make_category(app, "白茶", name_en="White tea")
    for n in range(26):
        make_product(app, shop, category, f"White tea {n}", specs=[{"name": "规格", "values": ["A", "B"]}])
    with app.app_context():
        engine = db.engine

    def selects() -> list[str]:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert browser.get(f"/c/{category.id}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    # the category and its subtree, the page, its covers, then the brands (which give the count) and the facets...
    assert len(selects()) == 6
    # ... which come from the cache for a while
    assert len(selects()) == 4


def test_filter_options_are_cached_briefly(app, browser, catalogue, shop):
    tea = f"/c/{catalogue['tea'].id}"
    assert 'value="云南"' not in browser.get(tea).text
    make_product(app, shop, catalogue["green"], "Yunnan green tea", price=5000, attributes={"产地": "云南"})

    page = browser.get(tea).text
    assert "Yunnan green tea" in card_titles(page)  # the products and their count are never stale...
    assert '<p class="count">4 products</p>' in page
    assert 'value="云南"' not in page  # ... the filter options may be, for a minute

    cache_seconds, app.config["STOREFRONT_CACHE_SECONDS"] = app.config["STOREFRONT_CACHE_SECONDS"], 0
    try:
        assert 'name="f.产地" value="云南"' in browser.get(tea).text
    finally:
        app.config["STOREFRONT_CACHE_SECONDS"] = cache_seconds


# --- shop pages -------------------------------------------------------------------------------------


def test_shop_page_lists_its_products_in_the_shops_order(app, browser, catalogue, shop):
    from marketplace.catalog.services import reorder_products

    with app.app_context(), acting_as(SYSTEM):
        order = [
            catalogue["biluochun"],
            catalogue["headphones"],
            catalogue["longjing"],
            catalogue["tieguanyin"],
        ]
        reorder_products(db.session, tenant_id=shop.id, ordered_ids=order)
        db.session.commit()
    other = make_merchant(app, "Gadget Town")
    make_product(app, other, catalogue["phones"], "Other shop's earbuds")

    page = browser.get("/shop/" + shop.slug).text

    assert "<h1>Green Hill Tea</h1>" in page
    assert card_titles(page) == [
        "碧螺春 Biluochun green tea",
        "声悦 Wireless Headphones",
        "西湖龙井绿茶 Longjing",
        "铁观音 Tieguanyin Oolong Tea",
    ]
    assert '<option value="shop" selected>' in page
    assert browser.get("/shop/no-such-shop").status_code == 404


# --- what never shows ------------------------------------------------------------------------------


def test_suspended_shops_products_disappear_everywhere_until_it_reopens(app, browser, catalogue, shop):
    product_id = catalogue["longjing"]
    with app.app_context(), acting_as(SYSTEM):
        suspend_merchant(db.session, db.session.get(Merchant, shop.id), reason="Fake goods")
        db.session.commit()

    assert card_titles(browser.get("/").text) == []
    assert card_titles(browser.get(f"/c/{catalogue['tea'].id}").text) == []
    assert card_titles(browser.get("/search?q=longjing").text) == []
    assert browser.get(f"/p/{product_id}").status_code == 404
    assert browser.get(f"/shop/{shop.slug}").status_code == 404

    with app.app_context(), acting_as(SYSTEM):
        reopen_merchant(db.session, db.session.get(Merchant, shop.id))
        db.session.commit()
    assert len(card_titles(browser.get(f"/c/{catalogue['tea'].id}").text)) == 3
    assert browser.get(f"/p/{product_id}").status_code == 200


def test_unlisted_and_unapproved_products_never_appear(app, browser, catalogue, shop):
    pending = make_product(app, shop, catalogue["green"], "Pending green tea", approve=False)
    draft = make_product(app, shop, catalogue["green"], "Draft green tea", images=0)
    with app.app_context(), acting_as(SYSTEM):
        unlist_product(db.session, db.session.get(Product, catalogue["biluochun"]))
        db.session.commit()

    for path in ["/", f"/c/{catalogue['green'].id}", "/search?q=green+tea", f"/shop/{shop.slug}"]:
        titles = card_titles(browser.get(path).text)
        assert not {"Pending green tea", "Draft green tea", "碧螺春 Biluochun green tea"} & set(titles), path
    for product_id in (pending, draft, catalogue["biluochun"]):
        assert browser.get(f"/p/{product_id}").status_code == 404
    assert browser.get("/p/999999").status_code == 404


def test_out_of_range_numbers_in_urls_are_not_errors(browser, catalogue):
    huge = "9" * 30
    assert browser.get(f"/p/{huge}").status_code == 404
    assert browser.get(f"/c/{huge}").status_code == 404
    tea = f"/c/{catalogue['tea'].id}"
    for query in (
        f"brand={huge}",
        "min_price=Infinity",
        "max_price=NaN",
        f"min_price={huge}",
        "page=" + huge,
    ):
        assert browser.get(f"{tea}?{query}").status_code == 200, query
