"""The OpenAPI schema is valid without warnings, documents the errors, and the docs work offline."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from tests.factories import make_case

pytestmark = pytest.mark.django_db


def test_spectacular_validates_without_warnings(tmp_path: Any) -> None:
    out = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(out),
        stderr=StringIO(),
    )
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    assert "/api/v1/cases/{id}/whistle/" in paths
    assert "/api/v1/orders/{id}/extension/" in paths
    assert "/api/v1/extensions/{id}/org-decision/" in paths
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "apiKeyAuth", "cookieAuth"}


def test_every_operation_documents_its_errors() -> None:
    schema = Client().get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "503"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method == "post":
                assert {"400", "409"} <= codes, (method, path)
            if "requestBody" in operation:
                assert "415" in codes, (method, path)  # a body sent without a Content-Type, say
            for code in codes - {"200", "201"}:  # every error, a view's own 429 too, in the one shape
                error = operation["responses"][code]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/Error"}, (method, path, code)


def test_docs_are_served_without_a_cdn() -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    external = [
        u for u in re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) if u.startswith(("http", "//"))
    ]
    assert external == []
    assert "/static/drf_spectacular_sidecar/" in html
    for cdn in ("jsdelivr", "unpkg", "cdnjs", "googleapis"):
        assert cdn not in html


def test_schema_is_public_and_yaml_by_default() -> None:
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"].startswith("街巷通")


def test_a_body_in_no_media_type_is_a_documented_415(api_as: Any, world: Any) -> None:
    # Schemathesis sends a raw "multipart" body this way: with no Content-Type at all.
    case = make_case(world)
    response = api_as("chief_x").generic(
        "POST", f"/api/v1/cases/{case.pk}/chase/", b"note=x", content_type=""
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    schema = Client().get("/api/schema/?format=json").json()
    assert "415" in schema["paths"]["/api/v1/cases/{id}/chase/"]["post"]["responses"]
