"""The storefront home page."""

from flask import render_template

from marketplace.core.permissions import public
from marketplace.extensions import db
from marketplace.merchants.queries import open_shops
from storefront import bp


@bp.get("/")
@public
def home():
    return render_template("storefront/home.html", shops=open_shops(db.session))
