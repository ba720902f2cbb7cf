"""Forms of the merchant portal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from marketplace.identity.models import UserKind
from marketplace.identity.roles import catalogue
from marketplace.merchants.permissions import API_SCOPES
from marketplace.web.forms import MultiCheckboxField


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name (which system uses it)"), validators=[DataRequired(), Length(max=100)])
    scopes = MultiCheckboxField(_l("Permissions"), validators=[DataRequired(_l("Pick at least one."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = catalogue(UserKind.MERCHANT)
        self.scopes.choices = [(s, f"{s} — {labels.get(s, s)}") for s in API_SCOPES]
