"""Periodic jobs, listed in one place. The RQ cron scheduler enqueues them; a worker runs them."""

from __future__ import annotations

from datetime import timedelta

from rq.cron import CronScheduler
from sqlalchemy import delete


def dispatch_pending_outbox() -> int:
    """Safety net for the after-commit nudge: hand over anything still pending."""
    from marketplace.core.jobs import dispatch_outbox, job_app

    with job_app().app_context():
        return dispatch_outbox()


def purge_old_login_attempts(days: int = 90) -> int:
    """Login attempts are kept 90 days for the security report, then dropped."""
    from marketplace.core.db import utcnow
    from marketplace.core.jobs import job_app
    from marketplace.extensions import db
    from marketplace.identity.models import LoginAttempt

    with job_app().app_context():
        result = db.session.execute(
            delete(LoginAttempt).where(LoginAttempt.created_at < utcnow() - timedelta(days=days))
        )
        db.session.commit()
        return result.rowcount or 0


SWEEP_EVERY = timedelta(minutes=1)
_last_sweep: dict[str, object] = {}


def run_sweeps_when_due() -> None:
    """Embedded mode only: the order sweeps, in this process, when a minute has passed since the last run."""
    from marketplace.core.db import utcnow
    from marketplace.orders.tasks import cancel_expired_orders, complete_received_orders

    now = utcnow()
    last = _last_sweep.get("at")
    if last is not None and now - last < SWEEP_EVERY:
        return
    _last_sweep["at"] = now
    cancel_expired_orders()
    complete_received_orders()


def register_periodic_jobs(cron: CronScheduler) -> None:
    from marketplace.orders.tasks import cancel_expired_orders, complete_received_orders

    cron.register(cancel_expired_orders, queue_name="order_push", interval=60, job_timeout=300)
    cron.register(complete_received_orders, queue_name="order_push", cron="7 * * * *", job_timeout=600)
    cron.register(dispatch_pending_outbox, queue_name="notifications", interval=5, job_timeout=60)
    cron.register(purge_old_login_attempts, queue_name="notifications", cron="17 3 * * *", job_timeout=300)
