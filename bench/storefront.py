"""Storefront category page and search under gunicorn on PostgreSQL: latency (p50/p99) and requests/s.

A fresh PostgreSQL database owned by a non-superuser, non-BYPASSRLS role is migrated in-process; shops,
categories (4 top-level × 5 leaves, with spec attributes) and brands are made with the services, then 20,000
listed products × 5 SKUs are generated set-based: products with their search tokens (the real tokeniser) by
Core ``insert()``, SKUs, stock levels, facets and cover images by ``INSERT ... SELECT generate_series``; then
ANALYZE. One shop is suspended (its products must not show). The app runs as in production (APP_ENV=production,
real Redis) under gunicorn with sync workers. For each endpoint, CLIENTS threads on their own connections send
requests after a short warm-up, bounded by MAX_REQUESTS and MAX_SECONDS; any answer but 200 is an error. The
category page is a top-level category (a quarter of the catalogue, about 4,750 on-sale products) sorted by
sales with its brand and spec facets, whose count and filter options Redis caches for a minute; the same page
"uncached" asks for a new, ineffective price bound each time, so it always misses the cache. The search figures
combine an English and a Chinese query (each logged, as every search is). Afterwards one request of each kind is
replayed in-process to count its SQL statements. gunicorn is stopped and the database dropped.
"""

from __future__ import annotations

import os
import secrets
import time

from bench._support import (
    REDIS_URL,
    CpuMeter,
    LoadResult,
    app_with_env,
    fresh_database,
    gunicorn,
    load,
    log,
    production_env,
    require_postgres,
    require_redis,
    scratch_redis,
)

NAME = "storefront"
DATABASE = "bench_storefront"


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_STOREFRONT_{name}", default))


PRODUCTS = _setting("PRODUCTS", 20_000)
SKUS_PER_PRODUCT = 5
SHOPS = 40
# Two sync workers for two cores (as bench/http_stack.py); as many clients as workers, so the latency is the
# page's own and not time spent queueing behind other requests (more clients add queueing, not throughput).
WORKERS = _setting("WORKERS", 2)
CLIENTS = _setting("CLIENTS", 2)
MAX_REQUESTS = _setting("MAX_REQUESTS", 3000)  # per endpoint
MAX_SECONDS = _setting("MAX_SECONDS", 15)  # per endpoint
WARMUP_REQUESTS = 200
WARMUP_SECONDS = 3

