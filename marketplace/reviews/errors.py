"""Review errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class InvalidReviewTransition(DomainError):
    """Moderating a review into the state it already has (a double click, or two moderators at once)."""

    code = "review.invalid_transition"
    status = 409
    message = N_("The review was moderated already.")


class ReviewAlreadyApproved(InvalidReviewTransition):
    message = N_("The review is published already.")


class ReviewAlreadyHidden(InvalidReviewTransition):
    message = N_("The review is hidden already.")


class ReviewNotApproved(DomainError):
    code = "review.not_approved"
    status = 409
    message = N_("Only published reviews can be answered.")


class DuplicateReview(DomainError):
    code = "review.duplicate"
    status = 409
    message = N_("This order already has a review of this product.")
