"""Read-side helpers of reviews for the portals."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, selectinload

from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.identity.models import User
from marketplace.reviews.models import Review, ReviewStatus

STATUSES = tuple(s.value for s in ReviewStatus)


def _with_people(stmt):
    """Load the product and the reviewer with the page, without the reviewer's roles (no N+1)."""
    return stmt.options(
        selectinload(Review.product),
        selectinload(Review.user).options(lazyload(User.roles)),
    )


def moderation_queue(
    session: Session,
    *,
    status: str = "pending",
    tenant_id: int | None = None,
    product_id: int | None = None,
    before: int | None = None,
) -> Page[Review]:
    """Reviews of every shop for platform staff, newest first; ``status=""`` for all."""
    stmt = select(Review)
    if status in STATUSES:
        stmt = stmt.where(Review.status == ReviewStatus(status))
    if tenant_id:
        stmt = stmt.where(Review.tenant_id == tenant_id)
    if product_id:
        stmt = stmt.where(Review.product_id == product_id)
    return keyset_page(session, _with_people(stmt), Review.id, before)


def shop_reviews(
    session: Session, *, tenant_id: int, unanswered: bool = False, before: int | None = None
) -> Page[Review]:
    """A shop's approved reviews (the ones it may answer), newest first."""
    stmt = select(Review).where(Review.tenant_id == tenant_id, Review.status == ReviewStatus.APPROVED)
    if unanswered:
        stmt = stmt.where(Review.merchant_reply.is_(None))
    return keyset_page(session, _with_people(stmt), Review.id, before)


def product_reviews(
    session: Session, product_id: int, *, before: int | None = None, size: int = 10
) -> Page[Review]:
    """A product's public (approved) reviews, newest first, for the shop front."""
    stmt = select(Review).where(Review.product_id == product_id, Review.status == ReviewStatus.APPROVED)
    stmt = stmt.options(selectinload(Review.user).options(lazyload(User.roles)))
    return keyset_page(session, stmt, Review.id, before, size=size)


def get_review(session: Session, review_id: int) -> Review:
    """A review of the active tenant (or any review for platform staff); otherwise 404."""
    review = session.scalar(select(Review).where(Review.id == review_id))
    if review is None:
        raise NotFound()
    return review
