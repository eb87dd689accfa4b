"""Read-only access to the Kubernetes API, for the native ``kubectl``/``oc``.

A :class:`Cluster` answers raw API requests: ``get(path, query)`` and
``post(path, body, impersonate, groups)`` (SelfSubjectAccessReview), both
returning ``(status, body)``. A server that cannot be reached raises
:class:`ClusterUnreachable` (kubectl's "connection ... refused" case); any other
transport or configuration failure raises :class:`~kubecis.errors.HostError`
(never a made-up answer).

Implementations:

* :class:`LiveCluster` - configured like kubectl: ``$KUBECONFIG`` (a ``:`` list,
  merged the way client-go merges), else ``~/.kube/config``, else the in-cluster
  service account, else ``http://localhost:8080`` (kubectl's default with no
  configuration). Configuration is only read on the first request.
* :class:`NoCluster` - behaves like kubectl with no configuration and nothing
  listening on localhost:8080 (used for ``--root``).
* :class:`RecordingCluster` / :class:`SnapshotCluster` - record and replay the
  answers in the same snapshot document as the host entries (keys starting with
  ``["api", ...``). Secret data, tokens, passwords and private keys in
  responses are replaced with ``REDACTED-BY-KUBECIS`` before they are stored.

:class:`Discovery` maps what a user types (``pods``, ``po``, ``cm``, ``scc``,
``kubeapiservers.operator.openshift.io``, ``deploy.v1.apps``) to API resources.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import urllib.parse
import weakref
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from kubecis.errors import HostError
from kubecis.host.base import NotInSnapshot
from kubecis.host.redact import MARKER

if TYPE_CHECKING:
    import ssl

__all__ = [
    "MARKER",
    "APIResource",
    "Cluster",
    "ClusterUnreachable",
    "Discovery",
    "EmptyCluster",
    "LiveCluster",
    "NoCluster",
    "NotNative",
    "RecordingCluster",
    "SnapshotCluster",
    "current_cluster",
    "redact_api_body",
]

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_SERVER = "http://localhost:8080"
TIMEOUT = 32.0
TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


class ClusterUnreachable(Exception):
    """The API server refused the connection. ``host`` is ``HOST[:PORT]`` as kubectl names it."""

    def __init__(self, host: str, url: str) -> None:
        super().__init__(host)
        self.host = host
        self.url = url


class NotNative(HostError):
    """The configuration needs something a native client does not do (a credential plugin process...).

    kubectl/oc report these as "audit not supported natively", so ``--executor auto`` runs the real tool.
    """


class Cluster(Protocol):
    """Read-only view of one cluster's API."""

    @property
    def namespace(self) -> str:
        """The namespace of the current context (kubectl's default for ``-n``)."""
        ...

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        """GET ``path``; ``table`` asks for the server-side Table rendering kubectl prints."""
        ...

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]: ...


#: The cluster the native kubectl/oc of the audit being run talks to (set by NativeExecutor.run;
#: None: kubectl with no configuration).
current_cluster: ContextVar[Cluster | None] = ContextVar("kubecis_current_cluster", default=None)

# --------------------------------------------------------------------------- live


@dataclass
class _Config:
    server: str
    namespace: str = "default"
    ca_file: str | None = None
    ca_data: bytes | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    cert_data: bytes | None = None
    key_data: bytes | None = None
    token: str | None = None
    token_file: str | None = None
    username: str | None = None
    password: str | None = None


