"""Bulk product import from CSV/XLSX: one validation pass in Python, then set-based inserts.

The upload (:func:`start_import`) stores the file privately, adds a ``product_imports`` row and an outbox job.
The job (:func:`run_import`, called by ``catalog.tasks.import_products``) reads the file, checks every row and
either reports every problem and imports nothing, or - with ``good_rows_only`` - imports the products whose
rows are all good. Products arrive as drafts with their SKUs, a stock level and one ``import`` stock movement
per SKU, search tokens and min/max prices.

Speed: no ORM object per row and no per-product service call. On PostgreSQL the ids come from the sequences in
one ``nextval`` query, the rows go by COPY into temporary staging tables (COPY cannot write to tables with
row-level security), and one ``INSERT ... SELECT`` per table moves a chunk into place, under the RLS policy of
the job's tenant. Other databases get Core ``insert()`` executemany with ``RETURNING``. Core statements bypass the
ORM tenant filter and the audit listener, so every row carries its ``tenant_id`` explicitly and the import is
audited once, as ``catalog.import`` with its counts.

The whole import is one transaction (with the job's outbox row): it lands completely or not at all, and a
retried job starts again from scratch. Progress is written through a second, short transaction per chunk on
PostgreSQL so the page can show it while the import runs.

The checking lives in :mod:`marketplace.catalog.import_validation`, the writing in
:mod:`marketplace.catalog.import_writer`; this module holds the upload, the files and the job's work.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from marketplace.catalog.import_format import (
    ImportFileRefused,
    check_header,
    read_table,
    read_upload,
    sniff_format,
)
from marketplace.catalog.import_models import ImportStatus, ProductImport
from marketplace.catalog.import_validation import MAX_STORED_ERRORS, Lookups, validate
from marketplace.catalog.import_writer import write_products
from marketplace.catalog.tasks import import_products
from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, NotFound
from marketplace.core.jobs import enqueue

log = logging.getLogger(__name__)


# --- files ------------------------------------------------------------------------------------


def _import_folder() -> Path:
    from marketplace.core.storage import media_root

    folder = media_root() / "private" / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_import_file(data: bytes, file_format: str) -> str:
    """Store an uploaded product file privately under a random name; returns the key."""
    key = f"{secrets.token_hex(16)}.{file_format}"
    (_import_folder() / key).write_bytes(data)
    return key


def load_import_file(key: str) -> bytes:
    stem, _, ext = key.partition(".")
    if not stem.isalnum() or ext not in {"csv", "xlsx"}:
        raise ImportFileRefused(N_("the stored file is missing."))
    path = _import_folder() / key
    if not path.is_file():
        raise ImportFileRefused(N_("the stored file is missing."))
    return path.read_bytes()


# --- the service: upload, and the job's work ---------------------------------------------------


def start_import(
    session: Session,
    *,
    tenant_id: int,
    stream,
    filename: str,
    good_rows_only: bool,
    user_id: int | None,
    ip: str | None = None,
) -> ProductImport:
    """Check the file's kind and header, store it, and queue the import job (after the caller's commit)."""
    data = read_upload(stream)
    file_format = sniff_format(data)
    check_header(data, file_format)
    product_import = ProductImport(
        tenant_id=tenant_id,
        filename=Path(filename or "").name[:255],
        file_key=save_import_file(data, file_format),
        file_format=file_format,
        status=ImportStatus.QUEUED,
        good_rows_only=good_rows_only,
        created_by_id=user_id,
        created_ip=ip,
    )
    session.add(product_import)
    session.flush()
    enqueue(import_products, tenant_id=tenant_id, import_id=product_import.id)
    return product_import


class _Progress:
    """Status and counters of the import row. On PostgreSQL each update commits on its own short transaction, so
    the page sees it while the import's transaction is still open; elsewhere it joins the import's transaction.
    """

    def __init__(self, session: Session, import_id: int, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        table = ProductImport.__table__
        self.statement = update(table).where(table.c.id == import_id, table.c.tenant_id == tenant_id)
        self.engine = session.get_bind()
        self.separate = self.engine.dialect.name == "postgresql"
        self.processed = 0

    def __call__(self, **values: Any) -> None:
        statement = self.statement.values(**values)
        if not self.separate:
            self.session.execute(statement)
            return
        with self.engine.begin() as connection:
            connection.execute(
                text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(self.tenant_id)}
            )
            connection.execute(statement)

    def advance(self, rows: int) -> None:
        self.processed += rows
        self(processed_rows=self.processed)

    def finish(self, **values: Any) -> None:
        """The final state, in the import's own transaction: it commits together with the products."""
        self.session.execute(self.statement.values(finished_at=utcnow(), **values))


