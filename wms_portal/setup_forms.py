"""Forms of the WMS warehouse-setup pages (supervisors)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from marketplace.fulfillment.models import BinKind

BIN_KINDS = {
    BinKind.STORAGE: _l("Storage"),
    BinKind.PICK: _l("Pick face"),
    BinKind.RECEIVING: _l("Receiving"),
    BinKind.PACKING: _l("Packing"),
    BinKind.DAMAGED: _l("Damaged goods"),
}


def _kind_field() -> SelectField:
    return SelectField(
        _l("Kind"), choices=[(k.value, label) for k, label in BIN_KINDS.items()], default="storage"
    )


class WarehouseForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])


class ZoneForm(FlaskForm):
    code = StringField(_l("Zone code"), validators=[DataRequired(), Length(max=16)])
    name = StringField(_l("Zone name"), validators=[DataRequired(), Length(max=100)])


class BinForm(FlaskForm):
    zone = SelectField(_l("Zone"), coerce=int, validate_choice=True)
    code = StringField(_l("Bin code"), validators=[DataRequired(), Length(max=32)])
    kind = _kind_field()
    barcode = StringField(_l("Barcode (optional)"), validators=[Optional(), Length(max=64)])


class BinRangeForm(FlaskForm):
    zone = SelectField(_l("Zone"), coerce=int, validate_choice=True)
    aisle = StringField(_l("Aisle"), validators=[DataRequired(), Length(max=16)])
    first_bay = IntegerField(_l("First bay"), validators=[DataRequired(), NumberRange(1, 99)], default=1)
    last_bay = IntegerField(_l("Last bay"), validators=[DataRequired(), NumberRange(1, 99)])
    first_level = IntegerField(_l("First level"), validators=[DataRequired(), NumberRange(1, 99)], default=1)
    last_level = IntegerField(_l("Last level"), validators=[DataRequired(), NumberRange(1, 99)])
    kind = _kind_field()


class ShopForm(FlaskForm):
    merchant = SelectField(_l("Shop"), coerce=int, validate_choice=True)


class BoxTypeForm(FlaskForm):
    code = StringField(_l("Box code"), validators=[DataRequired(), Length(max=16)])
    name = StringField(_l("Box name"), validators=[DataRequired(), Length(max=100)])
    length_mm = IntegerField(_l("Length (mm)"), validators=[Optional(), NumberRange(min=0, max=5000)])
    width_mm = IntegerField(_l("Width (mm)"), validators=[Optional(), NumberRange(min=0, max=5000)])
    height_mm = IntegerField(_l("Height (mm)"), validators=[Optional(), NumberRange(min=0, max=5000)])
    tare_g = IntegerField(_l("Empty weight (g)"), validators=[Optional(), NumberRange(min=0, max=50000)])
