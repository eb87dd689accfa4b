"""kube-bench's ``cfg/config.yaml``: node-type sections, version and target mappings.

The global file is merged with ``cfg/<benchmark>/config.yaml`` the way viper does:
maps merge deeply, a list or scalar in the override replaces the global value,
keys are case-insensitive (lower-cased).
"""

from __future__ import annotations

import functools
from dataclasses import field
from pathlib import Path
from typing import Any

from kubecis.benchmark.loader import read_text
from kubecis.benchmark.yamlraw import compose, parse_bool, to_plain
from kubecis.errors import BenchmarkError, ConfigError, LoadError
from kubecis.records import dataclass
from kubecis.yamllimits import YamlLimitError

TARGETS = ("master", "controlplane", "etcd", "node", "policies", "managedservices")
# kube-bench's file kinds, then kubecis's (files only a running component's flag names: docs/config-checks.md)
FILE_KINDS = ("conf", "svc", "kubeconfig", "cafile", "datadir", "encryptionconfig", "admissionconfig", "auditpolicy")
# config key holding the candidate list for each kind, and the key of its default
_KIND_KEYS = {
    "conf": ("confs", "defaultconf"),
    "svc": ("svc", "defaultsvc"),
    "kubeconfig": ("kubeconfig", "defaultkubeconfig"),
    "cafile": ("cafile", "defaultcafile"),
    "datadir": ("datadirs", "defaultdatadir"),
    "encryptionconfig": ("encryptionconfigs", "defaultencryptionconfig"),
    "admissionconfig": ("admissionconfigs", "defaultadmissionconfig"),
    "auditpolicy": ("auditpolicies", "defaultauditpolicy"),
}


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    bins: tuple[str, ...] = ()
    optional: bool = False
    candidates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind → candidate paths
    defaults: dict[str, str] = field(default_factory=dict)  # kind → default path


@dataclass(frozen=True, slots=True)
class NodeSection:
    """One node-type section (``master:``, ``node:`` ...): its components in order."""

    name: str
    components: tuple[Component, ...]


def _lower_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_lower_keys(v) for v in data]
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def read_config_file(path: Path) -> dict[str, Any]:
    """A config.yaml as plain data with lower-cased keys (every scalar a string); cached by mtime and size.

    The result is shared between callers: treat it as read-only (``deep_merge`` builds new dicts).
    """
    try:
        st = path.stat()
    except OSError:
        return _read_config_file(path)
    return _read_config_cached(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _read_config_cached(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    return _read_config_file(Path(path))


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = read_text(path)
    except LoadError as e:
        raise ConfigError(str(e)) from None
    try:
        doc = compose(text, str(path))
    except LoadError as e:
        raise ConfigError(str(e)) from None
    try:
        data = to_plain(doc.root)
    except YamlLimitError as e:
        raise ConfigError(str(LoadError(str(path), f"YAML refused: {e.message}", e.line))) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping at the top of the config file")
    merged: dict[str, Any] = _lower_keys(data)
    return merged


@dataclass(slots=True)
class Config:
    """The global config, optionally merged with one benchmark's own config."""

    config_dir: Path
    data: dict[str, Any]
    benchmark_merged: str = ""

    @classmethod
    def load(cls, config_dir: Path, config_file: Path | None = None) -> Config:
        if not config_dir.exists():
            raise ConfigError(f"config directory {config_dir} does not exist")
        if not config_dir.is_dir():
            raise ConfigError(f"config directory {config_dir} is not a directory")
        path = config_file or config_dir / "config.yaml"
        if config_file is None and not path.exists():
            alt = config_dir / "config.yml"
            path = alt if alt.exists() else path
        if not path.exists():
            if config_file is not None:
                raise ConfigError(f"config file {config_file}: no such file")
            raise ConfigError(f"{path}: config file not found (is {config_dir} a kube-bench cfg directory?)")
        return cls(config_dir, read_config_file(path))

    def merged_with(self, benchmark: str) -> Config:
        """This config with ``<dir>/<benchmark>/config.yaml`` merged over it (if present)."""
        path = self.config_dir / benchmark / "config.yaml"
        if not path.is_file():
            return Config(self.config_dir, self.data, benchmark)
        return Config(self.config_dir, deep_merge(self.data, read_config_file(path)), benchmark)

    # ---- mappings ---------------------------------------------------------------------------------
    def version_mapping(self) -> dict[str, str]:
        vm = self.data.get("version_mapping")
        if not isinstance(vm, dict) or not vm:
            raise ConfigError("config file is missing 'version_mapping' section")
        return {str(k): str(v) for k, v in vm.items() if v is not None}

    def target_mapping(self) -> dict[str, list[str]]:
        tm = self.data.get("target_mapping")
        if not isinstance(tm, dict) or not tm:
            raise ConfigError("config file is missing 'target_mapping' section")
        out: dict[str, list[str]] = {}
        for k, v in tm.items():
            items = v if isinstance(v, list) else [v] if v is not None else []
            out[str(k)] = [str(x).lower() for x in items if x is not None]
        return out

    def targets_for(self, benchmark: str) -> list[str]:
        targets = self.target_mapping().get(benchmark)
        if not targets:
            raise BenchmarkError(f"No targets configured for {benchmark}")
        return targets

    def benchmarks(self) -> list[str]:
        """Benchmark directories under the config dir (those holding at least one controls file)."""
        out = []
        for d in sorted(self.config_dir.iterdir()):
            if d.is_dir() and any(p.suffix == ".yaml" and p.name != "config.yaml" for p in d.iterdir()):
                out.append(d.name)
        return out

    # ---- node-type sections -----------------------------------------------------------------------
    def section(self, node_type: str) -> NodeSection | None:
        raw = self.data.get(node_type)
        if not isinstance(raw, dict):
            return None
        names = raw.get("components") or []
        if not isinstance(names, list):
            names = []
        comps: list[Component] = []
        for name in names:
            name = str(name)
            sub = raw.get(name.lower())
            if not isinstance(sub, dict):
                continue
            bins = sub.get("bins") or []
            cands: dict[str, tuple[str, ...]] = {}
            defaults: dict[str, str] = {}
            for kind, (list_key, default_key) in _KIND_KEYS.items():
                lst = sub.get(list_key)
                if isinstance(lst, list):
                    cands[kind] = tuple(str(x) for x in lst if x is not None)
                elif isinstance(lst, str) and lst:
                    cands[kind] = (lst,)
                dv = sub.get(default_key)
                if isinstance(dv, str) and dv:
                    defaults[kind] = dv
            comps.append(
                Component(
                    name=name,
                    bins=tuple(str(b) for b in bins if b is not None) if isinstance(bins, list) else (),
                    optional=parse_bool(sub.get("optional"), False),
                    candidates=cands,
                    defaults=defaults,
                )
            )
        return NodeSection(node_type, tuple(comps))

    def get(self, key: str) -> Any:
        return self.data.get(key.lower())
