"""Products with SKUs from specs, the approval workflow, pending edits, and the merchant's tenant wall."""

from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.catalog.models import Product, ProductRevision, ProductStatus, RevisionStatus, Sku
from marketplace.catalog.specs import combinations, spec_key
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.inventory.models import StockLevel, StockMovement
from tests.catalog.products_helpers import make_category, png, product_form
from tests.factories import login, make_merchant, make_user


def test_specs_make_one_sku_per_combination():
    specs = [{"name": "颜色", "values": ["红", "蓝", "红"]}, {"name": "尺码", "values": ["M", " L ", ""]}]

    combos = combinations(specs)

    assert combos == [
        {"颜色": "红", "尺码": "M"},
        {"颜色": "红", "尺码": "L"},
        {"颜色": "蓝", "尺码": "M"},
        {"颜色": "蓝", "尺码": "L"},
    ]
    assert spec_key({"尺码": "M", "颜色": "红"}) == spec_key({"颜色": "红", "尺码": "M"})
    assert combinations([]) == [{}]


def _owner(app):
    shop = make_merchant(app)
    return shop, make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)


def _create(client, category_id, **extra) -> int:
    data = product_form(category_id, **extra)
    data["new_images"] = (png(), "tee.png")
    response = client.post("/merchant/products/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    return int(re.search(r"/merchant/products/(\d+)", response.headers["Location"]).group(1))


def test_merchant_creates_a_draft_with_skus_stock_and_a_clean_description(app, client):
    category = make_category(app)
    shop, owner = _owner(app)
    login(client, owner)

    product_id = _create(client, category.id)

    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.status, product.is_listed, product.tenant_id) == (ProductStatus.DRAFT, False, shop.id)
        assert sorted(s.code for s in product.skus) == ["TEE-红-L", "TEE-红-M", "TEE-蓝-L", "TEE-蓝-M"]
        assert {s.price for s in product.skus} == {5900}
        assert (product.min_price, product.max_price) == (5900, 5900)
        assert "<script>" not in product.description_html and "<b>cotton</b>" in product.description_html
        assert len(product.images) == 1
        levels = db.session.scalars(select(StockLevel)).all()
        assert sorted((lv.on_hand, lv.available) for lv in levels) == [(10, 10)] * 4
        assert db.session.query(StockMovement).count() == 4


def test_bad_input_shows_field_messages_and_saves_nothing(app, client):
    category = make_category(app)
    _, owner = _owner(app)
    login(client, owner)

    response = client.post(
        "/merchant/products/new",
        data=product_form(category.id, title="", price="abc", **{"sku-1-code": "TEE-红-M"}),
    )

    assert response.status_code == 422
    assert "Enter an amount like 12.50." in response.text or "12.50" in response.text
    with app.app_context():
        assert db.session.query(Product).count() == 0


def test_duplicate_sku_codes_are_refused(app, client):
    category = make_category(app)
    _, owner = _owner(app)
    login(client, owner)

    response = client.post(
        "/merchant/products/new", data=product_form(category.id, **{"sku-1-code": "TEE-红-M"})
    )

    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(Sku).count() == 0


def _approve(app, client_admin, product_id):
    response = client_admin.post(f"/admin/catalog/products/{product_id}/approve")
    assert response.status_code == 302


def test_submit_approve_lists_the_product(app, client):
    category = make_category(app)
    _, owner = _owner(app)
    login(client, owner)
    product_id = _create(client, category.id)
    assert client.post(f"/merchant/products/{product_id}/submit").status_code == 302

    admin = app.test_client()
    login(admin, make_user(app, UserKind.STAFF))
    queue = admin.get("/admin/catalog/approvals")
    assert "纯棉T恤 Cotton tee" in queue.text
    _approve(app, admin, product_id)

    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.status, product.is_listed) == (ProductStatus.APPROVED, True)
        assert "纯棉" in product.search_tokens.split() and "cotton" in product.search_tokens.split()


def test_reject_needs_a_reason_and_tells_the_merchant(app, client):
    category = make_category(app)
    _, owner = _owner(app)
    login(client, owner)
    product_id = _create(client, category.id)
    client.post(f"/merchant/products/{product_id}/submit")
    admin = app.test_client()
    login(admin, make_user(app, UserKind.STAFF))

    admin.post(f"/admin/catalog/products/{product_id}/reject", data={"reason": ""})
    with app.app_context():
        assert db.session.get(Product, product_id).status is ProductStatus.PENDING
    admin.post(f"/admin/catalog/products/{product_id}/reject", data={"reason": "Blurry images"})

    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.status, product.rejection_reason) == (ProductStatus.REJECTED, "Blurry images")
    assert "Blurry images" in client.get(f"/merchant/products/{product_id}").text


def _approved_product(app, client):
    category = make_category(app)
    _, owner = _owner(app)
    login(client, owner)
    product_id = _create(client, category.id)
    client.post(f"/merchant/products/{product_id}/submit")
    admin = app.test_client()
    login(admin, make_user(app, UserKind.STAFF))
    _approve(app, admin, product_id)
    return category, product_id, admin


def _kept_images(app, product_id) -> list[str]:
    with app.app_context():
        product = db.session.get(Product, product_id)
        return [f"{i.key}:{i.width}:{i.height}" for i in product.images]


