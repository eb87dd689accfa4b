"""--format sarif: valid against the official SARIF 2.1.0 schema (shipped here, no network); rules are the
checks, results the FAIL/WARN checks with file locations, waived ones suppressed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kubecis.report import ReportOptions, render
from kubecis.report.sarif import audit_paths, fingerprint, render_nodes
from kubecis.results.model import CheckResult
from kubecis.results.waivers import apply, parse
from tests.report.sample import demo_run, sample_run

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def errors(validator, doc) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_validator_rejects_a_broken_log(validator):
    """The validation is real: a result with an unknown level and no message fails."""
    doc = json.loads(render("sarif", sample_run(), ReportOptions()))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    del doc["runs"][0]["results"][1]["message"]
    assert len(errors(validator, doc)) == 2


def test_demo_is_valid_sarif_with_a_rule_per_check_and_a_result_per_fail_or_warn(validator):
    run = demo_run()
    doc = json.loads(render("sarif", run, ReportOptions()))
    assert errors(validator, doc) == []
    [r] = doc["runs"]
    rules = r["tool"]["driver"]["rules"]
    checks = [c for _, _, c in run.sorted().checks()]
    assert [x["id"] for x in rules] == [c.id for c in checks]
    results = r["results"]
    assert [x["ruleId"] for x in results] == [c.id for c in checks if c.state.value in ("FAIL", "WARN")]
    assert all(rules[x["ruleIndex"]]["id"] == x["ruleId"] for x in results)
    assert sum(x["level"] == "error" for x in results) == run.totals.fail
    by_id = {x["ruleId"]: x for x in results}
    # a file check has the file as its location
    assert by_id["1.1.1"]["locations"] == [
        {"physicalLocation": {"artifactLocation": {"uri": "file:///etc/kubernetes/manifests/kube-apiserver.yaml"}}}]
    assert r["properties"]["totals"]["FAIL"] == 65


def test_result_kinds_follow_the_benchmark_meaning(validator):
    doc = json.loads(render("sarif", sample_run(), ReportOptions()))
    assert errors(validator, doc) == []
    got = {x["ruleId"]: (x["kind"], x["level"]) for x in doc["runs"][0]["results"]}
    assert got == {
        "1.1.1": ("fail", "error"),  # FAIL
        "1.2.1": ("review", "none"),  # manual
        "1.2.2": ("open", "none"),  # could not be evaluated
        "1.2.4": ("fail", "error"),
        "4.2.2": ("fail", "warning"),  # unscored check whose test failed
    }
    text = {x["ruleId"]: x["message"]["text"] for x in doc["runs"][0]["results"]}
    assert text["1.2.2"].endswith("not evaluated (audit not supported natively: oc rsh)")
    assert "\ufffd bad byte" in text["1.2.4"]


def test_waived_results_carry_a_suppression(validator):
    run = apply(sample_run(), parse("waivers:\n  - {id: w1, checks: ['1.1.1'], reason: accepted risk, owner: al, "
                                    "expires: 2030-01-01}\n", "w.yaml"), dt.date(2025, 3, 1))
    doc = json.loads(render("sarif", run, ReportOptions()))
    assert errors(validator, doc) == []
    r = next(x for x in doc["runs"][0]["results"] if x["ruleId"] == "1.1.1")
    assert (r["kind"], r["level"], r["properties"]["status"]) == ("fail", "error", "WAIVED")
    assert r["suppressions"] == [{"kind": "external", "justification": "accepted risk",
                                  "properties": {"waiver": "w1", "owner": "al", "expires": "2030-01-01"}}]


def test_fingerprints_are_stable_and_distinct_per_node_and_cluster(validator):
    a = json.loads(render("sarif", sample_run(node="n1", cluster="c1"), ReportOptions()))
    again = json.loads(render("sarif", sample_run(node="n1", cluster="c1"), ReportOptions()))
    b = json.loads(render("sarif", sample_run(node="n2", cluster="c1"), ReportOptions()))
    c = json.loads(render("sarif", sample_run(node="n1", cluster="c2"), ReportOptions()))

    def fps(doc):
        return [x["partialFingerprints"]["kubecis/check/v1"] for x in doc["runs"][0]["results"]]

    assert fps(a) == fps(again)
    assert not set(fps(a)) & set(fps(b)) and not set(fps(a)) & set(fps(c))
    assert fps(a)[0] == fingerprint("c1", "n1", "1.1.1")
    assert a["runs"][0]["automationDetails"]["id"] == "kubecis/c1/n1/"


def test_several_nodes_are_several_runs(validator):
    doc = json.loads(render_nodes([("n1", sample_run(node="n1")), ("n2", sample_run(node="n2"))], ReportOptions()))
    assert errors(validator, doc) == []
    assert [r["properties"]["node"] for r in doc["runs"]] == ["n1", "n2"]


@pytest.mark.parametrize(("audit", "audit_config", "paths"), [
    ("stat -c %a /etc/kubernetes/manifests/kube-apiserver.yaml", "", ["/etc/kubernetes/manifests/kube-apiserver.yaml"]),
    ("/bin/ps -fC kubelet", "/bin/cat /var/lib/kubelet/config.yaml", ["/var/lib/kubelet/config.yaml"]),
    ("/bin/ps -ef | grep kube-apiserver | grep -v grep", "", []),
    ("find /etc/kubernetes/pki/ -name '*.crt' | xargs stat -c permissions=%a", "", ["/etc/kubernetes/pki"]),
    ("test ! -e /etc/x.conf || stat -c %U:%G /etc/x.conf", "", ["/etc/x.conf"]),
    ("cat $kubeletconf", "", []),
    ("echo 'unbalanced", "", []),
])
def test_audit_paths(audit, audit_config, paths):
    assert audit_paths(CheckResult(id="x", text="", audit=audit, audit_config=audit_config)) == paths
