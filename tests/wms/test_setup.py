"""Warehouse setup in the WMS: zones, bins (one or a range), shops served, bin labels, who may do it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.fulfillment import queries, services
from marketplace.fulfillment.errors import DuplicateBins, DuplicateZone, InvalidLocationCode
from marketplace.fulfillment.models import Bin, BinStock, WarehouseShop, Zone
from marketplace.identity.models import UserKind
from marketplace.inventory.services import default_warehouse, platform_warehouse
from tests.concurrency import race
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client, field_errors, flashes


def _warehouse_with_zone(app, zone_code: str = "A") -> tuple[int, int]:
    with app.app_context(), acting_as(SYSTEM):
        warehouse = platform_warehouse(db.session)
        zone = services.create_zone(db.session, warehouse, code=zone_code, name="Ambient")
        db.session.commit()
        return warehouse.id, zone.id


def _supervisor_client(app):
    client = english_client(app)
    assert login(client, make_user(app, UserKind.WAREHOUSE, role="supervisor")).status_code == 302
    return client


def _codes(app, warehouse_id: int) -> list[str]:
    with app.app_context():
        return [b.code for b in queries.bins(db.session, warehouse_id)]


def test_a_range_creates_every_bin_in_pick_route_order(app):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    client = _supervisor_client(app)

    response = client.post(
        f"/wms/setup/warehouses/{warehouse_id}/bins/range",
        data={"range-zone": zone_id, "range-aisle": "a", "range-first_bay": 1, "range-last_bay": 10,
              "range-first_level": 1, "range-last_level": 4, "range-kind": "storage"},
        follow_redirects=True,
    )  # fmt: skip

    assert response.status_code == 200
    assert ("success", "40 bins added (A-01-01 to A-10-04).") in flashes(response.text)
    codes = _codes(app, warehouse_id)
    assert len(codes) == 40
    assert codes[:5] == ["A-01-01", "A-01-02", "A-01-03", "A-01-04", "A-02-01"]
    assert codes[-1] == "A-10-04"
    with app.app_context():
        first = db.session.scalar(select(Bin).where(Bin.code == "A-01-01"))
        assert first.barcode == "PLATFORM-A-01-01"
        assert first.zone_id == zone_id and first.is_active


def test_route_order_compares_numbers_as_numbers(app):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        zone = db.session.get(Zone, zone_id)
        for code in ["B-10-1", "B-2-1", "A-9", "b-2-2"]:
            services.create_bin(db.session, warehouse, zone, code=code)
        db.session.commit()

    assert _codes(app, warehouse_id) == ["A-9", "B-2-1", "B-2-2", "B-10-1"]


def test_a_range_overlapping_existing_bins_is_refused_and_creates_nothing(app):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        services.create_bin(db.session, warehouse, db.session.get(Zone, zone_id), code="A-03-02")
        db.session.commit()
    client = _supervisor_client(app)

    response = client.post(
        f"/wms/setup/warehouses/{warehouse_id}/bins/range",
        data={"range-zone": zone_id, "range-aisle": "A", "range-first_bay": 1, "range-last_bay": 5,
              "range-first_level": 1, "range-last_level": 3, "range-kind": "storage"},
    )  # fmt: skip

    assert response.status_code == 422
    assert field_errors(response.text) == ["These bins already exist: A-03-02. No bins were created."]
    assert _codes(app, warehouse_id) == ["A-03-02"]


def test_service_refuses_duplicates_and_bad_codes(app):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        zone = db.session.get(Zone, zone_id)
        services.create_bin_range(db.session, warehouse, zone, aisle="C", bays=(1, 2), levels=(1, 2))
        with pytest.raises(DuplicateBins) as refused:
            services.create_bin_range(db.session, warehouse, zone, aisle="C", bays=(2, 3), levels=(1, 2))
        assert refused.value.facts["codes"] == "C-02-01, C-02-02"
        with pytest.raises(DuplicateZone):
            services.create_zone(db.session, warehouse, code="a", name="again")
        with pytest.raises(InvalidLocationCode):
            services.create_bin(db.session, warehouse, zone, code="A 01")
        db.session.commit()

    assert _codes(app, warehouse_id) == ["C-01-01", "C-01-02", "C-02-01", "C-02-02"]


def test_zone_and_single_bin_through_the_pages(app):
    with app.app_context(), acting_as(SYSTEM):
        warehouse_id = platform_warehouse(db.session).id
        db.session.commit()
    client = _supervisor_client(app)

    zone_page = client.post(
        f"/wms/setup/warehouses/{warehouse_id}/zones",
        data={"zone-code": "rcv", "zone-name": "Receiving dock"},
        follow_redirects=True,
    )
    with app.app_context():
        zone_id = db.session.scalar(select(Zone.id).where(Zone.code == "RCV"))
    bin_page = client.post(
        f"/wms/setup/warehouses/{warehouse_id}/bins",
        data={"bin-zone": zone_id, "bin-code": "RCV-01", "bin-kind": "receiving", "bin-barcode": ""},
        follow_redirects=True,
    )

    assert ("success", "Zone RCV added.") in flashes(zone_page.text)
    assert ("success", "Bin RCV-01 added.") in flashes(bin_page.text)
    assert "PLATFORM-RCV-01" in bin_page.text


def test_zone_filter_answers_htmx_with_the_bins_of_that_zone(app):
    warehouse_id, zone_a = _warehouse_with_zone(app, "A")
    with app.app_context(), acting_as(SYSTEM):
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        zone_b = services.create_zone(db.session, warehouse, code="B", name="Bulk")
        services.create_bin(db.session, warehouse, db.session.get(Zone, zone_a), code="A-01")
        services.create_bin(db.session, warehouse, zone_b, code="B-01")
        db.session.commit()
        zone_b_id = zone_b.id
    client = _supervisor_client(app)

    fragment = client.get(
        f"/wms/setup/warehouses/{warehouse_id}?zone={zone_b_id}",
        headers={"HX-Request": "true", "HX-Target": "bins"},
    )

    assert fragment.status_code == 200
    assert "</html>" not in fragment.text
    assert "B-01" in fragment.text and "A-01" not in fragment.text


def test_deactivating_a_bin_and_refusing_while_it_holds_stock(app, postgres_only):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    sku_id, shop_id = _sku(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        zone = db.session.get(Zone, zone_id)
        empty = services.create_bin(db.session, warehouse, zone, code="A-01")
        full = services.create_bin(db.session, warehouse, zone, code="A-02")
        db.session.add(
            BinStock(tenant_id=shop_id, sku_id=sku_id, bin_id=full.id, warehouse_id=warehouse_id, quantity=3)
        )
        db.session.commit()
        empty_id, full_id = empty.id, full.id
    client = _supervisor_client(app)

    ok = client.post(f"/wms/setup/warehouses/{warehouse_id}/bins/{empty_id}/active", data={"active": "0"},
                     follow_redirects=True)  # fmt: skip
    refused = client.post(f"/wms/setup/warehouses/{warehouse_id}/bins/{full_id}/active", data={"active": "0"},
                          follow_redirects=True)  # fmt: skip

    assert ("success", "Bin A-01 deactivated.") in flashes(ok.text)
    assert ("error", "Bin A-02 still holds 3 units: move them before deactivating it.") in flashes(
        refused.text
    )
    with app.app_context():
        assert db.session.get(Bin, empty_id).is_active is False
        assert db.session.get(Bin, full_id).is_active is True


def test_labels_page_has_a_code128_svg_per_active_bin(app):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        zone = db.session.get(Zone, zone_id)
        services.create_bin_range(db.session, warehouse, zone, aisle="A", bays=(1, 3), levels=(1, 2))
        retired = services.create_bin(db.session, warehouse, zone, code="OLD-1")
        services.set_bin_active(db.session, retired, False)
        db.session.commit()
    client = _supervisor_client(app)

    page = client.get(f"/wms/setup/warehouses/{warehouse_id}/labels")

    assert page.status_code == 200
    assert page.text.count("<svg ") == 6
    assert 'aria-label="PLATFORM-A-03-02"' in page.text
    assert "OLD-1" not in page.text
    assert "@media print" in page.text and "<?xml" not in page.text


def test_shops_served_can_be_added_and_removed(app):
    shop = make_merchant(app, "Tea House")
    with app.app_context(), acting_as(SYSTEM):
        warehouse_id = platform_warehouse(db.session).id
        db.session.commit()
    client = _supervisor_client(app)

    added = client.post(f"/wms/setup/warehouses/{warehouse_id}/shops", data={"shop-merchant": shop.id},
                        follow_redirects=True)  # fmt: skip
    with app.app_context():
        assert [m.id for m in queries.served_shops(db.session, warehouse_id)] == [shop.id]
    removed = client.post(
        f"/wms/setup/warehouses/{warehouse_id}/shops/{shop.id}/remove", follow_redirects=True
    )
    again = client.post(f"/wms/setup/warehouses/{warehouse_id}/shops/{shop.id}/remove")

    assert ("success", "PLATFORM now holds the goods of Tea House.") in flashes(added.text)
    assert ("success", "PLATFORM no longer holds the goods of Tea House.") in flashes(removed.text)
    assert again.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(sa.func.count()).select_from(WarehouseShop)) == 0


def test_a_picker_may_not_set_up_the_warehouse(app):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    client = english_client(app)
    login(client, make_user(app, UserKind.WAREHOUSE, role="picker"))

    assert client.get("/wms/setup/warehouses").status_code == 403
    assert client.get(f"/wms/setup/warehouses/{warehouse_id}").status_code == 403
    assert client.get(f"/wms/setup/warehouses/{warehouse_id}/labels").status_code == 403
    refused = client.post(f"/wms/setup/warehouses/{warehouse_id}/bins",
                          data={"bin-zone": zone_id, "bin-code": "X-1", "bin-kind": "storage"})  # fmt: skip
    assert refused.status_code == 403
    assert _codes(app, warehouse_id) == []
    assert "/wms/setup/warehouses" not in client.get("/wms/").text


def test_a_shops_own_warehouse_is_not_found_in_the_wms(app):
    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        own_id = default_warehouse(db.session, shop.id).id
        db.session.commit()
    client = _supervisor_client(app)

    assert client.get(f"/wms/setup/warehouses/{own_id}").status_code == 404
    assert (
        client.post(
            f"/wms/setup/warehouses/{own_id}/zones", data={"zone-code": "A", "zone-name": "A"}
        ).status_code
        == 404
    )


def test_warehouse_list_and_adding_a_warehouse(app):
    client = _supervisor_client(app)

    created = client.post(
        "/wms/setup/warehouses", data={"code": "sh-02", "name": "Shanghai 2"}, follow_redirects=True
    )
    duplicate = client.post("/wms/setup/warehouses", data={"code": "SH-02", "name": "Again"})
    listing = client.get("/wms/setup/warehouses")

    assert ("success", "Warehouse SH-02 added.") in flashes(created.text)
    assert duplicate.status_code == 422
    assert field_errors(duplicate.text) == ["A warehouse with code SH-02 already exists."]
    assert "Shanghai 2" in listing.text


def _sku(app) -> tuple[int, int]:
    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name=f"Bins {shop.id}")
        product = create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(
                title="Tea", category_id=category.id, skus=[SkuInput({}, "TEA-1", 990, stock=0)]
            ),
            actor_id=None,
        )
        db.session.commit()
        return product.skus[0].id, shop.id


def test_bin_stock_can_never_be_negative(app, postgres_only):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    sku_id, shop_id = _sku(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        bin_id = services.create_bin(db.session, warehouse, db.session.get(Zone, zone_id), code="A-01").id
        db.session.add(
            BinStock(tenant_id=shop_id, sku_id=sku_id, bin_id=bin_id, warehouse_id=warehouse_id, quantity=2)
        )
        db.session.commit()

        with pytest.raises(sa.exc.IntegrityError, match="ck_bin_stocks_quantity_not_negative"):
            db.session.execute(
                sa.update(BinStock).where(BinStock.bin_id == bin_id).values(quantity=BinStock.quantity - 3)
            )
        db.session.rollback()
        with pytest.raises(sa.exc.IntegrityError, match="uq_bin_stocks_bin_id_sku_id"):
            db.session.add(
                BinStock(
                    tenant_id=shop_id, sku_id=sku_id, bin_id=bin_id, warehouse_id=warehouse_id, quantity=1
                )
            )
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(BinStock.quantity).where(BinStock.bin_id == bin_id)) == 2


def test_supervisor_sees_the_warehouse_team_and_their_roles(app):
    make_user(app, UserKind.WAREHOUSE, role="packer", email="packer@example.test")
    make_user(app, UserKind.MERCHANT, tenant=make_merchant(app), email="owner@example.test")
    client = _supervisor_client(app)

    page = client.get("/wms/setup/team")
    searched = client.get("/wms/setup/team?q=packer")

    assert page.status_code == 200
    assert "packer@example.test" in page.text
    assert "<td>Packer</td>" in page.text and "<td>Supervisor</td>" in page.text
    assert "owner@example.test" not in page.text
    assert "packer@example.test" in searched.text and "<td>Supervisor</td>" not in searched.text


def test_two_supervisors_adding_overlapping_ranges_at_once_get_one_whole_range(app, postgres_only):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    ranges = [(1, 5), (3, 8)]
    refusals: list[str] = []

    def add_range(n: int) -> None:
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        zone = db.session.get(Zone, zone_id)
        try:
            services.create_bin_range(db.session, warehouse, zone, aisle="A", bays=ranges[n], levels=(1, 2))
        except DuplicateBins as exc:
            refusals.append(str(exc))
            raise

    outcomes = race(app, 2, add_range, DuplicateBins)

    assert sorted(outcomes) == ["refused", "won"]
    codes = _codes(app, warehouse_id)
    assert codes in (services.range_codes("A", (1, 5), (1, 2)), services.range_codes("A", (3, 8), (1, 2)))
    overlap = "A-03-01, A-03-02, A-04-01, A-04-02, A-05-01, A-05-02"
    assert refusals == [f"These bins already exist: {overlap}. No bins were created."]


def test_a_scanned_label_finds_its_active_bin(app):
    warehouse_id, zone_id = _warehouse_with_zone(app)
    with app.app_context(), acting_as(SYSTEM):
        warehouse = queries.platform_warehouse(db.session, warehouse_id)
        zone = db.session.get(Zone, zone_id)
        shelf = services.create_bin(db.session, warehouse, zone, code="A-01-01")
        retired = services.create_bin(db.session, warehouse, zone, code="A-01-02")
        services.set_bin_active(db.session, retired, False)
        db.session.commit()

        assert queries.bin_by_barcode(db.session, warehouse_id, " platform-a-01-01\n") == shelf
        assert queries.bin_by_barcode(db.session, warehouse_id, "A-01-01") == shelf
        assert queries.bin_by_barcode(db.session, warehouse_id, "PLATFORM-A-01-02") is None
        assert queries.bin_by_barcode(db.session, warehouse_id, "") is None
