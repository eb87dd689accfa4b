"""The OCI/Docker seccomp profile model: parse, validate shape, merge, serialise.

Pure logic only: no libseccomp, no processes. Syscall-name validation against
libseccomp lives in :mod:`kubecis.seccomp.libseccomp` (``validate_names``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubecis.seccomp.errors import SeccompError

ACTIONS = frozenset({
    "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",
})
#: Actions under which the syscall goes through (LOG only adds a kernel log line).
PERMITTING = frozenset({"SCMP_ACT_ALLOW", "SCMP_ACT_LOG"})

_TOP_KEYS = frozenset({"defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags"})
_RULE_KEYS = frozenset({"names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"})
_ACTION_ORDER = {"SCMP_ACT_ALLOW": 0, "SCMP_ACT_LOG": 1}
#: A syscall name as libseccomp spells them (also keeps NUL, ',', '!', '%', '/' out of strace's -e expressions).
SYSCALL_NAME = re.compile(r"[a-z0-9_]{1,64}")
ARCH_NAME = re.compile(r"SCMP_ARCH_[A-Z0-9_]{1,32}")
#: Bounds for profile files: real profiles are a few KiB and 4 levels deep.
MAX_PROFILE_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class Rule:
    """One ``syscalls[]`` entry: unconditional, by name."""

    action: str
    names: frozenset[str]
    errno_ret: int | None = None

    def key(self) -> tuple[str, int | None]:
        return (self.action, self.errno_ret)


@dataclass(frozen=True)
class Profile:
    default_action: str = "SCMP_ACT_ERRNO"
    default_errno_ret: int | None = 1
    architectures: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    flags: tuple[str, ...] = field(default=())

    # ---- queries -------------------------------------------------------------------------------

    def action_for(self, name: str) -> str:
        for r in self.rules:
            if name in r.names:
                return r.action
        return self.default_action

    def allows(self, name: str) -> bool:
        return self.action_for(name) in PERMITTING

    @property
    def default_permits(self) -> bool:
        return self.default_action in PERMITTING

    @property
    def confines_nothing(self) -> bool:
        """True if every syscall goes through (default permits, no rule restricts a name): unconfined."""
        return self.default_permits and not self.restricted_names()

    def allowed_names(self) -> frozenset[str]:
        """Names with an explicit permitting rule."""
        return frozenset(n for r in self.rules if r.action in PERMITTING for n in r.names)

    def restricted_names(self) -> frozenset[str]:
        """Names with an explicit non-permitting rule."""
        return frozenset(n for r in self.rules if r.action not in PERMITTING for n in r.names)

    def all_names(self) -> frozenset[str]:
        return frozenset(n for r in self.rules for n in r.names)

    # ---- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"defaultAction": self.default_action}
        if self.default_errno_ret is not None:
            out["defaultErrnoRet"] = self.default_errno_ret
        out["architectures"] = list(self.architectures)
        if self.flags:
            out["flags"] = list(self.flags)
        rules: list[dict[str, Any]] = []
        for r in self.rules:
            d: dict[str, Any] = {"names": sorted(r.names), "action": r.action}
            if r.errno_ret is not None:
                d["errnoRet"] = r.errno_ret
            rules.append(d)
        out["syscalls"] = rules
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def _normalise_rules(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """Group rules by (action, errno), reject a name given two different actions, sort (ALLOW first)."""
    grouped: dict[tuple[str, int | None], set[str]] = {}
    seen: dict[str, tuple[str, int | None]] = {}
    for r in rules:
        for n in r.names:
            prev = seen.get(n)
            if prev is not None and prev != r.key():
                raise SeccompError(f"syscall {n!r} has conflicting actions {prev[0]} and {r.action}")
            seen[n] = r.key()
        grouped.setdefault(r.key(), set()).update(r.names)
    keys = sorted(grouped, key=lambda k: (_ACTION_ORDER.get(k[0], 9), k[0], k[1] if k[1] is not None else -1))
    return tuple(Rule(k[0], frozenset(grouped[k]), k[1]) for k in keys if grouped[k])


def allow_profile(names: Iterable[str], architectures: Iterable[str], *, errno_ret: int = 1) -> Profile:
    """The shape ``learn`` writes: deny by default with EPERM, one sorted ALLOW rule."""
    return Profile(
        default_action="SCMP_ACT_ERRNO",
        default_errno_ret=errno_ret,
        architectures=tuple(sorted(set(architectures))),
        rules=_normalise_rules([Rule("SCMP_ACT_ALLOW", frozenset(names))]),
    )


def merge(a: Profile, b: Profile) -> Profile:
    """Union of two profiles (e.g. two learning runs or two replicas). Defaults must agree."""
    if (a.default_action, a.default_errno_ret) != (b.default_action, b.default_errno_ret):
        raise SeccompError(
            f"cannot merge profiles with different default actions "
            f"({a.default_action}/{a.default_errno_ret} vs {b.default_action}/{b.default_errno_ret})"
        )
    return Profile(
        default_action=a.default_action,
        default_errno_ret=a.default_errno_ret,
        architectures=tuple(sorted(set(a.architectures) | set(b.architectures))),
        rules=_normalise_rules([*a.rules, *b.rules]),
        flags=tuple(sorted(set(a.flags) | set(b.flags))),
    )


# ---- parsing ---------------------------------------------------------------------------------------


def _errno(value: object, where: str) -> int:
    # SPO spells errnoRet as a string; OCI as an integer. Accept both, strictly.
    if isinstance(value, bool):
        raise SeccompError(f"{where}: must be an integer errno, got {value!r}")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
    else:
        raise SeccompError(f"{where}: must be an integer errno, got {value!r}")
    if not 0 <= n <= 4095:
        raise SeccompError(f"{where}: errno {n} out of range 0..4095")
    return n


def _action(value: object, where: str) -> str:
    if not isinstance(value, str) or value not in ACTIONS:
        expected = ", ".join(sorted(ACTIONS))
        raise SeccompError(f"{where}: unknown action {value!r} (expected one of {expected})")
    return value


def _str_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise SeccompError(f"{where}: must be a list of non-empty strings")
    return list(value)


def _names(value: object, where: str) -> list[str]:
    names = _str_list(value, where)
    for n in names:
        if not SYSCALL_NAME.fullmatch(n):
            raise SeccompError(f"{where}: invalid syscall name {n!r} (lowercase letters, digits and '_' only)")
    return names


def _opt(data: Mapping[str, Any], key: str) -> Any:
    """An optional list field: absent or null means empty; anything else is checked by the caller."""
    value = data.get(key)
    return [] if value is None else value


def parse(data: object, *, source: str) -> Profile:
    """Validate the OCI/Docker profile shape and build a :class:`Profile`; errors name ``source``."""
    if not isinstance(data, Mapping):
        raise SeccompError(f"{source}: a seccomp profile must be a JSON object")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise SeccompError(f"{source}: unknown field {unknown[0]!r}")
    if "defaultAction" not in data:
        raise SeccompError(f"{source}: missing required field 'defaultAction'")
    default = _action(data["defaultAction"], f"{source}: defaultAction")
    errno_ret: int | None = None
    if data.get("defaultErrnoRet") is not None:
        errno_ret = _errno(data["defaultErrnoRet"], f"{source}: defaultErrnoRet")
    archs = _str_list(_opt(data, "architectures"), f"{source}: architectures")
    arch_map = _opt(data, "archMap")
    if not isinstance(arch_map, list):
        raise SeccompError(f"{source}: archMap must be a list")
    for i, entry in enumerate(arch_map):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("architecture"), str):
            raise SeccompError(f"{source}: archMap[{i}] must have an 'architecture' string")
        archs.append(entry["architecture"])
        subs = _opt(entry, "subArchitectures")
        archs.extend(_str_list(subs, f"{source}: archMap[{i}].subArchitectures"))
    for a in archs:
        if not ARCH_NAME.fullmatch(a):
            raise SeccompError(f"{source}: unknown architecture {a!r} (expected SCMP_ARCH_*)")
    flags = _str_list(_opt(data, "flags"), f"{source}: flags")
    raw_rules = _opt(data, "syscalls")
    if not isinstance(raw_rules, list):
        raise SeccompError(f"{source}: syscalls must be a list")
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        where = f"{source}: syscalls[{i}]"
        if not isinstance(raw, Mapping):
            raise SeccompError(f"{where}: must be an object")
        bad = sorted(set(raw) - _RULE_KEYS)
        if bad:
            raise SeccompError(f"{where}: unknown field {bad[0]!r}")
        for cond in ("args", "includes", "excludes"):
            if raw.get(cond):
                raise SeccompError(f"{where}: conditional rules ({cond}) are not supported by kubecis")
        raw_names = raw.get("names")
        if raw_names is None:
            raw_names = [raw["name"]] if "name" in raw else []
        names = _names(raw_names, f"{where}: names")
        if not names:
            raise SeccompError(f"{where}: names must not be empty")
        if "action" not in raw:
            raise SeccompError(f"{where}: missing required field 'action'")
        action = _action(raw["action"], f"{where}: action")
        rerr = _errno(raw["errnoRet"], f"{where}: errnoRet") if raw.get("errnoRet") is not None else None
        rules.append(Rule(action, frozenset(names), rerr))
    try:
        norm = _normalise_rules(rules)
    except SeccompError as e:
        raise SeccompError(f"{source}: {e}") from None
    return Profile(
        default_action=default,
        default_errno_ret=errno_ret,
        architectures=tuple(dict.fromkeys(archs)),
        rules=norm,
        flags=tuple(flags),
    )


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_json_depth(text: str, *, source: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` before the (recursive) decoder sees it."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok in "[{":
            depth += 1
            if depth > limit:
                raise SeccompError(f"{source}: not a seccomp profile: JSON nested deeper than {limit} levels")
        elif tok in "]}":
            depth -= 1


def loads(text: str, *, source: str) -> Profile:
    if len(text) > MAX_PROFILE_BYTES:
        raise SeccompError(f"{source}: too large for a seccomp profile ({len(text)} bytes, "
                           f"limit {MAX_PROFILE_BYTES})")
    check_json_depth(text, source=source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SeccompError(f"{source}: not valid JSON: line {e.lineno} column {e.colno}: {e.msg}") from None
    except (ValueError, RecursionError) as e:  # e.g. an integer beyond Python's digit limit
        raise SeccompError(f"{source}: not valid JSON: {str(e).splitlines()[0]}") from None
    return parse(data, source=source)


def load(path: str | os.PathLike[str]) -> Profile:
    """Read and validate the shape of a profile file (one clear error if unreadable or malformed)."""
    p = Path(path)
    try:
        text = read_bounded(p, MAX_PROFILE_BYTES)
    except FileNotFoundError:
        raise SeccompError(f"{p}: no such profile file") from None
    except IsADirectoryError:
        raise SeccompError(f"{p}: is a directory, not a profile file") from None
    except PermissionError:
        raise SeccompError(f"{p}: cannot read profile: permission denied") from None
    except UnicodeDecodeError:
        raise SeccompError(f"{p}: not valid JSON: not UTF-8 text") from None
    except OSError as e:
        raise SeccompError(f"{p}: cannot read profile: {e.strerror or e}") from None
    return loads(text, source=str(p))


def read_bounded(path: Path, limit: int) -> str:
    """UTF-8 text of a regular file of at most ``limit`` bytes (a FIFO or device is refused, never read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise SeccompError(f"{path}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise SeccompError(f"{path}: too large for a profile (more than {limit} bytes)")
    return data.decode("utf-8")


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same directory + rename (never half-written)."""
    p = Path(path)
    directory = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise SeccompError(f"cannot write {p}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise SeccompError(f"cannot write {p}: {e.strerror or e}") from None
