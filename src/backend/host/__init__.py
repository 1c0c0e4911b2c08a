"""State shared by the workers of one host, in one private directory.

`files` is the policy every host file goes through (where, how it is opened,
what is refused); `counters` (rate limits, SQLite via aiosqlite), `slots`
(hash slots) and `change_stamps` (product change stamps) are built on it, as
is the metrics directory (`metrics.multiprocess`).

The standard library and aiosqlite only; any layer may import it.
"""
