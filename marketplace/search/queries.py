"""Finding products on the storefront: category and shop listings with filters and facets, the home page's
sections, search, type-ahead suggestions, "did you mean" and similar items.

Everything here reads ``listed_products``, the listing index of marketplace/search/models.py: exactly the
products shoppers may see (listed, approved, of an active shop), one row each. Search works on the tokens that
``catalog.services.reindex_product`` makes with ``catalog.tokens.document_tokens``; a query is cut by
``query_tokens`` the same way and every token of it must be present. PostgreSQL answers from GIN indexes (full
text over the stored tsvector, trigrams of the title); SQLite, the embedded default, with LIKE scans.
docs/search.md explains both.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import redis
from flask import current_app
from sqlalchemy import Text, and_, exists, func, literal, or_, select, text, true, type_coerce
from sqlalchemy.orm import Session, defer, selectinload

from marketplace.catalog.models import Brand, ProductImage
from marketplace.catalog.tokens import query_tokens
from marketplace.core.jobs import redis_connection
from marketplace.search.models import FACET_SEPARATOR, ListedProduct

log = logging.getLogger(__name__)

PAGE_SIZE = 24
MAX_PAGE = 20  # offset pagination, capped: the deepest page starts 456 rows in
COUNT_CAP = 1000  # a storefront count stops here ("1000+ products")
MAX_FACET_VALUES = 20  # options shown per filter
LISTING_SORTS = ("sales", "price_asc", "price_desc", "newest")
_ORDER = {
    "sales": (ListedProduct.sales_count.desc(), ListedProduct.id.desc()),
    "price_asc": (ListedProduct.min_price.asc(), ListedProduct.id.asc()),
    "price_desc": (ListedProduct.min_price.desc(), ListedProduct.id.desc()),
    "newest": (ListedProduct.listed_at.desc(), ListedProduct.id.desc()),
    "shop": (ListedProduct.shop_position.asc(), ListedProduct.id.desc()),  # the merchant's own order
}

MAX_QUERY_LENGTH = 200
SUGGESTION_LIMIT = 8
# "Did you mean": a title counts as close when a part of it is this similar to the query (pg_trgm's
# word_similarity, 0..1; pg_trgm's default of 0.6 misses "oolng" for "Oolong", 0.5).
WORD_SIMILARITY_THRESHOLD = 0.4
# A query word is replaced by a title word at least this similar to it (difflib ratio, 0..1).
CORRECTION_RATIO = 0.6

_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[0-9a-z]+(?:[.\-'][0-9a-z]+)*")


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _cards():
    """What a product card needs: the row and its cover image (one more query for the whole page)."""
    return (
        defer(ListedProduct.search_vector),
        defer(ListedProduct.facets),
        selectinload(ListedProduct.images.and_(ProductImage.position == 0)),
    )


# --- listings: category, shop, search results ------------------------------------------------------


@dataclass
class ListingFilters:
    """What a shopper narrowed a listing to. Prices are fen and apply to the lowest price (the cards' price)."""

    brand_ids: list[int] = field(default_factory=list)
    min_price: int | None = None
    max_price: int | None = None
    specs: dict[str, list[str]] = field(default_factory=dict)  # facet name → accepted values (any of them)

    @property
    def active(self) -> bool:
        return bool(self.brand_ids or self.specs or self.min_price is not None or self.max_price is not None)

    def clauses(self, session: Session, *, with_brands: bool = True) -> list:
        clauses = []
        if self.brand_ids and with_brands:
            clauses.append(ListedProduct.brand_id.in_(self.brand_ids))
        if self.min_price is not None:
            clauses.append(ListedProduct.min_price >= self.min_price)
        if self.max_price is not None:
            clauses.append(ListedProduct.min_price <= self.max_price)
        for name, values in self.specs.items():
            clauses.append(_has_any_facet(session, [f"{name}{FACET_SEPARATOR}{value}" for value in values]))
        return clauses


def _has_any_facet(session: Session, facets: list[str]):
    if _postgres(session):
        return ListedProduct.facets.overlap(facets)
    each = func.json_each(ListedProduct.facets).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value.in_(facets)))


@dataclass(frozen=True)
class BrandOption:
    id: int
    name: str
    name_en: str


@dataclass
class Listing:
    items: list[ListedProduct]
    page: int
    has_more: bool
    total: int | None = None  # None when not counted (a "load more" fragment)
    total_capped: bool = False
    brands: list[tuple[BrandOption, int]] = field(default_factory=list)  # options with their product counts
    facets: list[tuple[str, list[tuple[str, int]]]] = field(default_factory=list)


