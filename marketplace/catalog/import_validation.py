"""Checking an import file: the field rules and the one validation pass that names every bad row."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.import_format import (
    COLUMN_INDEX,
    COLUMNS,
    MAX_SPECS,
    PRODUCT_COLUMNS,
    Table,
)
from marketplace.catalog.models import Brand, Category, Sku
from marketplace.catalog.specs import MAX_SKUS_PER_PRODUCT, spec_key
from marketplace.catalog.tokens import document_tokens
from marketplace.core.db import Money
from marketplace.core.errors import N_

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
