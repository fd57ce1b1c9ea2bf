"""`find_incompatibilities` on hand-made schema pairs, shaped like pydantic's output.

Each change says which direction it breaks: backward (new consumers reading old messages) or
forward (old consumers reading new messages; they ignore properties they do not know).
"""

import copy
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from returns_contracts import Incompatibility, find_incompatibilities
from returns_contracts.compat import BACKWARD, FORWARD, Direction

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


def _edited(edit: Any) -> dict[str, Any]:
    new = message_schema()
    edit(new)
    return new


def changed(edit: Any) -> list[str]:
    return [str(problem) for problem in find_incompatibilities(message_schema(), _edited(edit))]


def test_identical_schemas_are_compatible() -> None:
    assert find_incompatibilities(message_schema(), message_schema()) == []


def test_annotations_are_ignored() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["description"] = "new words"
        payload(schema)["properties"]["return_id"]["title"] = "Return"
        item(schema)["properties"]["comment"]["default"] = "none"
        schema["x-kafka"] = {"topic": "t"}

    assert changed(edit) == []


def test_added_optional_property_is_compatible_both_ways() -> None:
    """Old consumers ignore it (tolerant reading); new consumers get its default from old ones."""

    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["channel"] = NULLABLE_STRING
        item(schema)["properties"]["colour"] = {"default": "blue", "type": "string"}

    assert changed(edit) == []


def test_added_required_property_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["channel"] = STRING
        payload(schema)["required"].append("channel")

    assert changed(edit) == [
        "Thing.payload.channel: new required property (old producers do not send it) "
        "(breaks backward)"
    ]


def test_removed_property_breaks_forward() -> None:
    assert changed(lambda s: payload(s)["properties"].pop("note")) == [
        "Thing.payload.note: property removed or renamed (old consumers read its default "
        "instead) (breaks forward)"
    ]

    def remove_required(schema: dict[str, Any]) -> None:
        payload(schema)["properties"].pop("at")
        payload(schema)["required"].remove("at")

    assert changed(remove_required) == [
        "Thing.payload.at: required property removed (old consumers need it) (breaks forward)"
    ]


def test_renamed_property_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        properties = payload(schema)["properties"]
        properties["return_ref"] = properties.pop("return_id")
        payload(schema)["required"] = ["return_ref", "items", "at"]

    assert changed(edit) == [
        "Thing.payload.return_id: required property removed (old consumers need it) "
        "(breaks forward)",
        "Thing.payload.return_ref: new required property (old producers do not send it) "
        "(breaks backward)",
    ]


def test_type_change_is_incompatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["return_id"] = {"type": "integer"}

    assert changed(edit) == [
        "Thing.payload.return_id: type changed from string to integer (breaks backward and "
        "forward)",
    ]


def test_string_format_change_is_a_type_change() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["at"] = {"format": "date", "type": "string"}

    assert changed(edit) == [
        "Thing.payload.at: type changed from string (date-time) to string (date) "
        "(breaks backward and forward)"
    ]


def test_nested_type_change_is_incompatible() -> None:
    """A change inside a $defs model reached through an array of $refs."""

    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["quantity"] = {"type": "number"}

    assert changed(edit) == [
        "Thing.payload.items[].quantity: type changed from integer to number "
        "(breaks backward and forward)",
    ]


def test_nested_property_removed_breaks_forward() -> None:
    assert changed(lambda s: item(s)["properties"].pop("comment")) == [
        "Thing.payload.items[].comment: property removed or renamed (old consumers read its "
        "default instead) (breaks forward)"
    ]


def test_renamed_definition_with_same_shape_is_compatible() -> None:
    def edit(schema: dict[str, Any]) -> None:
        schema["$defs"]["ReturnedItem"] = schema["$defs"].pop("Item")
        payload(schema)["properties"]["items"]["items"] = {"$ref": "#/$defs/ReturnedItem"}

    assert changed(edit) == []


def test_optional_made_required_breaks_backward() -> None:
    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["note"] = STRING
        payload(schema)["required"].append("note")

    assert changed(edit) == [
        "Thing.payload.note: optional property made required (old producers may omit it) "
        "(breaks backward)",
        "Thing.payload.note: type narrowed: null no longer accepted (breaks backward)",
    ]


def test_required_made_optional_breaks_forward() -> None:
    payload_required = ["return_id", "items"]

    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["required"] = payload_required

    assert changed(edit) == [
        "Thing.payload.at: required property made optional (old consumers rely on it) "
        "(breaks forward)"
    ]


def test_type_widened_breaks_forward() -> None:
    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["sku"] = {"type": ["string", "integer"]}

    assert changed(edit) == [
        "Thing.payload.items[].sku: type widened: now also accepts integer (old consumers do "
        "not) (breaks forward)"
    ]


def test_made_nullable_breaks_forward() -> None:
    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["sku"] = {"anyOf": [STRING, {"type": "null"}]}

    assert changed(edit) == [
        "Thing.payload.items[].sku: type changed: now nullable (old consumers expect a value) "
        "(breaks forward)"
    ]


def test_enum_narrowed_breaks_backward() -> None:
    """Old messages may carry the value that is gone."""

    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["kind"]["enum"] = ["refund"]

    assert changed(edit) == [
        'Thing.payload.items[].kind: enum narrowed: "exchange" no longer accepted (breaks backward)'
    ]


