"""Garbage-collector settings for a serving worker: short, rare full collections.

A worker holding thousands of websockets has millions of live objects, and
CPython's full collection walks them all: hundreds of milliseconds with the
event loop stopped, every few seconds under load, because transient objects
(a fan-out's frames and futures) survive the small default young generations
and count towards the next full collection. Two settings keep that away:

* objects alive once the worker has started (modules, the app, its caches)
  live as long as the process: `gc.freeze()` takes them out of every future
  collection;
* a much larger first generation lets transient objects die young, so far
  fewer reach the old generation and full collections become rare.
Reference counting still frees everything that is not in a cycle at once;
only cyclic garbage waits for a collection, a little longer than by default.
"""

from __future__ import annotations

import gc

from quart import Quart

# Young-generation size (default 700) and the next two (defaults 10, 10).
THRESHOLDS = (50_000, 20, 100)


def init_app(app: Quart) -> None:
    async def tune() -> None:
        if app.testing:  # the test process is not a serving worker
            return
        gc.collect()
        gc.freeze()
        gc.set_threshold(*THRESHOLDS)

    app.before_serving(tune)
