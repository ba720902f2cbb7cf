"""Bulk product import (CSV/XLSX) as a job, and export in the same format."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from marketplace.catalog import importer
from marketplace.catalog.import_format import COLUMN_KEYS, COLUMNS, Table, headers
from marketplace.catalog.import_models import ImportStatus, ProductImport
from marketplace.catalog.models import Product, ProductStatus, ProductTag, Sku, Tag
from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_brand, save_category
from marketplace.catalog.tokens import document_tokens
from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.core.jobs import OutboxMessage
from marketplace.core.tenancy import tenant_context
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement
from tests.factories import login, make_merchant, make_user
from tests.jobs_helpers import run_jobs
from tests.page_helpers import english_client, field_errors

IMPORT_URL = "/merchant/products/import"


@pytest.fixture(autouse=True)
def _media(app, tmp_path):
    """Uploaded files go to a throwaway folder."""
    saved = app.config["MEDIA_DIR"]
    app.config["MEDIA_DIR"] = str(tmp_path / "media")
    yield
    app.config["MEDIA_DIR"] = saved


@pytest.fixture
def catalogue(app):
    """A category (茶具 / Tea ware) under a root (家居 / Home) and a brand."""
    with app.app_context(), acting_as(SYSTEM):
        root = save_category(db.session, name="家居", name_en="Home")
        category = save_category(db.session, name="茶具", name_en="Tea ware", parent_id=root.id)
        brand = save_brand(db.session, name="青山", name_en="Green Hill")
        db.session.commit()
        return {"category": category.id, "root": root.id, "brand": brand.id}


def _shop(app):
    shop = make_merchant(app)
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    client = english_client(app)
    login(client, owner)
    return shop, owner, client


def _csv(rows: list[dict[str, str]], columns=COLUMN_KEYS) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue()


def _upload(app, client, data: bytes, name: str = "products.csv", good_rows_only: bool = False):
    form = {"file": (io.BytesIO(data), name)}
    if good_rows_only:
        form["good_rows_only"] = "y"
    response = client.post(IMPORT_URL, data=form, content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    run_jobs(app)
    import_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    return import_id


def _import(app, import_id: int) -> ProductImport:
    with app.app_context():
        return db.session.get(ProductImport, import_id)


def _tee_rows(category: int | str, prefix: str = "TEE") -> list[dict[str, str]]:
    """A colour × size tea cup (four SKUs) and a mug without specs."""
    first = {
        "product_ref": "CUP",
        "title": "白瓷茶杯 Porcelain cup",
        "category_id": str(category),
        "brand": "青山",
        "description": "<p>Thin <script>alert(1)</script><b>porcelain</b></p>",
        "weight_g": "200",
        "tags": "夏季, gift，夏季",
    }
    combos = [("白", "S", "59.00", "79.00", "10"), ("白", "L", "59.50", "", "0"), ("青", "S", "60", "", "5")]
    combos.append(("青", "L", "61.00", "", "7"))
    rows = []
    for index, (colour, size, price, market, stock) in enumerate(combos):
        row = first if index == 0 else {"product_ref": "CUP"}
        row = {
            **row,
            "spec_1_name": "颜色",
            "spec_1_value": colour,
            "spec_2_name": "尺码",
            "spec_2_value": size,
            "sku_code": f"{prefix}-{colour}-{size}",
            "price": price,
            "market_price": market,
            "stock": stock,
        }
        if index == 0:
            row["barcode"] = "6901234567892"
        rows.append(row)
    rows.append(
        {
            "product_ref": "MUG",
            "title": "Mug",
            "category_id": str(category),
            "weight_g": "400",
            "sku_code": f"{prefix}-MUG",
            "price": "35.5",
            "stock": "3",
        }
    )
    return rows


def _snapshot(app, tenant_id: int) -> list[tuple]:
    """A shop's products as comparable data (no ids)."""
    with app.app_context():
        products = db.session.scalars(
            select(Product).where(Product.tenant_id == tenant_id).order_by(Product.title)
        ).all()
        result = []
        for p in products:
            tags = db.session.scalars(
                select(Tag.name)
                .join(ProductTag, ProductTag.tag_id == Tag.id)
                .where(ProductTag.product_id == p.id)
                .order_by(Tag.name)
            ).all()
            skus = []
            for s in sorted((s for s in p.skus if s.is_active), key=lambda s: s.position):
                level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == s.id))
                skus.append(
                    (s.code, s.barcode, s.spec_values, s.spec_key, s.price, s.market_price, s.position)
                    + (level.on_hand, level.available)
                )
            result.append(
                (p.title, p.category_id, p.brand_id, p.description_html, p.weight_g, p.specs, p.status)
                + (p.is_listed, p.min_price, p.max_price, tuple(tags), tuple(skus))
            )
        return result


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


# --- file formats --------------------------------------------------------------------------------


