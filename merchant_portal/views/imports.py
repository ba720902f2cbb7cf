"""Bulk import and export of the shop's products (CSV and XLSX), with the template to fill in.

The upload only stores the file and queues a job; the import page polls a status fragment with htmx until the
job is done, then shows the summary or every bad row. In the embedded mode (no Redis) the job has already run
when the page first loads.
"""

from __future__ import annotations

from datetime import date

from flask import Response, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from marketplace.catalog import importer
from marketplace.catalog.exporter import export_rows
from marketplace.catalog.import_format import (
    COLUMNS,
    EXAMPLE_ROWS,
    MAX_IMPORT_BYTES,
    csv_lines,
    escape_cell,
    headers,
    xlsx_bytes,
)
from marketplace.catalog.import_models import ImportStatus, ProductImport
from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.web.portal import client_ip
from merchant_portal import bp

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_ON_PAGE = 200

STATUS_LABELS = {
    ImportStatus.QUEUED: _l("Queued"),
    ImportStatus.VALIDATING: _l("Checking rows"),
    ImportStatus.IMPORTING: _l("Importing"),
    ImportStatus.DONE: _l("Done"),
    ImportStatus.FAILED: _l("Failed"),
}
STATUS_BADGES = {ImportStatus.DONE: "badge-ok", ImportStatus.FAILED: "badge-bad"}


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[FileRequired(_l("Choose a file."))],
        render_kw={"accept": f".csv,.xlsx,text/csv,{XLSX_MIMETYPE}"},
    )
    good_rows_only = BooleanField(_l("Import the good rows only (products with a bad row are skipped)"))


def _language() -> str:
    locale = get_locale()
    return "zh" if locale is None or str(locale).startswith("zh") else "en"


def column_label(key: str) -> str:
    for column in COLUMNS:
        if column.key == key:
            return column.zh if _language() == "zh" else column.key
    return key


def _context(product_import: ProductImport) -> dict:
    return {
        "imp": product_import,
        "errors": product_import.errors[:ERRORS_ON_PAGE],
        "describe": importer.describe_error,
        "column_label": column_label,
        "status_label": STATUS_LABELS,
        "status_badge": STATUS_BADGES,
    }


@bp.route("/products/import", methods=["GET", "POST"])
@requires("catalog.import")
def imports_page():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            product_import = importer.start_import(
                db.session,
                tenant_id=g.tenant_id,
                stream=upload.stream,
                filename=upload.filename or "",
                good_rows_only=form.good_rows_only.data,
                user_id=current_user.id,
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            form.file.errors.append(exc.text)
        else:
            db.session.commit()
            return redirect(url_for("merchant.imports_detail", import_id=product_import.id))
    return render_template(
        "merchant/imports/page.html",
        form=form,
        imports=importer.recent_imports(db.session),
        columns=COLUMNS,
        language=_language(),
        max_mb=MAX_IMPORT_BYTES // (1024 * 1024),
        status_label=STATUS_LABELS,
        status_badge=STATUS_BADGES,
    ), 422 if request.method == "POST" else 200


@bp.get("/products/import/<int:import_id>")
@requires("catalog.import")
def imports_detail(import_id: int):
    product_import = importer.get_import(db.session, import_id)  # another shop's import is a 404
    return render_template("merchant/imports/detail.html", **_context(product_import))


@bp.get("/products/import/<int:import_id>/status")
@requires("catalog.import")
def imports_status(import_id: int):
    """The htmx fragment the detail page polls every second until the import has finished."""
    product_import = importer.get_import(db.session, import_id)
    return render_template("merchant/imports/_status.html", **_context(product_import))


@bp.get("/products/import/<int:import_id>/errors.csv")
@requires("catalog.import")
def imports_errors(import_id: int):
    product_import = importer.get_import(db.session, import_id)
    rows = [[_("Row"), _("Column"), _("Problem")]]
    rows += [
        [str(e["row"] or ""), column_label(e["column"]), escape_cell(importer.describe_error(e))]
        for e in product_import.errors
    ]
    return _download(
        "".join(csv_lines(rows)), f"import-{product_import.id}-errors.csv", "text/csv; charset=utf-8"
    )


@bp.get("/products/import/template.<any(csv, xlsx):fmt>")
@requires("catalog.import")
def imports_template(fmt: str):
    language = _language()
    if fmt == "csv":
        return _download(
            "".join(csv_lines([headers(language)])), "products-template.csv", "text/csv; charset=utf-8"
        )
    help_rows = [[_("Column"), _("Also accepted"), _("Required"), _("What to enter")]]
    for column in COLUMNS:
        help_rows.append(
            [
                column.zh if language == "zh" else column.key,
                column.key if language == "zh" else column.zh,
                _("yes") if column.required else "",
                _(column.help, n=column.key.split("_")[1])
                if column.key.startswith("spec_")
                else _(column.help),
            ]
        )
    help_rows += [[], [_("Example")], headers(language), *[list(row) for row in EXAMPLE_ROWS]]
    return _download(
        xlsx_bytes([headers(language)], help_rows=help_rows), "products-template.xlsx", XLSX_MIMETYPE
    )


@bp.get("/products/export.<any(csv, xlsx):fmt>")
@requires("catalog.import")
def imports_export(fmt: str):
    rows = export_rows(db.session, tenant_id=g.tenant_id, language=_language())
    name = f"products-{date.today().isoformat()}.{fmt}"
    if fmt == "xlsx":
        return _download(xlsx_bytes(rows), name, XLSX_MIMETYPE)
    return _download(stream_with_context(csv_lines(rows)), name, "text/csv; charset=utf-8")


def _download(body: str | bytes, filename: str, content_type: str) -> Response:
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
