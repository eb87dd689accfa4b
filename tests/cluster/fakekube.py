"""A fake Kubernetes cluster on loopback for the cluster commands: an API server over TLS (CA and server
certificate made with the openssl CLI), a real kubeconfig whose user is an exec credential plugin, and a
fake kubelet per node that watches for pods bound to it and runs them for real in a hermetic node.

The API server keeps nodes, namespaces, jobs, pods and pod logs in memory and serves the verbs kubecis
uses (version; list/get nodes; create/get/delete namespaces with cascading deletion; create/delete jobs, a
job controller creating each job's pod; list pods with label selectors; pod logs). Given an object dump
(``objects``: the policies tests' example cluster), it also serves what the policies probes read: discovery
(/api, /apis, each group version) and every other list and get from the dump (kubecis's ObjectsCluster, the
same answers a real API server gives for those objects), namespaces and pods merged with its own. Every
request is logged (method, path, user) so tests can assert what the scan did and did not touch.

A kubelet (:class:`FakeKubelet`) runs a pod's container with tests/cluster/_container.py inside the
node's hermetic namespaces: the pod's hostPath volumes bound read-only, hostPID honoured, root file system
read-only, all capabilities dropped; real exit codes, the real log. Scenario modes make the other outcomes
(evicted, OOM-killed, pending, node deleted mid-scan, payload cut short, a broken image).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "kubecis-test-token"
READONLY_TOKEN = "kubecis-readonly-token"  # may read everything, create nothing (403)
HERE = Path(__file__).resolve().parent
CONTAINER = HERE / "_container.py"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def make_node(name: str, *, labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None,
              ready: bool = True, kubelet: str = "v1.33.0", provider_id: str = "") -> dict[str, Any]:
    cond = {"type": "Ready", "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status" if ready else "container runtime network not ready"}
    spec: dict[str, Any] = {"taints": taints} if taints else {}
    if provider_id:
        spec["providerID"] = provider_id
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})},
                         "creationTimestamp": _now()},
            "spec": spec,
            "status": {"conditions": [cond], "nodeInfo": {"kubeletVersion": kubelet, "osImage": "Debian 12"}}}


class Store:
    def __init__(self, git_version: str) -> None:
        self.lock = threading.RLock()
        self.git_version = git_version
        self.nodes: dict[str, dict[str, Any]] = {}
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.logs: dict[tuple[str, str], bytes] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, token kind)
        self.fail_job_creation = False  # 403 for every job creation
        self.objects: Any = None  # a kubecis.policies.objects.ObjectsCluster: the cluster's other API objects
        self.forbidden_reads: set[str] = set()  # GET paths answered 403 (an identity without that permission)

    # -- controllers ---------------------------------------------------------------------------------------
    def create_job(self, ns: str, job: dict[str, Any]) -> None:
        name = job["metadata"]["name"]
        job = copy.deepcopy(job)
        job["metadata"].update(namespace=ns, uid=secrets.token_hex(8), creationTimestamp=_now())
        job["status"] = {}
        self.jobs[(ns, name)] = job
        tmpl = job["spec"]["template"]
        pod_name = f"{name}-{secrets.token_hex(3)}"
        labels = dict((tmpl.get("metadata") or {}).get("labels") or {})
        labels.update({"job-name": name, "batch.kubernetes.io/job-name": name})
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": pod_name, "namespace": ns, "labels": labels, "creationTimestamp": _now(),
                            "ownerReferences": [{"kind": "Job", "name": name, "uid": job["metadata"]["uid"]}]},
               "spec": copy.deepcopy(tmpl["spec"]),
               "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}}
        self.pods[(ns, pod_name)] = pod

    def delete_job(self, ns: str, name: str) -> bool:
        if self.jobs.pop((ns, name), None) is None:
            return False
        for key, pod in list(self.pods.items()):
            if key[0] == ns and pod["metadata"]["labels"].get("job-name") == name:
                self.pods.pop(key, None)
                self.logs.pop(key, None)
        return True

    def delete_namespace(self, ns: str) -> bool:
        if self.namespaces.pop(ns, None) is None:
            return False
        for key in [k for k in self.jobs if k[0] == ns]:
            self.jobs.pop(key, None)
        for key in [k for k in self.pods if k[0] == ns]:
            self.pods.pop(key, None)
            self.logs.pop(key, None)
        return True

    def leftovers(self) -> list[str]:
        """Objects a scan may have created that still exist."""
        with self.lock:
            return ([f"namespace/{n}" for n in self.namespaces if n.startswith("kubecis")]
                    + [f"job/{ns}/{n}" for ns, n in self.jobs]
                    + [f"pod/{ns}/{n}" for ns, n in self.pods if ns != "kube-system"])


def _match(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        k, _, v = term.partition("=")
        if labels.get(k) != v:
            return False
    return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store: Store

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, doc: Any, ctype: str = "application/json") -> None:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _who(self) -> str:
        auth = self.headers.get("Authorization", "")
        return {f"Bearer {TOKEN}": "admin", f"Bearer {READONLY_TOKEN}": "readonly"}.get(auth, "")

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else None

    def _handle(self, method: str) -> None:
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        who = self._who()
        body = self._body() if method in ("POST", "DELETE", "PUT", "PATCH") else None
        st = self.store
        with st.lock:
            st.requests.append((method, u.path, who))
        if not who:
            return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
        parts = [p for p in u.path.split("/") if p]
        with st.lock:
            try:
                code, doc, ctype = self._route(method, parts, q, body, who)
            except KeyError as exc:
                code, doc, ctype = 404, _status(404, "NotFound", f"{exc.args[0]} not found"), "application/json"
        self._send(code, doc, ctype)

    def _dump(self, parts: list[str], q: dict[str, str]) -> tuple[int, Any, str]:
        """The object dump's answer (404 without one)."""
        if self.store.objects is None:
            return 404, _status(404, "NotFound", "the server could not find the requested resource"), "application/json"
        code, body = self.store.objects.get("/" + "/".join(parts), {k: v for k, v in q.items() if k != "limit"})
        return code, json.loads(body), "application/json"

    def _merged(self, parts: list[str], q: dict[str, str], kind: str, own: list[dict[str, Any]]) -> dict[str, Any]:
        """A list of the server's own objects and the dump's (the dump's first; a name in both: the server's)."""
        items = [copy.deepcopy(o) for o in own]
        if self.store.objects is not None:
            code, doc, _ = self._dump(parts, q)
            if code == 200:
                mine = {((o.get("metadata") or {}).get("namespace"), o["metadata"]["name"]) for o in items}
                items = [o for o in doc.get("items") or []
                         if ((o.get("metadata") or {}).get("namespace"), o["metadata"]["name"]) not in mine] + items
        return {"kind": kind, "apiVersion": "v1", "metadata": {}, "items": items}

    def _route(self, method: str, parts: list[str], q: dict[str, str], body: Any,
               who: str) -> tuple[int, Any, str]:
        st = self.store
        j = "application/json"
        if method != "GET" and who != "admin":
            return 403, _status(403, "Forbidden", f'user "readonly" cannot {method.lower()} {"/".join(parts)}'), j
        if method == "GET" and "/" + "/".join(parts) in st.forbidden_reads:
            return 403, _status(403, "Forbidden", f'user "{who}" cannot list resource "{parts[-1]}"'), j
        if method == "GET" and parts == ["api", "v1", "pods"]:
            own = [p for p in st.pods.values() if _match(p["metadata"]["labels"], q.get("labelSelector", ""))]
            return 200, self._merged(parts, q, "PodList", own), j
        if parts == ["version"]:
            return 200, {"major": "1", "minor": st.git_version.split(".")[1], "gitVersion": st.git_version}, j
        if parts[:2] == ["api", "v1"]:
            rest = parts[2:]
            if rest == ["nodes"]:
                return 200, {"kind": "NodeList", "items": list(st.nodes.values())}, j
            if len(rest) == 2 and rest[0] == "nodes":
                return 200, st.nodes[f"node {rest[1]}" if rest[1] not in st.nodes else rest[1]], j
            if rest == ["namespaces"] and method == "POST":
                name = body["metadata"]["name"]
                if name in st.namespaces:
                    return 409, _status(409, "AlreadyExists", f'namespaces "{name}" already exists'), j
                st.namespaces[name] = dict(body, status={"phase": "Active"})
                return 201, st.namespaces[name], j
            if rest == ["namespaces"]:
                return 200, self._merged(parts, q, "NamespaceList", list(st.namespaces.values())), j
            if len(rest) == 2 and rest[0] == "namespaces":
                if method == "DELETE":
                    if not st.delete_namespace(rest[1]):
                        raise KeyError(f"namespace {rest[1]}")
                    return 200, _status(200, "", ""), j
                if rest[1] not in st.namespaces:
                    if st.objects is not None:
                        return self._dump(parts, q)
                    raise KeyError(f"namespace {rest[1]}")
                return 200, st.namespaces[rest[1]], j
            if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] == "pods":
                ns = rest[1]
                if len(rest) == 3:
                    items = [p for (pns, _), p in st.pods.items()
                             if pns == ns and _match(p["metadata"]["labels"], q.get("labelSelector", ""))]
                    if ns in st.namespaces and st.namespaces[ns].get("metadata", {}).get("labels", {}).get(
                            "app.kubernetes.io/managed-by") == "kubecis":
                        return 200, {"kind": "PodList", "items": copy.deepcopy(items)}, j  # a scan's namespace
                    return 200, self._merged(parts, q, "PodList", items), j
                if len(rest) == 5 and rest[4] == "log":
                    if (ns, rest[3]) not in st.pods:
                        raise KeyError(f"pod {rest[3]}")
                    return 200, st.logs.get((ns, rest[3]), b""), "text/plain"
                if len(rest) == 4:
                    return 200, st.pods[(ns, rest[3])], j
        if parts[:3] == ["apis", "batch", "v1"] and len(parts) >= 6 and parts[3] == "namespaces":
            ns = parts[4]
            if ns not in st.namespaces:
                if method == "GET" and st.objects is not None:
                    return self._dump(parts, q)
                raise KeyError(f"namespace {ns}")
            if len(parts) == 6 and method == "POST":
                if st.fail_job_creation:
                    return 403, _status(403, "Forbidden", 'jobs.batch is forbidden: User "ci" cannot create '
                                                          'resource "jobs" in API group "batch"'), j
                st.create_job(ns, body)
                return 201, st.jobs[(ns, body["metadata"]["name"])], j
            if len(parts) == 7 and method == "DELETE":
                if not st.delete_job(ns, parts[6]):
                    raise KeyError(f"job {parts[6]}")
                return 200, _status(200, "", ""), j
            if len(parts) == 6:
                return 200, {"kind": "JobList", "items": [v for (jns, _), v in st.jobs.items() if jns == ns]}, j
        if method == "GET":
            return self._dump(parts, q)
        return 404, _status(404, "NotFound", "the server could not find the requested resource"), j

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