def test_gbk_csv_with_chinese_headers_imports(app, catalogue):
    shop, _, client = _shop(app)
    rows = _tee_rows(catalogue["category"])
    text = _csv(rows).replace(",".join(COLUMN_KEYS), ",".join(headers("zh")), 1)

    import_id = _upload(app, client, text.encode("gbk"), name="商品.csv")

    assert _import(app, import_id).status is ImportStatus.DONE
    with app.app_context():
        assert set(db.session.scalars(select(Product.title)).all()) == {"白瓷茶杯 Porcelain cup", "Mug"}
        assert db.session.scalar(select(Sku.spec_values).where(Sku.code == "TEE-青-L")) == {
            "颜色": "青",
            "尺码": "L",
        }


def test_utf8_csv_with_bom_imports(app, catalogue):
    shop, _, client = _shop(app)

    import_id = _upload(app, client, b"\xef\xbb\xbf" + _csv(_tee_rows(catalogue["category"])).encode())

    assert _import(app, import_id).created_count == 2


def test_xlsx_with_numeric_cells_imports(app, catalogue):
    shop, _, client = _shop(app)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers("zh"))
    for row in _tee_rows(catalogue["category"]):
        values = [row.get(key, "") or None for key in COLUMN_KEYS]
        for key, convert in (("price", float), ("stock", int), ("weight_g", int), ("barcode", int)):
            index = COLUMN_KEYS.index(key)
            if values[index] is not None:
                values[index] = convert(values[index])
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)

    import_id = _upload(app, client, buffer.getvalue(), name="products.xlsx")

    record = _import(app, import_id)
    assert (record.status, record.file_format, record.sku_count) == (ImportStatus.DONE, "xlsx", 5)
    with app.app_context():
        skus = {row.code: row.price for row in db.session.execute(select(Sku.code, Sku.price))}
        assert skus == {
            "TEE-白-S": 5900,
            "TEE-白-L": 5950,
            "TEE-青-S": 6000,
            "TEE-青-L": 6100,
            "TEE-MUG": 3550,
        }
        assert db.session.scalar(select(Sku.barcode).where(Sku.code == "TEE-白-S")) == "6901234567892"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "products.csv",
            "it is neither CSV text nor an XLSX workbook.",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "products.xls",
            "old Excel .xls files are not supported",
        ),
        (
            b"product_ref,title,category_id\nA,B,1\n",
            "products.csv",
            "required column(s) missing: sku_code, price.",
        ),
        (b"product_ref,title,category_id,sku_code,price,prce\n", "products.csv", "unknown column(s): prce."),
        (b"PK\x03\x04not really a zip", "products.xlsx", "it is a damaged zip or XLSX file."),
    ],
    ids=["png", "xls", "missing-columns", "unknown-column", "bad-zip"],
)
def test_upload_refuses_files_that_are_not_product_sheets(app, catalogue, data, name, message):
    shop, _, client = _shop(app)

    response = client.post(
        IMPORT_URL, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )

    assert response.status_code == 422
    assert any(message in error for error in field_errors(response.text)), field_errors(response.text)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProductImport)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_templates_download_with_the_format_headers(app):
    _, _, client = _shop(app)

    as_csv = client.get(f"{IMPORT_URL}/template.csv")
    as_xlsx = client.get(f"{IMPORT_URL}/template.xlsx")

    assert as_csv.status_code == as_xlsx.status_code == 200
    assert as_csv.data.startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff")))) == list(COLUMN_KEYS)
    workbook = load_workbook(io.BytesIO(as_xlsx.data), read_only=True)
    assert workbook.sheetnames == ["products", "help"]
    assert [c.value for c in next(workbook["products"].iter_rows())] == list(COLUMN_KEYS)
    assert "attachment" in as_xlsx.headers["Content-Disposition"]
    chinese = english_client(app)
    chinese.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    login(chinese, make_user(app, UserKind.MERCHANT, tenant=make_merchant(app), is_owner=True))
    header = chinese.get(f"{IMPORT_URL}/template.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
    assert header.split(",") == [c.zh for c in COLUMNS]


# --- export --------------------------------------------------------------------------------------


def test_export_round_trips_into_an_empty_shop_as_csv_and_xlsx(app, catalogue):
    shop, _, client = _shop(app)
    _upload(app, client, _csv(_tee_rows(catalogue["category"])).encode())
    with app.app_context(), acting_as(SYSTEM), tenant_context(db.session, shop.id):
        specs = [{"name": "容量", "values": ["=1L", "2L"]}]  # text that looks like a formula survives too
        create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(
                title="Kettle",
                category_id=catalogue["category"],
                specs=specs,
                weight_g=900,
                description_html="<p>Steel</p>",
                tag_names=["kitchen"],
                skus=[
                    SkuInput({"容量": "=1L"}, "KET-1", 12900, market_price=15000, stock=4),
                    SkuInput({"容量": "2L"}, "KET-2", 13900, barcode="123", stock=0),
                ],
            ),
            actor_id=None,
        )
        db.session.commit()
    original = _snapshot(app, shop.id)

    exported_csv = client.get("/merchant/products/export.csv")
    exported_xlsx = client.get("/merchant/products/export.xlsx")

    assert exported_csv.status_code == exported_xlsx.status_code == 200
    assert exported_csv.mimetype == "text/csv"
    lines = exported_csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 1 + 5 + 2
    assert "'=1L" in exported_csv.get_data(as_text=True)
    for data, name in ((exported_csv.data, "export.csv"), (exported_xlsx.data, "export.xlsx")):
        other, _, other_client = _shop(app)
        import_id = _upload(app, other_client, data, name=name)
        assert _import(app, import_id).status is ImportStatus.DONE, _import(app, import_id).errors
        assert _snapshot(app, other.id) == original, name


