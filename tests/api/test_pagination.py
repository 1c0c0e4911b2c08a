"""The one pagination mechanism, through a public list."""

from __future__ import annotations

import pytest
from quart.typing import TestClientProtocol as Client


@pytest.mark.parametrize("page", [2, 10**6, 10**30])
async def test_a_page_past_the_last_is_empty_not_an_error(
    client: Client, page: int
) -> None:
    response = await client.get("/api/v1/products", query_string={"page": page})
    assert response.status_code == 200
    body = await response.get_json()
    assert body["items"] == []
    assert body["page"] == page
