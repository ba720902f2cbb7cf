"""The onboarding review queue: merchant applications, their licence, and the reviewer's decisions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin_portal import bp
from marketplace.catalog.queries import category_tree
from marketplace.core import storage
from marketplace.core.errors import DomainError
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.identity import queries as identity_queries
from marketplace.merchants import queries, services
from marketplace.merchants.models import ApplicationStatus, MerchantApplication

DOCUMENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Note for the record (optional)"), validators=[Optional(), Length(max=500)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (the applicant reads it)"),
        validators=[DataRequired(_l("Give the applicant a reason.")), Length(max=500)],
    )


def _forms() -> dict[str, FlaskForm]:
    return {
        "approve": ApproveForm(prefix="approve"),
        "reject": ReasonForm(prefix="reject"),
        "needs_info": ReasonForm(prefix="info"),
    }


@bp.get("/applications")
@requires("merchants.view")
def applications_list():
    status = request.args.get("status", ApplicationStatus.SUBMITTED.value)
    page = queries.list_applications(
        db.session,
        status="" if status == "all" else status,
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "admin/applications/_rows.html"
        if htmx and request.args.get("before")
        else "admin/applications/list.html"
    )
    return render_template(template, page=page, status=status)


def _detail(application: MerchantApplication, forms: dict[str, FlaskForm], status: int = 200):
    names = {c.id: c.name for c in category_tree(db.session)}
    reviewer = (
        identity_queries.get_user(db.session, application.reviewer_id) if application.reviewer_id else None
    )
    return render_template(
        "admin/applications/detail.html",
        application=application,
        forms=forms,
        reviewer=reviewer,
        category_names=[names.get(i, f"#{i}") for i in application.category_ids],
    ), status


@bp.get("/applications/<int:application_id>")
@requires("merchants.view")
def application_detail(application_id: int):
    return _detail(queries.get_application(db.session, application_id), _forms())


@bp.get("/applications/<int:application_id>/licence")
@requires("merchants.view")
def application_licence(application_id: int):
    """The private licence document, for reviewers only, always as a download."""
    application = queries.get_application(db.session, application_id)
    path = storage.document_path(application.licence_document_key)
    if path is None:
        abort(404)
    ext = path.suffix.lstrip(".")
    response = send_file(
        path,
        mimetype=DOCUMENT_TYPES.get(ext, "application/octet-stream"),
        as_attachment=True,
        download_name=f"licence-{application.id}.{ext}",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _decided(application: MerchantApplication, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.application_detail", application_id=application.id))


def _refused(application: MerchantApplication, exc: DomainError):
    db.session.rollback()
    flash(exc.text, "error")
    return redirect(url_for("admin.application_detail", application_id=application.id))


@bp.post("/applications/<int:application_id>/approve")
@requires("merchants.manage")
def application_approve(application_id: int):
    application = queries.get_application(db.session, application_id)
    forms = _forms()
    if not forms["approve"].validate_on_submit():
        return _detail(application, forms, 422)
    try:
        merchant = services.approve_application(
            db.session,
            application,
            reviewer_id=current_user.id,
            note=forms["approve"].note.data or "",
            login_url=url_for("merchant.login", _external=True),
            reset_url=url_for("merchant.reset_password", _external=True) + "?token=",
        )
    except DomainError as exc:
        return _refused(application, exc)
    return _decided(application, _("%(name)s is approved and open.", name=merchant.name))


def _reasoned(application_id: int, form_name: str, decide, message: str):
    application = queries.get_application(db.session, application_id)
    forms = _forms()
    form = forms[form_name]
    if not form.validate_on_submit():
        return _detail(application, forms, 422)
    try:
        decide(
            db.session,
            application,
            reviewer_id=current_user.id,
            reason=form.reason.data,
            status_url=url_for("storefront.apply_status", reference=application.reference, _external=True),
        )
    except DomainError as exc:
        return _refused(application, exc)
    return _decided(application, message)


@bp.post("/applications/<int:application_id>/reject")
@requires("merchants.manage")
def application_reject(application_id: int):
    return _reasoned(application_id, "reject", services.reject_application, _("The application is rejected."))


@bp.post("/applications/<int:application_id>/needs-info")
@requires("merchants.manage")
def application_needs_info(application_id: int):
    return _reasoned(
        application_id,
        "needs_info",
        services.request_more_information,
        _("The application is sent back to the applicant for more information."),
    )
