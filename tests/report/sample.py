"""A small results model with every state and some hostile text, for the tests of kubecis's own formats."""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from pathlib import Path

from kubecis.results.model import CheckResult, ControlsResult, Counts, GroupResult, RunResult, State


def check(cid: str, state: State, text: str = "", **kw: object) -> CheckResult:
    c = CheckResult(id=cid, text=text or f"Check {cid}", state=state, **kw)  # type: ignore[arg-type]
    c.test_info = [c.remediation]
    return c


def group(gid: str, text: str, *checks: CheckResult) -> GroupResult:
    g = GroupResult(gid, text, list(checks))
    for c in checks:
        g.counts.add(c.state)
    return g


def controls(cid: str, text: str, node_type: str, *groups: GroupResult) -> ControlsResult:
    c = ControlsResult(cid, "cis-1.12", text, node_type, detected_version="1.33", groups=list(groups))
    for g in groups:
        c.counts += g.counts
    return c


def sample_run(node: str = "cp-1", cluster: str = "prod") -> RunResult:
    master = controls(
        "1", "Control Plane Security Configuration", "master",
        group(
            "1.1", "Control Plane Node Configuration Files",
            check("1.1.1", State.FAIL, "Ensure that the API server pod specification file permissions are set to 600",
                  audit="stat -c permissions=%a /etc/kubernetes/manifests/kube-apiserver.yaml",
                  actual_value="permissions=666", expected_result="permissions has permissions 666, expected 600",
                  remediation="chmod 600 /etc/kubernetes/manifests/kube-apiserver.yaml", scored=True),
            check("1.1.2", State.PASS, audit="stat -c %U:%G /etc/kubernetes/manifests/kube-apiserver.yaml",
                  actual_value="root:root", expected_result="'root:root' is present", scored=True),
        ),
        group(
            "1.2", "API Server",
            check("1.2.1", State.WARN, "Ensure that the --anonymous-auth argument is set to false (Manual)",
                  type="manual", reason="Test marked as a manual test", remediation="Edit the manifest."),
            check("1.2.2", State.WARN, "Ensure <script>alert(1)</script> is escaped & \"quoted\"",
                  audit="/bin/ps -ef | grep kube-apiserver | grep -v grep", scored=True,
                  reason="audit not supported natively: oc rsh"),
            check("1.2.3", State.INFO, "Skipped check", type="skip", reason="Test marked as skip"),
            check("1.2.4", State.FAIL, "Unscored failing check shown as WARN? no: scored FAIL with odd evidence",
                  actual_value="=HYPERLINK(\"http://evil\")\n\udcff bad byte", scored=True,
                  audit="cat /var/lib/kubelet/config.yaml", remediation="Fix it."),
        ),
    )
    node_c = controls(
        "4", "Worker Node Security Configuration", "node",
        group(
            "4.2", "Kubelet",
            check("4.2.1", State.PASS, actual_value="false", expected_result="'false' is equal to 'false'",
                  audit="/bin/ps -fC kubelet", audit_config="/bin/cat /var/lib/kubelet/config.yaml", scored=True),
            check("4.2.2", State.WARN, "Unscored check whose test failed", actual_value="AlwaysAllow",
                  expected_result="'AlwaysAllow' is not equal to 'AlwaysAllow'", scored=False),
        ),
    )
    return RunResult([node_c, master], benchmark="cis-1.12", node=node, cluster=cluster,
                     scanned_at="2025-03-01T12:00:00Z", notes=["node: always run"])


@functools.cache
def _demo_json() -> dict[str, object]:
    from kubecis.cli.main import main

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "demo.json"
        assert main(["demo", "--json", "--outputfile", str(out)]) == 0
        return json.loads(out.read_text())  # type: ignore[no-any-return]


def demo_run(node: str = "vm", cluster: str = "") -> RunResult:
    """The example node's results (``kubecis demo --json``: a real run of the shipped snapshot), with identity."""
    run = RunResult.from_dict(copy.deepcopy(_demo_json()))
    run.benchmark, run.node, run.cluster, run.scanned_at = "cis-1.12", node, cluster, "2025-03-01T12:00:00Z"
    return run


def counts_of(run: RunResult) -> Counts:
    return run.totals
