"""Dashboard counts. One grouped query per table, so a dashboard is a handful of SQL statements."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.core.audit import AuditEntry
from marketplace.core.db import utcnow
from marketplace.core.jobs import OutboxMessage
from marketplace.identity.models import LoginAttempt, User
from marketplace.merchants.models import ApiKey, ApplicationStatus, Merchant, MerchantApplication


def platform_counts(session: Session) -> dict[str, int]:
    since = utcnow() - timedelta(hours=24)
    merchants = dict(session.execute(select(Merchant.status, func.count()).group_by(Merchant.status)).all())
    users = dict(session.execute(select(User.kind, func.count()).group_by(User.kind)).all())
    return {
        "merchants_active": merchants.get("active", 0),
        "merchants_pending": session.scalar(
            select(func.count())
            .select_from(MerchantApplication)
            .where(MerchantApplication.status == ApplicationStatus.SUBMITTED)
        )
        or 0,
        "merchants_suspended": merchants.get("suspended", 0),
        "staff": users.get("staff", 0),
        "merchant_users": users.get("merchant", 0),
        "warehouse_users": users.get("warehouse", 0),
        "shoppers": users.get("shopper", 0),
        "outbox_pending": session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.processed_at.is_(None))
        )
        or 0,
        "failed_logins_24h": session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since)
        )
        or 0,
        "audit_24h": session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.created_at >= since)
        )
        or 0,
    }


def merchant_counts(session: Session, tenant_id: int) -> dict[str, int]:
    """Counts for one shop's dashboard; tenant rows are filtered by the active tenant as well."""
    return {
        "staff": session.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant_id))
        or 0,
        "api_keys": session.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))
        )
        or 0,
        "audit_7d": session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.tenant_id == tenant_id, AuditEntry.created_at >= utcnow() - timedelta(days=7))
        )
        or 0,
    }


def outbox_summary(session: Session) -> dict[str, object]:
    """Outbox rows not yet handed to RQ, and the latest ones whose job raised."""
    pending = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dispatched_at.is_(None))
    )
    erroring = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.processed_at.is_(None), OutboxMessage.last_error.is_not(None))
            .order_by(OutboxMessage.id.desc())
            .limit(20)
        )
    )
    return {"pending": pending or 0, "erroring": erroring}


def warehouse_counts(session: Session) -> dict[str, int]:
    """The warehouse team at a glance: accounts and who signed in today."""
    start_of_day = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "team": session.scalar(
            select(func.count()).select_from(User).where(User.kind == "warehouse", User.is_active.is_(True))
        )
        or 0,
        "signed_in_today": session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.kind == "warehouse", User.last_login_at >= start_of_day)
        )
        or 0,
    }
