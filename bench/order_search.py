"""Admin order search over 1,000,000 orders on PostgreSQL: p50/p95 of the OMS list's query per kind of search.

A fresh PostgreSQL database owned by a non-superuser, non-BYPASSRLS role is migrated in-process; 20 shops and a
category are made with the services, 2,000 products with one SKU each by ``INSERT ... SELECT generate_series``.
Then 1,000,000 orders with one line each are generated set-based in one transaction: two years of
``created_at`` in id order (as orders are placed), numbers in ``new_order_number``'s format (14 digits of UTC
time, 6 more), statuses weighted by age (older than 30 days: completed, cancelled or closed; newer: the whole
life cycle), 200,000 distinct phones, 20 shops, popular products more often than others (the product's title is
the order's ``search_text``), 10 % of orders with 2 units. The load runs as the superuser of
``BENCH_POSTGRES_ADMIN``, as a bulk load would: the secondary indexes of ``orders`` and ``order_lines`` are
dropped first and rebuilt afterwards from their own definitions (``pg_indexes``), and foreign-key triggers are
skipped (``session_replication_role = replica``; the rows are consistent by construction). Then ``VACUUM
ANALYZE``, the state autovacuum keeps.

What is timed is ``marketplace.orders.queries.search_orders``, the admin OMS list's query (50 orders, newest
first, keyset-paginated, with their lines), in-process as the app's role with no tenant set (platform staff see
every shop), on the app's own engine, one session per query as a request has: after WARMUP untimed queries,
QUERIES of each kind with different values, each kind also bounded by MAX_SECONDS. The kinds: an exact order
number; a week of ``created_at`` plus a status; a customer phone; and as extra figures a product keyword (a
product's model name in the title, ``ILIKE '%...%'``) and the first page with no filter. The slowest query of
each kind is then run again under EXPLAIN ANALYZE (plan on stderr). The database is dropped.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta

from bench._support import (
    POSTGRES_ADMIN,
    REDIS_URL,
    app_with_env,
    dispose_app,
    fresh_database,
    log,
    percentile,
    production_env,
    require_postgres,
)

NAME = "order_search"
DATABASE = "bench_order_search"


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_ORDER_SEARCH_{name}", default))


ORDERS = _setting("ORDERS", 1_000_000)
SHOPS = 20
PRODUCTS = 2_000
PHONES = 200_000
DAYS = 730
QUERIES = _setting("QUERIES", 50)  # timed, per kind
WARMUP = 5  # untimed, per kind, before the timed ones
MAX_SECONDS = _setting("MAX_SECONDS", 30)  # per kind
SEED = 42

WORDS_ZH = ["无线", "蓝牙", "降噪", "经典", "新款", "手工", "便携", "高端", "家用", "礼盒"]
THINGS_ZH = ["耳机", "充电器", "音箱", "键盘", "鼠标", "绿茶", "红茶", "茶杯", "台灯", "毛巾"]
WORDS_EN = [
    "wireless",
    "classic",
    "premium",
    "portable",
    "handmade",
    "deluxe",
    "compact",
    "silent",
    "smart",
    "gift",
]
CLOSED_STATUSES = ["COMPLETED", "CANCELLED"]  # what orders older than a month mostly are
OPEN_STATUSES = ["AWAITING_SHIPMENT", "SHIPPED", "PENDING_PAYMENT"]  # only in the last 30 days

Figures = list[tuple[str, float, str]]


def run() -> Figures:
    require_postgres()
    log(NAME, f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figures: Figures = []
    extra: Figures = []
    with fresh_database(DATABASE) as database_url:
        env = production_env(database_url, REDIS_URL)
        app = app_with_env(env)
        started = time.monotonic()
        now = _populate(app)
        generated = time.monotonic() - started
        log(NAME, f"{ORDERS} orders generated, indexed and analysed in {generated:.1f} s")
        plans = _plans(app, now)
        measured = {kind: _measure(app, kind, filters) for kind, filters in plans.items()}
        results = {kind: latencies for kind, (latencies, _, _) in measured.items()}
        _explain(app, {kind: slowest for kind, (_, _, slowest) in measured.items()})
        dispose_app(app)
    for kind in ("number", "time_status", "phone"):
        figures += [
            (f"{kind}_p50_ms", percentile(results[kind], 50) * 1000, "ms"),
            (f"{kind}_p95_ms", percentile(results[kind], 95) * 1000, "ms"),
        ]
    for kind in ("keyword", "first_page"):
        extra += [
            (f"{kind}_p50_ms", percentile(results[kind], 50) * 1000, "ms"),
            (f"{kind}_p95_ms", percentile(results[kind], 95) * 1000, "ms"),
        ]
    # This process's CPU per query (the ORM and psycopg; PostgreSQL's share is in the plans on stderr): on a busy
    # machine, the part of the wall time that is not waiting for a core.
    extra += [
        (f"{kind}_app_cpu_p50_ms", percentile(cpu, 50) * 1000, "ms") for kind, (_, cpu, _) in measured.items()
    ]
    extra += [(f"{kind}_queries", len(latencies), "count") for kind, latencies in results.items()]
    extra += [("orders", ORDERS, "count"), ("generate_seconds", generated, "s")]
    return figures + extra


# --- the data --------------------------------------------------------------------------------------------


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{value}'" for value in values) + "]"


def _populate(app) -> datetime:
    """Migrate, shops and products as the app, then the orders as a bulk load. Returns the generation's now."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from marketplace.catalog.services import save_category
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.extensions import db
    from marketplace.merchants.services import create_merchant

    with app.app_context(), acting_as(SYSTEM):
        upgrade(revision="heads")
        shops = [create_merchant(db.session, name=f"Shop {n}", slug=f"shop-{n}") for n in range(SHOPS)]
        category = save_category(db.session, name="数码", name_en="Digital", position=0)
        db.session.commit()
        shop_ids = "ARRAY[" + ", ".join(str(shop.id) for shop in shops) + "]::bigint[]"
        for statement in (
            f"""INSERT INTO products (tenant_id, title, description_html, video_url, weight_g, category_id, status,
                                      is_listed, shop_position, specs, attributes, min_price, max_price,
                                      sales_count, rating_count, rating_sum, search_tokens)
                SELECT ({shop_ids})[1 + g % {SHOPS}],
                       ({_array(WORDS_ZH)})[1 + g % 10] || ({_array(THINGS_ZH)})[1 + (g / 10) % 10] || ' '
                       || ({_array(WORDS_EN)})[1 + (g / 100) % 10] || ' M' || (1000 + g),
                       '', '', 300, {category.id}, 'APPROVED', false, 0, '[]', '{{}}',
                       1000 + (g * 37) % 50000, 1000 + (g * 37) % 50000, 0, 0, 0, ''
                FROM generate_series(0, {PRODUCTS - 1}) AS g""",
            """INSERT INTO skus (product_id, tenant_id, code, spec_values, spec_key, price, weight_g, is_active,
                                 position)
               SELECT id, tenant_id, 'M' || id, '{}', '', min_price, 300, true, 0 FROM products""",
        ):
            db.session.execute(text(statement))
        db.session.commit()
        db.session.remove()
    now = datetime.now(UTC).replace(microsecond=0)
    _bulk_load(now)
    return now


