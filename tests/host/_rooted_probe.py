"""Reads a ``--root`` tree every way kubecis does, twice, and prints what it got as JSON.

    python _rooted_probe.py DIR RESOLVER CFG_DIR PATH...

The first pass warms up (imports, compiled regexes); the second is bracketed by two failing ``stat``
calls on ``/KUBECIS-PROBE-BEGIN`` and ``/KUBECIS-PROBE-END`` so a tracer (strace) can check that every
file system access in between stayed under DIR. Only the second pass's results are printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from kubecis.audit.native import NativeExecutor
from kubecis.benchmark.config import Config
from kubecis.discovery import discover
from kubecis.host.rooted import RootedHost

SCRIPTS = [
    "ps -ef",
    "ps -C kubelet -o pid=,cmd=",
    "cat /proc/*/cmdline",
    "cat /proc/*/environ",
    "cat /etc/kubernetes/* /etc/passwd",
    "stat -c '%n %U:%G %a %F' /etc/kubernetes/* /proc/1/root /proc/self/root /proc/self/cwd /var/lib/kubelet",
    "find /etc /var/lib /proc/1 -maxdepth 3",
    "cat /proc/1/root/etc/passwd",
    "grep -r . /etc/kubernetes",
]


def _err(exc: BaseException) -> str:
    return f"{type(exc).__name__}:{getattr(exc, 'errno', '')}"


def probe(root: str, resolver: Any, cfg: Config, paths: list[str]) -> dict[str, Any]:
    host = RootedHost(root, resolver=resolver)
    out: dict[str, Any] = {"resolver": host.resolver}
    out["processes"] = [[p.pid, p.comm, list(p.cmdline)] for p in host.processes()]
    envs: dict[str, str] = {}
    for pid in [1, *range(10, 20), *range(100, 110)]:
        try:
            envs[str(pid)] = host.environ(pid).decode("utf-8", "replace")
        except OSError as exc:
            envs[str(pid)] = _err(exc)
    out["environ"] = envs
    res: dict[str, dict[str, str]] = {}
    for p in paths:
        r: dict[str, str] = {}
        for op, fn in (
            ("read", lambda q: host.read(q).decode("utf-8", "replace")),
            ("stat", lambda q: oct(host.stat(q).mode)),
            ("lstat", lambda q: oct(host.stat(q, follow_symlinks=False).mode)),
            ("listdir", lambda q: ",".join(sorted(host.listdir(q)))),
            ("readlink", host.readlink),
            ("exists", lambda q: str(host.exists(q))),
        ):
            try:
                r[op] = fn(p)
            except OSError as exc:
                r[op] = _err(exc)
        res[p] = r
    out["paths"] = res
    out["users"] = [host.user_name(0), host.group_name(0)]
    ex = NativeExecutor(host)
    out["audits"] = {s: [(r := ex.run(s)).output, r.returncode, r.not_run] for s in SCRIPTS}
    decisions = []
    for target in ("master", "node"):
        section = cfg.section(target)
        if section is not None:
            d = discover(section, host)
            decisions += [[x.component, x.kind, x.value, x.why] for x in d.decisions]
    out["discovery"] = decisions
    host.close()
    return out


def main() -> None:
    root, resolver, cfg_dir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    paths = sys.argv[4:]
    base = Config.load(cfg_dir)
    cfg = base.merged_with("cis-1.10")
    probe(root, resolver, cfg, paths)  # warm-up: every import and regex of the real pass
    with contextlib.suppress(OSError):
        os.stat("/KUBECIS-PROBE-BEGIN")
    out = probe(root, resolver, cfg, paths)
    with contextlib.suppress(OSError):
        os.stat("/KUBECIS-PROBE-END")
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
