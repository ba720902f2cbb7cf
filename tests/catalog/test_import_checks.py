"""Product import: a good file, and files with bad rows (reported by number, nothing imported)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from marketplace.catalog import importer
from marketplace.catalog.import_format import COLUMN_KEYS, Table
from marketplace.catalog.import_models import ImportStatus, ProductImport
from marketplace.catalog.models import Product, ProductStatus, ProductTag, Sku, Tag
from marketplace.catalog.services import ProductInput, SkuInput, create_product
from marketplace.catalog.tokens import document_tokens
from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.core.tenancy import tenant_context
from marketplace.extensions import db
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement
from tests.catalog.import_helpers import IMPORT_URL, _csv, _import, _shop, _tee_rows, _upload

# --- a good file --------------------------------------------------------------------------------


def test_good_import_creates_draft_products_with_skus_stock_movements_and_tokens(app, catalogue):
    shop, owner, client = _shop(app)

    import_id = _upload(app, client, _csv(_tee_rows(catalogue["category"])).encode())

    page = client.get(f"{IMPORT_URL}/{import_id}")
    assert page.status_code == 200
    assert "Created 2 draft products with 5 SKUs from 5 rows." in page.text
    assert 'hx-trigger="every 1s"' not in page.text  # finished: the fragment stops polling
    with app.app_context():
        record = db.session.get(ProductImport, import_id)
        assert (record.status, record.failure, record.tenant_id) == (ImportStatus.DONE, None, shop.id)
        assert (record.total_rows, record.processed_rows, record.created_count, record.sku_count) == (
            5,
            5,
            2,
            5,
        )
        assert (record.skipped_count, record.error_count, record.errors) == (0, 0, [])

        cup = db.session.scalar(select(Product).where(Product.title == "白瓷茶杯 Porcelain cup"))
        assert cup.tenant_id == shop.id
        assert (cup.status, cup.is_listed, cup.category_id, cup.brand_id) == (
            ProductStatus.DRAFT,
            False,
            catalogue["category"],
            catalogue["brand"],
        )
        assert cup.description_html == "<p>Thin <b>porcelain</b></p>"
        assert (cup.weight_g, cup.min_price, cup.max_price) == (200, 5900, 6100)
        assert cup.specs == [{"name": "颜色", "values": ["白", "青"]}, {"name": "尺码", "values": ["S", "L"]}]
        assert cup.search_tokens == document_tokens(
            "白瓷茶杯 Porcelain cup", "青山", "Green Hill", "茶具", "Tea ware", "夏季 gift"
        )
        tags = db.session.scalars(
            select(Tag.name)
            .join(ProductTag, ProductTag.tag_id == Tag.id)
            .where(ProductTag.product_id == cup.id)
        ).all()
        assert sorted(tags) == sorted(["夏季", "gift"])
        skus = [(s.code, s.spec_values, s.price, s.market_price, s.barcode, s.position) for s in cup.skus]
        assert skus == [
            ("TEE-白-S", {"颜色": "白", "尺码": "S"}, 5900, 7900, "6901234567892", 0),
            ("TEE-白-L", {"颜色": "白", "尺码": "L"}, 5950, None, None, 1),
            ("TEE-青-S", {"颜色": "青", "尺码": "S"}, 6000, None, None, 2),
            ("TEE-青-L", {"颜色": "青", "尺码": "L"}, 6100, None, None, 3),
        ]
        assert cup.skus[0].spec_key == "尺码:S|颜色:白"
        assert all(s.tenant_id == shop.id and s.is_active for s in cup.skus)

        levels = {
            code: (on_hand, available, reserved, tenant)
            for code, on_hand, available, reserved, tenant in db.session.execute(
                select(
                    Sku.code,
                    StockLevel.on_hand,
                    StockLevel.available,
                    StockLevel.reserved,
                    StockLevel.tenant_id,
                ).join(StockLevel, StockLevel.sku_id == Sku.id)
            )
        }
        assert levels == {
            "TEE-白-S": (10, 10, 0, shop.id),
            "TEE-白-L": (0, 0, 0, shop.id),
            "TEE-青-S": (5, 5, 0, shop.id),
            "TEE-青-L": (7, 7, 0, shop.id),
            "TEE-MUG": (3, 3, 0, shop.id),
        }
        movements = db.session.execute(
            select(
                Sku.code,
                StockMovement.kind,
                StockMovement.on_hand_delta,
                StockMovement.available_before,
                StockMovement.available_after,
                StockMovement.actor_id,
                StockMovement.tenant_id,
            ).join(Sku, Sku.id == StockMovement.sku_id)
        ).all()
        assert sorted(movements) == sorted(
            [
                ("TEE-白-S", MovementKind.IMPORT, 10, 0, 10, owner.id, shop.id),
                ("TEE-白-L", MovementKind.IMPORT, 0, 0, 0, owner.id, shop.id),
                ("TEE-青-S", MovementKind.IMPORT, 5, 0, 5, owner.id, shop.id),
                ("TEE-青-L", MovementKind.IMPORT, 7, 0, 7, owner.id, shop.id),
                ("TEE-MUG", MovementKind.IMPORT, 3, 0, 3, owner.id, shop.id),
            ]
        )
        mug = db.session.scalar(select(Product).where(Product.title == "Mug"))
        assert (mug.specs, mug.min_price, mug.max_price, mug.brand_id) == ([], 3550, 3550, None)
        assert [(s.spec_values, s.spec_key) for s in mug.skus] == [({}, "")]

        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.import")).all()
        assert len(entries) == 1
        entry = entries[0]
        assert (entry.actor_id, entry.actor_kind, entry.tenant_id, entry.object_id) == (
            owner.id,
            "merchant",
            shop.id,
            str(import_id),
        )
        assert entry.changes["products_created"] == 2
        assert entry.changes["skus_created"] == 5
        assert entry.changes["errors"] == 0
        # One entry for the whole import, not one per product or SKU.
        per_row = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.object_type.in_(["products", "skus"]))
        )
        assert per_row == 0


def test_running_the_job_again_imports_nothing_twice(app, catalogue):
    shop, _, client = _shop(app)
    import_id = _upload(app, client, _csv(_tee_rows(catalogue["category"])).encode())

    with app.app_context(), tenant_context(db.session, shop.id):
        importer.run_import(db.session, import_id)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Sku)) == 5


def test_category_path_names_are_accepted(app, catalogue):
    shop, _, client = _shop(app)

    import_id = _upload(app, client, _csv(_tee_rows("家居 / 茶具")).encode())

    assert _import(app, import_id).status is ImportStatus.DONE
    with app.app_context():
        categories = set(db.session.scalars(select(Product.category_id)).all())
        assert categories == {catalogue["category"]}


# --- bad rows -----------------------------------------------------------------------------------


def _existing_product(app, shop, category_id: int, code: str = "EXIST-1") -> None:
    with app.app_context(), acting_as(SYSTEM), tenant_context(db.session, shop.id):
        create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(title="Old", category_id=category_id, skus=[SkuInput({}, code, 100, stock=1)]),
            actor_id=None,
        )
        db.session.commit()


def _bad_rows(category: int) -> list[dict[str, str]]:
    cat = str(category)
    return [
        {"product_ref": "A", "title": "", "category_id": cat, "sku_code": "A-1", "price": "10"},  # row 2
        {"product_ref": "B", "title": "B", "category_id": "999999", "sku_code": "B-1", "price": "10"},
        {"product_ref": "C", "title": "C", "category_id": cat, "sku_code": "C-1", "price": "abc"},
        {"product_ref": "D", "title": "D", "category_id": cat, "sku_code": "A-1", "price": "10"},  # row 5
        {"product_ref": "E", "title": "E", "category_id": cat, "sku_code": "EXIST-1", "price": "10"},
        {"product_ref": "F", "title": "F", "category_id": cat, "spec_1_name": "颜色", "spec_1_value": "红", "sku_code": "F-1", "price": "1"},
        {"product_ref": "F", "spec_1_name": "颜色", "spec_1_value": "红", "sku_code": "F-2", "price": "1"},  # row 8
        {"product_ref": "G", "title": "G", "category_id": cat, "spec_1_name": "颜色", "spec_1_value": "红",
         "spec_2_name": "尺码", "spec_2_value": "M", "sku_code": "G-1", "price": "1"},  # row 9
        {"product_ref": "G", "spec_1_name": "颜色", "spec_1_value": "蓝", "spec_2_name": "尺码", "spec_2_value": "L",
         "sku_code": "G-2", "price": "1"},
        {"product_ref": "H", "title": "H", "category_id": cat, "sku_code": "H-1", "price": "1", "stock": "-3"},
        {"product_ref": "I", "title": "I", "category_id": cat, "spec_1_name": "颜色", "sku_code": "I-1", "price": "1"},
        {"product_ref": "J", "title": "J good", "category_id": cat, "sku_code": "J-1", "price": "1.999"},  # row 13
        {"product_ref": "", "title": "K", "category_id": cat, "sku_code": "K-1", "price": "1"},  # row 14
        {"product_ref": "L", "title": "L good", "category_id": cat, "sku_code": "L-1", "price": "9.90"},  # row 15
    ]  # fmt: skip


def test_every_bad_row_is_reported_with_its_number_and_reason_and_nothing_is_imported(app, catalogue):
    shop, _, client = _shop(app)
    _existing_product(app, shop, catalogue["category"])

    import_id = _upload(app, client, _csv(_bad_rows(catalogue["category"])).encode())

    record = _import(app, import_id)
    assert (record.status, record.failure, record.created_count, record.total_rows) == (
        ImportStatus.FAILED,
        "rows",
        0,
        14,
    )
    found = [(e["row"], e["column"]) for e in record.errors]
    assert found == [
        (2, "title"),
        (3, "category_id"),
        (4, "price"),
        (5, "sku_code"),
        (6, "sku_code"),
        (8, "spec_1_value"),
        (9, "spec_1_value"),
        (11, "stock"),
        (12, "spec_1_value"),
        (13, "price"),
        (14, "product_ref"),
    ]
    assert record.error_count == 11
    page = client.get(f"{IMPORT_URL}/{import_id}").text
    assert "Nothing was imported: the file has 11 errors." in page
    table = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('id="import-errors"')[1]))
    for expected in (
        "Row 2 title Enter a title.",
        "Row 3 category_id Unknown or inactive category: 999999.",
        "Row 4 price abc is not a price in yuan such as 12.50.",
        "Row 5 sku_code SKU code A-1 is also on row 2.",
        "Row 6 sku_code SKU code EXIST-1 is already used in this shop.",
        "Row 8 spec_1_value Same specs as row 7.",
        "Row 9 spec_1_value Every spec combination needs exactly one row; missing: 红 / L, 蓝 / M.",
        "Row 11 stock Stock cannot be negative.",
        "Row 12 spec_1_value Give both the spec name and its value.",
        "Row 13 price 1.999 is not a price in yuan such as 12.50.",
        "Row 14 product_ref Enter a product_ref",
    ):
        assert expected in table, expected
    errors_csv = client.get(f"{IMPORT_URL}/{import_id}/errors.csv")
    assert errors_csv.status_code == 200
    assert "SKU code EXIST-1 is already used in this shop." in errors_csv.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == 1  # only the existing one
        assert db.session.scalar(select(func.count()).select_from(Sku)) == 1
        assert db.session.scalar(select(func.count()).select_from(StockMovement)) == 1
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "catalog.import"))
        assert (entry.changes["products_created"], entry.changes["errors"]) == (0, 11)


def test_good_rows_only_imports_just_the_products_whose_rows_are_all_good(app, catalogue):
    shop, _, client = _shop(app)
    _existing_product(app, shop, catalogue["category"])

    import_id = _upload(app, client, _csv(_bad_rows(catalogue["category"])).encode(), good_rows_only=True)

    record = _import(app, import_id)
    assert (record.status, record.created_count, record.sku_count, record.error_count) == (
        ImportStatus.DONE,
        1,
        1,
        11,
    )
    assert record.skipped_count == 10  # products A-J; the row without product_ref belongs to none
    with app.app_context():
        titles = db.session.scalars(select(Product.title).order_by(Product.id)).all()
        assert titles == ["Old", "L good"]
        assert db.session.scalar(select(Sku.price).where(Sku.code == "L-1")) == 990
    page = client.get(f"{IMPORT_URL}/{import_id}").text
    assert "Created 1 draft products with 1 SKUs from 14 rows." in page
    assert "10 products were skipped because some of their rows have errors" in page


def test_a_product_with_one_bad_row_is_skipped_whole(app, catalogue):
    shop, _, client = _shop(app)
    rows = _tee_rows(catalogue["category"])
    rows[2]["price"] = "-1"  # the third SKU of the cup

    import_id = _upload(app, client, _csv(rows).encode(), good_rows_only=True)

    record = _import(app, import_id)
    assert [(e["row"], e["column"]) for e in record.errors] == [(4, "price")]
    with app.app_context():
        assert db.session.scalars(select(Product.title)).all() == ["Mug"]
        assert db.session.scalar(select(func.count()).select_from(Sku)) == 1


def test_too_many_spec_combinations_is_a_product_error(app, catalogue):
    rows = []
    for n in range(25):
        rows.append(
            (
                n + 2,
                tuple(
                    {
                        "product_ref": "BIG",
                        "title": "Big",
                        "category_id": str(catalogue["category"]),
                        "spec_1_name": "a",
                        "spec_1_value": f"a{n}",
                        "spec_2_name": "b",
                        "spec_2_value": f"b{n}",
                        "sku_code": f"BIG-{n}",
                        "price": "1",
                    }.get(key, "")
                    for key in COLUMN_KEYS
                ),
            )
        )
    with app.app_context():
        result = importer.validate(db.session, Table(rows, len(rows)), tenant_id=1)
    assert [(e["row"], e["column"], e["args"]) for e in result.errors] == [
        (2, "spec_1_value", {"count": 625, "limit": 600})
    ]
    assert result.products[0].bad


def _table(rows: list[dict[str, str]]) -> Table:
    return Table(
        [(n + 2, tuple(row.get(key, "") for key in COLUMN_KEYS)) for n, row in enumerate(rows)], len(rows)
    )


def test_spec_names_and_values_have_length_limits(app, catalogue):
    base = {"title": "T", "category_id": str(catalogue["category"]), "price": "1"}
    rows = [
        {**base, "product_ref": "A", "spec_1_name": "颜色" * 30, "spec_1_value": "红", "sku_code": "A-1"},
        {**base, "product_ref": "B", "spec_1_name": "颜色", "spec_1_value": "红" * 101, "sku_code": "B-1"},
        {**base, "product_ref": "C", "spec_1_name": "颜色", "spec_1_value": "红" * 100, "sku_code": "C-1"},
    ]

    with app.app_context():
        result = importer.validate(db.session, _table(rows), tenant_id=1)

    assert [(e["row"], e["column"]) for e in result.errors] == [(2, "spec_1_name"), (3, "spec_1_value")]
    assert [p.bad for p in result.products] == [True, True, False]
