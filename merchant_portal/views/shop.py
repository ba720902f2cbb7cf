"""Shop settings (profile, logo, customer service, return address) and shipping templates.

Seeing needs ``shop.view``, changing needs ``shop.manage``: each page is a GET route and its changes are
POST routes of their own, so each declares its permission. Amounts are typed in yuan and kept in fen.
"""

from __future__ import annotations

import re

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, EmailField, IntegerField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from marketplace.core import storage
from marketplace.core.db import Money
from marketplace.core.errors import DomainError
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.merchants import queries, services
from marketplace.merchants.errors import ProvinceInTwoRules, ShopNameTaken
from marketplace.merchants.models import ShippingRule, ShippingTemplate
from marketplace.merchants.regions import province_choices, province_code, province_label
from marketplace.web.forms import MultiCheckboxField
from merchant_portal import bp

PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")
MAX_FEE = 100_000_000  # fen: ¥1,000,000, far above any parcel
MAX_WEIGHT_G = 1_000_000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


# --- forms ------------------------------------------------------------------------------------


class ShopForm(FlaskForm):
    name = StringField(_l("Shop name"), validators=[DataRequired(), Length(min=2, max=100)], filters=[_strip])
    logo = FileField(
        _l("Logo (JPEG, PNG, WebP or GIF)"),
        validators=[
            FileAllowed(["jpg", "jpeg", "png", "webp", "gif"], _l("Only JPEG, PNG, WebP or GIF images."))
        ],
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    description = TextAreaField(
        _l("Shop description"), validators=[Optional(), Length(max=2000)], filters=[_strip]
    )
    service_phone = TelField(
        _l("Customer service phone"),
        validators=[Optional(), Regexp(PHONE, message=_l("Enter a mobile or landline number."))],
        filters=[_strip],
    )
    service_email = EmailField(
        _l("Customer service email"), validators=[Optional(), Email(), Length(max=255)], filters=[_strip]
    )
    service_hours = StringField(
        _l("Customer service hours"), validators=[Optional(), Length(max=100)], filters=[_strip]
    )
    return_name = StringField(
        _l("Return recipient"), validators=[Optional(), Length(max=100)], filters=[_strip]
    )
    return_phone = TelField(
        _l("Return phone"),
        validators=[Optional(), Regexp(PHONE, message=_l("Enter a mobile or landline number."))],
        filters=[_strip],
    )
    return_address = TextAreaField(
        _l("Return address"), validators=[Optional(), Length(max=300)], filters=[_strip]
    )


class YuanField(StringField):
    """An amount typed in yuan (``12.50``), held as integer fen (``1250``); empty is ``None``."""

    def process_formdata(self, valuelist):
        self.data = None
        text = valuelist[0].strip() if valuelist else ""
        if not text:
            return
        try:
            amount = Money.parse(text).amount
        except (ValueError, ArithmeticError):
            amount = -1
        if not 0 <= amount <= MAX_FEE:
            raise ValueError(_("Enter an amount in yuan with at most two decimals, like 12.50."))
        self.data = amount

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None or not isinstance(self.data, int):
            return ""
        return f"{self.data // 100}.{self.data % 100:02d}"


def _weight_field(label) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(),
            NumberRange(min=1, max=MAX_WEIGHT_G, message=_l("Enter whole grams above zero.")),
        ],
    )


def _fee_field(label) -> YuanField:
    return YuanField(label, validators=[InputRequired()])


class FeesForm(FlaskForm):
    first_weight_g = _weight_field(_l("First weight (g)"))
    first_fee = _fee_field(_l("First-weight fee (yuan)"))
    additional_weight_g = _weight_field(_l("Additional weight step (g)"))
    additional_fee = _fee_field(_l("Fee per additional step (yuan)"))

    def fees(self) -> services.Fees:
        return services.Fees(
            first_weight_g=self.first_weight_g.data,
            first_fee=self.first_fee.data,
            additional_weight_g=self.additional_weight_g.data,
            additional_fee=self.additional_fee.data,
        )


class ShippingTemplateForm(FeesForm):
    name = StringField(_l("Template name"), validators=[DataRequired(), Length(max=100)], filters=[_strip])
    is_default = BooleanField(_l("Default template of the shop"))
    free_shipping_threshold = YuanField(_l("Free shipping from (yuan, empty for never)"))


