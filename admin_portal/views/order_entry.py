"""Orders entered by platform staff: phone orders for a shopper (who pays later in the order centre), gift
orders (free), and group-buy files (paid offline). All are placed by ``checkout.services.place_orders``."""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from admin_portal import bp
from marketplace.checkout.services import place_orders
from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.crm.queries import addresses_of
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.merchants.queries import merchant_names
from marketplace.merchants.regions import province_choices, province_label
from marketplace.orders import entry, group_buy
from marketplace.orders.drafts import DeliveryAddress, OrderActor
from marketplace.orders.models import OrderChannel

LINE_ROWS = 6
UNCHECKED_ADDRESS = DeliveryAddress(recipient="", phone="", province="", city="", detail="")


def _problems(exc: entry.EntryRefused) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for key, message, facts in exc.problems:
        errors.setdefault(key, []).append(_(message).format(**facts))
    return errors


def _wanted() -> list[entry.Wanted]:
    shop = request.form.get("shop", "").strip()[:100]
    lines = []
    for code, quantity in zip(
        request.form.getlist("sku_code"), request.form.getlist("quantity"), strict=False
    ):
        if code.strip():
            lines.append(
                entry.Wanted(code.strip()[:64], int(quantity) if quantity.strip().isdigit() else 0, shop=shop)
            )
    return lines


def _shopper() -> User | None:
    shopper_id = request.values.get("shopper_id", type=int)
    if shopper_id:
        user = db.session.get(User, shopper_id)
        return user if user is not None and user.kind is UserKind.SHOPPER else None
    return None


def _delivery(shopper: User):
    """The chosen address book entry, or the typed address; (address, field problems)."""
    choice = request.form.get("address_id", "new")
    if choice != "new" and choice.isdigit():
        found = entry.shopper_address(db.session, shopper, int(choice))
        if found is not None:
            return entry.delivery_of(found), {}
    form = request.form
    address, problems = entry.check_delivery(
        recipient=form.get("recipient", ""),
        phone=form.get("phone", ""),
        province=form.get("province", ""),
        city=form.get("city", ""),
        district=form.get("district", ""),
        detail=form.get("detail", ""),
        postal_code=form.get("postal_code", ""),
    )
    return address, {key: [_(message).format(**facts)] for key, (message, facts) in problems.items()}


def _entry_page(mode: str, *, status: int = 200, **context):
    shopper = context.pop("shopper", None)
    query = request.values.get("shopper", "").strip()
    error = context.pop("lookup_error", None)
    if shopper is None and query:
        try:
            shopper = entry.find_shopper(db.session, query)
        except DomainError as exc:
            error = exc.text
    locale = str(get_locale() or "zh_Hans")
    return (
        render_template(
            "admin/orders/entry.html",
            mode=mode,
            gift=mode == "gift",
            page_endpoint=f"admin.order_entry_{mode}",
            submit_endpoint=f"admin.order_entry_{mode}_submit",
            shopper=shopper,
            addresses=addresses_of(db.session, shopper.id) if shopper else [],
            lookup_error=error,
            provinces=province_choices(locale),
            province_name=lambda code: province_label(code, locale),
            line_rows=LINE_ROWS,
            entry_key=request.form.get("entry_key") or secrets.token_hex(16),
            errors=context.pop("errors", {}),
            **context,
        ),
        status,
    )


def _submit(mode: str):
    gift = mode == "gift"
    shopper = _shopper()
    if shopper is None:
        return _entry_page(mode, status=422, lookup_error=_("Find the shopper first."))
    address, errors = _delivery(shopper)
    drafts = []
    try:  # the lines are checked even when the address is not, so every problem shows at once
        drafts = entry.build_drafts(
            db.session,
            _wanted(),
            address=address or UNCHECKED_ADDRESS,
            gift=gift,
            note=request.form.get("note", ""),
            email=shopper.email,
        )
    except entry.EntryRefused as exc:
        errors.update(_problems(exc))
    if errors:
        return _entry_page(mode, status=422, shopper=shopper, errors=errors)
    if request.form.get("action") != "place":
        shops = merchant_names(db.session, {draft.tenant_id for draft in drafts})
        return _entry_page(mode, shopper=shopper, preview=drafts, shops=shops)
    try:
        placed = place_orders(
            db.session,
            drafts,
            shopper_id=shopper.id,
            channel=OrderChannel.GIFT if gift else OrderChannel.PHONE,
            actor=OrderActor.of(current_user),
            settle="free" if gift else "pending",
            idempotency_key=request.form.get("entry_key") or None,
        )
    except DomainError as exc:
        db.session.rollback()
        return _entry_page(mode, status=422, shopper=shopper, errors={"lines": [exc.text]})
    db.session.commit()
    numbers = ", ".join(order.number for order in placed)
    if gift:
        flash(_("Gift order placed: %(numbers)s.", numbers=numbers), "success")
    else:
        flash(
            _("Order placed: %(numbers)s. The shopper pays it in the order centre.", numbers=numbers),
            "success",
        )
    return redirect(url_for("admin.order_page", order_id=placed[0].id))


@bp.get("/orders/new-phone")
@requires("orders.create")
def order_entry_phone():
    return _entry_page("phone")


@bp.post("/orders/new-phone")
@requires("orders.create")
def order_entry_phone_submit():
    return _submit("phone")


@bp.get("/orders/new-gift")
@requires("orders.create")
def order_entry_gift():
    return _entry_page("gift")


@bp.post("/orders/new-gift")
@requires("orders.create")
def order_entry_gift_submit():
    return _submit("gift")


# --- group-buy import ------------------------------------------------------------------------------


@bp.get("/orders/import")
@requires("orders.create")
def order_entry_import():
    return render_template("admin/orders/import.html", **_import_context())


def _import_context() -> dict:
    return {"columns": group_buy.COLUMNS, "required": group_buy.REQUIRED, "example": group_buy.EXAMPLE}


@bp.post("/orders/import")
@requires("orders.create")
def order_entry_import_submit():
    upload = request.files.get("file")
    page = "admin/orders/import.html"
    common = _import_context()
    if upload is None or not upload.filename:
        return render_template(page, errors=[_("Choose a CSV file.")], **common), 422
    data = upload.stream.read(group_buy.MAX_BYTES + 1)
    try:
        plans = group_buy.plan_import(db.session, data)
        placed = [
            place_orders(
                db.session,
                plan.drafts,
                shopper_id=None,
                channel=OrderChannel.GROUP_BUY,
                actor=OrderActor.of(current_user),
                settle="paid_offline",
                idempotency_key=plan.idempotency_key,
                external_reference=plan.reference,
            )
            for plan in plans
        ]
    except group_buy.GroupBuyRefused as exc:
        db.session.rollback()
        return render_template(page, errors=group_buy.row_messages(exc), **common), 422
    except DomainError as exc:
        db.session.rollback()
        return render_template(page, errors=[exc.text], **common), 422
    db.session.commit()
    orders = [order for group in placed for order in group]
    shops = merchant_names(db.session, {order.tenant_id for order in orders})
    return render_template(page, imported=list(zip(plans, placed, strict=True)), shops=shops, **common)
