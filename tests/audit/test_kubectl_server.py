"""A fake Kubernetes API server over HTTPS on 127.0.0.1, for the native kubectl/oc tests.

Serves legacy discovery (several groups: apps, autoscaling with two versions, rbac, networking, OpenShift, a
CRD-like example.com whose preferred version is not listed first; subresources, a resource without verbs), a
small cluster (privileged/hostPID pods, service accounts with automountServiceAccountToken unset/false, wildcard
roles, bindings, configmaps, secrets of several types, a deployment, CRD-like widgets, an OpenShift SCC and
KubeAPIServer), server-side Tables with the API server's columns (integer, number and null cells, priority-1
columns), field/label selectors, Status errors (404, 403, 503 for a group version in FAILING_DISCOVERY) and
SelfSubjectAccessReview. Requires a bearer token. The certificate is made with the ``openssl`` CLI.
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

TOKEN = "test-token-123"
TS = "2024-01-02T03:04:05Z"


def _meta(name: str, ns: str | None = None, **extra: Any) -> dict[str, Any]:
    # deliberately not in sorted order: kubectl re-sorts keys
    m: dict[str, Any] = {"name": name}
    if ns is not None:
        m["namespace"] = ns
    m["uid"] = f"uid-{ns or ''}-{name}"
    m["resourceVersion"] = "42"
    m["creationTimestamp"] = TS
    m.update(extra)
    return m


def _pod(name: str, ns: str, sa: str = "default", **spec: Any) -> dict[str, Any]:
    containers = spec.pop("containers", [{"name": "main", "image": "nginx:1.25"}])
    s: dict[str, Any] = {"containers": containers, "serviceAccountName": sa, "serviceAccount": sa,
                         "nodeName": "node-1"}
    s.update(spec)
    mf = [{"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": TS, "fieldsType": "FieldsV1",
           "fieldsV1": {"f:status": {}}}]
    return {"metadata": _meta(name, ns, labels={"app": name.split("-")[0]}, managedFields=mf), "spec": s,
            "status": {"phase": "Running"}}


OBJECTS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("", "namespaces"): [{"metadata": _meta(n)} for n in ("default", "kube-system", "app", "openshift-apiserver",
                                                          "openshift-kube-apiserver")],
    ("", "nodes"): [{"metadata": _meta("node-1")}],
    ("", "pods"): [
        _pod("web-1", "app", automountServiceAccountToken=False),
        _pod("priv-1", "app", sa="builder", hostPID=True, containers=[
            {"name": "c1", "image": "busybox", "securityContext": {"privileged": True,
                                                                   "allowPrivilegeEscalation": True,
                                                                   "capabilities": {"add": ["NET_ADMIN"]}}},
            {"name": "c2", "image": "busybox", "securityContext": {"privileged": False}},
        ]),
        _pod("etcd-node-1", "kube-system", hostNetwork=True, hostIPC=True,
             containers=[{"name": "etcd", "image": "etcd:3.5", "env": [
                 {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]),
    ],
    ("", "services"): [
        {"metadata": _meta("kubernetes", "default"), "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1"}},
        {"metadata": _meta("web", "app"), "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.20"}},
    ],
    ("", "serviceaccounts"): [
        {"metadata": _meta("default", "app")},
        {"metadata": _meta("builder", "app"), "automountServiceAccountToken": True},
        {"metadata": _meta("default", "kube-system"), "automountServiceAccountToken": False},
        {"metadata": _meta("default", "default")},
    ],
    ("", "configmaps"): [
        {"metadata": _meta("config", "app"), "data": {"config.yaml": '{"apiServerArguments":{"a":["b"]}}'}},
        {"metadata": _meta("config", "openshift-kube-apiserver"), "data": {"config.yaml": json.dumps({
            "apiVersion": "kubecontrolplane.config.openshift.io/v1", "kind": "KubeAPIServerConfig",
            "apiServerArguments": {
                "kubelet-client-certificate": ["/etc/kubernetes/static-pod-certs/secrets/kubelet-client/tls.crt"],
                "kubelet-client-key": ["/etc/kubernetes/static-pod-certs/secrets/kubelet-client/tls.key"],
                "kubelet-certificate-authority": [
                    "/etc/kubernetes/static-pod-resources/configmaps/kubelet-serving-ca/ca-bundle.crt"],
                "service-account-lookup": ["true"]}}, separators=(",", ":"))}},
        {"metadata": _meta("tricky", "app", annotations={"a10": "x", "a9": "y", "a-b": "", "a_b": "1", "A": "true",
                                                          "x1": "no", "10": "0x1F", "9": "1.5", "00a": "~"}),
         "data": {
             "long": "word " * 30 + "end", "longquote": "'" + "quoted words here " * 8,
             "colon": "a: b", "hash": "a #b", "dash": "- x", "lead": " x", "trail": "x ", "tab": "a\tb",
             "multi": "line1\nline2\n", "multi-nochomp": "l1\n\nl3", "multi-keep": "l1\n\n", "multi-lead": " l1\nl2",
             "multi-trail-space": "l1 \nl2", "unicode": "h\u00e9llo \u2603",
             "emoji": "x \U0001F600", "json": '{"k": [1, 2], "s": "v"}',
             "star": "*x", "pct": "%x", "dquote": '"x"', "num": "0755", "float": "1e3", "date": "2024-01-02",
             "empty": "", "dots": "...", "q": "?x", "qs": "? x", "bs": "a\\b", "at": "@x", "bang": "!x",
             "long-dq": "x\ty " * 30,
         },
         "binaryData": None, "nested": {"list": [{"a": 1, "b": [1, 2.5, None, True, {}, []]}, [1, [2]], "s"],
                                       "emptymap": {}, "emptylist": [], "big": 1e21, "small": 1.5e-7, "f": 2.0}},
    ],
    ("", "secrets"): [
        # no labels or annotations, one data key
        {"metadata": _meta("db", "app"), "type": "Opaque", "data": {"password": base64.b64encode(b"hunter2").decode()}},
        {"metadata": _meta("db-empty", "app"), "type": "Opaque"},
        # a service-account token: describe prints the token itself
        {"metadata": _meta("builder-token", "app", annotations={"kubernetes.io/service-account.name": "builder"}),
         "type": "kubernetes.io/service-account-token",
         "data": {k: base64.b64encode(v).decode() for k, v in {
             "token": b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJidWlsZGVyIn0.c2lnbmF0dXJl", "namespace": b"app",
             "ca.crt": b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}.items()}},
        # labels, annotations kubectl skips, shortens or splits over lines, TLS data
        {"metadata": _meta("serving-cert", "openshift-apiserver",
                           labels={"app": "openshift-apiserver", "a.b/c": "", "z": "last"},
                           annotations={
                               "kubectl.kubernetes.io/last-applied-configuration":
                                   '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"serving-cert"}}\n',
                               "service.alpha.openshift.io/expiry": "2026-01-02T03:04:05Z",
                               "service.beta.openshift.io/originating-service-name": "api",
                               "long": "word " * 40 + "end",
                               "multi": "first line\nsecond line\n\n" + "x" * 150 + "\nlast\n",
                               "exactly-140": "y" * (140 - len("exactly-140") - 2),
                               "just-over-140": "y" * (141 - len("just-over-140") - 2),
                               "empty": "",
                           }),
         "type": "kubernetes.io/tls",
         "data": {"tls.crt": base64.b64encode(b"C" * 1234).decode(), "tls.key": base64.b64encode(b"K" * 99).decode()}},
        # edge cases for the layout: multi-byte characters, tabs in values, a cut inside a UTF-8 sequence
        {"metadata": _meta("odd", "openshift-apiserver",
                           labels={"\u00e9t\u00e9": "h\u00e9", "tab": "a\tb"},
                           annotations={
                               "bytes": "\u00e9" * 69 + "!",
                               "cut": "x" + "\u00e9" * 80,
                               "tabs": "col1\tcol2\ncol1-longer\tcol2\n",
                               "newline-only": "\n",
                           }),
         "type": "example.com/custom",
         "data": {"k\u00e9y": base64.b64encode(b"\x00\xff" * 5).decode()}},
    ],
    ("rbac.authorization.k8s.io", "roles"): [
        {"metadata": _meta("wild", "app"), "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        {"metadata": _meta("reader", "kube-system"),
         "rules": [{"apiGroups": [""], "resources": ["secrets", "pods"], "verbs": ["get", "list"]}]},
    ],
    ("rbac.authorization.k8s.io", "clusterroles"): [
        {"metadata": _meta("cluster-admin"), "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                                                       {"nonResourceURLs": ["*"], "verbs": ["*"]}]},
        {"metadata": _meta("view"), "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
    ],
    ("rbac.authorization.k8s.io", "clusterrolebindings"): [
        {"metadata": _meta("cluster-admin"), "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                         "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]},
        {"metadata": _meta("ops-admin"), "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                     "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "User", "name": "alice"}, {"kind": "User", "name": "bob"}]},
        {"metadata": _meta("no-subjects"), "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                       "kind": "ClusterRole", "name": "view"}},
    ],
    ("rbac.authorization.k8s.io", "rolebindings"): [
        {"metadata": _meta("anon", "app"), "roleRef": {"kind": "Role", "name": "wild"},
         "subjects": [{"kind": "User", "name": "system:anonymous"}]},
    ],
    ("networking.k8s.io", "networkpolicies"): [
        {"metadata": _meta("deny", "app"), "spec": {"podSelector": {}}},
    ],
    ("security.openshift.io", "securitycontextconstraints"): [
        {"metadata": _meta("restricted"), "allowPrivilegedContainer": False, "allowHostPID": False,
         "runAsUser": {"type": "MustRunAsRange"}, "priority": None},
        {"metadata": _meta("privileged"), "allowPrivilegedContainer": True, "allowHostPID": True,
         "runAsUser": {"type": "RunAsAny"}, "priority": 10},
    ],
    ("operator.openshift.io", "kubeapiservers"): [
        {"metadata": _meta("cluster"), "spec": {"observedConfig": {"apiServerArguments": {
            "enable-admission-plugins": ["NodeRestriction"], "ratio": [0.5]}}, "unsupportedConfigOverrides": None}},
    ],
    ("apps", "deployments"): [
        {"metadata": _meta("web", "app"), "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "main", "image": "nginx:1.25"}, {"name": "side", "image": "busybox"}]}}},
         "status": {"replicas": 2, "readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}},
    ],
    ("autoscaling", "horizontalpodautoscalers"): [
        {"metadata": _meta("web", "app"), "spec": {"minReplicas": 1, "maxReplicas": 5,
                                                   "scaleTargetRef": {"kind": "Deployment", "name": "web"}},
         "status": {"currentReplicas": 2}},
    ],
    # a CRD-like group with printer columns of several types (a number, a missing value)
    ("example.com", "widgets"): [
        {"metadata": _meta("w1", "app"), "spec": {"size": 3, "ratio": 0.5, "note": "ok"}},
        {"metadata": _meta("w-two", "app"), "spec": {"size": 12, "ratio": 1e21}},
    ],
}

def _res(name: str, kind: str, namespaced: bool, verbs: tuple[str, ...] = ("get", "list", "watch"),
         short: tuple[str, ...] = (), singular: str | None = None, categories: tuple[str, ...] = ()
         ) -> dict[str, Any]:
    r: dict[str, Any] = {"name": name, "singularName": name[:-1] if singular is None else singular,
                         "namespaced": namespaced, "kind": kind, "verbs": list(verbs)}
    if short:
        r["shortNames"] = list(short)
    if categories:
        r["categories"] = list(categories)
    return r


# group versions in the order /apis lists them (a group's versions in insertion order; PREFERRED or the first)
RESOURCES: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("", "v1"): [
        {"name": "bindings", "singularName": "binding", "namespaced": True, "kind": "Binding", "verbs": ["create"]},
        {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event", "shortNames": ["ev"],
         "verbs": ["create", "delete", "get", "list", "watch"]},
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "shortNames": ["ns"], "verbs": ["get", "list"]},
        {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node", "shortNames": ["no"],
         "verbs": ["get", "list"]},
        {"name": "nodes/proxy", "singularName": "", "namespaced": False, "kind": "NodeProxyOptions",
         "verbs": ["get"]},
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "shortNames": ["po"],
         "categories": ["all"], "verbs": ["get", "list"]},
        {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
        {"name": "services", "singularName": "service", "namespaced": True, "kind": "Service",
         "shortNames": ["svc"], "categories": ["all"], "verbs": ["get", "list"]},
        {"name": "serviceaccounts", "singularName": "serviceaccount", "namespaced": True,
         "kind": "ServiceAccount", "shortNames": ["sa"], "verbs": ["get", "list"]},
        {"name": "configmaps", "singularName": "configmap", "namespaced": True, "kind": "ConfigMap",
         "shortNames": ["cm"], "verbs": ["get", "list"]},
        {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret", "verbs": ["get", "list"]},
    ],
    ("apps", "v1"): [
        _res("deployments", "Deployment", True, ("create", "get", "list", "watch"), ("deploy",)),
        _res("deployments/scale", "Scale", True, ("get", "patch", "update"), singular=""),
        _res("deployments/status", "Deployment", True, ("get", "patch", "update"), singular=""),
    ],
    # autoscaling: v2 preferred and listed first, v1 also served (kubectl api-resources shows v2)
    ("autoscaling", "v2"): [_res("horizontalpodautoscalers", "HorizontalPodAutoscaler", True, short=("hpa",))],
    ("autoscaling", "v1"): [_res("horizontalpodautoscalers", "HorizontalPodAutoscaler", True, short=("hpa",))],
    ("rbac.authorization.k8s.io", "v1"): [
        {"name": n, "singularName": n[:-1], "namespaced": ns, "kind": k, "verbs": ["get", "list"]}
        for n, ns, k in (("roles", True, "Role"), ("clusterroles", False, "ClusterRole"),
                         ("rolebindings", True, "RoleBinding"), ("clusterrolebindings", False, "ClusterRoleBinding"))
    ],
    ("networking.k8s.io", "v1"): [
        {"name": "networkpolicies", "singularName": "networkpolicy", "namespaced": True, "kind": "NetworkPolicy",
         "shortNames": ["netpol"], "verbs": ["get", "list"]},
    ],
    ("authorization.k8s.io", "v1"): [
        {"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": False,
         "kind": "SelfSubjectAccessReview", "verbs": ["create"]},
    ],
    ("security.openshift.io", "v1"): [
        {"name": "securitycontextconstraints", "singularName": "securitycontextconstraints", "namespaced": False,
         "kind": "SecurityContextConstraints", "shortNames": ["scc"], "verbs": ["get", "list"]},
    ],
    ("operator.openshift.io", "v1"): [
        {"name": "kubeapiservers", "singularName": "kubeapiserver", "namespaced": False, "kind": "KubeAPIServer",
         "verbs": ["get", "list"]},
    ],
    # a CRD-like group: v1 preferred; gadgets only in v1beta1 (listing them answers 404, like a CRD being
    # removed); a resource without verbs
    ("example.com", "v1beta1"): [
        _res("widgets", "Widget", True, ("get", "list")),
        _res("gadgets", "Gadget", True, ("get", "list")),
    ],
    ("example.com", "v1"): [
        _res("widgets", "Widget", True, ("delete", "get", "list", "watch"), short=("wd",)),
        _res("widgetviews", "WidgetView", True, ()),
    ],
}
PREFERRED = {"example.com": "v1"}
LIST_NOT_FOUND = {("example.com", "gadgets")}  # listed in discovery, but a list request answers 404
FAILING_DISCOVERY: set[tuple[str, str]] = set()  # group versions whose discovery answers 503 (tests set it)

# who may do what (SelfSubjectAccessReview): (user, verb, resource) allowed; the admin (no impersonation) may do all
ALLOWED = {("system:authenticated", "create", "pods")}
FORBIDDEN_LISTS = {("", "secrets")}  # cluster-wide list forbidden (403)


def _status(code: int, reason: str, message: str, **details: Any) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "details": details, "code": code}


def _resource_def(group: str, version: str, resource: str) -> dict[str, Any] | None:
    for r in RESOURCES.get((group, version), []):
        if r["name"] == resource:
            return r
    return None


def _group_list() -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    for g, v in RESOURCES:
        if g:
            groups.setdefault(g, []).append(v)
    out = []
    for g, versions in groups.items():
        pref = PREFERRED.get(g, versions[0])
        out.append({"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in versions],
                    "preferredVersion": {"groupVersion": f"{g}/{pref}", "version": pref}})
    return out


def _col(name: str, typ: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": typ, "format": fmt, "description": f"{name} of the object", "priority": priority}


def _dig(obj: dict[str, Any], path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def _table(resource: str, objs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Column definitions and cells like the API server's printers (or a CRD's additionalPrinterColumns)."""
    name, age = _col("Name", fmt="name"), _col("Age")
    cols: list[dict[str, Any]]
    cells: Any
    if resource == "pods":
        cols = [name, _col("Ready"), _col("Status"), _col("Restarts", "string"), age, _col("IP", priority=1),
                _col("Node", priority=1)]
        cells = lambda o: [  # noqa: E731
            f"{len(o['spec']['containers'])}/{len(o['spec']['containers'])}", o["status"]["phase"], "0", "300d",
            "<none>", o["spec"]["nodeName"]]
    elif resource == "services":
        cols = [name, _col("Type"), _col("Cluster-IP"), _col("External-IP"), _col("Port(s)"), age,
                _col("Selector", priority=1)]
        cells = lambda o: [o["spec"]["type"], o["spec"]["clusterIP"],  # noqa: E731
                           "<pending>" if o["spec"]["type"] == "LoadBalancer" else "<none>", "443/TCP", "300d",
                           "<none>"]
    elif resource == "deployments":
        cols = [name, _col("Ready"), _col("Up-to-date", "integer"), _col("Available", "integer"), age,
                _col("Containers", priority=1), _col("Images", priority=1), _col("Selector", priority=1)]
        cells = lambda o: [  # noqa: E731
            f"{o['status']['readyReplicas']}/{o['spec']['replicas']}", o["status"]["updatedReplicas"],
            o["status"]["availableReplicas"], "300d",
            ",".join(c["name"] for c in o["spec"]["template"]["spec"]["containers"]),
            ",".join(c["image"] for c in o["spec"]["template"]["spec"]["containers"]), "app=web"]
    elif resource == "configmaps":
        cols = [name, _col("Data", "integer"), age]
        cells = lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {}), "300d"]  # noqa: E731
    elif resource == "secrets":
        cols = [name, _col("Type"), _col("Data", "integer"), age]
        cells = lambda o: [o.get("type", ""), len(o.get("data") or {}), "300d"]  # noqa: E731
    elif resource == "serviceaccounts":
        cols = [name, _col("Secrets", "integer"), age]
        cells = lambda o: [len(o.get("secrets") or []), "300d"]  # noqa: E731
    elif resource == "widgets":
        cols = [name, _col("Size", "integer"), _col("Ratio", "number"), _col("Note", priority=1), age]
        cells = lambda o: [_dig(o, "spec.size"), _dig(o, "spec.ratio"), _dig(o, "spec.note"), "300d"]  # noqa: E731
    else:
        cols = [name, age]
        cells = lambda o: ["300d"]  # noqa: E731
    return cols, [[o["metadata"]["name"], *cells(o)] for o in objs]


