"""Bulk product import from CSV/XLSX: one validation pass in Python, then set-based inserts.

The upload (:func:`start_import`) stores the file privately, adds a ``product_imports`` row and an outbox job.
The job (:func:`run_import`, called by ``catalog.tasks.import_products``) reads the file, checks every row and
either reports every problem and imports nothing, or - with ``good_rows_only`` - imports the products whose
rows are all good. Products arrive as drafts with their SKUs, a stock level and one ``import`` stock movement
per SKU, search tokens and min/max prices.

Speed: no ORM object per row and no per-product service call. On PostgreSQL the ids come from the sequences in
one ``nextval`` query, the rows go by COPY into temporary staging tables (COPY cannot write to tables with
row-level security), and one ``INSERT ... SELECT`` per table moves a chunk into place, under the RLS policy of
the job's tenant. Other databases get Core ``insert()`` executemany with ``RETURNING``. Core statements bypass the
ORM tenant filter and the audit listener, so every row carries its ``tenant_id`` explicitly and the import is
audited once, as ``catalog.import`` with its counts.

The whole import is one transaction (with the job's outbox row): it lands completely or not at all, and a
retried job starts again from scratch. Progress is written through a second, short transaction per chunk on
PostgreSQL so the page can show it while the import runs.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from marketplace.catalog.import_format import (
    COLUMN_INDEX,
    COLUMNS,
    MAX_SPECS,
    PRODUCT_COLUMNS,
    ImportFileRefused,
    Table,
    check_header,
    read_table,
    read_upload,
    sniff_format,
)
from marketplace.catalog.import_models import ImportStatus, ProductImport
from marketplace.catalog.models import Brand, Category, Product, ProductStatus, ProductTag, Sku, Tag
from marketplace.catalog.richtext import sanitise
from marketplace.catalog.specs import MAX_SKUS_PER_PRODUCT, spec_key
from marketplace.catalog.tasks import import_products
from marketplace.catalog.tokens import document_tokens
from marketplace.core import audit
from marketplace.core.db import Money, utcnow
from marketplace.core.errors import N_, NotFound
from marketplace.core.jobs import enqueue
from marketplace.inventory.models import MovementKind, StockLevel, StockMovement

CHUNK_ROWS = 5000  # SKUs written per chunk; progress moves after each
MAX_STORED_ERRORS = 5000  # errors kept on the import row (error_count has them all)
MAX_TITLE = 200
MAX_CODE = 64
MAX_TAG = 50
MAX_TAGS = 20
MAX_PRICE = 100_000_000_00  # 100 million yuan, in fen
MAX_STOCK = 100_000_000
MAX_WEIGHT_G = 10_000_000
MAX_SPEC_NAME = 50  # as the storefront's facets keep them
MAX_SPEC_VALUE = 100
MAX_SPEC_KEY = 255  # skus.spec_key
_SPECS_TOO_LONG = (
    N_(
        "The specs are too long: a value has at most {limit} characters, and the names and values of a row"
        " together at most {total}."
    ),
    {"limit": MAX_SPEC_VALUE, "total": MAX_SPEC_KEY},
)
IMPORT_REASON = "product import"

log = logging.getLogger(__name__)

_IN_CHUNK = 900  # bound parameters per IN (...) lookup; SQLite allows few

_REF, _TITLE, _CATEGORY, _BRAND, _DESCRIPTION, _WEIGHT = (
    COLUMN_INDEX[k] for k in ("product_ref", "title", "category_id", "brand", "description", "weight_g")
)
_SPEC_NAMES = tuple(COLUMN_INDEX[f"spec_{n}_name"] for n in range(1, MAX_SPECS + 1))
_SPEC_VALUES = tuple(COLUMN_INDEX[f"spec_{n}_value"] for n in range(1, MAX_SPECS + 1))
_CODE, _BARCODE, _PRICE, _MARKET, _STOCK, _TAGS = (
    COLUMN_INDEX[k] for k in ("sku_code", "barcode", "price", "market_price", "stock", "tags")
)
_PRODUCT_FIELDS = tuple(COLUMN_INDEX[k] for k in PRODUCT_COLUMNS)
_product_fields_of = itemgetter(*_PRODUCT_FIELDS)
_spec_names_of = itemgetter(*_SPEC_NAMES)
_spec_values_of = itemgetter(*_SPEC_VALUES)
_ORDER = {c.key: i for i, c in enumerate(COLUMNS)}


# --- field rules, shared with the product form's rules (services._validate) ------------------------------
# Pure functions: each returns None when the value is good, else (message, args) with an untranslated message.

Problem = tuple[str, dict[str, Any]] | None


def check_title(title: str) -> Problem:
    if not title:
        return N_("Enter a title."), {}
    if len(title) > MAX_TITLE:
        return N_("At most {limit} characters."), {"limit": MAX_TITLE}
    return None


def check_sku_code(code: str) -> Problem:
    if not code:
        return N_("Enter a SKU code."), {}
    if len(code) > MAX_CODE:
        return N_("At most {limit} characters."), {"limit": MAX_CODE}
    return None


_PLAIN_YUAN = re.compile(r"(\d{1,12})(?:\.(\d{1,2}))?")


def parse_yuan(text: str) -> int:
    """``12.50``, ``¥12.5``, ``1,299`` or ``12元`` → fen; ValueError for anything else."""
    plain = _PLAIN_YUAN.fullmatch(text)
    if plain is not None:  # the usual case, without Decimal
        whole, cents = plain.groups()
        return int(whole) * 100 + (int(cents.ljust(2, "0")) if cents else 0)
    cleaned = text.replace(",", "").replace("¥", "").replace("￥", "").removesuffix("元").strip()
    try:
        return Money.parse(cleaned).amount
    except (ArithmeticError, ValueError) as exc:  # InvalidOperation, Infinity, sub-cent amounts
        raise ValueError(text) from exc


def parse_whole(text: str) -> int:
    """A whole number (``12``, ``12.0`` from a spreadsheet, ``1,200``); ValueError otherwise."""
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(text)
    return int(number)


def check_price(text: str) -> tuple[int | None, Problem]:
    if not text:
        return None, (N_("Enter a price."), {})
    try:
        amount = parse_yuan(text)
    except ValueError:
        return None, (N_("{value} is not a price in yuan such as 12.50."), {"value": text[:40]})
    if amount <= 0:
        return None, (N_("The price must be above 0."), {})
    if amount > MAX_PRICE:
        return None, (N_("The price is too high."), {})
    return amount, None


def check_market_price(text: str) -> tuple[int | None, Problem]:
    if not text:
        return None, None
    try:
        amount = parse_yuan(text)
    except ValueError:
        return None, (N_("{value} is not a price in yuan such as 12.50."), {"value": text[:40]})
    if amount < 0:
        return None, (N_("The market price cannot be negative."), {})
    if amount > MAX_PRICE:
        return None, (N_("The price is too high."), {})
    return amount, None


def check_stock(text: str) -> tuple[int, Problem]:
    if not text:
        return 0, None
    if text.isdigit() and len(text) < 10:
        stock = int(text)
        return (stock, None) if stock <= MAX_STOCK else (0, (N_("At most {limit}."), {"limit": MAX_STOCK}))
    try:
        stock = parse_whole(text)
    except ValueError:
        return 0, (N_("Stock must be a whole number of 0 or more."), {})
    if stock < 0:
        return 0, (N_("Stock cannot be negative."), {})
    if stock > MAX_STOCK:
        return 0, (N_("At most {limit}."), {"limit": MAX_STOCK})
    return stock, None


def check_weight(text: str) -> tuple[int, Problem]:
    if not text:
        return 0, None
    try:
        weight = parse_whole(text)
    except ValueError:
        return 0, (N_("The weight is a whole number of grams."), {})
    if weight < 0:
        return 0, (N_("Weight cannot be negative."), {})
    if weight > MAX_WEIGHT_G:
        return 0, (N_("At most {limit}."), {"limit": MAX_WEIGHT_G})
    return weight, None


def split_tags(text: str) -> list[str]:
    """Comma-separated (ASCII or Chinese commas), trimmed, each once, at most 20 (like the product form)."""
    names = [t.strip() for t in re.split(r"[,，;；]", text) if t.strip()]
    return list(dict.fromkeys(names))[:MAX_TAGS]


# --- the validation pass ----------------------------------------------------------------------


@dataclass(slots=True)
class SkuDraft:
    row: int
    code: str
    barcode: str | None
    spec_values: dict[str, str]
    spec_key: str
    price: int
    market_price: int | None
    stock: int


@dataclass(slots=True)
class ProductDraft:
    ref: str
    row: int  # its first row
    rows: list[int]
    title: str = ""
    category_id: int = 0
    brand_id: int | None = None
    description: str = ""
    weight_g: int = 0
    tags: list[str] = field(default_factory=list)
    specs: list[dict[str, Any]] = field(default_factory=list)
    skus: list[SkuDraft] = field(default_factory=list)
    bad: bool = False


@dataclass
class Validation:
    products: list[ProductDraft]
    errors: list[dict[str, Any]]
    bad_rows: set[int]

    @property
    def good_products(self) -> list[ProductDraft]:
        return [p for p in self.products if not p.bad]

    @property
    def skipped_products(self) -> int:
        return sum(1 for p in self.products if p.bad)


def _norm(name: str) -> str:
    return "/".join(part.strip().lower() for part in re.split(r"\s*[/>》]\s*", name) if part.strip())


class Lookups:
    """Categories and brands, loaded once per import, and the names the tokens index."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(
            select(Category.id, Category.name, Category.name_en, Category.path, Category.is_active)
        ).all()
        names = {r.id: (r.name, r.name_en) for r in rows}
        self.categories: dict[int, tuple[str, str]] = {r.id: names[r.id] for r in rows if r.is_active}
        # Full path names (茶叶/绿茶, Tea/Green tea) of active categories, and a bare name when it is unique.
        self.category_names: dict[str, int] = {}
        leaves: dict[str, set[int]] = {}
        for r in rows:
            if not r.is_active:
                continue
            ids = [int(part) for part in r.path.strip("/").split("/") if part] or [r.id]
            for language in (0, 1):
                parts = [names[i][language] if i in names else "" for i in ids]
                if all(parts):
                    self.category_names[_norm("/".join(parts))] = r.id
                if names[r.id][language]:
                    leaves.setdefault(_norm(names[r.id][language]), set()).add(r.id)
        for leaf, ids_with_name in leaves.items():
            if len(ids_with_name) == 1:
                self.category_names.setdefault(leaf, next(iter(ids_with_name)))
        self.brands: dict[int, tuple[str, str]] = {}
        self.brand_names: dict[str, int] = {}
        for r in session.execute(select(Brand.id, Brand.name, Brand.name_en)).all():
            self.brands[r.id] = (r.name, r.name_en)
            self.brand_names.setdefault(r.name.strip().lower(), r.id)
        for brand_id, (_, name_en) in self.brands.items():
            if name_en.strip():
                self.brand_names.setdefault(name_en.strip().lower(), brand_id)

    def category(self, value: str) -> int | None:
        if value.isdigit():
            number = int(value)
            return number if number in self.categories else None
        return self.category_names.get(_norm(value))

    def brand(self, value: str) -> int | None:
        return self.brand_names.get(value.strip().lower())

    def tokens(self, product: ProductDraft) -> str:
        """The same words ``services.reindex_product`` indexes."""
        category = self.categories.get(product.category_id, ("", ""))
        brand = self.brands.get(product.brand_id or 0, ("", ""))
        return document_tokens(
            product.title, brand[0], brand[1], category[0], category[1], " ".join(product.tags)
        )


