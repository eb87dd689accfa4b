"""The check state machine over kube-bench's own unit-test fixture and edge cases.

See kube-bench-compat.md#state-machine, #audits and #filters-and-skips.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubecis.audit.shell import ShellExecutor
from kubecis.benchmark.loader import load_controls, parse_controls
from kubecis.benchmark.model import Check, Compare, TestItem, Tests
from kubecis.errors import UsageError
from kubecis.results.model import State
from kubecis.results.runner import Filters, parse_id_list, run_check, run_controls
from tests.fakes import ScriptedExecutor


def _expected_from_text(text: str) -> State:
    """The fixture states its expectation in the title: '-> pass', '-> fail(s)', 'passing', 'failing'."""
    m = re.search(r"-> (pass|fail)", text) or re.search(r"(pass|fail)ing\b", text)
    assert m, text
    return State.PASS if m.group(1) == "pass" else State.FAIL


@pytest.mark.parametrize("group_id", ["2.1", "3.1"])
def test_kube_bench_fixture_precedence(compat: Path, group_id: str) -> None:
    """Groups 2.1 (audit vs audit_config) and 3.1 (audit_env) of kube-bench's check/data."""
    controls = load_controls(compat / "check" / "data").controls
    group = next(g for g in controls.groups if g.id == group_id)
    sh = ShellExecutor(timeout=10)
    for check in group.checks:
        r = run_check(check, sh)
        assert r.state == _expected_from_text(check.text), (check.id, check.text, r)


def test_use_multiple_values_actual_is_whole_text(compat: Path) -> None:
    controls = load_controls(compat / "check" / "data").controls
    group = next(g for g in controls.groups if g.id == "2.1")
    check = next(c for c in group.checks if "use_multiple_values is correct" in c.text)
    r = run_check(check, ShellExecutor(timeout=10))
    assert r.state is State.PASS and r.is_multiple


def _check(**kw: object) -> Check:
    base: dict[str, object] = {"id": "1.1", "text": "t", "audit": "a", "remediation": "fix it\n"}
    base.update(kw)
    return Check(**base)  # type: ignore[arg-type]


ITEM = TestItem(flag="--x", compare=Compare("eq", "1"))


def test_state_table() -> None:
    ex = ScriptedExecutor({"a": ("--x=1", 0)})
    assert run_check(_check(scored=True, tests=None), ex).reason == "There are no tests"
    assert run_check(_check(scored=True, tests=None), ex).state is State.WARN
    assert run_check(_check(scored=True, tests=Tests()), ex).state is State.FAIL
    assert run_check(_check(scored=False, tests=Tests()), ex).state is State.WARN
    assert run_check(_check(scored=False, tests=Tests()), ex).reason == "No tests defined"
    skip = run_check(_check(type="skip", scored=True, tests=Tests(items=(ITEM,))), ex)
    assert (skip.state, skip.reason) == (State.INFO, "Test marked as skip")
    manual = run_check(_check(type="manual", tests=Tests(items=(ITEM,))), ex)
    assert (manual.state, manual.reason) == (State.WARN, "Test marked as a manual test")
    assert ex.ran == []  # manual and skip never run a command
    ok = run_check(_check(scored=True, tests=Tests(items=(ITEM,))), ex)
    assert (ok.state, ok.actual_value, ok.expected_result) == (State.PASS, "--x=1", "'--x' is equal to '1'")
    assert ok.test_info == ["fix it\n"]


def test_audit_error_fails_scored_and_warns_unscored() -> None:
    ex = ScriptedExecutor({"a": ("boom\n", 2)})
    r = run_check(_check(scored=True, tests=Tests(items=(ITEM,))), ex)
    assert r.state is State.FAIL
    assert r.reason == 'failed to run: "a", output: "boom\\n", error: exit status 2'
    assert r.actual_value == "" and r.expected_result == ""
    assert run_check(_check(scored=False, tests=Tests(items=(ITEM,))), ex).state is State.WARN


def test_audit_config_error_suppression() -> None:
    item = TestItem(flag="--x", path="{.x}", compare=ITEM.compare)
    # config missing (No such file) but audit printed something → error dropped
    ex = ScriptedExecutor({"a": ("--x=1", 0), "c": ("cat: /f: No such file or directory", 1)})
    r = run_check(_check(audit_config="c", scored=True, tests=Tests(items=(item,))), ex)
    assert r.state is State.PASS
    # audit empty → the config error fails the check
    ex2 = ScriptedExecutor({"a": ("", 0), "c": ("cat: /f: No such file or directory", 1)})
    r2 = run_check(_check(audit_config="c", scored=True, tests=Tests(items=(item,))), ex2)
    assert r2.state is State.FAIL and "No such file or directory" in r2.reason
    # permission denied is never suppressed
    ex3 = ScriptedExecutor({"a": ("--y", 0), "c": ("cat: /f: Permission denied", 1)})
    r3 = run_check(_check(audit_config="c", scored=True, tests=Tests(items=(item,))), ex3)
    assert r3.state is State.FAIL and "Permission denied" in r3.reason


