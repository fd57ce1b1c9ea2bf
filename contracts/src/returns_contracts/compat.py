"""Compatibility of two JSON Schemas of the same message version, in each direction.

`find_incompatibilities(committed, generated)` lists the changes from the committed schema
(old) to the one the model generates now (new), each with the direction(s) it breaks:

- **backward**: consumers on the new schema read messages written under the old one (messages
  still in the topics, producers not yet redeployed);
- **forward**: consumers still on the old schema read messages written under the new one (a
  rolling deploy upgrades producers before every consumer).

Both matter during a rolling deploy, so a published version accepts only changes that break
neither; anything else is a new version. The rules assume what the contracts do: producers are
strict (a schema's `additionalProperties: false` says what they may write) and consumers are
tolerant (`parse_message` ignores properties it does not know). Old -> new:

- a new optional property breaks nothing (old consumers ignore it; old producers, pydantic
  models, never wrote a property they did not declare); a new required one breaks backward;
- a property removed (or renamed: a removal plus an addition) breaks forward: old consumers
  need it when it was required, and silently read its default when it was optional;
- an optional property made required breaks backward; a required one made optional, forward;
- a type change breaks, at any depth (`$ref`s into `$defs` are followed): a JSON type or string
  format no longer accepted breaks backward, one newly accepted (including `null`) forward;
- narrowing the accepted values breaks backward (enum/const values removed, a bound, length,
  item count or pattern made stricter or added), widening them breaks forward (values added, a
  bound made looser or removed): an old consumer rejects the new values;
- whether unknown properties are allowed breaks nothing (readers ignore them either way); a
  schema for the values of a map (`additionalProperties: {...}`) is compared like a property.

Annotations (`title`, `description`, `default`, `examples`, `$schema`, `x-*`) are ignored.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

Schema = Mapping[str, Any]

Direction = Literal["backward", "forward"]
BACKWARD: Final = "backward"
"""New consumers cannot read some messages written under the old schema."""
FORWARD: Final = "forward"
"""Old consumers cannot read some messages written under the new schema."""
DIRECTIONS: tuple[Direction, ...] = (BACKWARD, FORWARD)

# Keyword -> True when a larger value is stricter (a lower bound), False when smaller is.
_BOUNDS: dict[str, bool] = {
    "minimum": True,
    "exclusiveMinimum": True,
    "minLength": True,
    "minItems": True,
    "minProperties": True,
    "maximum": False,
    "exclusiveMaximum": False,
    "maxLength": False,
    "maxItems": False,
    "maxProperties": False,
}


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One breaking change, at a dotted path such as `ReturnSubmitted.payload.items[].sku`."""

    path: str
    reason: str
    breaks: frozenset[Direction]
    """The direction(s) it breaks: `backward`, `forward` or both."""

    @property
    def backward(self) -> bool:
        """New consumers cannot read some old messages."""
        return BACKWARD in self.breaks

    @property
    def forward(self) -> bool:
        """Old consumers cannot read some new messages."""
        return FORWARD in self.breaks

    def __str__(self) -> str:
        directions = " and ".join(d for d in DIRECTIONS if d in self.breaks)
        return f"{self.path}: {self.reason} (breaks {directions})"


def find_incompatibilities(old: Schema, new: Schema) -> list[Incompatibility]:
    """The changes from `old` (committed) to `new` (generated) that break either direction."""
    comparison = _Comparison(old, new)
    root = old.get("title")
    comparison.compare(old, new, root if isinstance(root, str) else "$")
    return comparison.problems


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _kind(branch: Schema) -> str:
    """What a branch of a schema accepts, coarsely: JSON type, plus format for strings."""
    json_type = branch.get("type")
    if not isinstance(json_type, str):
        values = _allowed_values(branch)
        if values:
            types = {_json_type(value) for value in values}
            json_type = types.pop() if len(types) == 1 else "mixed"
        elif "properties" in branch or "additionalProperties" in branch:
            json_type = "object"
        elif "items" in branch or "prefixItems" in branch:
            json_type = "array"
        else:
            json_type = "any"
    if json_type == "string" and isinstance(branch.get("format"), str):
        return f"string ({branch['format']})"
    return json_type


def _allowed_values(branch: Schema) -> list[Any] | None:
    if "const" in branch:
        return [branch["const"]]
    enum = branch.get("enum")
    if isinstance(enum, list):
        return enum
    return None


