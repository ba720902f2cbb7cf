"""State changes of merchants: shops, API keys, onboarding applications, shop settings, shipping templates."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.errors import NotFound
from marketplace.core.jobs import enqueue
from marketplace.merchants import errors
from marketplace.merchants.errors import ApiKeyInvalid, MerchantNotActive, ScopeNotGrantable
from marketplace.merchants.models import (
    ApiKey,
    ApplicationStatus,
    Merchant,
    MerchantApplication,
    MerchantStatus,
    ShippingRule,
    ShippingTemplate,
)
from marketplace.merchants.permissions import API_SCOPES
from marketplace.merchants.queries import shop_name_taken
from marketplace.merchants.regions import PROVINCE_CODES, province_code, province_label
from marketplace.notifications.tasks import send_email

KEY_PREFIX = "mk_"


def create_merchant(
    session: Session,
    *,
    name: str,
    slug: str,
    contact_email: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Merchant:
    merchant = Merchant(
        name=name,
        slug=slug,
        contact_email=contact_email,
        contact_name=contact_name,
        contact_phone=contact_phone,
        status=MerchantStatus.ACTIVE,
    )
    session.add(merchant)
    session.flush()
    return merchant


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session, *, tenant_id: int, name: str, scopes: list[str], created_by_id: int | None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its full secret, which is never stored and cannot be shown again."""
    for scope in scopes:
        if scope not in API_SCOPES:
            raise ScopeNotGrantable(scope=scope)
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        tenant_id=tenant_id,
        name=name.strip() or "API key",
        prefix=prefix,
        key_hash=_hash_secret(secret),
        permissions=sorted(set(scopes)),
        created_by_id=created_by_id,
    )
    session.add(key)
    session.flush()
    return key, secret


def revoke_api_key(session: Session, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()


def authenticate_api_key(session: Session, secret: str) -> ApiKey:
    """Find the active key for a bearer secret; unknown, malformed and revoked keys all fail alike."""
    if not secret.startswith(KEY_PREFIX) or secret.count("_") < 2:
        raise ApiKeyInvalid()
    prefix = secret[len(KEY_PREFIX) :].split("_", 1)[0]
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.key_hash, _hash_secret(secret)) or not key.is_active:
        raise ApiKeyInvalid()
    merchant = session.get(Merchant, key.tenant_id)
    if merchant is None or not merchant.is_active:
        raise MerchantNotActive(status=merchant.status.value if merchant else "missing")
    key.last_used_at = utcnow()
    return key


def suspend_merchant(session: Session, merchant: Merchant, *, reason: str) -> None:
    """Close a shop: its products leave the storefront, its staff can still sign in and read orders."""
    if merchant.status is not MerchantStatus.ACTIVE:
        raise MerchantNotActive(status=merchant.status.value)
    merchant.status = MerchantStatus.SUSPENDED
    audit.record(session, "merchant.suspend", merchant, reason=reason)
    session.flush()


def reopen_merchant(session: Session, merchant: Merchant) -> None:
    if merchant.status is not MerchantStatus.SUSPENDED:
        raise MerchantNotActive(status=merchant.status.value)
    merchant.status = MerchantStatus.ACTIVE
    audit.record(session, "merchant.reopen", merchant)
    session.flush()


# --- onboarding -------------------------------------------------------------------------------


@dataclass
class ApplicationInput:
    """What an applicant fills in (the licence document is stored first and passed as its key)."""

    company_name: str
    licence_number: str
    contact_name: str
    contact_phone: str
    email: str
    shop_name: str
    category_ids: list[int] = field(default_factory=list)
    category_note: str = ""


def _apply_input(application: MerchantApplication, data: ApplicationInput) -> None:
    application.company_name = data.company_name.strip()
    application.licence_number = data.licence_number.strip().upper()
    application.contact_name = data.contact_name.strip()
    application.contact_phone = data.contact_phone.strip()
    application.email = data.email.strip().lower()
    application.shop_name = data.shop_name.strip()
    application.category_ids = sorted(set(data.category_ids))
    application.category_note = data.category_note.strip()