def test_unknown_bin_op() -> None:
    ex = ScriptedExecutor({"a": ("--x=1", 0)})
    r = run_check(_check(scored=True, tests=Tests(bin_op="xor", items=(ITEM,))), ex)
    assert r.state is State.FAIL
    assert r.reason == "unknown binary operator for tests xor"


def test_hung_audit_is_warn_with_reason() -> None:
    r = run_check(_check(audit="sleep 30", scored=True, tests=Tests(items=(ITEM,))), ShellExecutor(timeout=0.5))
    assert r.state is State.WARN
    assert r.reason == "audit timed out after 0.5s and was stopped"


def test_megabytes_of_output_is_warn_with_reason() -> None:
    ex = ShellExecutor(timeout=20, max_output=100_000)
    r = run_check(_check(audit="yes | head -c 5000000", scored=True, tests=Tests(items=(ITEM,))), ex)
    assert r.state is State.WARN
    assert r.reason == "audit printed more than 100000 bytes and was stopped"


FILTER_DOC = """\
id: "1"
type: master
groups:
  - id: "1.1"
    checks:
      - {id: "1.1.1", scored: true, audit: "a", tests: {test_items: [{flag: "--x"}]}}
      - {id: "1.1.2", scored: false, audit: "a", tests: {test_items: [{flag: "--x"}]}}
  - id: "1.2"
    type: skip
    checks:
      - {id: "1.2.1", scored: true, audit: "a", tests: {test_items: [{flag: "--x"}]}}
  - id: "1.1"
    text: second group with the same id
    checks:
      - {id: "1.1.3", scored: true, audit: "a", tests: {test_items: [{flag: "--y"}]}}
"""


def test_filters_skips_and_group_merging() -> None:
    controls = parse_controls(FILTER_DOC, "m.yaml", "master").controls
    ex = ScriptedExecutor({"a": ("--x", 0)})
    res = run_controls(controls, ex, Filters())
    assert [g.id for g in res.groups] == ["1.1", "1.2"]
    assert [c.id for c in res.groups[0].checks] == ["1.1.1", "1.1.2", "1.1.3"]
    assert res.groups[1].checks[0].state is State.INFO and res.groups[1].checks[0].type == "skip"
    assert (res.counts.pass_, res.counts.fail, res.counts.info) == (2, 1, 1)
    only_scored = run_controls(controls, ex, Filters(unscored=False))
    assert [c.id for g in only_scored.groups for c in g.checks] == ["1.1.1", "1.1.3", "1.2.1"]
    skipped = run_controls(controls, ex, Filters(skip=("1.1.1",)))
    assert skipped.groups[0].checks[0].state is State.INFO
    by_check = run_controls(controls, ex, Filters(checks=("1.1.3",)))
    assert [c.id for g in by_check.groups for c in g.checks] == ["1.1.3"]
    none = run_controls(controls, ex, Filters(checks=("9.9",)))
    assert none.groups == [] and none.to_dict()["tests"] is None


def test_filter_conflict_and_list_parsing() -> None:
    with pytest.raises(UsageError, match="can't be used together"):
        Filters(checks=("1",), groups=("2",))
    assert parse_id_list(",1.1, 1.2 ,") == ["1.1", "1.2"]
    assert parse_id_list("") == []


@pytest.mark.parametrize(("output", "rc", "fail_on_evidence", "state"), [
    ("count: 2", 0, False, State.WARN),  # kube-bench: an unscored check that fails its tests is WARN
    ("count: 2", 0, True, State.FAIL),  # decided from evidence: FAIL, though still unscored
    ("count: 0", 0, True, State.PASS),
    ("cannot reach the cluster", 1, True, State.WARN),  # the audit could not decide: never FAIL, never PASS
])
def test_fail_on_evidence(output: str, rc: int, fail_on_evidence: bool, state: State) -> None:
    check = Check(id="5.1.1", text="t", audit="probe", scored=False, fail_on_evidence=fail_on_evidence,
                  tests=Tests(items=(TestItem(flag="count", set=True, compare=Compare(op="eq", value="0")),)))
    r = run_check(check, ScriptedExecutor({"probe": (output, rc)}))
    assert r.state is state and r.scored is False


def test_fail_on_evidence_round_trips_through_yaml() -> None:
    text = ("id: 5\ntext: p\ntype: policies\ngroups:\n- id: 5.1\n  text: g\n  checks:\n  - id: 5.1.1\n    text: c\n"
            "    audit: x\n    fail_on_evidence: true\n    scored: false\n")
    check = parse_controls(text, "p.yaml", "policies").controls.groups[0].checks[0]
    assert check.fail_on_evidence and not check.scored
