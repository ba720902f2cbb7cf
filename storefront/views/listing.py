"""What the listing pages (category, shop, search) share: reading sort, page and filters from the query
string, writing them back into links, and answering htmx with the part of the page it asked for."""

from __future__ import annotations

from decimal import InvalidOperation
from urllib.parse import urlencode

from flask import make_response, render_template, request

from marketplace.core.db import Money
from marketplace.extensions import htmx
from marketplace.search.queries import LISTING_SORTS, ListingFilters

FACET_ARG = "f."  # ?f.颜色=红&f.颜色=蓝: one argument per spec or attribute name, any of its values
MAX_ID = 2**63 - 1  # BIGINT: a bigger number in a URL is no id at all
MAX_PRICE = 10**13  # fen (100 billion yuan): a bigger bound is no bound


def page_arg() -> int:
    value = request.args.get("page", "")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def sort_arg(default: str = "sales", extra: tuple[str, ...] = ()) -> str:
    value = request.args.get("sort", "")
    return value if value in LISTING_SORTS or value in extra else default


def _price_arg(name: str) -> int | None:
    """A price typed in yuan ("12.5") as fen; anything else (empty, negative, not a number) is no filter."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        amount = Money.parse(text).amount
    except (InvalidOperation, ValueError, OverflowError):  # not a number, sub-fen, NaN, Infinity
        return None
    return amount if 0 <= amount <= MAX_PRICE else None


def filters_arg() -> ListingFilters:
    brands = [int(v) for v in request.args.getlist("brand") if v.isdigit() and int(v) <= MAX_ID]
    specs: dict[str, list[str]] = {}
    for key in request.args:
        name = key[len(FACET_ARG) :].strip()
        if key.startswith(FACET_ARG) and name:
            values = [v for v in dict.fromkeys(request.args.getlist(key)) if v]
            if values:
                specs[name] = values[:20]
    low, high = _price_arg("min_price"), _price_arg("max_price")
    if low is not None and high is not None and low > high:
        low, high = high, low
    return ListingFilters(
        brand_ids=list(dict.fromkeys(brands))[:20], min_price=low, max_price=high, specs=specs
    )


def listing_url(**changes: str | int | None) -> str:
    """The current URL with some arguments replaced (None drops one); repeated arguments are kept."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in changes and v != ""]
    args += [(k, str(v)) for k, v in changes.items() if v is not None]
    return request.path + (f"?{urlencode(args)}" if args else "")


def render_listing(template: str, **context):
    """The whole page; for htmx, only the listing (a filter or the sort changed) or the next cards (load more).

    A history restore (back button after the cache expired) gets the whole page.
    """
    if htmx and not htmx.history_restore_request and htmx.target == "more":
        template = "storefront/listing/_cards.html"
    elif htmx and not htmx.history_restore_request and htmx.target == "listing":
        template = "storefront/listing/_listing.html"
    response = make_response(render_template(template, listing_url=listing_url, **context))
    response.vary.add("HX-Request")
    return response


def wants_count() -> bool:
    """A "load more" fragment shows no count, so it does not pay for one."""
    return not (htmx and htmx.target == "more" and not htmx.history_restore_request)
