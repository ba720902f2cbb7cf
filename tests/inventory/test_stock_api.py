"""The merchant API for stock: levels per warehouse, set and adjust, scopes, the tenant wall, refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement
from marketplace.inventory.services import platform_warehouse, reserve, set_on_hand
from marketplace.merchants.services import create_api_key
from tests.factories import make_merchant

ALL = ("stock.view", "stock.edit")


def _key(app, shop, scopes=ALL) -> dict[str, str]:
    with app.app_context(), acting_as(SYSTEM):
        _, secret = create_api_key(
            db.session, tenant_id=shop.id, name="wms", scopes=list(scopes), created_by_id=None
        )
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _skus(app, shop, codes=("MUG-1", "MUG-2", "MUG-3"), stock=10) -> list[int]:
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name=f"Mugs {shop.id}")
        ids = []
        for code in codes:
            product = create_product(
                db.session,
                tenant_id=shop.id,
                data=ProductInput(
                    title=f"Mug {code}", category_id=category.id, skus=[SkuInput({}, code, 3900, stock=stock)]
                ),
                actor_id=None,
            )
            ids.append(product.skus[0].id)
        db.session.commit()
        return ids


@pytest.fixture
def shop(app):
    return make_merchant(app, "Pottery")


def _snapshot(app) -> tuple:
    with app.app_context():
        levels = sorted(
            db.session.execute(
                select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved,
                       StockLevel.low_stock_threshold)
            ).all()
        )  # fmt: skip
        return levels, db.session.scalar(select(func.count()).select_from(StockMovement))


def test_list_and_one_sku_show_levels_per_warehouse_with_totals(app, client, shop):
    first, second, third = _skus(app, shop)
    with app.app_context(), acting_as(SYSTEM):
        platform = platform_warehouse(db.session)
        set_on_hand(db.session, sku_id=first, tenant_id=shop.id, quantity=5, warehouse_id=platform.id)
        reserve(db.session, sku_id=first, quantity=2, order_id=1)
        db.session.commit()
        platform_id = platform.id
    headers = _key(app, shop, ("stock.view",))

    page = client.get("/api/v1/stock?limit=2", headers=headers).get_json()
    rest = client.get(f"/api/v1/stock?limit=2&cursor={page['next_cursor']}", headers=headers).get_json()
    one = client.get(f"/api/v1/stock/{first}", headers=headers).get_json()
    found = client.get("/api/v1/stock?q=mug-2", headers=headers).get_json()
    there = client.get(f"/api/v1/stock?warehouse_id={platform_id}", headers=headers).get_json()

    assert [i["sku_id"] for i in page["items"]] == [third, second]
    assert [i["sku_id"] for i in rest["items"]] == [first] and rest["next_cursor"] is None
    assert (one["code"], one["on_hand"], one["reserved"], one["available"]) == ("MUG-1", 15, 2, 13)
    assert [
        (lv["warehouse_code"], lv["is_platform"], lv["on_hand"], lv["reserved"]) for lv in one["levels"]
    ] == [
        (f"SHOP-{shop.id}", False, 10, 2),
        ("PLATFORM", True, 5, 0),
    ]
    assert [i["code"] for i in found["items"]] == ["MUG-2"]
    assert [(i["code"], len(i["levels"])) for i in there["items"]] == [("MUG-1", 1)]


def test_put_sets_on_hand_and_post_adjust_corrects_with_a_reason(app, client, shop):
    sku_id = _skus(app, shop, codes=("MUG-1",))[0]
    headers = _key(app, shop)

    counted = client.put(f"/api/v1/stock/{sku_id}", json={"on_hand": 40, "reason": "count"}, headers=headers)
    adjusted = client.post(
        f"/api/v1/stock/{sku_id}/adjust", json={"delta": -3, "reason": "chipped"}, headers=headers
    )
    threshold = client.put(
        f"/api/v1/stock/{sku_id}/threshold", json={"low_stock_threshold": 37}, headers=headers
    )
    ledger = client.get(f"/api/v1/stock/{sku_id}/movements", headers=headers).get_json()

    assert counted.status_code == 200 and counted.get_json()["on_hand"] == 40
    assert adjusted.status_code == 200 and adjusted.get_json()["available"] == 37
    assert threshold.get_json()["levels"][0] == {
        "warehouse_id": threshold.get_json()["levels"][0]["warehouse_id"],
        "warehouse_code": f"SHOP-{shop.id}",
        "is_platform": False,
        "on_hand": 37,
        "reserved": 0,
        "available": 37,
        "low_stock_threshold": 37,
        "is_low": True,
    }
    assert [(m["kind"], m["on_hand_delta"], m["reason"]) for m in ledger["items"]] == [
        ("adjust", -3, "chipped"),
        ("adjust", 30, "count"),
        ("adjust", 10, "product edit"),
    ]


def test_scopes_are_enforced(app, client, shop):
    sku_id = _skus(app, shop, codes=("MUG-1",))[0]
    read_only = _key(app, shop, ("stock.view",))
    catalogue = _key(app, shop, ("catalog.view", "catalog.edit"))
    before = _snapshot(app)

    answers = [
        client.get("/api/v1/stock", headers=catalogue),
        client.get(f"/api/v1/stock/{sku_id}", headers=catalogue),
        client.get(f"/api/v1/stock/{sku_id}/movements", headers=catalogue),
        client.put(f"/api/v1/stock/{sku_id}", json={"on_hand": 1}, headers=read_only),
        client.post(f"/api/v1/stock/{sku_id}/adjust", json={"delta": 1, "reason": "x"}, headers=read_only),
        client.put(f"/api/v1/stock/{sku_id}/threshold", json={"low_stock_threshold": 1}, headers=read_only),
    ]

    assert [(r.status_code, r.get_json()["code"]) for r in answers] == [(403, "permission_denied")] * 6
    assert client.get("/api/v1/stock").status_code == 401
    assert _snapshot(app) == before


def test_another_shops_sku_and_warehouse_are_404_and_unchanged(app, client, shop):
    theirs = _skus(app, make_merchant(app, "Rival"), codes=("RIVAL-1",))[0]
    mine = _skus(app, shop, codes=("MUG-1",))[0]
    headers = _key(app, shop)
    with app.app_context():
        their_warehouse = db.session.scalar(
            select(StockLevel.warehouse_id).where(StockLevel.sku_id == theirs)
        )
    before = _snapshot(app)

    answers = [
        client.get(f"/api/v1/stock/{theirs}", headers=headers),
        client.get(f"/api/v1/stock/{theirs}/movements", headers=headers),
        client.put(f"/api/v1/stock/{theirs}", json={"on_hand": 0}, headers=headers),
        client.post(f"/api/v1/stock/{theirs}/adjust", json={"delta": -1, "reason": "x"}, headers=headers),
        client.put(f"/api/v1/stock/{theirs}/threshold", json={"low_stock_threshold": 9}, headers=headers),
        client.put(
            f"/api/v1/stock/{mine}", json={"on_hand": 0, "warehouse_id": their_warehouse}, headers=headers
        ),
        client.get(f"/api/v1/stock?warehouse_id={their_warehouse}", headers=headers),
    ]

    assert [(r.status_code, r.get_json()["code"]) for r in answers] == [(404, "not_found")] * 7
    assert [i["code"] for i in client.get("/api/v1/stock", headers=headers).get_json()["items"]] == ["MUG-1"]
    assert _snapshot(app) == before


def test_bad_input_is_422_and_a_refused_change_409_and_neither_changes_anything(app, client, shop):
    sku_id = _skus(app, shop, codes=("MUG-1",))[0]
    with app.app_context(), acting_as(SYSTEM):
        reserve(db.session, sku_id=sku_id, quantity=6, order_id=1)
        db.session.commit()
    headers = _key(app, shop)
    before = _snapshot(app)

    bad = [
        client.put(f"/api/v1/stock/{sku_id}", json={"on_hand": -1}, headers=headers),
        client.put(f"/api/v1/stock/{sku_id}", json={"on_hand": "12"}, headers=headers),
        client.put(f"/api/v1/stock/{sku_id}", json={"on_hand": 2_000_000_000}, headers=headers),
        client.post(f"/api/v1/stock/{sku_id}/adjust", json={"delta": 0, "reason": "x"}, headers=headers),
        client.post(f"/api/v1/stock/{sku_id}/adjust", json={"delta": 2.5, "reason": "x"}, headers=headers),
        client.post(f"/api/v1/stock/{sku_id}/adjust", json={"delta": 2}, headers=headers),
        client.post(f"/api/v1/stock/{sku_id}/adjust", json={"delta": 2, "reason": "  "}, headers=headers),
        client.put(f"/api/v1/stock/{sku_id}/threshold", json={"low_stock_threshold": -5}, headers=headers),
        client.get("/api/v1/stock?limit=500", headers=headers),
    ]
    below = client.put(f"/api/v1/stock/{sku_id}", json={"on_hand": 5}, headers=headers)
    too_many = client.post(
        f"/api/v1/stock/{sku_id}/adjust", json={"delta": -5, "reason": "x"}, headers=headers
    )

    assert [r.status_code for r in bad] == [422] * len(bad)
    assert all(r.mimetype == "application/problem+json" for r in bad)
    assert [sorted(r.get_json()["errors"]) for r in bad] == [
        ["on_hand"], ["on_hand"], ["on_hand"], ["delta"], ["delta"], ["reason"], ["reason"],
        ["low_stock_threshold"], ["limit"],
    ]  # fmt: skip
    assert below.status_code == 409
    body = below.get_json()
    assert (body["code"], body["facts"]["reserved"], body["facts"]["sku"]) == (
        "stock.insufficient",
        6,
        "MUG-1",
    )
    assert too_many.status_code == 409
    assert _snapshot(app) == before


def test_platform_stock_is_read_only_for_the_shop(app, client, shop):
    sku_id = _skus(app, shop, codes=("MUG-1",))[0]
    with app.app_context(), acting_as(SYSTEM):
        platform = platform_warehouse(db.session)
        set_on_hand(
            db.session, sku_id=sku_id, tenant_id=shop.id, quantity=8, kind=MovementKind.RECEIVE,
            warehouse_id=platform.id,
        )  # fmt: skip
        db.session.commit()
        platform_id = platform.id
    headers = _key(app, shop)
    before = _snapshot(app)

    refused = client.put(
        f"/api/v1/stock/{sku_id}", json={"on_hand": 0, "warehouse_id": platform_id}, headers=headers
    )

    assert (refused.status_code, refused.get_json()["code"]) == (409, "stock.warehouse_not_editable")
    assert _snapshot(app) == before


def test_openapi_documents_the_stock_resources(client):
    spec = client.get("/api/openapi.json").get_json()

    paths = spec["paths"]
    assert "get" in paths["/api/v1/stock"]
    assert {"get", "put"} <= set(paths["/api/v1/stock/{sku_id}"])
    assert "post" in paths["/api/v1/stock/{sku_id}/adjust"]
    assert "put" in paths["/api/v1/stock/{sku_id}/threshold"]
    assert "get" in paths["/api/v1/stock/{sku_id}/movements"]
    assert {"StockAdjust", "SkuLevels", "WarehouseLevel"} <= set(spec["components"]["schemas"])
