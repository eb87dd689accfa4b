"""Hermetic test nodes: a declarative Kubernetes node built in private mount + PID namespaces.

A :class:`NodeSpec` lists files (content, mode, owner), directories, symlinks, users and groups,
running processes (component name, exact argv, environment) and extra binaries on PATH (stand-ins
for ``kubelet --version`` / ``kubectl version -o json``).  :func:`run_in_node` builds that node and
runs one command inside it::

    unshare -m -p -f --mount-proc --kill-child python -I _nodeinit.py <job>/spec.json

``_nodeinit.py`` (PID 1 of the new namespace) makes ``/`` private, mounts an overlay (upper dir on a
tmpfs) on the deepest existing host ancestor of every path the spec creates (always ``/etc``, so
``/etc/passwd`` edits stay private), hides host Kubernetes directories behind empty tmpfs mounts,
writes the spec, starts the processes from a tiny compiled C stand-in copied to the component's name
(so the kernel's comm is e.g. ``kube-apiserver``), waits until ``/proc`` shows their argv, then execs the
command.  When that command exits, the kernel kills every process of the namespace and drops its
mounts: nothing is written to the host except the job directory under ``/tmp``, which is removed.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
STANDIN_SOURCE = HERE / "standin.c"
INIT_SCRIPT = HERE / "_nodeinit.py"
CACHE_DIR = Path(tempfile.gettempdir()) / "kubecis-hermetic-cache"

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_ENV: Mapping[str, str] = {"PATH": DEFAULT_PATH, "HOME": "/root", "LANG": "C.UTF-8"}

# Host directories that a real node would own.  If one exists on the host it is hidden behind an
# empty tmpfs inside the node, so host state never leaks into a test.
DEFAULT_MASKS: tuple[str, ...] = (
    "/etc/kubernetes",
    "/etc/cni",
    "/etc/etcd",
    "/etc/default/kubelet",
    "/etc/systemd/system/kubelet.service.d",
    "/usr/lib/systemd/system/kubelet.service.d",
    "/opt/cni",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/var/lib/cni",
    "/var/lib/kube-proxy",
    "/var/lib/kube-scheduler",
    "/var/lib/kube-controller-manager",
    "/var/lib/rancher",
    "/var/snap",
    "/var/run/secrets/kubernetes.io",
    "/run/secrets/kubernetes.io",
    "/srv/kubernetes",
    "/home/kubernetes",
)


@dataclass(frozen=True)
class File:
    """A regular file.  ``owner``/``group`` are names (resolved inside the node) or numeric ids."""

    path: str
    content: str | bytes
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"


@dataclass(frozen=True)
class Dir:
    path: str
    mode: int = 0o755
    owner: str = "root"
    group: str = "root"


@dataclass(frozen=True)
class Symlink:
    path: str
    target: str


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str = "/nonexistent"
    shell: str = "/usr/sbin/nologin"
    gecos: str = ""


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Process:
    """A running process.  ``name`` is the executable's basename (the kernel comm, truncated to 15
    characters by the kernel); ``argv`` is shown verbatim by ``ps -o cmd``; ``env`` is its complete
    environment (readable through ``/proc/<pid>/environ``)."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    exe: str | None = None

    @property
    def executable(self) -> str:
        return self.exe if self.exe is not None else f"/usr/local/bin/{self.name}"


@dataclass(frozen=True)
class Binary:
    """An executable stand-in on disk (e.g. ``/usr/bin/kubelet``).  It answers ``--version`` with
    ``version_text`` and ``version -o json`` with ``version_json`` (falling back to the text)."""

    path: str
    version_text: str | None = None
    version_json: str | None = None
    daemon: bool = False
    """False: any other invocation fails at once (exit 1); True: it sleeps like a daemon."""


