"""A local webhook receiver for push tests, and running RQ's scheduled retries now instead of in 10 seconds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import Flask
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from marketplace.core.jobs import QUEUES, dispatch_outbox
from tests.jobs_helpers import run_jobs


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """What the server got, and the status codes it answers with (the last one repeats)."""

    port: int
    answers: list[int]
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/orders"


@contextmanager
def webhook_receiver(answers: list[int] | None = None) -> Iterator[Receiver]:
    """An http.server on a free loopback port, in a thread, for the length of the block."""
    receiver = Receiver(port=0, answers=list(answers or [200]))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            receiver.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
            index = min(len(receiver.requests), len(receiver.answers)) - 1
            status = receiver.answers[index]
            payload = b'{"ok": true}' if status < 300 else b"boom"
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def dispatch_and_run(app: Flask) -> None:
    """Hand committed outbox rows to RQ and work them off (a request does the first half after its commit)."""
    with app.app_context():
        dispatch_outbox()
    run_jobs(app)


def scheduled_retries(app: Flask) -> list[tuple[str, datetime]]:
    """The jobs RQ holds for a later retry, with the time each is due."""
    found = []
    with app.app_context():
        connection = app.extensions["redis"]
        for name in QUEUES:
            registry = ScheduledJobRegistry(queue=Queue(name, connection=connection))
            for job_id in registry.get_job_ids():
                found.append((job_id, registry.get_scheduled_time(job_id)))
    return found


def run_retries_now(app: Flask) -> int:
    """Move RQ's scheduled retries to their queues at once (what the scheduler does when they are due),
    then run them; returns how many there were."""
    moved = 0
    with app.app_context():
        connection = app.extensions["redis"]
        for name in QUEUES:
            queue = Queue(name, connection=connection)
            registry = ScheduledJobRegistry(queue=queue)
            for job_id in registry.get_job_ids():
                job = Job.fetch(job_id, connection=connection)
                registry.remove(job)
                queue.enqueue_job(job)
                moved += 1
    run_jobs(app)
    return moved
