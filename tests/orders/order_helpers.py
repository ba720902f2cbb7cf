"""Builders for order tests: a stocked SKU, a shopper with an address, and orders placed through the real
checkout (cart -> place_checkout -> payment), paid the way the gateway would (capture with a transaction id)."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from marketplace.catalog.models import Sku
from marketplace.checkout import cart
from marketplace.checkout.queries import quote
from marketplace.checkout.services import CheckoutRequest, place_checkout
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.crm.services import AddressInput, save_address
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.merchants.models import Merchant
from marketplace.payments import services as payments
from marketplace.payments.models import Payment
from marketplace.payments.services import TenderRequest
from tests.factories import make_user
from tests.storefront.catalog_helpers import make_category, make_product

_seq = itertools.count(1)


def stocked_sku(app: Flask, shop: Merchant, *, price: int = 1000, stock: int = 10, title: str = "") -> int:
    """One listed product with one SKU of ``price`` fen and ``stock`` units; returns the SKU id."""
    category = make_category(app, f"Category {next(_seq)}")
    product_id = make_product(app, shop, category, title or f"Product {next(_seq)}", price=price, stock=stock)
    with app.app_context():
        return db.session.scalar(select(Sku.id).where(Sku.product_id == product_id))


def shopper_with_address(
    app: Flask, *, phone: str = "13800138000", email: str | None = None
) -> tuple[User, int]:
    """A shopper account and its default delivery address id."""
    shopper = make_user(app, UserKind.SHOPPER, email=email)
    with app.app_context(), acting_as(SYSTEM):
        address = save_address(
            db.session,
            user_id=shopper.id,
            data=AddressInput(
                recipient="Li Lei", phone=phone, province="310000", city="Shanghai", district="Xuhui",
                detail="1 Test Road", postal_code="200030", is_default=True,
            ),
        )  # fmt: skip
        db.session.commit()
        return shopper, address.id


@dataclass
class Placed:
    payment_id: int
    payment_number: str
    order_ids: list[int]
    order_numbers: list[str]


def place(
    app: Flask,
    shopper: User,
    address_id: int,
    items: list[tuple[int, int]],
    *,
    tenders: list[TenderRequest] | None = None,
    key: str | None = None,
) -> Placed:
    """Put ``items`` (sku id, quantity) in the shopper's cart and check out, as the checkout page would."""
    with app.app_context():
        user = db.session.get(User, shopper.id)
        owner = cart.CartOwner(user_id=user.id)
        for sku_id, quantity in items:
            cart.add_line(db.session, owner, sku_id=sku_id, quantity=quantity)
        total = quote(db.session, owner, None if address_id is None else _address(address_id)).total_amount
        result = place_checkout(
            db.session,
            shopper=user,
            request=CheckoutRequest(
                address_id=address_id,
                idempotency_key=key or secrets.token_hex(8),
                expected_total=total,
                tenders=list(tenders or []),
            ),
        )
        db.session.commit()
        return Placed(
            result.payment.id,
            result.payment.number,
            [o.id for o in result.orders],
            [o.number for o in result.orders],
        )


def _address(address_id: int):
    from marketplace.crm.models import Address

    return db.session.get(Address, address_id)


def pay(app: Flask, payment_id: int) -> None:
    """The gateway confirmed the rest: capture, which marks the orders paid and pushes them to the shops."""
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        payments.capture_payment(db.session, payment, provider_txn_id=f"test-{secrets.token_hex(6)}")
        db.session.commit()


def place_paid(app: Flask, shopper: User, address_id: int, items: list[tuple[int, int]]) -> Placed:
    placed = place(app, shopper, address_id, items)
    pay(app, placed.payment_id)
    return placed
