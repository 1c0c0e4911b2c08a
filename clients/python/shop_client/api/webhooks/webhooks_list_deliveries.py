from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.webhooks_list_deliveries_delivery_page import WebhooksListDeliveriesDeliveryPage
from ...models.webhooks_list_deliveries_status import WebhooksListDeliveriesStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    endpoint_id: int,
    *,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    status: WebhooksListDeliveriesStatus | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["page"] = page

    params["per_page"] = per_page

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/webhooks/{endpoint_id}/deliveries".format(
            endpoint_id=quote(str(endpoint_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WebhooksListDeliveriesDeliveryPage | None:
    if response.status_code == 200:
        response_200 = WebhooksListDeliveriesDeliveryPage.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

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
) -> Response[Problem | WebhooksListDeliveriesDeliveryPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    endpoint_id: int,
    *,
    client: AuthenticatedClient,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    status: WebhooksListDeliveriesStatus | Unset = UNSET,
) -> Response[Problem | WebhooksListDeliveriesDeliveryPage]:
    """The endpoint's delivery attempts, newest first (admin).

    Args:
        endpoint_id (int):
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        status (WebhooksListDeliveriesStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhooksListDeliveriesDeliveryPage]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        page=page,
        per_page=per_page,
        status=status,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    endpoint_id: int,
    *,
    client: AuthenticatedClient,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    status: WebhooksListDeliveriesStatus | Unset = UNSET,
) -> Problem | WebhooksListDeliveriesDeliveryPage | None:
    """The endpoint's delivery attempts, newest first (admin).

    Args:
        endpoint_id (int):
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        status (WebhooksListDeliveriesStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhooksListDeliveriesDeliveryPage
    """

    return sync_detailed(
        endpoint_id=endpoint_id,
        client=client,
        page=page,
        per_page=per_page,
        status=status,
    ).parsed


async def asyncio_detailed(
    endpoint_id: int,
    *,
    client: AuthenticatedClient,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    status: WebhooksListDeliveriesStatus | Unset = UNSET,
) -> Response[Problem | WebhooksListDeliveriesDeliveryPage]:
    """The endpoint's delivery attempts, newest first (admin).

    Args:
        endpoint_id (int):
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        status (WebhooksListDeliveriesStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhooksListDeliveriesDeliveryPage]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        page=page,
        per_page=per_page,
        status=status,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    endpoint_id: int,
    *,
    client: AuthenticatedClient,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    status: WebhooksListDeliveriesStatus | Unset = UNSET,
) -> Problem | WebhooksListDeliveriesDeliveryPage | None:
    """The endpoint's delivery attempts, newest first (admin).

    Args:
        endpoint_id (int):
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        status (WebhooksListDeliveriesStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhooksListDeliveriesDeliveryPage
    """

    return (
        await asyncio_detailed(
            endpoint_id=endpoint_id,
            client=client,
            page=page,
            per_page=per_page,
            status=status,
        )
    ).parsed