def test_export_lists_only_the_shops_own_products(app, catalogue):
    shop_a, _, client_a = _shop(app)
    _, _, client_b = _shop(app)
    _upload(app, client_a, _csv(_tee_rows(catalogue["category"])).encode())

    lines_b = (
        client_b.get("/merchant/products/export.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    )
    lines_a = (
        client_a.get("/merchant/products/export.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    )

    assert lines_b == [",".join(COLUMN_KEYS)]
    assert len(lines_a) == 6


# --- tenancy, permissions, progress --------------------------------------------------------------


def test_imports_are_private_to_their_shop(app, catalogue):
    shop_a, _, client_a = _shop(app)
    shop_b, _, client_b = _shop(app)

    import_id = _upload(app, client_a, _csv(_tee_rows(catalogue["category"])).encode())

    for path in ("", "/status", "/errors.csv"):
        assert client_b.get(f"{IMPORT_URL}/{import_id}{path}").status_code == 404
        assert client_a.get(f"{IMPORT_URL}/{import_id}{path}").status_code == 200
    assert "products.csv" not in client_b.get(IMPORT_URL).text
    assert "products.csv" in client_a.get(IMPORT_URL).text
    with app.app_context():
        assert set(db.session.scalars(select(Product.tenant_id)).all()) == {shop_a.id}
        assert set(db.session.scalars(select(Sku.tenant_id)).all()) == {shop_a.id}
        assert set(db.session.scalars(select(StockLevel.tenant_id)).all()) == {shop_a.id}
        assert set(db.session.scalars(select(StockMovement.tenant_id)).all()) == {shop_a.id}
        assert set(db.session.scalars(select(ProductTag.tenant_id)).all()) == {shop_a.id}


def test_same_sku_codes_in_two_shops_do_not_clash(app, catalogue):
    _, _, client_a = _shop(app)
    _, _, client_b = _shop(app)
    data = _csv(_tee_rows(catalogue["category"])).encode()

    first, second = _upload(app, client_a, data), _upload(app, client_b, data)

    assert _import(app, first).status is _import(app, second).status is ImportStatus.DONE


def test_import_needs_the_import_permission(app):
    shop = make_merchant(app)
    clerk = make_user(app, UserKind.MERCHANT, tenant=shop, role="customer_service")
    client = english_client(app)
    login(client, clerk)

    for path in (IMPORT_URL, f"{IMPORT_URL}/template.csv", "/merchant/products/export.csv"):
        assert client.get(path).status_code == 403


def test_status_fragment_polls_until_the_import_has_finished(app):
    shop, owner, client = _shop(app)
    with app.app_context(), acting_as(SYSTEM):
        record = ProductImport(
            tenant_id=shop.id,
            filename="x.csv",
            file_key="0" * 32 + ".csv",
            file_format="csv",
            status=ImportStatus.IMPORTING,
            total_rows=200,
            processed_rows=50,
        )
        db.session.add(record)
        db.session.commit()
        import_id = record.id

    running = client.get(f"{IMPORT_URL}/{import_id}/status", headers={"HX-Request": "true"}).text
    with app.app_context():
        db.session.get(ProductImport, import_id).status = ImportStatus.DONE
        db.session.commit()
    finished = client.get(f"{IMPORT_URL}/{import_id}/status", headers={"HX-Request": "true"}).text

    assert 'hx-trigger="every 1s"' in running
    assert '<progress value="50" max="200">' in running
    assert "50 of 200 rows processed" in running
    assert "hx-trigger" not in finished
    assert "<progress" not in finished


# --- the two write paths agree -------------------------------------------------------------------


def test_core_executemany_path_writes_the_same_rows_as_copy(app, catalogue, postgres_only):
    """On PostgreSQL the job uses COPY; the Core executemany path (SQLite's) must write the same rows."""
    shop_a, _, client_a = _shop(app)
    _upload(app, client_a, _csv(_tee_rows(catalogue["category"])).encode())
    shop_b, owner_b, _ = _shop(app)
    with app.app_context(), tenant_context(db.session, shop_b.id):
        data = _csv(_tee_rows(catalogue["category"])).encode()
        record = ProductImport(
            tenant_id=shop_b.id,
            filename="p.csv",
            file_key=importer.save_import_file(data, "csv"),
            file_format="csv",
            created_by_id=owner_b.id,
        )
        db.session.add(record)
        db.session.commit()
        importer.run_import(db.session, record.id, method="executemany")
        db.session.commit()

    assert _import(app, record.id).status is ImportStatus.DONE
    assert _snapshot(app, shop_b.id) == _snapshot(app, shop_a.id)
