"""Keyset pagination for back-office lists: deep pages cost the same as the first (no OFFSET scan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

T = TypeVar("T")
PAGE_SIZE = 50


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: int | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def keyset_page(
    session: Session, stmt: Select[Any], id_column, before: int | None, size: int = PAGE_SIZE
) -> Page:
    """Newest first by ``id_column``; ``before`` is the last id of the previous page."""
    if before:
        stmt = stmt.where(id_column < before)
    rows = list(session.scalars(stmt.order_by(id_column.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].id if more and rows else None)


def parse_cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
