"""Request and response models (Pydantic), one module per domain."""
