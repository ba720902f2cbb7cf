"""Writing validated products set-based: COPY into staging tables on PostgreSQL, Core executemany elsewhere."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from marketplace.catalog.import_validation import _IN_CHUNK, Lookups, ProductDraft
from marketplace.catalog.models import Product, ProductStatus, ProductTag, Sku, Tag
from marketplace.catalog.richtext import sanitise
from marketplace.core.db import utcnow
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement
from marketplace.inventory.services import default_warehouse

CHUNK_ROWS = 5000  # SKUs written per chunk; progress moves after each
IMPORT_REASON = "product import"


# --- writing ----------------------------------------------------------------------------------


def _chunks(products: list[ProductDraft], size: int) -> Iterator[list[ProductDraft]]:
    chunk: list[ProductDraft] = []
    count = 0
    for product in products:
        chunk.append(product)
        count += len(product.skus)
        if count >= size:
            yield chunk
            chunk, count = [], 0
    if chunk:
        yield chunk


def _tag_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    """Ids of the tags, creating the missing ones (tags are the platform's, shared by every shop)."""
    wanted = list(dict.fromkeys(names))
    ids: dict[str, int] = {}
    for attempt in range(2):
        for start in range(0, len(wanted), _IN_CHUNK):
            part = wanted[start : start + _IN_CHUNK]
            ids.update(
                {
                    row.name: row.id
                    for row in session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(part)))
                }
            )
        missing = [name for name in wanted if name not in ids]
        if not missing or attempt:
            break
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        session.execute(
            dialect_insert(Tag.__table__).on_conflict_do_nothing(), [{"name": name} for name in missing]
        )
    return ids


def _product_columns(product: ProductDraft, lookups: Lookups) -> tuple:
    prices = [s.price for s in product.skus]
    return (
        product.title,
        sanitise(product.description) if product.description else "",
        product.weight_g,
        product.category_id,
        product.brand_id,
        product.specs,
        min(prices),
        max(prices),
        lookups.tokens(product),
    )


class _Writer:
    def __init__(self, session: Session, tenant_id: int, actor_id: int | None, lookups: Lookups) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.actor_id = actor_id
        self.lookups = lookups
        self.tag_ids: dict[str, int] = {}
        self.warehouse_id = default_warehouse(session, tenant_id).id  # imported stock is in the shop's own

    def write(self, chunk: list[ProductDraft]) -> None:
        raise NotImplementedError


