"""Every model, imported so `Base.metadata` is complete (Alembic reads it).

One module per domain. Models import only SQLAlchemy and `backend.errors`:
never Quart, `web`, `server`, `events` or `services`.
"""

from backend.models.account_token import ACCOUNT_TOKEN_PURPOSES, AccountToken
from backend.models.base import Base
from backend.models.job import JOB_STATES, Job, RetentionMark
from backend.models.mfa import RecoveryCode, TotpCredential
from backend.models.order import ORDER_STATUSES, IdempotencyKey, Order, OrderItem
from backend.models.order_event import OrderEvent
from backend.models.product import (
    PRICE_BUCKET_CENTS,
    Product,
    ProductCount,
    ProductPriceBucket,
)
from backend.models.user import AuthSession, RefreshToken, User
from backend.models.webhook import DELIVERY_STATUSES, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ACCOUNT_TOKEN_PURPOSES",
    "DELIVERY_STATUSES",
    "JOB_STATES",
    "ORDER_STATUSES",
    "PRICE_BUCKET_CENTS",
    "AccountToken",
    "AuthSession",
    "Base",
    "IdempotencyKey",
    "Job",
    "Order",
    "OrderEvent",
    "OrderItem",
    "Product",
    "ProductCount",
    "ProductPriceBucket",
    "RecoveryCode",
    "RefreshToken",
    "RetentionMark",
    "TotpCredential",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