def test_enum_widened_breaks_forward() -> None:
    """An old consumer dead-letters a message with a value it does not know."""

    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["kind"]["enum"] = ["refund", "exchange", "store_credit"]

    assert changed(edit) == [
        'Thing.payload.items[].kind: enum widened: "store_credit" now accepted (old consumers '
        "reject it) (breaks forward)"
    ]


def test_const_changed_breaks_both_ways() -> None:
    def edit(schema: dict[str, Any]) -> None:
        schema["properties"]["version"] = {"const": 2, "default": 2, "type": "integer"}

    assert changed(edit) == [
        "Thing.version: constant changed from 1 to 2 (breaks backward and forward)"
    ]


def test_free_string_narrowed_to_enum_breaks_backward_and_back_forward() -> None:
    """Narrowed to an enum, old messages may hold other strings; widened back, old consumers."""

    def edit(schema: dict[str, Any]) -> None:
        payload(schema)["properties"]["return_id"] = {"enum": ["a", "b"], "type": "string"}

    assert changed(edit) == [
        'Thing.payload.return_id: values narrowed to string "a" | "b" (breaks backward)',
        "Thing.payload.return_id: minLength 1 removed (breaks forward)",
    ]

    def back_to_free(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["kind"] = {"type": "string"}

    assert changed(back_to_free) == [
        'Thing.payload.items[].kind: values widened from string "refund" | "exchange" to any '
        "string (breaks forward)"
    ]


def test_stricter_bounds_break_backward_and_looser_ones_forward() -> None:
    def stricter(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["quantity"]["minimum"] = 2
        payload(schema)["properties"]["items"]["maxItems"] = 3
        item(schema)["properties"]["sku"]["maxLength"] = 20
        item(schema)["properties"]["sku"]["pattern"] = "^[A-Z]+$"

    assert changed(stricter) == [
        "Thing.payload.items: maxItems made stricter: 5 -> 3 (breaks backward)",
        "Thing.payload.items[].sku: maxLength 20 added (breaks backward)",
        "Thing.payload.items[].sku: pattern '^[A-Z]+$' added (breaks backward)",
        "Thing.payload.items[].quantity: minimum made stricter: 1 -> 2 (breaks backward)",
    ]

    def looser(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["quantity"]["minimum"] = 0
        del payload(schema)["properties"]["items"]["maxItems"]

    assert changed(looser) == [
        "Thing.payload.items: maxItems 5 removed (breaks forward)",
        "Thing.payload.items[].quantity: minimum made looser: 1 -> 0 (breaks forward)",
    ]

    old = message_schema()
    payload(old)["properties"]["return_id"]["pattern"] = "^r-"
    new = copy.deepcopy(old)
    payload(new)["properties"]["return_id"]["pattern"] = "^R-"
    assert [str(p) for p in find_incompatibilities(old, new)] == [
        "Thing.payload.return_id: pattern changed to '^R-' (breaks backward and forward)"
    ]
    assert [str(p) for p in find_incompatibilities(old, message_schema())] == [
        "Thing.payload.return_id: pattern '^r-' removed (breaks forward)"
    ]


def test_allowing_or_forbidding_unknown_properties_breaks_nothing() -> None:
    """Readers ignore unknown properties, so closing or opening a model changes no reader."""
    old = {"properties": {"a": STRING}, "type": "object", "title": "Open"}
    new = {**old, "additionalProperties": False}
    assert find_incompatibilities(old, new) == []
    assert find_incompatibilities(new, old) == []


def test_map_values_are_compared_like_properties() -> None:
    """`additionalProperties: {...}` is a map (dict field) whose values readers do check."""
    any_map = {"additionalProperties": True, "type": "object", "title": "Map"}
    int_map = {"additionalProperties": {"type": "integer"}, "type": "object", "title": "Map"}
    str_map = {"additionalProperties": STRING, "type": "object", "title": "Map"}
    assert [str(p) for p in find_incompatibilities(any_map, int_map)] == [
        "Map: map values restricted (breaks backward)"
    ]
    assert [str(p) for p in find_incompatibilities(int_map, any_map)] == [
        "Map: map values widened to any (old consumers check them) (breaks forward)"
    ]
    assert [str(p) for p in find_incompatibilities(int_map, str_map)] == [
        "Map{*}: type changed from integer to string (breaks backward and forward)"
    ]


def test_each_problem_states_its_directions() -> None:
    def edit(schema: dict[str, Any]) -> None:
        item(schema)["properties"]["kind"]["enum"] = ["refund", "store_credit"]

    problems = find_incompatibilities(message_schema(), _edited(edit))
    assert [(p.path, p.backward, p.forward) for p in problems] == [
        ("Thing.payload.items[].kind", True, False),
        ("Thing.payload.items[].kind", False, True),
    ]
    assert [p.breaks for p in problems] == [frozenset({BACKWARD}), frozenset({FORWARD})]


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
    both: frozenset[Direction] = frozenset({BACKWARD, FORWARD})
    assert find_incompatibilities(tree, narrowed) == [
        Incompatibility("Tree.name", change, both),
        Incompatibility("Tree.children[].name", change, both),
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
    assert [(p.reason, p.breaks) for p in problems] == [
        ('enum narrowed: "de" no longer accepted', frozenset({BACKWARD}))
    ]
    problems = find_incompatibilities(After.model_json_schema(), Before.model_json_schema())
    assert [(p.reason, p.breaks) for p in problems] == [
        ('enum widened: "de" now accepted (old consumers reject it)', frozenset({FORWARD}))
    ]


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
    ] == ["property removed or renamed (old consumers read its default instead)"]
