"""What the cart and checkout pages show: lines grouped by shop, their problems, and the priced quote.

A line that can no longer be bought (delisted, sold out, fewer left than wanted) stays in the cart with its
problem named; it is never dropped silently, and it is left out of the quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.catalog.models import Product, ProductStatus, Sku
from marketplace.checkout.cart import CartOwner
from marketplace.checkout.models import CartLine
from marketplace.core.errors import NotFound
from marketplace.crm.models import Address
from marketplace.inventory.queries import available_by_sku
from marketplace.merchants.models import Merchant, MerchantStatus
from marketplace.merchants.queries import default_shipping_template
from marketplace.merchants.services import quote_shipping
from marketplace.orders.models import Order
from marketplace.payments.models import Payment


@dataclass
class CartItem:
    line: CartLine
    sku: Sku
    product: Product
    available: int
    problem: str = ""  # "", "unavailable", "sold_out", "short"

    @property
    def price(self) -> int:
        return self.sku.price

    @property
    def price_changed(self) -> bool:
        return self.sku.price != self.line.price_when_added

    @property
    def amount(self) -> int:
        return self.sku.price * self.line.quantity

    @property
    def buyable(self) -> bool:
        return not self.problem

    @property
    def weight_g(self) -> int:
        return (self.sku.weight_g or self.product.weight_g or 0) * self.line.quantity


@dataclass
class ShopGroup:
    merchant: Merchant
    items: list[CartItem] = field(default_factory=list)

    @property
    def chosen(self) -> list[CartItem]:
        return [item for item in self.items if item.line.selected and item.buyable]

    @property
    def goods_amount(self) -> int:
        return sum(item.amount for item in self.chosen)


@dataclass
class CartView:
    groups: list[ShopGroup]

    @property
    def count(self) -> int:
        return sum(item.line.quantity for group in self.groups for item in group.items)

    @property
    def chosen(self) -> list[CartItem]:
        return [item for group in self.groups for item in group.chosen]

    @property
    def goods_amount(self) -> int:
        return sum(group.goods_amount for group in self.groups)

    @property
    def problems(self) -> list[CartItem]:
        return [item for group in self.groups for item in group.items if item.line.selected and item.problem]

    @property
    def price_changes(self) -> list[CartItem]:
        return [item for item in self.chosen if item.price_changed]


@dataclass(frozen=True)
class Shortage:
    title: str
    problem: str
    available: int


def shortages(session: Session, owner: CartOwner) -> list[Shortage]:
    """The chosen lines that cannot be bought now, in two light queries and no ORM objects.

    Checkout asks this first: in a flash sale most submissions find the item gone, and telling them so must
    cost far less than pricing a whole cart.
    """
    rows = session.execute(
        select(
            CartLine.sku_id,
            CartLine.quantity,
            Product.title,
            Sku.is_active,
            Product.is_listed,
            Product.status,
            Merchant.status,
        )
        .join(Sku, Sku.id == CartLine.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .join(Merchant, Merchant.id == Sku.tenant_id)
        .where(owner.clause(), CartLine.selected.is_(True))
    ).all()
    available = available_by_sku(session, [row.sku_id for row in rows])
    found = []
    for sku_id, quantity, title, sku_active, listed, product_status, shop_status in rows:
        left = available.get(sku_id, 0)
        problem = _problem_of(sku_active, listed, product_status, shop_status, left, quantity)
        if problem:
            found.append(Shortage(title, problem, left))
    return found


def _problem_of(sku_active, listed, product_status, shop_status, available: int, quantity: int) -> str:
    if not (
        sku_active
        and listed
        and product_status is ProductStatus.APPROVED
        and shop_status is MerchantStatus.ACTIVE
    ):
        return "unavailable"
    if available <= 0:
        return "sold_out"
    if available < quantity:
        return "short"
    return ""


def cart_view(session: Session, owner: CartOwner) -> CartView:
    """The cart in four queries (lines with SKUs, products, shops, stock), grouped by shop in the order added."""
    lines = session.scalars(select(CartLine).where(owner.clause()).order_by(CartLine.id)).all()
    if not lines:
        return CartView([])
    skus = {
        sku.id: sku
        for sku in session.scalars(
            select(Sku).where(Sku.id.in_([line.sku_id for line in lines])).options(selectinload(Sku.product))
        )
    }
    merchants = {
        m.id: m
        for m in session.scalars(
            select(Merchant).where(Merchant.id.in_({s.tenant_id for s in skus.values()}))
        )
    }
    available = available_by_sku(session, list(skus))
    groups: dict[int, ShopGroup] = {}
    for line in lines:
        sku = skus[line.sku_id]
        merchant = merchants[sku.tenant_id]
        left = available.get(sku.id, 0)
        item = CartItem(
            line,
            sku,
            sku.product,
            left,
            _problem_of(
                sku.is_active, sku.product.is_listed, sku.product.status, merchant.status, left, line.quantity
            ),
        )
        groups.setdefault(merchant.id, ShopGroup(merchant)).items.append(item)
    return CartView(list(groups.values()))


@dataclass
class ShopQuote:
    group: ShopGroup
    shipping_amount: int
    shipping_method: str

    @property
    def merchant(self) -> Merchant:
        return self.group.merchant

    @property
    def goods_amount(self) -> int:
        return self.group.goods_amount

    @property
    def total_amount(self) -> int:
        return self.goods_amount + self.shipping_amount


@dataclass
class CheckoutQuote:
    shops: list[ShopQuote]
    cart: CartView

    @property
    def goods_amount(self) -> int:
        return sum(shop.goods_amount for shop in self.shops)

    @property
    def shipping_amount(self) -> int:
        return sum(shop.shipping_amount for shop in self.shops)

    @property
    def total_amount(self) -> int:
        return sum(shop.total_amount for shop in self.shops)


def quote(session: Session, owner: CartOwner, address: Address | None) -> CheckoutQuote:
    """Price the chosen, buyable lines per shop, with each shop's delivery fee to ``address``."""
    cart = cart_view(session, owner)
    shops = []
    for group in cart.groups:
        if not group.chosen:
            continue
        template = default_shipping_template(session, group.merchant.id)
        fee = 0
        if template is not None and address is not None:
            weight = sum(item.weight_g for item in group.chosen)
            fee = quote_shipping(template, address.province, weight, group.goods_amount)
        shops.append(ShopQuote(group, fee, template.name if template else ""))
    return CheckoutQuote(shops, cart)


def placed_orders(session: Session, shopper_id: int, payment_number: str) -> tuple[Payment, list[Order]]:
    """A payment of this shopper and the orders it pays; anyone else's is a 404."""
    payment = session.scalar(
        select(Payment).where(Payment.number == payment_number, Payment.shopper_id == shopper_id)
    )
    if payment is None:
        raise NotFound()
    placed = session.scalars(
        select(Order)
        .where(Order.payment_id == payment.id)
        .options(selectinload(Order.lines))
        .order_by(Order.id)
    ).all()
    return payment, list(placed)
