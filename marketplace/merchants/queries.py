"""Read-side helpers for merchants and API keys."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.merchants.models import ApiKey, Merchant


def list_merchants(
    session: Session, *, status: str = "", search: str = "", before: int | None = None
) -> Page:
    stmt = select(Merchant)
    if status:
        stmt = stmt.where(Merchant.status == status)
    if search:
        like = f"%{search.strip()}%"
        stmt = stmt.where(
            or_(Merchant.name.like(like), Merchant.slug.like(like), Merchant.contact_email.like(like))
        )
    return keyset_page(session, stmt, Merchant.id, before)


def get_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound()
    return merchant


def api_keys(session: Session) -> list[ApiKey]:
    """The active tenant's keys (the tenant filter scopes the query)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def get_api_key(session: Session, key_id: int) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if key is None:
        raise NotFound()
    return key


def open_shops(session: Session, limit: int = 24) -> list[Merchant]:
    """Shops shown to shoppers: active ones only (a suspended shop disappears from the storefront)."""
    from marketplace.merchants.models import MerchantStatus

    stmt = select(Merchant).where(Merchant.status == MerchantStatus.ACTIVE).order_by(Merchant.id).limit(limit)
    return list(session.scalars(stmt))
