"""In-portal notifications: the bell's unread badge (polled by htmx) and the list, which marks them read."""

from __future__ import annotations

from flask import g, render_template, request
from flask_login import current_user

from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import LOGIN_ONLY, requires
from marketplace.extensions import db, htmx
from marketplace.notifications import queries, services
from merchant_portal import bp


@bp.get("/notifications")
@requires(LOGIN_ONLY)
def notifications_list():
    page = queries.notifications_page(
        db.session,
        tenant_id=g.tenant_id,
        user_id=current_user.id,
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "merchant/notifications/_items.html"
        if htmx and request.args.get("before")
        else "merchant/notifications/list.html"
    )
    html = render_template(template, page=page)  # unread ones show as new this once
    unread = [n.id for n in page.items if n.read_at is None]
    if unread:
        services.mark_read(db.session, tenant_id=g.tenant_id, user_id=current_user.id, ids=unread)
        db.session.commit()
    return html


@bp.get("/notifications/badge")
@requires(LOGIN_ONLY)
def notifications_badge():
    count = queries.unread_count(db.session, tenant_id=g.tenant_id, user_id=current_user.id)
    return render_template("merchant/notifications/_badge.html", count=count, cap=queries.BADGE_CAP)
