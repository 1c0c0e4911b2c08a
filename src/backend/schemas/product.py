"""Product bodies, query string and output."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from backend.schemas.common import (
    NOT_BLANK,
    InputSchema,
    OutputSchema,
    Page,
    PageQuery,
    Stripped,
)

if TYPE_CHECKING:
    from backend.models import Product

Sku = Annotated[str, Field(min_length=1, max_length=64, json_schema_extra=NOT_BLANK)]
Name = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=NOT_BLANK)]
Description = Annotated[str, Field(max_length=5000)]


def _json_number(value: object) -> object:
    # JSON Schema's integer: 5 and 5.0 are fine; `true` and `"5"` are not.
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer")
    return value


JsonNumber = BeforeValidator(_json_number)
JsonInt = Annotated[int, JsonNumber]
MAX_PRICE_CENTS = 100_000_000
# Bounds before the validator: after it, pydantic cannot render them as JSON
# Schema and the document would carry `ge`/`le` instead of minimum/maximum.
PriceCents = Annotated[int, Field(ge=0, le=MAX_PRICE_CENTS), JsonNumber]
Stock = Annotated[int, Field(ge=0, le=1_000_000), JsonNumber]
# Any bound >= 0 is valid; past the dearest possible price it changes nothing,
# so it is clamped rather than sent to an integer column it would overflow.
PriceBound = Annotated[
    int, Field(ge=0), AfterValidator(lambda value: min(value, MAX_PRICE_CENTS + 1))
]
ProductSort = Annotated[
    Literal[
        "id",
        "name",
        "-name",
        "price_cents",
        "-price_cents",
        "created_at",
        "-created_at",
    ],
    Stripped,
]
# Fields a PATCH may send as null: only the optional description.
_NULLABLE = frozenset({"description"})


class ProductCreate(InputSchema):
    sku: Sku
    name: Name
    description: Description | None = None
    price_cents: PriceCents
    stock: Stock


class ProductUpdate(InputSchema):
    """Any create field, plus `is_active`; only the fields sent are changed."""

    # SkipJsonSchema: null is not a documented value (the validator rejects it).
    sku: Sku | SkipJsonSchema[None] = None
    name: Name | SkipJsonSchema[None] = None
    description: Description | None = None
    price_cents: PriceCents | SkipJsonSchema[None] = None
    stock: Stock | SkipJsonSchema[None] = None
    is_active: StrictBool | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> ProductUpdate:
        for name in self.model_fields_set - _NULLABLE:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self

    def changes(self) -> dict[str, object]:
        return self.model_dump(include=self.model_fields_set)


class ProductQuery(PageQuery):
    q: str | None = Field(default=None, max_length=200)
    min_price_cents: PriceBound | None = None
    max_price_cents: PriceBound | None = None
    in_stock: bool | None = None
    sort: ProductSort = "id"
    include_inactive: bool = False


class ProductOut(OutputSchema):
    id: int
    sku: str
    name: str
    description: str | None
    price_cents: int
    currency: str
    stock: int
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product, currency: str) -> ProductOut:
        """The API view of `product`; the currency comes from configuration."""
        names = cls.model_fields.keys() - {"currency"}
        return cls(
            currency=currency, **{name: getattr(product, name) for name in names}
        )


class ProductPage(Page[ProductOut]):
    pass


class ConditionalGet(BaseModel):
    """Request headers of a conditional read."""

    if_none_match: str | SkipJsonSchema[None] = Field(
        default=None,
        description="ETags (or `*`) the client holds; the current one gives 304.",
    )


class ProductETag(BaseModel):
    """Response headers of a product read."""

    etag: str = Field(description="A strong validator of the product's body.")
