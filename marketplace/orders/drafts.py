"""What an order is made from, before it exists: who acts, the lines, the address, the invoice request.

Checkout, phone orders, group-buy imports and gift orders all build an :class:`OrderDraft`; the services turn it
into an order. Kept apart from the services so that builders (and tests) import plain data, not the machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.identity.models import User
from marketplace.orders.models import InvoiceType


@dataclass(frozen=True)
class OrderActor:
    """Who did it, as the order history shows it."""

    id: int | None
    label: str

    @classmethod
    def of(cls, user: User | None) -> OrderActor:
        if user is None:
            return SYSTEM
        return cls(user.id, user.name or user.email)


SYSTEM = OrderActor(None, "system")


@dataclass(frozen=True)
class LineDraft:
    """One line as checkout priced it; copied onto the order so later product edits do not change it."""

    sku_id: int
    product_id: int
    title: str
    unit_price: int
    quantity: int
    sku_code: str = ""
    spec: str = ""
    image_key: str | None = None
    weight_grams: int = 0


@dataclass(frozen=True)
class DeliveryAddress:
    recipient: str
    phone: str
    province: str
    city: str
    detail: str
    district: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class Invoice:
    type: InvoiceType = InvoiceType.NONE
    title: str = ""
    tax_no: str = ""


@dataclass
class OrderDraft:
    """Everything one shop's order needs; checkout, phone orders, imports and gift orders all build one."""

    tenant_id: int
    lines: list[LineDraft]
    address: DeliveryAddress
    shipping_amount: int = 0
    shipping_method: str = ""
    discount_amount: int = 0
    note: str = ""
    email: str = ""
    invoice: Invoice = field(default_factory=Invoice)

    @property
    def goods_amount(self) -> int:
        return sum(line.unit_price * line.quantity for line in self.lines)

    @property
    def total_amount(self) -> int:
        return max(self.goods_amount + self.shipping_amount - self.discount_amount, 0)