def _named(items: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for it in items if isinstance(items, list) else []:
        if isinstance(it, dict) and isinstance(it.get("name"), str):
            out.setdefault(it["name"], it)
    return out


def _resolve(base: str, p: Any) -> str | None:
    if not isinstance(p, str) or not p:
        return None
    return p if os.path.isabs(p) else os.path.join(base, p)


def _b64(v: Any) -> bytes | None:
    if not isinstance(v, str) or not v:
        return None
    try:
        return base64.b64decode(v)
    except ValueError:
        raise HostError("kubeconfig: invalid base64 data") from None


def load_kubeconfig(paths: Sequence[str]) -> _Config | None:
    """The current context of the merged kubeconfig files, or None when they configure nothing."""
    clusters: dict[str, tuple[str, dict[str, Any]]] = {}
    users: dict[str, tuple[str, dict[str, Any]]] = {}
    contexts: dict[str, dict[str, Any]] = {}
    current = ""
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except FileNotFoundError:
            continue
        except (OSError, yaml.YAMLError) as exc:
            raise HostError(f"kubeconfig {path}: {exc}") from None
        if not isinstance(doc, dict):
            continue
        base = os.path.dirname(os.path.abspath(path))
        for name, c in _named(doc.get("clusters")).items():
            clusters.setdefault(name, (base, c.get("cluster") or {}))
        for name, u in _named(doc.get("users")).items():
            users.setdefault(name, (base, u.get("user") or {}))
        for name, c in _named(doc.get("contexts")).items():
            contexts.setdefault(name, c.get("context") or {})
        if not current and isinstance(doc.get("current-context"), str):
            current = doc["current-context"]
    if not current:
        return None
    ctx = contexts.get(current)
    if ctx is None:
        raise HostError(f'kubeconfig: context was not found for specified context: {current}')
    cbase, cl = clusters.get(str(ctx.get("cluster", "")), ("", {}))
    ubase, us = users.get(str(ctx.get("user", "")), ("", {}))
    if not cl.get("server"):
        return None
    if us.get("exec") or us.get("auth-provider"):
        raise NotNative("kubeconfig credential plugin (exec/auth-provider)")
    return _Config(
        server=str(cl["server"]),
        namespace=str(ctx.get("namespace") or "default"),
        ca_file=_resolve(cbase, cl.get("certificate-authority")),
        ca_data=_b64(cl.get("certificate-authority-data")),
        insecure=bool(cl.get("insecure-skip-tls-verify")),
        tls_server_name=cl.get("tls-server-name") or None,
        cert_file=_resolve(ubase, us.get("client-certificate")),
        key_file=_resolve(ubase, us.get("client-key")),
        cert_data=_b64(us.get("client-certificate-data")),
        key_data=_b64(us.get("client-key-data")),
        token=us.get("token") or None,
        token_file=_resolve(ubase, us.get("tokenFile")),
        username=us.get("username") or None,
        password=us.get("password") or None,
    )


def discover_config(env: Mapping[str, str]) -> _Config:
    """kubectl's configuration search: $KUBECONFIG, ~/.kube/config, in-cluster, localhost:8080."""
    kc = env.get("KUBECONFIG")
    if kc:
        paths = [p for p in kc.split(os.pathsep) if p]
    else:
        home = env.get("HOME") or os.path.expanduser("~")
        paths = [os.path.join(home, ".kube", "config")]
    cfg = load_kubeconfig(paths)
    if cfg is not None:
        return cfg
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if host and port and os.path.exists(os.path.join(SA_DIR, "token")):
        ns = env.get("POD_NAMESPACE")
        if not ns:
            try:
                with open(os.path.join(SA_DIR, "namespace"), encoding="utf-8") as f:
                    ns = f.read().strip()
            except OSError:
                ns = ""
        h = f"[{host}]" if ":" in host else host
        return _Config(
            server=f"https://{h}:{port}",
            namespace=ns or "default",
            ca_file=os.path.join(SA_DIR, "ca.crt"),
            token_file=os.path.join(SA_DIR, "token"),
        )
    return _Config(server=DEFAULT_SERVER)


class LiveCluster:
    """The cluster kubectl would talk to from this process (configuration read lazily)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(env if env is not None else os.environ)
        self._cfg: _Config | None = None
        self._ctx: ssl.SSLContext | None = None

    def _config(self) -> _Config:
        if self._cfg is None:
            self._cfg = discover_config(self._env)
        return self._cfg

    @property
    def namespace(self) -> str:
        return self._config().namespace

    def _ssl(self, cfg: _Config) -> ssl.SSLContext:
        import ssl  # only when an audit talks to a cluster: ssl is a tenth of kubecis's start-up

        if self._ctx is not None:
            return self._ctx
        ctx = ssl.create_default_context()
        if cfg.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif cfg.ca_data is not None:
            ctx = ssl.create_default_context(cadata=cfg.ca_data.decode("ascii", "replace"))
        elif cfg.ca_file:
            try:
                ctx = ssl.create_default_context(cafile=cfg.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise HostError(f"cluster: cannot load CA {cfg.ca_file}: {exc}") from None
        try:
            if cfg.cert_data is not None or cfg.key_data is not None:
                with tempfile.TemporaryDirectory(prefix="kubecis-") as d:
                    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
                    for p, data in ((cert, cfg.cert_data), (key, cfg.key_data)):
                        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                        with os.fdopen(fd, "wb") as f:
                            f.write(data or b"")
                    ctx.load_cert_chain(cert, key)
            elif cfg.cert_file and cfg.key_file:
                ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise HostError(f"cluster: cannot load client certificate: {exc}") from None
        self._ctx = ctx
        return ctx

    def _headers(self, cfg: _Config) -> dict[str, str]:
        h = {"User-Agent": "kubectl (kubecis native)"}
        token = cfg.token
        if cfg.token_file and not token:
            try:
                with open(cfg.token_file, encoding="utf-8") as f:
                    token = f.read().strip()
            except OSError as exc:
                raise HostError(f"cluster: cannot read token {cfg.token_file}: {exc.strerror}") from None
        if token:
            h["Authorization"] = f"Bearer {token}"
        elif cfg.username is not None:
            cred = base64.b64encode(f"{cfg.username}:{cfg.password or ''}".encode()).decode()
            h["Authorization"] = f"Basic {cred}"
        return h

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        import http.client
        import ssl

        cfg = self._config()
        u = urllib.parse.urlsplit(cfg.server)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise HostError(f"cluster: unsupported server URL {cfg.server}")
        conn: http.client.HTTPConnection
        if u.scheme == "https":
            ctx = self._ssl(cfg)
            conn = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=TIMEOUT, context=ctx)
            if cfg.tls_server_name:
                raise NotNative("kubeconfig tls-server-name")
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=TIMEOUT)
        full = (u.path.rstrip("/") + path) if u.path not in ("", "/") else path
        try:
            h = {**self._headers(cfg), **headers}
            conn.request(method, full, body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except ConnectionRefusedError:
            raise ClusterUnreachable(u.netloc, cfg.server) from None
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            # kubectl prints Go's error text here ("Unable to connect to the server: ..."): not reproduced
            raise NotNative(f"kubectl's error output for a failed connection to {u.netloc} ({exc})") from None
        finally:
            conn.close()

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        q = "?" + urllib.parse.urlencode(sorted(query.items())) if query else ""
        accept = TABLE_ACCEPT if table else "application/json"
        return self._request("GET", path + q, None, {"Accept": accept})

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if impersonate is not None:
            headers["Impersonate-User"] = impersonate
        if groups:
            raise NotNative("impersonating groups")
        return self._request("POST", path, body, headers)


class NoCluster:
    """kubectl with no configuration and nothing listening on localhost:8080."""

    namespace = "default"

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        raise ClusterUnreachable("localhost:8080", DEFAULT_SERVER)

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        raise ClusterUnreachable("localhost:8080", DEFAULT_SERVER)


class EmptyCluster:
    """A reachable cluster serving no resources (every object is NotFound; every access review says no).

    Used to dry-run scripts for the static coverage check, so that kubectl/oc forms are exercised
    without a real API server.
    """

    namespace = "default"

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        if path == "/api":
            return 200, b'{"kind":"APIVersions","versions":[]}'
        if path == "/apis":
            return 200, b'{"kind":"APIGroupList","apiVersion":"v1","groups":[]}'
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": "the server could not find the requested resource", "reason": "NotFound", "code": 404}
        return 404, json.dumps(status).encode()

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        return 201, b'{"kind":"SelfSubjectAccessReview","status":{"allowed":false}}'


# --------------------------------------------------------------------------- record / replay

def redact_api_body(body: bytes) -> bytes:
    """An API response with secret material replaced: Secret data, secret-named fields, pod env values and
    container args by the structural rules of :mod:`kubecis.host.redact`, every string by its text rules
    (JSON re-encoded; a body that is not JSON goes through the text rules)."""
    from kubecis.host.redact import redact_json, redact_text_bytes

    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return redact_text_bytes(body)
    if isinstance(doc, dict) and doc.get("kind") == "SecretList" and isinstance(doc.get("items"), list):
        # list items carry no kind of their own: mark them as Secrets for the walker, then unmark
        marked = [isinstance(it, dict) and "kind" not in it for it in doc["items"]]
        for it, m in zip(doc["items"], marked, strict=True):
            if m:
                it["kind"] = "Secret"
        red = redact_json(doc)
        for it, m in zip(red["items"], marked, strict=True):
            if m:
                it.pop("kind", None)
        return json.dumps(red, separators=(",", ":")).encode()
    return json.dumps(redact_json(doc), separators=(",", ":")).encode()


def _get_key(path: str, query: Mapping[str, str] | None, table: bool) -> str:
    return json.dumps(["api", "GET", path, sorted((query or {}).items()), table])


def _post_key(path: str, body: bytes, impersonate: str | None, groups: Sequence[str]) -> str:
    return json.dumps(["api", "POST", path, body.decode("utf-8", "replace"), impersonate, list(groups)])


class RecordingCluster:
    """Forwards to ``inner`` and records every answer into ``entries`` (a RecordingHost's entries)."""

    def __init__(self, inner: Cluster, entries: dict[str, Any]) -> None:
        self.inner = inner
        self.entries = entries

    @property
    def namespace(self) -> str:
        ns = self.inner.namespace
        self.entries[json.dumps(["api", "namespace"])] = {"ok": ns}
        return ns

    def _rec(self, key: str, fn: Any) -> tuple[int, bytes]:
        try:
            status, body = fn()
        except ClusterUnreachable as exc:
            from kubecis.host.redact import redact_text

            self.entries[key] = {"refused": redact_text(exc.host), "url": redact_text(exc.url)}  # (URL userinfo)
            raise
        self.entries[key] = {"status": status, "body": base64.b64encode(redact_api_body(body)).decode()}
        return status, body

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        return self._rec(_get_key(path, query, table), lambda: self.inner.get(path, query, table=table))

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        return self._rec(
            _post_key(path, body, impersonate, groups), lambda: self.inner.post(path, body, impersonate, groups)
        )


class SnapshotCluster:
    """Replays the ``api`` entries of a snapshot; a request never recorded raises NotInSnapshot."""

    def __init__(self, entries: Mapping[str, Any]) -> None:
        self._entries = {k: v for k, v in entries.items() if k.startswith('["api"')}

    @classmethod
    def from_host(cls, host: object) -> SnapshotCluster:
        """The api entries of the document a SnapshotHost replays."""
        entries = getattr(host, "api_entries", None)
        return cls(entries() if callable(entries) else {})

    @property
    def namespace(self) -> str:
        v = self._entries.get(json.dumps(["api", "namespace"]))
        if not isinstance(v, dict):
            raise NotInSnapshot("api: current namespace")
        return str(v.get("ok", "default"))

    def _get(self, key: str, what: str) -> tuple[int, bytes]:
        v = self._entries.get(key)
        if v is None:
            raise NotInSnapshot(f"api {what}")
        if not isinstance(v, dict):
            raise HostError(f"corrupt snapshot entry for api {what}")
        if "refused" in v:
            raise ClusterUnreachable(str(v["refused"]), str(v.get("url", "")))
        return int(v.get("status", 0)), base64.b64decode(str(v.get("body", "")))

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        q = "?" + urllib.parse.urlencode(sorted(query.items())) if query else ""
        return self._get(_get_key(path, query, table), f"GET {path}{q}")

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        return self._get(_post_key(path, body, impersonate, groups), f"POST {path}")


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class APIResource:
    group: str
    version: str
    name: str  # plural resource name
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = field(default=())

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection(self, namespace: str | None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            return f"{base}/namespaces/{urllib.parse.quote(namespace, safe='')}/{self.name}"
        return f"{base}/{self.name}"


@dataclass
class _Catalog:
    """What legacy discovery answered: groups in /api, /apis order, each group version's resources or failure."""

    # (group, versions in the order the server lists them, preferred version)
    groups: list[tuple[str, list[str], str]]
    # (group, version) -> its resources (subresources excluded), or the HTTP status of a failed request
    lists: dict[tuple[str, str], list[APIResource] | int]
    # group versions whose resource list was empty (client-go: "received empty response")
    empty: set[tuple[str, str]] = field(default_factory=set)


# discovery per cluster object: kubectl caches discovery too, and audits call kubectl in loops
_DISCOVERY: weakref.WeakKeyDictionary[Any, _Catalog] = weakref.WeakKeyDictionary()


def _api_resource(group: str, version: str, r: Any) -> APIResource | None:
    if not isinstance(r, dict):
        return None
    name = str(r.get("name", ""))
    if not name or "/" in name:
        return None
    return APIResource(
        group=group,
        version=version,
        name=name,
        kind=str(r.get("kind", "")),
        namespaced=bool(r.get("namespaced")),
        singular=str(r.get("singularName") or ""),
        short_names=tuple(str(x) for x in r.get("shortNames") or ()),
        categories=tuple(str(x) for x in r.get("categories") or ()),
        verbs=tuple(str(x) for x in r.get("verbs") or ()),
    )


class Discovery:
    """The API resources a cluster serves, in kubectl's resolution order (legacy discovery)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._catalog: _Catalog | None = None

    def _doc(self, path: str) -> tuple[int, Any]:
        status, body = self.cluster.get(path)
        if status != 200:
            return status, None
        try:
            doc = json.loads(body)
        except ValueError:
            raise HostError(f"cluster: discovery {path}: invalid JSON") from None
        if not isinstance(doc, dict):
            raise HostError(f"cluster: discovery {path}: not an object")
        return status, doc

    def _json(self, path: str) -> Any:
        status, doc = self._doc(path)
        if doc is None:
            raise NotNative(f"kubectl's error output when discovery fails ({path}: HTTP {status})")
        return doc

    def catalog(self) -> _Catalog:
        """Every group version's resources as discovery answered (failed group versions: their HTTP status).

        /api or /apis failing raises NotNative (kubectl's output then is not reproduced).
        """
        if self._catalog is not None:
            return self._catalog
        with contextlib.suppress(TypeError):  # TypeError: not weakly referenceable, no cache
            self._catalog = _DISCOVERY.get(self.cluster)
        if self._catalog is not None:
            return self._catalog
        groups: list[tuple[str, list[str], str]] = []
        core = [str(v) for v in self._json("/api").get("versions") or []]
        if core:
            groups.append(("", core, core[0]))
        for g in self._json("/apis").get("groups") or []:
            if not isinstance(g, dict):
                continue
            versions = [str(v.get("version")) for v in g.get("versions") or [] if isinstance(v, dict)]
            pref = (g.get("preferredVersion") or {}).get("version")
            if versions:
                groups.append((str(g.get("name")), versions, str(pref) if pref else ""))
        lists: dict[tuple[str, str], list[APIResource] | int] = {}
        empty: set[tuple[str, str]] = set()
        for group, versions, _ in groups:
            for version in versions:
                path = f"/apis/{group}/{version}" if group else f"/api/{version}"
                status, doc = self._doc(path)
                if doc is None:
                    lists[(group, version)] = status
                    continue
                raw = doc.get("resources") or []
                if not raw:
                    empty.add((group, version))
                rs = [_api_resource(group, version, r) for r in raw]
                lists[(group, version)] = [r for r in rs if r is not None]
        self._catalog = _Catalog(groups, lists, empty)
        with contextlib.suppress(TypeError):
            _DISCOVERY[self.cluster] = self._catalog
        return self._catalog

    def resources(self) -> list[APIResource]:
        """All resources, each group's preferred version first (a failed group version raises NotNative)."""
        cat = self.catalog()
        out: list[APIResource] = []
        for group, versions, pref in cat.groups:
            ordered = ([pref] if pref in versions else []) + [v for v in versions if v != pref]
            for v in ordered:
                got = cat.lists[(group, v)]
                if isinstance(got, int):
                    path = f"/apis/{group}/{v}" if group else f"/api/{v}"
                    raise NotNative(f"kubectl's error output when discovery fails ({path}: HTTP {got})")
                out.extend(got)
        return out

    def preferred(self) -> tuple[list[APIResource], list[tuple[str, int]]]:
        """client-go's ServerPreferredResources: each group/resource once, from the group's preferred version or
        else the first version listing it; and the group versions whose discovery failed (``group/version``, with
        the HTTP status, or 0 for an empty resource list)."""
        cat = self.catalog()
        chosen: dict[tuple[str, str], APIResource] = {}
        failed: list[tuple[str, int]] = []
        for group, versions, pref in cat.groups:
            for v in versions:
                got = cat.lists[(group, v)]
                gv = f"{group}/{v}" if group else v
                if isinstance(got, int):
                    failed.append((gv, got))
                    continue
                if (group, v) in cat.empty:
                    failed.append((gv, 0))
                    continue
                for r in got:
                    if (group, r.name) in chosen and v != pref:
                        continue
                    chosen[(group, r.name)] = r
        return list(chosen.values()), failed

    def resolve(self, arg: str) -> APIResource | None:
        """kubectl's RESTMapper for one resource argument (``name``, ``name.group`` or ``name.version.group``)."""
        arg = arg.lower()
        res = self.resources()
        cands: list[tuple[str, str | None, str | None]] = [(arg, None, None)]
        if "." in arg:
            n, _, rest = arg.partition(".")
            if "." in rest:
                v, _, g = rest.partition(".")
                cands.insert(0, (n, v, g))
            cands.insert(1 if len(cands) > 1 else 0, (n, None, rest))
        for name, version, group in cands:
            for how in range(3):
                for r in res:
                    if group is not None and r.group != group:
                        continue
                    if version is not None and r.version != version:
                        continue
                    if how == 0 and r.name == name:
                        return r
                    if how == 1 and (r.singular == name or (not r.singular and r.kind.lower() == name)):
                        return r
                    if how == 2 and name in r.short_names:
                        return r
        return None

    def category(self, name: str) -> list[APIResource]:
        """Resources in a category (``all``), first version of each group/resource only."""
        seen: set[tuple[str, str]] = set()
        out: list[APIResource] = []
        for r in self.resources():
            if name in r.categories and (r.group, r.name) not in seen:
                seen.add((r.group, r.name))
                out.append(r)
        return out


