from enum import StrEnum


class ProductsListSort(StrEnum):
    CREATED_AT = "created_at"
    ID = "id"
    NAME = "name"
    PRICE_CENTS = "price_cents"
    VALUE_2 = "-name"
    VALUE_4 = "-price_cents"
    VALUE_6 = "-created_at"

    def __str__(self) -> str:
        return str(self.value)