class ShippingRuleForm(FeesForm):
    region_name = StringField(
        _l("Region name (e.g. Remote areas)"), validators=[Optional(), Length(max=100)], filters=[_strip]
    )
    provinces = MultiCheckboxField(
        _l("Provinces"), validators=[DataRequired(_l("Choose at least one province."))]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.provinces.choices = province_choices(_locale())


def _locale() -> str:
    return str(get_locale() or "zh_Hans")


# --- shop settings ----------------------------------------------------------------------------


def _shop():
    return queries.get_merchant(db.session, g.tenant_id)


def _render_shop(form: ShopForm, status: int = 200):
    return render_template(
        "merchant/shop/settings.html",
        form=form,
        shop=_shop(),
        can_manage=current_user.can("shop.manage"),
    ), status


@bp.get("/shop")
@requires("shop.view")
def shop_settings():
    return _render_shop(ShopForm(obj=_shop()))


@bp.post("/shop")
@requires("shop.manage")
def shop_save():
    shop = _shop()
    form = ShopForm()
    if not form.validate_on_submit():
        return _render_shop(form, 422)
    if queries.shop_name_taken(db.session, form.name.data, except_merchant_id=shop.id):
        form.name.errors = [*form.name.errors, ShopNameTaken().text]
        return _render_shop(form, 422)
    logo_key = None
    if form.logo.data:
        try:
            logo_key = storage.save_image(form.logo.data.stream).key
        except DomainError as exc:
            form.logo.errors = [*form.logo.errors, exc.text]
            return _render_shop(form, 422)
    profile = services.ShopProfile(
        name=form.name.data,
        description=form.description.data or "",
        service_phone=form.service_phone.data or "",
        service_email=form.service_email.data or "",
        service_hours=form.service_hours.data or "",
        return_name=form.return_name.data or "",
        return_phone=form.return_phone.data or "",
        return_address=form.return_address.data or "",
    )
    try:
        services.update_shop_profile(
            db.session, shop, profile=profile, logo_key=logo_key, remove_logo=form.remove_logo.data
        )
    except DomainError as exc:
        db.session.rollback()
        form.name.errors = [*form.name.errors, exc.text]
        return _render_shop(form, 422)
    db.session.commit()
    flash(_("Shop settings saved."), "success")
    return redirect(url_for("merchant.shop_settings"))


# --- shipping templates -----------------------------------------------------------------------


@bp.get("/shipping-templates")
@requires("shop.view")
def shipping_templates_list():
    return render_template(
        "merchant/shipping/list.html",
        templates=queries.shipping_templates(db.session),
        can_manage=current_user.can("shop.manage"),
    )


def _template(template_id: int) -> ShippingTemplate:
    # Tenant-filtered, and checked against the shop: another shop's template is a 404.
    return queries.get_shipping_template(db.session, template_id, tenant_id=g.tenant_id)


def _save_template(form: ShippingTemplateForm, template: ShippingTemplate | None) -> ShippingTemplate | None:
    try:
        saved = services.save_shipping_template(
            db.session,
            tenant_id=g.tenant_id,
            name=form.name.data,
            fees=form.fees(),
            free_shipping_threshold=form.free_shipping_threshold.data,
            is_default=form.is_default.data,
            template=template,
        )
    except DomainError as exc:
        db.session.rollback()
        form.name.errors = [*form.name.errors, exc.text]
        return None
    db.session.commit()
    return saved


@bp.get("/shipping-templates/new")
@requires("shop.manage")
def shipping_template_new():
    form = ShippingTemplateForm(formdata=None, first_weight_g=1000, additional_weight_g=1000)
    return render_template("merchant/shipping/new.html", form=form)


@bp.post("/shipping-templates/new")
@requires("shop.manage")
def shipping_template_create():
    form = ShippingTemplateForm()
    if form.validate_on_submit():
        template = _save_template(form, None)
        if template is not None:
            flash(_("Shipping template %(name)s created.", name=template.name), "success")
            return redirect(url_for("merchant.shipping_template_edit", template_id=template.id))
    return render_template("merchant/shipping/new.html", form=form), 422


def _render_template_page(
    template: ShippingTemplate,
    form: ShippingTemplateForm | None = None,
    rule_form: ShippingRuleForm | None = None,
    status: int = 200,
    quote: int | None = None,
):
    return render_template(
        "merchant/shipping/edit.html",
        quote=quote,
        template=template,
        form=form or ShippingTemplateForm(formdata=None, obj=template),
        rule_form=rule_form or ShippingRuleForm(formdata=None, first_weight_g=1000, additional_weight_g=1000),
        can_manage=current_user.can("shop.manage"),
        locale=_locale(),
        province_label=province_label,
    ), status


@bp.get("/shipping-templates/<int:template_id>")
@requires("shop.view")
def shipping_template_edit(template_id: int):
    return _render_template_page(_template(template_id))


@bp.post("/shipping-templates/<int:template_id>")
@requires("shop.manage")
def shipping_template_save(template_id: int):
    template = _template(template_id)
    form = ShippingTemplateForm()
    if form.validate_on_submit() and _save_template(form, template) is not None:
        flash(_("Shipping template %(name)s saved.", name=template.name), "success")
        return redirect(url_for("merchant.shipping_template_edit", template_id=template.id))
    return _render_template_page(template, form=form, status=422)


@bp.post("/shipping-templates/<int:template_id>/delete")
@requires("shop.manage")
def shipping_template_delete(template_id: int):
    template = _template(template_id)
    name = template.name
    services.delete_shipping_template(db.session, template)
    db.session.commit()
    flash(_("Shipping template %(name)s deleted.", name=name), "success")
    return redirect(url_for("merchant.shipping_templates_list"))


@bp.get("/shipping-templates/<int:template_id>/quote")
@requires("shop.view")
def shipping_template_quote(template_id: int):
    """The fee calculator of the template page: an htmx fragment, or the whole page without JavaScript."""
    template = _template(template_id)
    args = request.args
    weight, province = args.get("weight_g", "").strip(), args.get("province", "")
    try:
        goods = Money.parse(args.get("goods", "").strip() or "0").amount
    except (ValueError, ArithmeticError):
        goods = -1
    fee = None
    if weight.isdigit() and int(weight) <= MAX_WEIGHT_G and goods >= 0 and province_code(province):
        fee = services.quote_shipping(template, province, int(weight), goods)
    if htmx:
        return render_template("merchant/shipping/_quote.html", fee=fee)
    return _render_template_page(template, quote=fee)


def _save_rule(template: ShippingTemplate, form: ShippingRuleForm, rule: ShippingRule | None) -> bool:
    try:
        services.save_shipping_rule(
            db.session,
            template,
            region_name=form.region_name.data or "",
            provinces=list(form.provinces.data or []),
            fees=form.fees(),
            rule=rule,
        )
    except ProvinceInTwoRules as exc:
        db.session.rollback()
        names = "、".join(province_label(c, _locale()) for c in exc.facts.get("codes", []))
        form.provinces.errors = [
            *form.provinces.errors,
            _("Already in another region: %(names)s.", names=names),
        ]
        return False
    except DomainError as exc:
        db.session.rollback()
        form.provinces.errors = [*form.provinces.errors, exc.text]
        return False
    db.session.commit()
    return True


@bp.post("/shipping-templates/<int:template_id>/rules")
@requires("shop.manage")
def shipping_template_rule_add(template_id: int):
    template = _template(template_id)
    form = ShippingRuleForm()
    if form.validate_on_submit() and _save_rule(template, form, None):
        flash(_("Region added."), "success")
        return redirect(url_for("merchant.shipping_template_edit", template_id=template.id))
    return _render_template_page(_template(template_id), rule_form=form, status=422)


def _rule(template_id: int, rule_id: int) -> tuple[ShippingTemplate, ShippingRule]:
    template = _template(template_id)
    return template, queries.get_shipping_rule(db.session, template, rule_id)


def _render_rule(template: ShippingTemplate, rule: ShippingRule, form: ShippingRuleForm, status: int = 200):
    return render_template(
        "merchant/shipping/rule.html",
        template=template,
        rule=rule,
        form=form,
        can_manage=current_user.can("shop.manage"),
    ), status


@bp.get("/shipping-templates/<int:template_id>/rules/<int:rule_id>")
@requires("shop.view")
def shipping_template_rule_edit(template_id: int, rule_id: int):
    template, rule = _rule(template_id, rule_id)
    return _render_rule(template, rule, ShippingRuleForm(formdata=None, obj=rule))


@bp.post("/shipping-templates/<int:template_id>/rules/<int:rule_id>")
@requires("shop.manage")
def shipping_template_rule_save(template_id: int, rule_id: int):
    template, rule = _rule(template_id, rule_id)
    form = ShippingRuleForm()
    if form.validate_on_submit() and _save_rule(template, form, rule):
        flash(_("Region saved."), "success")
        return redirect(url_for("merchant.shipping_template_edit", template_id=template.id))
    template, rule = _rule(template_id, rule_id)
    return _render_rule(template, rule, form, 422)


@bp.post("/shipping-templates/<int:template_id>/rules/<int:rule_id>/delete")
@requires("shop.manage")
def shipping_template_rule_delete(template_id: int, rule_id: int):
    rule = _rule(template_id, rule_id)[1]
    services.delete_shipping_rule(db.session, rule)
    db.session.commit()
    flash(_("Region deleted."), "success")
    return redirect(url_for("merchant.shipping_template_edit", template_id=template_id))
