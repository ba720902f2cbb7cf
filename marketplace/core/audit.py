"""The audit log: who changed what, for which tenant, from where, and when.

Portals set the *actor* (user, kind, tenant, IP) at the start of a request, jobs and CLI commands set
their own. A ``before_flush`` listener then writes one entry per inserted, updated or deleted row, with
the changed fields, so no service can forget to audit. Services may add a semantic action and reason
with :func:`record`. Shoppers' own changes (cart, addresses) are not staff mutations and are not logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.core.db import Base, BigId, UTCDateTime, utcnow

AUDITED_KINDS = frozenset({"staff", "merchant", "warehouse", "system"})
SECRET_FIELDS = frozenset({"password_hash", "key_hash", "secret", "token_hash", "pin_hash", "webhook_secret"})


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    kind: str  # staff, merchant, warehouse, shopper, system
    tenant_id: int | None = None
    ip: str | None = None
    label: str = ""


SYSTEM = Actor(user_id=None, kind="system", label="system")
_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def set_actor(actor: Actor | None) -> None:
    _actor.set(actor)


def current_actor() -> Actor | None:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __audit__ = False
    __table_args__ = (
        Index("ix_audit_entries_tenant_id_id", "tenant_id", "id"),
        Index("ix_audit_entries_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_label: Mapped[str] = mapped_column(String(255), default="")
    tenant_id: Mapped[int | None] = mapped_column(BigInteger)
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(String(500))

    def __repr__(self) -> str:
        return f"<AuditEntry id={self.id} {self.action} {self.object_type}:{self.object_id}>"


def record(
    session: Session,
    action: str,
    obj: Any = None,
    *,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    tenant_id: int | None = None,
) -> AuditEntry | None:
    """Log a semantic action (``user.login_failed``, ``order.mark_invalid``) beyond the row changes."""
    actor = _actor.get()
    if actor is None or actor.kind not in AUDITED_KINDS:
        return None
    entry = _entry(actor, action, obj, changes or {}, reason, tenant_id)
    session.add(entry)
    return entry


def _entry(
    actor: Actor, action: str, obj: Any, changes: dict[str, Any], reason: str | None, tenant_id: int | None
) -> AuditEntry:
    object_type = getattr(obj, "__tablename__", type(obj).__name__ if obj is not None else "")
    object_id = getattr(obj, "id", None)
    return AuditEntry(
        actor_id=actor.user_id,
        actor_kind=actor.kind,
        actor_label=actor.label,
        tenant_id=tenant_id if tenant_id is not None else (_tenant_of(obj) or actor.tenant_id),
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes=changes,
        reason=reason,
    )


def _tenant_of(obj: Any) -> int | None:
    """The tenant an object belongs to; a model may say so with ``audit_tenant_id`` (the shop itself)."""
    return getattr(obj, "audit_tenant_id", None) or getattr(obj, "tenant_id", None)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _changed_fields(obj: Any, *, created: bool) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        history = state.attrs[key].history
        if not created and not history.has_changes():
            continue
        new = history.added[0] if history.added else getattr(obj, key, None)
        if created and new is None:
            continue
        old = history.deleted[0] if history.deleted else None
        if key in SECRET_FIELDS:
            changes[key] = "(changed)"
        elif created:
            changes[key] = _jsonable(new)
        else:
            changes[key] = [_jsonable(old), _jsonable(new)]
    for key in ("updated_at", "created_at", *getattr(obj, "__audit_ignore__", ())):
        changes.pop(key, None)
    return changes


@event.listens_for(Session, "before_flush")
def _audit_row_changes(session: Session, flush_context, instances) -> None:
    actor = _actor.get()
    if actor is None or actor.kind not in AUDITED_KINDS:
        return
    entries: list[AuditEntry] = []
    pending_ids = session.info.setdefault("audit_pending_ids", [])
    for verb, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in list(objects):
            if not getattr(obj, "__audit__", False) or isinstance(obj, AuditEntry):
                continue
            if verb == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = {} if verb == "delete" else _changed_fields(obj, created=verb == "create")
            if verb == "update" and not changes:
                continue
            entry = _entry(actor, f"{obj.__tablename__}.{verb}", obj, changes, None, None)
            if entry.object_id is None:
                pending_ids.append((entry, obj))
            entries.append(entry)
    session.add_all(entries)


@event.listens_for(Session, "after_flush_postexec")
def _fill_created_ids(session: Session, flush_context) -> None:
    """Rows created in this flush got their ids only now; entries written before the flush catch up.

    ``after_flush_postexec`` (not ``after_flush``): a change made there is flushed by the next flush, which the
    commit runs, instead of being reset with the state of the flush that just finished.
    """
    pending = session.info.pop("audit_pending_ids", None)
    if not pending:
        return
    for entry, obj in pending:
        if getattr(obj, "id", None) is not None:
            entry.object_id = str(obj.id)
        if entry.tenant_id is None:
            entry.tenant_id = _tenant_of(obj)


def search_entries(
    session: Session,
    *,
    tenant_id: int | None = None,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
):
    """Filtered audit entries, newest first, keyset-paginated. ``tenant_id`` limits to one shop's entries."""
    from sqlalchemy import select

    from marketplace.core.pagination import keyset_page

    stmt = select(AuditEntry)
    if tenant_id is not None:
        stmt = stmt.where(AuditEntry.tenant_id == tenant_id)
    if actor:
        stmt = stmt.where(AuditEntry.actor_label.like(f"%{actor.strip().lower()}%"))
    if action:
        stmt = stmt.where(AuditEntry.action.like(f"{action.strip()}%"))
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if since:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.created_at < until)
    return keyset_page(session, stmt, AuditEntry.id, before)
