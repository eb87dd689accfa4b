"""``EncryptionConfiguration``: which provider the kube-apiserver writes a resource with.

Semantics of ``k8s.io/apiserver/pkg/server/options/encryptionconfig`` and the ``apiserver.config.k8s.io/v1``
validation (``validation_encryption.go``), Kubernetes 1.26 to 1.35:

* The file is decoded as ``apiserver.config.k8s.io/v1`` ``EncryptionConfiguration`` (the only version registered for
  it; the pre-1.13 ``kind: EncryptionConfig`` is refused). An empty file, another kind, a type error or a validation
  error make the API server refuse to start: :class:`~kubecis.configfiles.Malformed`.
* ``resources`` is an ordered list of entries, each with resource names and providers. A name is ``resource`` or
  ``resource.group`` (``secrets`` and ``secrets.`` are both core Secrets; ``deployments.apps``); from Kubernetes 1.27
  ``*.group`` means every resource of a group (``*.`` the core group) and ``*.*`` every resource. A resource is
  looked up exactly, then as ``*.<its group>``, then as ``*.*``; a wildcard that comes before a name it covers is a
  start-up error ("masked by earlier rule"), so in effect the first entry that covers the resource wins. Before 1.27
  wildcards did not exist: ``*.`` and ``*.*`` were names matching nothing.
* New objects are written with the **first** provider of the winning entry (later ones only read). No entry
  covering the resource, or ``identity`` first, means the resource is stored in plaintext.
* aescbc, aesgcm and secretbox need at least one key with a name and a secret; kms needs a name, a
  ``unix://`` endpoint and apiVersion v1 (the default; deprecated since 1.28, off by default since 1.29 behind the
  KMSv1 feature gate) or v2. Key material is never looked at beyond "present": it is redacted from snapshots, and
  the API server itself checks its encoding and length when it starts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from kubecis.configfiles import Malformed, get_int, get_list, get_map, get_str, get_str_list, kind_of

__all__ = ["EncryptionConfig", "Provider", "ResourceRule", "WriteProvider", "parse", "write_provider"]

API_VERSION = "apiserver.config.k8s.io/v1"
PROVIDER_KINDS = ("aescbc", "aesgcm", "secretbox", "kms", "identity")
KEYED = ("aescbc", "aesgcm", "secretbox")
ANY = ("*", "*")  # the *.* group/resource

_NON_REST = ("apiserveripinfo", "serviceipallocations", "servicenodeportallocations")
# Go's time.ParseDuration units; a kms timeout is a metav1.Duration
_DURATION = re.compile(r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|[-+]?0")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9}


@dataclass(frozen=True, slots=True)
class Provider:
    kind: str  # one of PROVIDER_KINDS
    keys: tuple[str, ...] = ()  # key names (aescbc, aesgcm, secretbox), in order: the first encrypts
    kms_name: str = ""
    kms_api_version: str = ""  # "v1" or "v2" (kms only, defaulted)
    endpoint: str = ""

    def describe(self) -> str:
        if self.kind in KEYED:
            n = len(self.keys)
            return f"{self.kind} ({n} key{'s' if n != 1 else ''}: {', '.join(self.keys)})"
        if self.kind == "kms":
            return f"kms {self.kms_api_version} (name {self.kms_name}, endpoint {self.endpoint})"
        return self.kind

    @property
    def encrypts(self) -> bool:
        return self.kind != "identity"


@dataclass(frozen=True, slots=True)
class ResourceRule:
    index: int  # position in ``resources`` (0-based, as the API server's error paths say)
    resources: tuple[str, ...]
    providers: tuple[Provider, ...]

    def describe(self) -> str:
        return f"resources[{self.index}] ({', '.join(self.resources)})"


@dataclass(frozen=True, slots=True)
class EncryptionConfig:
    rules: tuple[ResourceRule, ...]


@dataclass(frozen=True, slots=True)
class WriteProvider:
    """What new objects of one resource are written with."""

    rule: ResourceRule | None  # the entry that covers the resource (None: no entry does)
    matched: str  # the name in that entry that matched: "secrets", "*.", "*.*" ...
    provider: Provider  # its first provider; identity when no entry covers the resource

    @property
    def plaintext(self) -> bool:
        return not self.provider.encrypts


def parse_group_resource(name: str) -> tuple[str, str]:
    """``schema.ParseGroupResource``: ``(group, resource)`` split at the first dot."""
    resource, dot, group = name.partition(".")
    return (group, resource) if dot else ("", name)


def _yaml_name(group: str, resource: str) -> str:
    """``grYAMLString``: how the API server names a group/resource in its masking error."""
    if group == "" and resource == "*":
        return "*."
    return f"{resource}.{group}" if group else resource


def parse(doc: Any, *, wildcards: bool = True) -> EncryptionConfig:
    """Decode and validate as the API server does at start-up (``wildcards``: Kubernetes 1.27+ rules)."""
    kind_of(doc, {"EncryptionConfiguration": (API_VERSION,)})
    errors: list[str] = []
    entries = get_list(doc, "resources", "")
    if not entries:
        raise Malformed("resources: Required value: at least one resources is required")
    rules: list[ResourceRule] = []
    kms_names: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"resources[{i}]."
        if not isinstance(entry, dict):
            raise Malformed(f"resources[{i}]: expected a mapping")
        names = get_str_list(entry, "resources", where)
        if not names:
            errors.append(f"{where}resources: Required value: at least one resources is required")
        if wildcards:
            errors += _overlap(names, f"{where}resources")
            errors += _names(names, f"{where}resources")
        providers: list[Provider] = []
        raw = get_list(entry, "providers", where)
        if not raw:
            errors.append(f"{where}providers: Required value: at least one providers is required")
        for j, p in enumerate(raw):
            pwhere = f"{where}providers[{j}]"
            if not isinstance(p, dict):
                raise Malformed(f"{pwhere}: expected a mapping")
            set_kinds = [k for k in PROVIDER_KINDS if get_map(p, k, pwhere + ".") is not None]
            if not set_kinds:
                errors.append(f"{pwhere}: provider does not contain any of the expected providers: KMS, AESGCM, "
                              "AESCBC, Secretbox, Identity")
                continue
            if len(set_kinds) > 1:
                errors.append(f"{pwhere}: more than one provider specified in a single element, should split into "
                              f"different list elements ({', '.join(set_kinds)})")
                continue
            provider, errs = _provider(set_kinds[0], p[set_kinds[0]], f"{pwhere}.{set_kinds[0]}.", kms_names)
            errors += errs
            providers.append(provider)
        rules.append(ResourceRule(i, names, tuple(providers)))
    if errors:
        shown = "; ".join(errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else "")
        raise Malformed(shown)
    config = EncryptionConfig(tuple(rules))
    if wildcards:
        _masking(config)
    return config


def _provider(kind: str, body: dict[str, Any], where: str, kms_names: set[str]) -> tuple[Provider, list[str]]:
    errors: list[str] = []
    if kind in KEYED:
        keys: list[str] = []
        raw = get_list(body, "keys", where)
        if not raw:
            errors.append(f"{where}keys: Required value: at least one keys is required")
        for k, key in enumerate(raw):
            kwhere = f"{where}keys[{k}]."
            if not isinstance(key, dict):
                raise Malformed(f"{kwhere[:-1]}: expected a mapping")
            name = get_str(key, "name", kwhere)
            if not name:
                errors.append(f"{kwhere}name: Required value: name is a mandatory field for a key")
            if not get_str(key, "secret", kwhere):
                errors.append(f"{kwhere}secret: Required value: secret is a mandatory field for a key")
            keys.append(name)
        return Provider(kind, tuple(keys)), errors
    if kind == "kms":
        name = get_str(body, "name", where)
        api = get_str(body, "apiVersion", where) or "v1"  # SetDefaults_KMSConfiguration
        endpoint = get_str(body, "endpoint", where)
        cache = get_int(body, "cachesize", where)
        timeout = body.get("timeout")
        if not name:
            errors.append(f"{where}name: Required value: name is a mandatory field for a provider")
        if api not in ("v1", "v2"):
            errors.append(f"{where}apiVersion: Invalid value: {json.dumps(api)}: unsupported apiVersion apiVersion for "
                          "KMS provider, only v1 and v2 are supported")
        if api != "v1" and ":" in name:
            errors.append(f"{where}name: Invalid value: invalid KMS provider name {name}, must not contain ':'")
        if api != "v1" and name in kms_names:
            errors.append(f"{where}name: Invalid value: duplicate KMS provider name {name}, names must be unique")
        kms_names.add(name)
        if not endpoint:
            errors.append(f"{where}endpoint: Invalid value: endpoint is a mandatory field for a kms")
        elif not endpoint.lower().startswith("unix:"):  # url.Parse lower-cases the scheme
            scheme = endpoint.partition(":")[0].lower() if ":" in endpoint else ""
            errors.append(f"{where}endpoint: Invalid value: unsupported scheme {json.dumps(scheme)} for KMS provider, "
                          "only unix is supported")
        if api != "v1" and cache is not None:
            errors.append(f"{where}cachesize: Invalid value: cachesize is not supported in v2")
        if api == "v1" and cache == 0:
            errors.append(f"{where}cachesize: Invalid value: cachesize should be a positive value, or negative to "
                          "disable")
        if timeout is not None:
            if not isinstance(timeout, str) or not _DURATION.fullmatch(timeout):
                raise Malformed(f"{where}timeout: not a duration")
            if _duration_ns(timeout) <= 0:
                errors.append(f"{where}timeout: Invalid value: timeout should be a positive value")
        return Provider("kms", kms_name=name, kms_api_version=api, endpoint=endpoint), errors
    return Provider("identity"), errors


def _duration_ns(text: str) -> float:
    sign = -1 if text.startswith("-") else 1
    total = 0.0
    for num, unit in re.findall(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)", text):
        total += float(num) * _UNIT_NS[unit]
    return sign * total


def _overlap(names: tuple[str, ...], where: str) -> list[str]:
    """``validateResourceOverlap``: duplicates, and a wildcard beside a name it covers, in one entry."""
    if len(names) < 2:
        return []
    grs = [parse_group_resource(n) for n in names]
    duplicate = overlap = False
    for i, a in enumerate(grs):
        for j, b in enumerate(grs):
            if i == j:
                continue
            if a == b and not duplicate:
                duplicate = True
                continue
            if overlap:
                continue
            if a == ANY or (a[0] == b[0] and (a[1] == "*" or b[1] == "*")):
                overlap = True
    out = []
    if duplicate:
        out.append(f"{where}: Invalid value: the same resource cannot be specified multiple times")
    if overlap:
        out.append(f"{where}: Invalid value: using overlapping resources such as 'secrets' and '*.' in the same "
                   "resource list is not allowed as they will be masked")
    return out


def _names(names: tuple[str, ...], where: str) -> list[str]:
    """``validateResourceNames`` (Kubernetes 1.27+)."""
    out = []
    for j, name in enumerate(names):
        w = f"{where}[{j}]: Invalid value: {json.dumps(name)}: "
        group, resource = parse_group_resource(name)
        if name.lower() != name:
            out.append(w + "resource name should not contain capital letters")
        elif name == "*":
            out.append(w + "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources")
        elif name in _NON_REST:
            out.append(w + "resources which do not have REST API/s cannot be encrypted")
        elif group == "events.k8s.io":
            out.append(w + "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' "
                           "instead in the config file")
        elif group == "extensions":
            out.append(w + "'extensions' group has been removed and cannot be used for encryption")
        elif group == "*" and resource != "*":
            out.append(w + "encrypting the same resource across groups is not supported")
    return out


def _masking(config: EncryptionConfig) -> None:
    """The start-up error for a name that an earlier ``*.group`` or ``*.*`` already covers."""
    seen: set[tuple[str, str]] = set()
    for rule in config.rules:
        for name in rule.resources:
            group, resource = parse_group_resource(name)
            for earlier in ((group, "*"), ANY):
                if earlier in seen:
                    raise Malformed(f"resource {json.dumps(_yaml_name(group, resource))} is masked by earlier rule "
                                    f"{json.dumps(_yaml_name(*earlier))}")
            seen.add((group, resource))


def write_provider(config: EncryptionConfig, group: str, resource: str, *, wildcards: bool = True) -> WriteProvider:
    """The provider new objects of ``group``/``resource`` are written with (``transformerFromOverrides``)."""
    lookups = [(group, resource)] + ([(group, "*"), ANY] if wildcards else [])
    for key in lookups:
        for rule in config.rules:
            for name in rule.resources:
                if parse_group_resource(name) == key:
                    return WriteProvider(rule, name, rule.providers[0])
    return WriteProvider(None, "", Provider("identity"))
