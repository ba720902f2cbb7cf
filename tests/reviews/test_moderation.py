"""Reviews: written pending, moderated by the platform (the product's rating stays exact), answered by the shop."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from marketplace.catalog.models import Product, ProductStatus
from marketplace.catalog.services import (
    ProductInput,
    SkuInput,
    approve_product,
    create_product,
    save_category,
)
from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.core.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.identity.roles import DEFAULT_ROLES, expand
from marketplace.reviews import errors, services
from marketplace.reviews.models import Review, ReviewStatus
from tests.factories import login, make_merchant, make_user

_codes = iter(range(1, 10_000))


def _product(app, shop, title="西湖龙井 Longjing tea") -> int:
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name=f"茶 {next(_codes)}")
        product = create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(
                title=title, category_id=category.id, skus=[SkuInput({}, f"TEA-{next(_codes)}", 9900)]
            ),
            actor_id=None,
        )
        product.status = ProductStatus.PENDING  # submitted (submit_product would also want an image)
        approve_product(db.session, product, actor_id=0)  # on sale: its reviews are public
        db.session.commit()
        return product.id


def _review(app, product_id, shopper, rating=5, text="很好喝 Lovely tea", status=ReviewStatus.PENDING) -> int:
    """A review written through the service; ``status`` approved or hidden goes through moderation too."""
    with app.app_context(), acting_as(SYSTEM):
        product = db.session.get(Product, product_id)
        review = services.create_review(
            db.session,
            product=product,
            user_id=shopper.id,
            order_id=None,
            rating=rating,
            text=text,
            image_keys=[],
        )
        if status is ReviewStatus.APPROVED:
            services.approve_review(db.session, review, actor_id=None)
        elif status is ReviewStatus.HIDDEN:
            services.hide_review(db.session, review, actor_id=None, reason="spam")
        db.session.commit()
        return review.id


def _rating(app, product_id) -> tuple[int, int]:
    with app.app_context():
        product = db.session.get(Product, product_id)
        return product.rating_count, product.rating_sum


def _status(app, review_id) -> ReviewStatus:
    with app.app_context():
        return db.session.get(Review, review_id).status


@pytest.fixture
def shop(app):
    return make_merchant(app, "Tea House")


@pytest.fixture
def shopper(app):
    return make_user(app, UserKind.SHOPPER, email="lin@example.test")


@pytest.fixture
def admin_client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, make_user(app, UserKind.STAFF)).status_code == 302
    return client


# --- writing --------------------------------------------------------------------------------------


def test_a_new_review_is_pending_and_belongs_to_the_products_shop(app, session, shop, shopper):
    product = session.get(Product, _product(app, shop))

    review = services.create_review(
        session,
        product=product,
        user_id=shopper.id,
        order_id=41,
        rating=4,
        text="  Good  ",
        image_keys=["k1", "k1"],
    )

    assert (review.status, review.tenant_id, review.rating, review.text, review.image_keys) == (
        ReviewStatus.PENDING,
        shop.id,
        4,
        "Good",
        ["k1"],
    )
    assert (product.rating_count, product.rating_sum) == (0, 0)
    session.commit()
    with pytest.raises(errors.DuplicateReview):
        services.create_review(
            session, product=product, user_id=shopper.id, order_id=41, rating=5, text="Again", image_keys=[]
        )


@pytest.mark.parametrize(
    ("rating", "text", "images", "fields"),
    [
        (0, "ok", [], {"rating"}),
        (6, "ok", [], {"rating"}),
        (True, "ok", [], {"rating"}),
        (4.5, "ok", [], {"rating"}),
        (3, "   ", [], {"text"}),
        (3, "x" * 2001, [], {"text"}),
        (3, "ok", [f"k{i}" for i in range(10)], {"image_keys"}),
        (9, "", [], {"rating", "text"}),
    ],
)
def test_bad_reviews_are_refused_field_by_field(app, session, shop, shopper, rating, text, images, fields):
    product = session.get(Product, _product(app, shop))

    with pytest.raises(ValidationFailed) as refused:
        services.create_review(
            session,
            product=product,
            user_id=shopper.id,
            order_id=None,
            rating=rating,
            text=text,
            image_keys=images,
        )

    assert set(refused.value.fields) == fields
    assert session.scalars(select(Review)).all() == []


# --- moderation -----------------------------------------------------------------------------------


def test_approving_and_hiding_keep_the_rating_aggregate_exact(app, admin_client, shop, shopper):
    product_id = _product(app, shop)
    five, four, two = (_review(app, product_id, shopper, rating=r) for r in (5, 4, 2))

    assert admin_client.post(f"/admin/reviews/{five}/approve").status_code == 302
    assert admin_client.post(f"/admin/reviews/{four}/approve").status_code == 302
    assert _rating(app, product_id) == (2, 9)

    admin_client.post(f"/admin/reviews/{five}/hide", data={"reason": "Advertising"})
    assert _rating(app, product_id) == (1, 4)
    admin_client.post(f"/admin/reviews/{two}/hide", data={"reason": "Off topic"})  # pending: never counted
    assert _rating(app, product_id) == (1, 4)
    admin_client.post(f"/admin/reviews/{five}/approve")  # reinstated
    assert _rating(app, product_id) == (2, 9)
    admin_client.post(f"/admin/reviews/{five}/approve")  # a double click counts once
    assert _rating(app, product_id) == (2, 9)

    with app.app_context():
        hidden = db.session.get(Review, two)
        assert (hidden.status, hidden.hide_reason, hidden.moderated_by_id is not None) == (
            ReviewStatus.HIDDEN,
            "Off topic",
            True,
        )
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("review.%"))
        ).all()
        assert sorted(actions) == ["review.approve"] * 3 + ["review.hide"] * 2


def test_hiding_needs_a_reason_and_changes_nothing_without_one(app, admin_client, shop, shopper):
    product_id = _product(app, shop)
    review_id = _review(app, product_id, shopper, rating=3, status=ReviewStatus.APPROVED)

    response = admin_client.post(
        f"/admin/reviews/{review_id}/hide", data={"reason": "  "}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200  # htmx swaps the row with the message in it
    assert f'id="review-{review_id}"' in response.text
    assert "Give a reason for hiding the review." in response.text
    assert _status(app, review_id) is ReviewStatus.APPROVED
    assert _rating(app, product_id) == (1, 3)


def test_the_queue_shows_pending_reviews_and_htmx_swaps_a_decided_row(app, admin_client, shop, shopper):
    product_id = _product(app, shop)
    pending = _review(app, product_id, shopper, text="Waiting for a look")
    _review(app, product_id, shopper, text="Already public", status=ReviewStatus.APPROVED)

    queue = admin_client.get("/admin/reviews")
    published = admin_client.get("/admin/reviews?status=approved")
    row = admin_client.post(f"/admin/reviews/{pending}/approve", headers={"HX-Request": "true"})

    assert queue.status_code == 200
    assert "Waiting for a look" in queue.text and "Already public" not in queue.text
    assert "Already public" in published.text and "Waiting for a look" not in published.text
    assert row.status_code == 200 and "</html>" not in row.text
    assert "Review published." in row.text and "Published" in row.text
    assert _rating(app, product_id) == (2, 10)


def test_staff_without_the_permission_cannot_moderate(app, shop, shopper):
    product_id = _product(app, shop)
    review_id = _review(app, product_id, shopper)
    client = app.test_client()
    login(client, make_user(app, UserKind.STAFF, role="finance"))

    assert client.get("/admin/reviews").status_code == 403
    assert client.post(f"/admin/reviews/{review_id}/approve").status_code == 403
    assert _status(app, review_id) is ReviewStatus.PENDING


def test_default_roles_give_reviews_to_operations_and_customer_service():
    def permissions(kind, code):
        return set(expand(kind, DEFAULT_ROLES[kind][code][1]))

    assert "reviews.moderate" in permissions(UserKind.STAFF, "operations")
    assert "reviews.moderate" in permissions(UserKind.STAFF, "customer_service")
    assert "reviews.moderate" not in permissions(UserKind.STAFF, "finance")
    assert "reviews.reply" in permissions(UserKind.MERCHANT, "operator")
    assert "reviews.reply" in permissions(UserKind.MERCHANT, "customer_service")
    assert "reviews.reply" not in permissions(UserKind.MERCHANT, "finance")


def test_two_moderators_approving_at_once_count_the_review_once(app, shop, shopper, postgres_only):
    """Real concurrency: separate sessions, committed data; the row lock makes the second one refuse."""
    product_id = _product(app, shop)
    same = _review(app, product_id, shopper, rating=4)
    other = _review(app, product_id, shopper, rating=2)
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def approve(review_id: int) -> None:
        with app.app_context(), acting_as(SYSTEM):
            review = db.session.get(Review, review_id)
            barrier.wait()
            try:
                services.approve_review(db.session, review, actor_id=None)
                db.session.commit()
                outcomes.append("approved")
            except errors.InvalidReviewTransition:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(rid,)) for rid in (same, same, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["approved", "approved", "refused"]
    assert _rating(app, product_id) == (2, 6)


# --- the shop front -------------------------------------------------------------------------------


def test_the_fragment_shows_approved_reviews_only_with_the_shops_reply(app, client, shop, shopper):
    product_id = _product(app, shop)
    _review(app, product_id, shopper, rating=5, text="Published and fine", status=ReviewStatus.APPROVED)
    _review(app, product_id, shopper, rating=1, text="Still waiting", status=ReviewStatus.PENDING)
    _review(app, product_id, shopper, rating=1, text="Taken down", status=ReviewStatus.HIDDEN)
    replied = _review(app, product_id, shopper, rating=4, text="Good but slow", status=ReviewStatus.APPROVED)
    with app.app_context(), acting_as(SYSTEM):
        services.reply_to_review(
            db.session,
            db.session.get(Review, replied),
            tenant_id=shop.id,
            text="Sorry, faster next time",
            actor_id=None,
        )
        db.session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.get(f"/p/{product_id}/reviews", headers={"HX-Request": "true"})

    assert response.status_code == 200
    text = response.text
    assert "</html>" not in text
    assert "Published and fine" in text and "Good but slow" in text and "Sorry, faster next time" in text
    assert "Still waiting" not in text and "Taken down" not in text
    assert "4.5" in text and "2 reviews" in text
    assert "s**" in text and "shopper user" not in text and "lin@example.test" not in text  # masked
    assert 'aria-label="4 out of 5 stars"' in text
    assert client.get("/p/999999/reviews").status_code == 404


def test_the_fragment_pages_with_a_more_button(app, client, shop, shopper):
    product_id = _product(app, shop)
    ids = [
        _review(app, product_id, shopper, text=f"Review number {n:02d}", status=ReviewStatus.APPROVED)
        for n in range(12)
    ]

    first = client.get(f"/p/{product_id}/reviews").text
    more = client.get(f"/p/{product_id}/reviews?before={ids[2]}").text

    assert first.count('class="review"') == 10 and f"before={ids[2]}" in first
    assert "Review number 11" in first and "Review number 01" not in first
    assert more.count('class="review"') == 2 and "<section" not in more
    assert "Review number 01" in more and "Review number 00" in more


# --- the shop's replies ---------------------------------------------------------------------------


def test_the_merchant_replies_inline_to_a_published_review(app, shop, shopper):
    product_id = _product(app, shop)
    review_id = _review(
        app, product_id, shopper, rating=2, text="Leaves were broken", status=ReviewStatus.APPROVED
    )
    pending_id = _review(app, product_id, shopper, text="Not public yet")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, make_user(app, UserKind.MERCHANT, tenant=shop, role="customer_service"))

    page = client.get("/merchant/reviews")
    empty = client.post(
        f"/merchant/reviews/{review_id}/reply", data={"reply": " "}, headers={"HX-Request": "true"}
    )
    reply = client.post(
        f"/merchant/reviews/{review_id}/reply",
        data={"reply": "We will pack it better."},
        headers={"HX-Request": "true"},
    )
    early = client.post(f"/merchant/reviews/{pending_id}/reply", data={"reply": "Thanks"})

    assert page.status_code == 200
    assert "Leaves were broken" in page.text and "Not public yet" not in page.text
    assert empty.status_code == 200 and "Write your reply." in empty.text
    assert reply.status_code == 200 and "</html>" not in reply.text
    assert f'id="review-{review_id}"' in reply.text and "We will pack it better." in reply.text
    assert early.status_code == 302
    with app.app_context():
        review = db.session.get(Review, review_id)
        assert (review.merchant_reply, review.replied_at is not None) == ("We will pack it better.", True)
        assert db.session.get(Review, pending_id).merchant_reply is None
    assert "We will pack it better." in client.get(f"/p/{product_id}/reviews").text


def test_a_merchant_cannot_reply_to_another_shops_review(app, shop, shopper):
    product_id = _product(app, shop)
    review_id = _review(app, product_id, shopper, status=ReviewStatus.APPROVED)
    other = make_merchant(app, "Other Shop")
    client = app.test_client()
    login(client, make_user(app, UserKind.MERCHANT, tenant=other, is_owner=True))

    response = client.post(f"/merchant/reviews/{review_id}/reply", data={"reply": "Buy from us instead"})
    listing = client.get("/merchant/reviews")

    assert response.status_code == 404
    assert "Lovely tea" not in listing.text
    with app.app_context():
        assert db.session.get(Review, review_id).merchant_reply is None


def test_a_merchant_role_without_the_permission_cannot_reply(app, shop, shopper):
    review_id = _review(app, _product(app, shop), shopper, status=ReviewStatus.APPROVED)
    client = app.test_client()
    login(client, make_user(app, UserKind.MERCHANT, tenant=shop, role="finance"))

    assert client.get("/merchant/reviews").status_code == 403
    assert client.post(f"/merchant/reviews/{review_id}/reply", data={"reply": "Hi"}).status_code == 403
