from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.jobs_list_job_page import JobsListJobPage
from ...models.jobs_list_state import JobsListState
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    state: JobsListState | Unset = UNSET,
    kind: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["page"] = page

    params["per_page"] = per_page

    json_state: str | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = state.value

    params["state"] = json_state

    params["kind"] = kind

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/admin/jobs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> JobsListJobPage | Problem | None:
    if response.status_code == 200:
        response_200 = JobsListJobPage.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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
) -> Response[JobsListJobPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    state: JobsListState | Unset = UNSET,
    kind: str | Unset = UNSET,
) -> Response[JobsListJobPage | Problem]:
    """List jobs, newest first (admin).

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        state (JobsListState | Unset):
        kind (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobsListJobPage | Problem]
    """

    kwargs = _get_kwargs(
        page=page,
        per_page=per_page,
        state=state,
        kind=kind,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    state: JobsListState | Unset = UNSET,
    kind: str | Unset = UNSET,
) -> JobsListJobPage | Problem | None:
    """List jobs, newest first (admin).

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        state (JobsListState | Unset):
        kind (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobsListJobPage | Problem
    """

    return sync_detailed(
        client=client,
        page=page,
        per_page=per_page,
        state=state,
        kind=kind,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    state: JobsListState | Unset = UNSET,
    kind: str | Unset = UNSET,
) -> Response[JobsListJobPage | Problem]:
    """List jobs, newest first (admin).

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        state (JobsListState | Unset):
        kind (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobsListJobPage | Problem]
    """

    kwargs = _get_kwargs(
        page=page,
        per_page=per_page,
        state=state,
        kind=kind,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
    state: JobsListState | Unset = UNSET,
    kind: str | Unset = UNSET,
) -> JobsListJobPage | Problem | None:
    """List jobs, newest first (admin).

    Args:
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.
        state (JobsListState | Unset):
        kind (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobsListJobPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            page=page,
            per_page=per_page,
            state=state,
            kind=kind,
        )
    ).parsed
