"""PLACEHOLDER until the layout branch's db/commit_hooks.py lands (same API)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_KEY = "after_commit_callbacks"


def after_commit(session: AsyncSession | Session, callback: Callable[[], None]) -> None:
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for callback in session.info.pop(_KEY, []):
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: object) -> None:
    if session.in_transaction() is False:
        session.info.pop(_KEY, None)
