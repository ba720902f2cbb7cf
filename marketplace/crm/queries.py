"""Read helpers of the address book."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound
from marketplace.crm.models import Address


def addresses_of(session: Session, user_id: int) -> list[Address]:
    """The default first, then newest first."""
    stmt = (
        select(Address)
        .where(Address.user_id == user_id)
        .order_by(Address.is_default.desc(), Address.id.desc())
    )
    return list(session.scalars(stmt))


def get_address(session: Session, user_id: int, address_id: int) -> Address:
    """One of this shopper's addresses; someone else's is a 404."""
    address = session.scalar(select(Address).where(Address.id == address_id, Address.user_id == user_id))
    if address is None:
        raise NotFound()
    return address