TOPS = [("茶叶", "Tea"), ("数码", "Digital"), ("服装", "Clothing"), ("家居", "Home")]
LEAVES = {
    "茶叶": [("绿茶", "Green tea"), ("乌龙茶", "Oolong"), ("红茶", "Black tea"), ("白茶", "White tea"), ("普洱", "Pu'er")],
    "数码": [("耳机", "Headphones"), ("充电器", "Chargers"), ("音箱", "Speakers"), ("键盘", "Keyboards"), ("鼠标", "Mice")],
    "服装": [("T恤", "T-shirts"), ("卫衣", "Hoodies"), ("衬衫", "Shirts"), ("外套", "Jackets"), ("裤子", "Trousers")],
    "家居": [("茶杯", "Cups"), ("台灯", "Lamps"), ("靠垫", "Cushions"), ("收纳", "Storage"), ("毛巾", "Towels")],
}  # fmt: skip
COLOURS = ["黑", "白", "红", "蓝", "绿"]
MATERIALS = ["棉", "麻", "丝", "陶瓷", "塑料", "金属"]
ORIGINS = ["杭州", "苏州", "深圳", "广州", "福建", "云南", "安溪", "上海"]
ZH_WORDS = ["无线", "蓝牙", "降噪", "经典", "新款", "手工", "便携", "高端", "家用", "礼盒"]
EN_WORDS = [
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
QUERIES = {"en": "wireless premium", "zh": "蓝牙降噪"}


def run() -> list[tuple[str, float, str]]:
    require_postgres()
    require_redis()
    log(NAME, f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figures: list[tuple[str, float, str]] = []
    extra: list[tuple[str, float, str]] = []
    errors = 0
    with scratch_redis(REDIS_URL) as redis_url, fresh_database(DATABASE) as database_url:
        env = production_env(database_url, redis_url)
        started = time.monotonic()
        top_id, leaf_id, on_sale = _populate(env)
        log(
            NAME, f"{PRODUCTS} products × {SKUS_PER_PRODUCT} SKUs ready in {time.monotonic() - started:.1f} s"
        )
        category = f"/c/{top_id}"
        searches = {lang: f"/search?q={_quote(q)}" for lang, q in QUERIES.items()}

        with gunicorn(env, workers=WORKERS) as server:
            log(
                NAME, f"gunicorn --workers {WORKERS} (sync) on {server.host}:{server.port}; {CLIENTS} clients"
            )

            cpu: dict[str, tuple[float | None, float | None]] = {}

            def measure(path: str) -> LoadResult:
                """Warm up, then load ``path``; CPU milliseconds per request of gunicorn and PostgreSQL go to ``cpu``
                (robust to a busy machine, where wall-clock latency is not)."""
                nonlocal errors
                warmup = load(
                    server.host, server.port, path, headers={}, clients=CLIENTS,
                    max_requests=WARMUP_REQUESTS, max_seconds=WARMUP_SECONDS,
                )  # fmt: skip
                app_cpu = CpuMeter(server.worker_pids)
                db_cpu = CpuMeter(_client_backends)
                app_cpu.start()
                db_cpu.start()
                result = load(
                    server.host, server.port, path, headers={}, clients=CLIENTS,
                    max_requests=MAX_REQUESTS, max_seconds=MAX_SECONDS,
                )  # fmt: skip
                requests = max(result.ok + result.errors, 1)
                app_seconds, db_seconds = app_cpu.stop(), db_cpu.stop()
                cpu[path] = tuple(
                    None if v is None else v / requests * 1000 for v in (app_seconds, db_seconds)
                )
                errors += warmup.errors + result.errors
                statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses.items(), key=str))
                log(
                    NAME,
                    f"GET {path}: {result.ok + result.errors} requests in {result.elapsed:.1f} s ({statuses})",
                )
                return result

            top = measure(category)
            # Every request a new price bound that filters nothing: the same page, but never in the cache.
            uncached = load(
                server.host,
                server.port,
                lambda n: f"{category}?max_price={10_000 + n}",
                headers={},
                clients=CLIENTS,
                max_requests=MAX_REQUESTS,
                max_seconds=MAX_SECONDS,
            )
            errors += uncached.errors
            log(NAME, f"GET {category}?max_price=<n> (uncached): {uncached.ok + uncached.errors} requests")
            leaf = measure(f"/c/{leaf_id}")
            filtered = measure(f"/c/{top_id}?sort=price_asc&f.%E9%A2%9C%E8%89%B2=%E7%BA%A2&min_price=50")
            by_language = {lang: measure(path) for lang, path in searches.items()}
        search = _merge(by_language.values())
        figures += [
            ("category_p50_ms", top.percentile_ms(50), "ms"),
            ("category_p99_ms", top.percentile_ms(99), "ms"),
            ("category_rps", round(top.rps, 1), "1/s"),
            ("search_p50_ms", search.percentile_ms(50), "ms"),
            ("search_p99_ms", search.percentile_ms(99), "ms"),
            ("search_rps", round(search.rps, 1), "1/s"),
        ]
        for name, path in (
            ("category", category),
            ("search_en", searches["en"]),
            ("search_zh", searches["zh"]),
        ):
            for label, value in zip(("app_cpu_ms", "db_cpu_ms"), cpu[path], strict=True):
                if value is not None:
                    extra.append((f"{name}_{label}", value, "ms"))
        extra += [
            ("category_uncached_p50_ms", uncached.percentile_ms(50), "ms"),
            ("category_uncached_p99_ms", uncached.percentile_ms(99), "ms"),
            ("category_uncached_rps", round(uncached.rps, 1), "1/s"),
            ("leaf_category_p50_ms", leaf.percentile_ms(50), "ms"),
            ("filtered_category_p50_ms", filtered.percentile_ms(50), "ms"),
            ("search_en_p50_ms", by_language["en"].percentile_ms(50), "ms"),
            ("search_zh_p50_ms", by_language["zh"].percentile_ms(50), "ms"),
        ]
        for name, count in _count_sql_statements(env, {"category": category, **searches}).items():
            extra.append((f"{name}_sql_statements", count, "count"))
    figures.append(("errors", errors, "count"))
    extra += [
        ("on_sale_products", on_sale, "count"),
        ("gunicorn_workers", WORKERS, "count"),
        ("clients", CLIENTS, "count"),
    ]
    return figures + extra


