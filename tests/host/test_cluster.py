"""The Cluster layer: kubeconfig resolution, discovery, record/replay with redaction."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from kubecis.audit.native import NativeExecutor
from kubecis.audit.native.utilities.kubectl.resources import RESTMapper
from kubecis.errors import HostError
from kubecis.host.cluster import (
    ClusterUnreachable,
    LiveCluster,
    NoCluster,
    RecordingCluster,
    SnapshotCluster,
    redact_api_body,
)
from kubecis.host.kubeapi import resolve
from kubecis.host.live import LiveHost
from kubecis.host.snapshot import RecordingHost, SnapshotHost
from tests.audit import test_kubectl_server as _server
from tests.audit.test_kubectl_server import FakeAPI

fake_api = _server.fake_api  # the module-scoped fixture


def _write(p: Path, text: str) -> Path:
    p.write_text(text)
    return p


def test_kubeconfig_merge_first_wins(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    a = _write(tmp_path / "sub" / "a", """
current-context: one
contexts:
- name: one
  context: {cluster: c1, user: u1, namespace: ns1}
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.crt}
""")
    b = _write(tmp_path / "b", """
current-context: two
users:
- name: u1
  user: {client-certificate: certs/u.crt, client-key: /abs/u.key, token: t0k}
clusters:
- name: c1
  cluster: {server: "https://ignored"}
""")
    env = {"KUBECONFIG": f"{a}:{tmp_path / 'missing'}:{b}"}
    src = resolve(env)
    assert (src.kind, src.server, src.namespace, src.context) == ("kubeconfig", "https://10.0.0.1:6443", "ns1", "one")
    assert src.files == (str(a), str(b))
    assert not src.uses_plugin


def test_kubeconfig_exec_plugin_is_not_run(tmp_path: Path) -> None:
    k = _write(tmp_path / "k", """
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {command: aws}}}]
""")
    assert resolve({"KUBECONFIG": str(k)}).uses_plugin
    res = NativeExecutor(LiveHost(), cluster=LiveCluster({"KUBECONFIG": str(k)})).run("kubectl get pods")
    # not run natively, so --executor auto runs the real kubectl (which runs the plugin)
    assert res.not_run == "audit not supported natively: kubectl with kubeconfig credential plugin (exec/auth-provider)"


def test_unknown_context_is_one_line(tmp_path: Path) -> None:
    k = _write(tmp_path / "k", "current-context: gone\ncontexts: []\n")
    with pytest.raises(HostError, match="context 'gone' not found"):
        resolve({"KUBECONFIG": str(k)})


def test_no_configuration_is_localhost_8080(tmp_path: Path) -> None:
    src = resolve({"HOME": str(tmp_path)})
    assert (src.kind, src.server, src.namespace) == ("default", "http://localhost:8080", "default")


def test_no_configuration_refused_without_the_client_library(tmp_path: Path) -> None:
    """kubectl's localhost:8080 default with nothing listening: refused, and `kubernetes` is never imported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kubecis.host.cluster import LiveCluster, ClusterUnreachable\n"
        f"c = LiveCluster({{'HOME': {str(tmp_path)!r}}})\n"
        "try:\n    c.get('/api')\nexcept ClusterUnreachable as e:\n    print('refused', e.host)\n"
        "print('kubernetes' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # (something may listen on 8080 on a developer machine: then the library is used, which is also correct)
    if out.startswith("refused"):
        assert out.split() == ["refused", "localhost:8080", "False"]


def test_no_cluster_refuses() -> None:
    with pytest.raises(ClusterUnreachable) as e:
        NoCluster().get("/api")
    assert e.value.host == "localhost:8080"


def test_discovery_resolution(fake_api: FakeAPI) -> None:
    d = RESTMapper(LiveCluster(fake_api.env()))
    for arg, want in [("pods", "pods"), ("pod", "pods"), ("po", "pods"), ("cm", "configmaps"),
                      ("sa", "serviceaccounts"), ("scc", "securitycontextconstraints"),
                      ("clusterrolebindings", "clusterrolebindings"),
                      ("kubeapiservers.operator.openshift.io", "kubeapiservers"), ("KubeAPIServer", "kubeapiservers"),
                      ("roles.v1.rbac.authorization.k8s.io", "roles"), ("netpol", "networkpolicies")]:
        r = d.resolve(arg)
        assert r is not None and r.name == want, arg
    assert d.resolve("nosuch") is None
    assert d.resolve("pods.apps") is None
    assert [r.name for r in d.category("all")] == ["pods", "services"]
    assert LiveCluster(fake_api.env()).namespace == "app"


