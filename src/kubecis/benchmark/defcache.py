"""A private on-disk cache of parsed controls files: a run does not parse YAML it has parsed before.

Parsing a benchmark's controls files (YAML, then the model) is most of what planning a run costs. The parsed
model, before any substitution (discovery differs per node and per run, so substitution still happens on every
run), is kept as plain data (JSON: strings, integers, booleans, arrays; nothing in it is ever run) in ``defs/``
under the cache directory the bundled definitions use (``$XDG_CACHE_HOME/kubecis`` or ``~/.cache/kubecis``, else
``$TMPDIR/kubecis-<euid>``), one entry per controls file (path and target type), holding the text it was parsed
from: it is used only when the file's text read now is the same.

The directory is a :func:`kubecis.privdir.private_dir` (walked from ``/`` before each use: only the effective
user can have made or changed it). An entry is read only when it is a regular file of the effective user's
that nobody else can write, and used only when it is exactly what this version of kubecis writes (format,
kubecis version, path, type and text match, every value has its expected type). Anything else (an entry
from another version, a corrupt or foreign file, no usable directory) is a miss: the file is parsed and the
entry rewritten (atomically); a cache that cannot be written is silently skipped. At most
:data:`MAX_ENTRIES` entries are kept.
"""

from __future__ import annotations

import binascii
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubecis import __version__
from kubecis.benchmark.model import Check, Compare, Controls, Group, TestItem, Tests
from kubecis.privdir import cache_root

if TYPE_CHECKING:
    from kubecis.benchmark.loader import Diagnostic, Loaded

FORMAT = 1
MAX_ENTRIES = 512
MAX_ENTRY_BYTES = 64 << 20
SUFFIX = ".defs"


class _Bad(Exception):
    """An entry that is not what this version writes."""


def _dir() -> Path | None:
    """The cache directory (created where missing), checked; None when none is usable."""
    from kubecis.privdir import private_dir

    for r in (cache_root(), "tmp"):
        if r is None:
            continue
        if r == "tmp":
            import tempfile

            try:
                r = Path(tempfile.gettempdir()) / f"kubecis-{os.geteuid()}"
            except OSError:
                return None
        d = Path(r) / "defs"
        try:
            return private_dir(d)
        except OSError:
            continue
    return None


def _key(path: str, expected_type: str | None) -> str:
    """The entry's file name (two files sharing one just take turns: the entry names its path and type)."""
    data = f"{path}\0{expected_type}".encode("utf-8", "surrogateescape")
    return f"{binascii.crc32(data):08x}-{len(data)}"


def load(path: str, text: str, expected_type: str | None) -> Loaded | None:
    """The cached parse of ``text`` (the controls file at ``path``), or None."""
    try:
        d = _dir()
        if d is None:
            return None
        fd = os.open(d / (_key(path, expected_type) + SUFFIX), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid()
                or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or st.st_size > MAX_ENTRY_BYTES):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_ENTRY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        fmt, version, epath, etype, etext, controls, diags = _t(json.loads(data), 7)
        if (fmt, version, epath, etype, etext) != (FORMAT, __version__, path, expected_type, text):
            return None
        return _loaded(controls, diags, text)
    except (_Bad, ValueError, TypeError, RecursionError):
        return None


def store(path: str, expected_type: str | None, loaded: Loaded) -> None:
    """Keep ``loaded`` (the parse of ``loaded.text``, the file at ``path``) for the next run; errors are ignored."""
    entry = (FORMAT, __version__, path, expected_type, loaded.text, _controls_data(loaded.controls),
             tuple((x.path, x.line, x.message) for x in loaded.diagnostics))
    try:
        d = _dir()
        if d is None:
            return
        data = json.dumps(entry, separators=(",", ":")).encode("ascii")  # non-ASCII escaped: any path round-trips
        names = os.listdir(d)
        if len(names) >= MAX_ENTRIES:
            _prune(d, names)
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, d / (_key(path, expected_type) + SUFFIX))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, ValueError):
        return


