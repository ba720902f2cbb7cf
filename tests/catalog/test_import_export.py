"""Product import file formats, export round trips, tenancy and the two write paths."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from marketplace.catalog import importer
from marketplace.catalog.import_format import COLUMN_KEYS, COLUMNS, headers
from marketplace.catalog.import_models import ImportStatus, ProductImport
from marketplace.catalog.models import Product, ProductTag, Sku
from marketplace.catalog.services import ProductInput, SkuInput, create_product
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.jobs import OutboxMessage
from marketplace.core.tenancy import tenant_context
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.inventory.models import StockLevel, StockMovement
from tests.catalog.import_helpers import IMPORT_URL, _csv, _import, _shop, _snapshot, _tee_rows, _upload
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client, field_errors

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
