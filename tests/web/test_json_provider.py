"""The app's JSON provider: orjson for every response, the stdlib's output kept."""

from __future__ import annotations

import json

from quart import Quart, Response

from backend.web.json_provider import OrjsonProvider


async def test_view_responses_are_encoded_by_orjson(app: Quart) -> None:
    assert isinstance(app.json, OrjsonProvider)
    async with app.app_context():
        response = app.json.response({"b": "café", "a": [1, 2]})
    assert isinstance(response, Response)
    body = await response.get_data(as_text=False)
    # orjson writes non-ASCII as UTF-8; the stdlib fallback would escape it.
    assert body == '{"a":[1,2],"b":"café"}\n'.encode()


def test_output_other_than_compact_still_goes_through_the_stdlib(app: Quart) -> None:
    document = {"b": 1, "a": 2}
    assert app.json.dumps(document, indent=2) == json.dumps(
        document, indent=2, sort_keys=True
    )
