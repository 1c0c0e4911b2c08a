"""What a failed job records as its `last_error`: a short text without secrets."""

from __future__ import annotations

MAX_ERROR_LENGTH = 300


class JobFailed(Exception):
    """A handler's failure whose message is safe to show to admins as is."""


def describe(error: BaseException) -> str:
    """The error's type, plus its message only where that is known to be safe.

    Arbitrary exception text can carry secrets (a connection string, an SMTP
    server echoing credentials, a receiver's response body), so only our own
    `JobFailed` messages and OS error descriptions are kept.
    """
    name = type(error).__name__
    if isinstance(error, JobFailed):
        text = str(error)
    elif isinstance(error, TimeoutError):
        text = "timed out"
    elif isinstance(error, OSError) and error.strerror:
        text = error.strerror
    else:
        code = getattr(error, "code", None)  # SMTP and HTTP status codes
        text = f"code {code}" if isinstance(code, int) else ""
    return f"{name}: {text}"[:MAX_ERROR_LENGTH] if text else name
