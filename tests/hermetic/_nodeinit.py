"""PID 1 of a hermetic node (see node.py).  Standard library only; run as
``unshare -m -p -f --mount-proc --kill-child python -I -S _nodeinit.py <job>/spec.json``.

Builds the node described in the JSON payload, starts its processes, then execs the command.
On any setup error it prints ``kubecis-node-setup-error: ...`` to stderr and exits with the
payload's ``setup_failed_exit`` code.
"""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from typing import Any


class SetupError(Exception):
    pass


def sh(*argv: str) -> None:
    res = subprocess.run(list(argv), capture_output=True, text=True)
    if res.returncode != 0:
        raise SetupError(f"{' '.join(argv)}: {res.stderr.strip()}")


def mountpoints() -> dict[str, str]:
    """mountpoint -> fstype, from this namespace's mountinfo (last mount wins)."""
    out: dict[str, str] = {}
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            left, right = line.split(" - ", 1)
            mp = left.split()[4].replace("\\040", " ")
            out[mp] = right.split()[0]
    return out


class Node:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.p = payload
        self.spec: dict[str, Any] = payload["spec"]
        self.roots: list[str] = payload["roots"]
        self.scratch: str = payload["scratch"]
        self.writable: list[str] = []

    # -- safety: every write must land inside one of our own mounts ----------------------------
    def check_writable(self, path: str) -> None:
        path = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        if not any(path == r or path.startswith(r.rstrip("/") + "/") for r in self.writable):
            raise SetupError(f"refusing to write {path}: not under a private overlay/tmpfs")

    def setup_mounts(self) -> None:
        sh("mount", "--make-rprivate", "/")
        sh("mount", "-t", "tmpfs", "-o", "mode=0700", "kubecis-scratch", self.scratch)
        for i, root in enumerate(self.roots):
            upper = os.path.join(self.scratch, f"up{i}")
            work = os.path.join(self.scratch, f"work{i}")
            os.mkdir(upper)
            os.mkdir(work)
            st = os.stat(root)
            os.chmod(upper, st.st_mode & 0o7777)
            os.chown(upper, st.st_uid, st.st_gid)
            sh(
                "mount",
                "-t",
                "overlay",
                "kubecis-overlay",
                "-o",
                f"lowerdir={root},upperdir={upper},workdir={work}",
                root,
            )
        mps = mountpoints()
        for root in self.roots:
            if mps.get(root) != "overlay":
                raise SetupError(f"overlay on {root} did not mount")
            self.writable.append(root)
        for mask in self.spec["masks"]:
            if os.path.isdir(mask) and not os.path.islink(mask):
                sh("mount", "-t", "tmpfs", "-o", "mode=0755", "kubecis-mask", mask)
                self.writable.append(os.path.realpath(mask))
            elif os.path.lexists(mask):
                self.check_writable(mask)
                os.unlink(mask)

    def hide(self) -> None:
        for path in self.spec["hidden"]:
            if not os.path.lexists(path):
                continue
            self.check_writable(path)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)

    def users(self) -> None:
        if self.spec["groups"]:
            with open("/etc/group", "a") as fh:
                for g in self.spec["groups"]:
                    fh.write(f"{g['name']}:x:{g['gid']}:{','.join(g['members'])}\n")
        if self.spec["users"]:
            with open("/etc/passwd", "a") as fh:
                for u in self.spec["users"]:
                    fh.write(f"{u['name']}:x:{u['uid']}:{u['gid']}:{u['gecos']}:{u['home']}:{u['shell']}\n")

    @staticmethod
    def ids(owner: str, group: str) -> tuple[int, int]:
        uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        return uid, gid

    def makedirs(self, path: str) -> None:
        if os.path.isdir(path):
            return
        parent = os.path.dirname(path)
        self.makedirs(parent)
        self.check_writable(path)
        os.mkdir(path, 0o755)

    def write_tree(self) -> None:
        for d in self.spec["dirs"]:
            self.makedirs(d["path"])
            os.chown(d["path"], *self.ids(d["owner"], d["group"]))
            os.chmod(d["path"], d["mode"])
        for f in self.spec["files"]:
            path = f["path"]
            self.makedirs(os.path.dirname(path))
            self.check_writable(path)
            if os.path.lexists(path):
                os.unlink(path)
            with open(path, "wb") as fh:
                fh.write(base64.b64decode(f["content"]))
            os.chown(path, *self.ids(f["owner"], f["group"]))
            os.chmod(path, f["mode"])
        for s in self.spec["symlinks"]:
            self.makedirs(os.path.dirname(s["path"]))
            self.check_writable(s["path"])
            if os.path.lexists(s["path"]):
                os.unlink(s["path"])
            os.symlink(s["target"], s["path"])

    def install_standin(self, path: str) -> None:
        self.makedirs(os.path.dirname(path))
        self.check_writable(path)
        if os.path.lexists(path):
            os.unlink(path)
        shutil.copyfile(self.p["standin"], path)
        os.chmod(path, 0o755)

    def binaries(self) -> None:
        for b in self.spec["binaries"]:
            self.install_standin(b["path"])
            for suffix, key in ((".version", "version_text"), (".version.json", "version_json")):
                if b[key] is not None:
                    with open(b["path"] + suffix, "w") as fh:
                        fh.write(b[key])
            if not b["daemon"]:
                with open(b["path"] + ".cli", "w") as fh:
                    fh.write("command-line stand-in\n")

    def start_processes(self) -> None:
        started: list[tuple[int, bytes]] = []
        for proc in self.spec["processes"]:
            exe = proc["exe"]
            if not os.path.exists(exe):
                self.install_standin(exe)
            child = subprocess.Popen(
                proc["argv"],
                executable=exe,
                env=proc["env"],
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            want = b"".join(a.encode() + b"\0" for a in proc["argv"])
            started.append((child.pid, want))
        deadline = time.monotonic() + 10
        for pid, want in started:
            while True:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        if fh.read() == want:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SetupError(f"process {pid} did not show its argv in time")
                time.sleep(0.005)


def main() -> None:
    with open(sys.argv[1]) as fh:
        payload = json.load(fh)
    try:
        if os.getpid() != 1:
            raise SetupError("not PID 1 of a new PID namespace")
        node = Node(payload)
        node.setup_mounts()
        node.hide()
        node.users()
        node.write_tree()
        node.binaries()
        node.start_processes()
        os.chdir(payload["cwd"])
    except (SetupError, OSError, KeyError, subprocess.SubprocessError) as exc:
        sys.stderr.write(f"kubecis-node-setup-error: {exc}\n")
        sys.exit(payload.get("setup_failed_exit", 121))
    sys.stdout.flush()
    try:
        os.execvpe(payload["argv"][0], payload["argv"], payload["env"])
    except OSError as exc:
        sys.stderr.write(f"kubecis-node: cannot execute {payload['argv'][0]}: {exc}\n")
        sys.exit(127)


if __name__ == "__main__":
    main()
