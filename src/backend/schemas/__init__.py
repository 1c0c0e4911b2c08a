"""Request and response models (Pydantic), one module per domain.

Schemas may import `models` (for typing) and `errors`; never Quart, `web`,
`server`, `events` or `services`.
"""
