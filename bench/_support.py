"""Shared helpers of the benchmarks: services, a throwaway database, gunicorn, and an HTTP load generator.

Nothing here measures by itself; a benchmark module combines these and returns its figures.
"""

from __future__ import annotations

import http.client
import itertools
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent

# The services of DESIGN.md's "Real" setup on this machine; overridable for another one.
POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_ADMIN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
# LOGIN NOSUPERUSER NOBYPASSRLS: row-level security applies to the app, as in production.
BENCH_ROLE = "marketplace_bench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Skip(Exception):  # noqa: N818 - reads as `raise Skip("why")`
    """A service the benchmark needs does not answer: the runner prints a skip line, exit status stays 0."""


def log(benchmark: str, message: str) -> None:
    """Progress for the human watching, on stderr; stdout carries only figures (and skip lines)."""
    print(f"[{benchmark}] {message}", file=sys.stderr, flush=True)


# --- services ---------------------------------------------------------------------------------


def require_postgres() -> None:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise Skip(f"PostgreSQL does not answer ({POSTGRES_ADMIN}): {type(exc).__name__}") from exc


def require_redis(url: str = REDIS_URL) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        raise Skip(f"Redis does not answer ({url}): {type(exc).__name__}") from exc


@contextmanager
def scratch_redis(url: str = REDIS_URL) -> Iterator[str]:
    """Use one Redis database for the run; empty it afterwards if it was empty before (else leave it)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    was_empty = client.dbsize() == 0
    try:
        yield url
    finally:
        if was_empty:
            client.flushdb()
        client.close()


def _admin_connect():
    import psycopg

    return psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)


@contextmanager
def fresh_database(name: str, role: str = BENCH_ROLE) -> Iterator[str]:
    """A new PostgreSQL database owned by a non-superuser, non-BYPASSRLS role; dropped afterwards.

    Yields the app's ``DATABASE_URL`` (``postgresql+psycopg://role@host:port/name``).
    """
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    if not _IDENTIFIER.match(name) or not _IDENTIFIER.match(role):
        raise ValueError(f"not a plain identifier: {name!r} / {role!r}")
    with _admin_connect() as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(role))
        )
    params = conninfo_to_dict(POSTGRES_ADMIN)
    host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
    try:
        yield f"postgresql+psycopg://{role}@{host}:{port}/{name}"
    finally:
        with _admin_connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- the application as a process ----------------------------------------------------------------


def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of a production deployment, pointed at the benchmark's own database and Redis."""
    env = dict(os.environ)
    for name in ("FLASK_DEBUG", "TRUSTED_PROXIES"):
        env.pop(name, None)
    env.update(
        APP_ENV="production",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(36),
        GATEWAY_SECRET=secrets.token_urlsafe(36),  # required in production (marketplace/config.py)
        PUBLIC_BASE_URL="http://127.0.0.1",
        SECURE_COOKIES="0",  # plain HTTP on loopback; the cookies must come back
        FLASK_APP="wsgi.py",
        PYTHONUNBUFFERED="1",
    )
    return env


def flask_command(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run ``flask <args>`` in the repository like an operator would; raise with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    pid: int  # the gunicorn master

    def worker_pids(self) -> list[int]:
        return child_pids(self.pid)


@contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    workers: int,
    worker_class: str = "sync",
    threads: int = 1,
    app: str = "wsgi:app",
    ready_path: str = "/healthz",
    start_timeout: float = 30,
) -> Iterator[Server]:
    """``gunicorn -w N -b 127.0.0.1:<free port> wsgi:app``, ready (``ready_path`` answers 200) when yielded;
    stopped when the block ends."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(workers),
        "--worker-class", worker_class,
        "--threads", str(threads),
        "--bind", f"127.0.0.1:{port}",
        "--graceful-timeout", "5",
        app,
    ]  # fmt: skip
    with tempfile.TemporaryFile(mode="w+", prefix="bench-gunicorn-") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)

        def tail() -> str:
            output.flush()
            output.seek(0)
            return "".join(output.readlines()[-40:])

        try:
            deadline = time.monotonic() + start_timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {process.returncode}")
                probe = HttpSession("127.0.0.1", port, timeout=2)
                try:
                    if probe.get(ready_path).status == 200:
                        break
                except (OSError, http.client.HTTPException):
                    pass
                finally:
                    probe.close()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer {ready_path} within {start_timeout:.0f} s")
                time.sleep(0.2)
            yield Server("127.0.0.1", port, process.pid)
        except BaseException:
            print(f"--- gunicorn output (last lines) ---\n{tail()}", file=sys.stderr)
            raise
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


# --- CPU time of other processes (Linux /proc), robust to a busy machine where wall time is not ---------


def child_pids(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as file:
            return [int(child) for child in file.read().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, or None if it is gone or /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_backend_pids(database: str) -> list[int]:
    with _admin_connect() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,)
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """CPU seconds used by a changing set of processes between ``start()`` and ``stop()``."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self.pids = pids
        self.before: dict[int, float] = {}
        self.seconds: float | None = None

    def _sample(self) -> dict[int, float]:
        samples = {pid: cpu_seconds(pid) for pid in self.pids()}
        return {pid: value for pid, value in samples.items() if value is not None}

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> float | None:
        after = self._sample()
        self.seconds = (
            sum(value - self.before.get(pid, 0.0) for pid, value in after.items()) if after else None
        )
        return self.seconds


