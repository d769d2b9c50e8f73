"""Request-scoped context (one value per request, never shared across requests)."""

from contextvars import ContextVar

current_source_address: ContextVar[str | None] = ContextVar("current_source_address", default=None)