def _client_backends() -> list[int]:
    """The PostgreSQL backends serving the app (not autovacuum, which a fresh bulk load keeps busy)."""
    from bench._support import _admin_connect

    with _admin_connect() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()",
            (DATABASE,),
        ).fetchall()
    return [pid for (pid,) in rows]


def _quote(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text)


def _merge(results) -> LoadResult:
    merged = LoadResult()
    for result in results:
        merged.latencies += result.latencies
        merged.statuses.update(result.statuses)
        merged.elapsed += result.elapsed
    return merged


def _app(env: dict[str, str]):
    return app_with_env({**env, "SECRET_KEY": secrets.token_urlsafe(36)}, {"WTF_CSRF_ENABLED": False})


def _populate(env: dict[str, str]) -> tuple[int, int, int]:
    """Migrate, then fill the catalogue. Returns a top-level and a leaf category id and the on-sale count."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from marketplace.catalog.services import save_brand, save_category, set_category_attributes
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.extensions import db
    from marketplace.merchants.services import create_merchant, suspend_merchant

    app = _app(env)
    with app.app_context(), acting_as(SYSTEM):
        upgrade(revision="heads")
        shops = [create_merchant(db.session, name=f"Shop {n}", slug=f"shop-{n}") for n in range(SHOPS)]
        leaves = []
        tops = []
        for position, (name, name_en) in enumerate(TOPS):
            top = save_category(db.session, name=name, name_en=name_en, position=position)
            tops.append(top)
            for index, (leaf_name, leaf_en) in enumerate(LEAVES[name]):
                leaf = save_category(
                    db.session, name=leaf_name, name_en=leaf_en, parent_id=top.id, position=index
                )
                set_category_attributes(db.session, leaf, [{"name": "颜色", "values": COLOURS}])
                leaves.append(leaf)
        brands = [save_brand(db.session, name=f"品牌{n}", name_en=f"Brand {n}") for n in range(60)]
        db.session.commit()
        started = time.perf_counter()
        _insert_catalogue(db.session, shops, leaves, brands)
        suspend_merchant(db.session, shops[-1], reason="benchmark: its products must not show")
        db.session.commit()
        log(NAME, f"catalogue inserted in {time.perf_counter() - started:.1f} s")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # The steady state autovacuum keeps (hint bits, visibility map, statistics) after the bulk load.
            tables = "products, skus, stock_levels, product_facets, product_images, listed_products"
            conn.execute(text(f"VACUUM ANALYZE {tables}"))
        from marketplace.search.models import ListedProduct

        on_sale_count = db.session.scalar(select(func.count()).select_from(ListedProduct))
        result = tops[0].id, leaves[0].id, on_sale_count
        db.session.remove()
        db.engine.dispose()
    return result


def _insert_catalogue(session, shops, leaves, brands) -> None:
    """Products by Core insert (tokens made in Python), everything else set-based in SQL."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, text

    from marketplace.catalog.models import Product, ProductStatus
    from marketplace.catalog.tokens import document_tokens

    specs = [{"name": "颜色", "values": COLOURS}]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(1, PRODUCTS + 1):
        leaf = leaves[n % len(leaves)]
        brand = brands[(n * 7) % len(brands)] if n % 6 else None
        zh = ZH_WORDS[n % 10] + ZH_WORDS[(n // 10) % 10] + leaf.name
        en = f"{EN_WORDS[n % 10]} {EN_WORDS[(n // 10) % 10]} {leaf.name_en.lower()}"
        title = f"{zh} {en} {n}"
        price = 1000 + (n * 37) % 90000
        rows.append(
            {
                "id": n,
                "tenant_id": shops[n % len(shops)].id,
                "title": title,
                "category_id": leaf.id,
                "brand_id": brand.id if brand else None,
                "status": ProductStatus.APPROVED,
                "is_listed": n % 50 != 0,  # 2 % unlisted
                "specs": specs,
                "attributes": {"材质": MATERIALS[n % 6], "产地": ORIGINS[n % 8]},
                "min_price": price,
                "max_price": price + 4 * 500,
                "sales_count": (n * 7919) % 10_000,
                "listed_at": start + timedelta(minutes=n),
                "approved_at": start + timedelta(minutes=n),
                "search_tokens": document_tokens(
                    title,
                    brand.name if brand else "",
                    brand.name_en if brand else "",
                    leaf.name,
                    leaf.name_en,
                ),
                "description_html": f"<p>{title}</p>",
            }
        )
    for chunk in range(0, len(rows), 5000):
        session.execute(insert(Product), rows[chunk : chunk + 5000])
    colours = "ARRAY[" + ", ".join(f"'{c}'" for c in COLOURS) + "]"
    for statement in (
        "SELECT setval(pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products))",
        f"""INSERT INTO skus (product_id, tenant_id, code, spec_values, spec_key, price, weight_g, is_active,
                              position)
            SELECT p.id, p.tenant_id, 'P' || p.id || '-' || g, json_build_object('颜色', ({colours})[g]),
                   '颜色:' || ({colours})[g], p.min_price + (g - 1) * 500, 200, true, g - 1
            FROM products p CROSS JOIN generate_series(1, {SKUS_PER_PRODUCT}) AS g""",
        """INSERT INTO warehouses (code, name, merchant_id, address, is_active, created_at, updated_at)
            SELECT 'SHOP-' || id, name, id, '', true, now(), now() FROM merchants
            ON CONFLICT (code) DO NOTHING""",
        """INSERT INTO stock_levels (sku_id, tenant_id, warehouse_id, on_hand, reserved, available,
                                    low_stock_threshold)
            SELECT s.id, s.tenant_id, w.id, s.id % 40, 0, s.id % 40, 0
            FROM skus s JOIN warehouses w ON w.code = 'SHOP-' || s.tenant_id""",
        f"""INSERT INTO product_facets (product_id, tenant_id, name, value)
            SELECT p.id, p.tenant_id, '颜色', ({colours})[g]
            FROM products p CROSS JOIN generate_series(1, {SKUS_PER_PRODUCT}) AS g
            UNION ALL SELECT id, tenant_id, '材质', attributes->>'材质' FROM products
            UNION ALL SELECT id, tenant_id, '产地', attributes->>'产地' FROM products""",
        """INSERT INTO product_images (product_id, tenant_id, key, position, width, height)
            SELECT id, tenant_id, md5('bench' || id), 0, 600, 600 FROM products""",
    ):
        session.execute(text(statement))


def _count_sql_statements(env: dict[str, str], paths: dict[str, str]) -> dict[str, int]:
    """One request of each page, in-process on the same database: how many SQL statements it runs."""
    from sqlalchemy import event

    from marketplace.extensions import db

    app = _app(env)
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    counts = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        client = app.test_client()
        for name, path in paths.items():
            client.get(path)  # a first request may load things once
            statements.clear()
            status = client.get(path).status_code
            if status != 200:
                raise RuntimeError(f"in-process GET {path}: {status}")
            counts[name] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
    return counts
