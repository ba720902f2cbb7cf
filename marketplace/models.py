"""Imports every domain's models so that ``Base.metadata`` (and Alembic) sees the whole schema."""

from marketplace.catalog.models import (
    Brand,
    Category,
    CategoryAttribute,
    Product,
    ProductFacet,
    ProductImage,
    ProductRevision,
    ProductTag,
    Sku,
    Tag,
)
from marketplace.core.audit import AuditEntry
from marketplace.core.jobs import OutboxMessage
from marketplace.identity.models import AdminIpRule, LoginAttempt, Role, User
from marketplace.inventory.models import StockLevel, StockMovement
from marketplace.merchants.models import ApiKey, Merchant
from marketplace.notifications.models import Notification, SentMessage

__all__ = [
    "Brand",
    "Category",
    "CategoryAttribute",
    "Product",
    "ProductFacet",
    "ProductImage",
    "ProductRevision",
    "ProductTag",
    "Sku",
    "StockLevel",
    "StockMovement",
    "Tag",
    "AdminIpRule",
    "ApiKey",
    "AuditEntry",
    "LoginAttempt",
    "Merchant",
    "Notification",
    "OutboxMessage",
    "Role",
    "SentMessage",
    "User",
]
