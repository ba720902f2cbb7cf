"""Search (``GET /search?q=…``, a fixed interface) and the header's type-ahead suggestions."""

from flask import render_template, request
from flask_login import current_user

from marketplace.core.permissions import public
from marketplace.extensions import db, htmx
from marketplace.identity.models import UserKind
from marketplace.search import queries, services
from storefront import bp
from storefront.views.listing import page_arg, render_listing, sort_arg, wants_count


def _shopper_id() -> int | None:
    signed_in = current_user.is_authenticated and current_user.kind is UserKind.SHOPPER
    return current_user.id if signed_in else None


@bp.get("/search")
@public
def search():
    """Every search asked for is logged: a page load of the first page. Re-sorting and "load more" (htmx) and
    the type-ahead are not new searches."""
    q = queries.normalise(request.args.get("q", ""))
    sort = sort_arg()
    page = page_arg()
    tokens, listing = queries.search_products(db.session, q, sort=sort, page=page, count=wants_count())
    suggestion, similar = None, []
    if q and listing.total == 0:
        suggestion = queries.did_you_mean(db.session, q)
        similar = queries.similar_items(db.session, tokens)
    if q and page == 1 and (not htmx or htmx.history_restore_request):
        services.log_search(
            db.session, query=q, tokens=tokens, result_count=listing.total or 0, user_id=_shopper_id()
        )
        db.session.commit()
    return render_listing(
        "storefront/search/results.html",
        q=q,
        listing=listing,
        sort=sort,
        sorts=queries.LISTING_SORTS,
        suggestion=suggestion,
        similar=similar,
    )


@bp.get("/search/suggest")
@public
def suggest():
    """The list under the header's search box (htmx); without htmx, the same list as a page."""
    q = queries.normalise(request.args.get("q", ""))
    items = queries.suggestions(db.session, q) if q else []
    template = "storefront/search/_suggestions.html" if htmx else "storefront/search/suggestions.html"
    return render_template(template, q=q, items=items)
