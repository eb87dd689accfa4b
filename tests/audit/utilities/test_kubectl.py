"""Native kubectl/oc vs the real /usr/bin/kubectl against a fake API server: identical output and status.

``oc`` is compared with kubectl started under the name ``oc`` (a symlink): for ``get``, ``describe
secret`` and ``auth can-i`` oc is kubectl. kubectl prints a secret's data keys in Go's random map order
and kubecis sorts them: outputs with several keys are compared with those lines sorted. Benchmark audits
that need constructs the native executor does not support yet (some shell forms) are skipped with the
construct named, decided at run time by ``unsupported_reason`` so they start running as soon as support lands.
"""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecis.audit.native import NativeExecutor, unsupported_reason
from kubecis.audit.native.context import AuditRun
from kubecis.audit.native.corpus import distinct, load_corpus
from kubecis.audit.native.shell import Shell
from kubecis.audit.native.streams import Out, Stream
from kubecis.audit.native.utilities import UTILITIES
from kubecis.host.cluster import LiveCluster, RecordingCluster, SnapshotCluster
from kubecis.host.live import LiveHost
from tests.audit import test_kubectl_server as _server
from tests.audit.test_kubectl_server import FakeAPI
from tests.realtools import AUDIT_TOOLS, needs_real, real_tool
from tests.shared import COMPAT as SHARED_COMPAT

fake_api = _server.fake_api  # the module-scoped fixture

KUBECTL = real_tool("kubectl")
pytestmark = needs_real("kubectl", "sh", *AUDIT_TOOLS)

CFG = SHARED_COMPAT / "cfg"
SETS = ["cis-1.9", "cis-1.10", "cis-1.11", "cis-1.12", "eks-1.7.0", "eks-1.8.0", "gke-1.9.0", "aks-1.8",
        "k3s-cis-1.9", "rh-1.0", "rh-1.4"]

