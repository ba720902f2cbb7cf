"""Test data builders: ``make_*`` create committed rows through the real services."""

from __future__ import annotations

import itertools

from flask import Flask
from flask.testing import FlaskClient

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.identity.services import create_user, role_by_code, sync_default_roles
from marketplace.merchants.models import Merchant
from marketplace.merchants.services import create_merchant

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)

DEFAULT_ROLE = {
    UserKind.STAFF: "super_admin",
    UserKind.MERCHANT: "owner",
    UserKind.WAREHOUSE: "picker",
    UserKind.SHOPPER: None,
}


def make_merchant(app: Flask, name: str | None = None) -> Merchant:
    n = next(_seq)
    with app.app_context(), acting_as(SYSTEM):
        merchant = create_merchant(db.session, name=name or f"Shop {n}", slug=f"shop-{n}")
        db.session.commit()
        return merchant


def make_user(
    app: Flask,
    kind: UserKind,
    *,
    email: str | None = None,
    role: str | None = "default",
    tenant: Merchant | None = None,
    is_owner: bool = False,
    password: str = PASSWORD,
) -> User:
    with app.app_context(), acting_as(SYSTEM):
        sync_default_roles(db.session)
        role_code = DEFAULT_ROLE[kind] if role == "default" else role
        roles = [role_by_code(db.session, kind, role_code)] if role_code else []
        user = create_user(
            db.session,
            kind=kind,
            email=email or f"{kind.value}{next(_seq)}@example.test",
            password=password,
            name=f"{kind.value} user",
            tenant_id=tenant.id if tenant else None,
            is_owner=is_owner,
            roles=roles,
        )
        db.session.commit()
        return user


LOGIN_PATHS = {
    UserKind.STAFF: "/admin/login",
    UserKind.MERCHANT: "/merchant/login",
    UserKind.WAREHOUSE: "/wms/login",
    UserKind.SHOPPER: "/login",
}


def login(client: FlaskClient, user: User, password: str = PASSWORD, **environ):
    return client.post(
        LOGIN_PATHS[user.kind], data={"email": user.email, "password": password}, environ_base=environ or {}
    )
