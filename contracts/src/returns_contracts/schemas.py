"""JSON Schemas of the messages: one file per message version, generated from the models.

    python -m returns_contracts.schemas write [--dir DIR] [--force]
    python -m returns_contracts.schemas check [--dir DIR]

The schemas use pydantic's *validation* mode: a field with a default is optional, which is what
the compatibility rules reason about (in serialization mode every field is emitted). The envelope
fields are still listed as required: they are always on the wire. `additionalProperties: false`
is the producers' rule (a message is built strictly); consumers read tolerantly and ignore
properties they do not know (`parse_message`). Each schema states that, and what backward and
forward compatibility mean for it, under `x-compatibility`.

`write` refuses a change that breaks a committed version in either direction unless `--force`;
both commands list the breaking changes under the direction they break.
"""

import argparse
import copy
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from returns_contracts.compat import (
    BACKWARD,
    DIRECTIONS,
    FORWARD,
    Incompatibility,
    find_incompatibilities,
)
from returns_contracts.envelope import Message
from returns_contracts.registry import MESSAGE_CLASSES
from returns_contracts.topics import COMPACTED_TOPICS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
"""`contracts/schemas/` of the source tree this module is in."""

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REGENERATE_HINT = "run `make schemas` (python -m returns_contracts.schemas write) and commit"
BUMP_HINT = (
    "a published version cannot change this way: keep the v{version} class as it was and add "
    "{type} v{next} (a new class with version: Literal[{next}], registered in "
    "returns_contracts.registry.MESSAGE_CLASSES)"
)


COMPATIBILITY: dict[str, Any] = {
    "policy": "full",
    BACKWARD: (
        "consumers built on this schema read every message written under an earlier schema of "
        "this version (messages still in the topic, producers not yet redeployed)"
    ),
    FORWARD: (
        "consumers still built on an earlier schema of this version read every message written "
        "under this one (producers redeployed first): they ignore the properties they do not know"
    ),
    "unknown_properties": {
        "producers": "rejected: a message is built with the listed properties only",
        "consumers": "ignored, at every depth: a newer producer's added optional property is read",
    },
    "breaking_change": "a new version of the message type, registered beside this one",
}
"""The `x-compatibility` annotation of every schema: what a change within a version must keep."""

DIRECTION_HEADINGS: dict[str, str] = {
    BACKWARD: "breaks backward compatibility (consumers of the model cannot read old messages)",
    FORWARD: "breaks forward compatibility (consumers still on the committed schema cannot read "
    "new messages)",
}


def schema_filename(message_class: type[Message]) -> str:
    """`<Type>.v<version>.json`."""
    return f"{message_class.type_name()}.v{message_class.type_version()}.json"


def generate_schema(message_class: type[Message]) -> dict[str, Any]:
    """The JSON Schema of one message version, with its Kafka topic and key as `x-kafka`."""
    schema = message_class.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["x-kafka"] = {
        "topic": message_class.topic_base,
        "key": message_class.key_path,
        "kind": message_class.kind,
        "compacted": message_class.topic_base in COMPACTED_TOPICS,
    }
    schema["x-compatibility"] = copy.deepcopy(COMPATIBILITY)
    return schema


def render_schema(schema: dict[str, Any]) -> str:
    """The committed text of a schema: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every registered message version."""
    return {schema_filename(cls): generate_schema(cls) for cls in MESSAGE_CLASSES}


