"""The committed JSON Schemas against the models, and the schema command line."""

import json
from pathlib import Path
from typing import Any

import pytest

from returns_contracts import MESSAGE_CLASSES, MESSAGE_VERSIONS, find_incompatibilities
from returns_contracts.schemas import (
    BUMP_HINT,
    REGENERATE_HINT,
    SCHEMA_DIR,
    generate_schema,
    main,
    parse_filename,
    render_schema,
    schema_filename,
)

COMMITTED_DIR = Path(__file__).resolve().parents[1] / "schemas"
COMMITTED = sorted(path.name for path in COMMITTED_DIR.glob("*.json"))


def test_schema_dir_is_the_committed_one() -> None:
    assert SCHEMA_DIR == COMMITTED_DIR
    assert COMMITTED, f"no schema committed in {COMMITTED_DIR}"


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_schema_is_still_honoured(name: str) -> None:
    """(1) Each committed schema has its message class, whose schema has not broken it."""
    type_name, version = parse_filename(name)
    message_class = MESSAGE_VERSIONS.get((type_name, version))
    assert message_class is not None, (
        f"{name} has no message class: a published version keeps its class "
        "(register it in returns_contracts.registry.MESSAGE_CLASSES)"
    )
    committed = json.loads((COMMITTED_DIR / name).read_text(encoding="utf-8"))
    problems = find_incompatibilities(committed, generate_schema(message_class))
    hint = BUMP_HINT.format(type=type_name, version=version, next=version + 1)
    assert not problems, f"{name} is broken by the current model; {hint}:\n" + "\n".join(
        f"  - {problem}" for problem in problems
    )


@pytest.mark.parametrize("message_class", MESSAGE_CLASSES, ids=schema_filename)
def test_committed_schema_is_up_to_date(message_class: Any) -> None:
    """(2) The committed file is exactly what the model generates (additions get recorded)."""
    name = schema_filename(message_class)
    path = COMMITTED_DIR / name
    assert path.exists(), f"{name} is missing; {REGENERATE_HINT}"
    up_to_date = path.read_text(encoding="utf-8") == render_schema(generate_schema(message_class))
    assert up_to_date, f"{name} is out of date; {REGENERATE_HINT}"


def test_rendering_is_sorted_indented_and_ends_with_a_newline() -> None:
    text = render_schema({"b": 1, "a": {"d": 2, "c": 3}})
    assert text == '{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}\n'


def test_schema_names_topic_and_key() -> None:
    from returns_contracts import MerchantUpdated, ReturnSubmitted

    assert generate_schema(ReturnSubmitted)["x-kafka"] == {
        "topic": "returns.submitted",
        "key": "payload.return_id",
        "kind": "event",
        "compacted": False,
    }
    assert generate_schema(MerchantUpdated)["x-kafka"]["compacted"] is True
    assert generate_schema(MerchantUpdated)["x-kafka"]["key"] == "merchant_id"


def test_envelope_fields_are_required_on_the_wire() -> None:
    from returns_contracts import ENVELOPE_FIELDS, LabelRequested

    assert generate_schema(LabelRequested)["required"] == list(ENVELOPE_FIELDS)


@pytest.mark.parametrize("name", ["Foo.json", "Foo.v.json", ".v1.json", "Foo.vx.json"])
def test_badly_named_schema_file(name: str) -> None:
    with pytest.raises(ValueError, match="not named"):
        parse_filename(name)


# --- command line ------------------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_cli_write_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _run(capsys, "check", "--dir", str(tmp_path))
    assert code == 1
    assert "ReturnSubmitted.v1.json: missing" in output

    code, output = _run(capsys, "write", "--dir", str(tmp_path))
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == COMMITTED

    code, output = _run(capsys, "check", "--dir", str(tmp_path))
    assert (code, output.strip()) == (0, f"schemas up to date in {tmp_path}")


