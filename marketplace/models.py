"""Imports every domain's models so that ``Base.metadata`` (and Alembic) sees the whole schema."""

from marketplace.catalog.import_models import ProductImport
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
from marketplace.crm.models import Address
from marketplace.identity.models import AdminIpRule, LoginAttempt, Role, User
from marketplace.inventory.models import StockLevel, StockMovement
from marketplace.merchants.models import (
    ApiKey,
    Merchant,
    MerchantApplication,
    ShippingRule,
    ShippingTemplate,
)
from marketplace.notifications.models import Notification, SentMessage
from marketplace.payments.models import JournalEntry, JournalLine, LedgerAccount
from marketplace.reviews.models import Review
from marketplace.search.models import ListedProduct, SearchLog

__all__ = [
    "Address",
    "JournalEntry",
    "JournalLine",
    "LedgerAccount",
    "Brand",
    "Category",
    "CategoryAttribute",
    "Product",
    "ProductFacet",
    "ProductImage",
    "ProductImport",
    "ProductRevision",
    "ProductTag",
    "Sku",
    "StockLevel",
    "StockMovement",
    "Tag",
    "AdminIpRule",
    "ApiKey",
    "AuditEntry",
    "ListedProduct",
    "LoginAttempt",
    "Merchant",
    "MerchantApplication",
    "Notification",
    "OutboxMessage",
    "Review",
    "Role",
    "SearchLog",
    "SentMessage",
    "ShippingRule",
    "ShippingTemplate",
    "User",
]
