"""Every page of every portal renders for the people it is meant for, in both languages."""

from __future__ import annotations

import pytest
from flask import Flask

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.identity.services import add_ip_rule, save_role
from marketplace.merchants.services import create_api_key, suspend_merchant
from tests.factories import LOGIN_PATHS, login, make_merchant, make_user

PORTAL_OF = {
    UserKind.STAFF: "admin",
    UserKind.MERCHANT: "merchant",
    UserKind.WAREHOUSE: "wms",
    UserKind.SHOPPER: "storefront",
}
# Pages that send a signed-in user on to the portal's home instead of showing a form.
SIGNED_IN_REDIRECTS = {
    "admin.login": "/admin/",
    "merchant.login": "/merchant/",
    "wms.login": "/wms/",
    "storefront.login": "/",
    "storefront.register": "/",
}
# htmx endpoints that answer with a piece of a page, not a whole one.
FRAGMENTS = {"merchant.product_spec_fields", "merchant.notifications_badge"}
LOCALES = ["zh_Hans", "en"]


def _pages(app: Flask, portal: str) -> dict[str, str]:
    """Path → endpoint of every GET route of ``portal`` that takes no URL parameters."""
    return {
        rule.rule: rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{portal}.") and "GET" in rule.methods and not rule.arguments
    }


def _populate(app: Flask) -> dict[UserKind, User]:
    """One account of each kind, with something on the lists their pages show."""
    shop, closed_shop = make_merchant(app, "Tea House"), make_merchant(app, "Closed Shop")
    people = {
        UserKind.STAFF: make_user(app, UserKind.STAFF),
        UserKind.MERCHANT: make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True),
        UserKind.WAREHOUSE: make_user(app, UserKind.WAREHOUSE, role="supervisor"),  # every WMS page is theirs
        UserKind.SHOPPER: make_user(app, UserKind.SHOPPER),
    }
    make_user(app, UserKind.MERCHANT, tenant=shop, role="operator")
    with app.app_context(), acting_as(SYSTEM):
        create_api_key(db.session, tenant_id=shop.id, name="ERP", scopes=["shop.view"], created_by_id=None)
        save_role(db.session, kind=UserKind.STAFF, name="Auditors", permissions=["audit.view"])
        add_ip_rule(db.session, cidr="127.0.0.0/8", note="local", current_ip="127.0.0.1", created_by_id=None)
        suspend_merchant(db.session, db.session.merge(closed_shop), reason="Fake goods")
        db.session.commit()
    return people


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "kind", [UserKind.STAFF, UserKind.MERCHANT, UserKind.WAREHOUSE, UserKind.SHOPPER], ids=lambda k: k.value
)
def test_every_page_of_the_portal_renders_for_its_user(app, client, kind, locale):
    user = _populate(app)[kind]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale.replace("_", "-")
    assert login(client, user).status_code == 302
    pages = _pages(app, PORTAL_OF[kind])

    responses = {path: client.get(path) for path in sorted(pages)}

    assert {path: r.status_code for path, r in responses.items()} == {
        path: 302 if endpoint in SIGNED_IN_REDIRECTS else 200 for path, endpoint in pages.items()
    }
    for path, response in responses.items():
        if response.status_code == 302:
            assert response.headers["Location"] == SIGNED_IN_REDIRECTS[pages[path]], path
        elif path.endswith(".csv"):  # a download, not a page
            assert response.mimetype == "text/csv", path
        else:
            assert response.mimetype == "text/html", path
            assert ("</html>" in response.text) is (pages[path] not in FRAGMENTS), path


def test_each_portal_has_pages_to_walk(app):
    """Guards the walk above: a renamed blueprint would otherwise make it pass on nothing."""
    counts = {portal: len(_pages(app, portal)) for portal in PORTAL_OF.values()}

    assert all(count >= 4 for count in counts.values()), counts


@pytest.mark.parametrize("kind", list(PORTAL_OF), ids=lambda k: k.value)
def test_anonymous_visitors_see_public_pages_and_are_sent_to_login_elsewhere(app, client, kind):
    pages = _pages(app, PORTAL_OF[kind])
    login_path = LOGIN_PATHS[kind]

    statuses = {path: client.get(path) for path in sorted(pages)}

    for path, response in statuses.items():
        assert response.status_code in (200, 302), path
        if response.status_code == 302:
            assert response.headers["Location"].startswith(f"{login_path}?next="), path
    assert statuses[login_path].status_code == 200


@pytest.mark.parametrize("path", ["/no-such-page", "/admin/no-such-page", "/merchant/no/such/page"])
def test_unknown_page_is_an_html_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>404</h1>" in response.text


def test_unknown_api_path_is_problem_json_404(client):
    response = client.get("/api/v1/no-such-resource")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert (response.json["status"], response.json["code"]) == (404, "not_found")


def test_api_docs_and_openapi_document_are_served(client):
    docs = client.get("/api/docs")
    spec = client.get("/api/openapi.json")

    assert docs.status_code == 200
    assert docs.mimetype == "text/html"
    assert spec.status_code == 200
    assert spec.json["openapi"] == "3.0.3"
    assert spec.json["info"]["title"] == "Marketplace merchant API"
    assert "/api/v1/shop" in spec.json["paths"]


def test_health_check_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"]["ok"] is True
