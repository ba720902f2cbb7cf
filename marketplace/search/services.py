"""The search domain's one state change: logging a search for the search-term report."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from marketplace.search.models import SearchLog


def log_search(
    session: Session, *, query: str, tokens: list[str], result_count: int, user_id: int | None
) -> SearchLog:
    """Record one search. The caller commits.

    On PostgreSQL the transaction commits without waiting for the WAL flush (``synchronous_commit`` off for
    this transaction only): a crash may lose the last few log rows, never anything else, and a search page
    does not wait for a disk sync.
    """
    entry = SearchLog(
        query=query[:200],
        tokens=" ".join(tokens)[:500],
        result_count=result_count,
        user_id=user_id,
    )
    session.add(entry)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    session.flush()
    return entry
