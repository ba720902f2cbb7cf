"""Storefront forms."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length

from marketplace.web.forms import NewPasswordForm


class RegisterForm(NewPasswordForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=255)])
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
