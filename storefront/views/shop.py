"""A shop's page: its on-sale products in the merchant's own order."""

from marketplace.catalog.queries import storefront_shop
from marketplace.core.permissions import public
from marketplace.extensions import db
from marketplace.search.queries import LISTING_SORTS, listing
from storefront import bp
from storefront.views.listing import page_arg, render_listing, sort_arg, wants_count

SHOP_SORTS = ("shop", *LISTING_SORTS)


@bp.get("/shop/<slug>")
@public
def shop(slug: str):
    merchant = storefront_shop(db.session, slug)
    sort = sort_arg(default="shop", extra=("shop",))
    found = listing(
        db.session,
        shop_id=merchant.id,
        sort=sort,
        page=page_arg(),
        count=wants_count(),
    )
    return render_listing(
        "storefront/shop/shop.html", merchant=merchant, listing=found, sort=sort, sorts=SHOP_SORTS
    )
