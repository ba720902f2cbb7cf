"""Wave release: 10,000 paid orders planned onto the platform warehouse's bins (pick tasks in route order).

A fresh PostgreSQL database owned by a non-superuser, non-BYPASSRLS role is migrated in-process; shops and a
category are made with the services, the platform warehouse with ``inventory.services.platform_warehouse``.
The rest is written set-based (``INSERT ... SELECT generate_series``) as the app's role, no tenant set: SKUS
products with one SKU each (a barcode each), ZONES zones of bins (``A01-05-3``: aisle, bay, level; the barcode
``PLATFORM-<code>`` and the sort key as ``fulfillment.services`` makes them), every SKU in two bins (bins in random
order), and PRIOR + ORDERS + EXTRA awaiting-shipment orders of the platform warehouse, paid one after another,
1-3 lines each (55 % / 30 % / 15 %; 1-3 units), popular SKUs more often than others (``power(random(), 2)``).
A SKU's bin stock is its expected demand times 0.6 to 1.6 (random per bin), plus 2: most lines are covered,
some popular SKUs run out and their last lines become ``short`` tasks. Then ``VACUUM ANALYZE``.

First an untimed wave of the PRIOR oldest orders is released (its open tasks hold bin units that the timed wave
must not promise again). What is timed is ``marketplace.fulfillment.outbound.release_wave(limit=ORDERS)``
in-process as the app's role on the app's engine, including the commit: RUNS times, all but the last rolled
back; ``seconds`` is the median, the per-statement times of the last run go to stderr. The committed wave is
then checked with SQL: every open order line of the wave is covered by its tasks exactly (``uncovered_lines``),
no bin holds fewer units than its open tasks promise (``over_promised_bins``), no SKU with a short task still
has free units (``short_with_free_stock``), and no order newer than one left out was taken
(``out_of_paid_order``); all four must be 0. The database is dropped.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from bench._support import (
    REDIS_URL,
    app_with_env,
    dispose_app,
    fresh_database,
    log,
    production_env,
    require_postgres,
)

NAME = "wave_release"
DATABASE = "bench_wave_release"


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_WAVE_RELEASE_{name}", default))


ORDERS = _setting("ORDERS", 10_000)  # the timed wave (release_wave's limit; MAX_WAVE is 10,000)
PRIOR = _setting("PRIOR", 2_000)  # released before, untimed: their open tasks hold bin units
EXTRA = _setting("EXTRA", 500)  # newer paid orders the limit leaves in the pool
RUNS = _setting("RUNS", 3)
SHOPS = 10
SKUS = _setting("SKUS", 2_000)  # a multiple of SHOPS: an order's lines are of one shop
ZONES, AISLES, BAYS, LEVELS = 4, 10, 25, 4  # 4,000 bins
PRICE = 1_990

Figures = list[tuple[str, float, str]]


@dataclass(frozen=True)
class Floor:
    warehouse_id: int
    bins: int
    skus: int
    orders: int
    lines: int


def run() -> Figures:
    require_postgres()
    log(NAME, f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with fresh_database(DATABASE) as database_url:
        app = app_with_env(production_env(database_url, REDIS_URL))
        started = time.monotonic()
        floor = populate(app, orders=PRIOR + ORDERS + EXTRA)
        generated = time.monotonic() - started
        log(
            NAME,
            f"{floor.bins} bins, {floor.skus} SKUs, {floor.orders} orders with {floor.lines} lines "
            f"generated and analysed in {generated:.1f} s",
        )
        prior_wave = release(app, floor, PRIOR) if PRIOR else None
        if prior_wave is not None:
            log(NAME, f"prior wave of {PRIOR} orders released (untimed)")
        timings = []
        for n in range(RUNS):
            last = n == RUNS - 1
            seconds, wave_id, statements = _timed_release(app, floor, commit=last)
            timings.append(seconds)
            log(NAME, f"run {n + 1}/{RUNS}: {seconds:.2f} s{'' if last else ' (rolled back)'}")
        log(NAME, "statements of the last run (ms):\n    " + "\n    ".join(statements))
        checks = _check(app, floor, wave_id)
        dispose_app(app)
    log(NAME, f"checks: {checks}")
    return [
        ("orders_released", checks["orders_released"], "count"),
        ("pick_tasks", checks["pick_tasks"], "count"),
        ("short_tasks", checks["short_tasks"], "count"),
        ("seconds", statistics.median(timings), "s"),
        ("uncovered_lines", checks["uncovered_lines"], "count"),
        ("over_promised_bins", checks["over_promised_bins"], "count"),
        ("short_with_free_stock", checks["short_with_free_stock"], "count"),
        ("out_of_paid_order", checks["out_of_paid_order"], "count"),
        # extra
        ("seconds_max", max(timings), "s"),
        ("lines_released", checks["lines"], "count"),
        ("units_planned", checks["units_planned"], "units"),
        ("units_short", checks["units_short"], "units"),
        ("bins", floor.bins, "count"),
        ("skus", floor.skus, "count"),
        ("prior_open_tasks", checks["prior_open_tasks"], "count"),
        ("generate_seconds", generated, "s"),
    ]


# --- the data (also used by bench/pick_scan.py) -----------------------------------------------------------


def populate(app, *, orders: int, skus: int = SKUS, shops: int = SHOPS) -> Floor:
    """Migrate; shops, SKUs, the platform warehouse's zones, bins and bin stock, and ``orders`` awaiting-shipment
    orders of the platform warehouse (1-3 lines), all committed and analysed."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from marketplace.catalog.services import save_category
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.extensions import db
    from marketplace.fulfillment.services import sort_key
    from marketplace.inventory.services import platform_warehouse
    from marketplace.merchants.services import create_merchant

    if skus % shops:
        raise ValueError("skus must be a multiple of shops")
    with app.app_context(), acting_as(SYSTEM):
        upgrade(revision="heads")
        merchants = [
            create_merchant(db.session, name=f"WMS Shop {n}", slug=f"wms-shop-{n}") for n in range(shops)
        ]
        category = save_category(db.session, name="茶叶", name_en="Tea", position=0)
        warehouse = platform_warehouse(db.session)
        db.session.commit()
        shop_ids = "ARRAY[" + ", ".join(str(m.id) for m in merchants) + "]::bigint[]"
        params = {
            "warehouse": warehouse.id,
            "prefix": f"{warehouse.code}-",
            "category": category.id,
            "skus": skus,
            "orders": orders,
            "price": PRICE,
            "aisles": AISLES,
            "bays": BAYS,
            "levels": LEVELS,
            "zones": ZONES,
            "shops": shops,
        }
        # SKU k (1..skus) belongs to shop k % shops; line j of an order takes SKU k + 37 * shops * j (mod skus),
        # the same shop. Popularity: k = 1 + floor(skus * random()^2).
        statements = [
            "SELECT setseed(0.42)",  # the same data every run (random() below)
            f"""INSERT INTO products (tenant_id, title, description_html, video_url, weight_g, category_id, status,
                                      is_listed, shop_position, specs, attributes, min_price, max_price,
                                      sales_count, rating_count, rating_sum, search_tokens)
                SELECT ({shop_ids})[1 + g % {shops}], '茶 Tea ' || g, '', '', 300, :category, 'APPROVED', false, 0,
                       '[]', '{{}}', :price, :price, 0, 0, 0, ''
                FROM generate_series(1, :skus) AS g""",
            """INSERT INTO skus (product_id, tenant_id, code, barcode, spec_values, spec_key, price, weight_g,
                                 is_active, position)
               SELECT id, tenant_id, 'T' || lpad(id::text, 6, '0'), '69' || lpad(id::text, 11, '0'), '{}', '',
                      min_price, 300, true, 0
               FROM products""",
            """INSERT INTO zones (warehouse_id, code, name, created_at, updated_at)
               SELECT :warehouse, chr(64 + z), 'Zone ' || chr(64 + z), now(), now()
               FROM generate_series(1, :zones) AS z""",
            """INSERT INTO bins (warehouse_id, zone_id, code, barcode, kind, sort_key, is_active, created_at,
                                 updated_at)
               SELECT :warehouse, z.id, c.code, :prefix || c.code, 'STORAGE', c.sort_key, true, now(), now()
               FROM zones z
               CROSS JOIN generate_series(1, :aisles) AS a CROSS JOIN generate_series(1, :bays) AS b
               CROSS JOIN generate_series(1, :levels) AS l
               CROSS JOIN LATERAL (
                   SELECT z.code || lpad(a::text, 2, '0') || '-' || lpad(b::text, 2, '0') || '-' || l AS code,
                          z.code || lpad(a::text, 6, '0') || '-' || lpad(b::text, 6, '0') || '-'
                          || lpad(l::text, 6, '0') AS sort_key
               ) c
               WHERE z.warehouse_id = :warehouse""",
            """CREATE TEMP TABLE bench_skus ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY s.id) AS k, s.id, s.product_id, s.tenant_id, s.code
               FROM skus s""",
            """CREATE TEMP TABLE bench_bins ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY random()) AS k, id FROM bins WHERE warehouse_id = :warehouse""",
            # The orders: paid one a second in id order, so "oldest paid first" is id order.
            """CREATE TEMP TABLE bench_orders ON COMMIT DROP AS
               SELECT g, 1 + floor(:skus * power(random(), 2))::int AS k,
                      CASE WHEN r < 0.55 THEN 1 WHEN r < 0.85 THEN 2 ELSE 3 END AS lines,
                      now() - interval '1 day' + g * interval '1 second' AS paid_at
               FROM (SELECT g, random() AS r FROM generate_series(1, :orders) AS g) o""",
            """CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
               SELECT o.g, j, s.id AS sku_id, s.product_id, s.tenant_id, s.code,
                      CASE WHEN random() < 0.8 THEN 1 WHEN random() < 0.75 THEN 2 ELSE 3 END AS qty
               FROM bench_orders o CROSS JOIN LATERAL generate_series(0, o.lines - 1) AS j
               JOIN bench_skus s ON s.k = 1 + (o.k - 1 + 37 * :shops * j) % :skus""",
            """INSERT INTO orders (number, channel, status, currency, goods_amount, shipping_amount, discount_amount,
                                   total_amount, refunded_amount, recipient, phone, email, province, city, district,
                                   address_detail, postal_code, shipping_method, note, invoice_type, invoice_title,
                                   invoice_tax_no, search_text, review_reason, invalid_reason, tenant_id, paid_at,
                                   created_at, updated_at)
               SELECT 'WR' || lpad(o.g::text, 12, '0'), 'STOREFRONT', 'AWAITING_SHIPMENT', 'CNY', t.goods, 0, 0,
                      t.goods, 0, '客户' || o.g, '138' || lpad(o.g::text, 8, '0'), '', '330000', '杭州市', '西湖区',
                      '文三路 ' || o.g || ' 号', '310000',
                      (ARRAY['SF Express', 'YTO', 'ZTO'])[1 + o.g % 3], '', 'NONE', '', '', '', '', '',
                      t.tenant_id, o.paid_at, o.paid_at - interval '5 minutes', o.paid_at
               FROM bench_orders o
               JOIN (SELECT g, min(tenant_id) AS tenant_id, sum(qty) * :price AS goods
                     FROM bench_lines GROUP BY g) t ON t.g = o.g
               ORDER BY o.g""",
            """INSERT INTO order_lines (order_id, product_id, sku_id, warehouse_id, title, sku_code, spec, image_key,
                                        unit_price, quantity, shipped_quantity, amount, weight_grams, tenant_id)
               SELECT o.id, l.product_id, l.sku_id, :warehouse, '茶 Tea', l.code, '', NULL, :price, l.qty, 0,
                      :price * l.qty, 300 * l.qty, l.tenant_id
               FROM bench_lines l JOIN orders o ON o.number = 'WR' || lpad(l.g::text, 12, '0')
               ORDER BY o.id, l.j""",
            # Each SKU in two random bins; per bin, half the SKU's demand times 0.6-1.6, plus 2.
            """INSERT INTO bin_stocks (tenant_id, sku_id, bin_id, warehouse_id, quantity, updated_at)
               SELECT s.tenant_id, s.id, b.id, :warehouse,
                      2 + ceil(COALESCE(d.units, 0) / 2.0 * (0.6 + random()))::int, now()
               FROM bench_skus s
               CROSS JOIN generate_series(0, 1) AS copy
               JOIN bench_bins b ON b.k = 1 + (s.k * 7 + copy * 1999) % (SELECT count(*) FROM bench_bins)
               LEFT JOIN (SELECT sku_id, sum(qty) AS units FROM bench_lines GROUP BY sku_id) d ON d.sku_id = s.id""",
        ]
        for statement in statements:
            db.session.execute(text(statement), params)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(
                text(
                    "VACUUM ANALYZE products, skus, zones, bins, bin_stocks, orders, order_lines, pick_tasks"
                )
            )
        counts = db.session.execute(
            text(
                """SELECT (SELECT count(*) FROM bins WHERE warehouse_id = :w),
                          (SELECT count(*) FROM skus),
                          (SELECT count(*) FROM orders WHERE status = 'AWAITING_SHIPMENT'),
                          (SELECT count(*) FROM order_lines WHERE warehouse_id = :w)"""
            ),
            {"w": warehouse.id},
        ).one()
        sample = db.session.execute(text("SELECT code, sort_key FROM bins ORDER BY id LIMIT 5")).all()
        db.session.remove()
    for code, key in sample:  # the sort key written in SQL is the services' own
        if sort_key(code) != key:
            raise RuntimeError(f"bin {code}: sort key {key!r}, the services make {sort_key(code)!r}")
    floor = Floor(warehouse.id, *counts)
    if floor.orders != orders:
        raise RuntimeError(f"set-up failed: {floor.orders} orders instead of {orders}")
    return floor