def _admin_database_connect(**kwargs):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    return psycopg.connect(**{**conninfo_to_dict(POSTGRES_ADMIN), "dbname": DATABASE}, **kwargs)


def _bulk_load(now: datetime) -> None:
    """The orders and their lines in one transaction, secondary indexes rebuilt after (same definitions)."""
    with _admin_database_connect() as conn:
        started = time.monotonic()
        conn.execute(
            "SET LOCAL session_replication_role = replica"
        )  # no FK triggers: consistent by construction
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        conn.execute("SELECT setseed(0.42)")
        indexes = conn.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = 'public' AND i.tablename IN ('orders', 'order_lines')
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute(
            """CREATE TEMP TABLE bench_products ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY p.id) AS k, p.id, p.title, p.tenant_id, s.id AS sku_id,
                      s.code AS sku_code, s.price
               FROM products p JOIN skus s ON s.product_id = p.id"""
        )
        conn.execute("ALTER TABLE bench_products ADD PRIMARY KEY (k)")
        conn.execute(
            """
            INSERT INTO orders (number, channel, status, currency, goods_amount, shipping_amount, discount_amount,
                                total_amount, refunded_amount, recipient, phone, email, province, city, district,
                                address_detail, postal_code, shipping_method, note, invoice_type, invoice_title,
                                invoice_tax_no, search_text, review_reason, invalid_reason, tenant_id, paid_at,
                                created_at, updated_at)
            SELECT to_char(s.created_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS')
                       || lpad(((s.g::bigint * 7919) %% 1000000)::text, 6, '0'),
                   CASE WHEN s.r_channel < 0.97 THEN 'STOREFRONT' WHEN s.r_channel < 0.99 THEN 'PHONE'
                        ELSE 'GROUP_BUY' END,
                   s.status, 'CNY', s.goods, s.shipping, 0, s.goods + s.shipping, 0,
                   '客户' || s.c, '138' || lpad(s.c::text, 8, '0'), 'c' || s.c || '@example.com',
                   (ARRAY['330000', '310000', '440000', '110000', '320000', '510000'])[1 + s.c %% 6],
                   '城市' || s.c %% 50, '区' || s.c %% 7, '路 ' || s.c || ' 号', '310000', '快递', '', 'NONE', '', '',
                   s.title, '', '', s.tenant_id,
                   CASE WHEN s.status NOT IN ('PENDING_PAYMENT', 'CANCELLED') THEN s.created_at END,
                   s.created_at, s.created_at
            FROM (
                SELECT r.g, r.created_at, r.c, r.r_channel, p.title, p.tenant_id, p.price * r.qty AS goods,
                       CASE WHEN p.price * r.qty >= 9900 THEN 0 ELSE 1000 END AS shipping,
                       CASE WHEN r.created_at < %(now)s - interval '30 days' THEN
                                CASE WHEN r.r_status < 0.84 THEN 'COMPLETED' WHEN r.r_status < 0.97 THEN 'CANCELLED'
                                     ELSE 'CLOSED' END
                            WHEN r.r_status < 0.03 THEN 'PENDING_PAYMENT' WHEN r.r_status < 0.05 THEN 'PAID'
                            WHEN r.r_status < 0.06 THEN 'UNDER_REVIEW' WHEN r.r_status < 0.16 THEN 'AWAITING_SHIPMENT'
                            WHEN r.r_status < 0.17 THEN 'PARTIALLY_SHIPPED' WHEN r.r_status < 0.37 THEN 'SHIPPED'
                            WHEN r.r_status < 0.57 THEN 'RECEIVED' WHEN r.r_status < 0.87 THEN 'COMPLETED'
                            WHEN r.r_status < 0.99 THEN 'CANCELLED' ELSE 'CLOSED' END AS status
                FROM (
                    SELECT g, %(start)s + g * (%(span)s / %(n)s) AS created_at,
                           random() AS r_status, random() AS r_channel,
                           floor(random() * %(phones)s)::int AS c,
                           1 + floor(%(products)s * power(random(), 2))::int AS k,
                           CASE WHEN random() < 0.1 THEN 2 ELSE 1 END AS qty
                    FROM generate_series(1, %(n)s) AS g
                ) r JOIN bench_products p ON p.k = r.k
                ORDER BY r.g
            ) s
            """,
            {
                "now": now,
                "start": now - timedelta(days=DAYS),
                "span": timedelta(days=DAYS),
                "n": ORDERS,
                "phones": PHONES,
                "products": PRODUCTS,
            },
        )
        inserted = time.monotonic()
        conn.execute(
            """
            INSERT INTO order_lines (order_id, product_id, sku_id, title, sku_code, spec, image_key, unit_price,
                                     quantity, shipped_quantity, amount, weight_grams, tenant_id)
            SELECT o.id, p.id, p.sku_id, p.title, p.sku_code, '', NULL, p.price, o.goods_amount / p.price,
                   CASE WHEN o.status IN ('SHIPPED', 'RECEIVED', 'COMPLETED') THEN o.goods_amount / p.price ELSE 0 END,
                   o.goods_amount, 300 * (o.goods_amount / p.price), o.tenant_id
            FROM orders o JOIN bench_products p ON p.title = o.search_text
            """
        )
        lines = time.monotonic()
        for _, definition in indexes:
            conn.execute(definition)
        log(
            NAME,
            f"orders {inserted - started:.1f} s, lines {lines - inserted:.1f} s, "
            f"{len(indexes)} secondary indexes rebuilt {time.monotonic() - lines:.1f} s",
        )
    with _admin_database_connect(autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE orders, order_lines")


# --- the queries -----------------------------------------------------------------------------------------


def _plans(app, now: datetime) -> dict[str, list]:
    """WARMUP + QUERIES filters per kind, each with its own value, drawn from the generated data."""
    from sqlalchemy import text

    from marketplace.extensions import db
    from marketplace.orders.models import OrderStatus
    from marketplace.orders.queries import OrderFilters

    rng = random.Random(SEED)
    count = WARMUP + QUERIES
    with app.app_context():
        first, last = db.session.execute(text("SELECT min(id), max(id) FROM orders")).one()
        ids = [rng.randint(first, last) for _ in range(count)]
        numbers = list(
            db.session.scalars(text("SELECT number FROM orders WHERE id = ANY(:ids)"), {"ids": ids})
        )
        db.session.remove()
    rng.shuffle(numbers)

    def week(i: int) -> OrderFilters:
        status = (CLOSED_STATUSES + OPEN_STATUSES)[i % 5]
        latest = DAYS - 7 if status in CLOSED_STATUSES else 23  # open orders exist only in the last 30 days
        start = now - timedelta(days=7 + rng.uniform(0, latest))
        return OrderFilters(
            status=OrderStatus[status], created_from=start, created_to=start + timedelta(days=7)
        )

    return {
        "number": [OrderFilters(number=number) for number in numbers],
        "time_status": [week(i) for i in range(count)],
        "phone": [OrderFilters(phone=f"138{rng.randrange(PHONES):08d}") for _ in range(count)],
        "keyword": [OrderFilters(keyword=f"M{1000 + rng.randrange(PRODUCTS)}") for _ in range(count)],
        "first_page": [OrderFilters() for _ in range(count)],
    }


def _measure(app, kind: str, filters: list) -> tuple[list[float], list[float], object]:
    """Wall and CPU seconds per ``search_orders`` call (the page and its lines), one session each, the warm-up
    left out; and the filters of the slowest call."""
    from marketplace.extensions import db
    from marketplace.orders.queries import search_orders

    latencies: list[float] = []
    cpu: list[float] = []
    rows = 0
    slowest: tuple[float, object] = (0.0, None)
    deadline = time.monotonic() + MAX_SECONDS
    with app.app_context():
        for n, one in enumerate(filters):
            started, cpu_started = time.perf_counter(), time.process_time()
            page = search_orders(db.session, one)
            lines = sum(len(order.lines) for order in page.items)
            elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu_started
            db.session.remove()  # as a request's teardown does
            if n >= WARMUP:
                latencies.append(elapsed)
                cpu.append(cpu_used)
                slowest = max(slowest, (elapsed, one), key=lambda pair: pair[0])
                rows += len(page.items)
            if lines < len(page.items):
                raise RuntimeError(f"{kind}: an order without its line")
            if time.monotonic() > deadline:
                log(NAME, f"{kind}: stopped after {MAX_SECONDS} s")
                break
    log(
        NAME,
        f"{kind}: {len(latencies)} queries, {rows / max(len(latencies), 1):.1f} orders a page on average, "
        f"p50 {percentile(latencies, 50) * 1000:.1f} ms, max {slowest[0] * 1000:.1f} ms ({_describe(slowest[1])})",
    )
    return latencies, cpu, slowest[1]


def _describe(filters) -> str:
    return (
        ", ".join(f"{k}={v}" for k, v in vars(filters).items() if v not in (None, "", False)) or "no filter"
    )


def _explain(app, slowest: dict[str, object]) -> None:
    """EXPLAIN ANALYZE the orders statement of the slowest query of each kind again, as the app role (the plan
    goes to stderr): whether it was slow in PostgreSQL or only waited for a core."""
    from sqlalchemy import event

    from marketplace.extensions import db
    from marketplace.orders.queries import search_orders

    with app.app_context():
        engine = db.engine
        captured: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany) -> None:
            captured.append((statement, parameters))

        for kind, filters in slowest.items():
            if filters is None:
                continue
            captured.clear()
            event.listen(engine, "before_cursor_execute", capture)
            try:
                search_orders(db.session, filters)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            statement, parameters = next((s, p) for s, p in captured if "FROM orders" in s)
            rows = db.session.connection().exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters
            )
            plan = [line for (line,) in rows]
            db.session.remove()
            log(NAME, f"plan of the slowest {kind} query ({_describe(filters)}):\n    " + "\n    ".join(plan))