class CoreWriter(_Writer):
    """Core ``insert()`` executemany with ``RETURNING`` for the ids: SQLite, and PostgreSQL on request."""

    def write(self, chunk: list[ProductDraft]) -> None:
        session, tenant_id, now = self.session, self.tenant_id, utcnow()
        product_rows = []
        for product in chunk:
            title, description, weight, category_id, brand_id, specs, low, high, tokens = _product_columns(
                product, self.lookups
            )
            product_rows.append(
                {
                    "tenant_id": tenant_id,
                    "title": title,
                    "description_html": description,
                    "video_url": "",
                    "weight_g": weight,
                    "category_id": category_id,
                    "brand_id": brand_id,
                    "status": ProductStatus.DRAFT,
                    "is_listed": False,
                    "shop_position": 0,
                    "specs": specs,
                    "attributes": {},
                    "min_price": low,
                    "max_price": high,
                    "sales_count": 0,
                    "rating_count": 0,
                    "rating_sum": 0,
                    "search_tokens": tokens,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        products = Product.__table__
        product_ids = (
            session.execute(
                insert(products).returning(products.c.id, sort_by_parameter_order=True), product_rows
            )
            .scalars()
            .all()
        )
        sku_rows, stocks, tag_rows = [], [], []
        for product, product_id in zip(chunk, product_ids, strict=True):
            for position, sku in enumerate(product.skus):
                sku_rows.append(
                    {
                        "tenant_id": tenant_id,
                        "product_id": product_id,
                        "code": sku.code,
                        "barcode": sku.barcode,
                        "spec_values": sku.spec_values,
                        "spec_key": sku.spec_key,
                        "price": sku.price,
                        "market_price": sku.market_price,
                        "weight_g": 0,
                        "is_active": True,
                        "position": position,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                stocks.append(sku.stock)
            for tag in product.tags:
                tag_rows.append(
                    {"tenant_id": tenant_id, "product_id": product_id, "tag_id": self.tag_ids[tag]}
                )
        skus = Sku.__table__
        sku_ids = (
            session.execute(insert(skus).returning(skus.c.id, sort_by_parameter_order=True), sku_rows)
            .scalars()
            .all()
        )
        session.execute(
            insert(StockLevel.__table__),
            [
                {"tenant_id": tenant_id, "sku_id": sku_id, "warehouse_id": self.warehouse_id, "on_hand": stock,
                 "reserved": 0, "available": stock, "low_stock_threshold": 0, "low_stock_alerted": False}
                for sku_id, stock in zip(sku_ids, stocks, strict=True)
            ],
        )  # fmt: skip
        session.execute(
            insert(StockMovement.__table__),
            [
                {"tenant_id": tenant_id, "sku_id": sku_id, "warehouse_id": self.warehouse_id,
                 "kind": MovementKind.IMPORT, "on_hand_delta": stock,
                 "reserved_delta": 0, "available_before": 0, "available_after": stock, "reason": IMPORT_REASON,
                 "actor_id": self.actor_id, "order_id": None, "created_at": now}
                for sku_id, stock in zip(sku_ids, stocks, strict=True)
            ],
        )  # fmt: skip
        if tag_rows:
            session.execute(insert(ProductTag.__table__), tag_rows)


# Staging tables for COPY: temporary, so no row-level security, dropped at commit.
_STAGING = """
CREATE TEMP TABLE _import_products (
    id bigint, title text, description_html text, weight_g integer, category_id bigint, brand_id bigint,
    specs text, min_price bigint, max_price bigint, search_tokens text
) ON COMMIT DROP;
CREATE TEMP TABLE _import_skus (
    id bigint, product_id bigint, code text, barcode text, spec_values text, spec_key text, price bigint,
    market_price bigint, position integer, stock integer
) ON COMMIT DROP;
CREATE TEMP TABLE _import_tags (product_id bigint, tag_id bigint) ON COMMIT DROP;
"""
# From the staging tables into place; the RLS policy checks every row against the job's tenant.
_MOVE = (
    """INSERT INTO products (id, tenant_id, title, description_html, video_url, weight_g, category_id, brand_id,
        status, is_listed, shop_position, specs, attributes, min_price, max_price, sales_count, rating_count,
        rating_sum, search_tokens, created_at, updated_at)
    SELECT id, %(tenant)s, title, description_html, '', weight_g, category_id, brand_id, %(draft)s, false, 0,
        specs::json, '{}'::json, min_price, max_price, 0, 0, 0, search_tokens, now(), now()
    FROM _import_products ORDER BY id""",
    """INSERT INTO skus (id, tenant_id, product_id, code, barcode, spec_values, spec_key, price, market_price,
        weight_g, is_active, position, created_at, updated_at)
    SELECT id, %(tenant)s, product_id, code, barcode, spec_values::json, spec_key, price, market_price, 0, true,
        position, now(), now()
    FROM _import_skus ORDER BY id""",
    """INSERT INTO stock_levels (tenant_id, sku_id, warehouse_id, on_hand, reserved, available,
        low_stock_threshold, low_stock_alerted)
    SELECT %(tenant)s, id, %(warehouse)s, stock, 0, stock, 0, false FROM _import_skus ORDER BY id""",
    """INSERT INTO stock_movements (tenant_id, sku_id, warehouse_id, kind, on_hand_delta, reserved_delta,
        available_before, available_after, reason, actor_id, order_id, created_at)
    SELECT %(tenant)s, id, %(warehouse)s, %(kind)s, stock, 0, 0, stock, %(reason)s, %(actor)s, NULL, now()
    FROM _import_skus ORDER BY id""",
    """INSERT INTO product_tags (tenant_id, product_id, tag_id)
    SELECT %(tenant)s, product_id, tag_id FROM _import_tags""",
    "TRUNCATE _import_products, _import_skus, _import_tags",
)


class CopyWriter(_Writer):
    """PostgreSQL: ids from the sequences, COPY into staging, one INSERT ... SELECT per table and chunk."""

    def __init__(self, session: Session, tenant_id: int, actor_id: int | None, lookups: Lookups) -> None:
        super().__init__(session, tenant_id, actor_id, lookups)
        self.raw = session.connection().connection.driver_connection
        with self.raw.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS _import_products, _import_skus, _import_tags")
            cursor.execute(_STAGING)
        self.params = {
            "tenant": tenant_id,
            # Enum columns store the member's name (native_enum=False), as the ORM writes them.
            "draft": ProductStatus.DRAFT.name,
            "kind": MovementKind.IMPORT.name,
            "reason": IMPORT_REASON,
            "actor": actor_id,
            "warehouse": self.warehouse_id,
        }

    def _ids(self, cursor, table: str, count: int) -> list[int]:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, count)
        )
        return [row[0] for row in cursor.fetchall()]

    def write(self, chunk: list[ProductDraft]) -> None:
        dumps = json.dumps
        with self.raw.cursor() as cursor:
            product_ids = self._ids(cursor, "products", len(chunk))
            sku_ids = iter(self._ids(cursor, "skus", sum(len(p.skus) for p in chunk)))
            with cursor.copy(
                "COPY _import_products (title, description_html, weight_g, category_id, brand_id, specs,"
                " min_price, max_price, search_tokens, id) FROM STDIN"
            ) as copy:
                for product, product_id in zip(chunk, product_ids, strict=True):
                    values = _product_columns(product, self.lookups)
                    copy.write_row(
                        (*values[:5], dumps(values[5], ensure_ascii=False), *values[6:], product_id)
                    )
            with cursor.copy(
                "COPY _import_skus (id, product_id, code, barcode, spec_values, spec_key, price, market_price,"
                " position, stock) FROM STDIN"
            ) as copy:
                for product, product_id in zip(chunk, product_ids, strict=True):
                    for position, sku in enumerate(product.skus):
                        copy.write_row(
                            (
                                next(sku_ids), product_id, sku.code, sku.barcode,
                                dumps(sku.spec_values, ensure_ascii=False), sku.spec_key, sku.price,
                                sku.market_price, position, sku.stock,
                            )
                        )  # fmt: skip
            with cursor.copy("COPY _import_tags (product_id, tag_id) FROM STDIN") as copy:
                for product, product_id in zip(chunk, product_ids, strict=True):
                    for tag in product.tags:
                        copy.write_row((product_id, self.tag_ids[tag]))
            for statement in _MOVE:
                cursor.execute(statement, self.params)


def write_products(
    session: Session,
    *,
    tenant_id: int,
    products: list[ProductDraft],
    lookups: Lookups,
    actor_id: int | None,
    on_chunk: Callable[[int], None] = lambda rows: None,
    method: str = "auto",
) -> int:
    """Insert the products with their SKUs, stock levels, movements and tags; returns the SKU count."""
    if not products:
        return 0
    use_copy = method == "copy" or (method == "auto" and session.get_bind().dialect.name == "postgresql")
    writer: _Writer = (CopyWriter if use_copy else CoreWriter)(session, tenant_id, actor_id, lookups)
    writer.tag_ids = _tag_ids(session, (tag for p in products for tag in p.tags))
    skus = 0
    for chunk in _chunks(products, CHUNK_ROWS):
        writer.write(chunk)
        rows = sum(len(p.skus) for p in chunk)
        skus += rows
        on_chunk(rows)
    return skus
