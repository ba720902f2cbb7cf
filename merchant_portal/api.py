"""The merchant REST API at /api/v1: authenticated by API key, always inside the key's shop."""

from __future__ import annotations

from flask import Flask, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from marketplace.core.api import problem_response
from marketplace.core.audit import Actor, set_actor
from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.core.tenancy import activate_tenant
from marketplace.extensions import api, csrf, db
from marketplace.merchants.queries import get_merchant
from marketplace.merchants.schemas import ShopSchema
from marketplace.merchants.services import authenticate_api_key
from marketplace.web.portal import client_ip
from merchant_portal.api_catalog import API_CATALOG_BLUEPRINTS
from merchant_portal.api_orders import API_ORDER_BLUEPRINTS
from merchant_portal.api_stock import API_STOCK_BLUEPRINTS
from merchant_portal.views.api_warehouse import API_WAREHOUSE_BLUEPRINTS

shop_blp = Blueprint(
    "api_shop", __name__, url_prefix="/api/v1/shop", description="The shop the API key belongs to"
)


def authenticate_request():
    """Every API call carries ``Authorization: Bearer <key>``; the key fixes the tenant for the request."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret:
        response = problem_response(
            401, "Send the API key as Authorization: Bearer <key>.", "unauthenticated"
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    try:
        key = authenticate_api_key(db.session, secret.strip())
    except DomainError as exc:
        db.session.rollback()
        response = problem_response(exc.status, exc.text, exc.code)
        response.headers["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
        return response
    g.api_key = key
    g.tenant_id = key.tenant_id
    activate_tenant(db.session, key.tenant_id)
    set_actor(
        Actor(
            user_id=None, kind="merchant", tenant_id=key.tenant_id, ip=client_ip(), label=f"api:{key.prefix}"
        )
    )
    db.session.commit()  # last_used_at
    return None


@shop_blp.route("")
class ShopResource(MethodView):
    @requires("shop.view")
    @shop_blp.response(200, ShopSchema)
    def get(self):
        """The shop this API key belongs to."""
        return get_merchant(db.session, g.tenant_id)


API_BLUEPRINTS = (
    shop_blp,
    *API_CATALOG_BLUEPRINTS,
    *API_STOCK_BLUEPRINTS,
    *API_ORDER_BLUEPRINTS,
    *API_WAREHOUSE_BLUEPRINTS,
)
for _blp in API_BLUEPRINTS:
    _blp.before_request(authenticate_request)


def register_api(app: Flask) -> None:
    for blp in API_BLUEPRINTS:
        csrf.exempt(blp)  # bearer-token requests carry no cookie, so CSRF does not apply
        api.register_blueprint(blp)
