"""Sent messages (the development outbox of email/SMS), in-portal notifications and webhook deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class SentMessage(Base):
    """A message handed to a channel. In development nothing leaves the machine: this table is the mailbox."""

    __tablename__ = "sent_messages"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="email")
    recipient: Mapped[str] = mapped_column(String(255), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notification(Base):
    """An in-portal notice for one user or for every user of one shop (``tenant_id``)."""

    __tablename__ = "notifications"
    __audit__ = False
    __table_args__ = (Index("ix_notifications_tenant_id_read_at", "tenant_id", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDelivery(TenantScoped, Base):
    """One event to POST to a merchant's webhook URL, retried with backoff until it answers 2xx."""

    __tablename__ = "webhook_deliveries"
    __audit__ = False
    __table_args__ = (Index("ix_webhook_deliveries_tenant_id_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event: Mapped[str] = mapped_column(String(64))  # order.ready_to_ship, ...
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    url: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes signed and sent, so a redelivery is identical
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, failed
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookAttempt(TenantScoped, Base):
    """One HTTP attempt of a delivery, as the merchant sees it in their delivery log."""

    __tablename__ = "webhook_attempts"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500), default="")
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
