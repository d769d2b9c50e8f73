"""Reading BPMN and DMN documents safely, and the namespaces they use."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH, BpmnValidator

from tongban.kernel.workflow.errors import ProcessDefinitionError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}

#: How large a process or rules document may be.
MAX_DOCUMENT_CHARS = 2_000_000

_DOCTYPE = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def parse_document(text: str, what: str) -> Any:
    """Return the root element of the XML ``text``; refuse DTDs, entities and anything unreadable.

    ``what`` names the document in messages ("process", "rules").
    """
    if not isinstance(text, str) or not text.strip():
        raise ProcessDefinitionError(f"The {what} document is empty.")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise ProcessDefinitionError(f"The {what} document is longer than {MAX_DOCUMENT_CHARS} characters.")
    if _DOCTYPE.search(text):
        raise ProcessDefinitionError(f"The {what} document may not declare a DTD or entities.")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        return etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as error:
        raise ProcessDefinitionError(f"The {what} document is not well-formed XML: {error}") from None


def fingerprint(documents: Iterable[str]) -> str:
    """Return the SHA-256 hex digest over the documents, each prefixed by its length."""
    digest = hashlib.sha256()
    for text in documents:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def local_name(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def describe(element: Any) -> str:
    """Return how messages name an element: ``userTask 'review' (Review the application)``."""
    name = element.get("name")
    text = f"{local_name(element)} {element.get('id')!r}"
    return f"{text} ({name})" if name else text


def extension_properties(element: Any) -> dict[str, str]:
    """Return the element's ``camunda:properties`` as a dict (the Camunda Modeler's "Extension properties")."""
    found: dict[str, str] = {}
    for prop in element.findall(
        "bpmn:extensionElements/camunda:properties/camunda:property", NSMAP
    ):
        name = prop.get("name")
        if name:
            found[name] = prop.get("value") or ""
    return found


def said(error: Exception) -> str:
    """Return SpiffWorkflow's message for ``error`` without its trailing dots."""
    return str(error).strip().rstrip(". ")


_validators = threading.local()


def schema_validator(xsd_path: str = XSD_PATH) -> Any:
    """Return SpiffWorkflow's XSD validator for ``xsd_path`` (BPMN 2.0 by default).

    Building one reads the schema (about 25 ms), so each thread keeps its own;
    lxml schema objects are not shared between threads.
    """
    cache: dict[str, Any] | None = getattr(_validators, "by_path", None)
    if cache is None:
        cache = _validators.by_path = {}
    if xsd_path not in cache:
        cache[xsd_path] = BpmnValidator(xsd_path)
    return cache[xsd_path]
