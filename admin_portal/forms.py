"""Forms of the admin portal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.web.forms import MultiCheckboxField


class RoleForm(FlaskForm):
    kind = SelectField(
        _l("For"),
        choices=[
            ("staff", _l("Platform staff")),
            ("merchant", _l("Merchants")),
            ("warehouse", _l("Warehouse")),
        ],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    permissions = MultiCheckboxField(_l("Permissions"))


class IpRuleForm(FlaskForm):
    cidr = StringField(_l("Address or range (CIDR)"), validators=[DataRequired(), Length(max=64)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
