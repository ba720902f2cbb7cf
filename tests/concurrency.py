"""Races on real connections: each contender runs in its own thread, app context and database session."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db


def race(app: Flask, contenders: int, attempt: Callable[[int], None], refused: type[Exception]) -> list[str]:
    """Start ``attempt(n)`` for every contender at the same moment; each commits, or is refused and rolls back.

    Returns "won" or "refused" per contender: the barrier releases everyone together, so the database alone
    decides who wins. Any other exception leaves a contender out of the list, and the caller's count fails.
    """
    start = threading.Barrier(contenders)
    outcomes: list[str] = []
    lock = threading.Lock()

    def contend(n: int) -> None:
        with app.app_context(), acting_as(SYSTEM):
            start.wait()
            try:
                attempt(n)
                db.session.commit()
                result = "won"
            except refused:
                db.session.rollback()
                result = "refused"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
