"""What makes a licence type's definition valid: its schema, disclosable fields, validity and layout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

VALIDITY_UNITS = ("years", "months")
# Keys a layout may use: the title printed on the licence, the order of the fields,
# and the page (A4 portrait or landscape).
LAYOUT_KEYS = {"title", "title_en", "fields", "orientation"}


def definition_error(schema: Any, disclosable: Any, validity: Any, layout: Any) -> str | None:
    """Return why a licence type's definition is not valid (a readable sentence), or None."""
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        return _("The field schema must be a JSON Schema for an object.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return _("The field schema is not valid JSON Schema: %(error)s") % {"error": error.message}
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return _("The field schema must name the licence's fields under properties.")
    untitled = [name for name, spec in properties.items() if not isinstance(spec, Mapping) or not spec.get("title")]
    if untitled:
        return _("Give every field a title: %(fields)s.") % {"fields": ", ".join(sorted(untitled))}
    if not isinstance(disclosable, list) or not all(isinstance(name, str) for name in disclosable):
        return _("List the disclosable fields by name.")
    unknown = sorted(set(disclosable) - set(properties))
    if unknown:
        return _("These disclosable fields are not in the schema: %(fields)s.") % {"fields": ", ".join(unknown)}
    if not isinstance(validity, Mapping) or set(validity) - set(VALIDITY_UNITS) or len(validity) > 1 or any(
        not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 100 for value in validity.values()
    ):
        return _('Give the validity as {"years": n} or {"months": n} (1–100), or {} for no expiry.')
    if not isinstance(layout, Mapping) or set(layout) - LAYOUT_KEYS:
        return _("The layout may say only: %(keys)s.") % {"keys": ", ".join(sorted(LAYOUT_KEYS))}
    order = layout.get("fields", [])
    if not isinstance(order, list) or set(order) - set(properties):
        return _("The layout's fields must be fields of the schema.")
    if layout.get("orientation", "portrait") not in ("portrait", "landscape"):
        return _("The layout's orientation is portrait or landscape.")
    return None
