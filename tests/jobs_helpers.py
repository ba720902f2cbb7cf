"""Run the jobs a test queued, whichever queue backend the test app uses."""

from __future__ import annotations

from flask import Flask
from rq import Queue, SimpleWorker

from marketplace.core.jobs import QUEUES


def run_jobs(app: Flask) -> None:
    """Work off every queued job, like a ``flask worker`` in burst mode.

    With real Redis a request only hands its outbox rows to RQ after it commits, so nothing has run
    yet. In the embedded mode (fakeredis) the jobs already ran synchronously and this does nothing.
    """
    if not app.extensions["rq_async"]:
        return
    connection = app.extensions["redis"]
    with app.app_context():
        queues = [Queue(name, connection=connection) for name in QUEUES]
        SimpleWorker(queues, connection=connection).work(burst=True)
