"""Running under Hypercorn: lifecycle and drain, the keep-alive wrapper, GC
tuning and logging.

May import Quart and Hypercorn; nothing under `services`, `models` or
`schemas` may import this package.
"""