@dataclass
class SchemaReport:
    """How the committed schema files compare with the models."""

    missing: list[str] = field(default_factory=list)
    """Message versions without a committed file."""
    out_of_date: list[str] = field(default_factory=list)
    """Files that differ from the generated schema, compatibly."""
    incompatible: dict[str, list[Incompatibility]] = field(default_factory=dict)
    """Files the generated schema breaks, with the breaking changes."""
    orphans: list[str] = field(default_factory=list)
    """Files no registered message class generates."""

    @property
    def ok(self) -> bool:
        return not (self.missing or self.out_of_date or self.incompatible or self.orphans)

    def lines(self) -> list[str]:
        """Human-readable problems, one per line."""
        lines: list[str] = []
        for name in self.missing:
            lines.append(f"{name}: missing; {REGENERATE_HINT}")
        for name in self.out_of_date:
            lines.append(f"{name}: out of date; {REGENERATE_HINT}")
        for name, problems in self.incompatible.items():
            type_name, version = parse_filename(name)
            hint = BUMP_HINT.format(type=type_name, version=version, next=version + 1)
            lines.append(f"{name}: incompatible with the committed schema; {hint}:")
            lines.extend(describe_by_direction(problems))
        for name in self.orphans:
            lines.append(
                f"{name}: no message class generates it; a published version keeps its class"
            )
        return lines


def describe_by_direction(problems: Sequence[Incompatibility]) -> list[str]:
    """The problems listed under each direction they break (one that breaks both, twice)."""
    lines: list[str] = []
    for direction in DIRECTIONS:
        breaking = [problem for problem in problems if direction in problem.breaks]
        if breaking:
            lines.append(f"  {DIRECTION_HEADINGS[direction]}:")
            lines.extend(f"    - {problem.path}: {problem.reason}" for problem in breaking)
    return lines


def parse_filename(name: str) -> tuple[str, int]:
    """(`type`, `version`) of a schema file name `<Type>.v<version>.json`."""
    stem = name.removesuffix(".json")
    type_name, _, version = stem.rpartition(".v")
    if not type_name or not version.isdigit():
        raise ValueError(f"{name!r} is not named <Type>.v<version>.json")
    return type_name, int(version)


def compare_with_committed(directory: Path = SCHEMA_DIR) -> SchemaReport:
    """Compare the generated schemas with the files in `directory`."""
    report = SchemaReport()
    generated = generated_schemas()
    committed_files = sorted(path.name for path in directory.glob("*.json"))
    for name, schema in generated.items():
        path = directory / name
        if not path.exists():
            report.missing.append(name)
            continue
        text = path.read_text(encoding="utf-8")
        if text == render_schema(schema):
            continue
        problems = find_incompatibilities(json.loads(text), schema)
        if problems:
            report.incompatible[name] = problems
        else:
            report.out_of_date.append(name)
    report.orphans = [name for name in committed_files if name not in generated]
    return report


def write_schemas(directory: Path = SCHEMA_DIR, *, force: bool = False) -> list[str]:
    """Write the missing and out-of-date schema files; return their names.

    Raises `IncompatibleSchemaError` and writes nothing when a change breaks a committed file,
    unless `force` (for a version that was never released).
    """
    report = compare_with_committed(directory)
    if report.incompatible and not force:
        raise IncompatibleSchemaError(report)
    generated = generated_schemas()
    names = [*report.missing, *report.out_of_date, *report.incompatible]
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_text(render_schema(generated[name]), encoding="utf-8")
    return sorted(names)


class IncompatibleSchemaError(Exception):
    def __init__(self, report: SchemaReport) -> None:
        self.report = report
        super().__init__("\n".join(report.lines()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m returns_contracts.schemas",
        description="Write or check the JSON Schemas of the returns messages.",
    )
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument(
        "--dir", type=Path, default=SCHEMA_DIR, help=f"schema directory (default {SCHEMA_DIR})"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write: overwrite even incompatibly (only for a version never released)",
    )
    args = parser.parse_args(argv)
    directory: Path = args.dir

    if args.command == "check":
        report = compare_with_committed(directory)
        if report.ok:
            print(f"schemas up to date in {directory}")
            return 0
        print("\n".join(report.lines()), file=sys.stderr)
        return 1

    try:
        written = write_schemas(directory, force=args.force)
    except IncompatibleSchemaError as exc:
        print(exc, file=sys.stderr)
        print("nothing written", file=sys.stderr)
        return 1
    for name in written:
        print(f"wrote {directory / name}")
    orphans = compare_with_committed(directory).orphans
    if orphans:
        print("\n".join(SchemaReport(orphans=orphans).lines()), file=sys.stderr)
        return 1
    if not written:
        print(f"schemas up to date in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
