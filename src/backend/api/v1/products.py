"""Products: the public catalog and its admin editing."""

from __future__ import annotations

import hashlib

from quart import Blueprint, Response, current_app, request
from quart_schema import (
    document_headers,
    document_response,
    tag,
    validate_querystring,
    validate_request,
    validate_response,
)

from backend import extensions
from backend.db.request_scope import get_session
from backend.errors import NotAuthenticated, NotFound
from backend.models import Product
from backend.schemas.common import NoContent, NotModified, Problem
from backend.schemas.product import (
    ConditionalGet,
    ProductCreate,
    ProductETag,
    ProductOut,
    ProductPage,
    ProductQuery,
    ProductUpdate,
)
from backend.services import products
from backend.web.guards import admin_required, bearer_token, use_access_login
from backend.web.product_cache import ProductResponse
from backend.web.product_pages import encode_product_page

blueprint = Blueprint("products", __name__, url_prefix="/products")


def _currency() -> str:
    currency: str = extensions.settings().currency
    return currency


def _out(product: Product) -> ProductOut:
    return ProductOut.of(product, _currency())


async def viewer_is_admin() -> bool:
    """Whether an optional bearer token belongs to an admin.

    These routes are public, so a missing or bad token is simply an anonymous
    caller, never a 401.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return False
    try:
        login = await use_access_login(bearer_token(header))
    except NotAuthenticated:
        return False
    return login.is_admin


def etag_of(body: bytes) -> str:
    """A strong validator: a hash of exactly the bytes of the body."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _matches(etag: str, if_none_match: str | None) -> bool:
    if not if_none_match:
        return False
    # If-None-Match compares weakly (RFC 9110 §13.1.2): W/ is ignored.
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@blueprint.get("")
@validate_querystring(ProductQuery)
@document_response(ProductPage, 200)
@tag(["products"])
async def list_products(query_args: ProductQuery) -> Response:
    """List the catalog."""
    include_inactive = query_args.include_inactive and await viewer_is_admin()
    filters = query_args.model_dump(exclude={"include_inactive"})
    page = await products.list_products(
        extensions.database(), include_inactive=include_inactive, **filters
    )
    # Encoded once from the rows, not validated into models first (see there).
    return Response(
        encode_product_page(page, _currency()),
        content_type=current_app.json.mimetype,  # type: ignore[attr-defined]
    )


@blueprint.get("/<int:product_id>")
@document_headers(ConditionalGet)
@document_response(ProductOut, 200, ProductETag)
@document_response(NotModified, 304, ProductETag)
@document_response(Problem, 404)
@tag(["products"])
async def get_product(product_id: int) -> Response:
    """Get one product (with an ETag; If-None-Match gives 304)."""
    cached = await _product_response(product_id)
    if not (cached.is_active or await viewer_is_admin()):
        raise NotFound("No such product.")
    if _matches(cached.etag, request.headers.get("If-None-Match")):
        return Response(b"", status=304, headers={"ETag": cached.etag})
    return Response(
        cached.body,
        status=200,
        content_type=current_app.json.mimetype,  # type: ignore[attr-defined]
        headers={"ETag": cached.etag},
    )


async def _product_response(product_id: int) -> ProductResponse:
    """The product's 200 response, from this worker's cache or the database.

    Inactive products are cached too: only admins may see them, which the
    caller decides per request.
    """
    cache = extensions.product_cache()
    if cache is None:
        return await _read_product(product_id)
    if (hit := cache.lookup(product_id)) is not None:
        return hit
    ticket = cache.ticket(product_id)
    response = await _read_product(product_id)
    cache.store(product_id, ticket, response)
    return response


async def _read_product(product_id: int) -> ProductResponse:
    """The product from the database: one prebuilt select, no session."""
    row = await products.find_product_row(extensions.database(), product_id)
    if row is None:
        raise NotFound("No such product.")
    return encode_product(ProductOut.model_validate({**row, "currency": _currency()}))


def encode_product(view: ProductOut) -> ProductResponse:
    """The 200 response of `view`: validated once (above), dumped once.

    The bytes are those Quart would send for the model (quart-schema dumps it,
    the app's JSON provider encodes it with sorted keys), without building and
    reading back a Response, and the ETag hashes them.
    """
    json = current_app.json
    body: bytes = json.dumps(view.model_dump(mode="json")).encode()
    return ProductResponse(body, etag_of(body), view.is_active)


@blueprint.post("")
@admin_required
@validate_request(ProductCreate)
@validate_response(ProductOut, 201)
@document_response(Problem, 403)
@document_response(Problem, 409)
@tag(["products"])
async def create_product(data: ProductCreate) -> tuple[ProductOut, int]:
    """Add a product (admin)."""
    product = await products.create_product(get_session(), **data.model_dump())
    return _out(product), 201


@blueprint.patch("/<int:product_id>")
@admin_required
@validate_request(ProductUpdate)
@validate_response(ProductOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
@tag(["products"])
async def update_product(product_id: int, data: ProductUpdate) -> ProductOut:
    """Change a product (admin)."""
    product = await products.update_product(
        get_session(), product_id, changes=data.changes()
    )
    return _out(product)


@blueprint.delete("/<int:product_id>")
@admin_required
@document_response(Problem, 403)
@document_response(Problem, 404)
@tag(["products"])
@document_response(NoContent, 204)
async def delete_product(product_id: int) -> tuple[str, int]:
    """Retire a product (admin; soft delete)."""
    await products.deactivate_product(get_session(), product_id)
    return "", 204
