"""Flash sale: 1,000 shoppers check out one SKU with 100 units at once, through gunicorn on PostgreSQL.

A fresh PostgreSQL database owned by a non-superuser, non-BYPASSRLS role is migrated in-process; one shop, one
category and one listed product with one SKU of 100 units in the shop's own warehouse are written, then 1,000
shoppers set-based (``INSERT ... SELECT generate_series``): each with a default delivery address and a cart line
of the hot SKU (quantity 1). Signing in is not part of what is measured (it is argon2-slow on purpose): each
shopper's session cookie is minted before the run with the app's own session serializer, after Flask-Login's
``login_user`` and Flask-WTF's ``generate_csrf`` wrote what a real sign-in and checkout page write into it, in
a request context with the same client address and User-Agent the load generator sends. One GET /checkout per
worker checks that a minted session is accepted and shows the expected total, and warms the workers up.

Then the 1,000 checkouts: POST /checkout (CSRF token, a fresh idempotency key, the expected total, the default
address, no invoice; no internal tender, so the whole amount goes to the gateway) from CLIENTS threads on their
own connections, every shopper once, as fast as the server answers. A 302 is an order placed (the redirect to
the gateway's hosted page), a 409 a sold-out answer (the checkout page re-rendered with the message), anything
else an error. Afterwards SQL counts what was written: orders, units ordered, the stock row; ``oversold_units``
is the units promised beyond the 100 in stock and must be 0. The SQL statements of one sold-out and one placed
checkout are counted in-process (one unit is put back for the latter, after the checks).

``pgbench_simple_update_tps`` is the bound on this machine for short write transactions: ``pgbench -N`` (the
"simple update" script) with 8 clients for 10 s on a scale-10 scratch database. Both databases are dropped.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
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
)

NAME = "flash_sale"
DATABASE = "bench_flash_sale"
PGBENCH_DATABASE = "bench_flash_sale_pgbench"


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_FLASH_SALE_{name}", default))


SHOPPERS = _setting("SHOPPERS", 1000)
UNITS = _setting("UNITS", 100)
PRICE = 9_900  # fen; the shop has no shipping template, so the total is the price
# Two workers for two cores; threads (the gthread class) let a worker serve another checkout while one waits for
# the hot stock row's lock or the database. BENCH_FLASH_SALE_THREADS=1 tries gunicorn's sync class.
WORKERS = _setting("WORKERS", 2)
THREADS = _setting("THREADS", 4)
WORKER_CLASS = "gthread" if THREADS > 1 else "sync"
CLIENTS = _setting("CLIENTS", 2 * WORKERS * THREADS)  # enough to keep every worker thread busy, with a queue
MAX_SECONDS = _setting("MAX_SECONDS", 90)
USER_AGENT = "marketplace-bench"  # what the load generator sends; Flask-Login's session identifier hashes it
PGBENCH_SCALE, PGBENCH_CLIENTS, PGBENCH_THREADS, PGBENCH_SECONDS = 10, 8, 2, 10

Figures = list[tuple[str, float, str]]


@dataclass(frozen=True)
class Sale:
    shop_id: int
    sku_id: int
    shoppers: list[tuple[int, int]]  # (user id, default address id)


def run() -> Figures:
    require_postgres()
    require_redis()
    log(NAME, f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    main: Figures = []
    extra: Figures = []
    with scratch_redis(REDIS_URL) as redis_url, fresh_database(DATABASE) as database_url:
        env = production_env(database_url, redis_url)
        started = time.monotonic()
        app = app_with_env(env)
        sale = _populate(app)
        cookies = _mint_sessions(app, sale)
        log(
            NAME,
            f"{SHOPPERS} shoppers with a cart line and an address, {UNITS} units, sessions minted "
            f"in {time.monotonic() - started:.1f} s",
        )
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        forms = [
            urlencode(
                {
                    "csrf_token": token,
                    "idempotency_key": secrets.token_hex(16),
                    "expected_total": str(PRICE),
                    "address_id": str(address_id),
                    "invoice_type": "none",
                }
            ).encode()
            for (_, address_id), (_, token) in zip(sale.shoppers, cookies, strict=True)
        ]

        def body(n: int) -> tuple[bytes, dict[str, str]]:
            return forms[n], {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"{cookie_name}={cookies[n][0]}",
            }

        # start_timeout: booting the workers (importing the app) took over 30 s when the machine was very busy
        server_options = {
            "workers": WORKERS, "worker_class": WORKER_CLASS, "threads": THREADS, "start_timeout": 120,
        }  # fmt: skip
        with gunicorn(env, **server_options) as server:
            log(
                NAME,
                f"gunicorn --workers {WORKERS} --worker-class {WORKER_CLASS} --threads {THREADS} "
                f"on {server.host}:{server.port}; {CLIENTS} clients",
            )
            _check_and_warm_up(server, cookie_name, cookies, sale)
            app_cpu = CpuMeter(server.worker_pids)
            db_cpu = CpuMeter(lambda: postgres_backend_pids(DATABASE))
            app_cpu.start()
            db_cpu.start()
            client_cpu = time.process_time()
            result = load(
                server.host, server.port, "/checkout", headers={}, clients=CLIENTS,
                max_requests=SHOPPERS, max_seconds=MAX_SECONDS,
                method="POST", body=body, ok_statuses=(302, 409),
            )  # fmt: skip
            client_cpu = time.process_time() - client_cpu
            app_cpu.stop()
            db_cpu.stop()
        requests = sum(result.statuses.values())
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(result.statuses.items(), key=str))
        log(
            NAME,
            f"{requests} checkouts in {result.elapsed:.2f} s ({statuses}); "
            f"the load generator used {client_cpu / result.elapsed * 100:.0f}% of one core",
        )
        written = _verify(app, sale)
        placed_responses = result.statuses.get(302, 0)
        if written["orders"] != placed_responses:
            log(
                NAME, f"MISMATCH: {placed_responses} redirects but {written['orders']} orders in the database"
            )
        log(NAME, f"in the database: {written}")
        main += [
            ("checkouts_per_s", requests / result.elapsed if result.elapsed else 0.0, "1/s"),
            ("checkouts", requests, "count"),  # fewer than SHOPPERS only if MAX_SECONDS cut the run short
            ("orders_placed", written["orders"], "count"),
            ("p50_ms", result.percentile_ms(50), "ms"),
            ("p99_ms", result.percentile_ms(99), "ms"),
            ("oversold_units", max(0, written["units_ordered"] - UNITS), "units"),
            ("sold_out_responses", result.statuses.get(409, 0), "count"),
            ("errors", result.errors, "count"),  # any answer but 302 and 409, or no answer
        ]
        if requests and app_cpu.seconds is not None:
            extra.append(("app_cpu_ms", app_cpu.seconds / requests * 1000, "ms"))
        if requests and db_cpu.seconds is not None:
            extra.append(("db_cpu_ms", db_cpu.seconds / requests * 1000, "ms"))
        extra += [
            ("units_reserved", written["reserved"], "units"),
            ("units_available", written["available"], "units"),
        ]
        for name, count in _count_sql_statements(app, sale, cookie_name, cookies, forms).items():
            extra.append((f"{name}_sql_statements", count, "count"))
        dispose_app(app)
    tps = _pgbench_tps()
    if tps is not None:
        main.append(("pgbench_simple_update_tps", tps, "1/s"))
    extra += [
        ("shoppers", SHOPPERS, "count"),
        ("units", UNITS, "units"),
        ("gunicorn_workers", WORKERS, "count"),
        ("gunicorn_threads", THREADS, "count"),
        ("clients", CLIENTS, "count"),
    ]
    return main + extra


# --- set-up ------------------------------------------------------------------------------------------


def _populate(app) -> Sale:
    """Migrate; one shop with the hot SKU (via the services where they exist, SQL for the catalogue rows), then
    the shoppers, their addresses and cart lines set-based."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select, text

    from marketplace.catalog.models import Product, ProductStatus, Sku
    from marketplace.catalog.services import save_category
    from marketplace.catalog.tokens import document_tokens
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.core.db import utcnow
    from marketplace.extensions import db
    from marketplace.identity.passwords import hash_password
    from marketplace.merchants.services import create_merchant

    with app.app_context(), acting_as(SYSTEM):
        upgrade(revision="heads")
        shop = create_merchant(db.session, name="Flash Shop", slug="flash-shop")
        category = save_category(db.session, name="耳机", name_en="Headphones", position=0)
        db.session.commit()
        title = "限时秒杀 降噪蓝牙耳机 Flash sale noise-cancelling headphones"
        now = utcnow()
        product_id = db.session.scalar(
            insert(Product)
            .values(
                tenant_id=shop.id,
                title=title,
                category_id=category.id,
                status=ProductStatus.APPROVED,
                is_listed=True,
                specs=[],
                attributes={},
                min_price=PRICE,
                max_price=PRICE,
                sales_count=0,
                listed_at=now,
                approved_at=now,
                search_tokens=document_tokens(title, "", "", category.name, category.name_en),
                description_html=f"<p>{title}</p>",
            )
            .returning(Product.id)
        )
        sku_id = db.session.scalar(
            insert(Sku)
            .values(
                product_id=product_id,
                tenant_id=shop.id,
                code="FLASH-1",
                spec_values={},
                spec_key="",
                price=PRICE,
                weight_g=300,
                is_active=True,
                position=0,
            )  # fmt: skip
            .returning(Sku.id)
        )
        params = {"shop": shop.id, "sku": sku_id, "units": UNITS, "n": SHOPPERS, "price": PRICE}
        # A real argon2 hash (of a password nobody uses): the rows look like signed-up shoppers.
        params["hash"] = hash_password(secrets.token_urlsafe(16))
        for statement in (
            """INSERT INTO warehouses (code, name, merchant_id, address, is_active, created_at, updated_at)
               VALUES ('SHOP-' || :shop, 'Flash Shop', :shop, '', true, now(), now())
               ON CONFLICT (code) DO NOTHING""",
            """INSERT INTO stock_levels (sku_id, tenant_id, warehouse_id, on_hand, reserved, available,
                                        low_stock_threshold)
               SELECT :sku, :shop, w.id, :units, 0, :units, 0 FROM warehouses w WHERE w.code = 'SHOP-' || :shop""",
            """INSERT INTO users (kind, email, name, phone, password_hash, is_active, is_owner, session_version,
                                 failed_logins, created_at, updated_at)
               SELECT 'SHOPPER', 'shopper' || g || '@flash.test', '买家' || g, '139' || lpad(g::text, 8, '0'),
                      :hash, true, false, 1, 0, now(), now()
               FROM generate_series(1, :n) AS g""",
            """INSERT INTO addresses (user_id, recipient, phone, province, city, district, detail, postal_code,
                                     is_default, created_at, updated_at)
               SELECT id, name, phone, '330000', '杭州市', '西湖区', '文三路 ' || id || ' 号', '310000', true,
                      now(), now()
               FROM users WHERE email LIKE '%@flash.test'""",
            """INSERT INTO cart_lines (user_id, sku_id, quantity, price_when_added, selected, created_at,
                                      updated_at)
               SELECT id, :sku, 1, :price, true, now(), now() FROM users WHERE email LIKE '%@flash.test'""",
        ):
            db.session.execute(text(statement), params)
        db.session.commit()
        shoppers = db.session.execute(
            text(
                "SELECT u.id, a.id FROM users u JOIN addresses a ON a.user_id = u.id"
                " WHERE u.email LIKE '%@flash.test' ORDER BY u.id"
            )
        ).all()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE users, addresses, cart_lines, stock_levels, skus, products"))
        stocked = db.session.scalar(select(Sku.id).where(Sku.id == sku_id))
        if stocked is None or len(shoppers) != SHOPPERS:
            raise RuntimeError("set-up failed: no SKU or not every shopper has an address")
        db.session.remove()
    return Sale(shop.id, sku_id, [(user_id, address_id) for user_id, address_id in shoppers])


