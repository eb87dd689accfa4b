"""A pod's container inside a hermetic node (run as PID 1 of the node by the fake kubelet).

Standard library only; ``python -I -S _container.py payload.json``. It builds the container the way a
container runtime would from the pod spec, then execs the container command:

* a fresh root (tmpfs) holding only the "image" (the Python installation and kubecis, bound read-only)
  and the pod's hostPath volumes, each bound read-only at its mountPath (a missing directory appears
  empty, as a runtime creates it);
* ``/proc``: the node's process table with hostPID, else a new PID namespace with its own ``/proc``;
* the root file system read-only (readOnlyRootFilesystem);
* user 0 with every capability dropped (setpriv: bounding, inheritable and ambient sets cleared,
  no_new_privs);
* stdout and stderr together (the pod log).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def sh(*argv: str) -> None:
    res = subprocess.run(list(argv), capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(f"container setup: {' '.join(argv)}: {res.stderr.strip()}\n")
        sys.exit(125)


def bind_ro(src: str, dst: str) -> None:
    sh("mount", "--rbind", src, dst)
    sh("mount", "-o", "remount,ro,bind", dst)


def inside(root: str, path: str) -> str:
    """``path`` resolved inside ``root`` (symbolic links followed within it, like a runtime's securejoin)."""
    cur = root
    for part in [p for p in path.split("/") if p]:
        nxt = os.path.join(cur, part)
        hops = 0
        while os.path.islink(nxt) and hops < 10:
            target = os.readlink(nxt)
            nxt = os.path.join(root, target.lstrip("/")) if target.startswith("/") else os.path.join(cur, target)
            hops += 1
        cur = nxt
    return cur


def main() -> None:
    with open(sys.argv[1]) as fh:
        p = json.load(fh)
    os.dup2(1, 2)  # one log stream
    sh("mount", "--make-rprivate", "/")
    root = p["root"]
    os.makedirs(root, exist_ok=True)
    sh("mount", "-t", "tmpfs", "-o", "mode=0755", "kubecis-ctr", root)
    for d in ("etc", "proc", "dev", "tmp", "var", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    bind_ro("/dev", os.path.join(root, "dev"))
    for src in p["image"]:
        if os.path.islink(src) and os.path.dirname(src) == "/":  # usrmerge: /bin -> usr/bin
            os.symlink(os.readlink(src), os.path.join(root, src.lstrip("/")))
            continue
        dst = os.path.join(root, src.lstrip("/"))
        os.makedirs(dst, exist_ok=True)
        bind_ro(src, dst)
    for m in p["mounts"]:
        src, dst, kind = m["src"], inside(root, m["dst"]), m["kind"]
        if kind == "File":
            if not os.path.isfile(src):
                sys.stderr.write(f"hostPath type check failed: {src} is not a file\n")
                sys.exit(125)
            if not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                open(dst, "w").close()
            bind_ro(src, dst)
            continue
        if not os.path.exists(dst):
            os.makedirs(dst, exist_ok=True)
        if os.path.isdir(src):
            bind_ro(os.path.realpath(src), dst)
        # a missing host directory: the runtime would create it empty; the container sees it empty
    if p["host_pid"]:
        sh("mount", "-t", "proc", "proc", os.path.join(root, "proc"))
    sh("mount", "-o", "remount,ro", root)  # readOnlyRootFilesystem
    drop = ["setpriv", "--reuid=0", "--regid=0", "--clear-groups", "--inh-caps=-all", "--ambient-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--"]
    argv = ["chroot", root, *drop, *p["argv"]]
    if not p["host_pid"]:
        argv = ["unshare", "-p", "-f", f"--mount-proc={os.path.join(root, 'proc')}", *argv]
    sys.stdout.flush()
    os.execvpe(argv[0], argv, p["env"])


if __name__ == "__main__":
    main()