DIRECT = [
    "kubectl get pods -A -o json",
    "kubectl get pod web-1 -o json",
    "kubectl get pods",
    "kubectl get pods -A -o wide",
    "kubectl get pods -n default; echo rc=$?",
    "kubectl get clusterroles --no-headers",
    "kubectl get clusterrolebindings -o=custom-columns=NAME:.metadata.name,ROLE:.roleRef.name,"
    "SUBJECT:.subjects[*].name",
    "kubectl get clusterrolebindings -o=custom-columns=NAME:.metadata.name,ROLE:.roleRef.name,SUBJECT:.subjects[*].name"
    " --no-headers",
    "kubectl get pods --all-namespaces -o custom-columns=POD_NAMESPACE:.metadata.namespace,POD_NAME:.metadata.name,"
    "POD_SERVICE_ACCOUNT:.spec.serviceAccount,POD_IS_AUTOMOUNTSERVICEACCOUNTTOKEN:.spec.automountServiceAccountToken"
    " --no-headers",
    "kubectl get ns -o custom-columns=N:.metadata.name,X:.metadata.uid,Y:.spec.x",
    "kubectl get po -A -o custom-columns=A:.spec.containers[*].name,B:.spec.containers[*].securityContext,"
    "C:.metadata.labels --no-headers",
    "kubectl get kubeapiservers.operator.openshift.io -o "
    "custom-columns=A:.spec.observedConfig.apiServerArguments.ratio",
    "kubectl get serviceaccount --all-namespaces --field-selector metadata.name=default -o=json",
    "kubectl get role -n app wild -o=json; kubectl get clusterrole cluster-admin -o=json",
    "kubectl get pod priv-1 --namespace app -o jsonpath='{.spec.hostPID}'; echo; "
    "kubectl get pod web-1 --namespace app -o jsonpath='{.spec.hostPID}'; echo $?",
    "kubectl get all --all-namespaces -o jsonpath='{range .items[?(@..secretKeyRef)]}{.metadata.namespace} {.kind} "
    "{.metadata.name}{\"\\n\"}{end}'",
    "kubectl get ns -o jsonpath='{.items[*].metadata.name}'",
    "kubectl get kubeapiservers.operator.openshift.io cluster -o jsonpath='{.spec.observedConfig}'",
    "kubectl get kubeapiserver/cluster -o jsonpath='{.spec.unsupportedConfigOverrides}'",
    "kubectl get pod nope -n app; echo rc=$?; kubectl get pods nope web-1 -o name; echo rc=$?",
    "kubectl get pod nope -n app --ignore-not-found -o json; echo rc=$?",
    "kubectl get secrets -A -o json; echo rc=$?",
    "kubectl get secret db -n app -o json",
    "kubectl get foo; echo rc=$?",
    "kubectl get scc -o json; kubectl get kubeapiservers.operator.openshift.io cluster -o json",
    "kubectl get cm -n app config -ojson; kubectl -n app get configmap config -o json",
    "kubectl get roles,clusterroles -A -o json",
    "kubectl get csr -o name; kubectl get ns -o name; kubectl get clusterrolebindings -o name",
    "kubectl get --raw /api/v1/nodes/node-1/proxy/configz",
    "kubectl get pods -n app -l app=priv -o jsonpath='{.items[0].metadata.name}'; "
    "kubectl get pods -A --field-selector spec.nodeName=node-1 -o name",
    "kubectl get nodes/node-1 -o name; kubectl get pod/web-1 pod/priv-1 -o name",
    'echo "canGetListWatchSecretsAsSystemAuthenticated: '
    '$(kubectl auth can-i get,list,watch secrets --all-namespaces --as=system:authenticated)"',
    'echo "x: $(kubectl auth can-i create pods --all-namespaces --as=system:authenticated)"; '
    "kubectl auth can-i create pods; echo $?; kubectl auth can-i list foos; echo $?; "
    "kubectl auth can-i get scc --as=bob; echo $?",
    "kubectl get cm tricky -o yaml; kubectl get pods -A -o yaml; kubectl get scc -o yaml",
    "kubectl get cm -o yaml; kubectl get clusterrolebindings -o yaml; kubectl get ns -o yaml",
    "oc -n app get cm config -o yaml | grep config.yaml; echo $?",
    "kubectl get all -A; kubectl get all -n app --no-headers; kubectl get all -n default; kubectl get all -n none",
    "kubectl get pods,svc -n app; kubectl get svc,pods -A --no-headers; kubectl get pods,svc -n app -o wide",
    "kubectl get pods,secrets -A; echo $?; kubectl get pods,cm -n nothere --no-headers; echo $?",
    "kubectl get pod \"$HOSTNAME\" -o=jsonpath='{.spec.nodeName}'; echo $?",
    "kubectl get pod web-1 -n app -o jsonpath='{.metadata.managedFields}'; kubectl get pod web-1 -n app -o yaml",
    "P=$(kubectl get pods -n default -o jsonpath='{.items[0].metadata.name}' 2>/dev/null); echo \"$?:$P\"",
    "kubectl get pods -n app -o jsonpath='{.items[5].metadata.name}' 2>/dev/null; echo $?",
    "oc get scc -o json",
    "oc get configmap config -n app -ojson; oc -n app get cm config -o json",
    "oc get pods -n app -l app=priv --field-selector spec.nodeName=node-1 -o jsonpath='{.items[0].metadata.name}' "
    "2>/dev/null",
    "oc get nosuch 2>/dev/null; echo $?",
    # describe secret: secrets with at most one data key (Go prints the keys in random map order)
    "kubectl describe secret db",
    "oc describe secret db -n app; oc -n app describe secrets db-empty; kubectl describe secret/db --namespace app",
    "kubectl describe Secret db | grep -c bytes; kubectl -n app describe secret db-empty | tail -n 3",
    "kubectl describe secret nope; echo rc=$?",
    "oc describe secret nope -n nothere; echo rc=$?; kubectl describe secret/nope; echo rc=$?",
    "oc describe secret/nope 2>/dev/null; echo $?",
    "kubectl describe secret d; echo rc=$?",  # not found: every secret whose name starts with "d"
    "kubectl describe secret -n kube-system; echo rc=$?; kubectl describe secrets -n nothere; echo rc=$?",
    # api-resources: ServerPreferredResources (autoscaling v2 over v1, example.com's preferred v1 listed after
    # v1beta1, gadgets only in v1beta1), subresources and resources without verbs left out, sorted by group
    "kubectl api-resources",
    "kubectl api-resources --verbs=list --namespaced=true -o name",
    "kubectl api-resources -o wide --sort-by=kind; kubectl api-resources --no-headers --namespaced=false",
    "kubectl api-resources --api-group=example.com --sort-by=name; kubectl api-resources --api-group= -o name",
    "kubectl api-resources --verbs=get --verbs=list,watch -o name; kubectl api-resources --categories=all --verbs=",
    "kubectl api-resources --verbs=LIST; echo $?; kubectl api-resources -o json; echo $?; "
    "kubectl api-resources --sort-by=x; echo $?",
    "oc -n x api-resources --namespaced=0 -o name; kubectl api-resources --namespaced -o=name --verbs=create",
    # several resource types in one argument: a table per type, NAME prefixed with kind[.group]/, types with
    # nothing omitted, a blank line between tables
    "kubectl get $(kubectl api-resources --verbs=list --namespaced=true -o name | paste -sd, -) -n app; echo rc=$?",
    "kubectl get $(kubectl api-resources --verbs=list --namespaced=true -o name | paste -sd, -) -n app -o wide "
    "--ignore-not-found",
    "kubectl get $(kubectl api-resources --verbs=list --namespaced=true -o name | paste -sd, -) -A --no-headers "
    "--ignore-not-found; echo rc=$?",
    "kubectl get $(kubectl api-resources --verbs=list --namespaced=true -o name | paste -sd, -) --ignore-not-found "
    "-n nowhere; echo rc=$?",
    "kubectl get deploy,hpa,wd -A; kubectl get deployments.apps -n app -o wide; kubectl get hpa.v1.autoscaling -A",
    "kubectl get widgets.v1beta1.example.com -n app; kubectl get wd -n app -o wide --no-headers; "
    "kubectl get cm,secrets,sa -n app",
    # a list answering 404: cli-runtime's "Unable to list" message, dropped by --ignore-not-found
    "kubectl get gadgets; echo $?; kubectl get gadgets -o json; kubectl get gadgets,pods -n app -o name",
    "kubectl get gadgets --ignore-not-found; echo $?; kubectl get gadgets,pods -n app --ignore-not-found -o name",
    "kubectl get gadgets -l a=b; kubectl get gadgets --field-selector x=y -o name; echo $?",
    # each kind once (its first mention), empty type names are errors
    "kubectl get widgets,pods,wd -n app; kubectl get pods,po -n app; kubectl get pods,svc,po -n app -o name",
    "kubectl get pods,,svc -n app; kubectl get all,pods -n app -o name; kubectl get pods, -n app -o json",
    "kubectl get widgets.v1beta1.example.com,widgets -n app; kubectl get pods,nosuch,svc -n app; echo $?",
    # no resource type (what the eks 4.5.2 audit runs when api-resources prints nothing)
    "kubectl get --ignore-not-found -n default; echo rc=$?; kubectl get 2>/dev/null; echo $?; "
    "oc get 2>/dev/null; echo $?",
]

# describe output with several data keys: compared as sorted lines (kubectl's order is Go's random map order)
DESCRIBE_UNORDERED = [
    "kubectl describe secret builder-token",
    "oc -n openshift-apiserver describe secret serving-cert",
    "oc -n openshift-apiserver describe secret serving-cert | grep -E 'tls\\.crt|tls\\.key|Type:'",
    "kubectl describe secret serv -n openshift-apiserver; echo rc=$?",
    "kubectl describe secrets; echo rc=$?",
    "kubectl describe secret --namespace=app b",
]