def _mint_sessions(app, sale: Sale) -> list[tuple[str, str]]:
    """(session cookie, CSRF token) per shopper: what signing in and opening the checkout page leave in the
    session, written by Flask-Login and Flask-WTF themselves and signed with the app's session serializer."""
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.identity.models import User

    serializer = app.session_interface.get_signing_serializer(app)
    minted = []
    with app.app_context():
        users = {u.id: u for u in db.session.scalars(select(User).where(User.email.like("%@flash.test")))}
        for user_id, _ in sale.shoppers:
            # A new app context per shopper: Flask-WTF and Flask-Login keep the token and the user in ``g``.
            with (
                app.app_context(),
                app.test_request_context(
                    "/checkout", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
                ),
            ):
                login_user(users[user_id])
                session.permanent = True  # as the login view does
                token = generate_csrf()
                minted.append((serializer.dumps(dict(session)), token))
        db.session.remove()
    return minted


def _check_and_warm_up(server, cookie_name: str, cookies: list[tuple[str, str]], sale: Sale) -> None:
    """GET /checkout as a few shoppers: the minted session must be accepted (200, not the login page) and the
    page must show the total the form will send. Also warms each worker up (imports, templates)."""
    for n in range(2 * WORKERS * THREADS):
        browser = HttpSession(server.host, server.port)
        try:
            browser.cookies[cookie_name] = cookies[n][0]
            page = browser.get("/checkout")
            expected = f'name="expected_total" value="{PRICE}"'
            if page.status != 200 or expected not in page.text:
                raise RuntimeError(
                    f"GET /checkout as shopper {sale.shoppers[n][0]}: {page.status}, "
                    f"{'no' if expected not in page.text else 'the'} expected total {PRICE} in the page"
                )
        finally:
            browser.close()


