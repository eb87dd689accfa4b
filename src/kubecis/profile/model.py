"""The runtime profile document: one reviewable YAML file with a version, how it was learned, the
generalisation rules used, and three sections: files, network, seccomp.

Pure logic plus bounded reading; the seccomp section is the OCI profile :mod:`kubecis.seccomp` uses.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from kubecis.profile import paths
from kubecis.profile.errors import ProfileError
from kubecis.profile.paths import PathRule
from kubecis.seccomp import profile as seccomp_profile
from kubecis.seccomp.errors import SeccompError

VERSION = 1
KIND_KEY = "kubecis-profile"
FILE_ACCESS = ("read", "write", "create", "execute")
FILE_ACCESS_HELP = {
    "read": "open for reading, list a directory",
    "write": "open for writing, truncate",
    "create": "create, remove or rename entries (files, directories, sockets, links)",
    "execute": "execute a program",
}
NET_SECTIONS = {"tcp": ("connect", "bind"), "udp": ("send", "bind"), "unix": ("connect", "bind")}
SOCKET_FAMILIES = ("unix", "inet", "inet6", "netlink", "packet", "other")
SOCKET_TYPES = ("stream", "dgram", "raw", "seqpacket", "other")

MAX_PROFILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 16
MAX_ENTRIES = 100_000

_TOP_KEYS = {KIND_KEY, "learned", "generalisation", "files", "network", "seccomp"}
_RUN_KEYS = {"command", "started", "seconds", "ended", "tracer"}
_ABSTRACT = re.compile(r"^@[\x20-\x7e]{0,107}$")


@dataclass(frozen=True)
class Run:
    """How one learning run went."""

    command: tuple[str, ...]
    started: str
    seconds: float
    ended: str
    tracer: str

    def to_dict(self) -> dict[str, Any]:
        return {"command": list(self.command), "started": self.started, "seconds": round(self.seconds, 3),
                "ended": self.ended, "tracer": self.tracer}


@dataclass(frozen=True)
class Endpoint:
    """``ADDR:PORT`` (``*`` = any address) for tcp/udp; a socket path or ``@abstract`` name for unix."""

    text: str
    address: str = ""  # tcp/udp: normalised address or '*'
    port: int = -1
    path: str = ""  # unix

    def covers(self, other: Endpoint) -> bool:
        if self.path or other.path:
            return self.path == other.path
        return self.port == other.port and self.address in ("*", other.address)


def endpoint(text: object, proto: str, *, where: str) -> Endpoint:
    if not isinstance(text, str) or not text:
        raise ProfileError(f"{where}: must be a non-empty string, got {text!r}")
    if proto == "unix":
        if text.startswith("@"):
            if not _ABSTRACT.match(text):
                raise ProfileError(f"{where}: abstract socket {text!r} cannot be represented "
                                   "(printable ASCII, at most 107 characters)")
            return Endpoint(text, path=text)
        rule = paths.parse_rule(text, where=where)
        if rule.kind != paths.FILE:
            raise ProfileError(f"{where}: a unix socket must be one path or @name, got {text!r}")
        return Endpoint(rule.text, path=rule.text)
    host, sep, port_s = text.rpartition(":")
    if not sep or not port_s.isdigit() or not 0 <= int(port_s) <= 65535:
        raise ProfileError(f"{where}: {text!r} is not ADDRESS:PORT (port 0-65535)")
    port = int(port_s)
    if host == "*":
        return Endpoint(f"*:{port}", "*", port)
    v6 = host.startswith("[") and host.endswith("]")
    try:
        addr = ipaddress.ip_address(host[1:-1] if v6 else host)
    except ValueError:
        raise ProfileError(f"{where}: {host!r} is not an IP address or '*' (names are not resolved)") from None
    if (addr.version == 6) != v6:
        raise ProfileError(f"{where}: write IPv6 addresses in brackets, e.g. [::1]:{port}")
    canon = f"[{addr.compressed}]:{port}" if v6 else f"{addr.compressed}:{port}"
    return Endpoint(canon, addr.compressed, port)


def endpoint_of(proto: str, address: str, port: int) -> Endpoint:
    """An endpoint from observed parts (raises if unrepresentable)."""
    host = f"[{address}]" if ":" in address else address
    return endpoint(f"{host}:{port}", proto, where="observed")


@dataclass(frozen=True)
class Network:
    tcp_connect: tuple[Endpoint, ...] = ()
    tcp_bind: tuple[Endpoint, ...] = ()
    udp_send: tuple[Endpoint, ...] = ()
    udp_bind: tuple[Endpoint, ...] = ()
    unix_connect: tuple[Endpoint, ...] = ()
    unix_bind: tuple[Endpoint, ...] = ()
    sockets: tuple[str, ...] = ()  # "family/type" created with socket()

    def get(self, proto: str, op: str) -> tuple[Endpoint, ...]:
        value: tuple[Endpoint, ...] = getattr(self, f"{proto}_{op}")
        return value

    def allows(self, proto: str, op: str, ep: Endpoint) -> bool:
        return any(e.covers(ep) for e in self.get(proto, op))


@dataclass(frozen=True)
class Files:
    read: tuple[PathRule, ...] = ()
    write: tuple[PathRule, ...] = ()
    create: tuple[PathRule, ...] = ()
    execute: tuple[PathRule, ...] = ()

    def get(self, access: str) -> tuple[PathRule, ...]:
        value: tuple[PathRule, ...] = getattr(self, access)
        return value

    def allows(self, access: str, path: str) -> bool:
        return any(r.covers(path) for r in self.get(access))


@dataclass(frozen=True)
class RuntimeProfile:
    seccomp: seccomp_profile.Profile
    files: Files = field(default_factory=Files)
    network: Network = field(default_factory=Network)
    learned: tuple[Run, ...] = ()
    generalisation: tuple[str, ...] = ()

    # ---- serialisation ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        net: dict[str, Any] = {"sockets": list(self.network.sockets)}
        for proto, ops in NET_SECTIONS.items():
            net[proto] = {op: [e.text for e in self.network.get(proto, op)] for op in ops}
        return {
            KIND_KEY: VERSION,
            "learned": [r.to_dict() for r in self.learned],
            "generalisation": list(self.generalisation),
            "files": {a: [r.text for r in self.files.get(a)] for a in FILE_ACCESS},
            "network": net,
            "seccomp": self.seccomp.to_dict(),
        }

    def to_yaml(self) -> str:
        head = ("# kubecis runtime profile: what the command was seen doing (kubecis profile learn).\n"
                "# Review: kubecis profile show FILE   Enforce: kubecis profile run --mode enforce -p FILE -- CMD\n")
        return head + yaml.safe_dump(self.to_dict(), sort_keys=False, width=4096, allow_unicode=False)


# ---- merge -------------------------------------------------------------------------------------------


def _union_eps(a: Iterable[Endpoint], b: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
    allv = {e.text: e for e in [*a, *b]}
    kept = [e for e in allv.values() if not any(o is not e and o.covers(e) and o.text != e.text
                                                 for o in allv.values())]
    return tuple(sorted(kept, key=lambda e: e.text))


def merge(a: RuntimeProfile, b: RuntimeProfile) -> RuntimeProfile:
    """Union of two profiles (runs, files, network, syscalls)."""
    try:
        sec = seccomp_profile.merge(a.seccomp, b.seccomp)
    except SeccompError as e:
        raise ProfileError(f"cannot merge the seccomp sections: {e}") from None
    files = Files(**{acc: paths.simplify([*a.files.get(acc), *b.files.get(acc)]) for acc in FILE_ACCESS})
    net_kw: dict[str, Any] = {f"{p}_{op}": _union_eps(a.network.get(p, op), b.network.get(p, op))
                              for p, ops in NET_SECTIONS.items() for op in ops}
    net_kw["sockets"] = tuple(sorted(set(a.network.sockets) | set(b.network.sockets)))
    gen = tuple(dict.fromkeys([*a.generalisation, *b.generalisation]))
    return RuntimeProfile(sec, files, Network(**net_kw), (*a.learned, *b.learned), gen)


# ---- parsing -------------------------------------------------------------------------------------------


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProfileError(f"{where}.{key}: must be a list")
    return value


def _map(value: object, where: str, allowed: Iterable[str]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ProfileError(f"{where}: must be a mapping")
    bad = sorted(str(k) for k in value if k not in set(allowed))
    if bad:
        raise ProfileError(f"{where}: unknown field {bad[0]!r}")
    return value


def _socket_kind(value: object, where: str) -> str:
    if not isinstance(value, str) or value.count("/") != 1:
        raise ProfileError(f"{where}: must be FAMILY/TYPE (e.g. inet/stream), got {value!r}")
    fam, typ = value.split("/")
    if fam not in SOCKET_FAMILIES or typ not in SOCKET_TYPES:
        raise ProfileError(f"{where}: unknown socket kind {value!r} (families: {', '.join(SOCKET_FAMILIES)}; "
                           f"types: {', '.join(SOCKET_TYPES)})")
    return value


def _run(value: object, where: str) -> Run:
    d = _map(value, where, _RUN_KEYS)
    cmd = d.get("command", [])
    if not isinstance(cmd, list) or not all(isinstance(c, str) for c in cmd):
        raise ProfileError(f"{where}.command: must be a list of strings")
    seconds = d.get("seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ProfileError(f"{where}.seconds: must be a number")
    texts = {k: d.get(k, "") for k in ("started", "ended", "tracer")}
    for k, v in texts.items():
        if not isinstance(v, str):
            raise ProfileError(f"{where}.{k}: must be a string")
    return Run(tuple(cmd), texts["started"], float(seconds), texts["ended"], texts["tracer"])


def parse(data: object, *, source: str) -> RuntimeProfile:
    """Validate the document and build the profile; every error names ``source`` and the field."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{source}: a runtime profile must be a YAML mapping")
    bad = sorted(str(k) for k in data if k not in _TOP_KEYS)
    if bad:
        raise ProfileError(f"{source}: unknown field {bad[0]!r}")
    version = data.get(KIND_KEY)
    if version is None:
        raise ProfileError(f"{source}: not a kubecis runtime profile (no '{KIND_KEY}: {VERSION}' line)")
    if version != VERSION or isinstance(version, bool):
        raise ProfileError(f"{source}: unsupported {KIND_KEY} version {version!r} (this kubecis reads {VERSION})")
    learned = tuple(_run(r, f"{source}: learned[{i}]") for i, r in enumerate(_list(data, "learned", source)))
    gen = _list(data, "generalisation", source)
    if not all(isinstance(g, str) for g in gen):
        raise ProfileError(f"{source}: generalisation: must be a list of strings")
    fdata = _map(data.get("files"), f"{source}: files", FILE_ACCESS)
    files = Files(**{
        acc: paths.simplify(paths.rules_from(_list(fdata, acc, f"{source}: files"), where=f"{source}: files.{acc}"))
        for acc in FILE_ACCESS
    })
    ndata = _map(data.get("network"), f"{source}: network", ["sockets", *NET_SECTIONS])
    net_kw: dict[str, Any] = {}
    for proto, ops in NET_SECTIONS.items():
        pdata = _map(ndata.get(proto), f"{source}: network.{proto}", ops)
        for op in ops:
            where = f"{source}: network.{proto}.{op}"
            eps = [endpoint(t, proto, where=f"{where}[{i}]") for i, t in enumerate(_list(pdata, op, where))]
            net_kw[f"{proto}_{op}"] = _union_eps(eps, [])
    net_kw["sockets"] = tuple(sorted({_socket_kind(s, f"{source}: network.sockets[{i}]")
                                      for i, s in enumerate(_list(ndata, "sockets", f"{source}: network"))}))
    if "seccomp" not in data:
        raise ProfileError(f"{source}: missing required section 'seccomp'")
    try:
        sec = seccomp_profile.parse(data["seccomp"], source=f"{source}: seccomp")
    except SeccompError as e:
        raise ProfileError(str(e)) from None
    return RuntimeProfile(sec, files, Network(**net_kw), learned, tuple(gen))


