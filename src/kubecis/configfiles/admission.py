"""``AdmissionConfiguration`` (``--admission-control-config-file``) and the EventRateLimit plugin's configuration.

Semantics of ``k8s.io/apiserver/pkg/admission/config.go`` and ``plugin/pkg/admission/eventratelimit``:

* The file is ``apiserver.config.k8s.io/v1`` or ``apiserver.k8s.io/v1alpha1`` ``AdmissionConfiguration``: a list of
  ``plugins``, each with a ``name`` and either an inline ``configuration`` (an object with its own apiVersion and
  kind) or a ``path`` to a file holding it (relative paths are relative to the directory of the admission
  configuration file). A plugin's configuration is the **first** entry with its name; ``configuration`` wins over
  ``path``. (A file without apiVersion and kind is read only as one of two legacy formats, for ImagePolicyWebhook and
  PodNodeSelector: it configures no other plugin.)
* EventRateLimit's configuration is ``eventratelimit.admission.k8s.io/v1alpha1`` ``Configuration`` with a non-empty
  list of ``limits``, each of type ``Server``, ``Namespace``, ``User`` or ``SourceAndObject`` with positive ``qps``
  and ``burst`` (and a ``cacheSize`` that is not negative). The API server refuses to start with the plugin enabled
  and no valid configuration.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

from kubecis.configfiles import Malformed, get_int, get_list, get_str, kind_of

__all__ = ["AdmissionConfig", "Limit", "PluginConfig", "event_rate_limits", "parse", "plugin_path"]

ADMISSION_VERSIONS = ("apiserver.config.k8s.io/v1", "apiserver.k8s.io/v1alpha1")
EVENT_RATE_LIMIT_VERSION = "eventratelimit.admission.k8s.io/v1alpha1"
LIMIT_TYPES = ("Server", "Namespace", "User", "SourceAndObject")


@dataclass(frozen=True, slots=True)
class PluginConfig:
    index: int
    name: str
    path: str = ""
    configuration: Any = None  # the inline object, None when absent


@dataclass(frozen=True, slots=True)
class AdmissionConfig:
    plugins: tuple[PluginConfig, ...]
    legacy: bool = False  # a legacy ImagePolicyWebhook/PodNodeSelector file: configures nothing else

    def plugin(self, name: str) -> PluginConfig | None:
        """The entry the API server reads a plugin's configuration from: the first with that name."""
        return next((p for p in self.plugins if p.name == name), None)


def parse(doc: Any) -> AdmissionConfig:
    if isinstance(doc, dict) and not doc.get("apiVersion") and not doc.get("kind") and (
            "imagePolicy" in doc or "podNodeSelectorPluginConfig" in doc):
        return AdmissionConfig((), legacy=True)
    kind_of(doc, {"AdmissionConfiguration": ADMISSION_VERSIONS})
    plugins = []
    for i, raw in enumerate(get_list(doc, "plugins", "")):
        where = f"plugins[{i}]."
        if not isinstance(raw, dict):
            raise Malformed(f"plugins[{i}]: expected a mapping")
        conf = raw.get("configuration")
        if conf is not None and not isinstance(conf, dict):
            raise Malformed(f"{where}configuration: expected a mapping")
        plugins.append(PluginConfig(i, get_str(raw, "name", where), get_str(raw, "path", where), conf))
    return AdmissionConfig(tuple(plugins))


def plugin_path(path: str, admission_config_file: str) -> str:
    """``makeAbs``: a plugin's ``path`` relative to the admission configuration file's directory."""
    return path if posixpath.isabs(path) else posixpath.join(posixpath.dirname(admission_config_file), path)


@dataclass(frozen=True, slots=True)
class Limit:
    type: str
    qps: int
    burst: int
    cache_size: int | None = None

    def describe(self) -> str:
        cache = f" cacheSize={self.cache_size}" if self.cache_size is not None else ""
        return f"limit: type={self.type} qps={self.qps} burst={self.burst}{cache}"


def event_rate_limits(doc: Any) -> tuple[Limit, ...]:
    """Decode and validate an EventRateLimit ``Configuration``: its limits (at least one, or :class:`Malformed`)."""
    kind_of(doc, {"Configuration": (EVENT_RATE_LIMIT_VERSION,)})
    errors: list[str] = []
    raw = get_list(doc, "limits", "")
    if not raw:
        errors.append("limits: Invalid value: must not be empty")
    limits = []
    for i, item in enumerate(raw):
        where = f"limits[{i}]."
        if not isinstance(item, dict):
            raise Malformed(f"limits[{i}]: expected a mapping")
        kind = get_str(item, "type", where)
        qps = get_int(item, "qps", where) or 0
        burst = get_int(item, "burst", where) or 0
        cache = get_int(item, "cacheSize", where)
        if kind not in LIMIT_TYPES:
            errors.append(f"{where}type: Unsupported value: {json.dumps(kind)}: supported values: "
                          + ", ".join(f'"{t}"' for t in LIMIT_TYPES))
        if burst <= 0:
            errors.append(f"{where}burst: Invalid value: {burst}: must be positive")
        if qps <= 0:
            errors.append(f"{where}qps: Invalid value: {qps}: must be positive")
        if kind != "Server" and cache is not None and cache < 0:
            errors.append(f"{where}cacheSize: Invalid value: {cache}: must not be negative")
        limits.append(Limit(kind, qps, burst, cache))
    if errors:
        raise Malformed("; ".join(errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""))
    return tuple(limits)
