"""Free-text search helpers shared by the list services."""

from __future__ import annotations

# The escape character every pattern below uses: pass it as `escape=` to LIKE.
LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with `%` and `_` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
