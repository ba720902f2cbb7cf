"""The shopper's wallet: balance, points and what they are worth, gift cards, and a gift card balance check."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import DomainError
from marketplace.core.permissions import LOGIN_ONLY, requires
from marketplace.extensions import db
from marketplace.payments import gift_cards, queries
from storefront import bp


def _page(checked=None, error: str | None = None, status: int = 200):
    return render_template(
        "storefront/wallet/page.html",
        purse=queries.wallet(db.session, current_user.id),
        checked=checked,
        error=error,
        code=request.form.get("code", "") if request.method == "POST" else "",
    ), status


@bp.get("/account/wallet")
@requires(LOGIN_ONLY)
def wallet():
    return _page()


@bp.post("/account/wallet/gift-card")
@requires(LOGIN_ONLY)
def wallet_check_gift_card():
    """Check a card's balance with its code and PIN (wrong PINs count toward the lock, as when paying);
    "add" also puts an unowned card into this wallet."""
    code, pin = request.form.get("code", "").strip()[:32], request.form.get("pin", "").strip()[:12]
    if not code or not pin:
        return _page(error=_("Enter the gift card's code and PIN."), status=422)
    try:
        card, balance = gift_cards.check_gift_card(
            db.session,
            code=code,
            pin=pin,
            owner_id=current_user.id if request.form.get("add") else None,
        )
    except DomainError as exc:
        db.session.commit()  # keep the wrong-PIN count (also written on its own connection)
        return _page(error=exc.text, status=exc.status)
    db.session.commit()
    return _page(checked={"card": card, "balance": balance, "mine": card.owner_id == current_user.id})
