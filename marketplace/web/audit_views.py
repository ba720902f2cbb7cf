"""The audit log page, shared by the admin portal (all entries) and the merchant portal (its own shop)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template, request

from marketplace.core.audit import search_entries
from marketplace.core.pagination import parse_cursor
from marketplace.extensions import db, htmx


def _date(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def render_audit_log(*, tenant_id: int | None, show_tenant: bool):
    args = request.args
    until = _date(args.get("until"))
    page = search_entries(
        db.session,
        tenant_id=tenant_id if tenant_id is not None else _int(args.get("tenant")),
        actor=args.get("actor", ""),
        action=args.get("action", ""),
        object_type=args.get("object_type", ""),
        object_id=args.get("object_id", ""),
        since=_date(args.get("since")),
        until=until + timedelta(days=1) if until else None,
        before=parse_cursor(args.get("before")),
    )
    template = "audit/_rows.html" if htmx and args.get("before") else "audit/list.html"
    return render_template(template, page=page, show_tenant=show_tenant)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