class _Collector:
    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.bad_rows: set[int] = set()

    def add(self, row: int | None, column: str, problem: Problem) -> None:
        if problem is None:
            return
        message, args = problem
        self.errors.append({"row": row, "column": column, "message": message, "args": args})
        if row is not None:
            self.bad_rows.add(row)


def validate(session: Session, table: Table, *, tenant_id: int, lookups: Lookups | None = None) -> Validation:
    """Check every row; a product is bad when any of its rows is. Nothing is written."""
    lookups = lookups or Lookups(session)
    found = _Collector()
    groups: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    first_row_of_code: dict[str, int] = {}
    for number, row in table.rows:
        ref = row[_REF]
        if not ref:
            found.add(
                number, "product_ref", (N_("Enter a product_ref: rows with the same one make a product."), {})
            )
        else:
            groups.setdefault(ref, []).append((number, row))
        code = row[_CODE]
        if code:
            first = first_row_of_code.setdefault(code, number)
            if first != number:
                found.add(
                    number,
                    "sku_code",
                    (N_("SKU code {code} is also on row {row}."), {"code": code, "row": first}),
                )

    products = [_check_product(ref, rows, lookups, found) for ref, rows in groups.items()]

    taken = _codes_in_shop(session, tenant_id, list(first_row_of_code))
    if taken:
        for product in products:
            for sku in product.skus:
                if sku.code in taken:
                    found.add(
                        sku.row,
                        "sku_code",
                        (N_("SKU code {sku_code} is already used in this shop."), {"sku_code": sku.code}),
                    )
    for product in products:
        if not product.bad and any(r in found.bad_rows for r in product.rows):
            product.bad = True
    found.errors.sort(key=lambda e: (e["row"] or 0, _ORDER.get(e["column"], 99)))
    return Validation(products, found.errors, found.bad_rows)


