"""Orders staff enter for a shopper: the drafts of phone orders and gift orders (group-buy files use the same
pieces, see ``group_buy.py``).

This module only reads and checks: it turns SKU codes, quantities and an address into ``OrderDraft`` objects,
one per shop, priced the way checkout prices them (the SKU's current price, the shop's default shipping
template). Placing them is ``checkout.services.place_orders``, called by the page with the settle mode of the
channel (pending, paid offline, free).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.catalog.models import Product, ProductStatus, Sku
from marketplace.core.errors import N_, DomainError
from marketplace.crm.models import Address
from marketplace.identity.models import User, UserKind
from marketplace.inventory.queries import available_by_sku
from marketplace.merchants.models import Merchant, MerchantStatus
from marketplace.merchants.queries import default_shipping_template
from marketplace.merchants.regions import province_code
from marketplace.merchants.services import quote_shipping
from marketplace.orders.drafts import DeliveryAddress, LineDraft, OrderDraft

MAX_QUANTITY = 9999
MAX_LINES = 50
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")

# A problem is an untranslated sentence with {placeholders} and its facts; pages translate it when shown.
Problem = tuple[str, dict]


class EntryRefused(DomainError):
    """The entered order cannot be placed; ``problems`` lists every reason (field or line, sentence, facts)."""

    code = "order_entry.refused"
    status = 422
    message = N_("The order cannot be placed; correct the marked entries.")

    def __init__(self, problems: list[tuple[str, str, dict]]) -> None:
        super().__init__()
        self.problems = problems


class ShopperNotFound(DomainError):
    code = "order_entry.shopper_not_found"
    status = 404
    message = N_("No shopper account has the e-mail or phone {query}.")


class ShopperAmbiguous(DomainError):
    code = "order_entry.shopper_ambiguous"
    status = 409
    message = N_("Several shopper accounts have the phone {query}; search by e-mail.")


def find_shopper(session: Session, query: str) -> User:
    """The shopper account with this e-mail, or else the one with this phone number."""
    query = query.strip()
    if not query:
        raise ShopperNotFound(query="—")
    if "@" in query:
        found = list(
            session.scalars(
                select(User).where(User.kind == UserKind.SHOPPER, User.email == query.lower(), User.is_active)
            )
        )
    else:
        phone = query.replace(" ", "")
        found = list(
            session.scalars(
                select(User)
                .where(User.kind == UserKind.SHOPPER, User.phone == phone, User.is_active)
                .limit(2)
            )
        )
    if not found:
        raise ShopperNotFound(query=query[:60])
    if len(found) > 1:
        raise ShopperAmbiguous(query=query[:60])
    return found[0]


# --- addresses ------------------------------------------------------------------------------------


def delivery_of(address: Address) -> DeliveryAddress:
    return DeliveryAddress(
        recipient=address.recipient,
        phone=address.phone,
        province=address.province,
        city=address.city,
        district=address.district,
        detail=address.detail,
        postal_code=address.postal_code,
    )


def check_delivery(
    *,
    recipient: str,
    phone: str,
    province: str,
    city: str,
    detail: str,
    district: str = "",
    postal_code: str = "",
) -> tuple[DeliveryAddress | None, dict[str, Problem]]:
    """A typed address, cleaned, or the problems of its fields (the same rules as the address book)."""
    clean = DeliveryAddress(
        recipient=recipient.strip(),
        phone=phone.strip().replace(" ", ""),
        province=province_code(province) or "",
        city=city.strip(),
        district=district.strip(),
        detail=detail.strip(),
        postal_code=postal_code.strip(),
    )
    problems: dict[str, Problem] = {}
    if not clean.recipient or len(clean.recipient) > 50:
        problems["recipient"] = (N_("Enter the recipient's name (at most 50 characters)."), {})
    if not (MOBILE.fullmatch(clean.phone) or LANDLINE.fullmatch(clean.phone)):
        problems["phone"] = (
            N_("Enter a mobile number such as 13800138000 or a landline such as 021-12345678."),
            {},
        )
    if not clean.province:
        problems["province"] = (N_("{value} is not a province."), {"value": province.strip()[:20] or "—"})
    if not clean.city or len(clean.city) > 50:
        problems["city"] = (N_("Enter the city."), {})
    if len(clean.district) > 50:
        problems["district"] = (N_("At most 50 characters."), {})
    if not clean.detail or len(clean.detail) > 200:
        problems["detail"] = (N_("Enter the street and number (at most 200 characters)."), {})
    if clean.postal_code and not re.fullmatch(r"\d{6}", clean.postal_code):
        problems["postal_code"] = (N_("A postal code has 6 digits."), {})
    return (None if problems else clean), problems


# --- SKUs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    """One line as entered: a SKU code, a quantity, and the price when the channel sets it (None: the SKU's)."""

    sku_code: str
    quantity: int
    unit_price: int | None = None
    shop: str = ""  # optional: the shop's id, slug or name, when the code exists in several shops


@dataclass
class FoundSku:
    sku: Sku
    product: Product
    merchant: Merchant


def skus_by_code(session: Session, codes: set[str]) -> dict[str, list[FoundSku]]:
    """Every SKU having one of ``codes`` (codes are unique per shop, not across shops), in two queries."""
    if not codes:
        return {}
    skus = list(
        session.scalars(select(Sku).where(Sku.code.in_(sorted(codes))).options(selectinload(Sku.product)))
    )
    merchants = {
        m.id: m for m in session.scalars(select(Merchant).where(Merchant.id.in_({s.tenant_id for s in skus})))
    }
    found: dict[str, list[FoundSku]] = {}
    for sku in skus:
        found.setdefault(sku.code, []).append(FoundSku(sku, sku.product, merchants[sku.tenant_id]))
    return found


def _matches_shop(found: FoundSku, shop: str) -> bool:
    shop = shop.strip()
    return (
        (shop.isdigit() and found.merchant.id == int(shop))
        or found.merchant.slug == shop.lower()
        or found.merchant.name == shop
    )


def pick_sku(candidates: list[FoundSku], wanted: Wanted) -> tuple[FoundSku | None, Problem | None]:
    """The SKU a line means, or why it cannot be sold."""
    code = wanted.sku_code
    if wanted.shop:
        candidates = [c for c in candidates if _matches_shop(c, wanted.shop)]
    if not candidates:
        return None, (N_("There is no SKU with the code {code}."), {"code": code[:64]})
    if len(candidates) > 1:
        shops = ", ".join(sorted(c.merchant.name for c in candidates))
        return None, (
            N_("The code {code} exists in several shops ({shops}); name the shop."),
            {"code": code, "shops": shops},
        )
    found = candidates[0]
    if not (
        found.sku.is_active
        and found.product.is_listed
        and found.product.status is ProductStatus.APPROVED
        and found.merchant.status is MerchantStatus.ACTIVE
    ):
        return None, (N_("{code} is not on sale."), {"code": code})
    return found, None


def check_quantity(quantity: int) -> Problem | None:
    if not 1 <= quantity <= MAX_QUANTITY:
        return N_("The quantity must be from 1 to {maximum}."), {"maximum": MAX_QUANTITY}
    return None


def line_draft(found: FoundSku, quantity: int, unit_price: int) -> LineDraft:
    sku, product = found.sku, found.product
    return LineDraft(
        sku_id=sku.id,
        product_id=product.id,
        title=product.title,
        unit_price=unit_price,
        quantity=quantity,
        sku_code=sku.code,
        spec=sku.spec_label if sku.spec_values else "",
        image_key=product.images[0].key if product.images else None,
        weight_grams=(sku.weight_g or product.weight_g or 0) * quantity,
    )


def shortages(session: Session, wanted: dict[int, int]) -> dict[int, int]:
    """SKU id -> units available, for the SKUs of which fewer are available than ``wanted`` (sku id -> units)."""
    available = available_by_sku(session, list(wanted))
    return {
        sku_id: available.get(sku_id, 0)
        for sku_id, units in wanted.items()
        if units > available.get(sku_id, 0)
    }


def shipping_fee(session: Session, tenant_id: int, lines: list[LineDraft], province: str) -> tuple[int, str]:
    """The shop's delivery fee for these lines, from its default shipping template (0 without one)."""
    template = default_shipping_template(session, tenant_id)
    if template is None:
        return 0, ""
    weight = sum(line.weight_grams for line in lines)
    goods = sum(line.unit_price * line.quantity for line in lines)
    return quote_shipping(template, province, weight, goods), template.name


# --- phone and gift orders ------------------------------------------------------------------------


def build_drafts(
    session: Session,
    lines: list[Wanted],
    *,
    address: DeliveryAddress,
    gift: bool = False,
    note: str = "",
    email: str = "",
) -> list[OrderDraft]:
    """One draft per shop for a phone order (current prices, the shops' shipping fees) or, with ``gift``, a gift
    order (everything at 0). Refused with every problem named by line number (1-based) when any line is bad."""
    problems: list[tuple[str, str, dict]] = []
    lines = [w for w in lines if w.sku_code.strip()]
    if not lines:
        raise EntryRefused([("lines", N_("Enter at least one SKU code and quantity."), {})])
    if len(lines) > MAX_LINES:
        raise EntryRefused([("lines", N_("At most {maximum} lines per order."), {"maximum": MAX_LINES})])
    found_by_code = skus_by_code(session, {w.sku_code.strip() for w in lines})
    per_shop: dict[int, list[LineDraft]] = {}
    for number, wanted in enumerate(lines, start=1):
        wanted = Wanted(wanted.sku_code.strip(), wanted.quantity, wanted.unit_price, wanted.shop)
        found, problem = pick_sku(found_by_code.get(wanted.sku_code, []), wanted)
        problem = problem or check_quantity(wanted.quantity)
        if problem is None and gift and wanted.unit_price:
            problem = (N_("A gift order is free: the price must be 0."), {})
        if problem is not None:
            problems.append((f"line-{number}", *problem))
            continue
        price = 0 if gift else (found.sku.price if wanted.unit_price is None else wanted.unit_price)
        per_shop.setdefault(found.merchant.id, []).append(line_draft(found, wanted.quantity, price))
    if not problems:
        wanted_units: dict[int, int] = {}
        for drafts in per_shop.values():
            for line in drafts:
                wanted_units[line.sku_id] = wanted_units.get(line.sku_id, 0) + line.quantity
        for sku_id, available in shortages(session, wanted_units).items():
            code = next(
                line.sku_code for drafts in per_shop.values() for line in drafts if line.sku_id == sku_id
            )
            problems.append(
                ("lines", N_("Only {available} left of {sku}."), {"available": available, "sku": code})
            )
    if problems:
        raise EntryRefused(problems)
    drafts = []
    for tenant_id, shop_lines in per_shop.items():
        fee, method = (0, "") if gift else shipping_fee(session, tenant_id, shop_lines, address.province)
        drafts.append(
            OrderDraft(
                tenant_id=tenant_id,
                lines=shop_lines,
                address=address,
                shipping_amount=fee,
                shipping_method=method,
                note=note.strip()[:500],
                email=email,
            )
        )
    return drafts


def shopper_address(session: Session, shopper: User, address_id: int) -> Address | None:
    return session.scalar(select(Address).where(Address.id == address_id, Address.user_id == shopper.id))
