"""Work tied to a transaction's commit: the only listener of session events.

Services say what a transaction does; this module acts on it at the right
moment of the *outermost* transaction of a session:

* `add_pending_event(session, row)`: an order event, written last of all just
  before the commit (`order_event_writes`), published to this process's
  reactions once the commit is done, forgotten on rollback;
* `mark_products_changed(session, ids)`: products this transaction changes,
  announced to the reactions after commit *and* after a rollback (a commit that
  failed may still have happened on the server: reporting a change that did not
  happen costs a cache miss, missing one a stale read);
* `mark_logins_changed(session, user_ids)`: users whose login sessions this
  transaction revokes, or whose right to be served changes (deactivation, a
  new token version, a role change); announced like products (after commit
  and after a rollback), and NOTIFYed to other hosts on PostgreSQL;
* `before_commit(session, callback)` and `after_commit(session, callback)`: any
  other work, run once at the outermost commit. A callback added inside a
  savepoint that is rolled back is dropped with it; one added inside a released
  savepoint waits for the outermost commit. A rollback drops them all.

Process-wide reactions (the event bus, the product cache, the login cache)
subscribe with `on_order_events_committed`, `on_products_changed` and
`on_logins_changed`, from their `init_app`,
for as long as the app serves. Callbacks and reactions are plain functions run
inside SQLAlchemy's event hooks: they must not do I/O, only note or wake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from backend.db.order_event_writes import insert_order_events
from backend.models import OrderEvent

# NOTIFY channel of product ids changed outside an order (see `web.product_cache`).
PRODUCT_CHANGES_CHANNEL = "product_changes"
# NOTIFY channel of user ids whose logins changed (see `web.login_cache`).
LOGIN_CHANGES_CHANNEL = "login_changes"
Callback = Callable[[], None]
EventsReaction = Callable[[list[OrderEvent]], None]
ProductsReaction = Callable[[URL, set[int]], None]
LoginsReaction = Callable[[URL, set[int]], None]
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
_KEY = "commit_hooks"
logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Hooks:
    """What one session's current outermost transaction will do at its end."""

    events: list[OrderEvent] = field(default_factory=list)
    product_ids: set[int] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)
    # Each with the innermost transaction it was added in (None: none begun yet).
    before: list[tuple[SessionTransaction | None, Callback]] = field(
        default_factory=list
    )
    after: list[tuple[SessionTransaction | None, Callback]] = field(
        default_factory=list
    )


_events_reactions: list[EventsReaction] = []
_products_reactions: list[ProductsReaction] = []
_logins_reactions: list[LoginsReaction] = []


def add_pending_event(session: AsyncSession | Session, row: OrderEvent) -> None:
    """Write `row` at the outermost commit; its id is known once committed.

    Outside any savepoint only: the event stands or falls with the whole
    transaction.
    """
    sync = _sync(session)
    if sync.in_nested_transaction():
        raise RuntimeError("order events belong to the whole transaction")
    _hooks(sync).events.append(row)


async def mark_products_changed(
    session: AsyncSession, product_ids: Iterable[int], *, by_order: bool = False
) -> None:
    """Record that this transaction changes these products; call before commit.

    This host's reactions hear of it once the transaction ends. On PostgreSQL
    other hosts hear of it from the transaction's order event when `by_order`
    (placing or cancelling an order), else from a NOTIFY of the ids on
    `PRODUCT_CHANGES_CHANNEL` (which PostgreSQL sends on commit only).
    """
    ids = sorted(set(product_ids))
    if not ids:
        return
    _hooks(session.sync_session).product_ids.update(ids)
    if not by_order and session.get_bind().dialect.name == "postgresql":
        payload = ",".join(map(str, ids))
        await session.execute(
            _NOTIFY, {"channel": PRODUCT_CHANGES_CHANNEL, "payload": payload}
        )


async def mark_logins_changed(session: AsyncSession, user_ids: Iterable[int]) -> None:
    """Record that this transaction ends logins of these users; call before commit.

    Revoking sessions, deactivating a user, bumping its token version or
    changing its role. This host's reactions hear of it once the transaction
    ends, before the request answers; other hosts from a NOTIFY of the ids on
    `LOGIN_CHANGES_CHANNEL` (sent by PostgreSQL on commit only).
    """
    ids = sorted(set(user_ids))
    if not ids:
        return
    _hooks(session.sync_session).user_ids.update(ids)
    if session.get_bind().dialect.name == "postgresql":
        payload = ",".join(map(str, ids))
        await session.execute(
            _NOTIFY, {"channel": LOGIN_CHANGES_CHANNEL, "payload": payload}
        )