def test_editing_a_listed_products_title_and_price_waits_for_approval(app, client):
    category, product_id, admin = _approved_product(app, client)
    images = _kept_images(app, product_id)

    response = client.post(
        f"/merchant/products/{product_id}",
        data={**product_form(category.id, title="新款T恤 New tee", price="49.00"), "image": images},
    )

    assert response.status_code == 302
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.title, product.min_price, product.is_listed) == ("纯棉T恤 Cotton tee", 5900, True)
        revision = db.session.scalar(select(ProductRevision))
        assert revision.status is RevisionStatus.PENDING
        revision_id = revision.id
    review = admin.get(f"/admin/catalog/revisions/{revision_id}")
    assert "新款T恤 New tee" in review.text and "纯棉T恤 Cotton tee" in review.text
    assert "¥59.00" in review.text and "¥49.00" in review.text

    assert admin.post(f"/admin/catalog/revisions/{revision_id}/approve").status_code == 302
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.title, product.min_price) == ("新款T恤 New tee", 4900)
        assert db.session.get(ProductRevision, revision_id).status is RevisionStatus.APPROVED


def test_rejected_edit_leaves_the_approved_version_on_sale(app, client):
    category, product_id, admin = _approved_product(app, client)
    client.post(
        f"/merchant/products/{product_id}",
        data={**product_form(category.id, title="Spam title"), "image": _kept_images(app, product_id)},
    )
    with app.app_context():
        revision_id = db.session.scalar(select(ProductRevision.id))

    admin.post(f"/admin/catalog/revisions/{revision_id}/reject", data={"reason": "Misleading title"})

    with app.app_context():
        assert db.session.get(Product, product_id).title == "纯棉T恤 Cotton tee"
    assert "Misleading title" in client.get(f"/merchant/products/{product_id}").text


def test_description_and_stock_of_a_listed_product_change_at_once(app, client):
    category, product_id, _admin = _approved_product(app, client)

    client.post(
        f"/merchant/products/{product_id}",
        data={
            **product_form(category.id, description_html="<p>Now 100% cotton</p>", **{"sku-0-stock": "3"}),
            "image": _kept_images(app, product_id),
        },
    )

    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product.description_html == "<p>Now 100% cotton</p>"
        assert db.session.query(ProductRevision).count() == 0
        sku = next(s for s in product.skus if s.code == "TEE-红-M")
        assert db.session.scalar(select(StockLevel.on_hand).where(StockLevel.sku_id == sku.id)) == 3


def test_merchant_cannot_open_or_change_another_shops_product(app, client):
    category = make_category(app)
    _, owner_a = _owner(app)
    other = app.test_client()
    _, owner_b = _owner(app)
    login(other, owner_b)
    product_id = _create(other, category.id)
    login(client, owner_a)

    assert client.get(f"/merchant/products/{product_id}").status_code == 404
    assert (
        client.post(
            f"/merchant/products/{product_id}", data=product_form(category.id, title="Hijack")
        ).status_code
        == 404
    )
    assert client.post(f"/merchant/products/{product_id}/submit").status_code == 404
    assert client.post(f"/merchant/products/{product_id}/list").status_code == 404
    assert "纯棉T恤" not in client.get("/merchant/products").text
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.title, product.status) == ("纯棉T恤 Cotton tee", ProductStatus.DRAFT)


def test_only_staff_with_catalog_approve_can_approve(app, client):
    category = make_category(app)
    _, owner = _owner(app)
    login(client, owner)
    product_id = _create(client, category.id)
    client.post(f"/merchant/products/{product_id}/submit")
    finance = app.test_client()
    login(finance, make_user(app, UserKind.STAFF, role="finance"))

    assert client.post(f"/admin/catalog/products/{product_id}/approve").status_code == 302  # to admin login
    assert finance.post(f"/admin/catalog/products/{product_id}/approve").status_code == 403
    with app.app_context():
        assert db.session.get(Product, product_id).status is ProductStatus.PENDING


def test_unlist_and_list_again(app, client):
    _category, product_id, _admin = _approved_product(app, client)

    client.post(f"/merchant/products/{product_id}/unlist")
    with app.app_context():
        assert db.session.get(Product, product_id).is_listed is False
    client.post(f"/merchant/products/{product_id}/list")
    with app.app_context():
        assert db.session.get(Product, product_id).is_listed is True


def test_a_pending_edit_stays_in_the_editor_and_survives_the_next_save(app, client):
    category, product_id, _admin = _approved_product(app, client)
    images = _kept_images(app, product_id)
    client.post(
        f"/merchant/products/{product_id}",
        data={**product_form(category.id, title="Pending title"), "image": images},
    )

    editor = client.get(f"/merchant/products/{product_id}")
    assert 'value="Pending title"' in editor.text
    client.post(
        f"/merchant/products/{product_id}",
        data={**product_form(category.id, title="Pending title", **{"sku-0-stock": "7"}), "image": images},
    )

    with app.app_context():
        pending = db.session.scalars(
            select(ProductRevision).where(ProductRevision.status == RevisionStatus.PENDING)
        ).all()
        assert [r.data["title"] for r in pending] == ["Pending title"]
        assert db.session.get(Product, product_id).title == "纯棉T恤 Cotton tee"
