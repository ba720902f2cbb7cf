"""Seconds to import 100,000 SKUs (20,000 products × 5 colours) from a CSV file into a fresh PostgreSQL database.

The import code path end to end, in-process: the upload service (content check, private file, ``product_imports``
row, outbox message, commit), then the job as a worker runs it (``run_outbox_job``: read and validate every row,
COPY into staging tables, ``INSERT ... SELECT`` under row-level security, progress per chunk, one commit). The
database is new, migrated, and owned by a non-superuser, non-BYPASSRLS role, so the tenant policies apply. Then
a tenth of the file goes into a second shop through the Core ``insert()`` executemany path (what SQLite uses),
for comparison. Generating the CSV is not timed. The run is bounded by its fixed size (about a minute here).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time

from bench._support import CpuMeter, fresh_database, log, postgres_backend_pids, require_postgres

NAME = "catalog_import"

DATABASE = "bench_catalog_import"
PRODUCTS = int(os.environ.get("BENCH_CATALOG_IMPORT_PRODUCTS", 20_000))
EXECUTEMANY_PRODUCTS = min(PRODUCTS, 2_000)  # the slower path is measured on a tenth
SKUS_PER_PRODUCT = 5
COLOURS = ["红", "橙", "黄", "绿", "蓝"]
WORDS = ["西湖", "龙井", "绿茶", "白瓷", "茶杯", "铁观音", "普洱", "紫砂", "茶壶", "礼盒"]
ENGLISH = ["tea", "cup", "green", "white", "gift", "pot", "leaf", "spring", "classic", "premium"]


def product_file(products: int = PRODUCTS, category: int = 1) -> bytes:
    """A CSV of ``products`` × 5 SKUs in the import format (English headers), deterministic."""
    from marketplace.catalog.import_format import COLUMN_KEYS

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMN_KEYS)
    for n in range(products):
        ref = f"P{n:06d}"
        title = f"{WORDS[n % 10]}{WORDS[(n // 10) % 10]} {ENGLISH[n % 7]} {ENGLISH[(n // 7) % 10]} {n}"
        for k, colour in enumerate(COLOURS[:SKUS_PER_PRODUCT]):
            first = k == 0
            writer.writerow(
                [
                    ref,
                    title if first else "",
                    str(category) if first else "",
                    "青山" if first and n % 3 == 0 else "",
                    f"<p>{title}，产地直发。</p>" if first else "",
                    str(200 + n % 300) if first else "",
                    "颜色", colour, "", "", "", "",
                    f"{ref}-{k}",
                    f"69{n:08d}{k:03d}",
                    f"{10 + n % 90}.{(k * 10) % 100:02d}",
                    f"{120 + n % 90}.00" if k == 0 else "",
                    str((n * 7 + k) % 500),
                    f"{WORDS[n % 10]},{ENGLISH[(n + k) % 10]}" if first else "",
                ]
            )  # fmt: skip
    return buffer.getvalue().encode()


def run() -> list[tuple[str, float, str]]:
    require_postgres()
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from marketplace.app import create_app
    from marketplace.catalog import importer
    from marketplace.catalog.import_models import ImportStatus, ProductImport
    from marketplace.catalog.services import save_brand, save_category
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.core.jobs import OutboxMessage, run_outbox_job
    from marketplace.core.tenancy import tenant_context
    from marketplace.extensions import db
    from marketplace.identity.models import UserKind
    from marketplace.identity.services import create_user, role_by_code, sync_default_roles
    from marketplace.inventory.models import StockLevel, StockMovement
    from marketplace.merchants.services import create_merchant

    skus_expected = PRODUCTS * SKUS_PER_PRODUCT
    with (
        fresh_database(DATABASE) as database_url,
        tempfile.TemporaryDirectory(prefix="bench-media-") as media,
    ):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "REDIS_URL": None,  # the job is run here, directly, as a worker would
                "MEDIA_DIR": media,
                "SECRET_KEY": "bench-secret-key-with-enough-length-0123456789",
            }
        )
        with app.app_context():
            upgrade(revision="heads")
            with acting_as(SYSTEM):
                category = save_category(db.session, name="茶叶", name_en="Tea")
                save_brand(db.session, name="青山", name_en="Green Hill")
                shops = [create_merchant(db.session, name=f"Bench {i}", slug=f"bench-{i}") for i in (1, 2)]
                sync_default_roles(db.session)
                owner = create_user(
                    db.session,
                    kind=UserKind.MERCHANT,
                    email="owner@bench.test",
                    password="bench-password-123",  # noqa: S106 - a throwaway database
                    name="Owner",
                    tenant_id=shops[0].id,
                    is_owner=True,
                    roles=[role_by_code(db.session, UserKind.MERCHANT, "owner")],
                )
                db.session.commit()
            category_id, shop_ids, owner_id = category.id, [s.id for s in shops], owner.id
            db.session.remove()

        started = time.perf_counter()
        data = product_file(PRODUCTS, category_id)
        log(
            NAME,
            f"generated {skus_expected} rows ({len(data) / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s",
        )

        # Timed: the upload service and the job, as the portal and a worker run them. CPU seconds of this process
        # and of the database's backends say where the time went, even on a busy machine.
        db_cpu = CpuMeter(lambda: postgres_backend_pids(DATABASE))
        db_cpu.start()
        app_cpu = time.process_time()
        started = time.perf_counter()
        with app.app_context(), tenant_context(db.session, shop_ids[0]):
            record = importer.start_import(
                db.session,
                tenant_id=shop_ids[0],
                stream=io.BytesIO(data),
                filename="bench.csv",
                good_rows_only=False,
                user_id=owner_id,
                ip="127.0.0.1",
            )
            import_id = record.id
            db.session.commit()
            outbox_id = db.session.scalar(select(func.max(OutboxMessage.id)))
            db.session.remove()
        with app.app_context():
            if run_outbox_job(outbox_id) != "done":
                raise RuntimeError("the import job did not run")
        seconds = time.perf_counter() - started
        app_cpu = time.process_time() - app_cpu
        db_cpu.stop()

        with app.app_context():
            record = db.session.get(ProductImport, import_id)
            if record.status is not ImportStatus.DONE or record.sku_count != skus_expected:
                raise RuntimeError(f"import {record.status}: {record.error_count} errors {record.errors[:3]}")
            counts = {
                model.__tablename__: db.session.scalar(
                    select(func.count()).select_from(model).where(model.tenant_id == shop_ids[0])
                )
                for model in (StockLevel, StockMovement)
            }
            if set(counts.values()) != {skus_expected}:
                raise RuntimeError(f"expected {skus_expected} stock rows and movements, found {counts}")
            job_seconds = (record.finished_at - record.started_at).total_seconds()
            db.session.remove()
        log(
            NAME,
            f"COPY path: {seconds:.1f} s end to end, {job_seconds:.1f} s inside the job; CPU: {app_cpu:.1f} s here, "
            f"{db_cpu.seconds or 0:.1f} s in PostgreSQL; load average {os.getloadavg()[0]:.1f}",
        )

        # For comparison, a tenth of the file through Core insert() executemany (SQLite's path), into shop 2.
        small = product_file(EXECUTEMANY_PRODUCTS, category_id)
        small_skus = EXECUTEMANY_PRODUCTS * SKUS_PER_PRODUCT
        with app.app_context(), tenant_context(db.session, shop_ids[1]):
            record = ProductImport(
                tenant_id=shop_ids[1],
                filename="bench-small.csv",
                file_key=importer.save_import_file(small, "csv"),
                file_format="csv",
            )
            db.session.add(record)
            db.session.commit()
            started = time.perf_counter()
            importer.run_import(db.session, record.id, method="executemany")
            db.session.commit()
            executemany_seconds = time.perf_counter() - started
            db.session.expire_all()  # the app's sessions keep objects loaded across commits
            if record.status is not ImportStatus.DONE or record.sku_count != small_skus:
                raise RuntimeError(f"executemany import {record.status}: {record.errors[:3]}")
            db.session.remove()
        log(NAME, f"Core executemany path: {small_skus} SKUs in {executemany_seconds:.1f} s")
        with app.app_context():
            db.engine.dispose()

    return [
        ("seconds_100k_skus", round(seconds * 100_000 / skus_expected, 2), "s"),
        ("skus_per_s", round(skus_expected / seconds), "1/s"),
        ("job_seconds", round(job_seconds, 2), "s"),
        ("app_cpu_seconds", round(app_cpu, 2), "s"),
        ("db_cpu_seconds", round(db_cpu.seconds or 0.0, 2), "s"),
        ("executemany_skus_per_s", round(small_skus / executemany_seconds), "1/s"),
        ("skus", skus_expected, "count"),
    ]
