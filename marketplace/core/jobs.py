"""Background jobs: the transactional outbox, the ``@job`` decorator, queues and the dispatcher.

A business change that must trigger work calls :func:`enqueue` inside its own transaction; that only
writes an ``outbox_messages`` row. After commit, :func:`dispatch_outbox` claims pending rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and hands them to RQ with a ``Retry``. The RQ job is
:func:`run_outbox_job`, which runs the handler at most once per outbox id: a second delivery of the
same message (dispatcher ran twice, worker died and RQ retried) finds ``processed_at`` set and stops.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import fakeredis
import redis
from flask import Flask, current_app, g, has_app_context
from rq import Queue, Retry
from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import Base, BigId, UTCDateTime, utcnow

log = logging.getLogger(__name__)

QUEUES = ("order_push", "notifications", "settlement")
RETRY_INTERVALS = [10, 30, 120, 600, 1800]  # seconds: exponential-ish backoff over ~45 minutes


class OutboxMessage(Base):
    """A job to run, written in the same transaction as the change that calls for it."""

    __tablename__ = "outbox_messages"
    __audit__ = False
    __table_args__ = (Index("ix_outbox_messages_pending", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    queue: Mapped[str] = mapped_column(String(32))
    task: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tenant_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<OutboxMessage id={self.id} task={self.task} queue={self.queue}>"


@dataclass(frozen=True)
class JobSpec:
    name: str
    queue: str
    func: Callable[..., Any]
    timeout: int
    retries: int


_registry: dict[str, JobSpec] = {}


def job(queue: str, *, timeout: int = 60, retries: int = len(RETRY_INTERVALS)) -> Callable:
    """Register a handler for ``queue``. Handlers take ids and plain values, never ORM objects."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; queues are {QUEUES}")

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        name = f"{func.__module__}.{func.__qualname__}"
        _registry[name] = JobSpec(name, queue, func, timeout, retries)
        func.job_name = name  # type: ignore[attr-defined]
        return func

    return decorator


def registered_jobs() -> dict[str, JobSpec]:
    return dict(_registry)


def enqueue(handler: Callable[..., Any], *, tenant_id: int | None = None, **payload: Any) -> OutboxMessage:
    """Write an outbox row for ``handler(**payload)``; it runs after the surrounding transaction commits."""
    from marketplace.extensions import db

    spec = _registry[handler.job_name]  # type: ignore[attr-defined]
    message = OutboxMessage(queue=spec.queue, task=spec.name, payload=payload, tenant_id=tenant_id)
    db.session.add(message)
    db.session.flush()
    if has_app_context():
        g.outbox_pending = True  # the request hands it to RQ right after its commit
    return message


# --- Redis and queues -------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Connect to Redis, or to an in-process fakeredis whose queues run jobs synchronously."""
    url = app.config.get("REDIS_URL")
    if url:
        connection = redis.Redis.from_url(url)
        is_async = True
    else:
        connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        is_async = False
    app.extensions["redis"] = connection
    app.extensions["rq_async"] = is_async


def redis_connection() -> redis.Redis:
    return current_app.extensions["redis"]


def get_queue(name: str) -> Queue:
    return Queue(name, connection=redis_connection(), is_async=current_app.extensions["rq_async"])


def queue_backend() -> str:
    return "redis" if current_app.extensions["rq_async"] else "fakeredis (in-process, synchronous)"


# --- dispatcher -------------------------------------------------------------------------------


def dispatch_outbox(limit: int = 200) -> int:
    """Move pending outbox rows to RQ; returns how many were handed over.

    With real Redis the rows stay locked until RQ accepted them, so a Redis outage leaves them pending
    for the next pass. In the embedded mode jobs run synchronously inside ``enqueue``, so the rows are
    committed as dispatched first (the job opens its own session and must not see a half-done one).
    """
    from marketplace.extensions import db

    session = db.session
    stmt = select(OutboxMessage).where(OutboxMessage.dispatched_at.is_(None)).order_by(OutboxMessage.id)
    stmt = stmt.limit(limit).with_for_update(skip_locked=True)
    messages = list(session.scalars(stmt))
    if not messages:
        session.commit()
        return 0
    jobs = [(m.id, _registry.get(m.task), m.queue) for m in messages]
    is_async = current_app.extensions["rq_async"]
    if not is_async:
        for message in messages:
            message.dispatched_at = utcnow()
        session.commit()
    for outbox_id, spec, queue_name in jobs:
        timeout = spec.timeout if spec else 60
        retries = spec.retries if spec else len(RETRY_INTERVALS)
        get_queue(queue_name).enqueue_call(
            run_outbox_job,
            args=(outbox_id,),
            job_id=f"outbox-{outbox_id}",
            timeout=timeout,
            retry=Retry(max=retries, interval=RETRY_INTERVALS[:retries]) if retries else None,
            failure_ttl=30 * 24 * 3600,
            description=f"{spec.name if spec else 'unknown'} (outbox {outbox_id})",
        )
    if is_async:
        for message in messages:
            message.dispatched_at = utcnow()
        session.commit()
    return len(messages)


