"""A product's published reviews as an htmx fragment; the product page loads it with ``hx-get``."""

from __future__ import annotations

from flask import render_template, request

from marketplace.catalog.queries import on_sale_product
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import public
from marketplace.extensions import db
from marketplace.reviews.queries import product_reviews
from storefront import bp


@bp.get("/p/<int:product_id>/reviews")
@public
def product_reviews_fragment(product_id: int):
    """Approved reviews only, newest first; ``?before=<id>`` loads the next ones ("more" button)."""
    product = on_sale_product(db.session, product_id)  # 404 unless shoppers may see the product
    before = parse_cursor(request.args.get("before"))
    page = product_reviews(db.session, product.id, before=before)
    return render_template(
        "storefront/reviews/_list.html", product=product, page=page, first_page=before is None
    )