def _actor(session: Session, product_import: ProductImport) -> audit.Actor:
    from marketplace.identity.models import User

    user = session.get(User, product_import.created_by_id) if product_import.created_by_id else None
    return audit.Actor(
        user_id=product_import.created_by_id,
        kind="merchant" if user is not None else "system",
        tenant_id=product_import.tenant_id,
        ip=product_import.created_ip,
        label=user.email if user is not None else "system",
    )


def run_import(session: Session, import_id: int, *, method: str = "auto") -> None:
    """The job: validate the stored file, then import it (or report why not). Safe to run again."""
    # populate_existing: the app's sessions keep loaded objects across commits; read the row as it is now.
    product_import = session.get(ProductImport, import_id, populate_existing=True)
    if product_import is None or product_import.status is ImportStatus.DONE:
        return
    tenant_id = product_import.tenant_id
    progress = _Progress(session, import_id, tenant_id)
    with audit.acting_as(_actor(session, product_import)):
        try:
            _run(session, product_import, progress, method=method)
        except Exception:
            # Keep the failure visible on the page; the outbox keeps the traceback and RQ retries the job.
            session.rollback()
            progress.separate = False
            progress.finish(status=ImportStatus.FAILED, failure="internal")
            session.commit()
            raise


def _run(session: Session, product_import: ProductImport, progress: _Progress, *, method: str) -> None:
    tenant_id = product_import.tenant_id
    clock = time.perf_counter()
    progress(status=ImportStatus.VALIDATING, started_at=utcnow(), processed_rows=0, failure=None)
    try:
        table = read_table(load_import_file(product_import.file_key), product_import.file_format)
    except ImportFileRefused as refused:
        error = {"row": None, "column": "", "message": refused.why, "args": refused.why_facts}
        progress.finish(status=ImportStatus.FAILED, failure="file", errors=[error], error_count=1)
        _audit(session, product_import, rows=0, created=0, skus=0, skipped=0, errors=1)
        return
    progress(total_rows=table.total_rows)
    read_seconds, clock = time.perf_counter() - clock, time.perf_counter()
    lookups = Lookups(session)
    result = validate(session, table, tenant_id=tenant_id, lookups=lookups)
    validate_seconds, clock = time.perf_counter() - clock, time.perf_counter()
    total_rows, table.rows = table.total_rows, []  # the drafts hold what is written; free the raw rows
    counts = {"rows": total_rows, "errors": len(result.errors)}
    outcome = {
        "errors": result.errors[:MAX_STORED_ERRORS],
        "error_count": len(result.errors),
        "processed_rows": total_rows,
    }
    if result.errors and not product_import.good_rows_only:
        progress.finish(
            status=ImportStatus.FAILED, failure="rows", skipped_count=len(result.products), **outcome
        )
        _audit(session, product_import, created=0, skus=0, skipped=len(result.products), **counts)
        return

    good = result.good_products
    # Rows left out count as handled, so the bar reaches the end together with the last chunk.
    progress.processed = total_rows - sum(len(p.skus) for p in good)
    progress(status=ImportStatus.IMPORTING, processed_rows=progress.processed)
    skus = write_products(
        session,
        tenant_id=tenant_id,
        products=good,
        lookups=lookups,
        actor_id=product_import.created_by_id,
        on_chunk=progress.advance,
        method=method,
    )
    progress.finish(
        status=ImportStatus.DONE,
        created_count=len(good),
        sku_count=skus,
        skipped_count=result.skipped_products,
        **outcome,
    )
    _audit(session, product_import, created=len(good), skus=skus, skipped=result.skipped_products, **counts)
    log.info(
        "product import %s: %s rows read in %.1f s, checked in %.1f s, %s SKUs written in %.1f s",
        product_import.id, total_rows, read_seconds, validate_seconds, skus, time.perf_counter() - clock,
    )  # fmt: skip


def _audit(
    session: Session,
    product_import: ProductImport,
    *,
    created: int,
    skus: int,
    skipped: int,
    errors: int,
    rows: int,
) -> None:
    audit.record(
        session,
        "catalog.import",
        product_import,
        changes={
            "file": product_import.filename,
            "rows": rows,
            "products_created": created,
            "skus_created": skus,
            "products_skipped": skipped,
            "errors": errors,
            "good_rows_only": product_import.good_rows_only,
        },
    )


# --- reading imports back ---------------------------------------------------------------------


def get_import(session: Session, import_id: int) -> ProductImport:
    """An import of the active tenant; another shop's is a 404."""
    product_import = session.scalar(select(ProductImport).where(ProductImport.id == import_id))
    if product_import is None:
        raise NotFound()
    return product_import


def recent_imports(session: Session, limit: int = 10) -> list[ProductImport]:
    return list(session.scalars(select(ProductImport).order_by(ProductImport.id.desc()).limit(limit)))


def describe_error(error: dict[str, Any]) -> str:
    """One stored error as a sentence in the current language."""
    from flask_babel import gettext

    message, args = error["message"], error.get("args") or {}
    try:
        return gettext(message).format(**args)
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
        return message.format(**args)
