"""Shared schema bases: strict input, attribute-reading output, pages, problems."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

T = TypeVar("T")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


# `str_strip_whitespace` strips `str` fields only; a choice of literal strings
# (`Annotated[Literal[...], Stripped]`) is stripped the same way through this.
Stripped = BeforeValidator(_strip)


# Documents the NUL rule below, so generated clients and fuzzers know it.
NO_NUL_PATTERN = "^[^\\u0000]*$"
# Documents a required string that is stripped: at least one character that
# is neither NUL nor whitespace as Python's `str.strip` sees it. The class is
# spelled out because JSON Schema's `\\s` (ECMA-262) is another set: it lacks
# U+001C-U+001F and U+0085 and has U+FEFF.
_PY_WHITESPACE = (
    "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680"
    "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NOT_BLANK_PATTERN = f"^[^\\u0000]*[^\\u0000{_PY_WHITESPACE}][^\\u0000]*$"
# For `Field(json_schema_extra=...)`: documentation only, since stripping and
# `min_length` already enforce it (with their own error messages).
NOT_BLANK: JsonDict = {"pattern": NOT_BLANK_PATTERN}


def _document_no_nul(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        for variant in field.get("anyOf", [field]):
            if variant.get("type") == "string" and "pattern" not in variant:
                variant["pattern"] = NO_NUL_PATTERN


class _ClientStrings(BaseModel):
    """What every client-sent model shares: strict fields, stripped strings.

    A NUL character is refused in every string: PostgreSQL cannot store one in
    text (the statement would fail with a 500), and SQLite must not accept
    what PostgreSQL refuses.
    """

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_document_no_nul
    )

    @field_validator("*")
    @classmethod
    def _no_nul_characters(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL (U+0000) characters")
        return value


class InputSchema(_ClientStrings):
    """Request bodies: unknown fields are a 422; strings are stripped."""


def _document_query(schema: dict[str, Any]) -> None:
    """A query parameter is absent or a value, never `null`: document only values."""
    _document_no_nul(schema)
    for field in schema.get("properties", {}).values():
        variants = field.get("anyOf", [])
        values = [variant for variant in variants if variant.get("type") != "null"]
        if len(values) == 1 and len(variants) == 2:
            del field["anyOf"]
            # The field's own keywords (a NOT_BLANK pattern) win over the variant's.
            field.update({k: v for k, v in values[0].items() if k not in field})
            if field.get("default", ...) is None:
                del field["default"]


class QuerySchema(_ClientStrings):
    """Query strings: stripped; an unknown parameter is a 422, as in bodies."""

    model_config = ConfigDict(json_schema_extra=_document_query)


class OutputSchema(BaseModel):
    """Responses, built from ORM objects or rows."""

    model_config = ConfigDict(from_attributes=True)


class PageQuery(QuerySchema):
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=20, ge=1, le=100)


class Page(OutputSchema, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int


# Bodiless responses, documented by `@document_response(NoContent, 204)` and
# the like; their docstrings are the descriptions clients read.
class NoContent(BaseModel):
    """No Content: done. There is no body."""


class NotModified(BaseModel):
    """Not Modified: `If-None-Match` named the current ETag. There is no body."""


class EventStream(BaseModel):
    """`text/event-stream`: Server-Sent Events until the stream ends (see
    /asyncapi.json for the messages)."""


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem document, as every error response is shaped."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[ValidationIssue] | None = None
    product_id: int | None = None
