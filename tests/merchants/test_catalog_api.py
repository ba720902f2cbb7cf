"""The merchant API for products and SKUs: scopes, the tenant wall (404), field errors, the approval rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.catalog.models import Product, ProductRevision, ProductStatus, RevisionStatus, Sku
from marketplace.catalog.services import (
    ProductInput,
    SkuInput,
    approve_product,
    create_product,
    save_category,
    set_category_attributes,
    submit_product,
)
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.inventory.models import StockLevel, StockMovement
from marketplace.merchants.services import create_api_key
from tests.factories import make_merchant

ALL_SCOPES = ("catalog.view", "catalog.edit", "stock.edit")


def _key(app, shop, scopes=ALL_SCOPES) -> dict[str, str]:
    with app.app_context(), acting_as(SYSTEM):
        _, secret = create_api_key(
            db.session, tenant_id=shop.id, name="erp", scopes=list(scopes), created_by_id=None
        )
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _category(app) -> int:
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name="T恤", name_en="T-shirts")
        set_category_attributes(db.session, category, [{"name": "颜色", "values": ["红", "蓝"]}])
        db.session.commit()
        return category.id


def _product(
    app, shop, category_id, *, title="纯棉T恤", code="TEE", price=5900, approved=False, image=True
) -> int:
    """A colour product with two SKUs (<code>-R, <code>-B), 10 units each; approved (and listed) on request."""
    with app.app_context(), acting_as(SYSTEM):
        product = create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(
                title=title,
                category_id=category_id,
                specs=[{"name": "颜色", "values": ["红", "蓝"]}],
                skus=[
                    SkuInput({"颜色": "红"}, f"{code}-R", price, stock=10),
                    SkuInput({"颜色": "蓝"}, f"{code}-B", price, stock=10),
                ],
                images=[(f"img-{shop.id}-{code}", 800, 600)] if image else [],
            ),
            actor_id=None,
        )
        if approved:
            submit_product(db.session, product)
            approve_product(db.session, product, actor_id=None)
        db.session.commit()
        return product.id


def _sku_ids(app, product_id) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(Sku.code, Sku.id).where(Sku.product_id == product_id)).all())


NEW_PRODUCT = {
    "title": "亚麻衬衫 Linen shirt",
    "description_html": "<p>Cool <script>x()</script>linen</p>",
    "weight_g": 250,
    "specs": [{"name": "颜色", "values": ["红", "蓝"]}],
    "attributes": {"材质": "亚麻"},
    "tags": ["夏季"],
    "skus": [
        {"spec_values": {"颜色": "红"}, "code": "LIN-R", "price": 12900, "stock": 5},
        {"spec_values": {"颜色": "蓝"}, "code": "LIN-B", "price": 13900, "market_price": 19900},
    ],
}


@pytest.fixture
def shop(app):
    return make_merchant(app, "Key Shop")


@pytest.fixture
def category_id(app):
    return _category(app)


def test_create_returns_the_draft_with_its_skus_and_stock(app, client, shop, category_id):
    response = client.post(
        "/api/v1/products", json={**NEW_PRODUCT, "category_id": category_id}, headers=_key(app, shop)
    )

    assert response.status_code == 201, response.text
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/products/{body['id']}")
    assert {
        k: body[k] for k in ("title", "status", "is_listed", "category_id", "min_price", "max_price")
    } == {
        "title": "亚麻衬衫 Linen shirt",
        "status": "draft",
        "is_listed": False,
        "category_id": category_id,
        "min_price": 12900,
        "max_price": 13900,
    }
    assert body["description_html"] == "<p>Cool linen</p>"
    assert (body["tags"], body["attributes"], body["images"], body["pending_revision_id"]) == (
        ["夏季"],
        {"材质": "亚麻"},
        [],
        None,
    )
    assert [
        (s["code"], s["spec_values"], s["price"], s["market_price"], s["stock"]) for s in body["skus"]
    ] == [
        ("LIN-R", {"颜色": "红"}, 12900, None, {"on_hand": 5, "reserved": 0, "available": 5}),
        ("LIN-B", {"颜色": "蓝"}, 13900, 19900, {"on_hand": 0, "reserved": 0, "available": 0}),
    ]
    with app.app_context():
        product = db.session.get(Product, body["id"])
        assert (product.tenant_id, product.status) == (shop.id, ProductStatus.DRAFT)


def test_get_one_product_with_skus_and_stock(app, client, shop, category_id):
    product_id = _product(app, shop, category_id)

    response = client.get(f"/api/v1/products/{product_id}", headers=_key(app, shop, ("catalog.view",)))

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["title"], body["status"], body["images"]) == (
        product_id,
        "纯棉T恤",
        "draft",
        [{"key": f"img-{shop.id}-TEE", "width": 800, "height": 600}],
    )
    assert body["specs"] == [{"name": "颜色", "values": ["红", "蓝"]}]
    assert [(s["code"], s["price"], s["is_active"], s["stock"]) for s in body["skus"]] == [
        ("TEE-R", 5900, True, {"on_hand": 10, "reserved": 0, "available": 10}),
        ("TEE-B", 5900, True, {"on_hand": 10, "reserved": 0, "available": 10}),
    ]


def test_list_filters_and_walks_pages_with_the_cursor(app, client, shop, category_id):
    other = make_merchant(app, "Other Shop")
    first = _product(app, shop, category_id, title="Red tea", code="A")
    second = _product(app, shop, category_id, title="Green tea", code="B", approved=True)
    third = _product(app, shop, category_id, title="Tea cup", code="C")
    _product(app, other, category_id, title="Other tea", code="A")
    headers = _key(app, shop, ("catalog.view",))

    page1 = client.get("/api/v1/products?limit=2", headers=headers).get_json()
    page2 = client.get(f"/api/v1/products?limit=2&cursor={page1['next_cursor']}", headers=headers).get_json()

    assert [p["id"] for p in page1["items"]] == [third, second]
    assert page1["next_cursor"] == second
    assert ([p["id"] for p in page2["items"]], page2["next_cursor"]) == ([first], None)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/products?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.get_json()["items"]]

    assert ids("status=approved") == [second]
    assert ids("status=draft") == [third, first]
    assert ids("listed=true") == [second]
    assert ids("listed=false") == [third, first]
    assert ids("q=TEA") == [third, second, first]
    assert ids("q=green") == [second]
    assert ids("q=C-B") == [third]  # an exact SKU code
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert ids(f"updated_since={future.replace('+', '%2B')}") == []
    assert ids(f"updated_since={past.replace('+', '%2B')}") == [third, second, first]


def test_list_refuses_unknown_filters_values_with_field_errors(app, client, shop):
    response = client.get("/api/v1/products?status=sold&limit=500", headers=_key(app, shop))

    assert response.status_code == 422
    body = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert body["code"] == "validation_failed"
    assert set(body["errors"]) == {"status", "limit"}


def test_update_of_a_draft_applies_at_once(app, client, shop, category_id):
    product_id = _product(app, shop, category_id)

    response = client.patch(
        f"/api/v1/products/{product_id}",
        json={"title": "新标题 New title", "description_html": "<p>Soft</p>"},
        headers=_key(app, shop),
    )

    assert response.status_code == 200, response.text
    body = response.get_json()
    assert (body["title"], body["description_html"], body["status"]) == (
        "新标题 New title",
        "<p>Soft</p>",
        "draft",
    )
    assert [(s["code"], s["price"]) for s in body["skus"]] == [("TEE-R", 5900), ("TEE-B", 5900)]
    assert body["images"][0]["key"] == f"img-{shop.id}-TEE"  # fields left out keep their values


def test_price_or_title_change_of_an_approved_product_waits_for_review(app, client, shop, category_id):
    product_id = _product(app, shop, category_id, approved=True)
    headers = _key(app, shop)

    response = client.patch(
        f"/api/v1/products/{product_id}",
        json={
            "title": "降价 On sale",
            "skus": [
                {"spec_values": {"颜色": "红"}, "code": "TEE-R", "price": 4900},
                {"spec_values": {"颜色": "蓝"}, "code": "TEE-B", "price": 5900},
            ],
        },
        headers=headers,
    )

    assert response.status_code == 202, response.text
    body = response.get_json()
    assert (body["product_id"], body["status"]) == (product_id, "pending")
    revision_id = body["revision_id"]
    # A later change of the description alone applies at once and keeps the pending edit.
    later = client.patch(
        f"/api/v1/products/{product_id}", json={"description_html": "<p>New</p>"}, headers=headers
    )
    assert later.status_code == 202
    assert later.get_json()["revision_id"] != revision_id
    live = client.get(f"/api/v1/products/{product_id}", headers=headers).get_json()
    assert (live["title"], live["description_html"], live["min_price"]) == ("纯棉T恤", "<p>New</p>", 5900)
    assert live["pending_revision_id"] == later.get_json()["revision_id"]
    with app.app_context():
        revisions = db.session.scalars(select(ProductRevision).order_by(ProductRevision.id)).all()
        assert [r.status for r in revisions] == [RevisionStatus.WITHDRAWN, RevisionStatus.PENDING]
        assert revisions[1].data["title"] == "降价 On sale"
        assert [s["price"] for s in revisions[1].data["skus"]] == [4900, 5900]


def test_submit_sends_a_draft_for_review(app, client, shop, category_id):
    product_id = _product(app, shop, category_id)
    bare_id = _product(app, shop, category_id, code="BARE", image=False)
    headers = _key(app, shop)

    response = client.post(f"/api/v1/products/{product_id}/submit", headers=headers)
    again = client.post(f"/api/v1/products/{product_id}/submit", headers=headers)
    bare = client.post(f"/api/v1/products/{bare_id}/submit", headers=headers)

    assert response.status_code == 200
    assert response.get_json()["status"] == "pending"
    assert (again.status_code, again.get_json()["code"]) == (409, "product.invalid_transition")
    assert (bare.status_code, bare.get_json()["code"]) == (422, "product.incomplete")
    with app.app_context():
        assert db.session.get(Product, bare_id).status is ProductStatus.DRAFT


def test_stock_update_sets_on_hand_and_writes_a_movement(app, client, shop, category_id):
    product_id = _product(app, shop, category_id)
    sku_id = _sku_ids(app, product_id)["TEE-R"]

    response = client.put(
        f"/api/v1/skus/{sku_id}/stock", json={"on_hand": 7}, headers=_key(app, shop, ("stock.edit",))
    )

    assert response.status_code == 200, response.text
    assert response.get_json() == {"sku_id": sku_id, "on_hand": 7, "reserved": 0, "available": 7}
    with app.app_context():
        movement = db.session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()
        assert (movement.sku_id, movement.on_hand_delta, movement.reason) == (sku_id, -3, "api")


def test_price_update_of_a_draft_applies_and_of_an_approved_product_waits(app, client, shop, category_id):
    draft_id = _product(app, shop, category_id, code="D")
    approved_id = _product(app, shop, category_id, code="L", approved=True)
    headers = _key(app, shop)

    draft = client.put(
        f"/api/v1/skus/{_sku_ids(app, draft_id)['D-R']}/price", json={"price": 4500}, headers=headers
    )
    listed = client.put(
        f"/api/v1/skus/{_sku_ids(app, approved_id)['L-R']}/price", json={"price": 4500}, headers=headers
    )

    assert draft.status_code == 200, draft.text
    assert (draft.get_json()["code"], draft.get_json()["price"]) == ("D-R", 4500)
    assert listed.status_code == 202, listed.text
    with app.app_context():
        prices = dict(db.session.execute(select(Sku.code, Sku.price)).all())
        assert (prices["D-R"], prices["D-B"], prices["L-R"]) == (4500, 5900, 5900)
        revision = db.session.get(ProductRevision, listed.get_json()["revision_id"])
        assert revision.status is RevisionStatus.PENDING
        assert [(s["code"], s["price"]) for s in revision.data["skus"]] == [("L-R", 4500), ("L-B", 5900)]
        assert db.session.get(Product, draft_id).min_price == 4500


def test_a_key_without_the_scope_is_forbidden(app, client, shop, category_id):
    product_id = _product(app, shop, category_id)
    sku_id = _sku_ids(app, product_id)["TEE-R"]
    read_only = _key(app, shop, ("catalog.view",))
    shop_only = _key(app, shop, ("shop.view",))

    answers = [
        client.get("/api/v1/products", headers=shop_only),
        client.get(f"/api/v1/products/{product_id}", headers=shop_only),
        client.post("/api/v1/products", json={"title": "x"}, headers=read_only),
        client.patch(f"/api/v1/products/{product_id}", json={"title": "x"}, headers=read_only),
        client.post(f"/api/v1/products/{product_id}/submit", headers=read_only),
        client.put(f"/api/v1/skus/{sku_id}/stock", json={"on_hand": 1}, headers=read_only),
        client.put(
            f"/api/v1/skus/{sku_id}/price", json={"price": 1}, headers=_key(app, shop, ("stock.edit",))
        ),
    ]

    assert [(r.status_code, r.get_json()["code"]) for r in answers] == [(403, "permission_denied")] * 7
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.title, product.status, product.min_price) == ("纯棉T恤", ProductStatus.DRAFT, 5900)


def test_another_shops_product_and_sku_are_404_and_unchanged(app, client, shop, category_id):
    product_id = _product(app, shop, category_id, approved=True)
    sku_id = _sku_ids(app, product_id)["TEE-R"]
    intruder = _key(app, make_merchant(app, "Intruder"))

    answers = [
        client.get(f"/api/v1/products/{product_id}", headers=intruder),
        client.patch(f"/api/v1/products/{product_id}", json={"title": "Mine now"}, headers=intruder),
        client.post(f"/api/v1/products/{product_id}/submit", headers=intruder),
        client.put(f"/api/v1/skus/{sku_id}/stock", json={"on_hand": 0}, headers=intruder),
        client.put(f"/api/v1/skus/{sku_id}/price", json={"price": 1}, headers=intruder),
    ]
    listing = client.get("/api/v1/products", headers=intruder).get_json()

    assert [(r.status_code, r.get_json()["code"]) for r in answers] == [(404, "not_found")] * 5
    assert listing == {"items": [], "next_cursor": None}
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.title, product.min_price) == ("纯棉T恤", 5900)
        assert db.session.scalar(select(StockLevel.on_hand).where(StockLevel.sku_id == sku_id)) == 10
        assert db.session.scalar(select(func.count()).select_from(ProductRevision)) == 0


def test_invalid_bodies_are_422_with_field_errors_and_save_nothing(app, client, shop, category_id):
    headers = _key(app, shop)
    _product(app, shop, category_id, code="TAKEN")

    shape = client.post(
        "/api/v1/products",
        json={"category_id": "7", "skus": [{"code": "", "price": 12.5}], "colour": "red"},
        headers=headers,
    )
    rules = client.post(
        "/api/v1/products",
        json={
            "title": "Shirt",
            "category_id": 999999,
            "specs": [{"name": "颜色", "values": ["红", "蓝"]}],
            "skus": [{"spec_values": {"颜色": "红"}, "code": "TAKEN-R", "price": 100}],
        },
        headers=headers,
    )
    stock = client.put("/api/v1/skus/1/stock", json={"on_hand": -1}, headers=headers)

    assert shape.status_code == 422
    body = shape.get_json()
    assert (body["code"], shape.mimetype) == ("validation_failed", "application/problem+json")
    assert body["errors"] == {
        "title": ["Missing data for required field."],
        "category_id": ["Not a valid integer."],
        "skus.0.code": ["Length must be between 1 and 64."],
        "skus.0.price": ["Not a valid integer."],
        "colour": ["Unknown field."],
    }
    assert rules.status_code == 422
    errors = rules.get_json()["errors"]
    assert set(errors) == {"category_id", "skus"}
    assert "Every spec combination needs exactly one SKU row." in errors["skus"]
    assert "SKU code TAKEN-R is already used in this shop." in errors["skus"]
    assert (stock.status_code, stock.get_json()["errors"]) == (
        422,
        {"on_hand": ["Must be greater than or equal to 0."]},
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == 1


def test_domain_sku_row_errors_use_dotted_field_names(app, client, shop, category_id):
    product_id = _product(app, shop, category_id)

    response = client.patch(
        f"/api/v1/products/{product_id}",
        json={
            "skus": [
                {"spec_values": {"颜色": "红"}, "code": "SAME", "price": 100},
                {"spec_values": {"颜色": "蓝"}, "code": "SAME", "price": 100},
            ]
        },
        headers=_key(app, shop),
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "skus.0": ["SKU codes must differ."],
        "skus.1": ["SKU codes must differ."],
    }


def test_openapi_documents_the_catalogue_resources(client):
    spec = client.get("/api/openapi.json").get_json()

    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/products"])
    assert {"get", "patch"} <= set(paths["/api/v1/products/{product_id}"])
    assert "post" in paths["/api/v1/products/{product_id}/submit"]
    assert "put" in paths["/api/v1/skus/{sku_id}/stock"] and "put" in paths["/api/v1/skus/{sku_id}/price"]
    assert paths["/api/v1/products"]["get"]["summary"] == "List the shop's products, newest first."
    assert {"200", "202"} <= set(paths["/api/v1/skus/{sku_id}/price"]["put"]["responses"])
    assert "ProductCreate" in spec["components"]["schemas"]
