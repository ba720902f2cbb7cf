"""Deny-by-default access control: every route declares a permission or says it is public.

Permission names live as data in each domain's ``permissions.py``; roles (identity domain) are sets
of those names. The decorators only tag the view function and check the current user, so a test can
walk ``app.url_map`` and find any route that declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])

PERMISSION_ATTR = "required_permission"
PUBLIC_ATTR = "is_public"
LOGIN_ONLY = "login"  # any signed-in user of the portal's kind, no further permission


def requires(permission: str) -> Callable[[F], F]:
    """Refuse the view unless the signed-in user's roles grant ``permission`` (403 otherwise).

    The portal's login guard runs first and sends anonymous users to the login page.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # An API request is authorised by its key, a page by the signed-in user.
            principal = g.get("api_key") or current_user
            if not principal.is_authenticated:
                abort(401)
            if permission != LOGIN_ONLY and not principal.can(permission):
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, PERMISSION_ATTR, permission)
        return wrapper  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as open to anonymous visitors (login page, storefront browsing, health check)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def is_public(view: Callable[..., Any]) -> bool:
    return bool(getattr(view, PUBLIC_ATTR, False))


def declared_access(view: Callable[..., Any]) -> list[str | bool | None]:
    """What each handler of a view declares: a permission name, True for public, None for nothing.

    Method-based views (flask-smorest resources) are checked per HTTP method.
    """
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return [getattr(view, PERMISSION_ATTR, None) or (True if is_public(view) else None)]
    handlers = [getattr(view_class, m.lower()) for m in sorted(view_class.methods or [])]
    return [getattr(h, PERMISSION_ATTR, None) or (True if is_public(h) else None) for h in handlers]