def make_tls(workdir: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it (openssl CLI)."""
    ca_key, ca_crt = workdir / "ca.key", workdir / "ca.crt"
    key, csr, crt = workdir / "server.key", workdir / "server.csr", workdir / "server.crt"
    ext = workdir / "san.ext"
    # what X.509 strict verification (Python 3.13's default) asks of a leaf, as kubeadm's certificates have it
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,"
                   "keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid\n")
    run = lambda *a: subprocess.run(list(a), check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca_crt),
        "-days", "2", "-subj", "/CN=kubecis-test-ca", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=kube-apiserver")
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(crt), "-days", "2", "-extfile", str(ext))
    return ca_crt, crt, key


PLUGIN = """#!{python}
import json, os, sys
with open({log!r}, "a") as f:
    f.write("called\\n")
info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO", "{{}}"))
print(json.dumps({{"apiVersion": info.get("apiVersion", "client.authentication.k8s.io/v1"),
                  "kind": "ExecCredential", "status": {{"token": {token!r}}}}}))
"""


class FakeCluster:
    def __init__(self, workdir: Path, git_version: str = "v1.33.0", objects: Path | None = None) -> None:
        self.dir = workdir
        self.store = Store(git_version)
        if objects is not None:
            from kubecis.policies.objects import ObjectsCluster

            self.store.objects = ObjectsCluster.load(objects)
        self.ca, crt, key = make_tls(workdir)
        handler = type("H", (Handler,), {"store": self.store})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(crt), str(key))
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.kubelets: list[FakeKubelet] = []
        self.plugin_log = workdir / "plugin.log"
        self.kubeconfig = self.write_kubeconfig(workdir / "kubeconfig", TOKEN)

    def write_kubeconfig(self, path: Path, token: str, *, context: str = "fake") -> Path:
        plugin = path.with_suffix(".plugin")
        plugin.write_text(PLUGIN.format(python=sys.executable, log=str(self.plugin_log), token=token))
        plugin.chmod(0o755)
        ca = base64.b64encode(self.ca.read_bytes()).decode()
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"current-context: {context}\n"
            f"clusters:\n- name: fake\n  cluster:\n    server: {self.url}\n    certificate-authority-data: {ca}\n"
            "users:\n- name: fake\n  user:\n    exec:\n"
            f"      apiVersion: client.authentication.k8s.io/v1\n      command: {plugin}\n"
            "      interactiveMode: Never\n"
            f"contexts:\n- name: {context}\n  context:\n    cluster: fake\n    user: fake\n")
        return path

    def add_static_pod(self, node: str, component: str) -> None:
        """A control-plane mirror pod (kubeadm's static pods show up in kube-system)."""
        with self.store.lock:
            self.store.namespaces.setdefault("kube-system", {"metadata": {"name": "kube-system"}})
            name = f"{component}-{node}"
            self.store.pods[("kube-system", name)] = {
                "metadata": {"name": name, "namespace": "kube-system",
                             "labels": {"component": component, "tier": "control-plane"}},
                "spec": {"nodeName": node, "containers": [{"name": component, "image": component}]},
                "status": {"phase": "Running"}}

    def add_node(self, node: dict[str, Any], kubelet: FakeKubelet | None = None) -> None:
        with self.store.lock:
            self.store.nodes[node["metadata"]["name"]] = node
        if kubelet is not None:
            kubelet.start(self.store, node["metadata"]["name"])
            self.kubelets.append(kubelet)

    def close(self) -> None:
        for k in self.kubelets:
            k.stop()
        self.server.shutdown()
        self.server.server_close()


# ---- the fake kubelet -------------------------------------------------------------------------------------------

def image_paths() -> list[str]:
    """What the "image" holds: the Python installation and kubecis (read-only), and the usrmerge links."""
    from kubecis.benchmark.bundled import cache_root, materialise

    materialise()  # the image ships the bundled definitions already written out
    out = ["/usr"]
    out += [p for p in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32") if os.path.lexists(p)]
    import kubecis

    src = str(Path(kubecis.__file__).resolve().parents[1])
    for p in (sys.base_prefix, sys.prefix, src, str(cache_root())):
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


@dataclass
class FakeKubelet:
    """Runs the pods bound to its node. ``mode``: run (for real), truncate (for real, then the log is cut),
    broken-image (for real, without kubecis in the image), evict, oom, pending (never starts),
    delete-node (the node disappears when its pod arrives), hang (Running until deleted)."""

    spec: Any = None  # tests.hermetic.node.NodeSpec
    mode: str = "run"
    timeout: float = 180.0
    log: bytes = b""  # mode replay: this pod log (recorded for real from a template node) ...
    duration: float = 0.0  # ... after this long (the template's measured agent run time)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def start(self, store: Store, node: str) -> None:
        self.store, self.node = store, node
        self._stop = threading.Event()
        self._seen: set[str] = set()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            with self.store.lock:
                mine = [(k, p) for k, p in self.store.pods.items()
                        if p["spec"].get("nodeName") == self.node and k[1] not in self._seen
                        and p["status"].get("phase") == "Pending"]
            for key, pod in mine:
                self._seen.add(key[1])
                threading.Thread(target=self._run_pod, args=(key, copy.deepcopy(pod)), daemon=True).start()

    def _set(self, key: tuple[str, str], status: dict[str, Any], log: bytes | None = None) -> None:
        with self.store.lock:
            pod = self.store.pods.get(key)
            if pod is None:
                return
            pod["status"].update(status)
            if log is not None:
                self.store.logs[key] = log

    def _run_pod(self, key: tuple[str, str], pod: dict[str, Any]) -> None:
        c = pod["spec"]["containers"][0]
        waiting = {"phase": "Pending", "containerStatuses": [{"name": c["name"], "state": {"waiting": {
            "reason": "ContainerCreating"}}}]}
        self._set(key, waiting)
        if self.mode == "pending":
            self._set(key, {"containerStatuses": [{"name": c["name"], "state": {"waiting": {
                "reason": "ImagePullBackOff", "message": f'Back-off pulling image "{c["image"]}"'}}}]})
            return
        if self.mode == "delete-node":
            with self.store.lock:
                self.store.nodes.pop(self.node, None)
                self.store.pods.pop(key, None)  # the pod garbage collector removes pods of deleted nodes
            return
        if self.mode == "evict":
            self._set(key, {"phase": "Failed", "reason": "Evicted",
                            "message": "The node was low on resource: memory. Threshold quantity: 100Mi."})
            return
        self._set(key, {"phase": "Running", "containerStatuses": [{"name": c["name"], "state": {"running": {
            "startedAt": _now()}}}]})
        if self.mode == "oom":
            self._set(key, {"phase": "Failed", "containerStatuses": [{"name": c["name"], "state": {"terminated": {
                "exitCode": 137, "reason": "OOMKilled"}}}]})
            return
        if self.mode == "hang":
            while not self._stop.wait(0.1):
                with self.store.lock:
                    if key not in self.store.pods:
                        return
            return
        if self.mode == "replay":
            time.sleep(self.duration)
            rc, log = 0, self.log
        else:
            rc, log = self._execute(pod)
        if self.mode == "truncate":
            log = log[: len(log) // 2]
        term = {"exitCode": rc, "reason": "Completed" if rc == 0 else "Error"}
        self._set(key, {"phase": "Succeeded" if rc == 0 else "Failed",
                        "containerStatuses": [{"name": c["name"], "state": {"terminated": term}}]}, log)

    def _execute(self, pod: dict[str, Any]) -> tuple[int, bytes]:
        from tests.hermetic.node import run_in_node

        spec = pod["spec"]
        c = spec["containers"][0]
        vols = {v["name"]: v for v in spec.get("volumes") or []}
        mounts = []
        for m in c.get("volumeMounts") or []:
            hp = vols[m["name"]]["hostPath"]
            assert m.get("readOnly") is True, m  # every mount read-only (and mounted so here)
            mounts.append({"src": hp["path"], "dst": m["mountPath"], "kind": hp.get("type", "")})
        env_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        if self.mode != "broken-image":
            env_path = f"{Path(sys.executable).parent}:{env_path}"
        env = {"PATH": env_path, "HOME": "/", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8",
               "HOSTNAME": pod["metadata"]["name"]}
        from kubecis.benchmark.bundled import cache_root

        env["XDG_CACHE_HOME"] = str(cache_root().parent)
        for e in c.get("env") or []:
            if "value" in e:
                env[e["name"]] = e["value"]
            elif (e.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
                env[e["name"]] = spec["nodeName"]
        with tempfile.TemporaryDirectory(prefix="kubecis-ctr-") as tmp:
            payload = {"root": f"{tmp}/root", "image": image_paths(), "mounts": mounts,
                       "host_pid": bool(spec.get("hostPID")), "argv": list(c["command"]), "env": env}
            pj = Path(tmp) / "container.json"
            pj.write_text(json.dumps(payload))
            self.runs.append(payload)
            res = run_in_node(self.spec, [sys.executable, "-I", "-S", str(CONTAINER), str(pj)], timeout=self.timeout)
        return res.returncode, (res.stdout + res.stderr).encode()


def wait_until(pred: Any, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def cluster_env(fc: FakeCluster) -> dict[str, str]:
    """The environment a CLI subprocess gets (no KUBECONFIG leaking from the machine)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG",)}
    env["KUBECONFIG"] = str(fc.kubeconfig)
    env["HOME"] = str(fc.dir)
    return env


@dataclass
class Running:
    fc: FakeCluster


def fake_cluster(tmp: Path, git_version: str = "v1.33.0", objects: Path | None = None) -> Iterator[FakeCluster]:
    if shutil.which("openssl") is None:
        import pytest

        pytest.skip("openssl CLI not available to make the test certificates")
    fc = FakeCluster(tmp, git_version, objects)
    try:
        yield fc
    finally:
        fc.close()