def submit_application(
    session: Session, *, data: ApplicationInput, licence_document_key: str, status_url_prefix: str
) -> MerchantApplication:
    """Record a new application and mail the applicant the link to its status page.

    ``status_url_prefix`` is the storefront's status page without the reference, which is appended.
    """
    if shop_name_taken(session, data.shop_name):
        raise errors.ShopNameTaken()
    application = MerchantApplication(
        reference=secrets.token_urlsafe(24),
        status=ApplicationStatus.SUBMITTED,
        licence_document_key=licence_document_key,
        submitted_at=utcnow(),
    )
    _apply_input(application, data)
    session.add(application)
    session.flush()
    enqueue(
        send_email,
        to=application.email,
        subject="We received your shop application / 我们已收到您的入驻申请",
        body=(
            f"Thank you for applying to open {application.shop_name} on the marketplace.\n"
            f"Follow your application here (keep this link private):\n"
            f"{status_url_prefix}{application.reference}\n\n"
            f"感谢您申请入驻。您可以通过以下链接查看申请进度（请勿转发）：\n"
            f"{status_url_prefix}{application.reference}\n"
        ),
    )
    return application


def resubmit_application(
    session: Session,
    application: MerchantApplication,
    *,
    data: ApplicationInput,
    licence_document_key: str | None = None,
) -> MerchantApplication:
    """The applicant answers a request for more information: the changed application goes back in the queue."""
    if application.status is not ApplicationStatus.NEEDS_INFO:
        raise errors.ApplicationNotEditable()
    if shop_name_taken(session, data.shop_name, except_application_id=application.id):
        raise errors.ShopNameTaken()
    _apply_input(application, data)
    if licence_document_key:
        application.licence_document_key = licence_document_key
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = utcnow()
    session.flush()
    return application


def _require_open(application: MerchantApplication) -> None:
    if not application.status.is_open:
        raise errors.ApplicationDecided()


def _decide(
    application: MerchantApplication,
    status: ApplicationStatus,
    *,
    reviewer_id: int | None,
    reason: str | None,
) -> None:
    application.status = status
    application.reviewer_id = reviewer_id
    application.reason = reason
    application.decided_at = utcnow()