def dispatch_after_commit() -> None:
    """Best-effort nudge after a request committed; the periodic dispatcher catches anything missed."""
    try:
        dispatch_outbox()
    except Exception:  # noqa: BLE001 - never fail a committed request because Redis hiccuped
        log.exception("outbox dispatch after commit failed; the periodic dispatcher will retry")
        from marketplace.extensions import db

        db.session.rollback()


# --- the RQ job -------------------------------------------------------------------------------


_worker_app: Flask | None = None


def job_app() -> Flask:
    """The current app, or (in a plain ``rq worker`` process) one app built once and reused."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        from marketplace.app import create_app

        _worker_app = create_app()
    return _worker_app


def run_outbox_job(outbox_id: int) -> str:
    """Run one outbox message's handler exactly once; safe to call again for the same id."""
    app = job_app()
    # A fresh app context gives the job its own session and unit of work.
    with app.app_context():
        from marketplace.core.tenancy import tenant_context
        from marketplace.extensions import db

        session = db.session
        message = session.get(OutboxMessage, outbox_id, with_for_update=True)
        if message is None:
            session.rollback()
            return "missing"
        if message.processed_at is not None:
            session.rollback()
            return "already processed"
        spec = _registry.get(message.task)
        if spec is None:
            raise LookupError(f"no job handler registered as {message.task!r}")
        try:
            with tenant_context(session, message.tenant_id):
                spec.func(**message.payload)
            message.processed_at = utcnow()
            message.attempts += 1
            message.last_error = None
            session.commit()
        except Exception:
            session.rollback()
            message = session.get(OutboxMessage, outbox_id)
            if message is not None:
                message.attempts += 1
                message.last_error = traceback.format_exc(limit=5)[-4000:]
                session.commit()
            raise
        if g.pop("outbox_pending", False):
            dispatch_after_commit()  # jobs this one enqueued (a webhook delivery) go now, not at the next sweep
        return "done"


# --- queue inspection for the admin portal ----------------------------------------------------


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    description: str
    error: str
    ended_at: datetime | None


def queue_stats() -> list[dict[str, Any]]:
    """Depth, running, scheduled and failed counts of every queue."""
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    stats = []
    for name in QUEUES:
        queue = get_queue(name)
        stats.append(
            {
                "name": name,
                "queued": queue.count,
                "started": StartedJobRegistry(queue=queue).count,
                "scheduled": ScheduledJobRegistry(queue=queue).count,
                "failed": FailedJobRegistry(queue=queue).count,
            }
        )
    return stats


def failed_jobs(limit: int = 50) -> list[FailedJob]:
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    result = []
    for name in QUEUES:
        queue = get_queue(name)
        ids = FailedJobRegistry(queue=queue).get_job_ids(0, limit - 1)
        for rq_job in Job.fetch_many(ids, connection=queue.connection):
            if rq_job is None:
                continue
            error = rq_job.latest_result().exc_string if rq_job.latest_result() else (rq_job.exc_info or "")
            result.append(
                FailedJob(
                    rq_job.id, name, rq_job.description or rq_job.func_name, error or "", rq_job.ended_at
                )
            )
    return sorted(result, key=lambda j: j.ended_at or datetime.min, reverse=True)[:limit]


def retry_failed_job(queue_name: str, job_id: str) -> bool:
    """Put a failed job back on its queue (run at once in the embedded mode). False if it is not failed."""
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    if queue_name not in QUEUES:
        return False
    queue = get_queue(queue_name)
    registry = FailedJobRegistry(queue=queue)
    if job_id not in registry.get_job_ids():
        return False
    if queue.is_async:
        registry.requeue(job_id)
        return True
    rq_job = Job.fetch(job_id, connection=queue.connection)
    registry.remove(rq_job)
    queue.enqueue_call(
        rq_job.func,
        args=rq_job.args,
        kwargs=rq_job.kwargs,
        job_id=job_id,
        description=rq_job.description,
        failure_ttl=30 * 24 * 3600,
    )
    return True
