"""Every model, imported so `Base.metadata` is complete (Alembic reads it).

One module per domain. Models import only SQLAlchemy and `backend.errors`:
never Quart, `web`, `server`, `events` or `services`.
"""

from backend.models.base import Base
from backend.models.job import JOB_STATES, Job, RetentionMark
from backend.models.order import ORDER_STATUSES, IdempotencyKey, Order, OrderItem
from backend.models.order_event import OrderEvent
from backend.models.product import Product
from backend.models.user import AuthSession, RefreshToken, User

__all__ = [
    "JOB_STATES",
    "ORDER_STATUSES",
    "AuthSession",
    "Base",
    "IdempotencyKey",
    "Job",
    "Order",
    "OrderEvent",
    "OrderItem",
    "Product",
    "RefreshToken",
    "RetentionMark",
    "User",
]
