"""Helper scripts that kube-bench's container image puts on PATH, implemented natively.

Benchmark audits call them by bare name (the rke-cis sets run ``check_files_owner_in_dir.sh DIR``).
On a host without kube-bench's image they are missing and ``/bin/sh`` answers "not found"; natively
they give the answer the audit was written for, from the same stat facts the script reads.
"""

from __future__ import annotations

import posixpath

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.stat import stat_format

__all__ = ["u_check_files_owner_in_dir"]

_OWNER_OK = "root:root"
_ETCD_PREFIX = "kube-etcd-"
_UNSAFE = frozenset(" \t\n*?[")  # the script word-splits and globs these unquoted: decline, don't guess


def _owner(ctx: Ctx, path: str) -> str | None:
    """``stat -c %U:%G PATH`` (no -L: a symlink's own owner); None where stat would fail."""
    try:
        st = ctx.host.stat(ctx.path(path), follow_symlinks=False)
    except OSError:
        return None
    return stat_format(ctx, "%U:%G", path, st)


def u_check_files_owner_in_dir(ctx: Ctx, args: list[str]) -> int:
    """``check_files_owner_in_dir.sh DIR``: ``true`` iff DIR and every non-hidden entry directly in it are owned
    root:root (entries whose name, less a ``.pem`` suffix, starts with ``kube-etcd-`` may be etcd:etcd).

    As the script does: an empty or missing argument, a directory that is not root:root, or a directory with no
    (non-hidden) entries at all prints ``false``; the exit status is always 0.
    """
    directory = args[0] if args else ""
    if directory and (_UNSAFE & set(directory) or directory.startswith("-")):
        raise Unsupported("check_files_owner_in_dir.sh with a directory name the script would split or glob")
    if not directory or _owner(ctx, directory) != _OWNER_OK:
        ctx.write("false\n")
        return 0
    try:
        names = sorted(n for n in ctx.host.listdir(ctx.path(directory)) if not n.startswith("."))
    except OSError:
        names = []
    if not names:  # the glob stays unexpanded, stat fails, and the script reads one empty line
        ctx.write("false\n")
        return 0
    for name in names:
        if _UNSAFE & set(name):
            raise Unsupported("check_files_owner_in_dir.sh over a file name the script would split or glob")
        owner = _owner(ctx, posixpath.join(directory, name))
        if owner is None:  # vanished between listing and stat: the script skips stat's error line
            continue
        base = name[: -len(".pem")] if name.endswith(".pem") and name != ".pem" else name
        allowed = (_OWNER_OK, "etcd:etcd") if base.startswith(_ETCD_PREFIX) else (_OWNER_OK,)
        if owner not in allowed:
            ctx.write("false\n")
            return 0
    ctx.write("true\n")
    return 0
