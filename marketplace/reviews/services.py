"""State changes of reviews: writing one, moderating it (which keeps the product's rating exact), replying."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.catalog.models import Product
from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, NotFound, ValidationFailed
from marketplace.reviews import errors
from marketplace.reviews.models import Review, ReviewStatus

TEXT_MAX = 2000
REPLY_MAX = 1000
REASON_MAX = 500
MAX_IMAGES = 9
IMAGE_KEY_MAX = 64


def create_review(
    session: Session,
    *,
    product: Product,
    user_id: int,
    order_id: int | None,
    rating: int,
    text: str,
    image_keys: list[str] | None = None,
) -> Review:
    """A shopper's review of ``product``, pending moderation.

    Writing a review needs a completed order of the product: the orders domain checks that and passes
    ``order_id``. One review per product and order.
    """
    problems: dict[str, list[str]] = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        problems["rating"] = [N_("Give 1 to 5 stars.")]
    body = (text or "").strip()
    if not body:
        problems["text"] = [N_("Write a few words about the product.")]
    elif len(body) > TEXT_MAX:
        problems["text"] = [N_("At most 2000 characters.")]
    keys = [str(k).strip() for k in (image_keys or []) if str(k).strip()]
    if len(keys) > MAX_IMAGES:
        problems["image_keys"] = [N_("At most 9 pictures.")]
    elif any(len(k) > IMAGE_KEY_MAX for k in keys):
        problems["image_keys"] = [N_("Unknown picture.")]
    if problems:
        raise ValidationFailed(problems)
    if order_id is not None:
        taken = session.scalar(
            select(Review.id).where(Review.order_id == order_id, Review.product_id == product.id)
        )
        if taken is not None:
            raise errors.DuplicateReview()
    review = Review(
        tenant_id=product.tenant_id,
        product_id=product.id,
        user_id=user_id,
        order_id=order_id,
        rating=rating,
        text=body,
        image_keys=list(dict.fromkeys(keys)),
        status=ReviewStatus.PENDING,
    )
    session.add(review)
    session.flush()
    return review


def _lock(session: Session, review: Review) -> None:
    """Re-read the review under a row lock, so two moderators cannot both count it (PostgreSQL)."""
    session.refresh(review, with_for_update=True)


def _add_to_rating(session: Session, review: Review, sign: int) -> None:
    """Count (or uncount) the review in its product's rating with one atomic UPDATE."""
    session.execute(
        update(Product)
        .where(Product.id == review.product_id)
        .values(
            rating_count=Product.rating_count + sign,
            rating_sum=Product.rating_sum + sign * review.rating,
        )
        .execution_options(synchronize_session="fetch")
    )


def approve_review(session: Session, review: Review, *, actor_id: int | None) -> None:
    """Publish a pending (or reinstate a hidden) review; it counts in the product's rating from now on."""
    _lock(session, review)
    if review.status is ReviewStatus.APPROVED:
        raise errors.ReviewAlreadyApproved()
    review.status = ReviewStatus.APPROVED
    review.hide_reason = None
    review.moderated_by_id = actor_id
    review.moderated_at = utcnow()
    _add_to_rating(session, review, +1)
    audit.record(session, "review.approve", review)
    session.flush()


def hide_review(session: Session, review: Review, *, actor_id: int | None, reason: str) -> None:
    """Take a review off the shop front with a reason; an approved one stops counting in the rating."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": [N_("Give a reason for hiding the review.")]})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": [N_("At most 500 characters.")]})
    _lock(session, review)
    if review.status is ReviewStatus.HIDDEN:
        raise errors.ReviewAlreadyHidden()
    if review.status is ReviewStatus.APPROVED:
        _add_to_rating(session, review, -1)
    review.status = ReviewStatus.HIDDEN
    review.hide_reason = reason
    review.moderated_by_id = actor_id
    review.moderated_at = utcnow()
    audit.record(session, "review.hide", review, reason=reason)
    session.flush()


def reply_to_review(
    session: Session, review: Review, *, tenant_id: int, text: str, actor_id: int | None
) -> None:
    """The shop's public answer to an approved review of its product (sending it again replaces it)."""
    if review.tenant_id != tenant_id:
        raise NotFound()
    body = (text or "").strip()
    if not body:
        raise ValidationFailed({"reply": [N_("Write your reply.")]})
    if len(body) > REPLY_MAX:
        raise ValidationFailed({"reply": [N_("At most 1000 characters.")]})
    if review.status is not ReviewStatus.APPROVED:
        raise errors.ReviewNotApproved()
    review.merchant_reply = body
    review.replied_at = utcnow()
    review.replied_by_id = actor_id
    session.flush()