def _check_product(
    ref: str, rows: list[tuple[int, tuple[str, ...]]], lookups: Lookups, found: _Collector
) -> ProductDraft:
    first_number, first = rows[0]
    product = ProductDraft(ref=ref, row=first_number, rows=[n for n, _ in rows])
    add = found.add

    product.title = first[_TITLE]
    add(first_number, "title", check_title(product.title))
    category_text = first[_CATEGORY]
    if not category_text:
        add(first_number, "category_id", (N_("Choose an active category."), {}))
    else:
        category_id = lookups.category(category_text)
        if category_id is None:
            add(
                first_number,
                "category_id",
                (N_("Unknown or inactive category: {value}."), {"value": category_text[:60]}),
            )
        else:
            product.category_id = category_id
    if first[_BRAND]:
        product.brand_id = lookups.brand(first[_BRAND])
        if product.brand_id is None:
            add(first_number, "brand", (N_("Unknown brand: {value}."), {"value": first[_BRAND][:60]}))
    product.description = first[_DESCRIPTION]
    product.weight_g, problem = check_weight(first[_WEIGHT])
    add(first_number, "weight_g", problem)
    product.tags = split_tags(first[_TAGS])
    for tag in product.tags:
        if len(tag) > MAX_TAG:
            add(first_number, "tags", (N_("A tag is at most {limit} characters."), {"limit": MAX_TAG}))
            break

    spec_names = _spec_names_of(first)
    active = [n for n in range(MAX_SPECS) if spec_names[n]]
    inactive = [n for n in range(MAX_SPECS) if not spec_names[n]]
    key_order = sorted(active, key=lambda n: spec_names[n])  # spec_key() sorts by name
    regular = len({spec_names[n] for n in active}) == len(active)  # no spec name twice on the first row
    for n in active:
        if len(spec_names[n]) > MAX_SPEC_NAME:
            add(
                first_number,
                f"spec_{n + 1}_name",
                (N_("At most {limit} characters."), {"limit": MAX_SPEC_NAME}),
            )
    first_fields = _product_fields_of(first)
    values_seen: list[dict[str, None]] = [{} for _ in range(MAX_SPECS)]
    key_rows: dict[str, int] = {}
    spec_problems = False
    for number, row in rows:
        if number != first_number:
            fields = _product_fields_of(row)
            if any(fields) and fields != first_fields:
                for index, value, expected in zip(_PRODUCT_FIELDS, fields, first_fields, strict=True):
                    if value and value != expected:
                        add(
                            number,
                            COLUMNS[index].key,
                            (N_("Differs from the product's first row (row {row})."), {"row": first_number}),
                        )
        values = _spec_values_of(row)
        usual = (
            regular
            and (number == first_number or _spec_names_of(row) == spec_names)
            and all(values[n] for n in active)
            and not any(values[n] for n in inactive)
        )  # the product's spec names, each with a value: no need to look closer
        if usual:
            spec_values = {spec_names[n]: values[n] for n in active}
            key = "|".join([f"{spec_names[n]}:{values[n]}" for n in key_order])  # = spec_key(spec_values)
            if len(key) > MAX_SPEC_KEY or any(len(values[n]) > MAX_SPEC_VALUE for n in active):
                usual = False
                add(number, "spec_1_value", _SPECS_TOO_LONG)
        else:
            spec_values = _report_specs(number, row, first_number, spec_names, add)
            key = spec_key(spec_values)
        if usual:
            for n in active:
                values_seen[n].setdefault(values[n], None)
            earlier = key_rows.setdefault(key, number)
            if earlier != number:
                add(number, "spec_1_value", (N_("Same specs as row {row}."), {"row": earlier}))
        else:
            spec_problems = True

        code = row[_CODE]
        if not code or len(code) > MAX_CODE:
            add(number, "sku_code", check_sku_code(code))
        barcode = row[_BARCODE] or None
        if barcode and len(barcode) > MAX_CODE:
            add(number, "barcode", (N_("At most {limit} characters."), {"limit": MAX_CODE}))
        price, problem = check_price(row[_PRICE])
        if problem:
            add(number, "price", problem)
        market_price, problem = check_market_price(row[_MARKET])
        if problem:
            add(number, "market_price", problem)
        stock, problem = check_stock(row[_STOCK])
        if problem:
            add(number, "stock", problem)
        product.skus.append(
            SkuDraft(number, code, barcode, spec_values, key, price or 0, market_price, stock)
        )

    product.specs = [
        {"name": name, "values": list(values_seen[n])} for n, name in enumerate(spec_names) if name
    ]
    count = 1
    for spec in product.specs:
        count *= max(1, len(spec["values"]))
    if count > MAX_SKUS_PER_PRODUCT:
        add(
            first_number,
            "spec_1_value",
            (
                N_("{count} spec combinations is too many (at most {limit})."),
                {"count": count, "limit": MAX_SKUS_PER_PRODUCT},
            ),
        )
    elif count > len(key_rows) and not spec_problems:
        add(
            first_number,
            "spec_1_value",
            (
                N_("Every spec combination needs exactly one row; missing: {missing}."),
                {"missing": _missing_combinations(product.specs, set(key_rows))},
            ),
        )
    return product


