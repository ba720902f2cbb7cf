"""Pick scan: the handheld's scan round trip (htmx POST to the rendered partial) under gunicorn on PostgreSQL.

A fresh PostgreSQL database owned by a non-superuser, non-BYPASSRLS role is migrated in-process and filled by
``bench.wave_release.populate``: the platform warehouse with 4,000 bins, 2,000 SKUs with barcodes in two bins
each, and ORDERS awaiting-shipment orders of 1-3 lines. A wave of them is released with
``outbound.release_wave`` and HISTORY picked tasks of an earlier, finished wave are added set-based (a year of
picking leaves many rows in ``pick_tasks``). A warehouse user with the ``picker`` role is created with the
identity services, and every open task of the wave is claimed by them (one ``UPDATE``): the scans below go to
many different tasks and bins, not one hot row. ``VACUUM ANALYZE``.

``APP_ENV=production``, real Redis (database 14), ``gunicorn --workers 2 --worker-class gthread --threads 2``
(one worker per core; threads keep the handheld's keep-alive connection). The picker signs in over HTTP through
``/wms/login`` (CSRF token from the form, session cookie kept); the CSRF token for the scans is read from
``GET /wms/pick`` as htmx sends it (``X-CSRFToken``, and ``csrf_token`` in the form). Each request is
``POST /wms/pick/<task>/scan`` with ``HX-Request: true`` and the form fields ``scan``, ``bin_scan``, ``token``:

- ``bin``: the task's bin label scanned first (``bin_scan`` empty): 200 and the green partial;
- ``wrong_item``: the bin remembered, a wrong item scanned: 422 and the red partial (refused, nothing changes,
  the transaction is rolled back);
- ``confirm`` (extra): the right item scanned after the bin, which picks the task (units out of the bin, task
  picked, commit): 200 with the next task's screen swapped in place; each task once.

Each kind first from one client (a picker waiting for each answer: ``*_p50_ms`` … ``*_p99_ms``, after WARMUP
untimed requests), then ``bin`` and ``wrong_item`` from CLIENTS clients at once (``*_per_s``, ``*_loaded_p50_ms``).
Any other status is an error. CPU per request of the workers and of the PostgreSQL backends is read from /proc
during the one-client phases, and the SQL statements and in-process time of one request of each kind are
counted with the app's test client. The database is dropped.
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import time
from urllib.parse import urlencode

from bench._support import (
    REDIS_URL,
    CpuMeter,
    HttpSession,
    app_with_env,
    dispose_app,
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
from bench.wave_release import populate, release

NAME = "pick_scan"
DATABASE = "bench_pick_scan"


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_PICK_SCAN_{name}", default))


ORDERS = _setting("ORDERS", 2_000)
HISTORY = _setting("HISTORY", 200_000)  # picked tasks of an earlier wave
WORKERS = _setting("WORKERS", 2)
THREADS = _setting("THREADS", 2)
WORKER_CLASS = "gthread" if THREADS > 1 else "sync"
CLIENTS = _setting("CLIENTS", 4)  # the loaded phase
REQUESTS = _setting("REQUESTS", 1_000)  # per kind and phase
CONFIRMS = _setting("CONFIRMS", 300)
WARMUP = 50
MAX_SECONDS = _setting("MAX_SECONDS", 30)  # per kind and phase
EMAIL = "picker@bench.test"
PASSWORD = secrets.token_urlsafe(18)  # the throwaway picker of this run
USER_AGENT = "marketplace-bench"
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

Figures = list[tuple[str, float, str]]


def run() -> Figures:
    require_postgres()
    require_redis()
    log(NAME, f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    main: Figures = []
    extra: Figures = []
    with scratch_redis(REDIS_URL) as redis_url, fresh_database(DATABASE) as database_url:
        env = production_env(database_url, redis_url)
        app = app_with_env(env)
        started = time.monotonic()
        tasks = _populate(app)
        log(NAME, f"{len(tasks)} tasks claimed by the picker, set up in {time.monotonic() - started:.1f} s")
        confirm_tasks, scan_tasks = tasks[:CONFIRMS], tasks[CONFIRMS:]
        server_options = {
            "workers": WORKERS,
            "worker_class": WORKER_CLASS,
            "threads": THREADS,
            "start_timeout": 120,
        }
        with gunicorn(env, **server_options) as server:
            log(
                NAME,
                f"gunicorn --workers {WORKERS} --worker-class {WORKER_CLASS} --threads {THREADS} "
                f"on {server.host}:{server.port}",
            )
            headers = _sign_in(server)
            forms = {
                "bin": lambda task: {"scan": task[1], "bin_scan": "", "token": secrets.token_urlsafe(16)},
                "wrong_item": lambda task: {"scan": "NOT-THIS-ITEM", "bin_scan": task[1], "token": "t"},
            }
            statuses = {"bin": 200, "wrong_item": 422, "confirm": 200}
            _check(server, headers, scan_tasks[0], forms)
            for kind, form in forms.items():
                result, cpu = _phase(server, headers, scan_tasks, kind, form, statuses[kind], clients=1)
                main += _latency(kind, result)
                extra += cpu
            for kind, form in forms.items():
                result, _ = _phase(server, headers, scan_tasks, kind, form, statuses[kind], clients=CLIENTS)
                main += [(f"{kind}_per_s", result.rps, "1/s")]
                extra += [
                    (f"{kind}_loaded_p50_ms", result.percentile_ms(50), "ms"),
                    (f"{kind}_loaded_p99_ms", result.percentile_ms(99), "ms"),
                    (f"{kind}_loaded_errors", result.errors, "count"),
                ]

            def confirm(task):
                return {"scan": task[2], "bin_scan": task[1], "token": secrets.token_urlsafe(16)}

            result, cpu = _phase(
                server,
                headers,
                confirm_tasks,
                "confirm",
                confirm,
                statuses["confirm"],
                clients=1,
                each_once=True,
            )
            extra += _latency("confirm", result) + cpu
        picked = _picked(app)
        extra += [(f"{kind}_sql_statements", n, "count") for kind, n in _in_process(app, tasks).items()]
        if picked != CONFIRMS:
            log(NAME, f"MISMATCH: {CONFIRMS} confirms sent, {picked} tasks picked")
        extra.append(("tasks_picked", picked, "count"))
        dispose_app(app)
    extra += [
        ("claimed_tasks", len(tasks), "count"),
        ("history_tasks", HISTORY, "count"),
        ("gunicorn_workers", WORKERS, "count"),
        ("gunicorn_threads", THREADS, "count"),
        ("clients", CLIENTS, "count"),
    ]
    return main + extra


# --- set-up ------------------------------------------------------------------------------------------


def _populate(app) -> list[tuple[int, str, str]]:
    """The floor, a released wave, history, the picker with every open task claimed: (task id, bin barcode,
    SKU barcode) per claimed task in route order."""
    from sqlalchemy import text

    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.extensions import db
    from marketplace.identity.models import UserKind
    from marketplace.identity.services import create_user, role_by_code, sync_default_roles

    floor = populate(app, orders=ORDERS)
    wave_id = release(app, floor, ORDERS)
    with app.app_context(), acting_as(SYSTEM):
        sync_default_roles(db.session)
        picker = create_user(
            db.session,
            kind=UserKind.WAREHOUSE,
            email=EMAIL,
            password=PASSWORD,
            name="Bench picker",
            roles=[role_by_code(db.session, UserKind.WAREHOUSE, "picker")],
        )
        params = {"wave": wave_id, "picker": picker.id, "history": HISTORY, "w": floor.warehouse_id}
        for statement in (
            # An earlier wave, picked: its tasks repeat this wave's lines (only their number matters here).
            """INSERT INTO waves (warehouse_id, number, status, filters, created_at, updated_at)
               VALUES (:w, 0, 'PICKED', '{}', now() - interval '30 days', now() - interval '30 days')""",
            """INSERT INTO pick_tasks (tenant_id, wave_id, order_id, order_line_id, sku_id, bin_id, quantity,
                                      quantity_picked, status, claimed_by, sequence, short_reason, scan_token,
                                      created_at, updated_at)
               SELECT t.tenant_id, (SELECT id FROM waves WHERE warehouse_id = :w AND number = 0), t.order_id,
                      t.order_line_id, t.sku_id, t.bin_id, t.quantity, t.quantity, 'PICKED', :picker, t.sequence,
                      '', 'history-' || g || '-' || t.id, now() - interval '30 days', now() - interval '30 days'
               FROM generate_series(1, CEIL(:history / GREATEST((SELECT count(*) FROM pick_tasks
                                                                 WHERE wave_id = :wave AND status = 'OPEN'), 1)
                                            )::int) AS g
               CROSS JOIN (SELECT * FROM pick_tasks WHERE wave_id = :wave AND status = 'OPEN') t
               LIMIT :history""",
            """UPDATE pick_tasks SET status = 'CLAIMED', claimed_by = :picker
               WHERE wave_id = :wave AND status = 'OPEN'""",
            "UPDATE waves SET status = 'PICKING' WHERE id = :wave",
        ):
            db.session.execute(text(statement), params)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE pick_tasks, waves, users, roles, user_roles"))
        tasks = db.session.execute(
            text(
                """SELECT t.id, b.barcode, s.barcode FROM pick_tasks t
                   JOIN bins b ON b.id = t.bin_id JOIN skus s ON s.id = t.sku_id
                   WHERE t.wave_id = :wave AND t.status = 'CLAIMED' ORDER BY t.sequence, t.id"""
            ),
            params,
        ).all()
        db.session.remove()
    if len(tasks) < CONFIRMS + 100:
        raise RuntimeError(f"set-up failed: only {len(tasks)} claimed tasks")
    return [tuple(row) for row in tasks]


def _sign_in(server) -> dict[str, str]:
    """Sign the picker in over HTTP; the headers of an htmx scan (cookie, CSRF token) from the pick page."""
    browser = HttpSession(server.host, server.port)
    try:
        landed = sign_in(browser, "/wms/login", EMAIL, PASSWORD)
        page = browser.get("/wms/pick")
        match = _META_CSRF.search(page.text)
        if page.status != 200 or not match or "pick-bin" not in page.text:
            raise RuntimeError(f"GET /wms/pick after signing in (landed on {landed}): {page.status}")
        return {
            **browser.cookie_header(),
            "X-CSRFToken": match.group(1),
            "HX-Request": "true",
            "HX-Current-URL": f"http://{server.host}:{server.port}/wms/pick",
            "Content-Type": "application/x-www-form-urlencoded",
        }
    finally:
        browser.close()


def _body(headers: dict[str, str], form: dict[str, str]) -> bytes:
    return urlencode({"csrf_token": headers["X-CSRFToken"], **form}).encode()


def _check(server, headers, task, forms) -> None:
    """One request of each scan kind must answer what the page expects (status and partial)."""
    expected = {"bin": (200, "scan-ok"), "wrong_item": (422, "scan-error")}
    browser = HttpSession(server.host, server.port)
    try:
        for kind, form in forms.items():
            answer = browser.request(
                "POST", f"/wms/pick/{task[0]}/scan", body=_body(headers, form(task)), headers=headers
            )
            status, css = expected[kind]
            if answer.status != status or css not in answer.text or "<html" in answer.text:
                raise RuntimeError(f"{kind} scan: {answer.status} instead of {status} with a {css} partial")
    finally:
        browser.close()


def _phase(server, headers, tasks, kind: str, form, status: int, *, clients: int, each_once: bool = False):
    """Up to REQUESTS scans (or one per task with ``each_once``) from ``clients`` threads; the result and, for
    one client, the CPU per request of the workers and of PostgreSQL."""
    bodies = [_body(headers, form(task)) for task in tasks]
    paths = [f"/wms/pick/{task[0]}/scan" for task in tasks]
    offset = 0 if each_once else secrets.randbelow(len(tasks))

    def at(n: int) -> int:
        return (offset + n) % len(tasks)

    common = {"headers": headers, "method": "POST", "ok_statuses": (status,), "max_seconds": MAX_SECONDS}
    if not each_once:  # untimed warm-up: workers' templates, connections, caches
        load(server.host, server.port, lambda n: paths[at(n)], clients=clients, max_requests=WARMUP,
             body=lambda n: (bodies[at(n)], {}), **common)  # fmt: skip
        offset += WARMUP
    app_cpu = CpuMeter(server.worker_pids)
    db_cpu = CpuMeter(lambda: postgres_backend_pids(DATABASE))
    app_cpu.start()
    db_cpu.start()
    requests = len(tasks) if each_once else REQUESTS
    result = load(server.host, server.port, lambda n: paths[at(n)], clients=clients, max_requests=requests,
                  body=lambda n: (bodies[at(n)], {}), **common)  # fmt: skip
    app_cpu.stop()
    db_cpu.stop()
    sent = sum(result.statuses.values())
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items(), key=str))
    log(
        NAME,
        f"{kind}, {clients} client(s): {sent} requests in {result.elapsed:.2f} s ({statuses}), "
        f"p50 {result.percentile_ms(50):.1f} ms, p99 {result.percentile_ms(99):.1f} ms, {result.rps:.1f}/s",
    )
    cpu: Figures = []
    if clients == 1 and sent:
        if app_cpu.seconds is not None:
            cpu.append((f"{kind}_app_cpu_ms", app_cpu.seconds / sent * 1000, "ms"))
        if db_cpu.seconds is not None:
            cpu.append((f"{kind}_db_cpu_ms", db_cpu.seconds / sent * 1000, "ms"))
    return result, cpu


def _latency(kind: str, result) -> Figures:
    return [
        (f"{kind}_p50_ms", result.percentile_ms(50), "ms"),
        (f"{kind}_p95_ms", result.percentile_ms(95), "ms"),
        (f"{kind}_p99_ms", result.percentile_ms(99), "ms"),
        (f"{kind}_errors", result.errors, "count"),
    ]


# --- afterwards ----------------------------------------------------------------------------------------


def _in_process(app, tasks) -> dict[str, int]:
    """SQL statements of one scan of each kind through the app's test client, signed in through the form; the
    in-process time (median of 20) and its SQL share go to stderr."""
    from sqlalchemy import event

    from marketplace.extensions import db

    client = app.test_client()
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    base = {"User-Agent": USER_AGENT}
    login_page = client.get("/wms/login", headers=base, environ_base=environ).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    answer = client.post(
        "/wms/login",
        data={"csrf_token": token, "email": EMAIL, "password": PASSWORD},
        headers=base,
        environ_base=environ,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"in-process sign-in: {answer.status_code}")
    token = _META_CSRF.search(client.get("/wms/pick", headers=base, environ_base=environ).text).group(1)
    headers = {**base, "HX-Request": "true", "X-CSRFToken": token}
    statements: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        elapsed = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        statements.append((elapsed, " ".join(statement.split())[:90]))

    kinds = {
        "bin": (lambda t: {"scan": t[1], "bin_scan": "", "token": "x"}, 200),
        "wrong_item": (lambda t: {"scan": "NOT-THIS-ITEM", "bin_scan": t[1], "token": "x"}, 422),
        "confirm": (lambda t: {"scan": t[2], "bin_scan": t[1], "token": secrets.token_urlsafe(8)}, 200),
    }
    counts = {}
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for kind, (form, status) in kinds.items():
            walls, sqls, numbers = [], [], []
            for n in range(20):
                task = tasks[-1 - n]  # not used by the confirm phase
                statements.clear()
                began = time.perf_counter()
                answer = client.post(
                    f"/wms/pick/{task[0]}/scan",
                    data={"csrf_token": token, **form(task)},
                    headers=headers,
                    environ_base=environ,
                )
                walls.append(time.perf_counter() - began)
                sqls.append(sum(elapsed for elapsed, _ in statements))
                numbers.append(len(statements))
                if answer.status_code != status:
                    raise RuntimeError(f"in-process {kind} scan: {answer.status_code} instead of {status}")
            counts[kind] = numbers[-1]
            slowest = max(statements)
            log(
                NAME,
                f"in-process {kind}: median {statistics.median(walls) * 1000:.1f} ms a request, of which SQL "
                f"{statistics.median(sqls) * 1000:.1f} ms in {numbers[-1]} statements; slowest of the last: "
                f"{slowest[0] * 1000:.1f} ms {slowest[1]}",
            )
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return counts


def _picked(app) -> int:
    from sqlalchemy import text

    from marketplace.extensions import db

    with app.app_context():
        picked = db.session.scalar(
            text("SELECT count(*) FROM pick_tasks t JOIN waves w ON w.id = t.wave_id "
                 "WHERE w.number <> 0 AND t.status = 'PICKED'")
        )  # fmt: skip
        db.session.remove()
    return int(picked)