def listing(
    session: Session,
    *,
    category_ids: list[int] | None = None,
    shop_id: int | None = None,
    scope: list | tuple = (),
    filters: ListingFilters | None = None,
    sort: str = "sales",
    page: int = 1,
    count: bool = True,
    facets: bool = False,
) -> Listing:
    """One page of products on sale in some categories, in a shop, or within ``scope`` (a search's WHERE).

    Offset pagination capped at MAX_PAGE; the count is capped at COUNT_CAP. With ``facets``: the brands
    (counted without the brand filter, so that several can be ticked) and the spec and attribute values found
    in the current result, with their counts; these and the count are cached briefly (config STOREFRONT_CACHE_SECONDS).
    """
    filters = filters or ListingFilters()
    base = list(scope)
    if category_ids is not None:
        base.append(ListedProduct.category_id.in_(category_ids))
    if shop_id is not None:
        base.append(ListedProduct.shop_id == shop_id)
    where = [*base, *filters.clauses(session)]
    page = min(max(page, 1), MAX_PAGE)
    stmt = (
        select(ListedProduct)
        .where(*where)
        .order_by(*_ORDER.get(sort, _ORDER["sales"]))
        .options(*_cards())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    items = list(session.scalars(stmt))
    more = len(items) > PAGE_SIZE
    result = Listing(items[:PAGE_SIZE], page, more and page < MAX_PAGE)
    if facets:
        key = [category_ids, shop_id, filters.brand_ids, filters.min_price, filters.max_price, filters.specs]
        summary = _cached(None if scope else ["listing", *key], _summarise, session, where, base, filters)
        result.total, result.total_capped = summary["total"], summary["capped"]
        if page == 1 and not more:  # all of it is on this page: the exact count costs nothing
            result.total, result.total_capped = len(result.items), False
        result.brands = [(BrandOption(*brand), n) for *brand, n in summary["brands"]]
        result.facets = [(name, [tuple(value) for value in values]) for name, values in summary["facets"]]
    elif count:
        if page == 1 and not more:
            result.total = len(result.items)
        else:
            result.total, result.total_capped = _count(session, where)
    return result


def _count(session: Session, where: list) -> tuple[int, bool]:
    capped = select(ListedProduct.id).where(*where).limit(COUNT_CAP + 1).subquery()
    found = session.scalar(select(func.count()).select_from(capped)) or 0
    return min(found, COUNT_CAP), found > COUNT_CAP


def _cached(key: list | None, compute, *args):
    """``compute(*args)`` (JSON-able), through Redis for STOREFRONT_CACHE_SECONDS when there is a ``key``.

    The cache only saves work: when Redis fails, the value is computed and the page still answers.
    """
    seconds = current_app.config["STOREFRONT_CACHE_SECONDS"]
    if key is None or not seconds:
        return compute(*args)
    text_key = json.dumps(key, ensure_ascii=False, sort_keys=True, default=str)
    digest = hashlib.sha256(text_key.encode()).hexdigest()[:32]
    name = f"storefront:{key[0]}:{digest}"
    client = redis_connection()
    try:
        cached = client.get(name)
        if cached is not None:
            return json.loads(cached)
    except redis.RedisError as exc:
        log.warning("storefront cache unavailable: %s", exc)
        return compute(*args)
    value = compute(*args)
    try:
        client.set(name, json.dumps(value, ensure_ascii=False), ex=seconds)
    except redis.RedisError as exc:
        log.warning("storefront cache unavailable: %s", exc)
    return value


def _summarise(session: Session, where: list, base: list, filters: ListingFilters) -> dict:
    """The count, the brand options and the facet options of a listing, as JSON-able data (two queries).

    Brands are counted without the brand filter (so that several can be ticked); the listing's count is then
    the sum over the ticked brands, or over all of them, for free and exact.
    """
    by_brand = _brand_counts(session, [*base, *filters.clauses(session, with_brands=False)])
    if filters.brand_ids:
        total = sum(n for brand, n in by_brand if brand and brand[0] in filters.brand_ids)
    else:
        total = sum(n for _, n in by_brand)
    brands = sorted((brand, n) for brand, n in by_brand if brand)
    brands.sort(key=lambda item: (-item[1], item[0][1]))
    return {
        "total": min(total, COUNT_CAP),
        "capped": total > COUNT_CAP,
        "brands": [[*brand, n] for brand, n in brands[:MAX_FACET_VALUES]],
        "facets": _facet_options(session, where, filters),
    }


def _brand_counts(session: Session, where: list) -> list[tuple[tuple[int, str, str] | None, int]]:
    """(brand id, name, English name) or None for no brand, with the number of products, over ``where``."""
    counts = (
        select(ListedProduct.brand_id, func.count().label("n"))
        .where(*where)
        .group_by(ListedProduct.brand_id)
        .subquery()
    )
    stmt = (
        select(Brand.id, Brand.name, Brand.name_en, counts.c.n)
        .select_from(counts)
        .outerjoin(Brand, Brand.id == counts.c.brand_id)
    )
    return [
        ((bid, name, name_en) if bid is not None else None, n)
        for bid, name, name_en, n in session.execute(stmt)
    ]


def _facet_options(
    session: Session, where: list, filters: ListingFilters
) -> list[tuple[str, list[tuple[str, int]]]]:
    if _postgres(session):
        each = func.unnest(ListedProduct.facets).table_valued("value").render_derived()
    else:
        each = func.json_each(ListedProduct.facets).table_valued("value")
    products = func.count()
    stmt = (
        select(each.c.value, products)
        .select_from(ListedProduct)
        .join(each, true())
        .where(*where)
        .group_by(each.c.value)
        .order_by(each.c.value)
        .limit(1000)
    )
    grouped: dict[str, list[tuple[str, int]]] = {}
    for facet, n in session.execute(stmt):
        name, _, value = facet.partition(FACET_SEPARATOR)
        grouped.setdefault(name, []).append((value, n))
    for name, values in filters.specs.items():  # a ticked value stays on screen, so it can be unticked
        present = {value for value, _ in grouped.setdefault(name, [])}
        grouped[name].extend((value, 0) for value in values if value not in present)
    return [
        (name, sorted(values, key=lambda item: (-item[1], item[0]))[:MAX_FACET_VALUES])
        for name, values in sorted(grouped.items())
    ]


def featured(session: Session, *, sort: str, limit: int = 6) -> list[ListedProduct]:
    """Bestsellers (``sales``) or new arrivals (``newest``) for the home page."""
    stmt = select(ListedProduct).order_by(*_ORDER[sort]).options(*_cards()).limit(limit)
    return list(session.scalars(stmt))


# --- search ---------------------------------------------------------------------------------------


def normalise(query: str) -> str:
    return " ".join((query or "").split())[:MAX_QUERY_LENGTH]


def _lexeme(token: str) -> str:
    """A token as a quoted tsquery lexeme: quotes doubled, backslashes escaped; nothing in it is an operator."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def token_match(session: Session, tokens: list[str], *, every: bool = True):
    """A WHERE clause: the product has every token (``every``) or any of them."""
    if _postgres(session):
        query = (" & " if every else " | ").join(_lexeme(t) for t in tokens)
        return ListedProduct.search_vector.op("@@")(func.to_tsquery(text("'simple'::regconfig"), query))
    # On SQLite the column holds the space-separated tokens: ' ' || tokens || ' ' LIKE '% token %' finds whole
    # tokens only.
    padded = literal(" ") + type_coerce(ListedProduct.search_vector, Text()) + literal(" ")
    clauses = [padded.like(f"% {_like_escape(t)} %", escape="\\") for t in tokens]
    return and_(*clauses) if every else or_(*clauses)


def search_products(
    session: Session, query: str, *, sort: str = "sales", page: int = 1, count: bool = True
) -> tuple[list[str], Listing]:
    """The query's tokens and one page of the products on sale that have all of them."""
    tokens = query_tokens(normalise(query))
    if not tokens:
        return tokens, Listing(items=[], page=1, has_more=False, total=0)
    found = listing(session, scope=[token_match(session, tokens)], sort=sort, page=page, count=count)
    return tokens, found


def similar_items(session: Session, tokens: list[str], *, limit: int = 6) -> list[ListedProduct]:
    """For a search that found nothing: products that have any of its tokens, else the bestsellers."""
    if tokens:
        found = listing(session, scope=[token_match(session, tokens, every=False)], count=False)
        if found.items:
            return found.items[:limit]
    return featured(session, sort="sales", limit=limit)


def suggestions(session: Session, query: str, *, limit: int = SUGGESTION_LIMIT) -> list[tuple[int, str]]:
    """Type-ahead: (id, title) of products on sale whose title contains the text, bestsellers first.

    On PostgreSQL, titles that are merely close (a typo) fill the list up from the trigram index.
    """
    query = normalise(query).lower()
    if len(query) < 2 and not _is_cjk(query):  # one Latin letter matches half the catalogue
        return []
    title = func.lower(ListedProduct.title)  # ix_listed_products_title_trgm
    stmt = (
        select(ListedProduct.id, ListedProduct.title)
        .where(title.like(f"%{_like_escape(query)}%", escape="\\"))
        .order_by(ListedProduct.sales_count.desc(), ListedProduct.id.desc())
        .limit(limit)
    )
    found = [(pid, name) for pid, name in session.execute(stmt)]
    if len(found) < limit and len(query) >= 3 and _postgres(session):
        seen = tuple(pid for pid, _ in found)
        found += _close_titles(session, query, limit=limit - len(found), exclude=seen)
    return found


def _close_titles(
    session: Session, query: str, *, limit: int, exclude: tuple[int, ...] = ()
) -> list[tuple[int, str]]:
    """PostgreSQL: titles with a part similar to the query (pg_trgm ``<%``, served by the trigram index)."""
    session.execute(
        text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
        {"t": str(WORD_SIMILARITY_THRESHOLD)},
    )
    title = func.lower(ListedProduct.title)
    stmt = (
        select(ListedProduct.id, ListedProduct.title)
        .where(literal(query).op("<%")(title))
        .order_by(func.word_similarity(literal(query), title).desc(), ListedProduct.sales_count.desc())
        .limit(limit)
    )
    if exclude:
        stmt = stmt.where(ListedProduct.id.not_in(exclude))
    return [(pid, name) for pid, name in session.execute(stmt)]


def did_you_mean(session: Session, query: str) -> str | None:
    """A corrected query for a search that found nothing: its words swapped for close words of a real title.

    Candidate titles first come cheaply from the titles with a word that starts like a query word (a typo
    rarely hits the first letters); then, on PostgreSQL, from the trigram index (``<%``). Offered only when
    the corrected query finds something.
    """
    query = normalise(query).lower()
    words = _WORD.findall(query)
    if not words:
        return None
    for titles in _candidate_titles(session, query, words):
        for correction in _corrections(words, titles):
            match = token_match(session, query_tokens(correction))
            if session.scalar(select(ListedProduct.id).where(match).limit(1)) is not None:
                return correction
    return None


def _candidate_titles(session: Session, query: str, words: list[str]):
    starts = [word[:2] if _is_cjk(word) else word[:3] for word in words]
    if _postgres(session):
        prefixes = " | ".join(f"{_lexeme(start)}:*" for start in starts)
        match = ListedProduct.search_vector.op("@@")(func.to_tsquery(text("'simple'::regconfig"), prefixes))
    else:
        likes = [
            func.lower(ListedProduct.title).like(f"%{_like_escape(start)}%", escape="\\") for start in starts
        ]
        match = or_(*likes)
    stmt = select(ListedProduct.title).where(match).order_by(ListedProduct.sales_count.desc()).limit(50)
    yield list(session.scalars(stmt))
    if _postgres(session):
        yield [name for _, name in _close_titles(session, query, limit=5)]


def _corrections(words: list[str], titles: list[str]) -> list[str]:
    """For each title, best first: the query with each word replaced by the title's closest word."""
    ranked = []
    for title in titles:
        title_words = _WORD.findall(title.lower())
        fixed = [_closest(word, title_words) for word in words]
        if fixed != words:
            score = sum(SequenceMatcher(None, w, f).ratio() for w, f in zip(words, fixed, strict=True))
            ranked.append((score, " ".join(fixed)))
    ranked.sort(key=lambda item: -item[0])
    return list(dict.fromkeys(correction for _, correction in ranked))


def _is_cjk(word: str) -> bool:
    return bool(word) and ("\u3400" <= word[0] <= "\u9fff" or "\uf900" <= word[0] <= "\ufaff")


def _closest(word: str, title_words: list[str]) -> str:
    if any(word in candidate for candidate in title_words):
        return word
    options: list[str] = []
    for candidate in title_words:
        if _is_cjk(candidate) != _is_cjk(word):
            continue
        if _is_cjk(word):  # CJK has no spaces: compare with the title's runs of the same length
            size = len(word)
            options += [candidate[i : i + size] for i in range(max(1, len(candidate) - size + 1))]
        else:
            options.append(candidate)
    if not options:
        return word
    best = max(options, key=lambda option: SequenceMatcher(None, word, option).ratio())
    return best if SequenceMatcher(None, word, best).ratio() >= CORRECTION_RATIO else word
