"""Open311's two formats: XML (required by the spec) and JSON (its Spark-convention mapping).

The XML is schemaless and without namespace, as the spec asks: a root element, one
child element per item of a list (``services`` → ``service``, ``service_requests`` →
``request``), ``true``/``false`` for booleans and empty elements for missing values.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

from core.text import strip_structure, xml_text

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The element name of one item of each list, by the list's element name.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    # Old rows may hold characters XML 1.0 forbids (a vertical tab pasted from Word).
    return xml_text(str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        tag = ITEM_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """``data`` (a list for list roots, a dict otherwise) as an XML document with a UTF-8 declaration."""
    element = ET.Element(root)
    _fill(element, data)
    body = ET.tostring(element, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}'.encode()


def render(data: Any, fmt: str, *, root: str, status: int = 200) -> HttpResponse:
    """The response in the requested format (``root`` names the XML root element)."""
    if fmt == "xml":
        content = to_xml(root, data)
    else:
        # JSON could escape them, but a client copying a text into its own XML should not have to.
        content = json.dumps(strip_structure(data), ensure_ascii=False).encode()
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES.get(fmt, CONTENT_TYPES["xml"]))


def render_errors(fmt: str, status: int, *descriptions: str, code: int | None = None) -> HttpResponse:
    """The spec's error array: one ``{code, description}`` per problem, with the HTTP status."""
    errors = [{"code": code or status, "description": str(text)} for text in descriptions]
    return render(errors, fmt if fmt in FORMATS else "xml", root="errors", status=status)
