from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.products_list_product_page import ProductsListProductPage
from ...models.products_list_sort import ProductsListSort
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    q: str | Unset = UNSET,
    min_price_cents: int | Unset = UNSET,
    max_price_cents: int | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    sort: ProductsListSort | Unset = ProductsListSort.ID,
    include_inactive: bool | Unset = False,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["page"] = page

    params["per_page"] = per_page

    params["q"] = q

    params["min_price_cents"] = min_price_cents

    params["max_price_cents"] = max_price_cents

    params["in_stock"] = in_stock

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort.value

    params["sort"] = json_sort

    params["include_inactive"] = include_inactive

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/products",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ProductsListProductPage | None:
    if response.status_code == 200:
        response_200 = ProductsListProductPage.from_dict(response.json())

        return response_200

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ProductsListProductPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    q: str | Unset = UNSET,
    min_price_cents: int | Unset = UNSET,
    max_price_cents: int | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    sort: ProductsListSort | Unset = ProductsListSort.ID,
    include_inactive: bool | Unset = False,
) -> Response[Problem | ProductsListProductPage]:
    """List the catalog.

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        q (str | Unset):
        min_price_cents (int | Unset):
        max_price_cents (int | Unset):
        in_stock (bool | Unset):
        sort (ProductsListSort | Unset):  Default: ProductsListSort.ID.
        include_inactive (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ProductsListProductPage]
    """

    kwargs = _get_kwargs(
        page=page,
        per_page=per_page,
        q=q,
        min_price_cents=min_price_cents,
        max_price_cents=max_price_cents,
        in_stock=in_stock,
        sort=sort,
        include_inactive=include_inactive,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    q: str | Unset = UNSET,
    min_price_cents: int | Unset = UNSET,
    max_price_cents: int | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    sort: ProductsListSort | Unset = ProductsListSort.ID,
    include_inactive: bool | Unset = False,
) -> Problem | ProductsListProductPage | None:
    """List the catalog.

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        q (str | Unset):
        min_price_cents (int | Unset):
        max_price_cents (int | Unset):
        in_stock (bool | Unset):
        sort (ProductsListSort | Unset):  Default: ProductsListSort.ID.
        include_inactive (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ProductsListProductPage
    """

    return sync_detailed(
        client=client,
        page=page,
        per_page=per_page,
        q=q,
        min_price_cents=min_price_cents,
        max_price_cents=max_price_cents,
        in_stock=in_stock,
        sort=sort,
        include_inactive=include_inactive,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    q: str | Unset = UNSET,
    min_price_cents: int | Unset = UNSET,
    max_price_cents: int | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    sort: ProductsListSort | Unset = ProductsListSort.ID,
    include_inactive: bool | Unset = False,
) -> Response[Problem | ProductsListProductPage]:
    """List the catalog.

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        q (str | Unset):
        min_price_cents (int | Unset):
        max_price_cents (int | Unset):
        in_stock (bool | Unset):
        sort (ProductsListSort | Unset):  Default: ProductsListSort.ID.
        include_inactive (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ProductsListProductPage]
    """

    kwargs = _get_kwargs(
        page=page,
        per_page=per_page,
        q=q,
        min_price_cents=min_price_cents,
        max_price_cents=max_price_cents,
        in_stock=in_stock,
        sort=sort,
        include_inactive=include_inactive,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    q: str | Unset = UNSET,
    min_price_cents: int | Unset = UNSET,
    max_price_cents: int | Unset = UNSET,
    in_stock: bool | Unset = UNSET,
    sort: ProductsListSort | Unset = ProductsListSort.ID,
    include_inactive: bool | Unset = False,
) -> Problem | ProductsListProductPage | None:
    """List the catalog.

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        q (str | Unset):
        min_price_cents (int | Unset):
        max_price_cents (int | Unset):
        in_stock (bool | Unset):
        sort (ProductsListSort | Unset):  Default: ProductsListSort.ID.
        include_inactive (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ProductsListProductPage
    """

    return (
        await asyncio_detailed(
            client=client,
            page=page,
            per_page=per_page,
            q=q,
            min_price_cents=min_price_cents,
            max_price_cents=max_price_cents,
            in_stock=in_stock,
            sort=sort,
            include_inactive=include_inactive,
        )
    ).parsed
