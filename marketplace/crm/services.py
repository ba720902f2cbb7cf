"""Changes of a shopper's address book."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.core.errors import ValidationFailed
from marketplace.crm.models import Address
from marketplace.merchants.regions import province_code

MAX_ADDRESSES = 20
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


@dataclass
class AddressInput:
    recipient: str
    phone: str
    province: str
    city: str
    detail: str
    district: str = ""
    postal_code: str = ""
    is_default: bool = False


def _validate(data: AddressInput) -> AddressInput:
    problems: dict[str, list[str]] = {}
    clean = AddressInput(
        recipient=data.recipient.strip(),
        phone=data.phone.strip().replace(" ", ""),
        province=province_code(data.province or "") or "",
        city=data.city.strip(),
        detail=data.detail.strip(),
        district=data.district.strip(),
        postal_code=data.postal_code.strip(),
        is_default=data.is_default,
    )
    if not clean.recipient or len(clean.recipient) > 50:
        problems["recipient"] = [_("Enter the recipient's name (at most 50 characters).")]
    if not (_MOBILE.fullmatch(clean.phone) or _LANDLINE.fullmatch(clean.phone)):
        problems["phone"] = [
            _("Enter a mobile number such as 13800138000 or a landline such as 021-12345678.")
        ]
    if not clean.province:
        problems["province"] = [_("Choose a province.")]
    if not clean.city or len(clean.city) > 50:
        problems["city"] = [_("Enter the city.")]
    if len(clean.district) > 50:
        problems["district"] = [_("At most 50 characters.")]
    if not clean.detail or len(clean.detail) > 200:
        problems["detail"] = [_("Enter the street and number (at most 200 characters).")]
    if clean.postal_code and not re.fullmatch(r"\d{6}", clean.postal_code):
        problems["postal_code"] = [_("A postal code has 6 digits.")]
    if problems:
        raise ValidationFailed(problems)
    return clean


def save_address(
    session: Session, *, user_id: int, data: AddressInput, address: Address | None = None
) -> Address:
    """Add or change an address. The first address, or one marked default, becomes the only default."""
    clean = _validate(data)
    count = session.scalar(select(func.count()).select_from(Address).where(Address.user_id == user_id)) or 0
    if address is None:
        if count >= MAX_ADDRESSES:
            raise ValidationFailed(
                {"form": [_("An address book holds at most %(n)s addresses.", n=MAX_ADDRESSES)]}
            )
        address = Address(user_id=user_id)
        session.add(address)
    for name in ("recipient", "phone", "province", "city", "district", "detail", "postal_code"):
        setattr(address, name, getattr(clean, name))
    session.flush()
    if clean.is_default or count == 0:
        make_default(session, address)
    return address


def make_default(session: Session, address: Address) -> None:
    session.execute(
        update(Address)
        .where(Address.user_id == address.user_id, Address.id != address.id)
        .values(is_default=False)
    )
    address.is_default = True
    session.flush()


def delete_address(session: Session, address: Address) -> None:
    """Remove an address; if it was the default, the newest remaining one takes its place."""
    was_default, user_id = address.is_default, address.user_id
    session.delete(address)
    session.flush()
    if was_default:
        newest = session.scalar(
            select(Address).where(Address.user_id == user_id).order_by(Address.id.desc()).limit(1)
        )
        if newest is not None:
            make_default(session, newest)
