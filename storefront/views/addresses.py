"""The shopper's address book: list, add, edit, delete, choose the default."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.core.errors import ValidationFailed
from marketplace.core.permissions import LOGIN_ONLY, requires
from marketplace.crm import queries, services
from marketplace.extensions import db
from marketplace.merchants.regions import province_choices, province_label
from storefront import bp

FIELDS = ("recipient", "phone", "province", "city", "district", "detail", "postal_code")


def _form_data() -> services.AddressInput:
    return services.AddressInput(
        **{name: request.form.get(name, "") for name in FIELDS},
        is_default=bool(request.form.get("is_default")),
    )


def _page(values: dict, errors: dict, address=None, status: int = 200):
    locale = str(get_locale() or "zh_Hans")
    return render_template(
        "storefront/addresses/page.html",
        addresses=queries.addresses_of(db.session, current_user.id),
        provinces=province_choices(locale),
        province_label=lambda code: province_label(code, locale),
        values=values,
        errors=errors,
        editing=address,
    ), status


def _save(address=None):
    try:
        services.save_address(db.session, user_id=current_user.id, data=_form_data(), address=address)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(request.form.to_dict(), exc.fields, address, 422)
    db.session.commit()
    flash(_("Address saved."), "success")
    return redirect(url_for("storefront.addresses"))


@bp.route("/account/addresses", methods=["GET", "POST"])
@requires(LOGIN_ONLY)
def addresses():
    if request.method == "POST":
        return _save()
    return _page({}, {})


@bp.route("/account/addresses/<int:address_id>", methods=["GET", "POST"])
@requires(LOGIN_ONLY)
def address_edit(address_id: int):
    address = queries.get_address(db.session, current_user.id, address_id)  # someone else's: 404
    if request.method == "POST":
        return _save(address)
    values = {name: getattr(address, name) for name in FIELDS} | {"is_default": address.is_default}
    return _page(values, {}, address)


@bp.post("/account/addresses/<int:address_id>/default")
@requires(LOGIN_ONLY)
def address_default(address_id: int):
    services.make_default(db.session, queries.get_address(db.session, current_user.id, address_id))
    db.session.commit()
    flash(_("Default address changed."), "success")
    return redirect(url_for("storefront.addresses"))


@bp.post("/account/addresses/<int:address_id>/delete")
@requires(LOGIN_ONLY)
def address_delete(address_id: int):
    services.delete_address(db.session, queries.get_address(db.session, current_user.id, address_id))
    db.session.commit()
    flash(_("Address deleted."), "success")
    return redirect(url_for("storefront.addresses"))
