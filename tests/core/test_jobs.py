"""The outbox and RQ: a job written with the business change runs once, failures are visible and retryable."""

from __future__ import annotations

from sqlalchemy import select, update

from marketplace.core import jobs
from marketplace.core.jobs import OutboxMessage, dispatch_outbox, enqueue, job, run_outbox_job
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.notifications.models import SentMessage
from marketplace.notifications.tasks import send_email
from tests.factories import login, make_user
from tests.jobs_helpers import run_jobs

FLAKY = {"fail": True}


@job("settlement", retries=0)
def flaky_job(note: str) -> None:
    """Fails while FLAKY says so, then records its note as a sent message."""
    if FLAKY["fail"]:
        raise RuntimeError(f"boom: {note}")
    db.session.add(SentMessage(channel="test", recipient="ops", subject=note, body=""))


def _sent(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(SentMessage.subject).order_by(SentMessage.id)))


def test_outbox_row_is_written_in_the_business_transaction_and_lost_with_its_rollback(app):
    with app.app_context():
        enqueue(send_email, to="a@example.test", subject="rolled back", body="")
        db.session.rollback()
        enqueue(send_email, to="a@example.test", subject="kept", body="")
        db.session.commit()
        pending = db.session.scalars(select(OutboxMessage.payload)).all()

    assert [p["subject"] for p in pending] == ["kept"]


def test_dispatched_job_runs_once_even_when_dispatched_twice(app):
    with app.app_context():
        message = enqueue(send_email, to="a@example.test", subject="hello", body="")
        db.session.commit()
        assert dispatch_outbox() == 1
    run_jobs(app)
    with app.app_context():
        # A dispatcher that crashed after RQ accepted the job but before its commit dispatches again.
        db.session.execute(update(OutboxMessage).values(dispatched_at=None))
        db.session.commit()
        assert dispatch_outbox() == 1
    run_jobs(app)
    with app.app_context():
        assert run_outbox_job(message.id) == "already processed"
        row = db.session.get(OutboxMessage, message.id)
        assert row.processed_at is not None
        assert row.attempts == 1

    assert _sent(app) == ["hello"]


def test_nothing_is_dispatched_twice_by_one_pass(app):
    with app.app_context():
        for n in range(3):
            enqueue(send_email, to="a@example.test", subject=f"m{n}", body="")
        db.session.commit()
        assert dispatch_outbox() == 3
        assert dispatch_outbox() == 0
    run_jobs(app)

    assert _sent(app) == ["m0", "m1", "m2"]


def test_failed_job_is_listed_with_its_error_and_a_retry_runs_it(app, client):
    FLAKY["fail"] = True
    admin = make_user(app, UserKind.STAFF)
    with app.app_context():
        message = enqueue(flaky_job, note="payout-7")
        db.session.commit()
        dispatch_outbox()
    run_jobs(app)

    with app.app_context():
        failed = jobs.failed_jobs()
        row = db.session.get(OutboxMessage, message.id)
        assert [(f.id, f.queue) for f in failed] == [(f"outbox-{message.id}", "settlement")]
        assert "boom: payout-7" in failed[0].error
        assert row.processed_at is None
        assert "boom: payout-7" in row.last_error
    login(client, admin)
    page = client.get("/admin/queues")
    assert page.status_code == 200
    assert "boom: payout-7" in page.text
    assert f"/admin/queues/settlement/failed/outbox-{message.id}/retry" in page.text

    FLAKY["fail"] = False
    try:
        response = client.post(f"/admin/queues/settlement/failed/outbox-{message.id}/retry")
        assert response.status_code == 302
        run_jobs(app)
    finally:
        FLAKY["fail"] = True

    assert _sent(app) == ["payout-7"]
    with app.app_context():
        assert jobs.failed_jobs() == []
        assert db.session.get(OutboxMessage, message.id).processed_at is not None


def test_retry_needs_the_permission(app, client):
    operations = make_user(app, UserKind.STAFF, role="operations")
    login(client, operations)

    assert client.get("/admin/queues").status_code == 403
    assert client.post("/admin/queues/settlement/failed/outbox-1/retry").status_code == 403


def test_queue_overview_counts_every_queue(app):
    with app.app_context():
        stats = {s["name"]: s for s in jobs.queue_stats()}

    assert set(stats) == {"order_push", "notifications", "settlement"}
    assert all(s["failed"] == 0 for s in stats.values())
