"""The seed: the synchronous "production-ready Flask backend" this project ports.

What the `read-list` comparison measures the service against: the design the
README says was ported (an app factory, config from the environment, a
blueprint, a model with `to_dict()`, a paginate helper), built the way such a
project ships it: Flask 3, the SQLAlchemy 2 ORM (sync), psycopg 3 (binary),
served by Gunicorn with 2 workers (the bench starts it; see `bench.runner`).
It serves only `GET /api/v1/products`, with the contract's query parameters
(page, per_page, q, price bounds, in_stock, sort) and the same JSON document as
the service (sorted keys, ISO 8601 times in UTC with `Z`), and runs the same
two statements per page that the service ran when this comparison was set up:
`SELECT count(*) FROM (<filtered select>)`, then the ordered window with
LIMIT/OFFSET. Nothing here is tuned beyond what such a project would do: one
session per request, a connection pool sized to the worker's threads.
"""

from __future__ import annotations

import os
from datetime import datetime
from math import ceil
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Text,
    create_engine,
    func,
    or_,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

CURRENCY = "USD"


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    price_cents: Mapped[int]
    stock: Mapped[int]
    is_active: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "price_cents": self.price_cents,
            "currency": CURRENCY,
            "stock": self.stock,
            "is_active": self.is_active,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


SORTS: dict[str, ColumnElement[Any]] = {
    "id": Product.id.asc(),
    "name": Product.name.asc(),
    "-name": Product.name.desc(),
    "price_cents": Product.price_cents.asc(),
    "-price_cents": Product.price_cents.desc(),
    "created_at": Product.created_at.asc(),
    "-created_at": Product.created_at.desc(),
}

products = Blueprint("products", __name__, url_prefix="/api/v1/products")


def _int_arg(name: str, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        abort(422)
    if not low <= value <= high:
        abort(422)
    return value


def _filtered() -> Select[Product]:
    statement = select(Product).where(Product.is_active.is_(True))
    if q := request.args.get("q", "").strip():
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        columns = (Product.name, Product.sku, Product.description)
        statement = statement.where(
            or_(*(column.ilike(pattern, escape="\\") for column in columns))
        )
    if (low := _int_arg("min_price_cents", 0, 10**8 + 1)) is not None:
        statement = statement.where(Product.price_cents >= low)
    if (high := _int_arg("max_price_cents", 0, 10**8 + 1)) is not None:
        statement = statement.where(Product.price_cents <= high)
    if (in_stock := request.args.get("in_stock")) is not None:
        stocked = in_stock.lower() == "true"
        statement = statement.where(
            Product.stock > 0 if stocked else Product.stock == 0
        )
    return statement


@products.get("")
def list_products() -> Any:
    page = _int_arg("page", 1, 10**9) or 1
    per_page = _int_arg("per_page", 1, 100) or 20
    sort = request.args.get("sort", "id")
    if sort not in SORTS:
        abort(422)
    statement = _filtered().order_by(SORTS[sort], Product.id.asc())
    with Session(current_app.extensions["engine"]) as session:
        counted = select(func.count()).select_from(statement.order_by(None).subquery())
        total = session.scalar(counted) or 0
        window = statement.limit(per_page).offset((page - 1) * per_page)
        items = [product.to_dict() for product in session.scalars(window)]
    return jsonify(
        items=items,
        total=total,
        page=page,
        per_page=per_page,
        pages=ceil(total / per_page) if total else 0,
    )


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["DATABASE_URL"].split("://", 1)[1]
    threads = int(os.environ.get("SEED_THREADS", "4"))
    # No pool_pre_ping (many such projects set it; it costs a round trip per
    # checkout): the comparison gives the seed its stronger configuration.
    app.extensions["engine"] = create_engine(
        f"postgresql+psycopg://{url}", pool_size=threads, max_overflow=0
    )
    app.register_blueprint(products)

    @app.get("/health")
    def health() -> Any:
        return {"status": "ok"}

    return app


app = create_app()