def release(app, floor: Floor, limit: int) -> int:
    """Release a wave of the ``limit`` oldest pool orders and commit; its id."""
    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.extensions import db
    from marketplace.fulfillment import outbound

    with app.app_context(), acting_as(SYSTEM):
        warehouse = db.session.get(outbound.Warehouse, floor.warehouse_id)
        wave = outbound.release_wave(db.session, warehouse, limit=limit)
        db.session.commit()
        wave_id = wave.id
        db.session.remove()
    return wave_id


# --- the measurement ------------------------------------------------------------------------------------


def _timed_release(app, floor: Floor, *, commit: bool) -> tuple[float, int, list[str]]:
    """One ``release_wave(limit=ORDERS)`` (and commit or rollback), timed; the statements' own times."""
    from sqlalchemy import event

    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.extensions import db
    from marketplace.fulfillment import outbound

    times: list[tuple[float, str]] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        times.append((elapsed, " ".join(statement.split())[:110]))

    with app.app_context(), acting_as(SYSTEM):
        engine = db.engine
        warehouse = db.session.get(outbound.Warehouse, floor.warehouse_id)
        db.session.commit()  # the warehouse is loaded; the timed transaction starts fresh
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            started = time.perf_counter()
            wave = outbound.release_wave(db.session, warehouse, limit=ORDERS)
            wave_id = wave.id
            if commit:
                db.session.commit()
            else:
                db.session.rollback()
            seconds = time.perf_counter() - started
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        db.session.remove()
    lines = [f"{elapsed * 1000:8.1f}  {statement}" for elapsed, statement in times]
    lines.append(f"{sum(e for e, _ in times) * 1000:8.1f}  (all statements; the rest is Python)")
    return seconds, wave_id, lines