# --- afterwards ----------------------------------------------------------------------------------------


def _verify(app, sale: Sale) -> dict[str, int]:
    """What the database holds after the sale (as the app role, no tenant set: every shop's rows)."""
    from sqlalchemy import text

    from marketplace.extensions import db

    with app.app_context():
        row = db.session.execute(
            text(
                """SELECT (SELECT count(*) FROM orders WHERE tenant_id = :shop) AS orders,
                          (SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
                            WHERE l.sku_id = :sku AND o.status <> 'CANCELLED') AS units_ordered,
                          (SELECT count(*) FROM cart_lines WHERE sku_id = :sku) AS carts_left,
                          sum(s.on_hand) AS on_hand, sum(s.reserved) AS reserved, sum(s.available) AS available
                   FROM stock_levels s WHERE s.sku_id = :sku"""
            ),
            {"shop": sale.shop_id, "sku": sale.sku_id},
        ).one()
        db.session.remove()
    return {key: int(value) for key, value in row._mapping.items()}


def _count_sql_statements(app, sale: Sale, cookie_name, cookies, forms) -> dict[str, int]:
    """One sold-out and one placed checkout in-process on the same database, each with its SQL statements
    counted; for the placed one a unit is put back first (the figures above are already taken)."""
    from sqlalchemy import event, text

    from marketplace.extensions import db

    with app.app_context():
        engine = db.engine
        waiting = {
            user_id
            for (user_id,) in db.session.execute(
                text("SELECT user_id FROM cart_lines WHERE sku_id = :sku"), {"sku": sale.sku_id}
            )
        }
        db.session.remove()
    left = [n for n, (user_id, _) in enumerate(sale.shoppers) if user_id in waiting][:2]
    if len(left) < 2:
        log(NAME, "no two shoppers left without an order: SQL statements not counted")
        return {}
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    counts = {}
    client = app.test_client()
    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, n, status in (("sold_out", left[0], 409), ("placed", left[1], 302)):
            if name == "placed":
                with app.app_context():
                    db.session.execute(
                        text(
                            "UPDATE stock_levels SET on_hand = on_hand + 1, available = available + 1"
                            " WHERE sku_id = :sku"
                        ),
                        {"sku": sale.sku_id},
                    )
                    db.session.commit()
                    db.session.remove()
            client.set_cookie(cookie_name, cookies[n][0])
            statements.clear()
            answer = client.post(
                "/checkout",
                data=forms[n],
                headers={"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            )
            if answer.status_code != status:
                raise RuntimeError(f"in-process {name} checkout: {answer.status_code} instead of {status}")
            if status == 302 and "/gateway/" not in answer.headers.get("Location", ""):
                raise RuntimeError(
                    f"the placed checkout went to {answer.headers.get('Location')}, not the gateway"
                )
            counts[name] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts


# --- the bound: pgbench on the same machine ----------------------------------------------------------


def _pgbench() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def _pgbench_tps() -> float | None:
    """``pgbench -N -c 8 -j 2 -T 10`` on a fresh scale-10 database: tps without connection time, or None."""
    executable = _pgbench()
    if executable is None:
        log(NAME, "pgbench not found (PATH, /usr/lib/postgresql/*/bin): pgbench_simple_update_tps left out")
        return None
    with fresh_database(PGBENCH_DATABASE) as url:
        conninfo = "postgresql://" + url.split("://", 1)[1]  # libpq takes the URL without the driver
        started = time.monotonic()
        init = subprocess.run(
            [executable, "-i", "-s", str(PGBENCH_SCALE), "-q", conninfo],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if init.returncode != 0:
            raise RuntimeError(f"pgbench -i failed ({init.returncode}):\n{init.stderr[-2000:]}")
        log(NAME, f"pgbench -i -s {PGBENCH_SCALE} in {time.monotonic() - started:.1f} s")
        bench = subprocess.run(
            [
                executable, "-N", "-c", str(PGBENCH_CLIENTS), "-j", str(PGBENCH_THREADS),
                "-T", str(PGBENCH_SECONDS), conninfo,
            ],
            capture_output=True, text=True, timeout=PGBENCH_SECONDS + 120, check=False,
        )  # fmt: skip
        if bench.returncode != 0:
            raise RuntimeError(f"pgbench failed ({bench.returncode}):\n{bench.stderr[-2000:]}")
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", bench.stdout)
    if match is None:
        raise RuntimeError(f"no tps in pgbench's output:\n{bench.stdout[-2000:]}")
    latency = re.search(r"latency average = ([0-9.]+) ms", bench.stdout)
    log(
        NAME,
        f"pgbench -N -c {PGBENCH_CLIENTS} -j {PGBENCH_THREADS} -T {PGBENCH_SECONDS}: {match.group(1)} tps"
        + (f", latency average {latency.group(1)} ms" if latency else ""),
    )
    return float(match.group(1))