def test_record_replay_identical_and_redacted(fake_api: FakeAPI, tmp_path: Path) -> None:
    env = fake_api.env()
    scripts = [
        "kubectl get pods -A -o json",
        "kubectl get secrets -n app -o json; kubectl get secret db -n app -o jsonpath='{.data.password}'",
        "kubectl auth can-i create pods --all-namespaces --as=system:authenticated",
        "kubectl get cm config -o jsonpath='{.data}'",
        "kubectl get nope; kubectl get pods",
    ]
    rh = RecordingHost(LiveHost())
    rec = RecordingCluster(LiveCluster(env), rh.entries)
    live = [NativeExecutor(rh, env=env, cluster=rec).run(s) for s in scripts]
    assert all(r.not_run == "" for r in live)
    path = tmp_path / "snap.json.gz"
    rh.save(str(path))
    raw = gzip.decompress(path.read_bytes())
    assert b"hunter2" not in raw and base64.b64encode(b"hunter2") not in raw
    snap = SnapshotHost.load(str(path))
    cluster = SnapshotCluster.from_host(snap)
    replay = [NativeExecutor(snap, env=env, cluster=cluster).run(s) for s in scripts]
    for s, a, b in zip(scripts, live, replay, strict=True):
        if "secret" in s:
            assert b.output.count("REDACTED-BY-KUBECIS") or "UkVEQUNURUQtQlktS1VCRUNJUw" in b.output
            continue
        assert (a.output, a.returncode) == (b.output, b.returncode), s
    missing = NativeExecutor(snap, env=env, cluster=cluster).run("kubectl get nodes -o json")
    assert missing.not_run.startswith("not in snapshot: api GET /api/v1/nodes")


def test_recorded_refusal_replays(tmp_path: Path) -> None:
    entries: dict[str, object] = {}
    rec = RecordingCluster(NoCluster(), entries)
    a = NativeExecutor(LiveHost(), cluster=rec).run("kubectl get --raw /healthz")
    b = NativeExecutor(LiveHost(), cluster=SnapshotCluster(entries)).run("kubectl get --raw /healthz")
    assert a.not_run == b.not_run == (
        "audit not supported natively: kubectl: the cluster API at localhost:8080 is not reachable")
    quiet = "kubectl get --raw /healthz 2>/dev/null; echo $?"
    assert NativeExecutor(LiveHost(), cluster=rec).run(quiet).output == "1\n"
    assert NativeExecutor(LiveHost(), cluster=SnapshotCluster(entries)).run(quiet).output == "1\n"


def test_redact_api_body() -> None:
    secret_list = {"kind": "SecretList", "apiVersion": "v1", "items": [
        {"metadata": {"name": "s"}, "data": {"k": "c2VjcmV0"}, "stringData": {"x": "y"}}]}
    out = json.loads(redact_api_body(json.dumps(secret_list).encode()))
    assert out["items"][0]["data"] == {"k": base64.b64encode(b"REDACTED-BY-KUBECIS").decode()}
    assert "kind" not in out["items"][0]
    cm = {"kind": "ConfigMap", "data": {"kubeconfig": "users:\n- user:\n    token: abc\n", "plain": "x"},
          "status": {"token": "xyz"}}
    out = json.loads(redact_api_body(json.dumps(cm).encode()))
    assert "abc" not in out["data"]["kubeconfig"] and out["data"]["plain"] == "x"
    assert out["status"]["token"] == "REDACTED-BY-KUBECIS"