def before_commit(session: AsyncSession | Session, callback: Callback) -> None:
    """Run `callback` just before the outermost commit (before events are written)."""
    sync = _sync(session)
    _hooks(sync).before.append((_innermost(sync), callback))


def after_commit(session: AsyncSession | Session, callback: Callback) -> None:
    """Run `callback` once the outermost transaction has committed; never otherwise."""
    sync = _sync(session)
    _hooks(sync).after.append((_innermost(sync), callback))


def on_order_events_committed(reaction: EventsReaction) -> Callable[[], None]:
    """Call `reaction` with the events each commit of this process wrote.

    Returns the function that unsubscribes it.
    """
    _events_reactions.append(reaction)
    return lambda: _events_reactions.remove(reaction)


def on_products_changed(reaction: ProductsReaction) -> Callable[[], None]:
    """Call `reaction` with a database's URL and the ids a transaction changed.

    Returns the function that unsubscribes it.
    """
    _products_reactions.append(reaction)
    return lambda: _products_reactions.remove(reaction)


def on_logins_changed(reaction: LoginsReaction) -> Callable[[], None]:
    """Call `reaction` with a database's URL and the user ids whose logins changed.

    Returns the function that unsubscribes it.
    """
    _logins_reactions.append(reaction)
    return lambda: _logins_reactions.remove(reaction)


def write_pending_events(session: Session) -> None:
    """Insert the transaction's unwritten events; the commit follows at once."""
    hooks: _Hooks | None = session.info.get(_KEY)
    unwritten = [row for row in hooks.events if row.id is None] if hooks else []
    if unwritten:
        insert_order_events(session, unwritten)


def _sync(session: AsyncSession | Session) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


def _hooks(session: Session) -> _Hooks:
    hooks: _Hooks | None = session.info.get(_KEY)
    if hooks is None:
        hooks = session.info[_KEY] = _Hooks()
    return hooks


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _within(added_in: SessionTransaction | None, ended: SessionTransaction) -> bool:
    """Whether something added in `added_in` belongs to the `ended` transaction."""
    transaction = added_in
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _run(callback: Callable[..., None], *args: Any) -> None:
    try:
        callback(*args)
    except Exception:
        # The transaction's outcome is decided; one failing reaction must
        # neither undo that in the caller's eyes nor starve the others.
        logger.exception("commit hook %r failed", callback)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint is being released
        return
    hooks: _Hooks | None = session.info.get(_KEY)
    if hooks is None:
        return
    callbacks, hooks.before = hooks.before, []
    for _added_in, callback in callbacks:
        callback()  # before the commit: an error here fails the commit
    write_pending_events(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released
        return
    hooks: _Hooks | None = session.info.pop(_KEY, None)
    if hooks is None:
        return
    written = [row for row in hooks.events if row.id is not None]
    if written:
        for reaction in list(_events_reactions):
            _run(reaction, written)
    _announce_products(session, hooks.product_ids)
    _announce_logins(session, hooks.user_ids)
    for _added_in, callback in hooks.after:
        _run(callback)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    hooks: _Hooks | None = session.info.get(_KEY)
    if hooks is None:
        return
    if previous.parent is not None:  # a savepoint: drop what was added inside it
        hooks.before = [(t, c) for t, c in hooks.before if not _within(t, previous)]
        hooks.after = [(t, c) for t, c in hooks.after if not _within(t, previous)]
        return
    del session.info[_KEY]
    _announce_products(session, hooks.product_ids)
    _announce_logins(session, hooks.user_ids)


def _announce_products(session: Session, product_ids: set[int]) -> None:
    if not product_ids or not _products_reactions:
        return
    url = session.get_bind().engine.url
    for reaction in list(_products_reactions):
        _run(reaction, url, product_ids)


def _announce_logins(session: Session, user_ids: set[int]) -> None:
    if not user_ids or not _logins_reactions:
        return
    url = session.get_bind().engine.url
    for reaction in list(_logins_reactions):
        _run(reaction, url, user_ids)
