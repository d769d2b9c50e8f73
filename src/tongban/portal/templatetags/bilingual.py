"""``{{ obj|loc:"name" }}``: a record's text in the active language (its ``<field>_en`` in English, when set)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


def _english() -> bool:
    return (get_language() or "").startswith("en")


@register.filter
def loc(obj: Any, field: str) -> Any:
    """Return ``obj.<field>_en`` (or ``obj["<field>_en"]``) when the page is in English and it is set, else the field."""
    def read(name: str) -> Any:
        return obj.get(name, "") if isinstance(obj, dict) else getattr(obj, name, "")

    if _english():
        english = read(f"{field}_en")
        if english:
            return english
    return read(field)


@register.filter
def field_title(spec: Any) -> str:
    """Return a form field's title from its JSON Schema (its ``x-title-en`` in English)."""
    if not isinstance(spec, dict):
        return ""
    if _english() and spec.get("x-title-en"):
        return str(spec["x-title-en"])
    return str(spec.get("title", ""))
