from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecis.report import ReportOptions, render
from kubecis.report.json import check_json, controls_json, encode, go_string
from kubecis.results.model import CheckResult, ControlsResult, Counts, GroupResult, RunResult, State
from tests.shared import COMPAT as SHARED_COMPAT

TESTDATA = SHARED_COMPAT / "cmd" / "testdata"

# Fields newer than the upstream fixtures (AuditEnv, IsMultiple, group type).
NEWER_CHECK_FIELDS = ("AuditEnv", "IsMultiple")


def _strip_newer(controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for c in controls:
        for g in c["tests"] or []:
            assert g.pop("type") == ""
            for check in g["results"]:
                for key in NEWER_CHECK_FIELDS:
                    check.pop(key)
    return controls


def _collection() -> RunResult:
    return RunResult.from_dict(json.loads((TESTDATA / "controlsCollection.json").read_text()))


def test_upstream_result_with_totals():
    out = render("json", _collection(), ReportOptions())
    assert out.endswith("}\n") and out.count("\n") == 1
    got = json.loads(out)
    assert list(got) == ["Controls", "Totals"]
    _strip_newer(got["Controls"])
    assert got == json.loads((TESTDATA / "result.json").read_text())


def test_upstream_result_no_totals():
    out = render("json", _collection(), ReportOptions(no_totals=True))
    assert out.startswith("[") and out.endswith("]\n")
    got = _strip_newer(json.loads(out))
    assert got == json.loads((TESTDATA / "result_no_totals.json").read_text())


def test_text_options_do_not_affect_json():
    run = _collection()
    base = render("json", run, ReportOptions())
    opts = ReportOptions(no_results=True, no_remediations=True, no_summary=True, include_test_output=True,
                         color=True)
    assert render("json", run, opts) == base


def _check(**kw: Any) -> CheckResult:
    base: dict[str, Any] = {"id": "1.1.1", "text": "t", "state": State.PASS}
    base.update(kw)
    return CheckResult(**base)


def test_check_field_order_and_reason_omitted():
    c = _check(audit="a", audit_env="e", audit_config="c", type="manual", remediation="r\n",
               test_info=["r\n"], state=State.WARN, actual_value="v", scored=True, is_multiple=True,
               expected_result="x")
    assert check_json(c) == (
        '{"test_number":"1.1.1","test_desc":"t","audit":"a","AuditEnv":"e","AuditConfig":"c",'
        '"type":"manual","remediation":"r\\n","test_info":["r\\n"],"status":"WARN","actual_value":"v",'
        '"scored":true,"IsMultiple":true,"expected_result":"x"}'
    )
    c.reason = "Test marked as a manual test"
    assert check_json(c).endswith('"expected_result":"x","reason":"Test marked as a manual test"}')


def test_controls_field_order_detected_version_and_null_tests():
    ctl = ControlsResult(id="1", version="cis-1.20", text="M", node_type="master")
    assert controls_json(ctl) == (
        '{"id":"1","version":"cis-1.20","text":"M","node_type":"master","tests":null,'
        '"total_pass":0,"total_fail":0,"total_warn":0,"total_info":0}'
    )
    ctl.detected_version = "1.21"
    prefix = '{"id":"1","version":"cis-1.20","detected_version":"1.21","text":"M",'
    assert controls_json(ctl).startswith(prefix)


def test_group_field_order_and_whole_document():
    check = _check(state=State.FAIL)
    group = GroupResult(id="1.1", text="G", checks=[check], counts=Counts(0, 1, 0, 0))
    ctl = ControlsResult(id="1", version="v", text="M", node_type="master", groups=[group],
                         counts=Counts(0, 1, 0, 0))
    run = RunResult([ctl])
    cj = check_json(check)
    group_json = ('{"section":"1.1","type":"","pass":0,"fail":1,"warn":0,"info":0,"desc":"G",'
                  f'"results":[{cj}]}}')
    controls = (f'{{"id":"1","version":"v","text":"M","node_type":"master","tests":[{group_json}],'
                '"total_pass":0,"total_fail":1,"total_warn":0,"total_info":0}')
    assert render("json", run, ReportOptions()) == (
        f'{{"Controls":[{controls}],"Totals":{{"total_pass":0,"total_fail":1,"total_warn":0,"total_info":0}}}}\n'
    )
    assert render("json", run, ReportOptions(no_totals=True)) == f"[{controls}]\n"


def test_empty_run_is_go_nil_slice():
    assert render("json", RunResult(), ReportOptions(no_totals=True)) == "null\n"
    assert render("json", RunResult(), ReportOptions()) == (
        '{"Controls":null,"Totals":{"total_pass":0,"total_fail":0,"total_warn":0,"total_info":0}}\n'
    )


def test_controls_sorted_by_numeric_id():
    run = RunResult([ControlsResult(id=i, version="", text="", node_type="") for i in ("3", "10", "1")])
    out = json.loads(render("json", run, ReportOptions(no_totals=True)))
    assert [c["id"] for c in out] == ["1", "3", "10"]


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("a<b>&c", '"a\\u003cb\\u003e\\u0026c"'),
        ("--cert-file=</path/to/ca-file>", '"--cert-file=\\u003c/path/to/ca-file\\u003e"'),
        ("x\u2028y\u2029z", '"x\\u2028y\\u2029z"'),
        ('quote " backslash \\', '"quote \\" backslash \\\\"'),
        ("\n\r\t", '"\\n\\r\\t"'),
        ("\b\f", '"\\b\\f"'),  # Go >= 1.22 short escapes
        ("\x00\x01\x1f\x0b", '"\\u0000\\u0001\\u001f\\u000b"'),
        ("\x7f", '"\x7f"'),  # DEL is not escaped
        ("é 日本 \U0001f600 \ufffd", '"é 日本 \U0001f600 \ufffd"'),  # non-ASCII kept as UTF-8
        ("bad\udcffbyte", '"bad\\ufffdbyte"'),  # invalid UTF-8 (surrogateescape) -> \ufffd
        ("'single'", "\"'single'\""),
    ],
)
def test_go_string_escaping(text: str, literal: str):
    assert go_string(text) == literal


def test_escaping_in_rendered_output():
    run = RunResult([ControlsResult(id="1", version="", text="a<b & c>\u2028é", node_type="")])
    out = render("json", run, ReportOptions(no_totals=True))
    assert '"text":"a\\u003cb \\u0026 c\\u003e\\u2028é"' in out
    assert out.encode("utf-8").count("é".encode()) == 1


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_go_string_is_valid_json(text: str):
    lit = go_string(text)
    assert json.loads(lit) == text
    assert "<" not in lit and ">" not in lit and "&" not in lit
    assert all(ord(ch) >= 0x20 for ch in lit)


def test_encode_rejects_unknown_types():
    with pytest.raises(TypeError):
        encode(1.5)
    assert encode({"a": [1, True, None, "x"]}) == '{"a":[1,true,null,"x"]}'
