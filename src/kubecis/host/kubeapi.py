"""The one transport to a Kubernetes API server, built on the official ``kubernetes`` client library.

Both users of the Kubernetes API go through :class:`KubeTransport`: the native ``kubectl``/``oc`` of
node audits (:class:`kubecis.host.cluster.LiveCluster`) and the cluster commands
(:mod:`kubecis.cluster.api`). Configuration is found the way kubectl finds it and loaded by the
library (``kubernetes.config``: kubeconfig merging, client certificates, tokens, exec credential
plugins, in-cluster service accounts); requests go through the library's ``ApiClient`` (urllib3, TLS,
proxies, ``tls-server-name``) and return the raw status and body bytes (``_preload_content=False``
semantics), so answers reach kubectl's formatters untouched.

The library costs about half a second to import, so it is imported only when a request is made:
``kubecis run`` on a node imports it only when an audit talks to a configured cluster. With no
configuration at all (kubectl's ``http://localhost:8080`` default) a refused TCP connection is
reported without loading the library.
"""

from __future__ import annotations

import contextlib
import os
import socket
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml

from kubecis.errors import HostError
from kubecis.host.apibase import DEFAULT_SERVER, ClusterUnreachable, NeedsPlugin, TransportError
from kubecis.records import dataclass

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TIMEOUT = 32.0


@dataclass(frozen=True, slots=True)
class Source:
    """Where the configuration came from: ``kubeconfig`` (with the files and context), ``in-cluster`` or
    ``default`` (kubectl with no configuration: http://localhost:8080)."""

    kind: str
    server: str
    namespace: str = "default"
    context: str = ""
    files: tuple[str, ...] = ()
    uses_plugin: bool = False


def _read_yaml(path: str) -> Any:
    """A kubeconfig, read within the YAML bounds (size, aliases, nesting) before the library reads it again."""
    from kubecis.yamllimits import read_file, safe_load

    try:
        return safe_load(read_file(path).decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, yaml.YAMLError, ValueError) as exc:  # ValueError: not UTF-8, over a YAML bound
        raise HostError(f"kubeconfig {path}: {_one_line(str(exc))}") from None


