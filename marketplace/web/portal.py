"""The portal guard: each portal admits only its own kind of user, sets the tenant and the audit actor.

Every portal blueprint is made with :func:`make_portal`, so the rules live in one place:
anonymous visitors and users of another kind are sent to the portal's login (an htmx request gets an
``HX-Redirect``), the admin portal also checks the IP allowlist, and the merchant portal activates the
user's shop as the tenant for the whole request.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, request, url_for
from flask_login import current_user, logout_user

from marketplace.core.audit import Actor, set_actor
from marketplace.core.permissions import is_public
from marketplace.core.tenancy import activate_tenant
from marketplace.extensions import db, htmx
from marketplace.identity.errors import AddressNotAllowed
from marketplace.identity.models import UserKind


@dataclass(frozen=True)
class Portal:
    name: str  # blueprint name, also the template folder (admin/, merchant/, wms/, storefront/)
    kind: UserKind
    title: str
    home_endpoint: str
    check_ip_allowlist: bool = False
    is_tenant: bool = False

    @property
    def layout(self) -> str:
        return f"{self.name}/layout.html"

    @property
    def login_endpoint(self) -> str:
        return f"{self.name}.login"


def client_ip() -> str | None:
    """The caller's address (behind a proxy, ProxyFix with TRUSTED_PROXIES makes this the real one)."""
    return request.remote_addr


def public_url(endpoint: str, **values) -> str:
    """An absolute link for a mail or message, on the configured ``PUBLIC_BASE_URL``.

    Not built from the request's Host header when a public address is configured: a forged Host would
    otherwise put the sender's domain into a password-reset link and hand them the token (reset
    poisoning). Without ``PUBLIC_BASE_URL`` Flask's ``SERVER_NAME`` is used, else the request's host.
    """
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return url_for(endpoint, _external=True, **values)
    return base.rstrip("/") + url_for(endpoint, **values)


def safe_next_url(target: str | None, fallback: str) -> str:
    """Only same-site paths are followed after login or a switch; anything else goes to ``fallback``."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.netloc != request.host:
            return fallback
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def _deny_to_login(portal: Portal):
    login_url = url_for(portal.login_endpoint, next=request.full_path if request.method == "GET" else None)
    if htmx:
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def make_portal(portal: Portal, import_name: str, url_prefix: str) -> Blueprint:
    bp = Blueprint(portal.name, import_name, url_prefix=url_prefix, template_folder="templates")

    @bp.before_request
    def guard():
        g.portal = portal
        ip = client_ip()
        if portal.check_ip_allowlist:
            from marketplace.identity.services import ip_allowed

            if not ip_allowed(db.session, ip):
                raise AddressNotAllowed(ip=ip or "unknown")
        view = current_app.view_functions.get(request.endpoint or "")
        signed_in = current_user.is_authenticated and current_user.kind is portal.kind
        if signed_in:
            tenant_id = current_user.tenant_id if portal.is_tenant else None
            if portal.is_tenant:
                if tenant_id is None:
                    logout_user()
                    return _deny_to_login(portal)
                activate_tenant(db.session, tenant_id)
            set_actor(
                Actor(
                    user_id=current_user.id,
                    kind=portal.kind.value,
                    tenant_id=tenant_id,
                    ip=ip,
                    label=current_user.email,
                )
            )
            g.tenant_id = tenant_id
            return None
        set_actor(Actor(user_id=None, kind="anonymous", ip=ip))
        if view is not None and is_public(view):
            return None
        return _deny_to_login(portal)

    @bp.context_processor
    def portal_context():
        return {"portal": portal, "layout": portal.layout}

    return bp