@dataclass(frozen=True)
class NodeSpec:
    name: str
    description: str = ""
    files: tuple[File, ...] = ()
    dirs: tuple[Dir, ...] = ()
    symlinks: tuple[Symlink, ...] = ()
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    processes: tuple[Process, ...] = ()
    binaries: tuple[Binary, ...] = ()
    hidden: tuple[str, ...] = ()
    """Host paths removed inside the node (e.g. a host ``/usr/bin/kubectl``)."""
    masks: tuple[str, ...] = DEFAULT_MASKS

    # -- lookups -------------------------------------------------------------------------------
    def file(self, path: str) -> File:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def process(self, name: str) -> Process:
        for p in self.processes:
            if p.name == name:
                return p
        raise KeyError(name)

    # -- derivation ----------------------------------------------------------------------------
    def replace(self, **changes: object) -> NodeSpec:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def with_files(self, *files: File) -> NodeSpec:
        """Add files, replacing any existing file with the same path."""
        paths = {f.path for f in files}
        return self.replace(files=tuple(f for f in self.files if f.path not in paths) + tuple(files))

    def without_files(self, *paths: str) -> NodeSpec:
        return self.replace(files=tuple(f for f in self.files if f.path not in paths))

    def with_dirs(self, *dirs: Dir) -> NodeSpec:
        paths = {d.path for d in dirs}
        return self.replace(dirs=tuple(d for d in self.dirs if d.path not in paths) + tuple(dirs))

    def with_processes(self, *procs: Process) -> NodeSpec:
        """Add processes, replacing any existing process with the same name."""
        names = {p.name for p in procs}
        return self.replace(processes=tuple(p for p in self.processes if p.name not in names) + tuple(procs))

    def without_processes(self, *names: str) -> NodeSpec:
        return self.replace(processes=tuple(p for p in self.processes if p.name not in names))

    def with_users(self, *users: User) -> NodeSpec:
        return self.replace(users=self.users + tuple(users))

    def with_groups(self, *groups: Group) -> NodeSpec:
        return self.replace(groups=self.groups + tuple(groups))

    def with_binaries(self, *binaries: Binary) -> NodeSpec:
        paths = {b.path for b in binaries}
        return self.replace(binaries=tuple(b for b in self.binaries if b.path not in paths) + binaries)

    def with_hidden(self, *paths: str) -> NodeSpec:
        return self.replace(hidden=self.hidden + tuple(paths))

    def chmod(self, path: str, mode: int) -> NodeSpec:
        return self.with_files(dataclasses.replace(self.file(path), mode=mode))

    def chown(self, path: str, owner: str, group: str) -> NodeSpec:
        for d in self.dirs:
            if d.path == path:
                return self.with_dirs(dataclasses.replace(d, owner=owner, group=group))
        return self.with_files(dataclasses.replace(self.file(path), owner=owner, group=group))

    # -- serialisation for _nodeinit.py --------------------------------------------------------
    def to_json(self) -> dict[str, object]:
        def content(c: str | bytes) -> str:
            raw = c.encode() if isinstance(c, str) else c
            return base64.b64encode(raw).decode()

        return {
            "name": self.name,
            "files": [
                {"path": f.path, "content": content(f.content), "mode": f.mode, "owner": f.owner, "group": f.group}
                for f in self.files
            ],
            "dirs": [dataclasses.asdict(d) for d in self.dirs],
            "symlinks": [dataclasses.asdict(s) for s in self.symlinks],
            "users": [dataclasses.asdict(u) for u in self.users],
            "groups": [{"name": g.name, "gid": g.gid, "members": list(g.members)} for g in self.groups],
            "processes": [
                {"name": p.name, "argv": list(p.argv), "env": dict(p.env), "exe": p.executable} for p in self.processes
            ],
            "binaries": [dataclasses.asdict(b) for b in self.binaries],
            "hidden": list(self.hidden),
            "masks": list(self.masks),
        }


def created_paths(spec: NodeSpec) -> list[str]:
    """Every absolute path the spec writes (used to pick overlay roots)."""
    paths = [f.path for f in spec.files] + [d.path for d in spec.dirs] + [s.path for s in spec.symlinks]
    paths += [b.path for b in spec.binaries] + [p.executable for p in spec.processes]
    paths += list(spec.hidden)
    for p in paths:
        if not p.startswith("/") or "/../" in p or p.endswith("/.."):
            raise ValueError(f"node paths must be absolute and normalised: {p!r}")
    return paths


def overlay_roots(paths: Iterable[str], host_root: str = "/") -> list[str]:
    """Deepest existing host ancestor directory of each path, plus ``/etc``; nested roots are dropped
    (an overlay on an ancestor already makes its subtree writable)."""
    roots = {"/etc"}
    for p in paths:
        cur = os.path.dirname(p.rstrip("/")) or "/"
        while not os.path.isdir(os.path.join(host_root, cur.lstrip("/"))):
            cur = os.path.dirname(cur)
        cur = os.path.realpath(cur)  # e.g. /lib/systemd/system -> /usr/lib/systemd/system
        if cur == "/":
            raise ValueError(f"cannot create {p!r}: its only existing ancestor is / (not overlayable)")
        roots.add(cur)
    ordered = sorted(roots, key=lambda r: (r.count("/"), r))
    kept: list[str] = []
    for r in ordered:
        if not any(r == k or r.startswith(k + "/") for k in kept):
            kept.append(r)
    return kept