class _Bounded(yaml.SafeLoader):
    pass


def _check_events(text: str, source: str) -> None:
    """No anchors/aliases (no bombs), bounded depth and size, before anything is constructed."""
    depth = entries = 0
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for ev in yaml.parse(text, Loader=loader):
        if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
            line = ev.start_mark.line + 1 if ev.start_mark else "?"
            raise ProfileError(f"{source}:{line}: anchors and aliases are not allowed in a profile")
        if isinstance(ev, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = ev.start_mark.line + 1 if ev.start_mark else "?"
                raise ProfileError(f"{source}:{line}: nested deeper than {MAX_DEPTH} levels")
        elif isinstance(ev, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(ev, yaml.ScalarEvent):
            entries += 1
            if entries > MAX_ENTRIES:
                raise ProfileError(f"{source}: more than {MAX_ENTRIES} entries")


def loads(text: str, *, source: str) -> RuntimeProfile:
    if len(text) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{source}: too large for a profile ({len(text)} bytes, limit {MAX_PROFILE_BYTES})")
    try:
        _check_events(text, source)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, bounded above
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ProfileError(f"{where}: not valid YAML: {e.problem or e.context}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        raise ProfileError(f"{source}: not valid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
                           ) from None
    return parse(data, source=source)


def load(path: str | os.PathLike[str]) -> RuntimeProfile:
    """Read a profile file: one clear error if unreadable, malformed, or a rule cannot be represented."""
    p = Path(path)
    try:
        text = seccomp_profile.read_bounded(p, MAX_PROFILE_BYTES)
    except FileNotFoundError:
        raise ProfileError(f"{p}: no such profile file") from None
    except IsADirectoryError:
        raise ProfileError(f"{p}: is a directory, not a profile file") from None
    except PermissionError:
        raise ProfileError(f"{p}: cannot read profile: permission denied") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{p}: not a profile: not UTF-8 text") from None
    except SeccompError as e:
        raise ProfileError(str(e)) from None
    except OSError as e:
        raise ProfileError(f"{p}: cannot read profile: {e.strerror or e}") from None
    return loads(text, source=str(p))


def with_runs(profile: RuntimeProfile, runs: Iterable[Run]) -> RuntimeProfile:
    return replace(profile, learned=tuple(runs))
