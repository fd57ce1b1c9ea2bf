"""`find_incompatibilities` on hand-made schema pairs, shaped like pydantic's output."""

import copy
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from returns_contracts import Incompatibility, find_incompatibilities

STRING: dict[str, Any] = {"type": "string"}
NULLABLE_STRING: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}


def message_schema() -> dict[str, Any]:
    """A small message: envelope-like root, a payload in $defs, a nested item in $defs."""
    return {
        "$defs": {
            "Item": {
                "additionalProperties": False,
                "properties": {
                    "sku": {"title": "Sku", "type": "string"},
                    "quantity": {"minimum": 1, "title": "Quantity", "type": "integer"},
                    "kind": {"enum": ["refund", "exchange"], "type": "string"},
                    "comment": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                },
                "required": ["sku", "quantity", "kind"],
                "title": "Item",
                "type": "object",
            },
            "Payload": {
                "additionalProperties": False,
                "properties": {
                    "return_id": {"minLength": 1, "title": "Return Id", "type": "string"},
                    "items": {
                        "items": {"$ref": "#/$defs/Item"},
                        "maxItems": 5,
                        "type": "array",
                    },
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                    "at": {"format": "date-time", "type": "string"},
                },
                "required": ["return_id", "items", "at"],
                "title": "Payload",
                "type": "object",
            },
        },
        "additionalProperties": False,
        "properties": {
            "type": {"const": "Thing", "default": "Thing", "type": "string"},
            "version": {"const": 1, "default": 1, "type": "integer"},
            "payload": {"$ref": "#/$defs/Payload"},
        },
        "required": ["type", "version", "payload"],
        "title": "Thing",
        "type": "object",
    }


