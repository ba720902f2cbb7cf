"""Category pages: every on-sale product of a category and its subcategories, with filters and sorting."""

from marketplace.catalog.queries import storefront_category
from marketplace.core.permissions import public
from marketplace.extensions import db
from marketplace.search.queries import LISTING_SORTS, listing
from storefront import bp
from storefront.views.listing import filters_arg, page_arg, render_listing, sort_arg, wants_count


@bp.get("/c/<int:category_id>")
@public
def category(category_id: int):
    place = storefront_category(db.session, category_id)
    filters = filters_arg()
    sort = sort_arg()
    found = listing(
        db.session,
        category_ids=place.subtree_ids,
        filters=filters,
        sort=sort,
        page=page_arg(),
        count=wants_count(),
        facets=wants_count(),
    )
    return render_listing(
        "storefront/catalog/category.html",
        place=place,
        listing=found,
        filters=filters,
        sort=sort,
        sorts=LISTING_SORTS,
        with_facets=True,
    )
