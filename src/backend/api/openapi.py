"""The OpenAPI document, shaped like the responses the service really sends.

quart-schema documents every response as `application/json` with a body; ours
differ for errors (`application/problem+json`), for 204 (no body) and for the
event stream (`text/event-stream`), and clients and contract fuzzers rely on
what is declared.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from quart_schema import OpenAPIProvider
from quart_schema.typing import Model
from quart_schema.validation import DataSource
from werkzeug.routing import IntegerConverter

from backend.api import operation_ids
from backend.api.openapi_links import add_links
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
            # One shared component: every error of every operation is this
            # shape, and client generators then make one model, not dozens.
            content = response["content"]
            schema = content.pop("application/json")["schema"]
            definitions = {**definitions, "Problem": schema}
            content[PROBLEM_JSON] = {"schema": {"$ref": "#/components/schemas/Problem"}}
        return response, definitions

    def build_path_parameter(self, name: str, converter: Any) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        max_id = getattr(converter, "max_id", None)
        if isinstance(converter, IntegerConverter) and max_id is not None:
            parameter["schema"] |= {"minimum": 0, "maximum": max_id}
        return parameter

    def build_request_body(
        self, model: type[Model], source: DataSource
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A body is required exactly when the server refuses it missing.

        A missing body reads as `{}` (see `web.ApiRequest`), so the model
        itself answers: a body is optional when `{}` passes its validation.
        """
        body, definitions = super().build_request_body(model, source)
        try:
            TypeAdapter(model).validate_python({})
        except ValidationError:
            body["required"] = True
        return body, definitions

    def operation_id(self, method: str, path: str, func: Any) -> str | None:
        # Explicit ids from one table; quart-schema's `<method>_<function>` only
        # for a route missing from it, which tests/api/test_openapi.py refuses.
        return operation_ids.operation_id(method, path) or super().operation_id(
            method, path, func
        )

    def build_paths(self, rule: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Declare the errors routes share, so each route declares only its own:
        a database outage (503) anywhere; 401 wherever a token is required;
        422 wherever a body or query string is validated; malformed (400),
        oversized (413) and non-JSON (415) bodies wherever a body is read."""
        paths, components = super().build_paths(rule)
        problem, definitions = self.build_response_object(Problem, None)
        components.update(definitions)
        for operations in paths.values():
            for operation in operations.values():
                for status in _shared_errors(operation):
                    operation["responses"].setdefault(status, problem)
                add_links(operation)
        return paths, components


def _shared_errors(operation: dict[str, Any]) -> list[int]:
    statuses = [503]
    if operation.get("security"):
        statuses.append(401)
    body = "requestBody" in operation
    if body:
        statuses += [400, 413, 415]
    if body or any(p["in"] == "query" for p in operation["parameters"]):
        statuses.append(422)
    return statuses
