"""Per-request plumbing: request classes and converters, request ids and headers,
problem+json handlers, route guards, rate limiting, the JSON provider and the
product response cache.

May import anything but `api` and `server`'s entry points; nothing under
`services`, `models` or `schemas` may import this package.
"""
