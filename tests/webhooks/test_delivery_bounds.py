"""How many deliveries to one endpoint a process runs at once."""

from __future__ import annotations

import pytest

from backend.jobs.registry import get_kind
from backend.webhooks.delivery import DELIVERY_KIND


@pytest.mark.parametrize(("slots", "per_endpoint"), [(1, 1), (2, 1), (4, 2), (16, 8)])
def test_one_endpoint_gets_at_most_half_the_slots(
    slots: int, per_endpoint: int
) -> None:
    assert get_kind(DELIVERY_KIND).limit_per_key(slots) == per_endpoint
