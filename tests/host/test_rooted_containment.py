"""``--root DIR`` containment: nothing outside DIR is ever opened, stat'ed, listed or read.

Each scenario plants symlinks that lead out of DIR (absolute, relative ``../..``, a symlinked
``DIR/proc``, a symlinked ``DIR/etc``, ``DIR/proc/PID`` entries that are symlinks, procfs magic links
through a real procfs mounted on ``DIR/proc``) at a host file holding a unique marker. Proof:

* the marker never appears in anything kubecis read (processes, files, audits, discovery);
* under ``strace -f -y``, every file system syscall in the measured window names a path under DIR, and
  every file descriptor it uses or returns resolves (in the kernel's own words) under DIR;

for both resolvers (``openat2`` and the descriptor walk used where the kernel lacks it), and for a whole
``kubecis run --root DIR``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from kubecis.benchmark.bundled import materialise
from kubecis.host.rooted import RootedHost
from tests.hermetic.nodes import kubeadm_defaults
from tests.host.rootfs import fake_process, write_root

PROBE = Path(__file__).with_name("_rooted_probe.py")
REPO = Path(__file__).resolve().parents[2]
RESOLVERS = ["openat2", "walk"]


def _openat2_available() -> bool:
    try:
        RootedHost("/", resolver="openat2").close()
    except Exception:
        return False
    return True


def resolvers() -> list[Any]:
    return [r if r == "walk" or _openat2_available() else pytest.param(r, marks=pytest.mark.skip("no openat2"))
            for r in RESOLVERS]


class Planted:
    """A host directory (outside DIR) holding the marker, and a node tree DIR full of ways out."""

    def __init__(self, tmp: Path, proc: str | None = None, etc_link: bool = False) -> None:
        self.mark = f"KUBECIS-HOST-MARKER-{uuid.uuid4().hex}"
        self.host = tmp / "host"
        self.root = tmp / "node"
        h = self.host
        (h / "etc").mkdir(parents=True)
        (h / "secret").write_text(f"{self.mark}\n")
        (h / "etc/passwd").write_text(f"root:x:0:0:{self.mark}:/root:/bin/sh\n")
        (h / "etc/group").write_text(f"{self.mark}:x:0:\n")
        fake_process(h / "proc", 1, "kubelet", ["kubelet", f"--config={self.mark}"], env={"M": self.mark})
        write_root(kubeadm_defaults(), self.root)
        r = self.root
        secret = str(h / "secret")
        up = "../" * (len(r.parts) + 4)
        links = {
            "etc/kubernetes/abs.conf": secret,
            "etc/kubernetes/rel.conf": up + secret.lstrip("/"),
            "etc/kubernetes/absdir": str(h),
            "etc/kubernetes/reldir": up + str(h).lstrip("/"),
            "etc/kubernetes/magic-root.conf": "/proc/self/root" + secret,
            "etc/kubernetes/magic-one.conf": "/proc/1/root" + secret,
            "etc/kubernetes/magic-cwd": "/proc/self/cwd",
            "etc/kubernetes/inside.conf": "/etc/kubernetes/admin.conf",  # stays inside: restarts at DIR
            "etc/kubernetes/inside-rel.conf": "../../etc/kubernetes/../kubernetes/admin.conf",
            "var/lib/kubelet/config.yaml.d": str(h),
            "opt/up": up,
        }
        for rel, target in links.items():
            p = r / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, p)
        if proc is None:
            pr = r / "proc"
            fake_process(pr, 10, "kube-proxy", ["kube-proxy", "--v=2"])
            os.unlink(pr / "10/cmdline")
            os.symlink(secret, pr / "10/cmdline")  # DIR/proc/10/cmdline -> host file
            os.symlink(str(h / "proc/1"), pr / "11")  # DIR/proc/11 -> host process dir
            fake_process(pr, 12, "etcd", ["etcd"])
            os.unlink(pr / "12/cmdline")
            os.symlink(up + secret.lstrip("/"), pr / "12/cmdline")
            fake_process(pr, 13, "kube-scheduler", ["kube-scheduler", "--v=1"])
            os.unlink(pr / "13/environ")
            os.symlink(secret, pr / "13/environ")
        else:
            shutil.rmtree(r / "proc")
            if proc != "mount":
                os.symlink(proc, r / "proc")
            else:
                (r / "proc").mkdir()
        if etc_link:
            shutil.rmtree(r / "etc")
            os.symlink(str(h / "etc"), r / "etc")
        self.paths = ["/" + k for k in links] + [
            "/etc/passwd", "/etc/kubernetes", "/etc/kubernetes/absdir/secret", "/etc/kubernetes/reldir/secret",
            "/etc/kubernetes/absdir/", "/var/lib/kubelet/config.yaml.d/secret", "/opt/up" + secret,
            "/proc/10/cmdline", "/proc/11/cmdline", "/proc/12/cmdline", "/proc/13/environ",
            "/proc/self/root" + secret, "/proc/1/root" + secret, "/proc/1/cwd", "/proc/self/cwd/secret",
            "/proc/1/exe", "/proc/self", "/proc/1", "/..", "/../../..", "/" + "../" * 20 + secret.lstrip("/"),
            secret, str(h), str(h / "etc/passwd"),
        ]


def run_probe(p: Planted, resolver: str, *, mount_proc: bool = False) -> tuple[dict[str, Any], str]:
    log = p.root.parent / f"strace-{resolver}.log"
    inner = ["strace", "-f", "-y", "-qq", "-e", "trace=%file,%desc", "-o", str(log),
             sys.executable, str(PROBE), str(p.root), resolver, str(materialise()), *p.paths]
    if mount_proc:
        inner = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 'mount -t proc proc "$0" && exec "$@"', str(p.root / "proc"), *inner]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    cp = subprocess.run(inner, capture_output=True, text=True, cwd=str(p.host), env=env, timeout=300)
    assert cp.returncode == 0, cp.stderr[-3000:]
    return json.loads(cp.stdout), log.read_text()


_FD = re.compile(r"(?<![A-Za-z_])(AT_FDCWD|\d+)<((?:[^<>\\]|\\.)*)>")
_CALL = re.compile(r"^\d+\s+(\w+)\((.*)$")
_STR = re.compile(r'"((?:[^"\\]|\\.)*)"')
# syscalls whose first string argument is a path (other strings are data: read buffers, readlinkat's result)
_PATH_CALLS = frozenset((
    "open", "openat", "openat2", "creat", "stat", "lstat", "newfstatat", "statx", "statfs", "readlink",
    "readlinkat", "access", "faccessat", "faccessat2", "chdir", "execve", "execveat", "mkdir", "mkdirat",
    "mknod", "mknodat", "unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat",
    "symlink", "symlinkat", "chmod", "fchmodat", "chown", "lchown", "fchownat", "truncate", "utimensat",
    "getxattr", "lgetxattr", "listxattr", "llistxattr", "inotify_add_watch",
))
_NOT_FILES = ("pipe:", "socket:", "anon_inode:", "/dev/null", "/dev/pts/", "/dev/tty")


def inside(path: str, root: Path) -> bool:
    r = str(root)
    return path == r or path.startswith(r + "/")


def violations(log: str, root: Path, *, window: bool = True, allowed: tuple[str, ...] = ()) -> list[str]:
    """Syscalls that named or used a file outside ``root`` (``allowed``: prefixes that may be used too)."""
    lines = log.splitlines()
    if window:
        begin = next(i for i, ln in enumerate(lines) if "/KUBECIS-PROBE-BEGIN" in ln)
        end = next(i for i, ln in enumerate(lines) if "/KUBECIS-PROBE-END" in ln)
        lines = lines[begin + 1 : end]
        assert len(lines) > 200, "the probe made suspiciously few syscalls"

    def ok(path: str) -> bool:
        return inside(path, root) or path.startswith(_NOT_FILES) or any(path.startswith(a) for a in allowed)

    bad: list[str] = []
    for ln in lines:
        m = _CALL.match(ln)
        if not m:
            continue
        name, rest = m.groups()
        strings = _STR.findall(rest)
        # every descriptor the call used or returned, as the kernel names it (strace -y)
        for which, fd_path in _FD.findall(_STR.sub('""', rest)):
            if which != "AT_FDCWD" and not ok(fd_path):
                bad.append(ln)
        if name not in _PATH_CALLS or not strings:
            continue
        first = strings[0]
        if name == "openat2" and "RESOLVE_IN_ROOT" in rest:
            continue  # resolved by the kernel inside the directory descriptor (checked above)
        if rest.startswith("AT_FDCWD") or not re.match(r"\d+<", rest):
            if not (first.startswith("/") and ok(first)):
                bad.append(ln)  # by name from the cwd or "/": must name something under DIR
        elif "/" in first or first == "..":
            bad.append(ln)  # relative to a descriptor under DIR: one name at a time, never ".."
    return bad


def accessed(log: str) -> list[tuple[str, str]]:
    """(line, path) for every file a syscall named by absolute path or used through a descriptor."""
    out: list[tuple[str, str]] = []
    for ln in log.splitlines():
        m = _CALL.match(ln)
        if not m:
            continue
        name, rest = m.groups()
        out += [(ln, fd_path) for which, fd_path in _FD.findall(_STR.sub('""', rest)) if which != "AT_FDCWD"]
        strings = _STR.findall(rest)
        in_root = name == "openat2" and "RESOLVE_IN_ROOT" in rest  # a path inside the descriptor
        if name in _PATH_CALLS and strings and strings[0].startswith("/") and not in_root:
            out.append((ln, strings[0]))
    return out


def escapes(log: str, root: Path, host: Path, ignore: frozenset[str] = frozenset()) -> list[str]:
    """Accesses outside ``root`` to a node path the run also read under ``root`` (the host's copy of a node
    file), to the planted host directory, or to this machine's /proc; paths in ``ignore`` left out."""
    seen = accessed(log)
    node_paths = {p[len(str(root)):] for _, p in seen if inside(p, root) and p != str(root)}
    return [ln for ln, p in seen if not inside(p, root) and p not in ignore
            and (p in node_paths or p.startswith((str(host), "/proc/")) or p == "/proc")]


