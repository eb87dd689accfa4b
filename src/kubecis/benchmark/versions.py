"""Which benchmark to run: ``--benchmark``, ``--version`` or detection (kube-bench-compat.md#benchmark-selection).

Detection never falls back silently. kube-bench assumes Kubernetes 1.18 when it
cannot find a version (and so runs a benchmark from 2020); kubecis stops with a
message saying how to choose, and ``kubecis explain`` prints every step.

Sources, in order: the static pod manifests' image tags (read through the host
interface, so it works on ``--root`` and snapshots and spawns nothing), then
``kubectl version -o json`` and ``kubelet --version`` through the node's tools
(:class:`~kubecis.host.tools.VersionTools`, given only when the caller allows starting
processes). Nothing here does I/O of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import field
from typing import TYPE_CHECKING

from kubecis.errors import BenchmarkError, HostError, UsageError
from kubecis.host.base import Host, NotInSnapshot
from kubecis.records import dataclass

if TYPE_CHECKING:
    from kubecis.host.tools import VersionTools

DEFAULT_UNKNOWN = "1.18"  # kube-bench's stop value for the decrementing lookup (kube-bench-compat.md#version-lookup)

# What a version_mapping key looks like: 1.33, 1.33.2, eks-1.8.0, ocp-4.13, cis-1.24-microk8s, v1.33.1+k3s1.
# Numeric fields are short so the decrementing lookup stays bounded (at most 10,000 steps).
_VERSION_RX = re.compile(r"[A-Za-z0-9][A-Za-z0-9+_-]{0,31}(?:\.[A-Za-z0-9+_-]{1,32}){0,4}")
_MAX_DIGITS = 4


def check_version_string(value: str) -> str:
    """``value`` if it can be a Kubernetes version or version_mapping key, else :class:`UsageError`."""
    if value == "":
        return value
    if len(value) > 64 or not _VERSION_RX.fullmatch(value):
        raise UsageError(f"{_shown(value)} is not a Kubernetes version (expected X.Y such as 1.33, or a "
                         "version_mapping key such as eks-1.8.0)")
    if any(len(run) > _MAX_DIGITS for run in re.findall(r"\d+", value)):
        raise UsageError(f"{_shown(value)} is not a Kubernetes version (a number has more than {_MAX_DIGITS} digits)")
    return value


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")

# Files whose `image:` tag tells the control plane's version.
MANIFESTS = (
    "/etc/kubernetes/manifests/kube-apiserver.yaml",
    "/etc/kubernetes/manifests/kube-apiserver.yml",
    "/etc/kubernetes/manifests/kube-controller-manager.yaml",
    "/etc/kubernetes/manifests/kube-scheduler.yaml",
    "/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml",
)
_IMAGE_TAG = re.compile(r"image:\s*['\"]?[^\s'\"]*/kube-(?:apiserver|controller-manager|scheduler|proxy)"
                        r"(?:-amd64|-arm64)?:(v\d+\.\d+\.\d+[^\s'\"@]*)")
_GIT_PLATFORM = re.compile(r"v(\d+\.\d+)\.\d+[-+](\w+)(?:[.\-+]*)\w+")
_KUBELET_VERSION = re.compile(r"Kubernetes v(\d+.\d+)")


@dataclass(frozen=True, slots=True)
class KubeVersion:
    version: str  # "1.33"
    git_version: str = ""  # "v1.33.1+k3s1" when known
    source: str = ""


class VersionNotDetected(BenchmarkError):
    """No benchmark could be chosen: no version was given and none was detected. ``steps`` says what was tried."""

    def __init__(self, message: str, steps: list[str]) -> None:
        super().__init__(message)
        self.steps = steps


@dataclass(slots=True)
class Selection:
    benchmark: str
    detected_version: str = "none"
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # shown on stderr by `run`, in the steps by `explain`


def base_version(major: str, minor: str) -> str:
    return f"{major}.{minor.replace('+', '')}"


def lookup(mapping: dict[str, str], key: str) -> str:
    """kube-bench's lookup: try the key, then decrement the second field until found
    (kube-bench-compat.md#version-lookup)."""
    orig = key
    while True:
        if key in mapping:
            return mapping[key]
        if key == DEFAULT_UNKNOWN:
            break
        parts = key.split(".")
        if len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) <= 1:
            break
        parts[1] = str(int(parts[1]) - 1)
        key = ".".join(parts)
    raise BenchmarkError(
        f"unable to find a matching Benchmark Version match for kubernetes version: {orig}"
    )


