"""State changes of merchants and their API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.merchants.errors import ApiKeyInvalid, MerchantNotActive, ScopeNotGrantable
from marketplace.merchants.models import ApiKey, Merchant, MerchantStatus
from marketplace.merchants.permissions import API_SCOPES

KEY_PREFIX = "mk_"


def create_merchant(
    session: Session, *, name: str, slug: str, contact_email: str = "", contact_name: str = ""
) -> Merchant:
    merchant = Merchant(
        name=name,
        slug=slug,
        contact_email=contact_email,
        contact_name=contact_name,
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
