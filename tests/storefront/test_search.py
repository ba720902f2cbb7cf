"""Search: English words, Chinese substrings, sorting and paging, no results, "did you mean", suggestions, the log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.search.models import SearchLog
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client
from tests.storefront.catalog_helpers import make_brand, make_category, make_product

_CARD_TITLE = re.compile(r'<span class="title">(.*?)</span>')


def card_titles(html: str) -> list[str]:
    """Titles of the results (the listing form), not of the "you might like" cards of a no-result page."""
    start = html.find('<form id="listing"')
    return _CARD_TITLE.findall(html[start : html.index("</form>", start)]) if start >= 0 else []


def similar_titles(html: str) -> list[str]:
    start = html.find('id="similar-title"')
    return _CARD_TITLE.findall(html[start:]) if start >= 0 else []


@pytest.fixture
def catalogue(app):
    shop = make_merchant(app, "Green Hill Tea")
    tea = make_category(app, "茶叶", name_en="Tea")
    green = make_category(app, "绿茶", name_en="Green tea", parent=tea)
    oolong = make_category(app, "乌龙茶", name_en="Oolong", parent=tea)
    gadgets = make_category(app, "数码", name_en="Digital")
    brand = make_brand(app, "西湖", "West Lake")
    return {
        "longjing": make_product(app, shop, green, "西湖龙井绿茶", brand=brand, price=6800, sales_count=50),
        "biluochun": make_product(app, shop, green, "碧螺春 Biluochun", price=4800, sales_count=20),
        "tieguanyin": make_product(app, shop, oolong, "铁观音 Tieguanyin", price=9800, sales_count=80),
        "charger": make_product(app, shop, gadgets, "USB-C Charger 65W", price=9900, sales_count=5),
    }


@pytest.fixture
def browser(app):
    return english_client(app)


def test_search_finds_english_words_in_title_brand_and_category(browser, catalogue):
    assert card_titles(browser.get("/search?q=tieguanyin").text) == ["铁观音 Tieguanyin"]
    assert card_titles(browser.get("/search?q=OOLONG").text) == ["铁观音 Tieguanyin"]  # its category
    assert card_titles(browser.get("/search?q=west+lake").text) == ["西湖龙井绿茶"]  # its brand
    assert card_titles(browser.get("/search?q=green+tea").text) == ["西湖龙井绿茶", "碧螺春 Biluochun"]
    assert card_titles(browser.get("/search?q=usb-c+65w").text) == ["USB-C Charger 65W"]


def test_every_word_must_match(browser, catalogue):
    assert card_titles(browser.get("/search?q=tea+charger").text) == []


@pytest.mark.parametrize("query", ["龙井", "井绿", "西湖龙井绿茶", "湖龙井", "西湖 绿茶"])
def test_chinese_queries_find_any_substring_of_a_title(browser, catalogue, query):
    assert card_titles(browser.get(f"/search?q={query}").text) == ["西湖龙井绿茶"]


def test_one_chinese_character_finds_every_title_and_category_with_it(browser, catalogue):
    assert card_titles(browser.get("/search?q=龙").text) == ["铁观音 Tieguanyin", "西湖龙井绿茶"]  # 乌龙茶


def test_chinese_query_matches_the_products_category_name(browser, catalogue):
    assert card_titles(browser.get("/search?q=绿茶").text) == ["西湖龙井绿茶", "碧螺春 Biluochun"]
    # The whole category path is indexed: the parent 茶叶 finds every tea, whatever its own category.
    assert sorted(card_titles(browser.get("/search?q=茶叶").text)) == [
        "碧螺春 Biluochun",
        "西湖龙井绿茶",
        "铁观音 Tieguanyin",
    ]


def test_results_page_sorts_and_counts(browser, catalogue):
    page = browser.get("/search?q=tea&sort=price_desc").text  # every tea: "Tea" is their parent category
    assert "<h1>Results for “tea”</h1>" in page
    assert card_titles(page) == ["铁观音 Tieguanyin", "西湖龙井绿茶", "碧螺春 Biluochun"]
    assert '<p class="count">3 products</p>' in page
    assert '<input type="hidden" name="q" value="tea">' in page  # the sort form keeps the query
    assert '<option value="price_desc" selected>' in page


def test_results_paginate_with_load_more(app, browser):
    shop = make_merchant(app)
    category = make_category(app, "花茶", name_en="Flower tea")
    for n in range(26):
        make_product(app, shop, category, f"Jasmine {n:02d}", price=100 + n)
    first = browser.get("/search?q=jasmine&sort=price_asc").text
    assert len(card_titles(first)) == 24
    fragment = browser.get(
        "/search?q=jasmine&sort=price_asc&page=2", headers={"HX-Request": "true", "HX-Target": "more"}
    ).text
    assert _CARD_TITLE.findall(fragment) == ["Jasmine 24", "Jasmine 25"]


def test_no_results_page_says_so_and_offers_other_products(browser, catalogue):
    page = browser.get("/search?q=xyzzy").text
    assert "No products match “xyzzy”." in page
    assert card_titles(page) == []
    assert "You might like" in page  # the bestsellers
    assert similar_titles(page) == [
        "铁观音 Tieguanyin",
        "西湖龙井绿茶",
        "碧螺春 Biluochun",
        "USB-C Charger 65W",
    ]


def test_no_results_offers_products_sharing_a_word(browser, catalogue):
    page = browser.get("/search?q=oolong+xyzzy").text
    assert "No products match “oolong xyzzy”." in page
    assert similar_titles(page) == ["铁观音 Tieguanyin"]


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("tieguanyn", "tieguanyin"), ("biluochum", "biluochun"), ("西湖龙进", "西湖龙井")],
)
def test_a_typo_gets_a_did_you_mean(browser, catalogue, postgres_only, typo, suggestion):
    page = browser.get(f"/search?q={typo}").text
    assert f"No products match “{typo}”." in page
    match = re.search(r'Did you mean <a href="([^"]+)" class="suggestion">([^<]+)</a>\?', page)
    assert match is not None, page
    assert match.group(2) == suggestion
    assert card_titles(browser.get(match.group(1)).text)  # the suggestion finds something


def test_nonsense_gets_no_did_you_mean(browser, catalogue):
    assert "Did you mean" not in browser.get("/search?q=qqqqqqqq").text


@pytest.mark.parametrize("query", ["tea's & (x) | !", "'", "\\", "%_", "a:*", "<script>", "x" * 500, "   "])
def test_odd_queries_are_harmless(browser, catalogue, query):
    response = browser.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert "<script>" not in response.text.split("<main", 1)[1].split("</main>")[0].replace("<script>(", "")


def test_empty_search_page_invites_a_query(browser):
    page = browser.get("/search").text
    assert "<h1>Search</h1>" in page


def test_every_search_is_logged_with_its_result_count(app, browser, catalogue):
    shopper = make_user(app, UserKind.SHOPPER)
    member = english_client(app)
    login(member, shopper)

    browser.get("/search?q=Green++Tea")
    browser.get("/search?q=xyzzy")
    member.get("/search?q=龙井")
    browser.get("/search?q=tea&page=2", headers={"HX-Request": "true", "HX-Target": "more"})  # load more: no
    browser.get(
        "/search?q=tea&sort=newest", headers={"HX-Request": "true", "HX-Target": "listing"}
    )  # re-sort
    browser.get("/search/suggest?q=tea", headers={"HX-Request": "true"})  # type-ahead: no
    browser.get("/search?q=")  # nothing asked: no

    with app.app_context():
        rows = db.session.execute(
            select(SearchLog.query, SearchLog.tokens, SearchLog.result_count, SearchLog.user_id).order_by(
                SearchLog.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("Green Tea", "green tea", 2, None),
        ("xyzzy", "xyzzy", 0, None),
        ("龙井", "龙井", 1, shopper.id),
    ]


def test_suggestions_list_matching_titles_bestsellers_first(browser, catalogue):
    response = browser.get("/search/suggest?q=Tie", headers={"HX-Request": "true"})
    assert re.findall(r'<a href="/p/(\d+)">([^<]+)</a>', response.text) == [
        (str(catalogue["tieguanyin"]), "铁观音 Tieguanyin")
    ]
    assert '<a href="/search?q=Tie">All results for “Tie”</a>' in response.text
    assert "<html" not in response.text

    response = browser.get("/search/suggest?q=茶", headers={"HX-Request": "true"})
    assert re.findall(r'<a href="/p/\d+">([^<]+)</a>', response.text) == ["西湖龙井绿茶"]


def test_suggestions_for_nothing_are_empty(browser, catalogue):
    assert browser.get("/search/suggest?q=", headers={"HX-Request": "true"}).text.strip() == ""
    assert browser.get("/search/suggest?q=t", headers={"HX-Request": "true"}).text.strip() == ""


def test_suggestions_tolerate_typos_on_postgres(browser, catalogue, postgres_only):
    response = browser.get("/search/suggest?q=tieguanyn", headers={"HX-Request": "true"})
    assert re.findall(r'<a href="/p/\d+">([^<]+)</a>', response.text) == ["铁观音 Tieguanyin"]


def test_suggestions_without_htmx_are_a_page(browser, catalogue):
    page = browser.get("/search/suggest?q=tie").text
    assert "</html>" in page and "铁观音 Tieguanyin" in page


def test_the_header_has_the_search_box_with_type_ahead(browser):
    page = browser.get("/").text
    assert '<form class="site-search" role="search" method="get" action="/search">' in page
    assert 'hx-get="/search/suggest" hx-trigger="keyup changed delay:200ms, search"' in page