def test_cli_reports_a_compatible_difference_as_out_of_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["write", "--dir", str(tmp_path)])
    path = tmp_path / "LabelRejected.v1.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["description"] = "an older description"
    path.write_text(render_schema(schema), encoding="utf-8")
    capsys.readouterr()

    code, output = _run(capsys, "check", "--dir", str(tmp_path))
    assert code == 1
    assert "LabelRejected.v1.json: out of date; run `make schemas`" in output

    assert _run(capsys, "write", "--dir", str(tmp_path))[0] == 0
    assert _run(capsys, "check", "--dir", str(tmp_path))[0] == 0


def test_cli_refuses_to_overwrite_an_incompatible_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A committed field the model no longer has: `write` keeps the file and says to bump."""
    main(["write", "--dir", str(tmp_path)])
    path = tmp_path / "LabelRejected.v1.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    payload = schema["$defs"]["LabelRejectedPayload"]
    payload["properties"]["retry_after"] = {"type": "integer"}
    payload["required"].append("retry_after")
    before = render_schema(schema)
    path.write_text(before, encoding="utf-8")
    capsys.readouterr()

    for command in ("check", "write"):
        code, output = _run(capsys, command, "--dir", str(tmp_path))
        assert code == 1
        assert "LabelRejected.v1.json: incompatible" in output
        assert "LabelRejected v2" in output
        assert (
            "  breaks forward compatibility (consumers still on the committed schema cannot read "
            "new messages):\n"
            "    - LabelRejected.payload.retry_after: required property removed (old consumers "
            "need it)\n"
        ) in output
        assert "breaks backward compatibility" not in output
    assert path.read_text(encoding="utf-8") == before

    assert _run(capsys, "write", "--force", "--dir", str(tmp_path))[0] == 0
    assert _run(capsys, "check", "--dir", str(tmp_path))[0] == 0


def test_cli_lists_each_breaking_change_under_the_directions_it_breaks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The committed enum had one value more (narrowed: backward) and one less (widened:
    forward) than the model; a type change breaks both ways and is listed under each."""
    main(["write", "--dir", str(tmp_path)])
    path = tmp_path / "LabelRejected.v1.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    properties = schema["$defs"]["LabelRejectedPayload"]["properties"]
    properties["reason"]["enum"] = ["unknown_return", "wrong_merchant", "malformed_command", "gone"]
    properties["detail"] = {"type": "integer"}
    path.write_text(render_schema(schema), encoding="utf-8")
    capsys.readouterr()

    code, output = _run(capsys, "check", "--dir", str(tmp_path))
    assert code == 1
    lines = output.splitlines()
    backward = lines.index(
        "  breaks backward compatibility (consumers of the model cannot read old messages):"
    )
    forward = lines.index(
        "  breaks forward compatibility (consumers still on the committed schema cannot read "
        "new messages):"
    )
    assert backward < forward
    assert lines[backward + 1 : forward] == [
        "    - LabelRejected.payload.detail: type changed from integer to string",
        '    - LabelRejected.payload.reason: enum narrowed: "gone" no longer accepted',
    ]
    assert lines[forward + 1 : forward + 3] == [
        "    - LabelRejected.payload.detail: type changed from integer to string",
        '    - LabelRejected.payload.reason: enum widened: "not_ready" now accepted (old '
        "consumers reject it)",
    ]


def test_every_schema_states_both_directions_and_the_reading_rule() -> None:
    for message_class in MESSAGE_CLASSES:
        compatibility = generate_schema(message_class)["x-compatibility"]
        assert compatibility["policy"] == "full"
        assert "earlier schema" in compatibility["backward"]
        assert "ignore the properties they do not know" in compatibility["forward"]
        assert compatibility["unknown_properties"]["consumers"].startswith("ignored")
        assert compatibility["unknown_properties"]["producers"].startswith("rejected")


def test_cli_reports_orphan_schema_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["write", "--dir", str(tmp_path)])
    (tmp_path / "ReturnCancelled.v1.json").write_text("{}\n", encoding="utf-8")
    capsys.readouterr()
    for command in ("check", "write"):
        code, output = _run(capsys, command, "--dir", str(tmp_path))
        assert code == 1
        assert "ReturnCancelled.v1.json: no message class generates it" in output
