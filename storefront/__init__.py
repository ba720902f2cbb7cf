"""The storefront: shoppers (guests and members) at /."""

from flask_babel import lazy_gettext as _l

from marketplace.identity.models import UserKind
from marketplace.web.auth import register_auth_routes
from marketplace.web.portal import Portal, make_portal

PORTAL = Portal(
    name="storefront", kind=UserKind.SHOPPER, title=_l("Marketplace"), home_endpoint="storefront.home"
)
bp = make_portal(PORTAL, __name__, "")
register_auth_routes(bp, PORTAL)

from storefront.views import (  # noqa: E402,F401
    addresses,
    apply,
    cart,
    catalog,
    checkout,
    home,
    media,
    members,
    orders,
    product,
    reviews,
    search,
    shop,
    wallet,
)