# --- HTTP ------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class HttpSession:
    """A tiny keep-alive HTTP/1.1 client with a cookie jar, for signing in before the load."""

    def __init__(self, host: str, port: int, timeout: float = 10) -> None:
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ):
        all_headers = {"User-Agent": "marketplace-bench", **self.cookie_header(), **(headers or {})}
        self.connection.request(method, path, body=body, headers=all_headers)
        raw = self.connection.getresponse()
        response = Response(raw.status, raw.headers, raw.read())
        for header in raw.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, data: dict[str, str]) -> Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body=urlencode(data).encode(), headers=headers)

    def close(self) -> None:
        self.connection.close()


_CSRF_INPUT = re.compile(
    r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"'
)


def sign_in(session: HttpSession, login_path: str, email: str, password: str) -> str:
    """Sign in through a portal's login form (CSRF token from the page, session cookie kept); return where it sent us."""
    page = session.get(login_path)
    match = _CSRF_INPUT.search(page.text)
    if page.status != 200 or not match:
        raise RuntimeError(f"GET {login_path}: {page.status}, no csrf_token in the form")
    token = match.group(1) or match.group(2)
    answer = session.post_form(login_path, {"csrf_token": token, "email": email, "password": password})
    location = answer.headers.get("Location", "")
    if answer.status != 302:
        raise RuntimeError(f"POST {login_path} as {email}: {answer.status} instead of a redirect")
    return urlsplit(location).path


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, successful (200: see load) answers only
    statuses: Counter = field(default_factory=Counter)  # status code, or "error" for a failed connection
    elapsed: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def load(
    host: str,
    port: int,
    path: str | Callable[[int], str],
    *,
    headers: dict[str, str],
    clients: int,
    max_requests: int,
    max_seconds: float,
    method: str = "GET",
    body: Callable[[int], tuple[bytes, dict[str, str]]] | None = None,
    ok_statuses: tuple[int, ...] = (200,),
) -> LoadResult:
    """GET ``path`` from ``clients`` threads, each on its own keep-alive connection, until ``max_requests``
    are sent or ``max_seconds`` have passed, whichever comes first. A non-200 answer is an error.
    ``path`` may be a function of the request number, to ask for a different URL each time (no cache hits).
    For other methods, ``body(n)`` gives request n's body and its own headers (e.g. a form and the session
    cookie of one shopper), and ``ok_statuses`` the answers that count as successful (e.g. 302 and 409).

    The server may close a connection after each answer (gunicorn's sync worker does); the client then
    reconnects, and the connect time is part of that request's latency.
    """
    result = LoadResult()
    tickets = itertools.count()  # next() on it is atomic under the GIL: a shared request budget
    start = time.perf_counter()
    deadline = start + max_seconds
    request_headers = {"User-Agent": "marketplace-bench", **headers}

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        latencies, statuses = [], Counter()
        try:
            while (n := next(tickets)) < max_requests and time.perf_counter() < deadline:
                payload, own_headers = body(n) if body is not None else (None, {})
                sent = time.perf_counter()
                try:
                    connection.request(
                        method,
                        path(n) if callable(path) else path,
                        body=payload,
                        headers={**request_headers, **own_headers},
                    )
                    response = connection.getresponse()
                    response.read()
                    status: int | str = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()
                    status = "error"
                if status in ok_statuses:
                    latencies.append(time.perf_counter() - sent)
                statuses[status] += 1
        finally:
            connection.close()
            with lock:
                result.latencies.extend(latencies)
                result.statuses.update(statuses)

    lock = threading.Lock()
    threads = [threading.Thread(target=client, name=f"bench-client-{i}", daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max_seconds + 30)  # each request times out after 10 s
    result.elapsed = time.perf_counter() - start
    return result


@contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    """Run with exactly ``env`` as the process environment (create_app reads its settings from there)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def app_with_env(env: dict[str, str], config: dict | None = None):
    """The app as gunicorn would build it from ``env`` (same SECRET_KEY, so what it signs is accepted there)."""
    from marketplace.app import create_app

    with environ(env):
        return create_app(config)


def dispose_app(app) -> None:
    """Close the app's pooled connections so the scratch database can be dropped."""
    from marketplace.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
