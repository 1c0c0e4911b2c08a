"""Failure classification: a database outage or a transient conflict, not a bug."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

# Errors that mean "the database is unreachable or saturated", not "a bug".
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # the pool had no connection within pool_timeout
    ConnectionError,
    TimeoutError,
)


# PostgreSQL refusing service rather than failing a statement: connection
# exceptions (08), insufficient resources such as too many clients (53),
# operator intervention such as starting up or shutting down (57P), and a
# database not accepting connections (55000). asyncpg reports these as generic
# DBAPI errors, told apart only by their SQLSTATE.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57P", "55000")


def is_database_unavailable(error: BaseException) -> bool:
    """True for an outage; also a connection dropped mid-query, which the driver
    reports as a generic DBAPI error that SQLAlchemy flags as a disconnect."""
    if isinstance(error, DATABASE_UNAVAILABLE):
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return error.connection_invalidated or sqlstate.startswith(
        _UNAVAILABLE_SQLSTATE_PREFIXES
    )


# PostgreSQL deadlock_detected and serialization_failure: the transaction was
# rolled back whole and may simply be sent again.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient_conflict(error: BaseException) -> bool:
    """A deadlock or serialization failure: nothing was written; retrying is safe."""
    return (
        isinstance(error, sa_exc.DBAPIError)
        and getattr(error.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES
    )
