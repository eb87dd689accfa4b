"""The thin Kubernetes API wrapper of the cluster commands: JSON in, JSON out, one line per failure.

It speaks through :class:`kubecis.host.kubeapi.KubeTransport` (the ``kubernetes`` client library's
configuration loading, credential plugins and HTTP), the same layer the native kubectl uses. Everything
above it works on plain API objects (dicts), so the scan logic is tested with object dumps.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from kubecis.errors import HostError
from kubecis.host.apibase import ClusterUnreachable
from kubecis.host.kubeapi import KubeTransport


class ApiError(HostError):
    """An API answer other than success: ``status`` (HTTP), ``reason`` (Status.reason)."""

    def __init__(self, message: str, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


class KubeAPI:
    def __init__(self, transport: KubeTransport) -> None:
        self.t = transport

    @property
    def server(self) -> str:
        return self.t.server

    def call(self, method: str, path: str, *, body: Any = None, query: Mapping[str, str] | None = None,
             what: str = "", raw: bool = False, timeout: float | None = None) -> Any:
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            status, resp = self.t.request(method, path, query=query, body=data, headers=headers, timeout=timeout)
        except ClusterUnreachable as exc:
            raise HostError(f"cannot reach the API server {exc.url}: connection refused") from None
        if 200 <= status < 300:
            if raw:
                return resp
            try:
                return json.loads(resp) if resp else {}
            except ValueError:
                raise ApiError(f"{what or path}: the API server answered something that is not JSON",
                               status) from None
        reason, message = "", ""
        try:
            doc = json.loads(resp)
            if isinstance(doc, dict):
                reason, message = str(doc.get("reason", "")), str(doc.get("message", ""))
        except ValueError:
            message = resp[:200].decode("utf-8", "replace").strip()
        label = {401: "unauthorized", 403: "forbidden", 404: "not found", 409: "conflict"}.get(status, f"HTTP {status}")
        raise ApiError(f"{what or f'{method} {path}'}: {label}" + (f": {' '.join(message.split())}" if message else ""),
                       status, reason)

    # ---- reads ----------------------------------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        v = self.call("GET", "/version", what="reading the API server version")
        return v if isinstance(v, dict) else {}

    def nodes(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/api/v1/nodes", what="listing nodes").get("items") or [])

    def node(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.call("GET", f"/api/v1/nodes/{_q(name)}", what=f"reading node {name}"))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def pods(self, namespace: str, selector: str = "") -> list[dict[str, Any]]:
        q = {"labelSelector": selector} if selector else None
        return list(self.call("GET", f"/api/v1/namespaces/{_q(namespace)}/pods", query=q,
                              what=f"listing pods in {namespace}").get("items") or [])

    def pod_log(self, namespace: str, name: str, container: str = "kubecis") -> bytes:
        return bytes(self.call("GET", f"/api/v1/namespaces/{_q(namespace)}/pods/{_q(name)}/log",
                               query={"container": container}, raw=True, what=f"reading the log of pod {name}",
                               timeout=120))

    def namespace_exists(self, name: str) -> bool:
        try:
            self.call("GET", f"/api/v1/namespaces/{_q(name)}")
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # ---- writes ---------------------------------------------------------------------------------------------
    def create_namespace(self, obj: dict[str, Any]) -> None:
        self.call("POST", "/api/v1/namespaces", body=obj, what=f"creating namespace {obj['metadata']['name']}")

    def delete_namespace(self, name: str) -> None:
        try:
            self.call("DELETE", f"/api/v1/namespaces/{_q(name)}", body={"propagationPolicy": "Background"},
                      what=f"deleting namespace {name}")
        except ApiError as exc:
            if exc.status != 404:
                raise

    def create_job(self, namespace: str, obj: dict[str, Any]) -> None:
        self.call("POST", f"/apis/batch/v1/namespaces/{_q(namespace)}/jobs", body=obj,
                  what=f"creating job {obj['metadata']['name']} in {namespace}")

    def delete_job(self, namespace: str, name: str) -> None:
        try:
            self.call("DELETE", f"/apis/batch/v1/namespaces/{_q(namespace)}/jobs/{_q(name)}",
                      body={"propagationPolicy": "Background"}, what=f"deleting job {name}")
        except ApiError as exc:
            if exc.status != 404:
                raise
