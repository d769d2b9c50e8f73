"""Checking a service item's definition: the JSON format's schema, then every reference and rule.

A definition is one item of the catalog file format (``schemas/catalog.schema.json``,
docs/services-catalog-format.md): the admin's forms, the import and the demo
all describe items this way. ``clean_item`` turns it into model values with
its references (departments, licence types, catalog resources) resolved, or
raises ``InvalidInput`` naming the element at fault; it writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any
from xml.parsers import expat

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tongban.catalog.models import CatalogResource
from tongban.credentials.models import LicenceType
from tongban.kernel.models import Department, Region
from tongban.kernel.problems import InvalidInput
from tongban.services.models import Material, ServiceItem

FORMAT = "tongban.services.catalog/1"
BPMN_NAMESPACE = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = frozenset({
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
})
WIDGETS = frozenset({"text", "textarea", "select", "radio", "checkbox", "date", "number", "email", "tel", "region"})


@cache
def catalog_schema() -> dict[str, Any]:
    """Return the JSON Schema of the catalog file format."""
    text = resources.files("tongban.services").joinpath("schemas/catalog.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _validator(definition: str | None = None) -> Draft202012Validator:
    schema = catalog_schema()
    if definition is not None:
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema)


def _path(error: Any) -> str:
    return "/".join(str(part) for part in error.absolute_path)


def schema_errors(document: Any, definition: str | None = None, *, limit: int = 50) -> list[dict[str, str]]:
    """Return where and how ``document`` breaks the catalog format (or one of its ``$defs``), at most ``limit``."""
    errors = sorted(_validator(definition).iter_errors(document), key=lambda error: list(error.absolute_path))
    return [{"path": _path(error), "message": error.message} for error in errors[:limit]]


# -- process and rules ----------------------------------------------------------------------------


def _root_element(xml: str, field_name: str) -> str:
    """Return the root element's ``{namespace}name`` of well-formed ``xml``; raise InvalidInput otherwise.

    Document type declarations are refused: a process never needs one, and
    they are how entity-expansion attacks on XML parsers begin.
    """
    parser = expat.ParserCreate(namespace_separator="}")
    root: list[str] = []

    def refuse_doctype(*_args: Any) -> None:
        raise InvalidInput(_("The XML may not declare a document type."), field=field_name)

    def start(name: str, _attributes: Any) -> None:
        if not root:
            root.append(name if "}" not in name else "{" + name)

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.StartElementHandler = start
    try:
        parser.Parse(xml.encode("utf-8"), True)
    except expat.ExpatError as error:
        raise InvalidInput(_("The XML is not well-formed: %(error)s.") % {"error": error}, field=field_name) from None
    return root[0] if root else ""


def check_process_definition(xml: str) -> str:
    """Return the item's process (BPMN 2.0 XML) as stored, or raise InvalidInput.

    An empty process is allowed (the item is not handled online yet). Today
    this checks that the XML is well-formed and that its root is a BPMN
    ``definitions`` element; full BPMN validation (executable process, known
    task types, the workflow engine's own parse) belongs here when
    ``tongban.kernel.workflow`` lands.
    """
    text = str(xml or "").strip()
    if text and _root_element(text, "process") != f"{{{BPMN_NAMESPACE}}}definitions":
        raise InvalidInput(_("A process is a BPMN 2.0 document (a bpmn:definitions element)."), field="process")
    return text


def check_rules_definition(xml: str) -> str:
    """Return the item's decision rules (DMN XML) as stored, or raise InvalidInput (empty: no rules)."""
    text = str(xml or "").strip()
    if text:
        root = _root_element(text, "rules")
        namespace, _sep, name = root[1:].partition("}")
        if name != "definitions" or namespace not in DMN_NAMESPACES:
            raise InvalidInput(_("Rules are a DMN document (a dmn:definitions element)."), field="rules")
    return text


# -- references -----------------------------------------------------------------------------------


def find_department(reference: Mapping[str, Any], field_name: str) -> Department:
    """Return the department a reference names (by USCC, or by region and kind); raise InvalidInput."""
    queryset = Department.objects.select_related("region")
    if reference.get("uscc"):
        found = queryset.filter(uscc=str(reference["uscc"]).upper()).first()
    else:
        found = queryset.filter(region__code=reference.get("region"), kind=reference.get("kind")).first()
    if found is None:
        raise InvalidInput(_("There is no such department."), field=field_name)
    if reference.get("uscc") and reference.get("region") and found.region.code != reference["region"]:
        raise InvalidInput(_("The department's code and region disagree."), field=field_name)
    return found


def department_reference(department: Department) -> dict[str, str]:
    """Return how the catalog format names ``department``."""
    return {"uscc": department.uscc, "name": department.name}


def _licence_type(code: Any, field_name: str) -> LicenceType:
    found = LicenceType.objects.filter(code=str(code or "")).first()
    if found is None:
        raise InvalidInput(_("There is no licence type %(code)s.") % {"code": code}, field=field_name)
    return found


def _resource(code: Any, field_name: str) -> CatalogResource:
    found = CatalogResource.objects.prefetch_related("fields").filter(code=str(code or "")).first()
    if found is None:
        raise InvalidInput(_("There is no catalog resource %(code)s.") % {"code": code}, field=field_name)
    return found


def _licence_fields(licence_type: LicenceType) -> set[str]:
    return set((licence_type.schema or {}).get("properties", {}))


def _resource_fields(resource: CatalogResource) -> set[str]:
    return {resource_field.name for resource_field in resource.fields.all()}


def region_prefix(region: Region) -> str:
    """Return the prefix the division codes of ``region`` and of every region within it share."""
    if region.level == Region.Level.PROVINCE:
        return region.code[:2]
    if region.level == Region.Level.CITY:
        return region.code[:4]
    return region.code


def contains(outer: Region, inner: Region) -> bool:
    """Return True if region ``inner`` is ``outer`` or lies within it (by division code)."""
    return inner.code.startswith(region_prefix(outer))


# -- the item -------------------------------------------------------------------------------------


@dataclass
class CleanItem:
    """A checked definition: model values, references resolved, materials in order."""

    code: str
    values: dict[str, Any]
    joint_departments: list[Department]
    topics: list[str]
    materials: list[dict[str, Any]]
    keywords: list[str] = field(default_factory=list)


def _text(definition: Mapping[str, Any], key: str) -> str:
    return str(definition.get(key) or "").strip()


def _clean_fees(fees: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    cleaned = []
    for fee in fees:
        amount = Decimal(str(fee["amount"]))
        cleaned.append({"name": str(fee["name"]).strip(), "name_en": str(fee.get("name_en") or "").strip(),
                        "amount": f"{amount:.2f}", "basis": str(fee.get("basis") or "").strip()})
    return cleaned


def _clean_result(result: Mapping[str, Any]) -> dict[str, Any]:
    kind = result.get("kind", ServiceItem.ResultKind.NONE)
    values: dict[str, Any] = {"result_kind": kind, "result_licence_type": None, "result_name": "",
                              "result_name_en": ""}
    if kind == ServiceItem.ResultKind.LICENCE:
        licence_type = _licence_type(result.get("licence_type"), "result")
        values.update(result_licence_type=licence_type, result_name=licence_type.name,
                      result_name_en=licence_type.name_en)
    elif kind == ServiceItem.ResultKind.DOCUMENT:
        if result.get("licence_type"):
            raise InvalidInput(_("Only a licence result names a licence type."), field="result")
        values.update(result_name=str(result.get("name") or "").strip(),
                      result_name_en=str(result.get("name_en") or "").strip())
        if not values["result_name"]:
            raise InvalidInput(_("Name the document the item results in."), field="result")
    elif result.get("licence_type") or result.get("name"):
        raise InvalidInput(_("An item without a result names none."), field="result")
    return values


def _check_prefill(name: str, prefill: Mapping[str, Any]) -> None:
    where = f"form.ui.prefill.{name}"
    if prefill["source"] == "licence":
        if prefill.get("resource"):
            raise InvalidInput(_("A prefill from a licence names no catalog resource."), field=where)
        if prefill["field"] not in _licence_fields(_licence_type(prefill.get("licence_type"), where)):
            raise InvalidInput(_("The licence type has no field %(field)s.") % {"field": prefill["field"]},
                               field=where)
    else:
        if prefill.get("licence_type"):
            raise InvalidInput(_("A prefill from a registry names no licence type."), field=where)
        if prefill["field"] not in _resource_fields(_resource(prefill.get("resource"), where)):
            raise InvalidInput(_("The catalog resource has no field %(field)s.") % {"field": prefill["field"]},
                               field=where)


def _clean_form(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = dict(form.get("schema") or {})
    ui = dict(form.get("ui") or {})
    if not schema:
        if ui:
            raise InvalidInput(_("Form hints need a form schema."), field="form.ui")
        return {}, {}
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise InvalidInput(_("The form is not a valid JSON Schema: %(error)s") % {"error": error.message},
                           field="form.schema") from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise InvalidInput(_("The form's schema is an object with properties."), field="form.schema")
    properties = set(schema["properties"])
    order = list(ui.get("order") or [])
    for name in [*order, *(ui.get("widgets") or {}), *(ui.get("prefill") or {})]:
        if name not in properties:
            raise InvalidInput(_("The form has no field %(field)s.") % {"field": name}, field="form.ui")
    if len(set(order)) != len(order):
        raise InvalidInput(_("A field is listed twice in the form's order."), field="form.ui")
    for name, prefill in (ui.get("prefill") or {}).items():
        _check_prefill(name, prefill)
    return schema, ui


def clean_material(position: int, material: Mapping[str, Any]) -> dict[str, Any]:
    """Check one material definition (already matching the format) and return its model values; raise InvalidInput."""
    where = f"materials.{position}"
    source = material["source"]
    kind = source["kind"]
    values: dict[str, Any] = {
        "position": position,
        "name": str(material["name"]).strip(),
        "name_en": _text(material, "name_en"),
        "description": _text(material, "description"),
        "description_en": _text(material, "description_en"),
        "required": bool(material.get("required", True)),
        "source": kind,
        "accepted_types": [],
        "max_size_mb": None,
        "licence_type": None,
        "resource": None,
        "resource_fields": [],
    }
    if not values["name"]:
        raise InvalidInput(_("Name every material."), field=where)
    extras = {key for key in ("accepted_types", "max_size_mb", "licence_type", "resource", "fields") if key in source}
    allowed = {
        Material.Source.UPLOAD: {"accepted_types", "max_size_mb"},
        Material.Source.LICENCE: {"licence_type"},
        Material.Source.REGISTRY: {"resource", "fields"},
    }[kind]
    if extras - allowed:
        raise InvalidInput(_("A material's source names only what its kind needs."), field=where)
    if kind == Material.Source.UPLOAD:
        values["accepted_types"] = list(dict.fromkeys(source.get("accepted_types") or ["pdf", "jpg", "png"]))
        values["max_size_mb"] = int(source.get("max_size_mb") or 10)
    elif kind == Material.Source.LICENCE:
        values["licence_type"] = _licence_type(source.get("licence_type"), where)
    else:
        resource = _resource(source.get("resource"), where)
        wanted = list(dict.fromkeys(source.get("fields") or []))
        if not wanted:
            raise InvalidInput(_("Name the fields read from the catalog resource."), field=where)
        unknown = [name for name in wanted if name not in _resource_fields(resource)]
        if unknown:
            raise InvalidInput(_("The catalog resource has no field %(field)s.") % {"field": unknown[0]},
                               field=where)
        values.update(resource=resource, resource_fields=wanted)
    return values


def clean_item(definition: Any) -> CleanItem:
    """Check one item definition of the catalog format and return it resolved; raise InvalidInput.

    The error names the element at fault (``field``) and, for the format
    itself, lists the schema's complaints (``errors``).
    """
    errors = schema_errors(definition, "item")
    if errors:
        first = errors[0]
        raise InvalidInput(_("The item does not match the catalog format at %(path)s: %(message)s")
                           % {"path": first["path"] or "/", "message": first["message"]},
                           field=first["path"].split("/")[0] or None, errors=errors)
    department = find_department(definition["department"], "department")
    region = department.region
    if definition.get("region"):
        region = Region.objects.filter(code=definition["region"]).first()  # type: ignore[assignment]
        if region is None:
            raise InvalidInput(_("There is no such region."), field="region")
        if not contains(department.region, region):
            raise InvalidInput(_("An item is handled in its department's region or within it."), field="region")
    joint = [find_department(reference, "joint_departments") for reference in definition.get("joint_departments", [])]
    if department in joint or len({d.pk for d in joint}) != len(joint):
        raise InvalidInput(_("List each joint department once, and not the implementing one."),
                           field="joint_departments")
    statutory, promised = definition["statutory_days"], definition["promised_days"]
    if promised > statutory:
        raise InvalidInput(_("The promised time limit cannot exceed the statutory one."), field="promised_days")
    mode = definition["handling_mode"]
    trips = int(definition.get("in_person_trips", 0 if mode == ServiceItem.HandlingMode.FULLY_ONLINE else 1))
    if mode == ServiceItem.HandlingMode.FULLY_ONLINE and trips:
        raise InvalidInput(_("A fully online item needs no trip in person."), field="in_person_trips")
    if mode in (ServiceItem.HandlingMode.AT_MOST_ONE_TRIP, ServiceItem.HandlingMode.ONLINE_PREVIEW) and trips > 1:
        raise InvalidInput(_("This handling mode allows at most one trip."), field="in_person_trips")
    form_schema, form_ui = _clean_form(definition.get("form") or {})
    process = definition.get("process") or {}
    materials = [clean_material(position, material)
                 for position, material in enumerate(definition.get("materials", []))]
    names = [material["name"] for material in materials]
    if len(set(names)) != len(names):
        raise InvalidInput(_("Two materials have the same name."), field="materials")
    keywords = list(dict.fromkeys(str(word).strip() for word in definition.get("keywords", []) if str(word).strip()))
    values = {
        "name": str(definition["name"]).strip(),
        "name_en": _text(definition, "name_en"),
        "item_type": definition["type"],
        "department": department,
        "region": region,
        "legal_basis": str(definition["legal_basis"]).strip(),
        "legal_basis_en": _text(definition, "legal_basis_en"),
        "conditions": str(definition["conditions"]).strip(),
        "conditions_en": _text(definition, "conditions_en"),
        "statutory_days": statutory,
        "promised_days": promised,
        "fees": _clean_fees(definition.get("fees", [])),
        "handling_mode": mode,
        "in_person_trips": trips,
        "instant_approval": bool(definition.get("instant_approval", False)),
        **_clean_result(definition.get("result") or {"kind": "none"}),
        "form_schema": form_schema,
        "form_ui": form_ui,
        "process_xml": check_process_definition(process.get("bpmn", "")),
        "rules_xml": check_rules_definition(process.get("dmn", "")),
        "keywords": keywords,
        "audience": definition["audience"],
    }
    for key in ("name", "legal_basis", "conditions"):
        if not values[key]:
            raise InvalidInput(_("This element is required."), field=key)
    return CleanItem(
        code=str(definition["code"]), values=values, joint_departments=sorted(joint, key=lambda d: d.pk),
        topics=sorted(set(definition.get("topics", []))), materials=materials, keywords=keywords,
    )


# -- the other way: an item as the format describes it ----------------------------------------------


def item_document(item: ServiceItem) -> dict[str, Any]:
    """Return ``item`` in the catalog format (with its version and status).

    Reads the item's related rows: prefetch ``joint_departments``,
    ``topics`` and ``materials`` (with their licence types and resources) for lists.
    """
    result: dict[str, Any] = {"kind": item.result_kind}
    if item.result_kind == ServiceItem.ResultKind.LICENCE and item.result_licence_type is not None:
        result["licence_type"] = item.result_licence_type.code
    elif item.result_kind == ServiceItem.ResultKind.DOCUMENT:
        result.update(name=item.result_name, name_en=item.result_name_en)
    form: dict[str, Any] = {}
    if item.form_schema:
        form = {"schema": item.form_schema, "ui": item.form_ui}
    return {
        "code": item.code,
        "version": item.version,
        "status": item.status,
        "name": item.name,
        "name_en": item.name_en,
        "type": item.item_type,
        "department": department_reference(item.department),
        "region": item.region.code,
        "joint_departments": [department_reference(d) for d in item.joint_departments.all()],
        "legal_basis": item.legal_basis,
        "legal_basis_en": item.legal_basis_en,
        "conditions": item.conditions,
        "conditions_en": item.conditions_en,
        "statutory_days": item.statutory_days,
        "promised_days": item.promised_days,
        "fees": item.fees,
        "handling_mode": item.handling_mode,
        "in_person_trips": item.in_person_trips,
        "instant_approval": item.instant_approval,
        "result": result,
        "form": form,
        "process": {"bpmn": item.process_xml, "dmn": item.rules_xml},
        "keywords": item.keywords,
        "topics": [entry.topic for entry in item.topics.all()],
        "audience": item.audience,
        "materials": [material_document(material) for material in item.materials.all()],
    }


def material_document(material: Material) -> dict[str, Any]:
    """Return one material in the catalog format."""
    source: dict[str, Any] = {"kind": material.source}
    if material.source == Material.Source.UPLOAD:
        source.update(accepted_types=material.accepted_types, max_size_mb=material.max_size_mb)
    elif material.source == Material.Source.LICENCE and material.licence_type is not None:
        source["licence_type"] = material.licence_type.code
    elif material.resource is not None:
        source.update(resource=material.resource.code, fields=material.resource_fields)
    return {
        "name": material.name, "name_en": material.name_en, "required": material.required,
        "description": material.description, "description_en": material.description_en, "source": source,
    }
