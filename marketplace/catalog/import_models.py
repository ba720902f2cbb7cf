"""Product imports: one row per uploaded CSV/XLSX file, its progress and the problems found in it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"  # uploaded, waiting for a worker
    VALIDATING = "validating"  # reading and checking every row
    IMPORTING = "importing"  # writing products in chunks
    DONE = "done"  # products created (some may have been skipped in good-rows-only mode)
    FAILED = "failed"  # nothing imported: the file has errors, or could not be read

    @property
    def finished(self) -> bool:
        return self in (ImportStatus.DONE, ImportStatus.FAILED)


class ProductImport(TenantScoped, TimestampMixin, Base):
    """An uploaded product file. ``errors`` is ``[{"row", "column", "message", "args"}]``, in row order.

    ``message`` is an untranslated sentence with ``%(name)s`` placeholders filled from ``args`` when shown,
    so the merchant reads the errors in their own language.
    """

    __tablename__ = "product_imports"
    __table_args__ = (Index("ix_product_imports_tenant_id_id", "tenant_id", "id"),)
    # The list of row errors can be long; the catalog.import audit entry carries the counts.
    __audit_ignore__ = ("errors",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    file_key: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(8))  # csv or xlsx, from the file's content
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, native_enum=False, length=16), default=ImportStatus.QUEUED
    )
    good_rows_only: Mapped[bool] = mapped_column(Boolean, default=False)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)  # products created
    updated_count: Mapped[int] = mapped_column(Integer, default=0)  # products updated (imports only create)
    sku_count: Mapped[int] = mapped_column(Integer, default=0)  # SKUs created
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)  # products left out for their bad rows
    error_count: Mapped[int] = mapped_column(Integer, default=0)  # all errors, even past the stored ones
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Why nothing was imported: "rows" (errors in rows), "file" (unreadable; errors[0] says why), "internal".
    failure: Mapped[str | None] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_ip: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    def __repr__(self) -> str:
        return f"<ProductImport id={self.id} {self.status}>"
