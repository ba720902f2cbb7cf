"""The platform's review moderation queue: approve a review or hide it with a reason.

Both change the product's rating aggregate in the same transaction (the services keep it exact).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from admin_portal import bp
from marketplace.core.errors import DomainError, ValidationFailed
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.reviews import queries, services

STATUS_TABS = ("pending", "approved", "hidden", "all")


@bp.get("/reviews")
@requires("reviews.moderate")
def reviews_list():
    status = request.args.get("status", "pending")
    status = status if status in STATUS_TABS else "pending"
    page = queries.moderation_queue(
        db.session,
        status="" if status == "all" else status,
        tenant_id=request.args.get("shop", type=int),
        product_id=request.args.get("product", type=int),
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "admin/reviews/_rows.html" if htmx and request.args.get("before") else "admin/reviews/list.html"
    )
    return render_template(template, page=page, status=status, tabs=STATUS_TABS)


def _answer(review, *, error: str | None = None, reason_error: str | None = None, done: str | None = None):
    """htmx: the review's row again (a 200, so htmx swaps it, with any message in it); otherwise back to the list."""
    if htmx:
        return render_template(
            "admin/reviews/_row.html", r=review, error=error, reason_error=reason_error, done=done
        )
    if error or reason_error:
        flash(error or reason_error, "error")
    elif done:
        flash(done, "success")
    return redirect(request.referrer or url_for("admin.reviews_list"))


@bp.post("/reviews/<int:review_id>/approve")
@requires("reviews.moderate")
def review_approve(review_id: int):
    review = queries.get_review(db.session, review_id)
    try:
        services.approve_review(db.session, review, actor_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        return _answer(queries.get_review(db.session, review_id), error=exc.text)
    db.session.commit()
    return _answer(review, done=_("Review published."))


@bp.post("/reviews/<int:review_id>/hide")
@requires("reviews.moderate")
def review_hide(review_id: int):
    review = queries.get_review(db.session, review_id)
    try:
        services.hide_review(
            db.session, review, actor_id=current_user.id, reason=request.form.get("reason", "")
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _answer(
            queries.get_review(db.session, review_id),
            reason_error=" ".join(_(m) for m in exc.fields["reason"]),
        )
    except DomainError as exc:
        db.session.rollback()
        return _answer(queries.get_review(db.session, review_id), error=exc.text)
    db.session.commit()
    return _answer(review, done=_("Review hidden."))
