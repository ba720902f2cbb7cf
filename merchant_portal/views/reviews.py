"""The shop's published reviews and its public replies to them (htmx inline reply form)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import DomainError, ValidationFailed
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.reviews import queries, services
from merchant_portal import bp


@bp.get("/reviews")
@requires("reviews.reply")
def reviews_list():
    unanswered = request.args.get("show") == "unanswered"
    page = queries.shop_reviews(
        db.session,
        tenant_id=g.tenant_id,
        unanswered=unanswered,
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "merchant/reviews/_items.html"
        if htmx and request.args.get("before")
        else "merchant/reviews/list.html"
    )
    return render_template(template, page=page, unanswered=unanswered)


@bp.post("/reviews/<int:review_id>/reply")
@requires("reviews.reply")
def review_reply(review_id: int):
    review = queries.get_review(db.session, review_id)  # tenant-filtered: another shop's review is a 404
    text = request.form.get("reply", "")
    error = None
    try:
        services.reply_to_review(
            db.session, review, tenant_id=g.tenant_id, text=text, actor_id=current_user.id
        )
    except ValidationFailed as exc:
        db.session.rollback()
        error = " ".join(_(m) for m in exc.fields.get("reply", [])) or exc.text
    except DomainError as exc:
        db.session.rollback()
        error = exc.text
    else:
        db.session.commit()
    if htmx:
        # The review again, with the saved reply or the message; a 200 so htmx swaps it in place.
        return render_template(
            "merchant/reviews/_review.html",
            r=queries.get_review(db.session, review_id),
            error=error,
            draft=text if error else None,
            saved=error is None,
        )
    flash(error or _("Reply published."), "error" if error else "success")
    return redirect(request.referrer or url_for("merchant.reviews_list"))
