"""Waivers: the file format (errors with file:line), what an active, expired, unused and scoped waiver does,
and how waived checks appear in kube-bench's and kubecis's formats."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kubecis.errors import WaiverError
from kubecis.report import ReportOptions, render
from kubecis.results.model import RunResult, State, StatusCounts
from kubecis.results.waivers import apply, evidence_objects, load, parse, summary_lines
from tests.report.sample import check, controls, group, sample_run

TODAY = dt.date(2025, 3, 1)


def waivers(text: str) -> list:
    return parse(text, "w.yaml")


def statuses(run: RunResult) -> dict[str, str]:
    return {c.id: c.status for _, _, c in run.checks()}


# ---- the file -------------------------------------------------------------------------------------------
def test_full_entry_is_read():
    [w] = waivers("""
waivers:
  - id: perms
    checks: ["1.1.1", "4.2.*"]
    reason: managed by the installer
    owner: alice@example.com
    expires: 2027-01-31
    nodes: ["cp-*"]
    clusters: [prod]
    benchmarks: [cis-1.12]
    namespaces: [team-a]
    objects: ["Pod/team-a/web", "ClusterRoleBinding/ops"]
""")
    assert (w.id, w.checks, w.reason, w.owner, w.expires) == (
        "perms", ("1.1.1", "4.2.*"), "managed by the installer", "alice@example.com", dt.date(2027, 1, 31))
    assert (w.nodes, w.clusters, w.benchmarks, w.namespaces, w.objects) == (
        ("cp-*",), ("prod",), ("cis-1.12",), ("team-a",), ("Pod/team-a/web", "ClusterRoleBinding/ops"))


def test_default_id_is_file_and_line():
    ws = waivers("waivers:\n  - checks: ['1.1.1']\n    reason: r\n    expires: 2030-01-01\n")
    assert ws[0].id == "w.yaml:2"


@pytest.mark.parametrize("text", ["waivers:\n", "waivers: []\n"])
def test_empty_lists_are_valid(text):
    assert waivers(text) == []


def test_every_error_is_reported_with_its_line_in_file_order():
    text = (
        "waivers:\n"                          # 1
        "  - checks: 1.1.1\n"                 # 2  not a list
        "    reason: ''\n"                    # 3  empty
        "    expires: 2020-13-01\n"           # 4  not a date
        "    nodez: [a]\n"                    # 5  unknown key
        "  - 3\n"                             # 6  not a mapping
        "  - checks: ['1.1.1']\n"             # 7  missing reason and expires
        "  - {id: x, checks: [a], reason: r, expires: 2030-01-01, objects: [Pod]}\n"  # 8 bad object pattern
        "  - {id: x, checks: [a], reason: r, expires: 2030-01-01}\n"  # 9 ok
        "  - {id: x, checks: [b], reason: r, expires: 2030-01-01}\n"  # 10 duplicate id
    )
    with pytest.raises(WaiverError) as e:
        waivers(text)
    lines = str(e.value).splitlines()
    assert lines == [
        "w.yaml:2: 'checks' must be a non-empty list of strings, e.g. checks: [\"...\"]",
        "w.yaml:3: 'reason' must not be empty",
        "w.yaml:4: 'expires' must be a date YYYY-MM-DD, not '2020-13-01'",
        "w.yaml:5: unknown key 'nodez' (known: id, reason, owner, expires, checks, nodes, clusters, benchmarks, "
        "namespaces, objects)",
        "w.yaml:6: each waiver must be a mapping (checks, reason, expires, ...)",
        "w.yaml:7: missing 'reason'",
        "w.yaml:7: missing 'expires'",
        "w.yaml:8: 'objects': 'Pod' is not Kind/namespace/name or Kind/name",
        "w.yaml:10: duplicate waiver id 'x' (first at line 9)",
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("", "w.yaml:1: empty file; expected a mapping with a 'waivers' list"),
    ("- a\n", "w.yaml:1: expected a mapping with a 'waivers' list"),
    ("waivers: {a: 1}\n", "w.yaml:1: 'waivers' must be a list"),
    ("other: 1\n", "w.yaml:1: unknown key 'other' (a waivers file has one key: waivers)\nw.yaml:1: missing 'waivers'"
                   " (a list of waivers)"),
    ("waivers:\n  - checks: [a\n", "w.yaml:3: malformed YAML: did not find expected ',' or ']'"),
])
def test_file_level_errors(text, message):
    with pytest.raises(WaiverError) as e:
        waivers(text)
    assert str(e.value) == message


def test_aliases_are_refused_so_no_document_explodes():
    text = "waivers:\n  - &w {checks: [a], reason: r, expires: 2030-01-01}\n  - *w\n"
    with pytest.raises(WaiverError, match=r"w.yaml:2: YAML aliases are not supported"):
        waivers(text)


def test_load_errors_name_the_file(tmp_path: Path):
    with pytest.raises(WaiverError, match=r"missing.yaml: No such file or directory"):
        load(tmp_path / "missing.yaml")
    with pytest.raises(WaiverError, match=r": is a directory"):
        load(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (1 << 20) + b"\n")
    with pytest.raises(WaiverError, match=r"big.yaml: larger than 1 MiB"):
        load(big)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"waivers: [\xff]\n")
    with pytest.raises(WaiverError, match=r"bad.yaml: not UTF-8 text \(byte 10\)"):
        load(bad)


# ---- applying -------------------------------------------------------------------------------------------
def test_active_waiver_turns_fail_into_waived_and_info_for_kube_bench():
    run = sample_run()
    ws = waivers("waivers:\n  - {id: perms, checks: ['1.1.1'], reason: installer, owner: al, expires: 2025-03-01}\n")
    out = apply(run, ws, TODAY)  # the expiry day itself still applies
    c = next(c for _, _, c in out.checks() if c.id == "1.1.1")
    assert c.state is State.INFO and c.status == "WAIVED"
    assert c.reason == "waived (perms, owner al, until 2025-03-01; was FAIL): installer"
    assert c.waiver is not None and c.waiver.state is State.FAIL
    # kube-bench's counts: the FAIL became INFO, in its group, its controls and the totals
    master = next(x for x in out.controls if x.id == "1")
    assert (master.counts.fail, master.counts.info) == (1, 2)
    assert (master.groups[0].counts.fail, master.groups[0].counts.info) == (0, 1)
    assert (run.totals.fail - out.totals.fail, out.totals.info - run.totals.info) == (1, 1)
    # kubecis's counts: WAIVED apart, not INFO
    sc = out.status_counts
    assert (sc.fail, sc.info, sc.waived) == (1, 1, 1)
    assert [(u.id, u.status, u.checks) for u in out.waivers or ()] == [("perms", "applied", ("1.1.1",))]
    # the input is not changed
    assert statuses(run)["1.1.1"] == "FAIL"


def test_kube_bench_json_shows_info_with_the_waiver_in_the_reason():
    run = apply(sample_run(), waivers("waivers:\n  - {id: p, checks: ['1.1.1'], reason: ok, expires: 2030-01-01}\n"),
                TODAY)
    doc = json.loads(render("json", run, ReportOptions()))
    r = doc["Controls"][0]["tests"][0]["results"][0]
    assert (r["test_number"], r["status"]) == ("1.1.1", "INFO")
    assert r["reason"] == "waived (p, until 2030-01-01; was FAIL): ok"
    assert doc["Controls"][0]["total_info"] == 2 and doc["Totals"]["total_fail"] == 1
    text = render("text", run, ReportOptions())
    assert "[INFO] 1.1.1 " in text and "1.1.1 chmod" not in text  # no longer in the remediations


def test_no_waivers_file_keeps_kube_bench_formats_byte_identical():
    run = sample_run()
    empty = apply(run, [], TODAY)
    for fmt in ("text", "json", "junit"):
        assert render(fmt, empty, ReportOptions()) == render(fmt, run, ReportOptions())


def test_expired_waiver_is_listed_and_not_applied():
    ws = waivers("waivers:\n  - {id: old, checks: ['1.1.*'], reason: r, expires: 2025-02-28}\n")
    out = apply(sample_run(), ws, TODAY)
    assert statuses(out)["1.1.1"] == "FAIL"
    assert [(u.id, u.status, u.checks) for u in out.waivers or ()] == [("old", "expired", ("1.1.1",))]
    assert summary_lines(out.waivers or ()) == [
        "waivers: 0 checks waived by 0 of 1 waivers",
        "waiver old expired on 2025-02-28, not applied (would have waived 1.1.1)",
    ]


def test_unused_waiver_is_listed():
    ws = waivers("waivers:\n  - {id: gone, checks: ['9.9.9', '1.1.2'], reason: r, expires: 2030-01-01}\n")
    out = apply(sample_run(), ws, TODAY)
    assert statuses(out) == statuses(sample_run())  # 1.1.2 PASSes: nothing to waive
    assert [(u.id, u.status) for u in out.waivers or ()] == [("gone", "unused")]
    assert summary_lines(out.waivers or ())[1] == "waiver gone is unused: it waived nothing in this run"


def test_warn_checks_are_waivable_pass_and_info_are_not():
    ws = waivers("waivers:\n  - {id: all, checks: ['*'], reason: r, expires: 2030-01-01}\n")
    out = apply(sample_run(), ws, TODAY)
    assert statuses(out) == {"1.1.1": "WAIVED", "1.1.2": "PASS", "1.2.1": "WAIVED", "1.2.2": "WAIVED",
                             "1.2.3": "INFO", "1.2.4": "WAIVED", "4.2.1": "PASS", "4.2.2": "WAIVED"}
    assert out.status_counts == StatusCounts(pass_=2, fail=0, warn=0, info=1, waived=5)


@pytest.mark.parametrize(("scope", "applies"), [
    ("nodes: [cp-*]", True),
    ("nodes: [worker-*]", False),
    ("clusters: [prod]", True),
    ("clusters: [staging]", False),
    ("benchmarks: [cis-1.1?]", True),
    ("benchmarks: [cis-1.11]", False),
    ("{nodes: [cp-1], clusters: [staging]}", False),  # every given key must match
])
def test_node_cluster_benchmark_scope(scope, applies):
    if scope.startswith("{"):
        extra = ", ".join(f"{k}: {v}" for k, v in (p.split(": ", 1) for p in scope[1:-1].split(", ")))
    else:
        extra = scope
    ws = waivers(f"waivers:\n  - {{id: s, checks: ['1.1.1'], reason: r, expires: 2030-01-01, {extra}}}\n")
    out = apply(sample_run(node="cp-1", cluster="prod"), ws, TODAY)
    assert statuses(out)["1.1.1"] == ("WAIVED" if applies else "FAIL")
    assert (out.waivers or ())[0].status == ("applied" if applies else "unused")


def _policy_run(evidence: str) -> RunResult:
    c = controls("5", "Kubernetes Policies", "policies",
                 group("5.2", "Pod Security Standards",
                       check("5.2.2", State.FAIL, "Minimize privileged containers", actual_value=evidence,
                             scored=True)))
    return RunResult([c], benchmark="cis-1.12", node="cp-1", cluster="prod")


EVIDENCE = "Pod team-a/web container=nginx\nPod team-b/db container=pg\nClusterRoleBinding ops-admins"


def test_evidence_objects_are_parsed():
    objs = evidence_objects(EVIDENCE)
    assert [(o.kind, o.namespace, o.name, o.key) for o in objs or []] == [
        ("Pod", "team-a", "web", "Pod/team-a/web"), ("Pod", "team-b", "db", "Pod/team-b/db"),
        ("ClusterRoleBinding", "", "ops-admins", "ClusterRoleBinding/ops-admins")]
    assert evidence_objects("permissions=644") is None
    assert evidence_objects("") is None


def test_object_scoped_waivers_waive_only_when_every_object_is_covered():
    text = """