def _report_specs(
    number: int, row: tuple[str, ...], first_number: int, spec_names: tuple[str, ...], add: Callable
) -> dict[str, str]:
    """A row whose specs are not the product's usual ones: say exactly what is wrong with them."""
    spec_values: dict[str, str] = {}
    specs_ok = True
    for n in range(MAX_SPECS):
        name, value = row[_SPEC_NAMES[n]], row[_SPEC_VALUES[n]]
        if not name and not value:
            continue
        if not name or not value:
            specs_ok = False
            column = f"spec_{n + 1}_value" if name else f"spec_{n + 1}_name"
            add(number, column, (N_("Give both the spec name and its value."), {}))
        elif name in spec_values:
            specs_ok = False
            add(number, f"spec_{n + 1}_name", (N_("Spec {name} appears twice."), {"name": name}))
        else:
            spec_values[name] = value
    if specs_ok and number != first_number and _spec_names_of(row) != spec_names:
        add(
            number,
            "spec_1_name",
            (N_("Spec names differ from the product's first row (row {row})."), {"row": first_number}),
        )
    return spec_values


def _missing_combinations(specs: list[dict[str, Any]], given: set[str]) -> str:
    from marketplace.catalog.specs import combinations

    missing = [c for c in combinations(specs) if spec_key(c) not in given]
    shown = ", ".join(" / ".join(c.values()) for c in missing[:5])
    return shown + (" …" if len(missing) > 5 else "")