def _check(app, floor: Floor, wave_id: int) -> dict[str, int]:
    """What the committed wave holds, and the correctness checks (as the app role, no tenant set)."""
    from sqlalchemy import text

    from marketplace.extensions import db

    with app.app_context():
        row = db.session.execute(
            text(
                """
                WITH wave_lines AS (
                    SELECT ol.id, ol.sku_id, ol.quantity - ol.shipped_quantity AS qty
                    FROM wave_orders wo JOIN order_lines ol ON ol.order_id = wo.order_id
                    WHERE wo.wave_id = :wave AND ol.warehouse_id = :w AND ol.quantity > ol.shipped_quantity
                ),
                promised AS (
                    SELECT bin_id, sku_id, sum(quantity - quantity_picked) AS units FROM pick_tasks
                    WHERE status IN ('OPEN', 'CLAIMED') GROUP BY bin_id, sku_id
                ),
                free AS (
                    SELECT bs.sku_id, sum(bs.quantity - COALESCE(p.units, 0)) AS units
                    FROM bin_stocks bs JOIN bins b ON b.id = bs.bin_id AND b.is_active
                    LEFT JOIN promised p ON p.bin_id = bs.bin_id AND p.sku_id = bs.sku_id
                    WHERE bs.warehouse_id = :w GROUP BY bs.sku_id
                ),
                released AS (
                    SELECT o.id, o.paid_at, wo.wave_id FROM orders o LEFT JOIN wave_orders wo ON wo.order_id = o.id
                    WHERE o.status = 'AWAITING_SHIPMENT'
                )
                SELECT
                  (SELECT count(*) FROM wave_orders WHERE wave_id = :wave) AS orders_released,
                  (SELECT count(*) FROM pick_tasks WHERE wave_id = :wave) AS pick_tasks,
                  (SELECT count(*) FROM pick_tasks WHERE wave_id = :wave AND status = 'SHORT') AS short_tasks,
                  (SELECT count(*) FROM wave_lines) AS lines,
                  (SELECT COALESCE(sum(quantity), 0) FROM pick_tasks WHERE wave_id = :wave AND status = 'OPEN')
                      AS units_planned,
                  (SELECT COALESCE(sum(quantity), 0) FROM pick_tasks WHERE wave_id = :wave AND status = 'SHORT')
                      AS units_short,
                  (SELECT count(*) FROM pick_tasks WHERE wave_id <> :wave AND status IN ('OPEN', 'CLAIMED'))
                      AS prior_open_tasks,
                  (SELECT count(*) FROM wave_lines l
                   WHERE l.qty <> (SELECT COALESCE(sum(t.quantity), 0) FROM pick_tasks t
                                   WHERE t.wave_id = :wave AND t.order_line_id = l.id)
                      OR EXISTS (SELECT 1 FROM pick_tasks t WHERE t.wave_id = :wave AND t.order_line_id = l.id
                                 AND t.sku_id <> l.sku_id)) AS uncovered_lines,
                  (SELECT count(*) FROM promised p
                   LEFT JOIN bin_stocks bs ON bs.bin_id = p.bin_id AND bs.sku_id = p.sku_id
                   WHERE p.units > COALESCE(bs.quantity, 0)) AS over_promised_bins,
                  (SELECT count(DISTINCT t.sku_id) FROM pick_tasks t JOIN free f ON f.sku_id = t.sku_id
                   WHERE t.wave_id = :wave AND t.status = 'SHORT' AND f.units > 0) AS short_with_free_stock,
                  (SELECT count(*) FROM released r
                   WHERE r.wave_id = :wave
                     AND r.paid_at > (SELECT min(paid_at) FROM released WHERE wave_id IS NULL)) AS out_of_paid_order
                """
            ),
            {"wave": wave_id, "w": floor.warehouse_id},
        ).one()
        db.session.remove()
    return {key: int(value) for key, value in row._mapping.items()}
