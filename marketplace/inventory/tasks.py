"""Jobs of inventory: they take ids and are safe to run twice."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import column, select, table

from marketplace.core.jobs import enqueue, job
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.inventory.models import StockLevel, Warehouse
from marketplace.merchants.models import Merchant
from marketplace.notifications.models import Notification
from marketplace.notifications.tasks import send_email

# The SKU's stock ledger in the merchant portal (merchant_portal.views.stock.stock_ledger); a test follows it.
STOCK_LINK = "/merchant/stock/{sku_id}?warehouse={warehouse_id}"
LOW_STOCK = "low_stock"

_SKUS = table("skus", column("id"), column("code"), column("product_id"))
_PRODUCTS = table("products", column("id"), column("title"))


def _absolute(path: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and current_app.config.get("SERVER_NAME"):
        base = (
            f"{current_app.config.get('PREFERRED_URL_SCHEME', 'http')}://{current_app.config['SERVER_NAME']}"
        )
    return (base or "").rstrip("/") + path


def _recipients(session, merchant: Merchant) -> list[str]:
    """The shop's contact address, else its owners' sign-in addresses."""
    if merchant.contact_email:
        return [merchant.contact_email]
    return list(
        session.scalars(
            select(User.email).where(
                User.kind == UserKind.MERCHANT,
                User.tenant_id == merchant.id,
                User.is_owner.is_(True),
                User.is_active.is_(True),
            )
        )
    )


@job("notifications", timeout=30)
def send_low_stock_alert(level_id: int, since: str) -> None:
    """Tell the shop that a SKU runs low in one warehouse: an in-portal notice and an e-mail to its contact.

    The stock services queue this once per dip (the level's ``low_stock_alerted`` flag). Safe to run twice:
    a notice for this level made since the dip began (``since``) means it ran already; and a level that
    recovered before the job ran (flag cleared) needs no alert any more.
    """
    session = db.session
    level = session.get(StockLevel, level_id)
    if level is None or not level.low_stock_alerted:
        return
    link = STOCK_LINK.format(sku_id=level.sku_id, warehouse_id=level.warehouse_id)
    sent = session.scalar(
        select(Notification.id)
        .where(
            Notification.tenant_id == level.tenant_id,
            Notification.kind == LOW_STOCK,
            Notification.link == link,
            Notification.created_at >= datetime.fromisoformat(since),
        )
        .limit(1)
    )
    if sent is not None:
        return
    row = session.execute(
        select(_SKUS.c.code, _PRODUCTS.c.title)
        .join(_PRODUCTS, _PRODUCTS.c.id == _SKUS.c.product_id)
        .where(_SKUS.c.id == level.sku_id)
    ).first()
    if row is None:  # the SKU was deleted meanwhile
        return
    warehouse = session.get(Warehouse, level.warehouse_id)
    merchant = session.get(Merchant, level.tenant_id)
    where = warehouse.code if warehouse else ""
    left, threshold = level.available, level.low_stock_threshold
    session.add(
        Notification(
            tenant_id=level.tenant_id,
            kind=LOW_STOCK,
            title=f"Low stock: {row.code} ({left} left in {where}) / 库存不足：{row.code}（{where} 剩 {left} 件）"[
                :255
            ],
            body=(
                f"{row.title} · {row.code}: {left} available in {where}, at or below the threshold of "
                f"{threshold}.\n{row.title} · {row.code}：{where} 可售 {left} 件，已达到预警值 {threshold}。"
            ),
            link=link,
        )
    )
    url = _absolute(link)
    for to in _recipients(session, merchant):
        enqueue(
            send_email,
            tenant_id=level.tenant_id,
            to=to,
            subject=f"Low stock: {row.code} / 库存预警：{row.code}",
            body=(
                f"{row.title} ({row.code}) has {left} units available in {where}, at or below your "
                f"low-stock threshold of {threshold}.\nSee the stock and its history: {url}\n\n"
                f"商品「{row.title}」（{row.code}）在 {where} 可售库存为 {left} 件，已达到预警值 {threshold}。\n"
                f"查看库存及流水：{url}\n"
            ),
        )
    session.flush()
