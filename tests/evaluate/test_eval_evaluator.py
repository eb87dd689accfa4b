"""Item evaluation, source precedence, multi-value and bin_op combination.

See kube-bench-compat.md#state-machine and #test-items.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecis.benchmark.model import Compare, TestItem, Tests
from kubecis.evaluate import evaluate_item, evaluate_tests

_TRUE = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"}


def _tests(raw: dict[str, Any] | None) -> Tests:
    """Build Tests from a BaseLoader dict (all scalars raw strings; `set` defaults to true)."""
    raw = raw or {}
    items = []
    for it in raw.get("test_items") or []:
        cmp = it.get("compare") or {}
        items.append(
            TestItem(
                flag=it.get("flag", ""),
                path=it.get("path", ""),
                env=it.get("env", ""),
                set=it.get("set", "true") in _TRUE,
                compare=Compare(op=cmp.get("op", ""), value=cmp.get("value", "")),
            )
        )
    return Tests(bin_op=raw.get("bin_op", ""), items=tuple(items))


@pytest.fixture(scope="module")
def fixture_checks(compat: Path) -> dict[str, list[dict[str, Any]]]:
    data = yaml.load((compat / "check" / "data").read_text(), Loader=yaml.BaseLoader)
    return {g["id"]: g["checks"] for g in data["groups"]}


def run(check: dict[str, Any], audit: str = "", config: str = "", env: str = "") -> Any:
    return evaluate_tests(
        _tests(check.get("tests")),
        multiple=check.get("use_multiple_values", "false") in _TRUE,
        audit_output=audit,
        config_output=config,
        env_output=env,
        has_audit_config=check.get("audit_config", "") != "",
    )


# (check index in group 1.1, audit output, config output, env output, expected pass)
GROUP_1_1 = [
    (0, "2:45 ../kubernetes/kube-apiserver --allow-privileged=false --option1=20,30,40", "", "", True),
    (1, "2:45 ../kubernetes/kube-apiserver --allow-privileged=false", "", "", True),
    (
        2,
        "niinai   13617  2635 99 19:26 pts/20   00:03:08 ./kube-apiserver --insecure-port=0 --anonymous-auth",
        "",
        "",
        True,
    ),
    (3, "2:45 ../kubernetes/kube-apiserver --secure-port=0 --audit-log-maxage=40 --option", "", "", True),
    (
        4,
        "2:45 ../kubernetes/kube-apiserver --max-backlog=20 --secure-port=0 --audit-log-maxage=40 --option",
        "",
        "",
        True,
    ),
    (
        5,
        "2:45 ../kubernetes/kube-apiserver --option --admission-control=WebHook,RBAC ---audit-log-maxage=40",
        "",
        "",
        True,
    ),
    (
        6,
        "2:45 .. --kubelet-clientkey=foo --kubelet-client-certificate=bar --admission-control=Webhook,RBAC",
        "",
        "",
        True,
    ),
    (7, "2:45 ..  --secure-port=0 --kubelet-client-certificate=bar --admission-control=Webhook,RBAC", "", "", True),
    (8, "permissions=SomeValue", "", "", True),
    (9, "640", "", "", False),  # no "permissions" token at all
    (9, "permissions=640", "", "", True),
    (9, "permissions=600", "", "", True),
    (9, "permissions=666", "", "", False),
    (10, "--option --admission-control=WebHook,RBAC ---audit-log-maxage=40", "", "", True),
    (11, "--option --admission-control=WebHook,RBAC ---audit-log-maxage=40", "", "", True),
    (12, "--option --admission-control=WebHook,Something,RBAC ---audit-log-maxage=40", "", "", True),
    (13, "--option --admission-control=Something ---audit-log-maxage=40", "", "", True),
    (14, "2:45 kube-apiserver some-arg: some-val --admission-control=Something", "", "", True),
    (14, "2:45 kube-apiserver some-arg:some-val --admission-control=Something", "", "", True),
    (15, "", '{"readOnlyPort": 15000}', "", True),
    (16, "", '{"stringValue": "WebHook,Something,RBAC"}', "", True),
    (17, "", '{"trueValue": true}', "", True),
    (18, "", '{"readOnlyPort": 15000}', "", True),
    (19, "", '{"authentication": { "anonymous": {"enabled": false}}}', "", True),
    (20, "", "readOnlyPort: 15000", "", True),
    (21, "", "readOnlyPort: 15000", "", True),
    (22, "", "authentication:\n  anonymous:\n    enabled: false", "", True),
    (23, "", "this is not valid json {} at all", "", False),
    (24, "", '{"key": "value"}', "", False),
    (25, "", "broken } yaml\nenabled: true", "", False),
    (26, "", "currentMasterVersion: 1.12.7", "", True),
    (26, "", "currentMasterVersion: 1.11", "", False),
    (26, "", "currentMasterVersion: ", "", False),
    (27, "--peer-client-cert-auth", "", "", True),
    (27, "--abc=true --peer-client-cert-auth --efg=false", "", "", True),
    (27, "--abc --peer-client-cert-auth --efg", "", "", True),
    (27, "--peer-client-cert-auth=true", "", "", True),
    (27, "--abc --peer-client-cert-auth=true --efg", "", "", True),
    (28, "--abc --peer-client-cert-auth=false --efg", "", "", True),
    (29, "", "", "ALLOW_PRIVILEGED=false", True),
    (29, "", "", "", False),
    (30, "", "", "OTHER=1", True),
    (30, "", "", "BASIC_AUTH=x", False),
    (31, "", "", "INSECURE_PORT=0", True),
    (31, "--insecure-port=1", "", "INSECURE_PORT=0", False),  # the command line wins
    (32, "", "", "AUDIT_LOG_MAXAGE=40", True),
    (32, "", "", "AUDIT_LOG_MAXAGE=20", False),
    (33, "", "", "MAX_BACKLOG=20", True),
]


@pytest.mark.parametrize(("index", "audit", "config", "env", "passed"), GROUP_1_1)
def test_fixture_group_1_1(
    fixture_checks: dict[str, list[dict[str, Any]]], index: int, audit: str, config: str, env: str, passed: bool
) -> None:
    check = dict(fixture_checks["1.1"][index])
    check.setdefault("audit_config", "cat config" if config else "")
    outcome = run(check, audit, config, env)
    assert outcome.error == ""
    assert outcome.passed is passed


# group 2.1 / 3.1: outputs of the fixture's echo/printf audits, written out
GROUP_2_1 = [
    (0, "flag=correct\n", "", True),
    (1, "flag=wrong\n", "", False),
    (2, "somethingElse=correct\n", "", False),
    (3, "somethingElse=correct\n", "flag: correct\n", True),
    (4, "somethingElse=correct\n", "flag: wrong\n", False),
    (5, "flag=correct\n", "flag: wrong\n", True),
    (6, "flag=wrong\n", "flag: wrong\n", False),
    (7, "", "flag: correct\n", True),
    (8, "", "flag: wrong\n", False),
    (9, "permissions=600 permissions=600 permissions=600", "", True),
    (10, "permissions=600 permissions=600 permissions=644", "", True),  # one line: first occurrence
    (11, "permissions=600  permissions=600", "", True),
    (12, "flag=wrong\n", "flag: correct\n", False),
    (13, "--read-only-port=1\n", "readOnlyPort: 0\n", False),
    (14, "\n", "readOnlyPort: 1\n", False),
    (15, "\n", "\n", True),  # config output "\n" is non-empty; it decodes to null → not found
    (16, "--read-only-port=1\n", "\n", False),
]

GROUP_3_1 = [
    (0, "in=incorrect\n", "", "flag=correct\n", True),
    (1, "in=wrong\n", "", "flag=wrong\n", False),
    (2, "flag=correct\n", "", "flag=incorrect\n", True),
    (3, "in=correct\n", "flag: correct\n", "", True),
    (4, "in=correct\n", "in: correct\n", "flag=correct\n", True),
    (5, "in=correct\n", "in: correct\n", "flag=incorrect\n", False),
    (6, "flag=incorrect\n", "flag: incorrect\n", "flag=correct\n", False),
]


@pytest.mark.parametrize(("index", "audit", "config", "passed"), GROUP_2_1)
def test_fixture_group_2_1_precedence(
    fixture_checks: dict[str, list[dict[str, Any]]], index: int, audit: str, config: str, passed: bool
) -> None:
    assert run(fixture_checks["2.1"][index], audit, config).passed is passed


@pytest.mark.parametrize(("index", "audit", "config", "env", "passed"), GROUP_3_1)
def test_fixture_group_3_1_env(
    fixture_checks: dict[str, list[dict[str, Any]]], index: int, audit: str, config: str, env: str, passed: bool
) -> None:
    assert run(fixture_checks["3.1"][index], audit, config, env).passed is passed


def _item(**kw: Any) -> TestItem:
    cmp = kw.pop("compare", None)
    return TestItem(compare=Compare(*cmp) if cmp else Compare(), **kw)


def _eval(tests: Tests, audit: str = "", config: str = "", env: str = "", multiple: bool = False) -> Any:
    return evaluate_tests(
        tests,
        multiple=multiple,
        audit_output=audit,
        config_output=config,
        env_output=env,
        has_audit_config=bool(config),
    )


def test_expected_and_actual_strings() -> None:
    tests = Tests(
        bin_op="or",
        items=(
            _item(flag="--secure-port", compare=("eq", "0")),
            _item(flag="--secure-port", set=False),
        ),
    )
    out = _eval(tests, audit="kube-apiserver --secure-port=6443 \n\n")
    assert out.passed is False
    assert out.expected == "'--secure-port' is equal to '0' OR '--secure-port' is not present"
    assert out.actual == "kube-apiserver --secure-port=6443"  # right-trimmed spaces/newlines


def test_actual_is_first_items_source_text() -> None:
    tests = Tests(
        items=(
            _item(flag="--read-only-port", path="{.readOnlyPort}", compare=("eq", "0")),
            _item(flag="--anonymous-auth", compare=("eq", "false")),
        )
    )
    out = _eval(tests, audit="kubelet --anonymous-auth=false", config="readOnlyPort: 0\n")
    assert out.passed is True
    assert out.expected == "'{.readOnlyPort}' is equal to '0' AND '--anonymous-auth' is equal to 'false'"
    assert out.actual == "readOnlyPort: 0"
    assert [i.source for i in out.items] == ["config", "audit"]


def test_path_item_without_audit_config_is_flag_mode_only() -> None:
    item = _item(path="{.readOnlyPort}", compare=("eq", "0"))
    out = evaluate_item(
        item,
        multiple=False,
        audit_output="x",
        config_output="readOnlyPort: 0",
        env_output="",
        has_audit_config=False,
    )
    assert (out.passed, out.found, out.source, out.expected) == (False, False, "audit", "'' is present")


def test_set_false_must_be_absent_everywhere() -> None:
    tests = Tests(items=(_item(flag="--profiling", path="{.profiling}", env="PROFILING", set=False),))
    assert _eval(tests, audit="x", config="a: 1", env="OTHER=1").passed is True
    assert _eval(tests, audit="x", config="a: 1", env="PROFILING=true").passed is False
    assert _eval(tests, audit="x", config="profiling: true", env="").passed is False


def test_config_parse_error_is_a_note_and_env_can_follow() -> None:
    tests = Tests(items=(_item(path="{.x}", env="X", compare=("eq", "1")),))
    out = _eval(tests, config="broken } yaml\nx: 1", env="X=1")
    assert out.passed is True
    assert out.items[0].source == "env"
    assert out.notes and out.notes[0].startswith("failed to load YAML or JSON from input")


def test_multiple_values_stop_at_first_failure() -> None:
    tests = Tests(items=(_item(flag="permissions", compare=("bitmask", "600")),))
    ok = _eval(tests, audit="permissions=600\npermissions=400\n", multiple=True)
    assert (ok.passed, ok.actual) == (True, "permissions=600\npermissions=400")
    bad = _eval(tests, audit="permissions=600\npermissions=644\npermissions=400", multiple=True)
    assert bad.passed is False
    assert bad.expected == "permissions has permissions 644, expected 600 or more restrictive"
    gap = _eval(tests, audit="permissions=600\n\npermissions=400", multiple=True)
    assert (gap.passed, gap.expected) == (False, "'permissions' is present")


def test_unknown_bin_op() -> None:
    out = _eval(Tests(bin_op="xor", items=(_item(flag="a"),)), audit="a")
    assert out.passed is False
    assert out.error == "unknown binary operator for tests xor"
    assert out.actual == "unknown binary operator for tests xor\n"
    assert out.expected == ""


def test_unknown_op_fails_with_empty_expectation() -> None:
    out = _eval(Tests(items=(_item(flag="--a", compare=("noteqx", "1")),)), audit="--a=2")
    assert (out.passed, out.expected, out.error) == (False, "", "")


def test_invalid_regex_is_an_error_not_a_crash() -> None:
    out = _eval(Tests(items=(_item(flag="--a", compare=("regex", "([")),)), audit="--a=2")
    assert out.passed is False
    assert "invalid regex" in out.error


def test_or_evaluates_every_item() -> None:
    tests = Tests(bin_op="or", items=(_item(flag="--a"), _item(flag="--b")))
    out = _eval(tests, audit="--a")
    assert out.passed is True
    assert out.expected == "'--a' is present OR '--b' is present"
    assert [i.passed for i in out.items] == [True, False]
