"""An API server on loopback (plain HTTP) that answers from any :class:`~kubecis.host.cluster.Cluster`.

Used to run the real ``kubectl`` (and kubecis's own live client) against an object dump: GETs go to
``cluster.get``, SelfSubjectAccessReview POSTs (JSON, or the protobuf real kubectl sends) to ``cluster.post`` with
the Impersonate-User / Impersonate-Group headers. Plain HTTP on 127.0.0.1 without authentication (client-go
sends no bearer token over plain HTTP).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubecis.host.cluster import Cluster, NotNative
from tests.audit.test_kubectl_server import _fields

TOKEN = "policy-test-token"


def ssar_from_proto(raw: bytes) -> dict[str, Any]:
    """runtime.Unknown{raw: SelfSubjectAccessReview} → the JSON form (resource and non-resource attributes)."""
    review = _fields(_fields(raw)[2][0])
    spec = _fields(review[2][0])
    out: dict[str, Any] = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "spec": {}}
    if 1 in spec:
        names = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
        ra = _fields(spec[1][0])
        out["spec"]["resourceAttributes"] = {names[k]: v[0].decode() for k, v in ra.items() if k in names}
    if 2 in spec:
        nra = _fields(spec[2][0])
        out["spec"]["nonResourceAttributes"] = {n: nra[k][0].decode() for k, n in ((1, "path"), (2, "verb"))
                                                if k in nra}
    return out


def make_handler(cluster: Cluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            u = urlsplit(self.path)
            if u.path == "/version":
                self._send(200, b'{"major":"1","minor":"33","gitVersion":"v1.33.0"}')
                return
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            try:
                status, body = cluster.get(u.path, q)
            except NotNative as exc:
                self._send(406, json.dumps({"kind": "Status", "message": str(exc), "code": 406}).encode())
                return
            self._send(status, body)

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
            doc = ssar_from_proto(raw[4:]) if raw.startswith(b"k8s\x00") else json.loads(raw or b"{}")
            status, body = cluster.post(urlsplit(self.path).path, json.dumps(doc).encode(),
                                        self.headers.get("Impersonate-User"),
                                        self.headers.get_all("Impersonate-Group") or [])
            self._send(status, body)

    return Handler


class ApiServer:
    def __init__(self, cluster: Cluster, workdir: Path) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(cluster))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
            f"clusters:\n- name: t\n  cluster:\n    server: {self.url}\n"
            f"users:\n- name: t\n  user:\n    token: {TOKEN}\n"
            "contexts:\n- name: t\n  context:\n    cluster: t\n    user: t\n    namespace: default\n")
        self.home = workdir / "home"
        self.home.mkdir(exist_ok=True)

    def env(self) -> dict[str, str]:
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.home)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
