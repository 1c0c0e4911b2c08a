from enum import StrEnum


class OrdersGetOrderOutStatus(StrEnum):
    CANCELLED = "cancelled"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    PAID = "paid"
    PENDING = "pending"
    SHIPPED = "shipped"

    def __str__(self) -> str:
        return str(self.value)
