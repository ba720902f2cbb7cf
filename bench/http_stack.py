"""Requests/s and latency of GET /healthz and the merchant dashboard under gunicorn, PostgreSQL and Redis.

The whole production stack on one machine: a fresh PostgreSQL database owned by a non-superuser role
(row-level security applies), migrated and seeded with the demo data by the ``flask`` commands,
``APP_ENV=production`` with real Redis, served by gunicorn on loopback. A merchant signs in through the
login form (CSRF token and session cookie, as a browser does); then CLIENTS threads, each on its own
connection, request each endpoint after a short warm-up, bounded by MAX_REQUESTS and MAX_SECONDS per
endpoint. Any answer but 200 counts as an error.

Besides requests/s and latency, which depend on how busy the machine is, it prints figures that do not:
the CPU time per request of the gunicorn workers (``*_app_cpu_ms``) and of the PostgreSQL backends
(``*_db_cpu_ms``), read from /proc, and the SQL statements of one request of each endpoint, counted
in-process with SQLAlchemy events (``*_sql_statements``). A Flask hello-world served the same way is the
control (``flask_hello_rps``). gunicorn is stopped and the database dropped at the end.
"""

from __future__ import annotations

import os
import secrets
import time

from bench._support import (
    REDIS_URL,
    CpuMeter,
    HttpSession,
    Server,
    environ,
    flask_command,
    fresh_database,
    gunicorn,
    load,
    log,
    postgres_backend_pids,
    production_env,
    require_postgres,
    require_redis,
    scratch_redis,
    sign_in,
)

NAME = "http_stack"

DATABASE = "bench_http_stack"
MERCHANT = ("merchant@demo.test", "merchant-demo-pass")
SHOP_NAME = "Green Hill Tea"  # on the first demo shop's dashboard


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_HTTP_{name}", default))


# Two cores run gunicorn, PostgreSQL, Redis and this load generator together: one sync worker (gunicorn's
# default class) per core. 2*cores+1 measured no better here (docs/performance.md has the comparison);
# BENCH_HTTP_WORKERS and BENCH_HTTP_THREADS (> 1: the gthread class, with keep-alive) try other setups.
WORKERS = _setting("WORKERS", 2)
THREADS = _setting("THREADS", 1)
WORKER_CLASS = "gthread" if THREADS > 1 else "sync"
CLIENTS = _setting("CLIENTS", 8)
MAX_REQUESTS = _setting("MAX_REQUESTS", 3000)  # per endpoint
MAX_SECONDS = _setting("MAX_SECONDS", 20)  # per endpoint
WARMUP_REQUESTS = 200
WARMUP_SECONDS = 3

Figures = list[tuple[str, float, str]]


