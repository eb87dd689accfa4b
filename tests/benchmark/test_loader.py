"""The controls loader reads like go-yaml v2 into kube-bench's structs (kube-bench-compat.md#definitions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubecis.benchmark.loader import load_controls, parse_controls
from kubecis.errors import LoadError

SAMPLE = """\
---
controls:
id: 1
version: "cis-1.12"
text: "Master"
type: "master"
groups:
  - id: 5.10
    text: Group
    checks:
      - id: 1.2.10
        text: "t"
        audit: "ps -ef"
        tests:
          test_items:
            - flag: "--x"
              compare:
                op: bitmask
                value: 0600
            - flag: "--y"
              set: false
              compare:
                op: eq
                value: true
        scored: true
      - id: 2
        text: no tests key
        scored: yes
      - id: 3
        text: empty items
        tests:
          test_items: []
      - id: 4
        text: null tests
        tests:
        use_multiple_values: On
"""


def test_raw_scalars_stay_strings() -> None:
    c = parse_controls(SAMPLE, "x.yaml", "master").controls
    g = c.groups[0]
    assert c.id == "1" and g.id == "5.10"
    chk = g.checks[0]
    assert chk.id == "1.2.10"
    assert chk.tests is not None
    assert chk.tests.items[0].compare.value == "0600"
    assert chk.tests.items[1].compare.value == "true"
    assert chk.tests.items[0].set is True  # default when absent
    assert chk.tests.items[1].set is False
    assert chk.scored is True


def test_tests_absent_vs_empty_vs_null() -> None:
    checks = parse_controls(SAMPLE, "x.yaml").controls.groups[0].checks
    assert checks[1].tests is None and checks[1].scored is True  # YAML 1.1 `yes`
    assert checks[2].tests is not None and checks[2].tests.items == ()
    assert checks[3].tests is None and checks[3].use_multiple_values is True


def test_type_mismatch_names_file_and_line() -> None:
    with pytest.raises(LoadError) as e:
        parse_controls(SAMPLE, "cfg/x/node.yaml", "node")
    assert str(e.value).startswith("cfg/x/node.yaml:6: non-node controls file specified")


def test_malformed_yaml_names_line() -> None:
    with pytest.raises(LoadError) as e:
        parse_controls("id: 1\ngroups:\n  - id: [\n", "bad.yaml")
    assert str(e.value).startswith("bad.yaml:")
    assert "malformed YAML" in str(e.value)
    assert e.value.line is not None


def test_quoted_bool_is_a_type_error() -> None:
    text = 'type: master\ngroups:\n  - id: 1\n    checks:\n      - id: 1\n        scored: "true"\n'
    with pytest.raises(LoadError) as e:
        parse_controls(text, "f.yaml")
    assert str(e.value).startswith("f.yaml:6: check 1: scored: expected true or false")


def test_map_in_string_field_is_a_type_error() -> None:
    text = "type: master\ngroups:\n  - id: 1\n    checks:\n      - id: 1\n        audit: {a: b}\n"
    with pytest.raises(LoadError, match=r"f.yaml:6: check 1: audit: expected a string, found a mapping"):
        parse_controls(text, "f.yaml")


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        load_controls(tmp_path / "nope.yaml")
    with pytest.raises(LoadError, match="is a directory"):
        load_controls(tmp_path)


def test_unknown_op_is_a_diagnostic_with_line() -> None:
    text = SAMPLE.replace("op: eq", "op: noteqx")
    loaded = parse_controls(text, "f.yaml")
    assert [str(d) for d in loaded.diagnostics] == [
        "f.yaml:23: check 1.2.10: unknown compare op 'noteqx' (known: bitmask, eq, gt, gte, has, lt, lte, "
        "noteq, nothave, regex, valid_elements); kube-bench treats the test as failing"
    ]


def test_all_upstream_sets_load_with_spec_counts(cfg_dir: Path) -> None:
    total = 0
    files = 0
    for path in sorted(cfg_dir.glob("*/*.yaml")):
        if path.name == "config.yaml":
            continue
        c = load_controls(path, path.stem).controls
        total += len(c.checks())
        files += 1
    assert total == 4860  # kube-bench-compat.md#shipped-sets
    assert files == 229


def test_group_ids_like_5_10_survive(cfg_dir: Path) -> None:
    ids = {g.id for g in load_controls(cfg_dir / "cis-1.12" / "policies.yaml", "policies").controls.groups}
    assert "5.1" in ids
    c = load_controls(cfg_dir / "cis-1.20" / "master.yaml", "master").controls
    assert any(ch.id == "1.2.10" for ch in c.checks())


def test_check_data_fixture(compat: Path) -> None:
    c = load_controls(compat / "check" / "data").controls
    assert c.type == "master" and c.groups[0].id == "1.1"
    first = c.groups[0].checks[0]
    assert first.id == "0" and first.tests is not None and first.tests.items[0].flag == "--allow-privileged"