def _xy(key: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d+)\.(\d+)", key)
    return (int(m.group(1)), int(m.group(2))) if m else None


def newer_than_mapped(mapping: dict[str, str], version: str) -> str:
    """The newest plain X.Y key when ``version`` is newer than every one of them, else ""."""
    v = _xy(version)
    keys = [k for k in mapping if _xy(k)]
    if v is None or not keys:
        return ""
    newest = max(keys, key=lambda k: _xy(k) or (0, 0))
    return newest if v > (_xy(newest) or (0, 0)) else ""


def map_version(mapping: dict[str, str], version: str, steps: list[str], warnings: list[str], source: str) -> str:
    """``lookup`` plus a warning when the version is newer than anything the definitions cover."""
    bench = lookup(mapping, version)
    steps.append(f"Kubernetes {version} ({source}) → version_mapping → {bench}")
    newest = newer_than_mapped(mapping, version)
    if newest:
        warnings.append(f"Kubernetes {version} is newer than any benchmark here covers (newest: {newest} → "
                        f"{mapping[newest]}); using {bench}")
    return bench


def family_fallback(wanted: str, available: list[str]) -> str:
    """The newest available set of the same family as ``wanted`` (eks-1.5.0 → eks-1.8.0), or ""."""
    prefix = wanted.rsplit("-", 1)[0] + "-"

    def key(name: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", name[len(prefix):]))

    same = [b for b in available if b.startswith(prefix) and b != wanted and re.match(r"\d", b[len(prefix):])]
    return max(same, key=key) if same else ""


def platform_of(git_version: str) -> tuple[str, str]:
    """(platform, X.Y) from a gitVersion like ``v1.27.6+k3s1`` (``("", "")`` if none)."""
    m = _GIT_PLATFORM.search(git_version)
    if not m:
        return "", ""
    return m.group(2), m.group(1)


def _minor(v: str) -> int:
    try:
        return int(v.split(".")[1])
    except (IndexError, ValueError):
        return -1


def platform_benchmark(platform: str, version: str) -> str:
    """kube-bench's platform → benchmark table (kube-bench-compat.md#benchmark-selection); "" when none applies."""
    m = _minor(version)
    major1 = version.startswith("1.")
    if platform == "eks":
        if major1 and 15 <= m <= 19:
            return "eks-1.0.1"
        if major1 and 29 <= m <= 31:
            return "eks-1.7.0"
        if major1 and 32 <= m <= 34:
            return "eks-1.8.0"
        return "eks-1.5.0"
    if platform == "aks":
        if major1 and 19 <= m <= 24:
            return "aks-1.0"
        if major1 and 29 <= m <= 31:
            return "aks-1.7"
        return "aks-1.8"
    if platform == "gke":
        if major1 and 15 <= m <= 19:
            return "gke-1.0"
        if major1 and 20 <= m <= 27:
            return "gke-1.2.0"
        if major1 and 28 <= m <= 29:
            return "gke-1.6.0"
        if version == "1.30":
            return "gke-1.8.0"
        return "gke-1.9.0"
    if platform == "k3s":
        if major1 and 22 <= m <= 23:
            return "k3s-cis-1.23"
        return {"1.24": "k3s-cis-1.24", "1.25": "k3s-cis-1.7", "1.26": "k3s-cis-1.8"}.get(version, "k3s-cis-1.9")
    if platform == "rancher":
        return {"1.23": "rke-cis-1.23", "1.24": "rke-cis-1.24"}.get(version, "rke-cis-1.7")
    if platform == "rke2r":
        return {"1.23": "rke2-cis-1.23", "1.24": "rke2-cis-1.24", "1.25": "rke2-cis-1.7"}.get(
            version, "rke2-cis-1.8")
    if platform == "aliyun":
        return "ack-1.0"
    if platform == "vmware":
        return "tkgi-1.2.53"
    return ""


def version_from_manifests(host: Host, notes: list[str] | None = None) -> KubeVersion | None:
    """The version in a control-plane manifest's image tag; ``notes`` gets what each manifest answered."""
    for path in MANIFESTS:
        try:
            text = host.read(path).decode("utf-8", "replace")
        except FileNotFoundError:
            _note(notes, f"{path}: not found")
            continue
        except NotInSnapshot:
            _note(notes, f"{path}: not recorded in the snapshot")
            continue
        except OSError as e:
            _note(notes, f"{path}: cannot read ({e.strerror or e})")
            continue
        except HostError as e:
            _note(notes, f"{path}: cannot read ({e})")
            continue
        m = _IMAGE_TAG.search(text)
        if m:
            git = m.group(1)
            vm = re.match(r"v(\d+)\.(\d+)", git)
            if vm:
                return KubeVersion(f"{vm.group(1)}.{vm.group(2)}", git, f"image tag {git} in {path}")
        _note(notes, f"{path}: no image tag with a version")
    return None


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None:
        notes.append(text)


def version_from_tools(tools: VersionTools, notes: list[str] | None = None) -> KubeVersion | None:
    """``kubectl version -o json`` then ``kubelet --version``, asked through ``tools``."""
    if tools.on_path("kubectl"):
        out = tools.output(["kubectl", "version", "-o", "json"])
        if out:
            try:
                sv = json.loads(out).get("serverVersion") or {}
                if sv.get("major") and sv.get("minor"):
                    return KubeVersion(base_version(str(sv["major"]), str(sv["minor"])),
                                       str(sv.get("gitVersion", "")), "kubectl version -o json")
                _note(notes, "kubectl version -o json: no server version (no cluster configured or reachable)")
            except (ValueError, AttributeError):
                _note(notes, "kubectl version -o json: an answer that is not kubectl's JSON")
        else:
            _note(notes, "kubectl version -o json: failed (no cluster configured or reachable)")
    else:
        _note(notes, "kubectl: not on PATH")
    if tools.on_path("kubelet"):
        out = tools.output(["kubelet", "--version"])
        if out:
            m = _KUBELET_VERSION.search(out)
            if m:
                return KubeVersion(m.group(1), "", f"kubelet --version: {out.strip()}")
            _note(notes, f"kubelet --version: no version in {out.strip()[:60]!r}")
        else:
            _note(notes, "kubelet --version: failed")
    else:
        _note(notes, "kubelet: not on PATH")
    return None


def select_benchmark(
    *,
    version_mapping: Callable[[], dict[str, str]],
    benchmark: str = "",
    version: str = "",
    host: Host | None = None,
    tools: VersionTools | None = None,
    available: Callable[[], list[str]] | None = None,
) -> Selection:
    """Decide the benchmark; every step is recorded in ``Selection.steps`` for ``explain``. ``tools``: the
    node's kubectl/kubelet may be asked (None: this run may not start processes)."""
    if benchmark and version:
        raise UsageError("It is an error to specify both --version and --benchmark flags")
    if benchmark:
        return Selection(benchmark, "none", [f"--benchmark {benchmark} given: using it as is"])
    if version:
        check_version_string(version)
        sel = Selection("", "none")
        sel.benchmark = map_version(version_mapping(), version, sel.steps, sel.warnings, "--version")
        return sel
    steps: list[str] = []
    kv: KubeVersion | None = None
    if host is not None:
        notes: list[str] = []
        kv = version_from_manifests(host, notes)
        steps.append(f"control-plane manifests: {kv.source if kv else 'no image tag found'}")
        steps += [f"  {n}" for n in notes]
    if kv is None and tools is not None:
        notes = []
        kv = version_from_tools(tools, notes)
        steps.append(f"kubectl/kubelet: {kv.source if kv else 'not found or no answer'}")
        steps += [f"  {n}" for n in notes]
    elif kv is None:
        steps.append("kubectl/kubelet: not consulted (this run may not start processes)")
    if kv is None:
        raise VersionNotDetected(
            "could not detect the Kubernetes version (no control-plane manifest with an image tag, "
            "no kubectl or kubelet answered); pass --version X.Y or --benchmark NAME", steps)
    sel = Selection("", kv.version, steps)
    platform, pver = platform_of(kv.git_version)
    if platform:
        pb = platform_benchmark(platform, pver)
        names = available() if available is not None else []
        if pb and available is not None and pb not in names:
            alt = family_fallback(pb, names)
            steps.append(f"platform {platform} {pver} → {pb}, which is not available here"
                         + (f"; using the newest of its family, {alt}" if alt else ""))
            if alt:
                sel.warnings.append(f"{pb} is not available; using {alt} for {platform} {pver}")
            pb = alt
        if pb:
            steps.append(f"platform {platform} {pver} from {kv.git_version} → {pb}")
            sel.benchmark, sel.detected_version = pb, pb
            return sel
        steps.append(f"platform {platform!r} from {kv.git_version}: no platform benchmark")
    sel.benchmark = map_version(version_mapping(), kv.version, steps, sel.warnings, kv.source)
    return sel
