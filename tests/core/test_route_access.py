"""Deny by default: every route declares a permission or is explicitly public."""

from __future__ import annotations

from marketplace.core.permissions import declared_access

# Endpoints Flask and flask-smorest add themselves; each is public by nature and listed here on purpose.
FRAMEWORK_PUBLIC = {"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui"}


def test_every_route_declares_a_permission_or_is_public(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK_PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        if any(access is None for access in declared_access(view)):
            undeclared.append(f"{rule.rule} ({rule.endpoint})")
    assert undeclared == []


def test_the_walk_catches_an_undeclared_route(app):
    """The check above would fail on a route that forgets its declaration."""

    def naked_view():
        return "x"

    assert declared_access(naked_view) == [None]


def test_framework_public_endpoints_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= FRAMEWORK_PUBLIC