def _named(items: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for it in items if isinstance(items, list) else []:
        if isinstance(it, dict) and isinstance(it.get("name"), str):
            out.setdefault(it["name"], it)
    return out


def kubeconfig_paths(env: Mapping[str, str], explicit: str | None = None) -> list[str]:
    """kubectl's search: ``--kubeconfig`` (one file, which must exist), else ``$KUBECONFIG`` (a list), else
    ``~/.kube/config``."""
    if explicit:
        if not os.path.isfile(explicit):
            raise HostError(f"--kubeconfig {explicit}: no such file")
        return [explicit]
    kc = env.get("KUBECONFIG")
    if kc:
        return [p for p in kc.split(os.pathsep) if p]
    home = env.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")]


def resolve(env: Mapping[str, str], *, kubeconfig: str | None = None, context: str | None = None,
            in_cluster: bool = True, default: bool = True) -> Source:
    """Which configuration kubectl would use (files are merged the way client-go merges them: the first
    file that names a current-context, cluster, user or context wins). Nothing is connected to."""
    paths = kubeconfig_paths(env, kubeconfig)
    docs = [(p, d) for p in paths if isinstance(d := _read_yaml(p), dict)]
    current = context or next((str(d["current-context"]) for _, d in docs
                               if isinstance(d.get("current-context"), str) and d["current-context"]), "")
    if current:
        contexts: dict[str, dict[str, Any]] = {}
        clusters: dict[str, dict[str, Any]] = {}
        users: dict[str, dict[str, Any]] = {}
        for _, d in docs:
            for table, key in ((contexts, "contexts"), (clusters, "clusters"), (users, "users")):
                for name, item in _named(d.get(key)).items():
                    table.setdefault(name, item)
        ctx = contexts.get(current)
        if ctx is None:
            where = ", ".join(p for p, _ in docs) or ", ".join(paths)
            raise HostError(f"kubeconfig: context {current!r} not found in {where}")
        c = ctx.get("context") or {}
        cl = (clusters.get(str(c.get("cluster", ""))) or {}).get("cluster") or {}
        us = (users.get(str(c.get("user", ""))) or {}).get("user") or {}
        if cl.get("server"):
            return Source("kubeconfig", str(cl["server"]), str(c.get("namespace") or "default"), current,
                          tuple(p for p, _ in docs), bool(us.get("exec") or us.get("auth-provider")))
        if context:
            raise HostError(f"kubeconfig: context {current!r} names no cluster server")
    if in_cluster:
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
        if host and port and os.path.exists(os.path.join(SA_DIR, "token")):
            ns = env.get("POD_NAMESPACE", "")
            if not ns:
                with contextlib.suppress(OSError), open(os.path.join(SA_DIR, "namespace"), encoding="utf-8") as f:
                    ns = f.read().strip()
            h = f"[{host}]" if ":" in host else host
            return Source("in-cluster", f"https://{h}:{port}", ns or "default")
    if default:
        return Source("default", DEFAULT_SERVER)
    raise HostError("no Kubernetes configuration: no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and "
                    "not running in a pod")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@contextlib.contextmanager
def _captured_library_errors() -> Iterator[list[str]]:
    """The library logs (rather than raises) credential plugin failures: collect them."""
    import logging  # the library is loaded by now; kubectl with no configuration never gets here

    got: list[str] = []

    class _H(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            got.append(record.getMessage())

    root = logging.getLogger()
    h = _H(logging.ERROR)
    root.addHandler(h)
    try:
        yield got
    finally:
        root.removeHandler(h)


class KubeTransport:
    """Raw requests to one API server, configured like kubectl (lazily: nothing is read before the first use).

    ``allow_plugins``: may a kubeconfig credential plugin (``users[].user.exec``) run? The native kubectl of
    a node audit says no (the native executor starts no process); the cluster commands say yes.
    """

    def __init__(self, env: Mapping[str, str] | None = None, *, kubeconfig: str | None = None,
                 context: str | None = None, allow_plugins: bool = False, in_cluster: bool = True,
                 default: bool = True, user_agent: str = "kubecis", timeout: float = TIMEOUT) -> None:
        self._env = dict(env if env is not None else os.environ)
        self._kubeconfig = kubeconfig
        self._context = context
        self._allow_plugins = allow_plugins
        self._in_cluster = in_cluster
        self._default = default
        self._user_agent = user_agent
        self.timeout = timeout
        self._source: Source | None = None
        self._client: Any = None

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = resolve(self._env, kubeconfig=self._kubeconfig, context=self._context,
                                   in_cluster=self._in_cluster, default=self._default)
        return self._source

    @property
    def namespace(self) -> str:
        return self.source.namespace

    @property
    def server(self) -> str:
        return self.source.server

    def _api_client(self) -> Any:
        if self._client is not None:
            return self._client
        src = self.source
        if src.uses_plugin and not self._allow_plugins:
            raise NeedsPlugin("kubeconfig credential plugin (exec/auth-provider)")
        from kubernetes.client import ApiClient, Configuration
        from kubernetes.config.config_exception import ConfigException

        cfg = Configuration()
        cfg.retries = False  # one attempt, like kubectl for a refused connection
        try:
            if src.kind == "kubeconfig":
                from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

                merged = KubeConfigMerger(os.pathsep.join(src.files))
                with _captured_library_errors() as errors:
                    loader = KubeConfigLoader(config_dict=merged.config, active_context=src.context,
                                              config_base_path=None)
                    loader.load_and_set(cfg)
                if errors and src.uses_plugin and not cfg.api_key and not cfg.cert_file:
                    raise HostError(f"kubeconfig credential plugin failed: {_one_line(errors[-1])}")
            elif src.kind == "in-cluster":
                from kubernetes.config.incluster_config import InClusterConfigLoader

                InClusterConfigLoader(os.path.join(SA_DIR, "token"), os.path.join(SA_DIR, "ca.crt"),
                                      environ=self._env).load_and_set(cfg)
            else:
                cfg.host = src.server
        except ConfigException as exc:
            raise HostError(f"kubeconfig: {_one_line(str(exc))}") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HostError(f"kubeconfig: cannot load the configuration: {_one_line(str(exc))}") from None
        _trim_tokens(cfg)
        if not cfg.verify_ssl:  # insecure-skip-tls-verify: the user chose it; urllib3 would warn per request
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        client = ApiClient(cfg)
        client.user_agent = self._user_agent
        self._client = client
        return client

    def _refused_without_library(self) -> None:
        """kubectl's no-configuration default: a refused connection needs no client library."""
        u = urllib.parse.urlsplit(self.source.server)
        try:
            with socket.create_connection((u.hostname or "localhost", u.port or 80), timeout=2):
                return
        except ConnectionRefusedError:
            raise ClusterUnreachable(u.netloc, self.source.server) from None
        except OSError:
            return  # let the library report it

    def request(self, method: str, path: str, *, query: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
                body: bytes | None = None, headers: Mapping[str, str] | None = None,
                timeout: float | None = None) -> tuple[int, bytes]:
        """One request; returns ``(status, body)`` for every HTTP answer (4xx/5xx included).

        Raises :class:`ClusterUnreachable` when the connection is refused, :class:`TransportError` for any
        other failure to get an answer, :class:`~kubecis.errors.HostError` for a bad configuration."""
        if self._client is None and self.source.kind == "default":
            self._refused_without_library()
        client = self._api_client()
        import urllib3

        items = list(query.items()) if isinstance(query, Mapping) else list(query or ())
        url = client.configuration.host.rstrip("/") + path
        if items:
            url += "?" + urllib.parse.urlencode(items)
        h: dict[str, str] = {"Accept": "application/json"}
        h.update(headers or {})
        h["User-Agent"] = self._user_agent
        client.update_params_for_auth(h, None, ["BearerToken"], path, method, body)
        try:
            resp = client.rest_client.pool_manager.request(
                method, url, body=body, headers=h, preload_content=True, retries=False,
                timeout=urllib3.Timeout(total=timeout or self.timeout))
        except ValueError as exc:  # e.g. a token with a control character: never sent
            raise TransportError(f"cannot send the request to {client.configuration.host}: {_one_line(str(exc))}") \
                from None
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            u = urllib.parse.urlsplit(url)
            if isinstance(reason, urllib3.exceptions.NewConnectionError) and "refused" in str(reason).lower():
                raise ClusterUnreachable(u.netloc, client.configuration.host) from None
            raise TransportError(f"cannot reach the API server {client.configuration.host}: "
                                 f"{_describe(reason)}") from None
        return int(resp.status), bytes(resp.data)

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None


def _trim_tokens(cfg: Any) -> None:
    """client-go trims a token file's surrounding white space (the library sends its final newline)."""
    inner = cfg.refresh_api_key_hook

    def hook(c: Any) -> None:
        if inner is not None:
            inner(c)
        for k, v in list(c.api_key.items()):
            if isinstance(v, str):
                c.api_key[k] = v.strip()

    hook(cfg)
    cfg.refresh_api_key_hook = hook


def _describe(exc: object) -> str:
    text = _one_line(str(exc))
    for marker in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"):
        if marker in text:
            return "TLS certificate verification failed"
    if "timed out" in text.lower():
        return "timed out"
    # urllib3 wraps: "<urllib3.connection.HTTPSConnection object at 0x..>: Failed to establish ...: [Errno 111] ..."
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    return text