waivers:
  - {id: a, checks: ['5.2.2'], reason: team a, expires: 2030-01-01, namespaces: [team-a]}
  - {id: b, checks: ['5.2.2'], reason: team b db, expires: 2030-01-01, objects: ['Pod/team-b/*']}
  - {id: ops, checks: ['5.2.*'], reason: ops, owner: bob, expires: 2029-06-30, objects: ['ClusterRoleBinding/ops-*']}
"""
    ws = waivers(text)
    out = apply(_policy_run(EVIDENCE), ws, TODAY)
    c = next(c for _, _, c in out.checks())
    assert c.status == "WAIVED"
    assert c.waiver is not None and (c.waiver.id, c.waiver.expires, c.waiver.owner) == ("a+b+ops", "2029-06-30", "bob")
    assert [u.status for u in out.waivers or ()] == ["applied", "applied", "applied"]
    # without the ops waiver, the ClusterRoleBinding is not covered: the check stays FAIL
    out = apply(_policy_run(EVIDENCE), ws[:2], TODAY)
    assert statuses(out)["5.2.2"] == "FAIL"
    assert [(u.id, u.status, u.checks) for u in out.waivers or ()] == [("a", "partial", ("5.2.2",)),
                                                                        ("b", "partial", ("5.2.2",))]
    # an object-scoped waiver never applies to a check whose evidence is not a list of objects
    out = apply(sample_run(), waivers("waivers:\n  - {id: n, checks: ['1.1.1'], reason: r, expires: 2030-01-01, "
                                      "namespaces: ['*']}\n"), TODAY)
    assert statuses(out)["1.1.1"] == "FAIL"


def test_waived_checks_do_not_trigger_exit_code_counts():
    out = apply(sample_run(), waivers("waivers:\n  - {id: p, checks: ['1.1.1', '1.2.4'], reason: r, "
                                      "expires: 2030-01-01}\n"), TODAY)
    assert out.totals.fail == 0


# ---- the evidence the bundled policies checks print (kubecis probe) ------------------------------------
def _probe(name: str) -> str:
    """What `kubecis probe NAME` prints on the example cluster's objects (the actual_value of its check)."""
    from kubecis.policies.objects import ObjectsCluster
    from kubecis.probes import ProbeContext, run_probe
    from tests.shared import REPO

    cluster = ObjectsCluster.load(REPO / "tests" / "policies" / "fixtures" / "example-cluster.yaml")
    res = run_probe(name, [], ProbeContext(cluster=cluster))
    assert res.status == 0, res.output
    return res.output