def _bound(branch: Schema, keyword: str) -> float | None:
    value = branch.get(keyword)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _describe(branch: Schema) -> str:
    values = _allowed_values(branch)
    if values is not None:
        return f"{_kind(branch)} {' | '.join(json.dumps(v) for v in values)}"
    title = branch.get("title")
    if _kind(branch) == "object" and isinstance(title, str):
        return f"object {title}"
    return _kind(branch)


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems: list[Incompatibility] = []
        self._in_progress: set[tuple[int, int]] = set()

    def _add(self, path: str, reason: str, *breaks: Direction) -> None:
        self.problems.append(Incompatibility(path, reason, frozenset(breaks)))

    # --- walking -------------------------------------------------------------------------------

    @staticmethod
    def _resolve(root: Schema, node: Schema) -> Schema:
        """Follow `$ref` (and single-element `allOf`), keeping sibling keywords."""
        seen: set[str] = set()
        while True:
            all_of = node.get("allOf")
            if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], Mapping):
                rest = {k: v for k, v in node.items() if k != "allOf"}
                node = {**all_of[0], **rest}
                continue
            ref = node.get("$ref")
            if not isinstance(ref, str):
                return node
            if ref in seen or not ref.startswith("#/"):
                raise ValueError(f"cannot resolve $ref {ref!r}")
            seen.add(ref)
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **rest} if rest else target

    def _branches(self, root: Schema, node: Schema) -> list[Schema]:
        """The alternatives a schema accepts: `anyOf`/`oneOf` flattened, type lists split."""
        node = self._resolve(root, node)
        for keyword in ("anyOf", "oneOf"):
            alternatives = node.get(keyword)
            if isinstance(alternatives, list):
                return [
                    branch
                    for alternative in alternatives
                    for branch in self._branches(root, alternative)
                ]
        json_type = node.get("type")
        if isinstance(json_type, list):
            return [{**node, "type": one} for one in json_type]
        return [node]

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        old_branches = self._branches(self.old_root, old)
        new_branches = self._branches(self.new_root, new)
        new_kinds = {_kind(branch) for branch in new_branches}
        old_kinds = {_kind(branch) for branch in old_branches}
        if "any" in new_kinds:
            lost: list[Schema] = []
        else:
            lost = [branch for branch in old_branches if _kind(branch) not in new_kinds]
        if "any" in old_kinds:
            gained: list[Schema] = []
        else:
            gained = [branch for branch in new_branches if _kind(branch) not in old_kinds]
        if lost and gained:
            self._add(
                path,
                f"type changed from {self._list(old_branches)} to {self._list(new_branches)}",
                BACKWARD,
                FORWARD,
            )
        elif lost:
            self._add(path, f"type narrowed: {self._list(lost)} no longer accepted", BACKWARD)
        elif [_kind(branch) for branch in gained] == ["null"]:
            self._add(path, "type changed: now nullable (old consumers expect a value)", FORWARD)
        elif gained:
            self._add(
                path,
                f"type widened: now also accepts {self._list(gained)} (old consumers do not)",
                FORWARD,
            )
        for old_branch in old_branches:
            candidates = [branch for branch in new_branches if _kind(branch) == _kind(old_branch)]
            if candidates:
                self._compare_best(old_branch, candidates, path)

    @staticmethod
    def _list(branches: Sequence[Schema]) -> str:
        return " | ".join(_describe(branch) for branch in branches)

    def _compare_best(self, old: Schema, candidates: Sequence[Schema], path: str) -> None:
        """Compare with the matching new branch; among several, the one with fewest problems."""
        best: list[Incompatibility] | None = None
        title = old.get("title")
        ordered = sorted(candidates, key=lambda branch: branch.get("title") != title)
        for candidate in ordered:
            saved = self.problems
            self.problems = []
            self._compare_branch(old, candidate, path)
            found, self.problems = self.problems, saved
            if best is None or len(found) < len(best):
                best = found
            if not found:
                break
        self.problems.extend(best or [])

    def _compare_branch(self, old: Schema, new: Schema, path: str) -> None:
        guard = (id(old), id(new))
        if guard in self._in_progress:
            return  # a recursive schema, already being compared further up
        self._in_progress.add(guard)
        try:
            self._compare_values(old, new, path)
            self._compare_bounds(old, new, path)
            kind = _kind(old)
            if kind == "object":
                self._compare_objects(old, new, path)
            elif kind == "array":
                self._compare_arrays(old, new, path)
        finally:
            self._in_progress.discard(guard)

    # --- keyword checks ------------------------------------------------------------------------

    def _compare_values(self, old: Schema, new: Schema, path: str) -> None:
        old_values = _allowed_values(old)
        new_values = _allowed_values(new)
        if old_values is None and new_values is None:
            return
        if old_values is None:
            self._add(path, f"values narrowed to {_describe(new)}", BACKWARD)
            return
        if new_values is None:
            self._add(path, f"values widened from {_describe(old)} to any {_kind(new)}", FORWARD)
            return
        removed = [value for value in old_values if value not in new_values]
        added = [value for value in new_values if value not in old_values]
        if "const" in old and "const" in new and removed:
            self._add(
                path,
                f"constant changed from {json.dumps(old['const'])} to {json.dumps(new['const'])}",
                BACKWARD,
                FORWARD,
            )
            return
        if removed:
            listed = ", ".join(json.dumps(value) for value in removed)
            self._add(path, f"enum narrowed: {listed} no longer accepted", BACKWARD)
        if added:
            listed = ", ".join(json.dumps(value) for value in added)
            self._add(
                path, f"enum widened: {listed} now accepted (old consumers reject it)", FORWARD
            )

    def _compare_bounds(self, old: Schema, new: Schema, path: str) -> None:
        for keyword, larger_is_stricter in _BOUNDS.items():
            new_bound = _bound(new, keyword)
            old_bound = _bound(old, keyword)
            if old_bound is None and new_bound is not None:
                self._add(path, f"{keyword} {new_bound} added", BACKWARD)
            elif new_bound is None and old_bound is not None:
                self._add(path, f"{keyword} {old_bound} removed", FORWARD)
            elif new_bound is not None and old_bound is not None and new_bound != old_bound:
                if (new_bound > old_bound) == larger_is_stricter:
                    self._add(
                        path, f"{keyword} made stricter: {old_bound} -> {new_bound}", BACKWARD
                    )
                else:
                    self._add(path, f"{keyword} made looser: {old_bound} -> {new_bound}", FORWARD)
        new_pattern = new.get("pattern")
        old_pattern = old.get("pattern")
        if new_pattern == old_pattern:
            return
        if not isinstance(old_pattern, str):
            self._add(path, f"pattern {new_pattern!r} added", BACKWARD)
        elif not isinstance(new_pattern, str):
            self._add(path, f"pattern {old_pattern!r} removed", FORWARD)
        else:
            self._add(path, f"pattern changed to {new_pattern!r}", BACKWARD, FORWARD)

    def _compare_arrays(self, old: Schema, new: Schema, path: str) -> None:
        old_items = old.get("items")
        new_items = new.get("items")
        if isinstance(new_items, Mapping):
            self.compare(
                old_items if isinstance(old_items, Mapping) else {}, new_items, f"{path}[]"
            )

    def _compare_objects(self, old: Schema, new: Schema, path: str) -> None:
        old_properties: Mapping[str, Schema] = old.get("properties") or {}
        new_properties: Mapping[str, Schema] = new.get("properties") or {}
        old_required = set(old.get("required") or ())
        new_required = set(new.get("required") or ())
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)

        for name, old_property in old_properties.items():
            where = f"{path}.{name}"
            if name not in new_properties:
                if name in old_required:
                    self._add(where, "required property removed (old consumers need it)", FORWARD)
                else:
                    self._add(
                        where,
                        "property removed or renamed (old consumers read its default instead)",
                        FORWARD,
                    )
                continue
            if name in new_required and name not in old_required:
                self._add(
                    where, "optional property made required (old producers may omit it)", BACKWARD
                )
            elif name in old_required and name not in new_required:
                self._add(
                    where, "required property made optional (old consumers rely on it)", FORWARD
                )
            self.compare(old_property, new_properties[name], where)
        for name in new_properties:
            if name not in old_properties and name in new_required:
                self._add(
                    f"{path}.{name}",
                    "new required property (old producers do not send it)",
                    BACKWARD,
                )

        # Unknown properties are ignored by readers, so allowing or forbidding them breaks
        # nothing; a schema for the values of a map is data that readers do validate.
        if isinstance(new_extra, Mapping):
            if isinstance(old_extra, Mapping):
                self.compare(old_extra, new_extra, f"{path}{{*}}")
            elif old_extra is True:
                self._add(path, "map values restricted", BACKWARD)
        elif isinstance(old_extra, Mapping) and new_extra is True:
            self._add(path, "map values widened to any (old consumers check them)", FORWARD)