def _prune(d: Path, names: list[str]) -> None:
    """Remove the older half of the entries."""
    aged: list[tuple[float, str]] = []
    for n in names:
        try:
            aged.append((os.lstat(d / n).st_mtime, n))
        except OSError:
            continue
    for _, n in sorted(aged)[: len(aged) // 2 + 1]:
        try:
            os.unlink(d / n)
        except OSError:
            continue


# ---- the model as plain data, and back (every value checked) ----------------------------------------------
def _controls_data(c: Controls) -> tuple[Any, ...]:
    return (c.id, c.version, c.text, c.type, c.source, tuple(
        (g.id, g.text, g.type, g.line, tuple(_check_data(k) for k in g.checks)) for g in c.groups))


def _check_data(k: Check) -> tuple[Any, ...]:
    tests = None if k.tests is None else (k.tests.bin_op, tuple(
        (i.flag, i.path, i.env, i.set, i.compare.op, i.compare.value) for i in k.tests.items))
    return (k.id, k.text, k.type, k.audit, k.audit_config, k.audit_env, tests, k.remediation, k.scored,
            k.use_multiple_values, k.disable_env_testing, k.fail_on_evidence, k.line, k.not_run)


def _t(v: Any, n: int) -> list[Any]:
    if type(v) is not list or len(v) != n:
        raise _Bad
    return v


def _seq(v: Any) -> list[Any]:
    if type(v) is not list:
        raise _Bad
    return v


def _strs(*vs: Any) -> None:
    for v in vs:
        if type(v) is not str:
            raise _Bad


def _bools(*vs: Any) -> None:
    for v in vs:
        if type(v) is not bool:
            raise _Bad


def _int(v: Any) -> int:
    if type(v) is not int:
        raise _Bad
    return v


def _loaded(controls: Any, diags: Any, text: str) -> Loaded:
    from kubecis.benchmark.loader import Diagnostic, Loaded

    cid, version, ctext, ctype, source, groups = _t(controls, 6)
    _strs(cid, version, ctext, ctype, source)
    out_diags: list[Diagnostic] = []
    for x in _seq(diags):
        p, line, message = _t(x, 3)
        _strs(p, message)
        out_diags.append(Diagnostic(p, _int(line), message))
    return Loaded(Controls(id=cid, version=version, text=ctext, type=ctype, source=source,
                           groups=tuple(_group(g) for g in _seq(groups))), out_diags, text)


def _group(g: Any) -> Group:
    gid, text, gtype, line, checks = _t(g, 5)
    _strs(gid, text, gtype)
    return Group(id=gid, text=text, type=gtype, line=_int(line), checks=tuple(_check(k) for k in _seq(checks)))


def _check(k: Any) -> Check:
    (cid, text, ctype, audit, audit_config, audit_env, tests, remediation, scored, multiple, no_env, on_evidence,
     line, not_run) = _t(k, 14)
    _strs(cid, text, ctype, audit, audit_config, audit_env, remediation, not_run)
    _bools(scored, multiple, no_env, on_evidence)
    return Check(id=cid, text=text, type=ctype, audit=audit, audit_config=audit_config, audit_env=audit_env,
                 tests=None if tests is None else _tests(tests), remediation=remediation, scored=scored,
                 use_multiple_values=multiple, disable_env_testing=no_env, fail_on_evidence=on_evidence,
                 line=_int(line), not_run=not_run)


def _tests(t: Any) -> Tests:
    bin_op, items = _t(t, 2)
    _strs(bin_op)
    out = []
    for i in _seq(items):
        flag, path, env, is_set, op, value = _t(i, 6)
        _strs(flag, path, env, op, value)
        _bools(is_set)
        out.append(TestItem(flag=flag, path=path, env=env, set=is_set, compare=Compare(op=op, value=value)))
    return Tests(bin_op=bin_op, items=tuple(out))


__all__ = ["FORMAT", "MAX_ENTRIES", "load", "store"]
