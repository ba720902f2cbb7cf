"""Merchant API keys: created in the portal and shown once, hashed at rest, scoped, revocable."""

from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.merchants.models import ApiKey
from marketplace.merchants.services import create_api_key, revoke_api_key
from tests.factories import login, make_merchant, make_user


def _key(app, shop, scopes=("shop.view",)):
    with app.app_context(), acting_as(SYSTEM):
        key, secret = create_api_key(
            db.session, tenant_id=shop.id, name="erp", scopes=list(scopes), created_by_id=None
        )
        db.session.commit()
        return key, secret


def test_owner_creates_a_key_that_is_shown_once_and_stored_hashed(app, client):
    shop = make_merchant(app)
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    login(client, owner)

    response = client.post("/merchant/api-keys", data={"name": "ERP", "scopes": ["shop.view"]})

    assert response.status_code == 200
    secret = re.search(r'id="new-secret">(mk_[^<]+)<', response.text).group(1)
    assert secret not in client.get("/merchant/api-keys").text
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        assert key.tenant_id == shop.id
        assert secret not in (key.key_hash, key.prefix)
    api = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    assert api.get_json()["id"] == shop.id


def test_valid_key_reads_its_own_shop(app, client):
    shop = make_merchant(app, "Key Shop")
    make_merchant(app, "Other Shop")
    _, secret = _key(app, shop)

    response = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["name"], body["status"]) == (shop.id, "Key Shop", "active")


def test_missing_unknown_and_malformed_keys_get_problem_json_401(app, client):
    shop = make_merchant(app)
    _, secret = _key(app, shop)
    tampered = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")

    for header in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Bearer {tampered}"}):
        response = client.get("/api/v1/shop", headers=header)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] in {"unauthenticated", "api_key.invalid"}


def test_revoked_key_is_refused(app, client):
    shop = make_merchant(app)
    key, secret = _key(app, shop)
    with app.app_context(), acting_as(SYSTEM):
        revoke_api_key(db.session, db.session.get(ApiKey, key.id))
        db.session.commit()

    response = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 401
    assert response.get_json()["code"] == "api_key.invalid"


def test_key_without_the_scope_is_forbidden(app, client):
    shop = make_merchant(app)
    _, secret = _key(app, shop, scopes=())

    response = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "permission_denied"


def test_key_of_a_suspended_shop_is_refused(app, client):
    from marketplace.merchants.services import suspend_merchant

    shop = make_merchant(app)
    _, secret = _key(app, shop)
    with app.app_context(), acting_as(SYSTEM):
        suspend_merchant(db.session, db.session.get(type(shop), shop.id), reason="test")
        db.session.commit()

    response = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 403
    assert response.get_json()["code"] == "merchant.not_active"


def test_merchant_cannot_revoke_another_shops_key(app, client):
    shop_a, shop_b = make_merchant(app), make_merchant(app)
    owner_a = make_user(app, UserKind.MERCHANT, tenant=shop_a, is_owner=True)
    key_b, secret_b = _key(app, shop_b)
    login(client, owner_a)

    response = client.post(f"/merchant/api-keys/{key_b.id}/revoke")

    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(ApiKey, key_b.id).revoked_at is None
    assert client.get("/api/v1/shop", headers={"Authorization": f"Bearer {secret_b}"}).status_code == 200


def test_owner_revokes_own_key_in_the_portal(app, client):
    shop = make_merchant(app)
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    key, secret = _key(app, shop)
    login(client, owner)

    response = client.post(f"/merchant/api-keys/{key.id}/revoke")

    assert response.status_code == 302
    assert client.get("/api/v1/shop", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_openapi_documents_the_shop_resource_with_bearer_auth(client):
    spec = client.get("/api/openapi.json").get_json()

    assert "/api/v1/shop" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text


def test_reloading_the_page_that_showed_the_secret_creates_no_second_key(app, client):
    shop = make_merchant(app)
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    login(client, owner)
    form = {"name": "ERP", "scopes": ["shop.view"], "nonce": "n-1"}

    first = client.post("/merchant/api-keys", data=form)
    again = client.post("/merchant/api-keys", data=form)

    assert first.status_code == 200 and "mk_" in first.text
    assert again.status_code == 302
    with app.app_context():
        assert db.session.query(ApiKey).count() == 1