def _unique_slug(session: Session, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or f"shop-{secrets.token_hex(3)}"
    slug, n = base, 2
    while session.scalar(select(Merchant.id).where(Merchant.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def approve_application(
    session: Session,
    application: MerchantApplication,
    *,
    reviewer_id: int | None,
    login_url: str,
    reset_url: str,
    note: str = "",
) -> Merchant:
    """Open the shop: the merchant, its owner account (random password) and the applicant's two e-mails.

    The owner chooses a password through the ordinary password-reset link (``reset_url`` is the merchant
    portal's reset page, the token is appended), so the link expires and works once like any reset link.
    """
    from marketplace.identity.models import UserKind
    from marketplace.identity.services import create_user, request_password_reset, role_by_code

    _require_open(application)
    if shop_name_taken(session, application.shop_name, except_application_id=application.id):
        raise errors.ShopNameTaken()
    merchant = create_merchant(
        session,
        name=application.shop_name,
        slug=_unique_slug(session, application.shop_name),
        contact_email=application.email,
        contact_name=application.contact_name,
        contact_phone=application.contact_phone,
    )
    create_user(
        session,
        kind=UserKind.MERCHANT,
        email=application.email,
        password=secrets.token_urlsafe(32),  # nobody knows it; the owner sets one through the mailed link
        name=application.contact_name,
        phone=application.contact_phone or None,
        tenant_id=merchant.id,
        is_owner=True,
        roles=[role_by_code(session, UserKind.MERCHANT, "owner")],
    )
    _decide(application, ApplicationStatus.APPROVED, reviewer_id=reviewer_id, reason=note.strip() or None)
    application.merchant_id = merchant.id
    session.flush()
    audit.record(session, "merchant_application.approve", application, reason=note.strip() or None)
    enqueue(
        send_email,
        to=application.email,
        subject="Your shop is approved / 您的入驻申请已通过",
        body=(
            f"Welcome! {application.shop_name} is open on the marketplace.\n"
            f"A second e-mail brings the link to choose your password. Then sign in at:\n{login_url}\n"
            f'Your sign-in is {application.email}. If the link has expired, use "Forgot password" there.\n\n'
            f"欢迎入驻！店铺「{application.shop_name}」已开通。\n"
            f"另一封邮件中有设置密码的链接，设置后请在此登录商家后台：\n{login_url}\n"
            f"登录账号为 {application.email}。如链接已过期，请在登录页点击“忘记密码”。\n"
        ),
    )
    request_password_reset(session, kind=UserKind.MERCHANT, email=application.email, reset_url=reset_url)
    return merchant


def reject_application(
    session: Session,
    application: MerchantApplication,
    *,
    reviewer_id: int | None,
    reason: str,
    status_url: str,
) -> None:
    reason = _decide_with_reason(session, application, ApplicationStatus.REJECTED, reviewer_id, reason)
    enqueue(
        send_email,
        to=application.email,
        subject="Your shop application / 您的入驻申请结果",
        body=(
            f"We are sorry: the application for {application.shop_name} was not approved.\n"
            f"Reason: {reason}\n{status_url}\n\n"
            f"很抱歉，店铺「{application.shop_name}」的入驻申请未通过审核。\n原因：{reason}\n{status_url}\n"
        ),
    )


def request_more_information(
    session: Session,
    application: MerchantApplication,
    *,
    reviewer_id: int | None,
    reason: str,
    status_url: str,
) -> None:
    """Send the application back: the applicant sees ``reason`` and may change the application and resubmit."""
    reason = _decide_with_reason(session, application, ApplicationStatus.NEEDS_INFO, reviewer_id, reason)
    enqueue(
        send_email,
        to=application.email,
        subject="Your shop application needs more information / 入驻申请需补充资料",
        body=(
            f"Our reviewers need more information about the application for {application.shop_name}:\n"
            f"{reason}\n\nUpdate and resubmit it here:\n{status_url}\n\n"
            f"店铺「{application.shop_name}」的入驻申请需要补充资料：\n{reason}\n\n"
            f"请通过以下链接修改后重新提交：\n{status_url}\n"
        ),
    )


def _decide_with_reason(
    session: Session,
    application: MerchantApplication,
    status: ApplicationStatus,
    reviewer_id: int | None,
    reason: str,
) -> str:
    """Reject or send back an open application; the reason is required and audited. Returns it trimmed."""
    _require_open(application)
    reason = reason.strip()
    if not reason:
        raise errors.ReasonRequired()
    _decide(application, status, reviewer_id=reviewer_id, reason=reason)
    session.flush()
    action = "reject" if status is ApplicationStatus.REJECTED else "needs_info"
    audit.record(session, f"merchant_application.{action}", application, reason=reason)
    return reason


# --- shop settings ----------------------------------------------------------------------------


@dataclass
class ShopProfile:
    name: str
    description: str = ""
    service_phone: str = ""
    service_email: str = ""
    service_hours: str = ""
    return_name: str = ""
    return_phone: str = ""
    return_address: str = ""


def update_shop_profile(
    session: Session,
    merchant: Merchant,
    *,
    profile: ShopProfile,
    logo_key: str | None = None,
    remove_logo: bool = False,
) -> Merchant:
    """Change what shoppers see of the shop; ``logo_key`` is an image already stored by core.storage."""
    name = profile.name.strip()
    if shop_name_taken(session, name, except_merchant_id=merchant.id):
        raise errors.ShopNameTaken()
    merchant.name = name
    merchant.description = profile.description.strip()
    merchant.service_phone = profile.service_phone.strip()
    merchant.service_email = profile.service_email.strip().lower()
    merchant.service_hours = profile.service_hours.strip()
    merchant.return_name = profile.return_name.strip()
    merchant.return_phone = profile.return_phone.strip()
    merchant.return_address = profile.return_address.strip()
    if logo_key:
        merchant.logo_key = logo_key
    elif remove_logo:
        merchant.logo_key = None
    session.flush()
    return merchant


# --- shipping templates -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fees:
    """Weight pricing: ``first_fee`` up to ``first_weight_g``, then ``additional_fee`` per started step."""

    first_weight_g: int
    first_fee: int
    additional_weight_g: int
    additional_fee: int


def _check_fees(fees: Fees) -> None:
    weights = (fees.first_weight_g, fees.additional_weight_g)
    amounts = (fees.first_fee, fees.additional_fee)
    if any(not isinstance(w, int) or w <= 0 for w in weights) or any(
        not isinstance(a, int) or a < 0 for a in amounts
    ):
        raise errors.ShippingFeesInvalid()


def _set_fees(target: ShippingTemplate | ShippingRule, fees: Fees) -> None:
    target.first_weight_g = fees.first_weight_g
    target.first_fee = fees.first_fee
    target.additional_weight_g = fees.additional_weight_g
    target.additional_fee = fees.additional_fee


def save_shipping_template(
    session: Session,
    *,
    tenant_id: int,
    name: str,
    fees: Fees,
    free_shipping_threshold: int | None,
    is_default: bool,
    template: ShippingTemplate | None = None,
) -> ShippingTemplate:
    """Create or change a template. A shop always has one default: the first template is it, and making
    another the default takes the mark from the previous one."""
    if template is not None and template.tenant_id != tenant_id:
        raise NotFound()
    _check_fees(fees)
    if free_shipping_threshold is not None and free_shipping_threshold < 0:
        raise errors.ShippingFeesInvalid()
    name = name.strip()
    same_name = select(ShippingTemplate.id).where(
        ShippingTemplate.tenant_id == tenant_id, ShippingTemplate.name == name
    )
    if template is not None:
        same_name = same_name.where(ShippingTemplate.id != template.id)
    if session.scalar(same_name) is not None:
        raise errors.ShippingTemplateNameTaken()
    current_defaults = select(ShippingTemplate).where(
        ShippingTemplate.tenant_id == tenant_id, ShippingTemplate.is_default.is_(True)
    )
    if template is not None:
        current_defaults = current_defaults.where(ShippingTemplate.id != template.id)
    others = list(session.scalars(current_defaults))
    if template is None:
        template = ShippingTemplate(tenant_id=tenant_id)
        session.add(template)
    template.name = name
    template.free_shipping_threshold = free_shipping_threshold
    _set_fees(template, fees)
    if is_default or not others:
        for other in others:
            other.is_default = False
        template.is_default = True
    else:
        template.is_default = False
    session.flush()
    return template


def delete_shipping_template(session: Session, template: ShippingTemplate) -> None:
    """Delete a template and its regions; if it was the default, the oldest remaining one becomes it."""
    was_default, tenant_id = template.is_default, template.tenant_id
    session.delete(template)
    session.flush()
    if was_default:
        successor = session.scalar(
            select(ShippingTemplate)
            .where(ShippingTemplate.tenant_id == tenant_id)
            .order_by(ShippingTemplate.id)
            .limit(1)
        )
        if successor is not None:
            successor.is_default = True
            session.flush()


def _check_provinces(
    template: ShippingTemplate, provinces: list[str], rule: ShippingRule | None
) -> list[str]:
    codes = sorted({p for p in provinces if p in PROVINCE_CODES})
    if not codes or len(codes) != len(set(provinces)):
        raise errors.NoProvinces()
    taken = {p for other in template.rules if other is not rule for p in other.provinces}
    clash = [c for c in codes if c in taken]
    if clash:
        raise errors.ProvinceInTwoRules(provinces="、".join(province_label(c) for c in clash), codes=clash)
    return codes


def save_shipping_rule(
    session: Session,
    template: ShippingTemplate,
    *,
    region_name: str,
    provinces: list[str],
    fees: Fees,
    rule: ShippingRule | None = None,
) -> ShippingRule:
    """Add a region with its own fees to ``template`` (or change ``rule``); a province is in one region only."""
    _check_fees(fees)
    codes = _check_provinces(template, provinces, rule)
    if rule is None:
        rule = ShippingRule(tenant_id=template.tenant_id)
        template.rules.append(rule)
    rule.region_name = region_name.strip() or "、".join(province_label(c) for c in codes)[:100]
    rule.provinces = codes
    _set_fees(rule, fees)
    session.flush()
    return rule


def delete_shipping_rule(session: Session, rule: ShippingRule) -> None:
    rule.template.rules.remove(rule)
    session.delete(rule)
    session.flush()


def quote_shipping(template: ShippingTemplate, province: str, weight_g: int, goods_amount: int) -> int:
    """The delivery fee in fen for a parcel of ``weight_g`` grams worth ``goods_amount`` fen to ``province``.

    Free from the template's threshold on; otherwise the region's fees (or the template's own when no region
    names the province): the first fee covers up to the first weight, and each started additional step
    (rounded up) adds the additional fee. ``province`` is a GB/T 2260 code or a province name.
    """
    if weight_g < 0 or goods_amount < 0:
        raise ValueError("weight and goods amount cannot be negative")
    threshold = template.free_shipping_threshold
    if threshold is not None and goods_amount >= threshold:
        return 0
    code = province_code(province)
    fees: ShippingTemplate | ShippingRule = template
    if code is not None:
        fees = next((rule for rule in template.rules if code in rule.provinces), template)
    if weight_g <= fees.first_weight_g:
        return fees.first_fee
    steps = -(-(weight_g - fees.first_weight_g) // fees.additional_weight_g)  # ceiling division
    return fees.first_fee + steps * fees.additional_fee