@pytest.fixture(scope="module")
def env(fake_api: FakeAPI, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    bindir = tmp_path_factory.mktemp("ocbin")
    assert KUBECTL is not None
    (bindir / "oc").symlink_to(KUBECTL)
    (bindir / "kubectl").symlink_to(KUBECTL)  # the audits' `kubectl` is the one checked to be real
    e = fake_api.env()
    e["PATH"] = f"{bindir}:{e['PATH']}"
    return e


def _real(script: str, env: dict[str, str]) -> tuple[str, int]:
    r = subprocess.run(["/bin/sh", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60, check=False)
    return r.stdout.decode("utf-8", "replace"), r.returncode


def _native(script: str, env: dict[str, str]) -> tuple[str, int, str]:
    res = NativeExecutor(LiveHost(), env=env, cluster=LiveCluster(env)).run(script)
    return res.output, res.returncode, res.not_run


@pytest.mark.parametrize("script", DIRECT)
def test_direct_identical(script: str, env: dict[str, str]) -> None:
    out, rc, not_run = _native(script, env)
    assert not_run == ""
    assert (out, rc) == _real(script, env)


_DATA_LINE = re.compile(r"^\S+:\s+\d+ bytes$|^token:\s")


def _data_order(text: str) -> str:
    """``text`` with each run of describe's secret data lines sorted (kubectl: Go's random map order)."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _DATA_LINE.match(lines[j]):
            j += 1
        lines[i:j] = sorted(lines[i:j])
        i = max(j, i + 1)
    return "\n".join(lines)


@pytest.mark.parametrize("script", DESCRIBE_UNORDERED)
def test_describe_identical_but_data_order(script: str, env: dict[str, str]) -> None:
    out, rc, not_run = _native(script, env)
    assert not_run == ""
    real, real_rc = _real(script, env)
    assert (out, rc) == (_data_order(real), real_rc)


def _native_bytes(script: str, env: dict[str, str]) -> tuple[bytes, int]:
    """Native stdout+stderr as bytes (the executor's result text would turn invalid UTF-8 into '?')."""
    out = Out()
    rc = Shell(LiveHost(), env, "/bin/sh", commands=UTILITIES, audit=AuditRun(cluster=LiveCluster(env))).run_script(
        script, Stream(), out, out)
    return bytes(out.buf), rc


def _real_bytes(script: str, env: dict[str, str]) -> tuple[bytes, int]:
    r = subprocess.run(["/bin/sh", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60, check=False)
    return r.stdout, r.returncode


def test_describe_secret_bytes(env: dict[str, str]) -> None:
    """Multi-byte labels and annotations, an annotation cut inside a UTF-8 sequence, tabs in values."""
    script = "kubectl -n openshift-apiserver describe secret odd"
    native = _native_bytes(script, env)
    assert native == _real_bytes(script, env)
    assert b"\xc3..." in native[0]  # kubectl cuts at 138 bytes, inside the two bytes of an e-acute


_TEXT = st.text(alphabet="ab \t\n\v\f\r\x1b\u00e9\u3042\U0001F600=:", max_size=12)
_LONG = st.builds(lambda unit, n: unit * n, _TEXT, st.integers(0, 40))
_TOKEN = st.lists(st.sampled_from([b"\t", b"\n", b"\v", b"\f", b"\r", b"\x1b", b"\xff", b"a", b"bcd", b" ", b"\xc3\xa9",
                                   b"\xc3", b"\x80", b"\xe3\x81"]), max_size=30).map(b"".join)
_KEYS = st.text(alphabet="ab.\u00e9/", min_size=1, max_size=6)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(labels=st.dictionaries(_KEYS, _TEXT, max_size=4),
       annotations=st.dictionaries(st.one_of(_KEYS, st.just("kubectl.kubernetes.io/last-applied-configuration")),
                                   st.one_of(_TEXT, _LONG), max_size=5),
       token=_TOKEN, typ=st.sampled_from(["kubernetes.io/service-account-token", "Opaque"]))
def test_describe_secret_random(labels: dict[str, str], annotations: dict[str, str], token: bytes, typ: str,
                                env: dict[str, str]) -> None:
    """kubectl's layout (text/tabwriter over tabs, vertical tabs, form feeds, 0xff escapes, multi-byte text)."""
    import base64

    secret = {"metadata": _server._meta("random", "default", labels=labels, annotations=annotations), "type": typ,
              "data": {"token": base64.b64encode(token).decode()}}
    secrets = _server.OBJECTS[("", "secrets")]
    secrets.append(secret)
    try:
        script = "kubectl describe secret random -n default"
        assert _native_bytes(script, env) == _real_bytes(script, env)
    finally:
        secrets.remove(secret)


def test_describe_secret_from_a_snapshot_is_not_guessed(env: dict[str, str]) -> None:
    """A snapshot keeps a secret's keys but not its data: describe's byte counts would be made up."""
    entries: dict[str, object] = {}
    script = "oc -n openshift-apiserver describe secret serving-cert"
    live = NativeExecutor(LiveHost(), env=env, cluster=RecordingCluster(LiveCluster(env), entries)).run(script)
    assert live.not_run == "" and "tls.crt:  1234 bytes" in live.output
    replay = NativeExecutor(LiveHost(), env=env, cluster=SnapshotCluster(entries)).run(script)
    assert replay.not_run == "audit not supported natively: kubectl describe secret: data redacted in the snapshot"
    replay = NativeExecutor(LiveHost(), env=env, cluster=SnapshotCluster(entries)).run("kubectl describe secret nope")
    assert replay.not_run.startswith("not in snapshot: ")


# --------------------------------------------------------------------------- api-resources, several types


def _fresh_home(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """``env`` with a new HOME: kubectl keeps its discovery cache under ~/.kube/cache."""
    home = tmp_path / "home"
    home.mkdir()
    return dict(env, HOME=str(home))


def _audit_452() -> str:
    scripts = [s for s in _corpus() if "api-resources" in s]
    if not scripts:
        pytest.skip("no kube-bench corpus")
    assert len(scripts) == 1
    return scripts[0]


@pytest.mark.parametrize("state", ["only-kubernetes-service", "user-objects", "empty"])
def test_default_namespace_audit(state: str, env: dict[str, str]) -> None:
    """eks-1.7.0 4.5.2 (kubectl get $(kubectl api-resources ...) -n default) runs natively, like kubectl.

    kubectl prefixes the names with their kind when several types are listed (``service/kubernetes``) and prints
    a header line, so the audit's ``grep -v "^kubernetes "`` never filters anything: only a namespace without any
    object passes.
    """
    script = _audit_452()
    assert unsupported_reason(script) is None
    saved = {k: list(v) for k, v in _server.OBJECTS.items()}
    try:
        for key, objs in _server.OBJECTS.items():
            objs[:] = [o for o in objs if o["metadata"].get("namespace") != "default"
                       or (state != "empty" and key == ("", "services") and o["metadata"]["name"] == "kubernetes")]
        if state == "user-objects":
            _server.OBJECTS[("apps", "deployments")].append(
                {"metadata": _server._meta("shop", "default"), "spec": {"replicas": 1, "template": {"spec": {
                    "containers": [{"name": "c", "image": "shop:1"}]}}},
                 "status": {"replicas": 1, "readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1}})
            _server.OBJECTS[("", "configmaps")].append({"metadata": _server._meta("shop-config", "default"),
                                                        "data": {"a": "b"}})
            _server.OBJECTS[("example.com", "widgets")].append(
                {"metadata": _server._meta("kubernetes", "default"), "spec": {"size": 1}})
        out, rc, not_run = _native(script, env)
        assert not_run == ""
        assert (out, rc) == _real(script, env)
    finally:
        for key, objs in _server.OBJECTS.items():
            objs[:] = saved[key]
    if state == "empty":
        assert out == "NO_USER_RESOURCES_IN_DEFAULT\n"
    else:
        assert out.startswith("USER_RESOURCES_IN_DEFAULT_FOUND: NAME ") and "service/kubernetes " in out
    if state == "user-objects":
        assert "deployment.apps/shop " in out and "widget.example.com/kubernetes " in out


def test_default_namespace_audit_record_replay(env: dict[str, str]) -> None:
    """The 4.5.2 audit recorded into a snapshot replays with the same output."""
    script = _audit_452()
    entries: dict[str, object] = {}
    live = NativeExecutor(LiveHost(), env=env, cluster=RecordingCluster(LiveCluster(env), entries)).run(script)
    assert live.not_run == "" and live.output.startswith("USER_RESOURCES_IN_DEFAULT_FOUND: ")
    replay = NativeExecutor(LiveHost(), env=env, cluster=SnapshotCluster(entries)).run(script)
    assert (replay.output, replay.returncode, replay.not_run) == (live.output, live.returncode, "")


def test_api_resources_partial_discovery_failure(env: dict[str, str], tmp_path: Path) -> None:
    """A group version whose discovery fails: kubectl lists the rest and exits 1, after klog lines (a clock and a
    pid) on stderr that are not reproduced: with stderr shown it is not run natively (static coverage: supported)."""
    e = _fresh_home(env, tmp_path)
    _server.FAILING_DISCOVERY.add(("networking.k8s.io", "v1"))
    try:
        script = ("kubectl api-resources -o name 2>/dev/null; echo $?; "
                  "kubectl api-resources --namespaced=true --api-group=rbac.authorization.k8s.io 2>/dev/null; echo $?")
        out, rc, not_run = _native(script, e)
        assert not_run == ""
        assert (out, rc) == _real(script, e)
        assert "networkpolicies" not in out and "securitycontextconstraints.security.openshift.io\n1\n" in out
        _, _, not_run = _native("kubectl api-resources -o name", e)
        assert not_run == ("audit not supported natively: kubectl api-resources: klog lines for a failed discovery "
                           "request")
        real, _ = _real("kubectl api-resources -o name", e)
        assert "memcache.go" in real  # the klog lines
    finally:
        _server.FAILING_DISCOVERY.clear()
    assert unsupported_reason("kubectl api-resources -o name") is None


def test_api_resources_empty_group_versions(env: dict[str, str], tmp_path: Path) -> None:
    """Group versions with no resources: client-go's "received empty response" errors (no klog lines), sorted."""
    e = _fresh_home(env, tmp_path)
    keys = [("networking.k8s.io", "v1"), ("operator.openshift.io", "v1")]
    saved = {k: _server.RESOURCES[k] for k in keys}
    try:
        for k in keys:
            _server.RESOURCES[k] = []
        script = ("kubectl api-resources; echo $?; kubectl api-resources -o name --api-group=networking.k8s.io; "
                  "echo $?; kubectl get pods -n default; echo $?")
        out, rc, not_run = _native(script, e)
        assert not_run == ""
        assert (out, rc) == _real(script, e)
        assert ("error: unable to retrieve the complete list of server APIs: networking.k8s.io/v1: received empty "
                "response for: networking.k8s.io/v1, operator.openshift.io/v1: received empty response for: "
                "operator.openshift.io/v1\n") in out
    finally:
        _server.RESOURCES.update(saved)


_CELL = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                  st.floats(allow_nan=False, allow_infinity=False),
                  st.text(alphabet="ab \t\v\n\r\f\x1b\u00e9\u3042=:/", max_size=10))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(rows=st.lists(st.tuples(st.text(alphabet="ab-\u00e9\t", min_size=1, max_size=6), _CELL, _CELL, _CELL),
                     min_size=1, max_size=4, unique_by=lambda r: r[0]),
       name_first=st.booleans(), wide=st.booleans(), several=st.booleans())
def test_table_cells_random(rows: list[tuple[str, object, object, object]], name_first: bool, wide: bool,
                            several: bool, env: dict[str, str]) -> None:
    """Server-side Table cells as kubectl prints them: null, numbers, strings cut at a line break, terminal
    escapes, tabs and vertical tabs through the tabwriter; the kind prefix goes on the column of format name."""
    objs = [{"metadata": _server._meta(n, "rnd"), "spec": {"size": a, "ratio": b, "note": c}} for n, a, b, c in rows]
    widgets = _server.OBJECTS[("example.com", "widgets")]
    orig = _server._table

    def table(resource: str, items: list[dict[str, object]]) -> tuple[list[dict[str, object]], list[list[object]]]:
        cols, cells = orig(resource, items)
        if resource == "widgets" and not name_first:
            cols = [cols[1], cols[0], *cols[2:]]
            cells = [[c[1], c[0], *c[2:]] for c in cells]
        return cols, cells

    widgets.extend(objs)
    _server._table = table  # type: ignore[assignment]
    try:
        script = "kubectl get " + ("widgets,pods,wd" if several else "wd") + " -n rnd" + (" -o wide" if wide else "")
        native = _native_bytes(script, env)
        assert native == _real_bytes(script, env)
    finally:
        _server._table = orig  # type: ignore[assignment]
        del widgets[-len(objs):]


def _corpus() -> list[str]:
    if not CFG.is_dir():
        return []
    sets = [s for s in SETS if (CFG / s).is_dir()]
    return [s for s in distinct(load_corpus(str(CFG), sets)) if re.search(r"\b(kubectl|oc)\b", s)]


@pytest.mark.parametrize("script", _corpus() or [pytest.param("", marks=pytest.mark.skip(reason="no corpus"))])
def test_benchmark_audit_identical(script: str, env: dict[str, str]) -> None:
    reason = unsupported_reason(script)
    if reason is not None:
        pytest.skip(f"needs native support for: {reason}")
    if re.search(r"\boc (debug|exec|rsh)\b", script):
        pytest.skip("oc debug/exec/rsh cannot be run against the fake API server")
    if re.search(r"\boc describe scc\b", script):
        pytest.skip("oc describe scc: no real oc here (kubectl has no SCC describer); see test_oc_describe_scc_audits")
    out, rc, not_run = _native(script, env)
    if not_run:
        pytest.skip(f"not run natively: {not_run}")
    real = _real(script, env)
    if "describe secret" in script:
        # kubectl prints a secret's data keys in Go's random map order, kubecis sorted
        real = (_data_order(real[0]), real[1])
    if "[[" in script and (out, rc) != real:
        pytest.xfail("interpreter: dash's '[[: not found' error for bash's [[ (shell-construct work)")
    assert (out, rc) == real


def test_benchmark_describe_secret_audits_run(env: dict[str, str]) -> None:
    """rh-1.4 1.2.4 and 1.2.5 describe the serving-cert secret: they run natively, not skipped."""
    scripts = [s for s in _corpus() if "describe secret serving-cert" in s]
    if not scripts:
        pytest.skip("no kube-bench corpus")
    for s in scripts:
        assert unsupported_reason(s) is None, s
        out, _, not_run = _native(s, env)
        assert not_run == "", s
        assert "Type:  kubernetes.io/tls" in out and "tls.key:  99 bytes" in out, s


def test_oc_debug_runs_the_command_on_the_host(env: dict[str, str]) -> None:
    out, rc, not_run = _native("oc debug node/node-1 -- chroot /host cat /proc/sys/kernel/ostype 2>/dev/null", env)
    assert (out, rc, not_run) == ("Linux\n", 0, "")
    out, rc, not_run = _native("oc debug node/nope -- chroot /host cat /proc/sys/kernel/ostype 2>/dev/null", env)
    assert (out, rc, not_run) == ("", 1, "")
    _, _, not_run = _native("oc debug node/node-1 -- chroot /host cat /etc/hostname", env)
    assert "oc debug with its pod messages on stderr" in not_run


@pytest.mark.parametrize("script", [
    "kubectl get pods -o go-template={{.}}",
    "kubectl delete pod x",
    "kubectl describe scc restricted",
    "kubectl --kubeconfig /x get pods",
    "kubectl get pod web-1 -n app",
    "oc exec -n openshift-etcd -c etcd pod -- ps",
    "kubectl get pods --as=system:anonymous -o json",
])
def test_unsupported_forms(script: str, env: dict[str, str]) -> None:
    _, _, not_run = _native(script, env)
    assert not_run.startswith("audit not supported natively: ")


# Forms declined with their construct named, at run time and by static coverage alike.
DECLINED = [
    ("kubectl api-resources --cached", "kubectl option --cached"),
    ("kubectl api-resources -A", "kubectl api-resources -A"),
    ("kubectl api-resources pods", "kubectl api-resources with arguments"),
    ("kubectl api-resources --namespaced=maybe", "kubectl api-resources --namespaced=maybe (flag parse error)"),
    ('kubectl api-resources --verbs=\'"list"\'', "kubectl api-resources --verbs with quotes or line breaks (CSV)"),
    ("oc get", "oc get without a resource type (its usage error text)"),
    ("kubectl describe scc restricted", "kubectl describe scc"),
    ("oc describe scc restricted privileged", "oc describe scc with several names"),
    ("oc describe scc -A", "oc describe -A"),
    ("oc describe --namespace=openshift-ingress-operator ingresscontroller/default", "oc describe ingresscontroller"),
    ("kubectl -n app describe pods web-1", "kubectl describe pods"),
    ("oc -n openshift-kube-apiserver describe endpoints", "oc describe endpoints"),
    ("kubectl describe secret db -o yaml", "kubectl describe -o"),
    ("kubectl describe secret db -A", "kubectl describe -A"),
    ("kubectl describe secret db builder-token", "kubectl describe secret with several names"),
    ("kubectl describe", "kubectl describe without a resource type"),
]


@pytest.mark.parametrize(("script", "construct"), DECLINED)
def test_declined_forms(script: str, construct: str, env: dict[str, str]) -> None:
    _, _, not_run = _native(script, env)
    assert not_run == "audit not supported natively: " + construct
    assert unsupported_reason(script) == construct


def test_describe_secret_statically_supported() -> None:
    for script in ("oc -n openshift-apiserver describe secret serving-cert",
                   "oc -n openshift-apiserver describe secret serving-cert | grep -E 'tls\\.crt|tls\\.key|Type:'",
                   "kubectl describe secret/x --namespace ns", "kubectl describe secrets"):
        assert unsupported_reason(script) is None, script


# --------------------------------------------------------------------------- oc describe scc
# There is no real oc binary here (the "oc" of the other tests is kubectl, which has no SCC describer), so these
# outputs are derived by hand from openshift/oc's describeSecurityContextConstraints: each line is a label cell and
# a value cell written into text/tabwriter.Init(buf, 0, 8, 1, '\t', 0), so every label is padded with tabs up to
# the first multiple of 8 past (widest label + 1): ceil((W - len(label)) / 8) tabs.

# the fake server's "restricted" SCC: widest label "  Run As User Strategy: MustRunAsRange" (38) -> W = 40
SCC_RESTRICTED = (
    "Name:" + "\t" * 5 + "restricted\n"
    "Priority:" + "\t" * 4 + "<none>\n"
    "Access:" + "\t" * 5 + "\n"
    "  Users:" + "\t" * 4 + "<none>\n"
    "  Groups:" + "\t" * 4 + "<none>\n"
    "Settings:" + "\t" * 4 + "\n"
    "  Allow Privileged:" + "\t" * 3 + "false\n"
    "  Allow Privilege Escalation:" + "\t" * 2 + "<none>\n"
    "  Default Add Capabilities:" + "\t" * 2 + "<none>\n"
    "  Required Drop Capabilities:" + "\t" * 2 + "<none>\n"
    "  Allowed Capabilities:" + "\t" * 3 + "<none>\n"
    "  Allowed Seccomp Profiles:" + "\t" * 2 + "<none>\n"
    "  Allowed Volume Types:" + "\t" * 3 + "<none>\n"
    "  Allowed Flexvolumes:" + "\t" * 3 + "<all>\n"
    "  Allowed Unsafe Sysctls:" + "\t" * 2 + "<none>\n"
    "  Forbidden Sysctls:" + "\t" * 3 + "<none>\n"
    "  Allow Host Network:" + "\t" * 3 + "false\n"
    "  Allow Host Ports:" + "\t" * 3 + "false\n"
    "  Allow Host PID:" + "\t" * 3 + "false\n"
    "  Allow Host IPC:" + "\t" * 3 + "false\n"
    "  Read Only Root Filesystem:" + "\t" * 2 + "false\n"
    "  Run As User Strategy: MustRunAsRange" + "\t" + "\n"
    "    UID:" + "\t" * 4 + "<none>\n"
    "    UID Range Min:" + "\t" * 3 + "<none>\n"
    "    UID Range Max:" + "\t" * 3 + "<none>\n"
    "  SELinux Context Strategy: " + "\t" * 2 + "\n"
    "    User:" + "\t" * 4 + "<none>\n"
    "    Role:" + "\t" * 4 + "<none>\n"
    "    Type:" + "\t" * 4 + "<none>\n"
    "    Level:" + "\t" * 4 + "<none>\n"
    "  FSGroup Strategy: " + "\t" * 3 + "\n"
    "    Ranges:" + "\t" * 4 + "<none>\n"
    "  Supplemental Groups Strategy: " + "\t" + "\n"
    "    Ranges:" + "\t" * 4 + "<none>\n"
)
# "privileged": priority 10, privileged, host PID, RunAsAny; widest label 32 -> W = 40, the same tabs but one
SCC_PRIVILEGED = (SCC_RESTRICTED.replace("restricted", "privileged")
                  .replace("Priority:\t\t\t\t<none>", "Priority:\t\t\t\t10")
                  .replace("Privileged:\t\t\tfalse", "Privileged:\t\t\ttrue")
                  .replace("PID:\t\t\tfalse", "PID:\t\t\ttrue")
                  .replace("Strategy: MustRunAsRange\t", "Strategy: RunAsAny\t"))


def _tabbed(rows: list[tuple[str, str]]) -> str:
    width = -(-(max(len(label) for label, _ in rows) + 1) // 8) * 8
    return "".join(label + "\t" * -(-(width - len(label)) // 8) + value + "\n" for label, value in rows)


def _scc_rows(name: str, values: dict[str, str], strategies: tuple[str, str, str, str]) -> list[tuple[str, str]]:
    labels = ["Name:", "Priority:", "Access:", "  Users:", "  Groups:", "Settings:", "  Allow Privileged:",
              "  Allow Privilege Escalation:", "  Default Add Capabilities:", "  Required Drop Capabilities:",
              "  Allowed Capabilities:", "  Allowed Seccomp Profiles:", "  Allowed Volume Types:",
              "  Allowed Flexvolumes:", "  Allowed Unsafe Sysctls:", "  Forbidden Sysctls:", "  Allow Host Network:",
              "  Allow Host Ports:", "  Allow Host PID:", "  Allow Host IPC:", "  Read Only Root Filesystem:",
              f"  Run As User Strategy: {strategies[0]}", "    UID:", "    UID Range Min:", "    UID Range Max:",
              f"  SELinux Context Strategy: {strategies[1]}", "    User:", "    Role:", "    Type:", "    Level:",
              f"  FSGroup Strategy: {strategies[2]}", "    Ranges:",
              f"  Supplemental Groups Strategy: {strategies[3]}", "    Ranges:"]
    rows = []
    for i, label in enumerate(labels):
        key = label.strip().split(":")[0] + (":sup" if i == len(labels) - 1 else "")
        empty = label in ("Access:", "Settings:") or "Strategy" in label
        rows.append((label, "" if empty else values.get(key, "<none>")))
    rows[0] = ("Name:", name)
    return rows


def test_oc_describe_scc_restricted_literal() -> None:
    from kubecis.audit.native.utilities.kubectl.describe import describe_scc

    scc = next(o for o in _server.OBJECTS[("security.openshift.io", "securitycontextconstraints")]
               if o["metadata"]["name"] == "restricted")
    assert describe_scc(scc) == SCC_RESTRICTED
    defaults = {"Allowed Flexvolumes": "<all>", "Allow Privileged": "false", "Allow Host Network": "false",
                "Allow Host Ports": "false", "Allow Host PID": "false", "Allow Host IPC": "false",
                "Read Only Root Filesystem": "false"}
    assert _tabbed(_scc_rows("restricted", defaults, ("MustRunAsRange", "", "", ""))) == SCC_RESTRICTED


def test_oc_describe_scc_matches_real_oc_layout() -> None:
    """OpenShift's default "anyuid" SCC as a real oc 4.x printed it (a published terminal transcript, tabs shown as
    spaces to column 48, trailing blanks dropped)."""
    from kubecis.audit.native.utilities.kubectl.describe import describe_scc

    anyuid = {"metadata": {"name": "anyuid"}, "priority": 10, "allowPrivilegedContainer": False,
              "allowPrivilegeEscalation": True, "users": [], "groups": ["system:cluster-admins"],
              "defaultAddCapabilities": None, "requiredDropCapabilities": ["MKNOD"], "allowedCapabilities": None,
              "volumes": ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                          "projected", "secret"],
              "allowHostDirVolumePlugin": False, "allowHostIPC": False, "allowHostNetwork": False,
              "allowHostPID": False, "allowHostPorts": False, "readOnlyRootFilesystem": False,
              "runAsUser": {"type": "RunAsAny"}, "seLinuxContext": {"type": "MustRunAs"},
              "fsGroup": {"type": "RunAsAny"}, "supplementalGroups": {"type": "RunAsAny"}}
    transcript = """\
Name:                                           anyuid
Priority:                                       10
Access:
  Users:                                        <none>
  Groups:                                       system:cluster-admins
Settings:
  Allow Privileged:                             false
  Allow Privilege Escalation:                   true
  Default Add Capabilities:                     <none>
  Required Drop Capabilities:                   MKNOD
  Allowed Capabilities:                         <none>
  Allowed Seccomp Profiles:                     <none>
  Allowed Volume Types:                         configMap,csi,downwardAPI,emptyDir,ephemeral,persistentVolumeClaim,\
projected,secret
  Allowed Flexvolumes:                          <all>
  Allowed Unsafe Sysctls:                       <none>
  Forbidden Sysctls:                            <none>
  Allow Host Network:                           false
  Allow Host Ports:                             false
  Allow Host PID:                               false
  Allow Host IPC:                               false
  Read Only Root Filesystem:                    false
  Run As User Strategy: RunAsAny
    UID:                                        <none>
    UID Range Min:                              <none>
    UID Range Max:                              <none>
  SELinux Context Strategy: MustRunAs
    User:                                       <none>
    Role:                                       <none>
    Type:                                       <none>
    Level:                                      <none>
  FSGroup Strategy: RunAsAny
    Ranges:                                     <none>
  Supplemental Groups Strategy: RunAsAny
    Ranges:                                     <none>
"""
    out = describe_scc(anyuid)
    assert "\n".join(line.rstrip() for line in out.expandtabs(8).split("\n")) == transcript


def test_oc_describe_scc_all_fields() -> None:
    """Every field set, null list elements (Go decodes them as zero values), 64-bit ids."""
    from kubecis.audit.native.utilities.kubectl.describe import describe_scc

    scc = {"metadata": {"name": "custom"}, "priority": -3, "allowPrivilegedContainer": True,
           "allowPrivilegeEscalation": False, "users": ["system:admin", None, "bob"], "groups": ["g1"],
           "defaultAddCapabilities": ["NET_ADMIN", "SYS_TIME"], "requiredDropCapabilities": ["ALL"],
           "allowedCapabilities": ["*"], "seccompProfiles": ["runtime/default", "*"], "volumes": ["*"],
           "allowedFlexVolumes": [{"driver": "example/lvm"}, None, {}], "allowedUnsafeSysctls": ["kernel.msg*"],
           "forbiddenSysctls": ["kernel.shm_rmid_forced", "net.*"], "allowHostNetwork": True, "allowHostPorts": True,
           "allowHostPID": None, "allowHostIPC": True, "readOnlyRootFilesystem": True,
           "runAsUser": {"type": "MustRunAs", "uid": 1000, "uidRangeMin": 1000, "uidRangeMax": 2**63 - 1},
           "seLinuxContext": {"type": "MustRunAs", "seLinuxOptions": {"user": "u", "role": "r", "type": "spc_t",
                                                                      "level": "s0:c26,c5"}},
           "fsGroup": {"type": "MustRunAs", "ranges": [{"min": 1000, "max": 2000}, None, {"min": 5}]},
           "supplementalGroups": {"type": "MustRunAs", "ranges": []},
           "unknownField": {"ignored": True}}
    values = {"Priority": "-3", "Users": "system:admin,,bob", "Groups": "g1", "Allow Privileged": "true",
              "Allow Privilege Escalation": "false", "Default Add Capabilities": "NET_ADMIN,SYS_TIME",
              "Required Drop Capabilities": "ALL", "Allowed Capabilities": "*",
              "Allowed Seccomp Profiles": "runtime/default,*", "Allowed Volume Types": "*",
              "Allowed Flexvolumes": "driver=example/lvm,driver=,driver=", "Allowed Unsafe Sysctls": "kernel.msg*",
              "Forbidden Sysctls": "kernel.shm_rmid_forced,net.*", "Allow Host Network": "true",
              "Allow Host Ports": "true", "Allow Host PID": "false", "Allow Host IPC": "true",
              "Read Only Root Filesystem": "true", "UID": "1000", "UID Range Min": "1000",
              "UID Range Max": "9223372036854775807", "User": "u", "Role": "r", "Type": "spc_t",
              "Level": "s0:c26,c5", "Ranges": "1000-2000,0-0,5-0", "Ranges:sup": "<none>"}
    expected = _tabbed(_scc_rows("custom", values, ("MustRunAs", "MustRunAs", "MustRunAs", "MustRunAs")))
    assert describe_scc(scc) == expected
    # widest label "  Supplemental Groups Strategy: MustRunAs" (41) -> W = 48: "Name:" takes 6 tabs
    assert expected.startswith("Name:\t\t\t\t\t\tcustom\n")


@pytest.mark.parametrize(("field", "value"), [
    ("priority", 1.5), ("priority", 2**31), ("priority", "10"), ("allowHostPID", "true"), ("users", "bob"),
    ("users", [1]), ("runAsUser", {"uid": True}), ("runAsUser", []), ("fsGroup", {"ranges": [{"min": "1"}]}),
    ("metadata", {"name": 5}), ("allowedFlexVolumes", [{"driver": 1}]),
])
def test_oc_describe_scc_undecodable_is_declined(field: str, value: object) -> None:
    from kubecis.audit.native.utilities.kubectl.describe import describe_scc

    with pytest.raises(Exception, match="does not decode into SecurityContextConstraints"):
        describe_scc({"metadata": {"name": "x"}, field: value})


@pytest.mark.parametrize("value", ["a\tb", "a\nb", "a\vb", "a\fb"])
def test_oc_describe_scc_tabwriter_specials_are_declined(value: str) -> None:
    from kubecis.audit.native.utilities.kubectl.describe import describe_scc

    with pytest.raises(Exception, match="a value with tabs or line breaks"):
        describe_scc({"metadata": {"name": "x"}, "users": [value]})


@pytest.mark.parametrize(("script", "expected"), [
    ("oc describe scc restricted", SCC_RESTRICTED),
    ("oc describe scc/privileged; echo rc=$?", SCC_PRIVILEGED + "rc=0\n"),
    ("oc -n app describe securitycontextconstraints restricted", SCC_RESTRICTED),
    ("oc describe securitycontextconstraints.security.openshift.io/restricted", SCC_RESTRICTED),
    # DescribeOptions.Run: every one, separated by a blank line; a name not found: those it prefixes, each + "\n"
    ("oc describe scc", SCC_RESTRICTED + "\n\n" + SCC_PRIVILEGED),
    ("oc describe scc priv", SCC_PRIVILEGED + "\n"),
    ("oc describe scc nope; echo rc=$?",
     'Error from server (NotFound): securitycontextconstraints "nope" not found\nrc=1\n'),
    ("oc describe scc/priv 2>/dev/null; echo rc=$?", "rc=1\n"),
    ("oc describe scc restricted | grep -c Strategy", "4\n"),
])
def test_oc_describe_scc(script: str, expected: str, env: dict[str, str]) -> None:
    out, rc, not_run = _native(script, env)
    assert not_run == ""
    assert (out, rc) == (expected, 0)


def test_oc_describe_scc_audits(env: dict[str, str]) -> None:
    """rh-1.0 1.2.13 and 1.2.16 end with ``oc get scc; oc describe scc restricted``: they run natively."""
    scripts = [s for s in _corpus() if "oc describe scc restricted" in s]
    if not scripts:
        pytest.skip("no kube-bench corpus")
    for s in scripts:
        assert unsupported_reason(s) is None, s
        out, _, not_run = _native(s, env)
        assert not_run == "", s
        assert out.endswith(SCC_RESTRICTED), s
        # everything before the description is what kubectl (as oc) prints
        real, _ = _real(s.replace("oc describe scc restricted", ""), env)
        assert out == real + SCC_RESTRICTED, s


def test_yaml_keys_without_a_stable_order_are_not_guessed() -> None:
    from kubecis.golang.yamlemit import go_yaml

    # go-yaml's key order is cyclic here (1x < 9 < 10 < 1x): Go's output depends on map iteration order
    with pytest.raises(Exception, match="stable go-yaml order"):
        go_yaml({"1x": 1, "9": 2, "10": 3})
    assert go_yaml({"a10": 1, "a9": 2, "b": [], "a": {}}) == "a: {}\na9: 2\na10: 1\nb: []\n"


# --------------------------------------------------------------------------- no cluster configured

NO_CLUSTER = [
    "kubectl get pods",
    "kubectl get pods -o json",
    "kubectl get clusterrolebindings -o=custom-columns=NAME:.metadata.name --no-headers",
    "kubectl get kubeapiservers.operator.openshift.io cluster -o json",
    "kubectl get roles,clusterroles -A -o json",
    "kubectl get pods/x",
    "kubectl get --raw /api/v1/nodes",
    "kubectl auth can-i get,list,watch secrets --all-namespaces --as=system:authenticated",
    'echo "canCreatePodsAsSystemAuthenticated: $(kubectl auth can-i create pods --all-namespaces '
    '--as=system:authenticated)"',
    "kubectl get pods 2>/dev/null; echo rc=$?",
    "kubectl -n openshift-apiserver describe secret serving-cert",
    "kubectl describe secret x 2>/dev/null; echo rc=$?",
    "kubectl api-resources -o name",
    "kubectl api-resources 2>/dev/null; echo rc=$?; kubectl api-resources -o name 2>/dev/null; echo rc=$?; "
    "kubectl api-resources --no-headers -o wide 2>/dev/null; echo rc=$?",
]


def _port_8080_free() -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", 8080)) != 0


@pytest.mark.skipif(not _port_8080_free(), reason="something listens on localhost:8080")
@pytest.mark.parametrize("script", NO_CLUSTER)
@pytest.mark.parametrize("live", [False, True], ids=["none", "live-unconfigured"])
def test_no_cluster_configured(script: str, live: bool, tmp_path: Path) -> None:
    """No reachable API server: kubectl's error text (klog lines with its clock and pid) is not reproduced; the
    audit is not run natively and says why. With stderr discarded, the visible facts (no output, exit 1) are."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    cluster = LiveCluster(env) if live else None
    res = NativeExecutor(LiveHost(), env=env, cluster=cluster).run(script)
    if "2>/dev/null" in script:
        assert res.not_run == ""
        real, rc = _real(script, env)
        assert (res.output, res.returncode) == (real, rc)
    else:
        assert res.not_run == ("audit not supported natively: kubectl: the cluster API at localhost:8080 "
                               "is not reachable")


def test_oc_unreachable_is_not_guessed() -> None:
    res = NativeExecutor(LiveHost(), cluster=None).run("oc get pods")
    assert res.not_run == "audit not supported natively: oc: the cluster API at localhost:8080 is not reachable"
    res = NativeExecutor(LiveHost(), cluster=None).run("oc get pods 2>/dev/null; echo $?")
    assert (res.output, res.not_run) == ("1\n", "")