def _codes_in_shop(session: Session, tenant_id: int, codes: list[str]) -> set[str]:
    taken: set[str] = set()
    in_shop = session.scalar(select(func.count()).select_from(Sku).where(Sku.tenant_id == tenant_id)) or 0
    if in_shop <= len(codes):  # a small (or empty) shop: read its codes rather than look up every one
        wanted = set(codes)
        return {
            code
            for code in session.scalars(select(Sku.code).where(Sku.tenant_id == tenant_id))
            if code in wanted
        }
    if session.get_bind().dialect.name == "postgresql":  # one array parameter instead of thousands
        from sqlalchemy import String, any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        for start in range(0, len(codes), 50_000):
            part = bindparam("codes", codes[start : start + 50_000], type_=ARRAY(String))
            taken.update(
                session.scalars(select(Sku.code).where(Sku.tenant_id == tenant_id, Sku.code == any_(part)))
            )
        return taken
    for start in range(0, len(codes), _IN_CHUNK):
        part = codes[start : start + _IN_CHUNK]
        taken.update(
            session.scalars(select(Sku.code).where(Sku.tenant_id == tenant_id, Sku.code.in_(part))).all()
        )
    return taken


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
                {"tenant_id": tenant_id, "sku_id": sku_id, "on_hand": stock, "reserved": 0, "available": stock,
                 "low_stock_threshold": 0}
                for sku_id, stock in zip(sku_ids, stocks, strict=True)
            ],
        )  # fmt: skip
        session.execute(
            insert(StockMovement.__table__),
            [
                {"tenant_id": tenant_id, "sku_id": sku_id, "kind": MovementKind.IMPORT, "on_hand_delta": stock,
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
    """INSERT INTO stock_levels (tenant_id, sku_id, on_hand, reserved, available, low_stock_threshold)
    SELECT %(tenant)s, id, stock, 0, stock, 0 FROM _import_skus ORDER BY id""",
    """INSERT INTO stock_movements (tenant_id, sku_id, kind, on_hand_delta, reserved_delta, available_before,
        available_after, reason, actor_id, order_id, created_at)
    SELECT %(tenant)s, id, %(kind)s, stock, 0, 0, stock, %(reason)s, %(actor)s, NULL, now()
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


# --- files ------------------------------------------------------------------------------------


def _import_folder() -> Path:
    from marketplace.core.storage import media_root

    folder = media_root() / "private" / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_import_file(data: bytes, file_format: str) -> str:
    """Store an uploaded product file privately under a random name; returns the key."""
    key = f"{secrets.token_hex(16)}.{file_format}"
    (_import_folder() / key).write_bytes(data)
    return key


def load_import_file(key: str) -> bytes:
    stem, _, ext = key.partition(".")
    if not stem.isalnum() or ext not in {"csv", "xlsx"}:
        raise ImportFileRefused(N_("the stored file is missing."))
    path = _import_folder() / key
    if not path.is_file():
        raise ImportFileRefused(N_("the stored file is missing."))
    return path.read_bytes()


# --- the service: upload, and the job's work ---------------------------------------------------


def start_import(
    session: Session,
    *,
    tenant_id: int,
    stream,
    filename: str,
    good_rows_only: bool,
    user_id: int | None,
    ip: str | None = None,
) -> ProductImport:
    """Check the file's kind and header, store it, and queue the import job (after the caller's commit)."""
    data = read_upload(stream)
    file_format = sniff_format(data)
    check_header(data, file_format)
    product_import = ProductImport(
        tenant_id=tenant_id,
        filename=Path(filename or "").name[:255],
        file_key=save_import_file(data, file_format),
        file_format=file_format,
        status=ImportStatus.QUEUED,
        good_rows_only=good_rows_only,
        created_by_id=user_id,
        created_ip=ip,
    )
    session.add(product_import)
    session.flush()
    enqueue(import_products, tenant_id=tenant_id, import_id=product_import.id)
    return product_import


class _Progress:
    """Status and counters of the import row. On PostgreSQL each update commits on its own short transaction, so
    the page sees it while the import's transaction is still open; elsewhere it joins the import's transaction.
    """

    def __init__(self, session: Session, import_id: int, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        table = ProductImport.__table__
        self.statement = update(table).where(table.c.id == import_id, table.c.tenant_id == tenant_id)
        self.engine = session.get_bind()
        self.separate = self.engine.dialect.name == "postgresql"
        self.processed = 0

    def __call__(self, **values: Any) -> None:
        statement = self.statement.values(**values)
        if not self.separate:
            self.session.execute(statement)
            return
        with self.engine.begin() as connection:
            connection.execute(
                text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(self.tenant_id)}
            )
            connection.execute(statement)

    def advance(self, rows: int) -> None:
        self.processed += rows
        self(processed_rows=self.processed)

    def finish(self, **values: Any) -> None:
        """The final state, in the import's own transaction: it commits together with the products."""
        self.session.execute(self.statement.values(finished_at=utcnow(), **values))


def _actor(session: Session, product_import: ProductImport) -> audit.Actor:
    from marketplace.identity.models import User

    user = session.get(User, product_import.created_by_id) if product_import.created_by_id else None
    return audit.Actor(
        user_id=product_import.created_by_id,
        kind="merchant" if user is not None else "system",
        tenant_id=product_import.tenant_id,
        ip=product_import.created_ip,
        label=user.email if user is not None else "system",
    )


def run_import(session: Session, import_id: int, *, method: str = "auto") -> None:
    """The job: validate the stored file, then import it (or report why not). Safe to run again."""
    # populate_existing: the app's sessions keep loaded objects across commits; read the row as it is now.
    product_import = session.get(ProductImport, import_id, populate_existing=True)
    if product_import is None or product_import.status is ImportStatus.DONE:
        return
    tenant_id = product_import.tenant_id
    progress = _Progress(session, import_id, tenant_id)
    with audit.acting_as(_actor(session, product_import)):
        try:
            _run(session, product_import, progress, method=method)
        except Exception:
            # Keep the failure visible on the page; the outbox keeps the traceback and RQ retries the job.
            session.rollback()
            progress.separate = False
            progress.finish(status=ImportStatus.FAILED, failure="internal")
            session.commit()
            raise


def _run(session: Session, product_import: ProductImport, progress: _Progress, *, method: str) -> None:
    tenant_id = product_import.tenant_id
    clock = time.perf_counter()
    progress(status=ImportStatus.VALIDATING, started_at=utcnow(), processed_rows=0, failure=None)
    try:
        table = read_table(load_import_file(product_import.file_key), product_import.file_format)
    except ImportFileRefused as refused:
        error = {"row": None, "column": "", "message": refused.why, "args": refused.why_facts}
        progress.finish(status=ImportStatus.FAILED, failure="file", errors=[error], error_count=1)
        _audit(session, product_import, rows=0, created=0, skus=0, skipped=0, errors=1)
        return
    progress(total_rows=table.total_rows)
    read_seconds, clock = time.perf_counter() - clock, time.perf_counter()
    lookups = Lookups(session)
    result = validate(session, table, tenant_id=tenant_id, lookups=lookups)
    validate_seconds, clock = time.perf_counter() - clock, time.perf_counter()
    total_rows, table.rows = table.total_rows, []  # the drafts hold what is written; free the raw rows
    counts = {"rows": total_rows, "errors": len(result.errors)}
    outcome = {
        "errors": result.errors[:MAX_STORED_ERRORS],
        "error_count": len(result.errors),
        "processed_rows": total_rows,
    }
    if result.errors and not product_import.good_rows_only:
        progress.finish(
            status=ImportStatus.FAILED, failure="rows", skipped_count=len(result.products), **outcome
        )
        _audit(session, product_import, created=0, skus=0, skipped=len(result.products), **counts)
        return

    good = result.good_products
    # Rows left out count as handled, so the bar reaches the end together with the last chunk.
    progress.processed = total_rows - sum(len(p.skus) for p in good)
    progress(status=ImportStatus.IMPORTING, processed_rows=progress.processed)
    skus = write_products(
        session,
        tenant_id=tenant_id,
        products=good,
        lookups=lookups,
        actor_id=product_import.created_by_id,
        on_chunk=progress.advance,
        method=method,
    )
    progress.finish(
        status=ImportStatus.DONE,
        created_count=len(good),
        sku_count=skus,
        skipped_count=result.skipped_products,
        **outcome,
    )
    _audit(session, product_import, created=len(good), skus=skus, skipped=result.skipped_products, **counts)
    log.info(
        "product import %s: %s rows read in %.1f s, checked in %.1f s, %s SKUs written in %.1f s",
        product_import.id, total_rows, read_seconds, validate_seconds, skus, time.perf_counter() - clock,
    )  # fmt: skip


def _audit(
    session: Session,
    product_import: ProductImport,
    *,
    created: int,
    skus: int,
    skipped: int,
    errors: int,
    rows: int,
) -> None:
    audit.record(
        session,
        "catalog.import",
        product_import,
        changes={
            "file": product_import.filename,
            "rows": rows,
            "products_created": created,
            "skus_created": skus,
            "products_skipped": skipped,
            "errors": errors,
            "good_rows_only": product_import.good_rows_only,
        },
    )


# --- reading imports back ---------------------------------------------------------------------


def get_import(session: Session, import_id: int) -> ProductImport:
    """An import of the active tenant; another shop's is a 404."""
    product_import = session.scalar(select(ProductImport).where(ProductImport.id == import_id))
    if product_import is None:
        raise NotFound()
    return product_import


def recent_imports(session: Session, limit: int = 10) -> list[ProductImport]:
    return list(session.scalars(select(ProductImport).order_by(ProductImport.id.desc()).limit(limit)))


def describe_error(error: dict[str, Any]) -> str:
    """One stored error as a sentence in the current language."""
    from flask_babel import gettext

    message, args = error["message"], error.get("args") or {}
    try:
        return gettext(message).format(**args)
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
        return message.format(**args)
