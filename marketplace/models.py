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
from marketplace.checkout.models import CartLine, Checkout
from marketplace.core.audit import AuditEntry
from marketplace.core.jobs import OutboxMessage
from marketplace.crm.models import Address
from marketplace.fulfillment import count_models, pack_models, transfer_models
from marketplace.fulfillment.models import Bin, BinStock, WarehouseShop, Zone
from marketplace.identity.models import AdminIpRule, LoginAttempt, Role, User
from marketplace.inventory.models import StockLevel, StockMovement, Warehouse
from marketplace.merchants.models import (
    ApiKey,
    Merchant,
    MerchantApplication,
    ShippingRule,
    ShippingTemplate,
)
from marketplace.notifications.models import (
    Notification,
    SentMessage,
    WebhookAttempt,
    WebhookDelivery,
)
from marketplace.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderReviewRule,
    Shipment,
    ShipmentLine,
)
from marketplace.payments.models import (
    GatewayCallback,
    GiftCard,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    Payment,
    PaymentTender,
    Refund,
)
from marketplace.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierDocument,
)
from marketplace.reviews.models import Review
from marketplace.search.models import ListedProduct, SearchLog

__all__ = [
    # whole modules of one domain, imported for their tables
    "count_models",
    "pack_models",
    "transfer_models",
    "Address",
    "AdminIpRule",
    "ApiKey",
    "AuditEntry",
    "Bin",
    "BinStock",
    "Brand",
    "CartLine",
    "Category",
    "CategoryAttribute",
    "Checkout",
    "GatewayCallback",
    "GiftCard",
    "JournalEntry",
    "JournalLine",
    "LedgerAccount",
    "ListedProduct",
    "LoginAttempt",
    "Merchant",
    "MerchantApplication",
    "Notification",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderReviewRule",
    "OutboxMessage",
    "Payment",
    "PaymentTender",
    "Product",
    "ProductFacet",
    "ProductImage",
    "ProductImport",
    "ProductRevision",
    "ProductTag",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Receipt",
    "ReceiptLine",
    "Refund",
    "Review",
    "Role",
    "SearchLog",
    "SentMessage",
    "Shipment",
    "ShipmentLine",
    "ShippingRule",
    "ShippingTemplate",
    "Sku",
    "StockLevel",
    "StockMovement",
    "Supplier",
    "SupplierDocument",
    "Tag",
    "User",
    "Warehouse",
    "WarehouseShop",
    "WebhookAttempt",
    "WebhookDelivery",
    "Zone",
]
