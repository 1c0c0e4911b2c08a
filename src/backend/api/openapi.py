"""The OpenAPI document, shaped like the responses the service really sends.

quart-schema documents every response as `application/json` with a body; ours
differ for errors (`application/problem+json`), for 204 (no body) and for the
event stream (`text/event-stream`), and clients and contract fuzzers rely on
what is declared.
"""

from __future__ import annotations

from typing import Any

from quart_schema import OpenAPIProvider
from werkzeug.routing import IntegerConverter

from backend.schemas.common import EventStream, NoContent, NotModified, Problem
from backend.web.problems import PROBLEM_JSON

_NO_BODY = (NoContent, NotModified)


class ShopOpenAPIProvider(OpenAPIProvider):
    """Problem documents, bodiless 204 and 304, response headers, id ranges and
    the errors every route can give."""

    def build_response_object(
        self, model: type[Any], headers_model: type[Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        response, definitions = super().build_response_object(model, headers_model)
        # quart-schema files response headers under `content`; OpenAPI wants
        # them beside it.
        if headers := response["content"].pop("headers", None):
            response["headers"] = headers
        if model in _NO_BODY:
            del response["content"]
            return response, {}
        if model is EventStream:
            response["content"] = {"text/event-stream": {"schema": {"type": "string"}}}
            return response, {}
        if issubclass(model, Problem):
            content = response["content"]
            content[PROBLEM_JSON] = content.pop("application/json")
        return response, definitions

    def build_path_parameter(self, name: str, converter: Any) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        max_id = getattr(converter, "max_id", None)
        if isinstance(converter, IntegerConverter) and max_id is not None:
            parameter["schema"] |= {"minimum": 0, "maximum": max_id}
        return parameter

    def build_paths(self, rule: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Declare the errors any route can give, so routes need not repeat them:
        a database outage (503) anywhere; malformed (400), oversized (413) and
        non-JSON (415) bodies wherever a body is read."""
        paths, components = super().build_paths(rule)
        problem, definitions = self.build_response_object(Problem, None)
        components.update(definitions)
        for operations in paths.values():
            for operation in operations.values():
                body = "requestBody" in operation
                for status in (503, *((400, 413, 415) if body else ())):
                    operation["responses"].setdefault(status, problem)
        return paths, components