def run() -> Figures:
    require_postgres()
    require_redis()
    log(NAME, f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    main: Figures = []
    extra: Figures = []
    errors = 0
    with scratch_redis(REDIS_URL) as redis_url, fresh_database(DATABASE) as database_url:
        env = production_env(database_url, redis_url)
        started = time.monotonic()
        flask_command(env, "db", "upgrade")
        flask_command(env, "seed-demo")
        log(NAME, f"database {DATABASE} migrated and seeded in {time.monotonic() - started:.1f} s")

        server_options = {"workers": WORKERS, "worker_class": WORKER_CLASS, "threads": THREADS}
        with gunicorn(env, **server_options, app="bench._hello_wsgi:app", ready_path="/") as server:
            figures, failed = _measure(server, "flask_hello", "/", {})
            extra += [figure for figure in figures if figure[0].endswith(("_rps", "_app_cpu_ms"))]
            errors += failed

        with gunicorn(env, **server_options) as server:
            log(
                NAME,
                f"gunicorn --workers {WORKERS} --worker-class {WORKER_CLASS} --threads {THREADS} "
                f"on {server.host}:{server.port}; {CLIENTS} clients",
            )
            cookie = _sign_in(server)
            for name, path, headers in (
                ("healthz", "/healthz", {}),
                ("merchant_dashboard", "/merchant/", cookie),
            ):
                figures, failed = _measure(server, name, path, headers)
                main += figures[:3]
                extra += figures[3:]
                errors += failed

        for name, count in _count_sql_statements(env).items():
            extra.append((f"{name}_sql_statements", count, "count"))
    main.append(("errors", errors, "count"))
    extra += [
        ("gunicorn_workers", WORKERS, "count"),
        ("gunicorn_threads", THREADS, "count"),
        ("clients", CLIENTS, "count"),
    ]
    return main + extra


def _measure(server: Server, name: str, path: str, headers: dict[str, str]) -> tuple[Figures, int]:
    """Warm up, then load ``path``; return its figures (rps, p50, p99 first) and its error count."""
    warmup = load(
        server.host, server.port, path, headers=headers, clients=CLIENTS,
        max_requests=WARMUP_REQUESTS, max_seconds=WARMUP_SECONDS,
    )  # fmt: skip
    app_cpu = CpuMeter(server.worker_pids)
    db_cpu = CpuMeter(lambda: postgres_backend_pids(DATABASE))
    app_cpu.start()
    db_cpu.start()
    client_cpu = time.process_time()
    result = load(
        server.host, server.port, path, headers=headers, clients=CLIENTS,
        max_requests=MAX_REQUESTS, max_seconds=MAX_SECONDS,
    )  # fmt: skip
    client_cpu = time.process_time() - client_cpu
    app_cpu.stop()
    db_cpu.stop()

    requests = result.ok + result.errors
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(result.statuses.items(), key=str))
    log(
        NAME,
        f"{name}: {requests} requests in {result.elapsed:.1f} s ({statuses}); "
        f"the load generator used {client_cpu / result.elapsed * 100:.0f}% of one core",
    )
    figures: Figures = [
        (f"{name}_rps", result.rps, "1/s"),
        (f"{name}_p50_ms", result.percentile_ms(50), "ms"),
        (f"{name}_p99_ms", result.percentile_ms(99), "ms"),
        (f"{name}_requests", requests, "count"),
    ]
    if requests and app_cpu.seconds is not None:
        figures.append((f"{name}_app_cpu_ms", app_cpu.seconds / requests * 1000, "ms"))
    if requests and db_cpu.seconds is not None:
        figures.append((f"{name}_db_cpu_ms", db_cpu.seconds / requests * 1000, "ms"))
    return figures, warmup.errors + result.errors


def _sign_in(server: Server) -> dict[str, str]:
    """Sign the merchant in like a browser; return the Cookie header that carries the session."""
    browser = HttpSession(server.host, server.port)
    try:
        landing = sign_in(browser, "/merchant/login", *MERCHANT)
        dashboard = browser.get(landing)
        if dashboard.status != 200 or SHOP_NAME not in dashboard.text:
            raise RuntimeError(f"GET {landing} after sign-in: {dashboard.status}, not the shop's dashboard")
        return browser.cookie_header()
    finally:
        browser.close()


def _count_sql_statements(env: dict[str, str]) -> dict[str, int]:
    """One request of each endpoint, in-process on the same database: how many SQL statements it runs.

    Counted with SQLAlchemy's ``before_cursor_execute``; the pool's pre-ping, BEGIN and the closing
    ROLLBACK are round trips on top of these (docs/performance.md).
    """
    from sqlalchemy import event

    from marketplace.app import create_app
    from marketplace.extensions import db

    with environ({**env, "SECRET_KEY": secrets.token_urlsafe(36)}):
        app = create_app({"WTF_CSRF_ENABLED": False})  # the form's token is not what is counted here
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    counts = {}
    try:
        merchant = app.test_client()
        answer = merchant.post("/merchant/login", data={"email": MERCHANT[0], "password": MERCHANT[1]})
        if answer.status_code != 302:
            raise RuntimeError(f"in-process sign-in: {answer.status_code}")
        event.listen(engine, "before_cursor_execute", count)
        for name, path, client in (
            ("healthz", "/healthz", app.test_client()),
            ("merchant_dashboard", "/merchant/", merchant),
        ):
            client.get(path)  # the first request of a kind may load things once
            statements.clear()
            status = client.get(path).status_code
            if status != 200:
                raise RuntimeError(f"in-process GET {path}: {status}")
            counts[name] = len(statements)
    finally:
        if event.contains(engine, "before_cursor_execute", count):
            event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
    return counts