# ---------------------------------------------------------------------------------------------
# Availability


@functools.cache
def standin_binary() -> Path:
    """Compile standin.c once (cached by source hash) and return the binary's path."""
    src = STANDIN_SOURCE.read_bytes()
    digest = hashlib.sha256(src).hexdigest()[:16]
    out = CACHE_DIR / f"standin-{digest}"
    if out.exists():
        return out
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("no C compiler (cc/gcc) to build the process stand-in")
    tmp = CACHE_DIR / f".standin-{digest}.{os.getpid()}"
    subprocess.run([cc, "-O2", "-o", str(tmp), str(STANDIN_SOURCE)], check=True, capture_output=True)
    tmp.replace(out)
    return out


@functools.cache
def hermetic_available() -> tuple[bool, str]:
    """(True, "") when hermetic nodes can be built here; else (False, reason)."""
    if sys.platform != "linux":
        return False, "hermetic nodes need Linux namespaces"
    if os.geteuid() != 0:
        return False, "hermetic nodes need root (mount and PID namespaces, overlay mounts)"
    if shutil.which("unshare") is None:
        return False, "unshare (util-linux) is not installed"
    try:
        probe = subprocess.run(
            ["unshare", "-m", "-p", "-f", "--mount-proc", "--kill-child", "sh", "-c", "test $$ = 1"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"unshare failed: {exc}"
    if probe.returncode != 0:
        return False, f"unshare -m -p -f --mount-proc failed: {probe.stderr.strip() or probe.returncode}"
    try:
        standin_binary()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        return False, f"cannot build the process stand-in: {exc}"
    return True, ""


def skip_unless_hermetic() -> None:
    """Call from a test or fixture: skip with the reason when hermetic nodes are unavailable."""
    ok, reason = hermetic_available()
    if not ok:
        pytest.skip(reason)


hermetic = pytest.mark.hermetic
"""Marker for tests that build hermetic nodes (registered in pyproject.toml)."""


# ---------------------------------------------------------------------------------------------
# Running


class NodeSetupError(RuntimeError):
    """The node could not be built (the command never ran)."""


SETUP_FAILED_EXIT = 121


def run_in_node(
    spec: NodeSpec,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str = "/",
    timeout: float = 120.0,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Build ``spec`` in fresh namespaces, run ``argv`` there (as PID 1) and return its result.

    ``env`` is the command's complete environment (default :data:`DEFAULT_ENV`).  Raises
    :class:`NodeSetupError` if building the node failed, ``subprocess.TimeoutExpired`` on timeout
    (the whole namespace is killed)."""
    ok, reason = hermetic_available()
    if not ok:
        raise NodeSetupError(reason)
    if not argv:
        raise ValueError("argv must not be empty")
    job = Path(tempfile.mkdtemp(prefix=f"kubecis-node-{re.sub(r'[^A-Za-z0-9_.-]', '_', spec.name)}-"))
    try:
        payload = {
            "spec": spec.to_json(),
            "roots": overlay_roots(created_paths(spec)),
            "standin": str(standin_binary()),
            "scratch": str(job / "scratch"),
            "argv": list(argv),
            "env": dict(DEFAULT_ENV if env is None else env),
            "cwd": cwd,
            "setup_failed_exit": SETUP_FAILED_EXIT,
        }
        (job / "scratch").mkdir()
        (job / "spec.json").write_text(json.dumps(payload))
        cmd = [
            "unshare",
            "-m",
            "-p",
            "-f",
            "--mount-proc",
            "--kill-child",
            sys.executable,
            "-I",
            "-S",
            str(INIT_SCRIPT),
            str(job / "spec.json"),
        ]
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, input=input, env={"PATH": DEFAULT_PATH}
        )
        if res.returncode == SETUP_FAILED_EXIT and "kubecis-node-setup-error:" in res.stderr:
            raise NodeSetupError(res.stderr)
        return subprocess.CompletedProcess(list(argv), res.returncode, res.stdout, res.stderr)
    finally:
        shutil.rmtree(job, ignore_errors=True)


def run_shell_in_node(spec: NodeSpec, script: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Convenience: run ``/bin/sh -c script`` inside the node."""
    return run_in_node(spec, ["/bin/sh", "-c", script], **kwargs)  # type: ignore[arg-type]
