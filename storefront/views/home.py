"""The storefront home page: a hero, the category navigation, bestsellers and new arrivals."""

from flask import render_template

from marketplace.catalog.queries import category_nav
from marketplace.core.permissions import public
from marketplace.extensions import db
from marketplace.search.queries import featured
from storefront import bp

HOME_PRODUCTS = 6  # one row of cards on a desktop, three on a phone


@bp.get("/")
@public
def home():
    return render_template(
        "storefront/home.html",
        nav=category_nav(db.session),
        bestsellers=featured(db.session, sort="sales", limit=HOME_PRODUCTS),
        arrivals=featured(db.session, sort="newest", limit=HOME_PRODUCTS),
    )