def payload(schema: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = schema["$defs"]["Payload"]
    return result


def item(schema: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = schema["$defs"]["Item"]
    return result


def changed(edit: Any) -> list[str]:
    old = message_schema()
    new = copy.deepcopy(old)
    edit(new)
    return [str(problem) for problem in find_incompatibilities(old, new)]


def test_identical_schemas_are_compatible() -> None:
    assert find_incompatibilities(message_schema(), message_schema()) == []


def test_annotations_are_ignored() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["description"] = "new words"
        payload(schema)["properties"]["return_id"]["title"] = "Return"
        item(schema)["properties"]["comment"]["default"] = "none"
        schema["x-kafka"] = {"topic": "t"}

    assert changed(edit) == []


def test_added_optional_property_is_compatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["channel"] = NULLABLE_STRING
        item(schema)["properties"]["colour"] = {"default": "blue", "type": "string"}

    assert changed(edit) == []


def test_added_required_property_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["channel"] = STRING
        payload(schema)["required"].append("channel")

    assert changed(edit) == [
        "Thing.payload.channel: new required property (old producers do not send it)"
    ]


def test_removed_property_is_incompatible() -> None:
    assert changed(lambda s: payload(s)["properties"].pop("note")) == [
        "Thing.payload.note: property removed or renamed"
    ]


def test_renamed_property_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        properties = payload(schema)["properties"]
        properties["return_ref"] = properties.pop("return_id")
        payload(schema)["required"] = ["return_ref", "items", "at"]

    assert changed(edit) == [
        "Thing.payload.return_id: property removed or renamed",
        "Thing.payload.return_ref: new required property (old producers do not send it)",
    ]


def test_type_change_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["return_id"] = {"type": "integer"}

    assert changed(edit) == ["Thing.payload.return_id: type changed from string to integer"]


def test_string_format_change_is_a_type_change() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["at"] = {"format": "date", "type": "string"}

    assert changed(edit) == [
        "Thing.payload.at: type changed from string (date-time) to string (date)"
    ]


def test_nested_type_change_is_incompatible() -> None:
    """A change inside a $defs model reached through an array of $refs."""

    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["quantity"] = {"type": "number"}

    assert changed(edit) == ["Thing.payload.items[].quantity: type changed from integer to number"]


def test_nested_property_removed_is_incompatible() -> None:
    assert changed(lambda s: item(s)["properties"].pop("comment")) == [
        "Thing.payload.items[].comment: property removed or renamed"
    ]


def test_renamed_definition_with_same_shape_is_compatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        schema["$defs"]["ReturnedItem"] = schema["$defs"].pop("Item")
        payload(schema)["properties"]["items"]["items"] = {"$ref": "#/$defs/ReturnedItem"}

    assert changed(edit) == []


def test_optional_made_required_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["note"] = STRING
        payload(schema)["required"].append("note")

    assert changed(edit) == [
        "Thing.payload.note: optional property made required",
        "Thing.payload.note: type narrowed: null no longer accepted",
    ]


def test_required_made_optional_is_incompatible() -> None:
    payload_required = ["return_id", "items"]

    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["required"] = payload_required

    assert changed(edit) == [
        "Thing.payload.at: required property made optional (consumers of v1 rely on it)"
    ]


def test_type_widened_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["sku"] = {"type": ["string", "integer"]}

    assert changed(edit) == ["Thing.payload.items[].sku: type widened: now also accepts integer"]


def test_made_nullable_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["sku"] = {"anyOf": [STRING, {"type": "null"}]}

    assert changed(edit) == [
        "Thing.payload.items[].sku: type changed: now nullable (consumers of v1 expect a value)"
    ]


def test_enum_narrowed_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["kind"]["enum"] = ["refund"]

    assert changed(edit) == [
        'Thing.payload.items[].kind: enum narrowed: "exchange" no longer accepted'
    ]


def test_enum_widened_is_compatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["kind"]["enum"] = ["refund", "exchange", "store_credit"]

    assert changed(edit) == []


def test_const_changed_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        schema["properties"]["version"] = {"const": 2, "default": 2, "type": "integer"}

    assert changed(edit) == ["Thing.version: constant changed from 1 to 2"]


def test_free_string_narrowed_to_enum_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["return_id"] = {"enum": ["a", "b"], "type": "string"}

    assert changed(edit) == ['Thing.payload.return_id: values narrowed to string "a" | "b"']


def test_stricter_bounds_are_incompatible_and_looser_ones_compatible() -> None:
    def stricter(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["quantity"]["minimum"] = 2
        payload(schema)["properties"]["items"]["maxItems"] = 3
        item(schema)["properties"]["sku"]["maxLength"] = 20
        item(schema)["properties"]["sku"]["pattern"] = "^[A-Z]+$"

    assert changed(stricter) == [
        "Thing.payload.items: maxItems made stricter: 5 -> 3",
        "Thing.payload.items[].sku: maxLength 20 added",
        "Thing.payload.items[].sku: pattern changed to '^[A-Z]+$'",
        "Thing.payload.items[].quantity: minimum made stricter: 1 -> 2",
    ]

    def looser(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["quantity"]["minimum"] = 0
        del payload(schema)["properties"]["items"]["maxItems"]

    assert changed(looser) == []


def test_additional_properties_forbidden_is_incompatible() -> None:
    old = {"properties": {"a": STRING}, "type": "object", "title": "Open"}
    new = {**old, "additionalProperties": False}
    assert [str(p) for p in find_incompatibilities(old, new)] == [
        "Open: additional properties no longer allowed"
    ]
    assert find_incompatibilities(new, old) == []


def test_recursive_schemas_terminate() -> None:
    tree: dict[str, Any] = {
        "$defs": {
            "Node": {
                "properties": {
                    "name": STRING,
                    "children": {"items": {"$ref": "#/$defs/Node"}, "type": "array"},
                },
                "required": ["name"],
                "type": "object",
            }
        },
        "$ref": "#/$defs/Node",
        "title": "Tree",
    }
    assert find_incompatibilities(tree, copy.deepcopy(tree)) == []
    narrowed = copy.deepcopy(tree)
    narrowed["$defs"]["Node"]["properties"]["name"] = {"type": "integer"}
    change = "type changed from string to integer"
    assert find_incompatibilities(tree, narrowed) == [
        Incompatibility("Tree.name", change),
        Incompatibility("Tree.children[].name", change),
    ]


def test_unresolvable_ref_is_an_error() -> None:
    schema = {"properties": {"a": {"$ref": "other.json#/A"}}, "type": "object"}
    with pytest.raises(ValueError, match="cannot resolve"):
        find_incompatibilities(schema, schema)


# --- on real pydantic schemas -----------------------------------------------------------------


def test_literal_narrowed_in_pydantic_models() -> None:
    class Before(BaseModel):
        locale: Literal["fr", "en", "de"]

    class After(BaseModel):
        locale: Literal["fr", "en"]

    problems = find_incompatibilities(Before.model_json_schema(), After.model_json_schema())
    assert [p.reason for p in problems] == ['enum narrowed: "de" no longer accepted']


def test_optional_field_added_in_pydantic_models() -> None:
    class Before(BaseModel):
        name: str

    class After(BaseModel):
        name: str
        phone: str | None = None

    assert find_incompatibilities(Before.model_json_schema(), After.model_json_schema()) == []
    assert [
        p.reason
        for p in find_incompatibilities(After.model_json_schema(), Before.model_json_schema())
    ] == ["property removed or renamed"]