def _strace() -> None:
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    cp = subprocess.run(["strace", "-V"], capture_output=True, text=True)
    if not cp.stdout.startswith("strace -- version"):
        pytest.skip("the strace on PATH is not strace")


def _no_mark(p: Planted, out: Any) -> None:
    text = json.dumps(out)
    assert p.mark not in text


@pytest.mark.parametrize("resolver", resolvers())
def test_planted_symlinks_stay_inside(tmp_path: Path, resolver: str) -> None:
    _strace()
    p = Planted(tmp_path)
    out, log = run_probe(p, resolver)
    assert out["resolver"] == resolver
    _no_mark(p, out)
    assert violations(log, p.root) == []
    paths = out["paths"]
    # escapes resolve under DIR, where nothing is: "no such file"
    for q in ("/etc/kubernetes/abs.conf", "/etc/kubernetes/rel.conf", "/etc/kubernetes/absdir/secret",
              "/etc/kubernetes/reldir/secret", "/var/lib/kubelet/config.yaml.d/secret"):
        assert paths[q]["read"] == "FileNotFoundError:2", q
    # ".." never climbs above DIR
    assert paths["/.."]["listdir"] == paths["/../../.."]["listdir"]
    assert "etc" in paths["/.."]["listdir"].split(",")
    assert paths["/opt/up" + str(p.host / "secret")]["read"] == "FileNotFoundError:2"
    # symlinks that stay inside keep working; an absolute target restarts at DIR
    admin = paths["/etc/kubernetes/inside.conf"]["read"]
    assert "apiVersion" in admin and paths["/etc/kubernetes/inside-rel.conf"]["read"] == admin
    assert paths["/etc/kubernetes/inside.conf"]["readlink"] == "/etc/kubernetes/admin.conf"
    # DIR/proc entries that are symlinks (or hold symlinks) are not processes; real ones are
    pids = {pid: (comm, argv) for pid, comm, argv in out["processes"]}
    assert 10 not in pids and 11 not in pids and 12 not in pids
    assert pids[13] == ("kube-scheduler", ["kube-scheduler", "--v=1"]) and pids[1][0] == "systemd"
    assert any(comm == "kube-apiserver" for comm, _ in pids.values())
    assert out["environ"]["13"] == "OSError:40"  # O_NOFOLLOW: ELOOP, not the host file
    assert out["environ"]["11"].startswith("NotADirectoryError")
    # discovery read the kubelet's files under DIR
    assert any(d[0] == "kubelet" and d[1] == "bin" and "running" in d[3] for d in out["discovery"])
    assert "kube-apiserver" in out["audits"]["ps -ef"][0]


