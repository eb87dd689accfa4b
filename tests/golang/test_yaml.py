"""Config decoding: JSON numbers are float64, YAML follows go-yaml v2 (YAML 1.1) scalar rules."""

from __future__ import annotations

import math

import pytest

from kubecis.golang.yaml import YamlMap, load_config, resolve_plain


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0644", 420),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", 5),
        ("-0b101", -5),
        ("1_000", 1000),
        ("08", 8.0),  # not octal, not int: go-yaml falls through to float
        ("1e3", 1000.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("+.5", 0.5),
        ("1e400", "1e400"),  # out of float64 range stays a string
        ("yes", True),
        ("Y", True),
        ("on", True),
        ("n", False),
        ("OFF", False),
        ("True", True),
        ("tRUE", "tRUE"),
        ("~", None),
        ("null", None),
        ("", None),
        ("1:30", "1:30"),  # sexagesimal is a string in go-yaml
        ("2001-12-14", "2001-12-14"),  # timestamps stay strings
        ("2001-12-14T21:59:43.10Z", "2001-12-14T21:59:43.10Z"),
        ("15000", 15000),
        ("18446744073709551615", 18446744073709551615),  # uint64
        ("18446744073709551616", 1.8446744073709552e19),  # too big for uint64 → float
        ("-", "-"),
        (".", "."),
        (".inf", math.inf),
        ("abc", "abc"),
    ],
)
def test_resolve_plain(text: str, value: object) -> None:
    got = resolve_plain(text)
    assert got == value
    assert type(got) is type(value)


def test_yaml_document_types() -> None:
    decoded = load_config("a: 0644\nb: yes\nc: '0644'\nd: \"yes\"\ne: 1:30\nf: [1, x]\n")
    assert decoded.error == ""
    assert decoded.value == {"a": 420, "b": True, "c": "0644", "d": "yes", "e": "1:30", "f": [1, "x"]}
    assert isinstance(decoded.value, YamlMap)


def test_json_numbers_are_floats_and_objects_are_plain_dicts() -> None:
    decoded = load_config('{"a": 15000, "b": [1, 2.5], "c": {"d": null}}')
    assert decoded.value == {"a": 15000.0, "b": [1.0, 2.5], "c": {"d": None}}
    assert type(decoded.value["a"]) is float
    assert not isinstance(decoded.value, YamlMap)


def test_json_that_go_rejects_falls_back_to_yaml() -> None:
    # NaN is not JSON for Go; as YAML it is the plain string "NaN".
    assert load_config("NaN").value == "NaN"
    # float64 overflow fails encoding/json; go-yaml keeps the scalar as a string.
    assert load_config('{"a": 1e400}').value == {"a": "1e400"}


def test_only_first_yaml_document_is_read() -> None:
    assert load_config("a: 1\n---\nb: 2\n").value == {"a": 1}


def test_empty_input_is_null() -> None:
    assert load_config("").value is None


def test_merge_keys_and_unknown_tags() -> None:
    decoded = load_config("base: &b {x: 1}\nder:\n  <<: *b\n  z: 2\n  y: 3\nt: !custom 5\n")
    # go-yaml v2 resolves the key `y` to the boolean true, like any other plain scalar.
    assert decoded.value["der"] == {"x": 1, "z": 2, True: 3}
    assert decoded.value["t"] == "5"


def test_error_message_names_the_input() -> None:
    decoded = load_config("broken } yaml\nenabled: true")
    assert decoded.error.startswith('failed to load YAML or JSON from input "broken } yaml\nenabled: true": yaml: ')


def test_unparseable_yaml_mapping_value() -> None:
    assert load_config("kind: ddress: 0.0.0.0\napiVersion: v1\n").error
