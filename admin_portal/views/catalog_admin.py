"""The platform's catalogue taxonomy: the category tree with each category's spec attributes, and brands.

Viewing needs ``catalog.view``; every change needs ``catalog.manage``. Views parse the form, call the catalogue
services, commit once and render; on bad input nothing is saved and each field shows its message.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import FieldList
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from admin_portal import bp
from marketplace.catalog import queries, services
from marketplace.catalog.models import Brand, Category
from marketplace.core.errors import N_, DomainError, NotFound, ValidationFailed
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx

# The catalogue services' field messages, marked here so they are extracted and translated (the services
# themselves do not mark them yet).
SERVICE_MESSAGES = (
    N_("Enter a name."),
    N_("Commission is between 0 and 100 %."),
    N_("Unknown parent category."),
    N_("A category cannot move under itself."),
    N_("This brand exists already."),
)

BLANK_ATTRIBUTE_ROWS = 3
MAX_VALUES = 100
_VALUE_SEPARATORS = re.compile(r"[,\uff0c\u3001;\uff1b\r\n]+")  # , ， 、 ; ； and line breaks


def split_values(text: str) -> list[str]:
    """Attribute values typed comma-separated or one per line, trimmed, without blanks and repeats."""
    return list(dict.fromkeys(v.strip() for v in _VALUE_SEPARATORS.split(text or "") if v.strip()))


# --- forms ------------------------------------------------------------------------------------------


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])
    parent_id = SelectField(_l("Parent category"), coerce=int, default=0)
    position = IntegerField(
        _l("Position"), default=0, validators=[Optional(), NumberRange(min=0, max=100000)]
    )
    commission_rate = StringField(_l("Commission rate (%)"), default="5.00", validators=[DataRequired()])
    is_active = BooleanField(_l("Active"), default=True)

    def validate_commission_rate(self, field) -> None:
        try:
            value = Decimal((field.data or "").strip().rstrip("%").strip())
        except InvalidOperation:
            raise ValidationError(_l("Enter a percentage like 5 or 4.5.")) from None
        if not value.is_finite() or not 0 <= value <= 100:
            raise ValidationError(_l("Commission is between 0 and 100 %."))
        if value * 100 != (value * 100).to_integral_value():
            raise ValidationError(_l("At most two decimals."))
        self.commission_rate_bp = int(value * 100)


class AttributeRowForm(Form):
    name = StringField(_l("Attribute"), validators=[Optional(), Length(max=50)])
    values = TextAreaField(_l("Values"))
    is_spec = BooleanField(_l("Spec (makes SKUs)"), default=True)


class AttributesForm(FlaskForm):
    attributes = FieldList(FormField(AttributeRowForm), min_entries=0)

    def validate_attributes(self, field) -> None:
        """Field-level checks of every row; the service replaces the list as given."""
        seen: set[str] = set()
        failed = False
        for row in field.entries:
            name = (row.form.name.data or "").strip()
            values = split_values(row.form.values.data)
            if not name:
                if values:
                    row.form.name.errors = [
                        *row.form.name.errors,
                        _("Name the attribute, or clear its values."),
                    ]
                    failed = True
                continue
            if name in seen:
                row.form.name.errors = [*row.form.name.errors, _("Each attribute name only once.")]
                failed = True
            seen.add(name)
            if row.form.is_spec.data and not values:
                row.form.values.errors = [*row.form.values.errors, _("A spec needs at least one value.")]
                failed = True
            elif len(values) > MAX_VALUES:
                row.form.values.errors = [*row.form.values.errors, _("At most 100 values.")]
                failed = True
            elif any(len(v) > 100 for v in values):
                row.form.values.errors = [*row.form.values.errors, _("A value has at most 100 characters.")]
                failed = True
        if failed:
            raise ValidationError(_("Correct the marked attributes."))

    def specs(self) -> list[dict]:
        return [
            {
                "name": row.form.name.data.strip(),
                "values": split_values(row.form.values.data),
                "is_spec": bool(row.form.is_spec.data),
            }
            for row in self.attributes.entries
            if (row.form.name.data or "").strip()
        ]


class BrandForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])


def _field_errors(form: FlaskForm, exc: ValidationFailed, names: dict[str, str]) -> None:
    """Put a service's field messages on the form's fields (``names`` maps service → form field names)."""
    for key, messages in exc.fields.items():
        target = getattr(form, names.get(key, key), None) or form.name
        target.errors = [*target.errors, *(_(m) for m in messages)]


# --- categories -------------------------------------------------------------------------------------


def _parent_choices(tree: list[Category], editing: Category | None) -> list[tuple[int, str]]:
    choices = [(0, _("(top level)"))]
    for category in tree:
        if editing is not None and (category.id == editing.id or editing.id in category.ancestor_ids):
            continue  # a category cannot move under itself or its own subcategories
        choices.append((category.id, "\u3000" * category.depth + category.name))
    return choices


def _category_form(tree: list[Category], category: Category | None) -> CategoryForm:
    form = CategoryForm(obj=category)
    form.parent_id.choices = _parent_choices(tree, category)
    if request.method == "GET":
        if category is not None:
            form.parent_id.data = category.parent_id or 0
            form.commission_rate.data = f"{Decimal(category.commission_rate_bp) / 100:.2f}"
        else:
            form.parent_id.data = request.args.get("parent", 0, type=int)
    return form


def _attributes_form(category: Category, formdata=None) -> AttributesForm:
    if formdata is not None:
        return AttributesForm(formdata=formdata)
    form = AttributesForm(formdata=None)
    for attribute in category.attributes:
        form.attributes.append_entry(
            {"name": attribute.name, "values": ", ".join(attribute.values), "is_spec": attribute.is_spec}
        )
    for _row in range(BLANK_ATTRIBUTE_ROWS):
        form.attributes.append_entry({"is_spec": True})
    return form


def _save_category(form: CategoryForm, category: Category | None) -> Category | None:
    if not form.validate_on_submit():
        return None
    try:
        saved = services.save_category(
            db.session,
            name=form.name.data,
            name_en=form.name_en.data or "",
            parent_id=form.parent_id.data or None,
            position=form.position.data or 0,
            commission_rate_bp=form.commission_rate_bp,
            is_active=form.is_active.data,
            category=category,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        _field_errors(form, exc, {"commission_rate_bp": "commission_rate", "parent_id": "parent_id"})
        return None
    db.session.commit()
    return saved


@bp.get("/catalog/categories")
@requires("catalog.view")
def categories_list():
    return render_template("admin/catalog/categories.html", tree=queries.category_tree(db.session))


@bp.route("/catalog/categories/new", methods=["GET", "POST"])
@requires("catalog.manage")
def categories_new():
    form = _category_form(queries.category_tree(db.session), None)
    category = _save_category(form, None)
    if category is not None:
        flash(_("Category %(name)s created; add its attributes below.", name=category.name), "success")
        return redirect(url_for("admin.categories_edit", category_id=category.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/catalog/category_form.html", form=form, category=None), status


@bp.get("/catalog/categories/<int:category_id>")
@requires("catalog.view")
def categories_edit(category_id: int):
    category = queries.get_category(db.session, category_id)
    return render_template(
        "admin/catalog/category_form.html",
        form=_category_form(queries.category_tree(db.session), category),
        category=category,
        attributes_form=_attributes_form(category),
    )


@bp.post("/catalog/categories/<int:category_id>")
@requires("catalog.manage")
def categories_save(category_id: int):
    category = queries.get_category(db.session, category_id)
    form = _category_form(queries.category_tree(db.session), category)
    if _save_category(form, category) is not None:
        flash(_("Category %(name)s saved.", name=category.name), "success")
        return redirect(url_for("admin.categories_edit", category_id=category.id))
    return render_template(
        "admin/catalog/category_form.html",
        form=form,
        category=category,
        attributes_form=_attributes_form(category),
    ), 422


@bp.post("/catalog/categories/<int:category_id>/attributes")
@requires("catalog.manage")
def categories_attributes(category_id: int):
    """Replace the category's attributes. htmx swaps the editor in place; without htmx, redirect or re-render."""
    category = queries.get_category(db.session, category_id)
    form = _attributes_form(category, formdata=request.form)
    saved = False
    if form.validate():
        services.set_category_attributes(db.session, category, form.specs())
        db.session.commit()
        saved = True
        form = _attributes_form(category)
    if htmx:
        # htmx leaves 4xx answers unswapped, so the editor with its field messages comes back as a 200.
        return render_template(
            "admin/catalog/_attributes.html", category=category, attributes_form=form, saved=saved
        )
    if saved:
        flash(_("Attributes of %(name)s saved.", name=category.name), "success")
        return redirect(url_for("admin.categories_edit", category_id=category.id))
    return render_template(
        "admin/catalog/category_form.html",
        form=_category_form(queries.category_tree(db.session), category),
        category=category,
        attributes_form=form,
    ), 422


