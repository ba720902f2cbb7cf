"""Demo data: the accounts DESIGN.md promises, two shops, idempotent (run it as often as you like)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.identity.models import User, UserKind
from marketplace.identity.services import create_user, role_by_code, sync_default_roles
from marketplace.merchants.models import Merchant
from marketplace.merchants.services import create_merchant

# (portal, email, password, what) - printed by `flask seed-demo` and listed in the README.
DEMO_ACCOUNTS = [
    ("admin", "admin@demo.test", "admin-demo-pass", "platform super admin"),
    ("merchant", "merchant@demo.test", "merchant-demo-pass", "owner of 青山茶舍 Green Hill Tea"),
    ("merchant", "merchant2@demo.test", "merchant-demo-pass", "owner of 极客数码 Geek Digital"),
    ("wms", "picker@demo.test", "picker-demo-pass", "warehouse picker"),
    ("storefront", "shopper@demo.test", "shopper-demo-pass", "a member"),
]

DEMO_SHOPS = [
    ("merchant@demo.test", "青山茶舍 Green Hill Tea", "green-hill-tea", "王芳 Wang Fang"),
    ("merchant2@demo.test", "极客数码 Geek Digital", "geek-digital", "李雷 Li Lei"),
]


def _user(session: Session, kind: UserKind, email: str) -> User | None:
    return session.scalar(select(User).where(User.kind == kind, User.email == email))


def seed(session: Session) -> None:
    sync_default_roles(session)
    if _user(session, UserKind.STAFF, "admin@demo.test") is None:
        create_user(
            session,
            kind=UserKind.STAFF,
            email="admin@demo.test",
            password="admin-demo-pass",
            name="平台管理员 Admin",
            roles=[role_by_code(session, UserKind.STAFF, "super_admin")],
        )
    for email, shop_name, slug, contact in DEMO_SHOPS:
        merchant = session.scalar(select(Merchant).where(Merchant.slug == slug))
        if merchant is None:
            merchant = create_merchant(
                session, name=shop_name, slug=slug, contact_email=email, contact_name=contact
            )
        if _user(session, UserKind.MERCHANT, email) is None:
            create_user(
                session,
                kind=UserKind.MERCHANT,
                email=email,
                password="merchant-demo-pass",
                name=contact,
                tenant_id=merchant.id,
                is_owner=True,
                roles=[role_by_code(session, UserKind.MERCHANT, "owner")],
            )
    if _user(session, UserKind.WAREHOUSE, "picker@demo.test") is None:
        create_user(
            session,
            kind=UserKind.WAREHOUSE,
            email="picker@demo.test",
            password="picker-demo-pass",
            name="拣货员 Picker",
            roles=[role_by_code(session, UserKind.WAREHOUSE, "picker")],
        )
    if _user(session, UserKind.SHOPPER, "shopper@demo.test") is None:
        create_user(
            session,
            kind=UserKind.SHOPPER,
            email="shopper@demo.test",
            password="shopper-demo-pass",
            name="张伟 Zhang Wei",
            phone="13800138000",
        )
    session.flush()
