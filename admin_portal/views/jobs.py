"""Queues: depth per queue, failed jobs with their error, and a retry button."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from admin_portal import bp
from marketplace.core import jobs
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.reports.queries import outbox_summary


@bp.get("/queues")
@requires("jobs.view")
def jobs_overview():
    return render_template(
        "admin/jobs/overview.html",
        stats=jobs.queue_stats(),
        failed=jobs.failed_jobs(),
        outbox=outbox_summary(db.session),
        backend=jobs.queue_backend(),
    )


@bp.post("/queues/<queue>/failed/<job_id>/retry")
@requires("jobs.retry")
def job_retry(queue: str, job_id: str):
    if jobs.retry_failed_job(queue, job_id):
        flash(_("Job %(id)s is queued again.", id=job_id), "success")
    else:
        flash(_("Job %(id)s is no longer failed.", id=job_id), "warning")
    return redirect(url_for("admin.jobs_overview"))
