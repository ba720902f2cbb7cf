"""Read-side helpers for user and role lists."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.identity.models import AdminIpRule, Role, User, UserKind


def list_users(
    session: Session,
    *,
    kind: UserKind,
    tenant_id: int | None = None,
    search: str = "",
    before: int | None = None,
) -> Page[User]:
    stmt = select(User).where(User.kind == kind)
    if tenant_id is not None:
        stmt = stmt.where(User.tenant_id == tenant_id)
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(or_(User.email.like(like), User.name.like(like), User.phone.like(like)))
    return keyset_page(session, stmt, User.id, before)


def get_user(
    session: Session, user_id: int, *, kind: UserKind | None = None, tenant_id: int | None = None
) -> User:
    """A user (of ``kind``, of the shop ``tenant_id``); anything else is a 404, never a hint."""
    user = session.get(User, user_id)
    if user is None or (kind is not None and user.kind is not kind):
        raise NotFound()
    if tenant_id is not None and user.tenant_id != tenant_id:
        raise NotFound()
    return user


def roles_for(session: Session, kind: UserKind) -> list[Role]:
    return list(
        session.scalars(select(Role).where(Role.kind == kind).order_by(Role.is_system.desc(), Role.id))
    )


def get_role(session: Session, role_id: int, *, kind: UserKind | None = None) -> Role:
    role = session.get(Role, role_id)
    if role is None or (kind is not None and role.kind is not kind):
        raise NotFound()
    return role


def roles_by_ids(session: Session, kind: UserKind, ids: list[int]) -> list[Role]:
    if not ids:
        return []
    return list(session.scalars(select(Role).where(Role.kind == kind, Role.id.in_(ids)).order_by(Role.id)))


def ip_rules(session: Session) -> list[AdminIpRule]:
    return list(session.scalars(select(AdminIpRule).order_by(AdminIpRule.id)))
