"""The product page: gallery, price, spec choice with stock, description, attributes, reviews placeholder."""

from urllib.parse import urlencode

from flask import make_response, render_template, request, url_for

from marketplace.catalog import queries
from marketplace.core.permissions import public
from marketplace.extensions import db, htmx
from storefront import bp


@bp.get("/p/<int:product_id>")
@public
def product(product_id: int):
    """``?颜色=红&尺码=M`` is the shopper's spec choice; htmx asks for the buy box alone when it changes."""
    page = queries.storefront_product(db.session, product_id, request.args)

    def choice_url(selection: dict[str, str]) -> str:
        base = url_for("storefront.product", product_id=product_id)
        return f"{base}?{urlencode(selection)}" if selection else base

    template = "storefront/product/product.html"
    if htmx and htmx.target == "buy-box" and not htmx.history_restore_request:
        template = "storefront/product/_buy_box.html"
    response = make_response(render_template(template, page=page, choice_url=choice_url))
    response.vary.add("HX-Request")
    return response
