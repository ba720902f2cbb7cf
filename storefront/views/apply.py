"""Merchant onboarding on the storefront: the public application form and the applicant's status page.

The status page is opened by the application's unguessable reference (a bearer token, like a reset link):
whoever holds the link sees the application, and while the reviewers ask for more information, may change
and resubmit it.
"""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from marketplace.catalog.queries import category_tree
from marketplace.core import storage
from marketplace.core.errors import DomainError
from marketplace.core.permissions import public
from marketplace.extensions import db
from marketplace.merchants import queries, services
from marketplace.merchants.errors import ShopNameTaken
from marketplace.merchants.models import ApplicationStatus, MerchantApplication
from marketplace.web.forms import MultiCheckboxField
from storefront import bp

# The 18-character unified social credit code (GB 32100-2015), or an old 15-digit registration number.
LICENCE_NUMBER = re.compile(r"^(?:[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}|\d{15})$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")
DOCUMENT_TYPES = ["pdf", "jpg", "jpeg", "png"]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class ApplicationForm(FlaskForm):
    company_name = StringField(
        _l("Company name (as on the licence)"), validators=[DataRequired(), Length(max=200)], filters=[_strip]
    )
    licence_number = StringField(
        _l("Business licence number"),
        validators=[
            DataRequired(),
            Regexp(
                LICENCE_NUMBER,
                message=_l("Enter the 18-character unified social credit code of the business licence."),
            ),
        ],
        filters=[_upper],
    )
    contact_name = StringField(
        _l("Contact name"), validators=[DataRequired(), Length(max=100)], filters=[_strip]
    )
    contact_phone = TelField(
        _l("Phone"),
        validators=[DataRequired(), Regexp(PHONE, message=_l("Enter a mobile or landline number."))],
        filters=[_strip],
    )
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=255)], filters=[_strip])
    shop_name = StringField(
        _l("Shop name"), validators=[DataRequired(), Length(min=2, max=100)], filters=[_strip]
    )
    categories = MultiCheckboxField(_l("Categories you want to sell in"), coerce=int)
    category_note = TextAreaField(
        _l("What you sell (brands, products)"), validators=[Optional(), Length(max=500)], filters=[_strip]
    )
    licence = FileField(
        _l("Business licence (PDF, JPEG or PNG, up to 10 MB)"),
        validators=[
            FileRequired(_l("Upload a scan or photo of the business licence.")),
            FileAllowed(DOCUMENT_TYPES, _l("Only PDF, JPEG or PNG files are accepted.")),
        ],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.categories.choices and not self.categories.data:
            self.categories.errors = [*self.categories.errors, _("Choose at least one category.")]
            valid = False
        elif not self.categories.choices and not self.category_note.data:
            self.category_note.errors = [*self.category_note.errors, _("Tell us what you want to sell.")]
            valid = False
        return valid


class ResubmitForm(ApplicationForm):
    licence = FileField(
        _l("A new business licence document (only if it changed)"),
        validators=[FileAllowed(DOCUMENT_TYPES, _l("Only PDF, JPEG or PNG files are accepted."))],
    )


def _category_label(category) -> str:
    english = str(get_locale() or "") == "en"
    return category.name_en if english and category.name_en else category.name


def _category_choices() -> list[tuple[int, str]]:
    """Top-level active categories of the platform (none yet on a new platform: then a note is asked for)."""
    return [
        (c.id, _category_label(c)) for c in category_tree(db.session, active_only=True) if c.parent_id is None
    ]


def _input(form: ApplicationForm) -> services.ApplicationInput:
    return services.ApplicationInput(
        company_name=form.company_name.data,
        licence_number=form.licence_number.data,
        contact_name=form.contact_name.data,
        contact_phone=form.contact_phone.data,
        email=form.email.data,
        shop_name=form.shop_name.data,
        category_ids=list(form.categories.data or []),
        category_note=form.category_note.data or "",
    )


def _check_shop_name(form: ApplicationForm, *, except_application_id: int | None = None) -> bool:
    if queries.shop_name_taken(db.session, form.shop_name.data, except_application_id=except_application_id):
        form.shop_name.errors = [*form.shop_name.errors, ShopNameTaken().text]
        return False
    return True


def _store_licence(form: ApplicationForm) -> str | None:
    """The stored document's key, or None with the refusal on the field (nothing else is saved)."""
    upload = form.licence.data
    try:
        return storage.save_document(upload.stream, upload.filename or "")
    except DomainError as exc:
        form.licence.errors = [*form.licence.errors, exc.text]
        return None


@bp.route("/apply", methods=["GET", "POST"])
@public
def apply():
    form = ApplicationForm()
    form.categories.choices = _category_choices()
    if form.validate_on_submit() and _check_shop_name(form):
        key = _store_licence(form)
        if key is not None:
            try:
                application = services.submit_application(
                    db.session,
                    data=_input(form),
                    licence_document_key=key,
                    status_url_prefix=url_for("storefront.apply", _external=True) + "/",
                )
            except DomainError as exc:
                db.session.rollback()
                form.shop_name.errors = [*form.shop_name.errors, exc.text]
            else:
                db.session.commit()
                flash(_("Thank you! Your application is in. Keep the link of this page."), "success")
                return redirect(url_for("storefront.apply_status", reference=application.reference))
    status = 422 if request.method == "POST" else 200
    return render_template("storefront/apply/form.html", form=form), status


def _status_page(application: MerchantApplication, form: ResubmitForm | None, status: int = 200):
    names = {c.id: _category_label(c) for c in category_tree(db.session)}
    return render_template(
        "storefront/apply/status.html",
        application=application,
        form=form,
        category_names=[names.get(i, f"#{i}") for i in application.category_ids],
    ), status


@bp.get("/apply/<reference>")
@public
def apply_status(reference: str):
    application = queries.application_by_reference(db.session, reference)
    form = None
    if application.status is ApplicationStatus.NEEDS_INFO:
        form = ResubmitForm(obj=application)
        form.categories.choices = _category_choices()
        form.categories.data = list(application.category_ids)
    return _status_page(application, form)


@bp.post("/apply/<reference>")
@public
def apply_resubmit(reference: str):
    application = queries.application_by_reference(db.session, reference)
    if application.status is not ApplicationStatus.NEEDS_INFO:
        flash(_("This application cannot be changed now."), "error")
        return redirect(url_for("storefront.apply_status", reference=reference))
    form = ResubmitForm()
    form.categories.choices = _category_choices()
    if form.validate_on_submit() and _check_shop_name(form, except_application_id=application.id):
        key = _store_licence(form) if form.licence.data else ""
        if key is not None:
            try:
                services.resubmit_application(
                    db.session, application, data=_input(form), licence_document_key=key or None
                )
            except DomainError as exc:
                db.session.rollback()
                flash(exc.text, "error")
            else:
                db.session.commit()
                flash(
                    _("Your changes are sent. The reviewers will look at the application again."), "success"
                )
                return redirect(url_for("storefront.apply_status", reference=reference))
    return _status_page(application, form, 422)
