"""Site-wide routes that belong to no portal: health check and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from sqlalchemy import text

from marketplace.core.jobs import queue_backend, redis_connection
from marketplace.core.permissions import public
from marketplace.extensions import db
from marketplace.web.portal import safe_next_url

bp = Blueprint("site", __name__)


@bp.get("/healthz")
@public
def healthz():
    """Database and queue backend state, for load balancers and the newcomer's first check."""
    database = {"backend": db.engine.dialect.name}
    try:
        db.session.execute(text("SELECT 1"))
        database["ok"] = True
    except Exception as exc:  # noqa: BLE001 - report, don't raise
        database.update(ok=False, error=type(exc).__name__)
    queue = {"backend": queue_backend()}
    try:
        redis_connection().ping()
        queue["ok"] = True
    except Exception as exc:  # noqa: BLE001
        queue.update(ok=False, error=type(exc).__name__)
    healthy = database["ok"] and queue["ok"]
    body = {"status": "ok" if healthy else "degraded", "database": database, "queue": queue}
    return jsonify(body), 200  # always 200 (DESIGN.md): the body says what is degraded


@bp.post("/lang/<code>")
@public
def set_language(code: str):
    """Switch the interface language; CSRF-protected like every POST."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next_url(request.form.get("next") or request.referrer, url_for("storefront.home")))