def _match(obj: dict[str, Any], q: dict[str, str]) -> bool:
    for sel in filter(None, q.get("fieldSelector", "").split(",")):
        k, _, v = sel.partition("=")
        cur: Any = obj
        for part in k.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if (cur or "") != v:
            return False
    labels = obj["metadata"].get("labels") or {}
    for sel in filter(None, q.get("labelSelector", "").split(",")):
        k, _, v = sel.partition("=")
        if labels.get(k) != v:
            return False
    return True


def _fields(buf: bytes) -> dict[int, list[Any]]:
    """A minimal protobuf reader: field number -> values (varints as int, length-delimited as bytes)."""
    out: dict[int, list[Any]] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        v = shift = 0
        while True:
            b = buf[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    while i < len(buf):
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            out.setdefault(num, []).append(varint())
        elif wire == 2:
            n = varint()
            out.setdefault(num, []).append(buf[i : i + n])
            i += n
        else:
            raise ValueError(f"wire type {wire}")
    return out


def _ssar_from_proto(raw: bytes) -> dict[str, Any]:
    unknown = _fields(raw)
    review = _fields(unknown[2][0])
    spec = _fields(review[2][0])
    ra = _fields(spec[1][0]) if 1 in spec else {}
    names = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
    attrs = {names[k]: v[0].decode() for k, v in ra.items() if k in names}
    return {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "spec": {"resourceAttributes": attrs}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, doc: Any) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _auth(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return False
        return True

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            raw = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                chunk = self.rfile.read(size + 2)[:size]
                if not size:
                    break
                raw += chunk
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # kubectl sends built-in types as protobuf
        data = _ssar_from_proto(raw[4:]) if raw.startswith(b"k8s\x00") else json.loads(raw or b"{}")
        Handler.requests.append(("POST", self.path, dict(self.headers)))
        if not self._auth():
            return
        if self.path.split("?")[0] != "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews":
            self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))
            return
        attrs = data["spec"]["resourceAttributes"]
        user = self.headers.get("Impersonate-User")
        allowed = user is None or (user, attrs.get("verb"), attrs.get("resource")) in ALLOWED
        data["status"] = {"allowed": allowed} if allowed else {"allowed": False}
        data["metadata"] = {"creationTimestamp": None}
        self._send(201, data)

    def do_GET(self) -> None:
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        Handler.requests.append(("GET", self.path, dict(self.headers)))
        if not self._auth():
            return
        parts = [p for p in u.path.split("/") if p]
        if parts == ["api"]:
            self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "x:6443"}]})
            return
        if parts == ["apis"]:
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": _group_list()})
            return
        if parts == ["version"]:
            self._send(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0"})
            return
        if parts[:1] == ["api"]:
            group, rest = "", parts[1:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, rest = parts[1], parts[2:]
        else:
            self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))
            return
        if len(rest) == 1 and (group, rest[0]) in FAILING_DISCOVERY:
            self._send(503, _status(503, "ServiceUnavailable", "the server is currently unable to handle the request"))
            return
        if len(rest) == 1 and (group, rest[0]) in RESOURCES:
            self._send(200, {"kind": "APIResourceList", "apiVersion": "v1",
                             "groupVersion": f"{group}/{rest[0]}" if group else rest[0],
                             "resources": RESOURCES[(group, rest[0])]})
            return
        version, rest = rest[0], rest[1:]
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces" and _resource_def(group, version, rest[2]) is not None:
            ns, rest = rest[1], rest[2:]
        rdef = _resource_def(group, version, rest[0]) if rest else None
        if rdef is None or (group, rest[0]) in LIST_NOT_FOUND:
            self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))
            return
        resource = rest[0]
        objs = [o for o in OBJECTS.get((group, resource), []) if ns is None or o["metadata"].get("namespace") == ns]
        if len(rest) == 3 and resource == "nodes" and rest[2] == "proxy":
            self._send(200, {"kubeletconfig": {"authentication": {"anonymous": {"enabled": False}}}})
            return
        kind = str(rdef["kind"])
        api = f"{group}/{version}" if group else version
        if len(rest) == 2:
            for o in objs:
                if o["metadata"]["name"] == rest[1]:
                    self._send(200, {"kind": kind, "apiVersion": api, **o})
                    return
            self._send(404, _status(404, "NotFound", f'{resource} "{rest[1]}" not found', name=rest[1],
                                    group=group, kind=resource))
            return
        if ns is None and (group, resource) in FORBIDDEN_LISTS:
            self._send(403, _status(403, "Forbidden", f'{resource} is forbidden: User "test" cannot list resource '
                                    f'"{resource}" in API group "{group}" at the cluster scope',
                                    group=group, kind=resource))
            return
        objs = [o for o in objs if _match(o, q)]
        if "as=Table" in (self.headers.get("Accept") or ""):
            cols, cells = _table(resource, objs)
            rows = [{"cells": c, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                            "metadata": o["metadata"]}} for c, o in zip(cells, objs, strict=True)]
            self._send(200, {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": "77"},
                             "columnDefinitions": cols, "rows": rows})
            return
        self._send(200, {"kind": kind + "List", "apiVersion": api, "metadata": {"resourceVersion": "77"},
                         "items": objs})


class FakeAPI:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        key, crt = workdir / "tls.key", workdir / "tls.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
             "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True,
        )
        self.ca = crt
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(crt), str(key))
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.kubeconfig = workdir / "kubeconfig"
        ca = base64.b64encode(crt.read_bytes()).decode()
        self.kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
            f"clusters:\n- name: test\n  cluster:\n    server: {self.url}\n    certificate-authority-data: {ca}\n"
            f"users:\n- name: test\n  user:\n    token: {TOKEN}\n"
            "contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: app\n"
        )
        self.home = workdir / "home"
        self.home.mkdir()

    def env(self) -> dict[str, str]:
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.home)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeAPI]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available to make the test certificate")
    api = FakeAPI(tmp_path_factory.mktemp("kubeapi"))
    yield api
    api.close()


def test_fake_api_requires_token(fake_api: FakeAPI) -> None:
    import http.client

    ctx = ssl.create_default_context(cafile=str(fake_api.ca))
    conn = http.client.HTTPSConnection("127.0.0.1", fake_api.port, context=ctx)
    try:
        conn.request("GET", "/api")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 401
    finally:
        conn.close()
