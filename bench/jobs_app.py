"""The service plus two bench-only routes, for the `jobs` scenario.

`hypercorn -c hypercorn.toml bench.jobs_app:app` serves the real app (its job
runners included) and:

- `POST /bench/enqueue?count=N`: enqueues N `noop` jobs in the request's
  transaction (default 1), as a route that queues an email does;
- `POST /bench/plain`: the same request, its transaction running one trivial
  statement instead, so the two differ only by the enqueue.

Never imported by the app itself.
"""

from __future__ import annotations

from quart import Blueprint, request
from sqlalchemy import select, true

from backend.app import create_app
from backend.db.request_scope import get_session
from backend.jobs import enqueue

MAX_COUNT = 100
bench = Blueprint("bench", __name__, url_prefix="/bench")


@bench.post("/enqueue")
async def enqueue_noop() -> tuple[dict[str, int], int]:
    count = min(max(request.args.get("count", 1, type=int) or 1, 1), MAX_COUNT)
    session = get_session()
    for _ in range(count):
        await enqueue(session, "noop", {})
    return {"enqueued": count}, 201


@bench.post("/plain")
async def plain() -> tuple[dict[str, int], int]:
    await get_session().execute(select(true()))
    return {"enqueued": 0}, 201


app = create_app()
app.register_blueprint(bench)
