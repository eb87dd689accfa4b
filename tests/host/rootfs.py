"""A hermetic node written as a plain directory tree, for ``--root DIR`` (no namespaces needed).

:func:`write_root` writes a :class:`~tests.hermetic.node.NodeSpec`'s files, directories, symlinks,
users and groups under DIR, and a ``DIR/proc`` holding one entry per spec process (``stat``,
``status``, ``cmdline``, ``environ``, as procfs lays them out), plus ``extra`` filler processes.
Owners are set with the node's numeric ids, so it needs root for files owned by others.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tests.hermetic.node import NodeSpec

BASE_USERS = (("root", 0, 0),)
BASE_GROUPS = (("root", 0),)
FIRST_PID = 100


def under(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _ids(spec: NodeSpec) -> tuple[dict[str, int], dict[str, int]]:
    users = {n: u for n, u, _ in BASE_USERS} | {u.name: u.uid for u in spec.users}
    groups = {n: g for n, g in BASE_GROUPS} | {g.name: g.gid for g in spec.groups}
    return users, groups


def _owner(name: str, table: dict[str, int]) -> int:
    return int(name) if name.isdigit() else table[name]


def fake_process(proc: Path, pid: int, comm: str, argv: Iterable[str], *, ppid: int = 1, uid: int = 0,
                 env: dict[str, str] | None = None) -> None:
    d = proc / str(pid)
    d.mkdir(parents=True)
    fields = ["S", str(ppid), str(pid), str(pid), "0", "-1", "4194560"] + ["0"] * 4 + ["12", "3"] + ["0"] * 6
    fields += ["500"] + ["0"] * 30
    (d / "stat").write_text(f"{pid} ({comm[:15]}) {' '.join(fields)}\n")
    (d / "status").write_text(f"Name:\t{comm[:15]}\nState:\tS (sleeping)\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    (d / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in argv))
    (d / "environ").write_bytes(b"".join(f"{k}={v}".encode() + b"\0" for k, v in (env or {}).items()))


def write_root(spec: NodeSpec, root: Path, *, extra: int = 0) -> None:
    users, groups = _ids(spec)
    (root / "etc").mkdir(parents=True, exist_ok=True)
    passwd = [f"{n}:x:{u}:{g}:{n}:/root:/bin/sh" for n, u, g in BASE_USERS]
    passwd += [f"{u.name}:x:{u.uid}:{u.gid}:{u.gecos}:{u.home}:{u.shell}" for u in spec.users]
    (root / "etc/passwd").write_text("\n".join(passwd) + "\n")
    group = [f"{n}:x:{g}:" for n, g in BASE_GROUPS] + [f"{g.name}:x:{g.gid}:{','.join(g.members)}" for g in spec.groups]
    (root / "etc/group").write_text("\n".join(group) + "\n")
    (root / "etc/hostname").write_text(spec.name + "\n")
    for d in spec.dirs:
        p = under(root, d.path)
        p.mkdir(parents=True, exist_ok=True)
        os.chmod(p, d.mode)
        os.chown(p, _owner(d.owner, users), _owner(d.group, groups))
    for f in spec.files:
        p = under(root, f.path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f.content.encode() if isinstance(f.content, str) else f.content)
        os.chmod(p, f.mode)
        os.chown(p, _owner(f.owner, users), _owner(f.group, groups))
    for s in spec.symlinks:
        p = under(root, s.path)
        p.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(s.target, p)
    proc = root / "proc"
    proc.mkdir(exist_ok=True)
    (proc / "stat").write_text("cpu  1 2 3 4\nbtime 1700000000\n")
    (proc / "uptime").write_text("1000.00 900.00\n")
    (proc / "sys/kernel").mkdir(parents=True)
    (proc / "sys/kernel/pid_max").write_text("4194304\n")
    fake_process(proc, 1, "systemd", ["/sbin/init"], ppid=0)
    pid = FIRST_PID
    for sp in spec.processes:
        fake_process(proc, pid, sp.name, sp.argv, env=dict(sp.env))
        pid += 1
    for i in range(extra):
        fake_process(proc, pid, "sleep", ["/bin/sh", "-c", f"sleep {i}\n echo filler {i}"], ppid=FIRST_PID - 1)
        pid += 1