def test_probe_output_is_a_list_of_objects_exactly():
    out = _probe("privileged-containers")
    assert out.splitlines()[0] == "privileged_containers: 1" and out.splitlines()[-1].startswith("note: ")
    assert [o.key for o in evidence_objects(out) or []] == ["Deployment/legacy/log-shipper"]
    out = _probe("root-containers")
    assert [o.key for o in evidence_objects(out) or []] == [
        "Deployment/kube-system/coredns", "Deployment/legacy/log-shipper", "Deployment/legacy/log-shipper",
        "Pod/default/debug"]
    out = _probe("network-policies")  # cluster-scoped Namespace objects; no note lines
    assert [(o.kind, o.namespace, o.name, o.in_namespace) for o in evidence_objects(out) or []] == [
        ("Namespace", "", n, n) for n in ("kube-node-lease", "kube-public", "kube-system", "legacy")]
    out = _probe("cluster-admin-bindings")
    assert [o.key for o in evidence_objects(out) or []] == ["ClusterRoleBinding/ops-admins"]


@pytest.mark.parametrize("text", [
    "privileged_containers: 2\nDeployment legacy/log-shipper container=shipper privileged=true\n",  # one line short
    "privileged_containers: 1\nDeployment legacy/log-shipper container=shipper privileged=true\nPod default/x\n",
    "privileged_containers: 1\nnote: first\nDeployment legacy/log-shipper container=shipper privileged=true\n",
    "privileged_containers: 1\nDeployment legacy/log-shipper x\nnote: n\nPod default/debug\n",  # after the notes
    "privileged_containers: 01\nDeployment legacy/log-shipper\n",
    "privileged_containers: 1\ndeployment legacy/log-shipper\n",
    "privileged_containers: 1\nDeployment  legacy/log-shipper\n",  # two spaces: not the probe's shape
    "privileged_containers: 1\nDeployment a/b/c\n",
    "Deployment legacy/log-shipper\npermissions=644\n",
])
def test_anything_but_the_exact_shape_is_not_a_list_of_objects(text):
    assert evidence_objects(text) is None


