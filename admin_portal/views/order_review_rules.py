"""The automatic review rules of the admin OMS: which paid orders wait for a person before the warehouse."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin_portal import bp
from marketplace.catalog.import_validation import parse_whole, parse_yuan
from marketplace.core.errors import DomainError, ValidationFailed
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.orders import oms, queries
from marketplace.orders.models import OrderReviewRule, ReviewRuleKind

KIND_LABELS = {
    ReviewRuleKind.AMOUNT_OVER: _l("Order amount above"),
    ReviewRuleKind.ORDERS_PER_PHONE: _l("More orders to one phone than"),
    ReviewRuleKind.NEW_ACCOUNT_VALUE: _l("New account, order amount above"),
}
KIND_HELP = {
    ReviewRuleKind.AMOUNT_OVER: _l("Threshold in yuan; the window is not used."),
    ReviewRuleKind.ORDERS_PER_PHONE: _l("Threshold is a number of orders within the window."),
    ReviewRuleKind.NEW_ACCOUNT_VALUE: _l("Threshold in yuan; an account younger than the window is new."),
}


def _is_amount(kind: ReviewRuleKind) -> bool:
    return kind is not ReviewRuleKind.ORDERS_PER_PHONE


def _input(kind: ReviewRuleKind) -> oms.RuleInput:
    """The form's threshold (yuan or a count) and window; a bad number is a ValidationFailed like the service's."""
    text = request.form.get("threshold", "").strip()
    try:
        threshold = parse_yuan(text) if _is_amount(kind) else parse_whole(text)
    except ValueError:
        raise ValidationFailed({"threshold": [_("Enter a number.")]}) from None
    try:
        window = parse_whole(request.form.get("window_hours", "24").strip() or "24")
    except ValueError:
        raise ValidationFailed({"window_hours": [_("Enter a number of hours.")]}) from None
    return oms.RuleInput(kind, threshold, window)


def _save(action, done: str):
    try:
        action()
    except DomainError as exc:  # a ValidationFailed's text names each field's problem
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("admin.order_review_rules"))


@bp.get("/orders/review-rules")
@requires("orders.review")
def order_review_rules():
    return render_template(
        "admin/orders/review_rules.html",
        rules=queries.review_rules(db.session),
        kinds=list(ReviewRuleKind),
        kind_labels=KIND_LABELS,
        kind_help=KIND_HELP,
        is_amount=_is_amount,
    )


@bp.post("/orders/review-rules")
@requires("orders.manage")
def order_review_rule_add():
    kind = request.form.get("kind", "")
    if kind not in ReviewRuleKind._value2member_map_:
        flash(_("Choose the kind of rule."), "error")
        return redirect(url_for("admin.order_review_rules"))
    return _save(
        lambda: oms.save_review_rule(db.session, _input(ReviewRuleKind(kind))),
        _("Rule added: it applies to orders paid from now on."),
    )


def _rule(rule_id: int) -> OrderReviewRule:
    return queries.get_review_rule(db.session, rule_id)


@bp.post("/orders/review-rules/<int:rule_id>")
@requires("orders.manage")
def order_review_rule_edit(rule_id: int):
    rule = _rule(rule_id)
    return _save(lambda: oms.save_review_rule(db.session, _input(rule.kind), rule=rule), _("Rule saved."))


@bp.post("/orders/review-rules/<int:rule_id>/active")
@requires("orders.manage")
def order_review_rule_active(rule_id: int):
    rule = _rule(rule_id)
    active = request.form.get("active") == "1"
    return _save(
        lambda: oms.set_review_rule_active(db.session, rule, active=active),
        _("Rule switched on.") if active else _("Rule switched off; orders it already holds stay in review."),
    )
