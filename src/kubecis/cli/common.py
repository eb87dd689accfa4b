"""Pieces several subcommands share: config-dir resolution, host and executor construction, output."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kubecis.errors import ConfigError, HostError, OutputError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubecis.audit.base import Executor
    from kubecis.host.base import Host
    from kubecis.host.cluster import Cluster

# kube-bench's default: ./cfg relative to the working directory.
KUBE_BENCH_DEFAULT_DIR = Path("cfg")
# `--snapshot example`: a kubeadm control-plane node with typical weaknesses, shipped with the package.
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "data" / "examples"
EXAMPLE_SNAPSHOTS = {"example": EXAMPLES_DIR / "kubeadm-control-plane.snap"}
OBJECTS_NEED_NATIVE = ("--objects is evaluated by the native executor (kubectl in a shell would ask the live cluster); "
                       "use --executor native or auto")


def resolve_config_dir(config_dir: Path | None) -> Path:
    """``--config-dir``; else ``./cfg`` (kube-bench's default) when it holds a config.yaml; else the bundled sets."""
    if config_dir is not None:
        if not config_dir.exists():
            raise ConfigError(f"--config-dir {config_dir}: no such directory")
        if not config_dir.is_dir():
            raise ConfigError(f"--config-dir {config_dir}: not a directory")
        return config_dir
    if (KUBE_BENCH_DEFAULT_DIR / "config.yaml").is_file():
        return KUBE_BENCH_DEFAULT_DIR
    from kubecis.benchmark.bundled import materialise

    return materialise()


def echo(text: str = "") -> None:
    """One line on stdout; on a terminal, control characters from data are shown escaped."""
    if _isatty(sys.stdout):
        from kubecis.report.color import escape_controls

        text = escape_controls(text)
    sys.stdout.write(text + "\n")


def _isatty(stream: object) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except (OSError, ValueError):
        return False


def check_output_path(path: Path, flag: str = "--outputfile") -> None:
    """Fail before running anything if the output cannot be written there.

    Outputs are replaced atomically (temp file + rename), so only a regular file (or a new name) is accepted:
    a device (/dev/full), FIFO or socket would be replaced by a file, and a symbolic link would be replaced
    (or, followed, let whoever planted it choose what a root process overwrites).
    """
    parent = path.parent if str(path.parent) else Path(".")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutputError(f"{flag} {path}: a parent is not a directory") from None
    except OSError as e:
        raise OutputError(f"{flag} {path}: {e.strerror or e}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise OutputError(f"{flag} {path}: is a symbolic link; give the path of the file itself")
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{flag} {path}: is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{flag} {path}: not a regular file (a device, FIFO or socket is never replaced)")
    try:
        pst = os.stat(parent)
    except FileNotFoundError:
        raise OutputError(f"{flag} {path}: directory {parent} does not exist") from None
    except OSError as e:
        raise OutputError(f"{flag} {path}: directory {parent}: {e.strerror or e}") from None
    if not stat.S_ISDIR(pst.st_mode):
        raise OutputError(f"{flag} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK) or (st is not None and not os.access(path, os.W_OK)):
        raise OutputError(f"{flag} {path}: permission denied")


def build_host(*, root: Path | None = None, snapshot: Path | None = None) -> tuple[Host, bool]:
    """The host to check and whether it is this live machine."""
    if root is not None and snapshot is not None:
        raise UsageError("--root and --snapshot cannot be used together")
    from kubecis.host.live import LiveHost

    if root is not None:
        from kubecis.host.rooted import RootedHost

        if not root.is_dir():
            raise HostError(f"--root {root}: not a directory")
        return RootedHost(str(root)), False
    if snapshot is not None:
        from kubecis.host.snapshot import SnapshotHost

        if not snapshot.exists() and str(snapshot) in EXAMPLE_SNAPSHOTS:
            snapshot = EXAMPLE_SNAPSHOTS[str(snapshot)]
        if snapshot.is_dir():
            raise HostError(f"--snapshot {snapshot}: is a directory, expected a snapshot file")
        return SnapshotHost.load(str(snapshot)), False
    return LiveHost(), True


def make_executor(
    kind: str,
    host: Host,
    *,
    live: bool,
    timeout: float,
    allow_shell: bool = False,
    notify: Callable[[str], None] | None = None,
    cluster: Cluster | None = None,
) -> Executor:
    """shell: the real /bin/sh (live host only); native: in-process; auto: native, and /bin/sh for the audits
    the interpreter does not cover only with ``allow_shell`` (live host only), each announced through ``notify``
    before it runs. Without ``allow_shell`` such audits are WARN naming the construct.

    ``cluster`` (an object dump, ``--objects``) replaces the cluster native kubectl/oc and probes talk to; audits
    then never run in a shell, whose kubectl would ask another cluster."""
    if kind == "shell":
        from kubecis.audit.shell import ShellExecutor

        if cluster is not None:
            raise UsageError(OBJECTS_NEED_NATIVE)
        if not live:
            raise UsageError("--executor shell runs audits on this machine; it cannot check --root or --snapshot")
        return ShellExecutor(timeout=timeout)
    if allow_shell and kind != "auto":
        raise UsageError(f"--allow-shell applies to --executor auto; --executor {kind} never starts a shell")
    if allow_shell and not live:
        raise UsageError("--allow-shell runs audits on this machine; it cannot check --root or --snapshot")
    from kubecis.audit.dispatch import ALLOW_SHELL_HINT, AutoExecutor, OncePerRun, native_executor

    # --timeout bounds a native audit's wall time too
    native = OncePerRun(native_executor(host, cluster=cluster if cluster is not None else make_cluster(host, live=live),
                                        timeout=timeout))  # identical audits of one run share a result
    if kind == "native":
        return native
    if allow_shell:
        if cluster is not None:
            raise UsageError(OBJECTS_NEED_NATIVE)
        from kubecis.audit.shell import ShellExecutor

        return AutoExecutor(native, ShellExecutor(timeout=timeout), notify=notify)
    return AutoExecutor(native, None, hint=ALLOW_SHELL_HINT if live and cluster is None else "")


def load_objects(path: Path | None) -> Cluster | None:
    """``--objects PATH``: the dump behind the Cluster protocol, loaded now (a bad dump is one error line)."""
    if path is None:
        return None
    from kubecis.policies.objects import ObjectsCluster

    return ObjectsCluster.load(path)


def make_cluster(host: Host, *, live: bool) -> Cluster | None:
    """What native kubectl/oc talk to: the cluster kubectl would use here (its configuration is read only when
    a kubectl/oc audit runs), the recorded API answers for --snapshot, none (kubectl with no configuration)
    for --root."""
    from kubecis.host.cluster import LiveCluster, SnapshotCluster

    if live:
        return LiveCluster()
    from kubecis.host.snapshot import SnapshotHost  # not on a live run: its redaction rules cost start-up

    if isinstance(host, SnapshotHost):
        return SnapshotCluster.from_host(host)
    return None