@pytest.mark.parametrize("resolver", resolvers())
@pytest.mark.parametrize("proc", ["/proc", "../../../../../../../../../../../../proc"])
def test_symlinked_proc_and_etc(tmp_path: Path, resolver: str, proc: str) -> None:
    _strace()
    p = Planted(tmp_path, proc=proc, etc_link=True)
    out, log = run_probe(p, resolver)
    _no_mark(p, out)
    assert violations(log, p.root) == []
    assert out["processes"] == []  # DIR/proc -> /proc is DIR/proc again: a loop, not the host's processes
    assert out["users"] == [None, None]  # DIR/etc -> HOST/etc is DIR/HOST/etc: nothing there
    assert out["paths"]["/etc/passwd"]["read"] == "FileNotFoundError:2"
    assert out["audits"]["ps -ef"][0].startswith("UID ") and out["audits"]["ps -ef"][0].count("\n") == 1


def _can_mount_proc(tmp_path: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    d = tmp_path / "mnt"
    d.mkdir()
    cp = subprocess.run(["unshare", "-m", "--propagation", "private", "mount", "-t", "proc", "proc", str(d)],
                        capture_output=True)
    d.rmdir()
    return cp.returncode == 0


@pytest.mark.parametrize("resolver", resolvers())
def test_magic_links_of_a_real_procfs_are_never_followed(tmp_path: Path, resolver: str) -> None:
    """DIR/proc is a real procfs (as on a mounted node): /proc/PID/root, cwd, exe lead to the tracee's
    own root; RESOLVE_NO_MAGICLINKS (or the walk's equivalent) refuses them with ELOOP."""
    _strace()
    if not _can_mount_proc(tmp_path):
        pytest.skip("needs root and a private mount namespace to mount procfs")
    p = Planted(tmp_path, proc="mount")
    out, log = run_probe(p, resolver, mount_proc=True)
    _no_mark(p, out)
    assert violations(log, p.root) == []
    paths = out["paths"]
    secret = str(p.host / "secret")
    for q in ("/etc/kubernetes/magic-root.conf", "/proc/self/root" + secret, "/proc/self/cwd/secret"):
        assert paths[q]["read"] == paths[q]["stat"] == "OSError:40", (q, paths[q])  # ELOOP
    assert paths["/etc/kubernetes/magic-cwd"]["listdir"] == "OSError:40"
    # pid 1's links: ELOOP, or EACCES when this machine's pid 1 may not be inspected (a container's init)
    for q in ("/etc/kubernetes/magic-one.conf", "/proc/1/root" + secret, "/proc/1/cwd", "/proc/1/exe"):
        assert paths[q]["stat"] in ("OSError:40", "PermissionError:13"), (q, paths[q])
    assert paths["/proc/self/cwd/secret"]["lstat"] == "OSError:40"  # through a magic link: not even lstat
    assert paths["/proc/self"]["stat"].startswith("0o4")  # an ordinary procfs symlink: followed
    assert len(out["processes"]) > 1  # the node's (here: this machine's) processes, read through DIR/proc


def test_kubecis_run_root_under_strace(tmp_path: Path) -> None:
    """The whole command (which also reads its own inputs: Python, the package, the definitions): no node
    path it read under DIR was also touched outside DIR, nothing under the planted host directory or this
    machine's /proc was touched, and the marker is nowhere in the report."""
    _strace()
    p = Planted(tmp_path)
    log = tmp_path / "run.log"
    report = tmp_path / "report.json"
    cfg = materialise()
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), HOME=str(tmp_path / "home"))
    cp = subprocess.run(
        ["strace", "-f", "-y", "-qq", "-e", "trace=%file,%desc", "-o", str(log), sys.executable, "-m", "kubecis",
         "run", "--root", str(p.root), "--benchmark", "cis-1.10", "--json", "-D", str(cfg),
         "--outputfile", str(report)],
        capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300,
    )
    assert cp.returncode == 0, cp.stderr[-2000:]
    text = report.read_text() + cp.stdout + cp.stderr
    assert p.mark not in text and '"total_pass"' in text
    log_text = log.read_text()
    assert len([1 for _, q in accessed(log_text) if inside(q, p.root)]) > 1000
    # what the interpreter itself reads before any of kubecis runs (3.13's allocator reads
    # /proc/sys/vm/overcommit_memory) is not the run's
    base = tmp_path / "python.log"
    subprocess.run(["strace", "-f", "-y", "-qq", "-e", "trace=%file,%desc", "-o", str(base), sys.executable, "-c",
                    "pass"], check=True, env=env, cwd=str(tmp_path), timeout=60)
    interpreter = frozenset(q for _, q in accessed(base.read_text()))
    assert escapes(log_text, p.root, p.host, ignore=interpreter) == []
