"""What platform staff do to orders in the admin OMS beyond the order's own life: mark an order invalid, remove
invalid orders in bulk (a soft delete), restore removed ones, note that an order was opened, and keep the
automatic review rules.

Every change is audited twice over: the row changes by the automatic audit (``core/audit.py``), the meaning
(``order.mark_invalid`` with the reason, ``order.remove``, ``order.restore``) by :func:`audit.record`; and each
order's own history gets an entry through :func:`services.note`. Opening an order is not a change anyone
audits (``admin_seen_at`` is in ``Order.__audit_ignore__``) and is written with one conditional UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.errors import N_, DomainError, PermissionDenied, ValidationFailed
from marketplace.identity.models import User
from marketplace.orders import services
from marketplace.orders.drafts import OrderActor
from marketplace.orders.errors import ReasonRequired
from marketplace.orders.models import Order, OrderReviewRule, OrderStatus, ReviewRuleKind
from marketplace.orders.states import FINAL, STATUS_LABELS

MAX_BULK = 200  # orders one bulk removal may name (a page of the list is 50)
MAX_REASON = 255  # orders.invalid_reason


class AlreadyInvalid(DomainError):
    code = "order.already_invalid"
    status = 409
    message = N_("Order {number} is already marked invalid.")


class StillInProgress(DomainError):
    code = "order.still_in_progress"
    status = 409
    message = N_("Order {number} is {current}; cancel it (or reject its review) before marking it invalid.")


class NotRemoved(DomainError):
    code = "order.not_removed"
    status = 409
    message = N_("Order {number} has not been removed.")


class NothingChosen(DomainError):
    code = "order.nothing_chosen"
    status = 422
    message = N_("Tick the orders first.")


class TooManyChosen(DomainError):
    code = "order.too_many_chosen"
    status = 422
    message = N_("Choose at most {limit} orders at a time.")


def _locked(session: Session, order_id: int) -> Order:
    return session.scalars(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    ).one()


# --- invalid orders ------------------------------------------------------------------------------


def may_mark_invalid(order: Order) -> bool:
    """Whether the page should offer "mark invalid" (see :func:`mark_invalid`)."""
    return (
        not order.is_invalid
        and order.deleted_at is None
        and (order.status is OrderStatus.PENDING_PAYMENT or order.status in FINAL)
    )


def mark_invalid(session: Session, order: Order, *, actor: OrderActor, reason: str) -> Order:
    """Flag a spam, test or fraudulent order as invalid, with the reason (required).

    Only an order nothing more will happen to can be flagged: an unpaid order is cancelled first (its stock and
    any held tenders go back, as with every cancellation of an unpaid order); a paid one still on its way must be
    cancelled or rejected in review by staff first, so that money and goods are settled before it is hidden.
    """
    reason = reason.strip()[:MAX_REASON]
    if not reason:
        raise ReasonRequired()
    order = _locked(session, order.id)
    if order.is_invalid:
        raise AlreadyInvalid(number=order.number)
    if order.status is OrderStatus.PENDING_PAYMENT:
        order = services.cancel_order(session, order, actor=actor, reason=reason)
    elif order.status not in FINAL:
        raise StillInProgress(number=order.number, current=str(STATUS_LABELS[order.status]))
    order.invalid_reason = reason
    order.invalid_at = utcnow()
    services.note(session, order, "marked_invalid", actor=actor, reason=reason)
    audit.record(session, "order.mark_invalid", order, reason=reason)
    session.flush()
    return order


@dataclass(frozen=True)
class Removal:
    removed: list[str]  # order numbers
    skipped: int  # chosen but not removed: not marked invalid, or removed already

    @property
    def count(self) -> int:
        return len(self.removed)


def remove_invalid(session: Session, order_ids: list[int], *, actor: OrderActor) -> Removal:
    """Remove (soft-delete) the chosen orders that are marked invalid; the others are left as they are and
    counted as skipped. Removed orders leave every list and page but the admin's "removed" tab."""
    wanted = sorted(set(order_ids))
    if not wanted:
        raise NothingChosen()
    if len(wanted) > MAX_BULK:
        raise TooManyChosen(limit=MAX_BULK)
    orders = session.scalars(
        select(Order)
        .where(Order.id.in_(wanted), Order.invalid_at.is_not(None), Order.deleted_at.is_(None))
        .order_by(Order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    now = utcnow()
    for order in orders:
        order.deleted_at = now
        services.note(session, order, "removed", actor=actor, reason=order.invalid_reason)
        audit.record(session, "order.remove", order, reason=order.invalid_reason)
    session.flush()
    return Removal([order.number for order in orders], len(wanted) - len(orders))


def restore_order(session: Session, order: Order, *, user: User) -> Order:
    """Bring a removed order back (to the invalid tab; it stays marked invalid). Only for staff holding
    ``orders.restore`` — the super admin by default — whatever page asked."""
    if not user.can("orders.restore"):
        raise PermissionDenied()
    order = _locked(session, order.id)
    if order.deleted_at is None:
        raise NotRemoved(number=order.number)
    order.deleted_at = None
    services.note(session, order, "restored", actor=OrderActor.of(user), reason="")
    audit.record(session, "order.restore", order)
    session.flush()
    return order


def mark_seen(session: Session, order_id: int) -> bool:
    """A staff member opened the order: it is no longer "new". True the first time.

    One conditional UPDATE, leaving ``updated_at`` alone: looking at an order does not change it.
    """
    changed = session.execute(
        update(Order)
        .where(Order.id == order_id, Order.admin_seen_at.is_(None))
        .values(admin_seen_at=utcnow(), updated_at=Order.updated_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed == 1


def decide_review(session: Session, order: Order, *, approve: bool, actor: OrderActor, reason: str) -> Order:
    """A reviewer's decision on an order held for review: approved, it goes to the warehouse (and is pushed to
    the shop); rejected (a reason is required), it is cancelled and refunded. Refused unless under review."""
    if not approve and not reason.strip():
        raise ReasonRequired()
    # The services lock the order and refuse anything not under review: an approval and a rejection at the
    # same moment are serialised, and the second one is refused naming the state the first one left.
    if approve:
        return services.approve_review(
            session, order, actor=actor, reason=reason.strip() or "review approved"
        )
    return services.reject_review(session, order, actor=actor, reason=reason.strip())


# --- review rules --------------------------------------------------------------------------------

MAX_WINDOW_HOURS = 24 * 365
MAX_AMOUNT = 100_000_000_00  # fen
MAX_COUNT = 100_000


@dataclass(frozen=True)
class RuleInput:
    kind: ReviewRuleKind
    threshold: int  # fen for the amount rules, a number of orders for ORDERS_PER_PHONE
    window_hours: int = 24


def _check_rule(data: RuleInput) -> None:
    problems: dict[str, list[str]] = {}
    if data.kind is ReviewRuleKind.ORDERS_PER_PHONE:
        if not 1 <= data.threshold <= MAX_COUNT:
            problems["threshold"] = [N_("Enter a number of orders from 1 to 100000.")]
    elif not 0 <= data.threshold <= MAX_AMOUNT:
        problems["threshold"] = [N_("Enter an amount from 0 to 100000000 yuan.")]
    if data.kind is not ReviewRuleKind.AMOUNT_OVER and not 1 <= data.window_hours <= MAX_WINDOW_HOURS:
        problems["window_hours"] = [N_("Enter a window from 1 to 8760 hours.")]
    if problems:
        raise ValidationFailed(problems)


def save_review_rule(
    session: Session, data: RuleInput, *, rule: OrderReviewRule | None = None
) -> OrderReviewRule:
    """Add a rule, or change an existing one's threshold and window (its kind stays what it is)."""
    if rule is not None:
        data = RuleInput(rule.kind, data.threshold, data.window_hours)
    _check_rule(data)
    if rule is None:
        rule = OrderReviewRule(kind=data.kind, is_active=True)
        session.add(rule)
    rule.threshold = data.threshold
    rule.window_hours = (
        data.window_hours if data.kind is not ReviewRuleKind.AMOUNT_OVER else rule.window_hours or 24
    )
    session.flush()
    return rule


def set_review_rule_active(session: Session, rule: OrderReviewRule, *, active: bool) -> OrderReviewRule:
    """Deactivate a rule (it stops sending orders to review; the orders it already sent stay there) or turn it
    back on."""
    rule.is_active = active
    session.flush()
    return rule
