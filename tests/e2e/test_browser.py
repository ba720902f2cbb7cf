"""End-to-end: the portals in a real browser (Chromium via Playwright), against the app on a live port.

Skipped as a whole when Debian's Chromium is not installed. Fixtures: tests/e2e/conftest.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from flask_babel import force_locale, gettext  # noqa: E402

from marketplace.identity.models import UserKind  # noqa: E402
from tests.factories import make_user  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")


def _translated(app, text: str, locale: str) -> str:
    """What the app's catalogue says for ``text`` (robust to the catalogues being edited)."""
    with app.test_request_context("/"), force_locale(locale):
        return gettext(text)


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}])
def test_picker_signs_in_on_a_handheld_without_horizontal_scrolling(page, sign_in, viewport):
    page.goto("/wms/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    submit = page.locator("main form button[type=submit]").bounding_box()
    assert submit and submit["height"] >= 44, "touch target of the sign-in button is too small"

    sign_in(page, "wms", "picker@demo.test")

    assert urlsplit(page.url).path == "/wms/"
    assert "拣货员 Picker" in page.inner_text("main h1")  # the home screen greets the picker by name
    assert page.locator(".topbar").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_admin_staff_search_updates_the_table_with_htmx_and_htmx_posts_carry_csrf(app, page, sign_in):
    make_user(app, UserKind.STAFF, email="ops.lead@example.test", role="operations")
    sign_in(page, "admin", "admin@demo.test")
    page.click("nav.subnav a[href='/admin/staff']")
    page.wait_for_url("**/admin/staff")
    rows = page.locator("#user-table tbody a[href*='/admin/users/']")
    assert rows.count() == 2
    page.evaluate("window.__e2eMarker = 'no full reload'")

    with page.expect_response(
        lambda r: "/admin/staff?" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.fill("input[name=q]", "ops.lead")
    page.wait_for_function(
        "document.querySelectorAll(\"#user-table tbody a[href*='/admin/users/']\").length === 1"
    )
    assert rows.first.inner_text() == "ops.lead@example.test"
    assert parse_qs(urlsplit(page.url).query) == {"q": ["ops.lead"]}  # hx-push-url
    assert page.evaluate("window.__e2eMarker") == "no full reload"

    # A POST made by htmx carries the X-CSRFToken header from <body hx-headers> and is accepted ...
    token = page.get_attribute("meta[name=csrf-token]", "content")
    page.evaluate(
        """() => {
          const button = document.createElement('button');
          button.id = 'e2e-htmx-post';
          button.type = 'button';
          button.setAttribute('hx-post', '/lang/en');
          button.setAttribute('hx-swap', 'none');
          button.textContent = 'htmx POST';
          document.querySelector('main').appendChild(button);
          htmx.process(button);
        }"""
    )
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/lang/en")) as posted:
        page.click("#e2e-htmx-post")
    request = posted.value
    assert request.headers.get("hx-request") == "true"
    assert token and request.headers.get("x-csrftoken") == token
    response = request.response()
    assert response is not None and response.status == 302  # the language switch redirects: accepted
    assert page.evaluate("window.__e2eMarker") == "no full reload"
    # ... while the same POST without the header is refused, so the check above means something.
    assert page.evaluate("fetch('/lang/en', {method: 'POST'}).then(r => r.status)") == 400


def test_merchant_api_key_secret_is_shown_once(page, sign_in):
    sign_in(page, "merchant", "merchant@demo.test")
    page.goto("/merchant/api-keys")
    assert page.locator("#new-secret").count() == 0

    page.fill("input[name=name]", "ERP connector")
    page.check("input[name=scopes][value='shop.view']")
    with page.expect_navigation():
        page.click("main form:has(input[name=scopes]) button[type=submit]")

    secret = page.inner_text("#new-secret").strip()
    assert re.fullmatch(r"mk_[0-9a-f]{12}_\S{20,}", secret), secret
    prefix = secret.split("_")[1]
    assert page.locator("table code", has_text=f"mk_{prefix}_").count() == 1

    page.goto("/merchant/api-keys")  # come back (a fresh GET): the secret is gone for good
    assert page.locator("#new-secret").count() == 0
    assert secret not in page.content()
    assert page.locator("table td", has_text="ERP connector").count() == 1
    assert page.locator("table code", has_text=f"mk_{prefix}_").count() == 1


def test_footer_language_switch_changes_the_visible_text(app, page):
    english = _translated(app, "Welcome to the marketplace", "en")
    chinese = _translated(app, "Welcome to the marketplace", "zh_Hans")
    assert CJK.search(chinese), "the Chinese catalogue has no translation for the storefront title"

    page.goto("/")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("main h1") == english

    with page.expect_navigation():
        page.click("footer.site-footer button[type=submit]")
    assert urlsplit(page.url).path == "/"
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("main h1") == chinese
    assert page.inner_text("footer.site-footer button") == "English"

    with page.expect_navigation():
        page.click("footer.site-footer button[type=submit]")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("main h1") == english
    assert not CJK.search(page.inner_text("header.topbar"))
    assert page.inner_text("footer.site-footer button") == "中文"
