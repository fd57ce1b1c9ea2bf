"""The OpenAPI document: every operation has examples, every error the one documented shape."""

from __future__ import annotations

from typing import Any

import pytest

from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.app import create_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    # Building the app connects to nothing; only its lifespan would.
    openapi: dict[str, Any] = create_app(DeclarationSettings()).openapi()
    return openapi


def _schema(document: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = content["application/json"]["schema"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        resolved: dict[str, Any] = document["components"]["schemas"][name]
        return resolved
    return schema


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in methods.items()
    ]


def test_every_body_and_answer_has_an_example(document: dict[str, Any]) -> None:
    missing = []
    for path, method, operation in _operations(document):
        if "requestBody" in operation:
            body = _schema(document, operation["requestBody"]["content"])
            if not body.get("examples"):
                missing.append(f"{method.upper()} {path} request")
        for status, answer in operation["responses"].items():
            if status.startswith("2") and "content" in answer:
                schema = _schema(document, answer["content"])
                if schema and not schema.get("examples"):
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == []


def test_every_error_answer_has_the_one_shape(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        errors = {
            status: answer for status, answer in operation["responses"].items() if status[0] in "45"
        }
        assert {"401", "404", "422"} <= errors.keys(), f"{method} {path}"
        for status, answer in errors.items():
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorBody"), f"{method} {path} {status}"
