"""Changes to a cart. A cart belongs to a member (``user_id``) or to a guest's browser (``cart_token``).

Adding what is already there adds to the quantity; at login the guest's lines join the member's cart, and the
guest cart is emptied, so nothing is counted twice and nothing the guest chose is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Product, ProductStatus, Sku
from marketplace.checkout.errors import QuantityInvalid, SkuUnavailable
from marketplace.checkout.models import CartLine
from marketplace.core.errors import NotFound
from marketplace.merchants.models import Merchant, MerchantStatus

MAX_QUANTITY = 999


@dataclass(frozen=True)
class CartOwner:
    user_id: int | None = None
    token: str | None = None

    def __post_init__(self) -> None:
        if self.user_id is None and not self.token:
            raise ValueError("a cart belongs to a member or to a guest token")

    def clause(self):
        if self.user_id is not None:
            return CartLine.user_id == self.user_id
        return CartLine.cart_token == self.token


def _check_quantity(quantity: int) -> None:
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise QuantityInvalid(maximum=MAX_QUANTITY)


def sellable_sku(session: Session, sku_id: int) -> Sku:
    """A SKU shoppers may put in a cart: active, of a listed approved product of an open shop."""
    sku = session.scalar(
        select(Sku)
        .join(Product, Product.id == Sku.product_id)
        .join(Merchant, Merchant.id == Sku.tenant_id)
        .where(Sku.id == sku_id)
    )
    if sku is None:
        raise NotFound()
    product = sku.product
    merchant = session.get(Merchant, sku.tenant_id)
    if not (
        sku.is_active
        and product.is_listed
        and product.status is ProductStatus.APPROVED
        and merchant.status is MerchantStatus.ACTIVE
    ):
        raise SkuUnavailable(title=product.title)
    return sku


def add_line(session: Session, owner: CartOwner, *, sku_id: int, quantity: int) -> CartLine:
    _check_quantity(quantity)
    sku = sellable_sku(session, sku_id)
    line = session.scalar(select(CartLine).where(owner.clause(), CartLine.sku_id == sku_id))
    if line is None:
        line = CartLine(
            user_id=owner.user_id,
            cart_token=None if owner.user_id is not None else owner.token,
            sku_id=sku_id,
            quantity=quantity,
            price_when_added=sku.price,
            selected=True,
        )
        session.add(line)
    else:
        _check_quantity(line.quantity + quantity)
        line.quantity += quantity
        line.selected = True
    session.flush()
    return line


def get_line(session: Session, owner: CartOwner, line_id: int) -> CartLine:
    line = session.scalar(select(CartLine).where(owner.clause(), CartLine.id == line_id))
    if line is None:
        raise NotFound()
    return line


def set_quantity(session: Session, owner: CartOwner, line_id: int, quantity: int) -> CartLine:
    _check_quantity(quantity)
    line = get_line(session, owner, line_id)
    line.quantity = quantity
    session.flush()
    return line


def set_selected(session: Session, owner: CartOwner, line_id: int, selected: bool) -> CartLine:
    line = get_line(session, owner, line_id)
    line.selected = selected
    session.flush()
    return line


def remove_line(session: Session, owner: CartOwner, line_id: int) -> None:
    session.delete(get_line(session, owner, line_id))
    session.flush()


def accept_price(session: Session, owner: CartOwner) -> None:
    """The shopper saw the changed prices: remember the current ones as agreed."""
    for line in session.scalars(select(CartLine).where(owner.clause())):
        sku = session.get(Sku, line.sku_id)
        if sku is not None:
            line.price_when_added = sku.price
    session.flush()


def merge_guest_cart(session: Session, *, token: str, user_id: int) -> int:
    """Move a guest's lines into the member's cart at login (quantities add up). Returns lines moved."""
    moved = 0
    for guest_line in session.scalars(select(CartLine).where(CartLine.cart_token == token)).all():
        mine = session.scalar(
            select(CartLine).where(CartLine.user_id == user_id, CartLine.sku_id == guest_line.sku_id)
        )
        if mine is None:
            guest_line.cart_token = None
            guest_line.user_id = user_id
        else:
            mine.quantity = min(mine.quantity + guest_line.quantity, MAX_QUANTITY)
            session.delete(guest_line)
        moved += 1
    session.flush()
    return moved


def remove_bought(session: Session, owner: CartOwner, sku_ids: set[int]) -> None:
    for line in session.scalars(select(CartLine).where(owner.clause(), CartLine.sku_id.in_(sku_ids))):
        session.delete(line)
    session.flush()
