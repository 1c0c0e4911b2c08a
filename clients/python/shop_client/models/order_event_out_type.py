from enum import StrEnum


class OrderEventOutType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"

    def __str__(self) -> str:
        return str(self.value)