def test_cli_record_then_replay_policies(fake_api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`snapshot record` stores the API answers; `run --snapshot` replays them with identical results."""
    from kubecis.cli.main import main

    for k, v in fake_api.env().items():
        if k != "PATH":
            monkeypatch.setenv(k, v)
    snap = tmp_path / "node.snap"
    args = ["--benchmark", "cis-1.12", "--targets", "policies"]
    assert main(["snapshot", "record", "-o", str(snap), *args]) == 0
    capsys.readouterr()
    main(["run", *args, "--executor", "native", "--json", "--include-test-output"])
    live = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nothing-here"))
    main(["run", *args, "--snapshot", str(snap), "--json", "--include-test-output"])
    replay = json.loads(capsys.readouterr().out)
    assert replay == live
    outputs = [r.get("actual_value", "") for c in live["Controls"] for t in c["tests"] for r in t["results"]
               if r["test_number"] in ("5.1.2", "5.1.4")]
    # the policies probes read the fake cluster's RBAC objects: its "anon" binding lets system:anonymous create pods
    assert any("RoleBinding app/anon subject=User:system:anonymous role=Role/wild can=create pods" in o
               for o in outputs), outputs
    assert b"hunter2" not in gzip.decompress(snap.read_bytes())


def test_root_has_no_cluster(tmp_path: Path) -> None:
    from kubecis.cli.common import build_host, make_cluster

    host, live = build_host(root=tmp_path)
    assert make_cluster(host, live=live) is None
    assert isinstance(make_cluster(LiveHost(), live=True), LiveCluster)


def _kubeconfig(path: Path, server: str, cluster: str, user: str) -> dict[str, str]:
    path.write_text(
        "current-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
        f"clusters: [{{name: c, cluster: {{server: \"{server}\", {cluster}}}}}]\n"
        f"users: [{{name: u, user: {{{user}}}}}]\n"
    )
    return {"KUBECONFIG": str(path), "HOME": str(path.parent)}


def test_tls_variants(fake_api: FakeAPI, tmp_path: Path) -> None:
    import subprocess

    from tests.audit.test_kubectl_server import TOKEN

    key, crt = tmp_path / "c.key", tmp_path / "c.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "1", "-subj", "/CN=client"], check=True, capture_output=True)
    ca = base64.b64encode(fake_api.ca.read_bytes()).decode()
    cert_data = base64.b64encode(crt.read_bytes()).decode()
    key_data = base64.b64encode(key.read_bytes()).decode()
    import tempfile

    before = set(Path(tempfile.gettempdir()).iterdir())
    # client certificate from data (the client library's temporary 0600 files, removed at exit), CA from data
    env = _kubeconfig(tmp_path / "k1", fake_api.url, f"certificate-authority-data: {ca}",
                      f"client-certificate-data: {cert_data}, client-key-data: {key_data}, token: {TOKEN}")
    assert LiveCluster(env).get("/api")[0] == 200
    for p in set(Path(tempfile.gettempdir()).iterdir()) - before:
        if p.is_file() and b"PRIVATE KEY" in p.read_bytes():
            assert p.stat().st_mode & 0o077 == 0, p
    # client certificate and CA from files
    env = _kubeconfig(tmp_path / "k2", fake_api.url, f"certificate-authority: {fake_api.ca}",
                      f"client-certificate: {crt}, client-key: {key}, token: {TOKEN}")
    assert LiveCluster(env).get("/api")[0] == 200
    # insecure-skip-tls-verify: no CA at all
    env = _kubeconfig(tmp_path / "k3", fake_api.url, "insecure-skip-tls-verify: true", f"token: {TOKEN}")
    assert LiveCluster(env).get("/api")[0] == 200
    # the wrong CA: never a guessed answer; not run natively (auto runs the real kubectl)
    env = _kubeconfig(tmp_path / "k4", fake_api.url, f"certificate-authority: {crt}", f"token: {TOKEN}")
    res = NativeExecutor(LiveHost(), cluster=LiveCluster(env)).run("kubectl get pods")
    assert res.not_run == ("audit not supported natively: kubectl with kubectl's error output for a failed "
                           f"connection (cannot reach the API server {fake_api.url}: TLS certificate verification "
                           "failed)")
    # a token file
    (tmp_path / "tok").write_text(TOKEN + "\n")
    env = _kubeconfig(tmp_path / "k5", fake_api.url, f"certificate-authority-data: {ca}", "tokenFile: tok")
    assert LiveCluster(env).get("/api")[0] == 200
    # a rejected token: kubectl's login error is not reproduced
    env = _kubeconfig(tmp_path / "k6", fake_api.url, f"certificate-authority-data: {ca}", "token: wrong")
    res = NativeExecutor(LiveHost(), cluster=LiveCluster(env)).run("kubectl get pods")
    assert res.not_run == ("audit not supported natively: kubectl with kubectl's error output when discovery fails "
                           "(/api: HTTP 401)")