@bp.post("/catalog/categories/<int:category_id>/delete")
@requires("catalog.manage")
def categories_delete(category_id: int):
    category = queries.get_category(db.session, category_id)
    name = category.name
    try:
        services.delete_category(db.session, category)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
        return redirect(url_for("admin.categories_edit", category_id=category_id))
    db.session.commit()
    flash(_("Category %(name)s deleted.", name=name), "success")
    return redirect(url_for("admin.categories_list"))


# --- brands -----------------------------------------------------------------------------------------


def _get_brand(brand_id: int) -> Brand:
    brand = db.session.get(Brand, brand_id)  # catalog.queries has no get_brand yet
    if brand is None:
        raise NotFound()
    return brand


def _save_brand(form: BrandForm, brand: Brand | None) -> Brand | None:
    if not form.validate_on_submit():
        return None
    try:
        saved = services.save_brand(
            db.session, name=form.name.data, name_en=form.name_en.data or "", brand=brand
        )
    except ValidationFailed as exc:
        db.session.rollback()
        _field_errors(form, exc, {})
        return None
    db.session.commit()
    return saved


@bp.get("/catalog/brands")
@requires("catalog.view")
def brands_list():
    return render_template("admin/catalog/brands.html", brands=queries.brands(db.session))


@bp.route("/catalog/brands/new", methods=["GET", "POST"])
@requires("catalog.manage")
def brands_new():
    form = BrandForm()
    brand = _save_brand(form, None)
    if brand is not None:
        flash(_("Brand %(name)s created.", name=brand.name), "success")
        return redirect(url_for("admin.brands_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/catalog/brand_form.html", form=form, brand=None), status


@bp.route("/catalog/brands/<int:brand_id>", methods=["GET", "POST"])
@requires("catalog.manage")
def brands_edit(brand_id: int):
    brand = _get_brand(brand_id)
    form = BrandForm(obj=brand)
    if _save_brand(form, brand) is not None:
        flash(_("Brand %(name)s saved.", name=brand.name), "success")
        return redirect(url_for("admin.brands_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/catalog/brand_form.html", form=form, brand=brand), status