def test_a_namespace_scope_covers_namespace_objects_of_that_name():
    out = _probe("network-policies")
    run = _policy_run(out)
    ws = waivers("waivers:\n  - {id: sys, checks: ['5.2.2'], reason: r, expires: 2030-01-01, "
                 "namespaces: [kube-system, kube-public, kube-node-lease]}\n")
    assert statuses(apply(run, ws, TODAY))["5.2.2"] == "FAIL"  # legacy is not covered
    ws = waivers("waivers:\n  - {id: all, checks: ['5.2.2'], reason: r, expires: 2030-01-01, namespaces: ['kube-*', "
                 "legacy]}\n")
    assert statuses(apply(run, ws, TODAY))["5.2.2"] == "WAIVED"
    # a cluster-scoped object other than a Namespace is in no namespace
    run = _policy_run(_probe("cluster-admin-bindings"))
    ws = waivers("waivers:\n  - {id: ns, checks: ['5.2.2'], reason: r, expires: 2030-01-01, namespaces: ['*']}\n")
    assert statuses(apply(run, ws, TODAY))["5.2.2"] == "FAIL"


def test_merged_uses_over_a_fleet():
    from kubecis.results.model import WaiverUse
    from kubecis.results.waivers import merge_uses

    def use(wid, status, *checks):
        return WaiverUse(wid, "r", "", "2030-01-01", status, checks)

    merged = merge_uses([
        (use("a", "applied", "1.1.1"), use("b", "unused"), use("c", "partial", "5.2.7"), use("d", "expired", "4.2.1")),
        (use("a", "applied", "1.1.1", "1.1.2"), use("b", "unused"), use("c", "unused"), use("d", "expired", "4.2.6")),
        (use("a", "unused"), use("b", "unused"), use("c", "applied", "5.2.2"), use("d", "expired")),
    ])
    assert [(u.id, u.status, u.checks) for u in merged] == [
        ("a", "applied", ("1.1.1", "1.1.2")), ("b", "unused", ()), ("c", "applied", ("5.2.2",)),
        ("d", "expired", ("4.2.1", "4.2.6"))]
    assert summary_lines(merged, waived=4, nodes=3) == [
        "waivers: 4 checks waived on 3 nodes by 2 of 4 waivers",
        "waiver b is unused: it waived nothing on any node",
        "waiver d expired on 2030-01-01, not applied (would have waived 4.2.1, 4.2.6)"]
