"""Demo data: the accounts DESIGN.md promises, two shops, idempotent (run it as often as you like)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.identity.models import User, UserKind
from marketplace.identity.services import create_user, role_by_code, sync_default_roles
from marketplace.merchants.models import Merchant
from marketplace.merchants.services import create_merchant

# (portal, email, password, what) - printed by `flask seed-demo` and listed in the README.
DEMO_ACCOUNTS = [
    ("admin", "admin@demo.test", "admin-demo-pass", "platform super admin"),
    ("merchant", "merchant@demo.test", "merchant-demo-pass", "owner of 青山茶舍 Green Hill Tea"),
    ("merchant", "merchant2@demo.test", "merchant-demo-pass", "owner of 极客数码 Geek Digital"),
    ("wms", "supervisor@demo.test", "supervisor-demo-pass", "warehouse supervisor (every WMS task)"),
    ("wms", "picker@demo.test", "picker-demo-pass", "warehouse picker"),
    ("storefront", "shopper@demo.test", "shopper-demo-pass", "a member"),
]

DEMO_SHOPS = [
    ("merchant@demo.test", "青山茶舍 Green Hill Tea", "green-hill-tea", "王芳 Wang Fang"),
    ("merchant2@demo.test", "极客数码 Geek Digital", "geek-digital", "李雷 Li Lei"),
]


def _user(session: Session, kind: UserKind, email: str) -> User | None:
    return session.scalar(select(User).where(User.kind == kind, User.email == email))


def seed(session: Session) -> None:
    sync_default_roles(session)
    if _user(session, UserKind.STAFF, "admin@demo.test") is None:
        create_user(
            session,
            kind=UserKind.STAFF,
            email="admin@demo.test",
            password="admin-demo-pass",
            name="平台管理员 Admin",
            roles=[role_by_code(session, UserKind.STAFF, "super_admin")],
        )
    for email, shop_name, slug, contact in DEMO_SHOPS:
        merchant = session.scalar(select(Merchant).where(Merchant.slug == slug))
        if merchant is None:
            merchant = create_merchant(
                session, name=shop_name, slug=slug, contact_email=email, contact_name=contact
            )
        if _user(session, UserKind.MERCHANT, email) is None:
            create_user(
                session,
                kind=UserKind.MERCHANT,
                email=email,
                password="merchant-demo-pass",
                name=contact,
                tenant_id=merchant.id,
                is_owner=True,
                roles=[role_by_code(session, UserKind.MERCHANT, "owner")],
            )
    for email, password, name, role in (
        ("supervisor@demo.test", "supervisor-demo-pass", "仓库主管 Supervisor", "supervisor"),
        ("picker@demo.test", "picker-demo-pass", "拣货员 Picker", "picker"),
    ):
        if _user(session, UserKind.WAREHOUSE, email) is None:
            create_user(
                session,
                kind=UserKind.WAREHOUSE,
                email=email,
                password=password,
                name=name,
                roles=[role_by_code(session, UserKind.WAREHOUSE, role)],
            )
    if _user(session, UserKind.SHOPPER, "shopper@demo.test") is None:
        create_user(
            session,
            kind=UserKind.SHOPPER,
            email="shopper@demo.test",
            password="shopper-demo-pass",
            name="张伟 Zhang Wei",
            phone="13800138000",
        )
    session.flush()
    seed_catalogue(session)
    seed_shops(session)
    seed_wallet(session)
    seed_warehouse(session)  # first: the demo orders' first items ship from the platform warehouse
    seed_orders(session)


# --- the demo catalogue: so the storefront is not empty ------------------------------------------

# fmt: off
# (name, English name, parent, spec attributes)
DEMO_CATEGORIES = [
    ("茶叶", "Tea", None, []),
    ("绿茶", "Green tea", "茶叶", [{"name": "规格", "values": ["50g", "100g", "250g"]}]),
    ("乌龙茶", "Oolong tea", "茶叶", [{"name": "规格", "values": ["50g", "100g", "250g"]}]),
    ("数码", "Digital", None, []),
    ("耳机", "Headphones", "数码", [{"name": "颜色", "values": ["黑", "白", "蓝"]}]),
    ("充电器", "Chargers", "数码", [{"name": "颜色", "values": ["黑", "白"]}, {"name": "功率", "values": ["20W", "65W"]}]),
]
DEMO_BRANDS = [("西湖", "West Lake"), ("声悦", "SoundJoy")]
# shop slug → (title, initials on the picture, tile colour, category, brand, specs, base price in fen,
# attributes, sales so far); each later spec value costs 20 % more than the one before it.
DEMO_PRODUCTS = {
    "green-hill-tea": [
        ("西湖龙井绿茶 West Lake Longjing", "LJ", "#5b8c3a", "绿茶", "西湖", {"规格": ["100g", "250g"], "包装": ["罐装", "袋装"]}, 6800, {"产地": "杭州"}, 326),
        ("碧螺春 Biluochun green tea", "BL", "#7aa95c", "绿茶", None, {"规格": ["50g", "100g"]}, 4800, {"产地": "苏州"}, 158),
        ("黄山毛峰 Huangshan Maofeng", "HM", "#8fb86a", "绿茶", None, {"规格": ["100g", "250g"]}, 5600, {"产地": "黄山"}, 87),
        ("安溪铁观音 Anxi Tieguanyin oolong", "TG", "#a0692d", "乌龙茶", "西湖", {"规格": ["100g", "250g"]}, 9800, {"产地": "安溪"}, 241),
        ("武夷大红袍 Wuyi Da Hong Pao", "DH", "#8a3b22", "乌龙茶", None, {"规格": ["50g", "100g"]}, 12800, {"产地": "武夷山"}, 64),
        ("凤凰单丛 Phoenix Dancong", "FD", "#b9853f", "乌龙茶", None, {}, 8800, {"产地": "潮州"}, 19),
    ],
    "geek-digital": [
        ("声悦降噪蓝牙耳机 SoundJoy ANC headphones", "SJ", "#2f3e5c", "耳机", "声悦", {"颜色": ["黑", "白", "蓝"], "版本": ["标准版", "降噪版"]}, 29900, {"接口": "USB-C"}, 512),
        ("声悦运动耳机 SoundJoy sport earbuds", "SE", "#3c6e91", "耳机", "声悦", {"颜色": ["黑", "白"]}, 15900, {"接口": "USB-C"}, 203),
        ("头戴式监听耳机 Studio monitor headphones", "SM", "#444444", "耳机", None, {"颜色": ["黑"]}, 49900, {"接口": "3.5mm"}, 41),
        ("65W 氮化镓充电器 65W GaN charger", "65", "#d9d9d9", "充电器", "声悦", {"颜色": ["白", "黑"]}, 14900, {"接口": "USB-C"}, 377),
        ("20W 快充充电头 20W fast charger", "20", "#f2f2f2", "充电器", None, {"颜色": ["白"]}, 4900, {"接口": "USB-C"}, 129),
        ("三口桌面充电器 3-port desk charger", "3P", "#56606b", "充电器", None, {"功率": ["65W", "100W"]}, 19900, {"接口": "USB-C ×2, USB-A"}, 58),
    ],
}
# fmt: on


def _demo_picture(initials: str, colour: str):
    """A 480-pixel tile in the product's colour with its initials: a PNG in memory, stored like an upload."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    from marketplace.core.storage import save_image

    image = Image.new("RGB", (480, 480), colour)
    draw = ImageDraw.Draw(image)
    dark = sum(int(colour[i : i + 2], 16) for i in (1, 3, 5)) < 3 * 160
    draw.text(
        (240, 240),
        initials,
        fill="#ffffff" if dark else "#333333",
        anchor="mm",
        font=ImageFont.load_default(180),
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return save_image(buffer)


def seed_catalogue(session: Session) -> None:
    """Categories, brands and six approved, listed products with stock per demo shop (idempotent).

    Made with the catalogue services, as a merchant and a reviewer would, so prices, facets and search tokens
    are right. The sales counts are demo figures (paid orders will keep them) so that "bestsellers" shows.
    """
    from sqlalchemy import update

    from marketplace.catalog.models import Brand, Category, Product
    from marketplace.catalog.services import (
        ProductInput,
        SkuInput,
        approve_product,
        create_product,
        save_brand,
        save_category,
        set_category_attributes,
        submit_product,
    )
    from marketplace.catalog.specs import combinations
    from marketplace.core.audit import SYSTEM, acting_as

    reviewer = _user(session, UserKind.STAFF, "admin@demo.test")
    with acting_as(SYSTEM):
        categories: dict[str, Category] = {}
        for position, (name, name_en, parent, specs) in enumerate(DEMO_CATEGORIES):
            parent_id = categories[parent].id if parent else None
            category = session.scalar(
                select(Category).where(Category.name == name, Category.parent_id == parent_id)
            )
            if category is None:
                category = save_category(
                    session, name=name, name_en=name_en, parent_id=parent_id, position=position
                )
                set_category_attributes(session, category, specs)
            categories[name] = category
        brands: dict[str, Brand] = {}
        for name, name_en in DEMO_BRANDS:
            brands[name] = session.scalar(select(Brand).where(Brand.name == name)) or save_brand(
                session, name=name, name_en=name_en
            )
        for slug, products in DEMO_PRODUCTS.items():
            shop = session.scalar(select(Merchant).where(Merchant.slug == slug))
            if shop is None:
                continue
            for index, row in enumerate(products):
                title, initials, colour, category, brand, specs, price, attributes, sales = row
                if session.scalar(
                    select(Product.id).where(Product.tenant_id == shop.id, Product.title == title)
                ):
                    continue
                spec_list = [{"name": name, "values": values} for name, values in specs.items()]
                skus = []
                for n, combo in enumerate(combinations(spec_list)):
                    steps = sum(specs[name].index(value) for name, value in combo.items())
                    sku_price = price * 6**steps // 5**steps // 100 * 100  # integer fen, whole yuan
                    skus.append(
                        SkuInput(
                            spec_values=combo,
                            code=f"{slug[:5].upper()}-{index + 1}-{n + 1}",
                            price=sku_price,
                            market_price=sku_price * 5 // 4 // 100 * 100 if index % 2 == 0 else None,
                            stock=0 if (index + n) % 5 == 4 else 20 + 7 * n,  # a few sold-out SKUs
                        )
                    )
                picture = _demo_picture(initials, colour)
                product = create_product(
                    session,
                    tenant_id=shop.id,
                    actor_id=None,
                    data=ProductInput(
                        title=title,
                        category_id=categories[category].id,
                        brand_id=brands[brand].id if brand else None,
                        skus=skus,
                        specs=spec_list,
                        attributes=attributes,
                        description_html=f"<p>{title}</p><p>演示商品 · a demo product of {shop.name}.</p>",
                        weight_g=300,
                        images=[(picture.key, picture.width, picture.height)],
                    ),
                )
                submit_product(session, product)
                approve_product(session, product, actor_id=reviewer.id if reviewer else 0)
                session.execute(update(Product).where(Product.id == product.id).values(sales_count=sales))
        session.flush()


# --- shop profiles, shipping templates and an application waiting for review ---------------------

# shop slug → the ShopProfile fields after the name: description, customer-service phone, email and hours,
# return recipient, phone and address.
DEMO_SHOP_PROFILES = {
    "green-hill-tea": (
        "青山茶舍：杭州、安溪、武夷山茶园直供的绿茶与乌龙茶。Green and oolong teas straight from the gardens.",
        "400-820-1001",
        "service@green-hill-tea.demo.test",
        "周一至周日 9:00–21:00",
        "青山茶舍退货组",
        "0571-8888-1001",
        "浙江省杭州市西湖区龙井路 18 号",
    ),
    "geek-digital": (
        "极客数码：耳机、充电器和桌面配件，全部正品行货。Headphones, chargers and desk gear.",
        "400-820-2002",
        "service@geek-digital.demo.test",
        "周一至周五 9:00–18:00",
        "极客数码售后中心",
        "0755-6666-2002",
        "广东省深圳市南山区科技园南路 66 号",
    ),
}
DEMO_APPLICATION_SHOP = "山野蜂蜜 Wild Honey"
# A one-page PDF, the licence "scan" of the demo application.
DEMO_LICENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def seed_shops(session: Session) -> None:
    """The demo shops' profile and default shipping template, and one pending application (idempotent)."""
    import io

    from marketplace.core.audit import SYSTEM, acting_as
    from marketplace.core.storage import save_document
    from marketplace.merchants.models import MerchantApplication, ShippingTemplate
    from marketplace.merchants.services import (
        ApplicationInput,
        Fees,
        ShopProfile,
        save_shipping_rule,
        save_shipping_template,
        submit_application,
        update_shop_profile,
    )

    with acting_as(SYSTEM):
        for slug, profile in DEMO_SHOP_PROFILES.items():
            shop = session.scalar(select(Merchant).where(Merchant.slug == slug))
            if shop is None:
                continue
            if not shop.description:
                update_shop_profile(session, shop, profile=ShopProfile(shop.name, *profile))
            has_template = select(ShippingTemplate.id).where(ShippingTemplate.tenant_id == shop.id)
            if session.scalar(has_template) is None:
                template = save_shipping_template(
                    session,
                    tenant_id=shop.id,
                    name="标准快递 Standard",
                    fees=Fees(1000, 1000, 1000, 500),  # 1 kg ¥10, then ¥5 a kilo
                    free_shipping_threshold=9900,
                    is_default=True,
                )
                save_shipping_rule(
                    session,
                    template,
                    region_name="偏远地区 Remote areas",
                    provinces=["150000", "540000", "630000", "650000"],  # 内蒙古, 西藏, 青海, 新疆
                    fees=Fees(1000, 2000, 1000, 1500),  # 1 kg ¥20, then ¥15 a kilo
                )
        pending = select(MerchantApplication.id).where(MerchantApplication.shop_name == DEMO_APPLICATION_SHOP)
        if session.scalar(pending) is not None:
            return
        submit_application(
            session,
            data=ApplicationInput(
                company_name="云南山野蜂业有限公司",
                licence_number="91530100MA6K7XYA1Q",
                contact_name="赵敏 Zhao Min",
                contact_phone="13888001234",
                email="apply@wild-honey.demo.test",
                shop_name=DEMO_APPLICATION_SHOP,
                category_note="云南高山野生蜂蜜、蜂巢蜜 Wild mountain honey and honeycomb",
            ),
            licence_document_key=save_document(io.BytesIO(DEMO_LICENCE_PDF), "licence.pdf"),
            status_url_prefix="http://127.0.0.1:5000/apply/",
        )
    session.flush()


# --- the demo wallet: money, points and a gift card to pay with ----------------------------------

DEMO_GIFT_CARD = ("GC-DEMO-0001", "246810", 20_000)  # code, PIN, value in fen (¥200)


def seed_wallet(session: Session) -> None:
    """shopper@demo.test gets ¥500 on the balance and 2,000 points; one gift card worth ¥200 exists."""
    from datetime import timedelta

    from marketplace.core.db import utcnow
    from marketplace.payments import accounts
    from marketplace.payments.gift_cards import create_gift_card
    from marketplace.payments.models import GiftCard, LedgerAccount
    from marketplace.payments.wallet import grant_points, top_up_balance

    shopper = _user(session, UserKind.SHOPPER, "shopper@demo.test")
    if shopper is not None:
        has = session.scalars(
            select(LedgerAccount.code).where(
                LedgerAccount.code.in_([accounts.balance_code(shopper.id), accounts.points_code(shopper.id)])
            )
        ).all()
        if accounts.balance_code(shopper.id) not in has:
            top_up_balance(session, user_id=shopper.id, amount=50_000, reason="demo wallet", actor_id=None)
        if accounts.points_code(shopper.id) not in has:
            grant_points(session, user_id=shopper.id, points=2_000, reason="demo wallet", actor_id=None)
    code, pin, value = DEMO_GIFT_CARD
    if session.scalar(select(GiftCard.id).where(GiftCard.code == code)) is None:
        create_gift_card(session, code=code, pin=pin, value=value, expires_at=utcnow() + timedelta(days=365))
    session.flush()


def _shop_sku(session: Session, slug: str, position: int = 0) -> int:
    """The id of a demo shop's SKU, counting in catalogue order."""
    from marketplace.catalog.models import Product, Sku

    merchant_id = session.scalar(select(Merchant.id).where(Merchant.slug == slug))
    return session.scalars(
        select(Sku.id)
        .join(Product, Product.id == Sku.product_id)
        .where(Product.tenant_id == merchant_id)
        .order_by(Product.id, Sku.position)
    ).all()[position]


def seed_orders(session: Session) -> None:
    """The demo shopper's address, one paid checkout across both shops and one unpaid order, so the order
    pages of every portal have something to show. Only when the shopper has no orders yet."""
    from marketplace.checkout import cart
    from marketplace.checkout.queries import quote
    from marketplace.checkout.services import CheckoutRequest, place_checkout
    from marketplace.crm.models import Address
    from marketplace.crm.services import AddressInput, save_address
    from marketplace.orders.models import Order
    from marketplace.payments.services import capture_payment

    shopper = _user(session, UserKind.SHOPPER, "shopper@demo.test")
    if shopper is None or session.scalar(select(Order.id).where(Order.shopper_id == shopper.id).limit(1)):
        return
    address = session.scalar(select(Address).where(Address.user_id == shopper.id).limit(1))
    if address is None:
        data = AddressInput(
            recipient="张伟", phone="13800138000", province="330000", city="杭州市", district="西湖区",
            detail="文三路 90 号 3 幢 501", postal_code="310012", is_default=True,
        )  # fmt: skip
        address = save_address(session, user_id=shopper.id, data=data)

    owner = cart.CartOwner(user_id=shopper.id)
    for slug, position in (("green-hill-tea", 0), ("geek-digital", 0)):
        cart.add_line(session, owner, sku_id=_shop_sku(session, slug, position), quantity=1)
    request = CheckoutRequest(address.id, "demo-paid", quote(session, owner, address).total_amount)
    paid = place_checkout(session, shopper=shopper, request=request)
    capture_payment(session, paid.payment, provider_txn_id="demo-gateway-0001")
    cart.add_line(session, owner, sku_id=_shop_sku(session, "green-hill-tea", 2), quantity=2)
    request = CheckoutRequest(address.id, "demo-unpaid", quote(session, owner, address).total_amount)
    place_checkout(session, shopper=shopper, request=request)


def seed_warehouse(session: Session) -> None:
    """The platform warehouse with one storage zone of 12 bins, holding both demo shops' goods, a supplier and
    an approved purchase order of tea waiting to be received. Only when the warehouse has no zone yet."""
    from marketplace.catalog.models import Product, Sku
    from marketplace.fulfillment.models import Zone
    from marketplace.fulfillment.services import assign_shop, create_bin_range, create_box_type, create_zone
    from marketplace.inventory.services import platform_warehouse
    from marketplace.purchasing.services import (
        PoLineInput,
        SupplierInput,
        approve_po,
        create_po,
        save_supplier,
    )

    warehouse = platform_warehouse(session)
    if session.scalar(select(Zone.id).where(Zone.warehouse_id == warehouse.id).limit(1)):
        return
    zone = create_zone(session, warehouse, code="A", name="存储区 A Storage")
    create_bin_range(session, warehouse, zone, aisle="A", bays=(1, 4), levels=(1, 3))
    for _email, _name, slug, _contact in DEMO_SHOPS:
        assign_shop(session, warehouse, session.scalar(select(Merchant).where(Merchant.slug == slug)))
    for code, name, size, tare in (("S", "小箱 Small", (200, 150, 100), 80), ("M", "中箱 Medium", (300, 200, 150), 150),
                                   ("L", "大箱 Large", (450, 350, 250), 300)):  # fmt: skip
        create_box_type(session, warehouse, code=code, name=name, dimensions_mm=size, tare_g=tare)
    _platform_fulfilled(session, warehouse, "green-hill-tea", "A-01-01")
    _platform_fulfilled(session, warehouse, "geek-digital", "A-02-01")
    supplier = save_supplier(
        session,
        SupplierInput(
            name="杭州西湖茶业 West Lake Tea Co.", contact_person="陈静 Chen Jing", phone="0571-88886666",
            email="sales@westlaketea.example", terms="月结 30 天 Net 30", payment_days=30,
        ),
    )  # fmt: skip
    tea_shop = session.scalar(select(Merchant.id).where(Merchant.slug == "green-hill-tea"))
    skus = session.scalars(
        select(Sku.id)
        .join(Product, Product.id == Sku.product_id)
        .where(Product.tenant_id == tea_shop)
        .order_by(Sku.id)
    ).all()[:2]
    po = create_po(
        session,
        supplier_id=supplier.id,
        warehouse_id=warehouse.id,
        lines=[PoLineInput(sku_id, 20, 3500) for sku_id in skus],
        note="demo: receive one line short and one extra unit",
    )
    approve_po(session, po, actor=_user(session, UserKind.STAFF, "admin@demo.test"))


def _platform_fulfilled(session: Session, warehouse, slug: str, bin_code: str) -> None:
    """The shop's first SKU moves to the platform warehouse, into ``bin_code``: the demo orders of it ship
    through the WMS (pick, check, weigh, pack, ship) instead of from the shop's own stock."""
    from marketplace.fulfillment.models import PutawayStatus, PutawayTask
    from marketplace.fulfillment.putaway import put_away
    from marketplace.inventory.services import default_warehouse, level_for, receive, set_on_hand

    merchant_id = session.scalar(select(Merchant.id).where(Merchant.slug == slug))
    sku_id = _shop_sku(session, slug)
    own = default_warehouse(session, merchant_id)
    units = level_for(session, sku_id, merchant_id, own.id).on_hand or 30
    reason = "demo: platform fulfilment"
    set_on_hand(session, sku_id=sku_id, tenant_id=merchant_id, quantity=0, reason=reason, warehouse_id=own.id)
    receive(
        session,
        sku_id=sku_id,
        tenant_id=merchant_id,
        quantity=units,
        warehouse_id=warehouse.id,
        reason=reason,
    )
    task = PutawayTask(
        tenant_id=merchant_id, warehouse_id=warehouse.id, sku_id=sku_id, quantity=units, quantity_done=0,
        status=PutawayStatus.OPEN,
    )  # fmt: skip
    session.add(task)
    session.flush()
    put_away(session, task.id, scanned_bin=f"{warehouse.code}-{bin_code}", quantity=units, actor_id=None)
