"""Read-side helpers for merchants, API keys, onboarding applications and shipping templates."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.merchants.models import (
    OPEN_STATUSES,
    ApiKey,
    ApplicationStatus,
    Merchant,
    MerchantApplication,
    ShippingRule,
    ShippingTemplate,
)


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


# --- onboarding -------------------------------------------------------------------------------


def shop_name_taken(
    session: Session,
    name: str,
    *,
    except_application_id: int | None = None,
    except_merchant_id: int | None = None,
) -> bool:
    """Is ``name`` used by a shop or by an application still under review (case and spaces ignored)?"""
    key = name.strip().lower()
    shops = select(Merchant.id).where(func.lower(Merchant.name) == key)
    if except_merchant_id is not None:
        shops = shops.where(Merchant.id != except_merchant_id)
    if session.scalar(shops.limit(1)) is not None:
        return True
    applications = select(MerchantApplication.id).where(
        func.lower(MerchantApplication.shop_name) == key, MerchantApplication.status.in_(OPEN_STATUSES)
    )
    if except_application_id is not None:
        applications = applications.where(MerchantApplication.id != except_application_id)
    return session.scalar(applications.limit(1)) is not None


def list_applications(session: Session, *, status: str = "", before: int | None = None) -> Page:
    """The review queue, newest first; ``status`` is one of :class:`ApplicationStatus` or empty for all."""
    stmt = select(MerchantApplication)
    if status in {s.value for s in ApplicationStatus}:
        stmt = stmt.where(MerchantApplication.status == ApplicationStatus(status))
    return keyset_page(session, stmt, MerchantApplication.id, before)


def get_application(session: Session, application_id: int) -> MerchantApplication:
    application = session.get(MerchantApplication, application_id)
    if application is None:
        raise NotFound()
    return application


def application_by_reference(session: Session, reference: str) -> MerchantApplication:
    """The applicant's own application, found by the token of its status page; anything else is a 404."""
    if not reference or len(reference) > 64:
        raise NotFound()
    application = session.scalar(
        select(MerchantApplication).where(MerchantApplication.reference == reference)
    )
    if application is None:
        raise NotFound()
    return application


# --- shipping templates -----------------------------------------------------------------------


def shipping_templates(session: Session) -> list[ShippingTemplate]:
    """The active tenant's templates, default first (the tenant filter scopes the query)."""
    stmt = select(ShippingTemplate).order_by(ShippingTemplate.is_default.desc(), ShippingTemplate.id)
    return list(session.scalars(stmt))


def get_shipping_template(
    session: Session, template_id: int, *, tenant_id: int | None = None
) -> ShippingTemplate:
    """A template of the active tenant (and of ``tenant_id`` when given); another shop's id is a 404."""
    template = session.scalar(select(ShippingTemplate).where(ShippingTemplate.id == template_id))
    if template is None or (tenant_id is not None and template.tenant_id != tenant_id):
        raise NotFound()
    return template


def get_shipping_rule(session: Session, template: ShippingTemplate, rule_id: int) -> ShippingRule:
    rule = session.scalar(
        select(ShippingRule).where(ShippingRule.id == rule_id, ShippingRule.template_id == template.id)
    )
    if rule is None:
        raise NotFound()
    return rule


def default_shipping_template(session: Session, tenant_id: int) -> ShippingTemplate | None:
    """The template checkout uses for a shop's products that name none."""
    return session.scalar(
        select(ShippingTemplate).where(
            ShippingTemplate.tenant_id == tenant_id, ShippingTemplate.is_default.is_(True)
        )
    )


def merchant_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Shop names by id, for lists that show rows of many shops."""
    if not ids:
        return {}
    return dict(session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(ids))).all())
