"""Linux Landlock through ctypes, and the enforcement plan of a runtime profile.

Landlock (``landlock_create_ruleset`` / ``landlock_add_rule`` / ``landlock_restrict_self``) lets an
unprivileged process restrict itself and its future children: file access by hierarchy (a rule
on a directory covers everything beneath it; a rule on a file covers that file) and, from ABI 4,
TCP ``bind``/``connect`` by port. kubecis builds the ruleset in the parent and the child calls
``landlock_restrict_self`` right before ``execve``, together with the seccomp filter.

:func:`plan` is pure: it maps every rule of a profile to what Landlock can do with it on a given
ABI: ``exact``, ``coarser`` (enforced on a larger set: a directory for a name pattern, a port for an
address), or ``unenforced``, and lists what the kernel lacks. ``enforce`` refuses a plan with
missing pieces unless ``--best-effort``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import posixpath
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kubecis.profile.errors import ProfileError
from kubecis.profile.model import FILE_ACCESS, RuntimeProfile
from kubecis.profile.paths import DIR, FILE, NAMES, NAMES_TREE, TREE, PathRule

_NR_CREATE_RULESET = 444  # the same number on every architecture (added after the syscall table unification)
_NR_ADD_RULE = 445
_NR_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_RULE_NET_PORT = 2

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
RIGHT_NAMES = {
    EXECUTE: "execute", WRITE_FILE: "write_file", READ_FILE: "read_file", READ_DIR: "read_dir",
    REMOVE_DIR: "remove_dir", REMOVE_FILE: "remove_file", MAKE_CHAR: "make_char", MAKE_DIR: "make_dir",
    MAKE_REG: "make_reg", MAKE_SOCK: "make_sock", MAKE_FIFO: "make_fifo", MAKE_BLOCK: "make_block",
    MAKE_SYM: "make_sym", REFER: "refer", TRUNCATE: "truncate", IOCTL_DEV: "ioctl_dev",
}
#: Rights each profile category grants (before masking by what the ABI handles).
CATEGORY_RIGHTS = {
    "read": READ_FILE | READ_DIR,
    "write": WRITE_FILE | TRUNCATE,
    "create": (MAKE_REG | MAKE_DIR | MAKE_SYM | MAKE_SOCK | MAKE_FIFO | REMOVE_FILE | REMOVE_DIR | REFER
               | WRITE_FILE | TRUNCATE | READ_FILE | READ_DIR),
    "execute": EXECUTE | READ_FILE,
}
# "create" also lets the program use what it created: a new file has no rule of its own yet.
# "execute" includes read_file: the kernel opens a program (and its ELF interpreter) for reading to exec it.


def handled_fs(abi: int) -> int:
    if abi <= 0:
        return 0
    mask = (1 << 13) - 1
    if abi >= 2:
        mask |= REFER
    if abi >= 3:
        mask |= TRUNCATE
    if abi >= 5:
        mask |= IOCTL_DEV
    return mask


# ---- the kernel ------------------------------------------------------------------------------------


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPortAttr(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def kernel_abi() -> int:
    """The highest Landlock ABI this kernel offers (``LANDLOCK_CREATE_RULESET_VERSION``); 0 if none."""
    libc = _libc()
    rc = int(libc.syscall(ctypes.c_long(_NR_CREATE_RULESET), None, ctypes.c_size_t(0),
                          ctypes.c_uint32(_CREATE_RULESET_VERSION)))
    if rc < 0:
        return 0  # ENOSYS (not built in) or EOPNOTSUPP (disabled at boot)
    return rc


def kernel_abi_reason() -> str:
    """Why Landlock is unavailable (for messages)."""
    libc = _libc()
    rc = int(libc.syscall(ctypes.c_long(_NR_CREATE_RULESET), None, ctypes.c_size_t(0),
                          ctypes.c_uint32(_CREATE_RULESET_VERSION)))
    if rc >= 0:
        return f"Landlock ABI {rc}"
    err = ctypes.get_errno()
    if err == errno.EOPNOTSUPP:
        return "Landlock is built in but disabled (add 'landlock' to the lsm= boot parameter)"
    return "this kernel has no Landlock (CONFIG_SECURITY_LANDLOCK)"


class Ruleset:
    """A ruleset fd built in the parent; :meth:`restrict_step` is the child's ``landlock_restrict_self``."""

    def __init__(self, fs: int, net: int, scoped: int, abi: int) -> None:
        attr = _RulesetAttr(fs, net, scoped)
        size = 8 if abi < 4 else 16 if abi < 6 else 24
        libc = _libc()
        fd = int(libc.syscall(ctypes.c_long(_NR_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size),
                              ctypes.c_uint32(0)))
        if fd < 0:
            err = ctypes.get_errno()
            raise ProfileError(f"landlock_create_ruleset failed: {os.strerror(err)}")
        self.fd = fd

    def add_path(self, path: str, rights: int) -> None:
        try:
            pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError as e:
            raise ProfileError(f"cannot open {path} for a Landlock rule: {e.strerror}") from None
        try:
            attr = _PathBeneathAttr(rights, pfd)
            rc = int(_libc().syscall(ctypes.c_long(_NR_ADD_RULE), ctypes.c_int(self.fd),
                                     ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(attr), ctypes.c_uint32(0)))
            if rc != 0:
                err = ctypes.get_errno()
                raise ProfileError(f"landlock_add_rule({path}, {rights_text(rights)}) failed: {os.strerror(err)}")
        finally:
            os.close(pfd)

    def add_port(self, port: int, rights: int) -> None:
        attr = _NetPortAttr(rights, port)
        rc = int(_libc().syscall(ctypes.c_long(_NR_ADD_RULE), ctypes.c_int(self.fd), ctypes.c_int(_RULE_NET_PORT),
                                 ctypes.byref(attr), ctypes.c_uint32(0)))
        if rc != 0:
            err = ctypes.get_errno()
            raise ProfileError(f"landlock_add_rule(port {port}) failed: {os.strerror(err)}")

    def restrict_step(self) -> Callable[[], None]:
        """Runs in the child after fork (no_new_privs must be set): enter the Landlock domain."""
        libc, fd = _libc(), self.fd

        def step() -> None:
            if libc.syscall(ctypes.c_long(_NR_RESTRICT_SELF), ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"landlock_restrict_self: {os.strerror(err)}")

        return step

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def rights_text(rights: int) -> str:
    return "|".join(name for bit, name in RIGHT_NAMES.items() if rights & bit) or "none"


# ---- the plan -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One Landlock path rule: ``rights`` on ``path`` (beneath it, if a directory)."""

    path: str
    rights: int
    is_dir: bool


@dataclass(frozen=True)
class Status:
    section: str  # "files.read", "network.tcp.connect", ...
    rule: str
    status: str  # "exact" | "coarser" | "unenforced"
    detail: str = ""


@dataclass
class Plan:
    abi: int
    fs: int = 0
    net: int = 0
    scoped: int = 0
    grants: list[Grant] = field(default_factory=list)
    bind_ports: set[int] = field(default_factory=set)
    connect_ports: set[int] = field(default_factory=set)
    statuses: list[Status] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # restrictions the profile states that this kernel cannot
    conflicts: list[str] = field(default_factory=list)  # coarser grants that undo a narrower rule
    notes: list[str] = field(default_factory=list)

    @property
    def refusals(self) -> list[str]:
        return [*self.missing, *self.conflicts]

    def fs_allows(self, path: str, rights: int) -> bool:
        """Would Landlock allow ``rights`` on ``path`` (resolved)? Rights not handled are always allowed."""
        need = rights & self.fs
        if not need:
            return True
        have = 0
        for g in self.grants:
            if path == g.path or (g.is_dir and path.startswith(g.path.rstrip("/") + "/")):
                have |= g.rights
        return need & ~have == 0

    def tcp_allows(self, op: str, port: int) -> bool:
        bit = NET_CONNECT_TCP if op == "connect" else NET_BIND_TCP
        if not self.net & bit:
            return True
        return port in (self.connect_ports if op == "connect" else self.bind_ports)


StatFn = Callable[[str], os.stat_result | None]


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _existing(path: str, statf: StatFn) -> tuple[str, os.stat_result | None]:
    p = path
    while True:
        st = statf(p)
        if st is not None:
            return p, st
        if p == "/":
            return p, None
        p = posixpath.dirname(p)


def _target(rule: PathRule, category: str) -> tuple[str, bool, str]:
    """(path to put the Landlock rule on, whether that is coarser than the rule, why)."""
    if category == "create" and rule.kind in (FILE, DIR):
        parent = posixpath.dirname(rule.base)
        return parent, True, f"enforced as: create entries of any name beneath {parent}"
    if rule.kind == TREE:
        if rule.base == "/proc/self":
            return "/proc", True, "enforced as: /proc/** (every process's entries; ptrace access checks still apply)"
        return rule.base, False, ""
    if rule.kind in (NAMES, NAMES_TREE):
        return rule.base, True, f"enforced as: any name beneath {rule.base} (Landlock matches inodes, not names)"
    if rule.kind == DIR:
        return rule.base, True, f"enforced as: listing {rule.base} and every directory beneath it"
    return rule.base, False, ""


def plan(profile: RuntimeProfile, abi: int, *, statf: StatFn = _stat) -> Plan:
    """What Landlock (at ``abi``) can enforce of ``profile``; pure apart from ``statf``."""
    pl = Plan(abi=abi, fs=handled_fs(abi))
    if abi >= 4:
        pl.net = NET_BIND_TCP | NET_CONNECT_TCP
    abstract = [e for e in profile.network.unix_connect if e.path.startswith("@")]
    if abi >= 6 and not abstract:
        pl.scoped = SCOPE_ABSTRACT_UNIX_SOCKET

    if abi <= 0:
        pl.missing.append("every file rule (read, write, create, execute): no Landlock")
        pl.missing.append("TCP connect/bind by port: no Landlock")
    else:
        if abi < 3:
            pl.missing.append(f"truncation of files the profile does not let it write (needs ABI 3, have {abi})")
        if abi < 4:
            pl.missing.append(f"TCP connect/bind by port (needs ABI 4, have {abi})")
        if abi < 2:
            pl.notes.append("ABI 1: renaming or linking into another directory is always denied")
        if abi < 5:
            pl.notes.append(f"ioctl on devices is not restricted by Landlock (needs ABI 5, have {abi}); the seccomp "
                            "part still decides whether ioctl is allowed at all")
    if abi < 6 and not abstract:
        pl.missing.append(f"connecting to abstract unix sockets outside the sandbox (needs ABI 6, have {abi})")

    # ---- files
    by_path: dict[str, tuple[int, bool]] = {}
    coarse: list[tuple[str, int, bool, str]] = []  # (path, rights, is_dir, rule text)
    for category in FILE_ACCESS:
        for rule in profile.files.get(category):
            section = f"files.{category}"
            rights = CATEGORY_RIGHTS[category]
            if category == "read" and rule.kind == DIR:
                rights = READ_DIR
            if category in ("read", "write") and rule.base.startswith("/dev/"):
                rights |= IOCTL_DEV
            path, is_coarse, why = _target(rule, category)
            real, st = _existing(path, statf)
            if st is None or (real == "/" and path != "/"):
                pl.statuses.append(Status(section, rule.text, "exact",
                                          "nothing of it exists here: no access granted"))
                continue
            if real != path:
                is_coarse, why = True, f"enforced as: beneath {real} ({path} does not exist yet)"
            is_dir = stat.S_ISDIR(st.st_mode)
            if not is_dir:
                rights &= FILE_RIGHTS
            elif rule.kind == FILE and category != "create" and real == path:
                is_coarse, why = True, f"enforced as: {path} and everything beneath it (a directory)"
            rights &= pl.fs
            if abi <= 0:
                pl.statuses.append(Status(section, rule.text, "unenforced", "no Landlock"))
                continue
            old, _ = by_path.get(real, (0, is_dir))
            by_path[real] = (old | rights, is_dir)
            pl.statuses.append(Status(section, rule.text, "coarser" if is_coarse else "exact", why))
            if is_coarse:
                coarse.append((real, rights, is_dir, rule.text))
    pl.grants = [Grant(p, r, d) for p, (r, d) in sorted(by_path.items()) if r]

    # conflicts: a coarse grant that lets something be written/replaced which the profile only reads
    writers = WRITE_FILE | REMOVE_FILE | MAKE_REG
    for category in ("read", "execute"):
        for rule in profile.files.get(category):
            if profile.files.allows("write", rule.base) or profile.files.allows("create", rule.base):
                continue
            for path, rights, is_dir, text in coarse:
                top = path.rstrip("/") + "/"
                if rights & writers and is_dir and (rule.base.startswith(top) or (path == "/" and rule.base != "/")):
                    what = "written" if rights & WRITE_FILE else "removed or replaced"
                    pl.conflicts.append(f"{rule.text} ({category} only) could be {what}: rule {text!r} "
                                        f"is enforced on all of {path}")
                    break

    # ---- network
    net = profile.network
    for op, eps, ports in (("connect", net.tcp_connect, pl.connect_ports), ("bind", net.tcp_bind, pl.bind_ports)):
        for e in eps:
            section = f"network.tcp.{op}"
            if abi < 4:
                pl.statuses.append(Status(section, e.text, "unenforced", f"needs Landlock ABI 4, have {abi}"))
                continue
            ports.add(e.port)
            if e.address != "*":
                pl.statuses.append(Status(section, e.text, "coarser",
                                          f"enforced as: port {e.port} on any address (Landlock matches ports)"))
            else:
                pl.statuses.append(Status(section, e.text, "exact"))
    for op, eps in (("send", net.udp_send), ("bind", net.udp_bind)):
        for e in eps:
            pl.statuses.append(Status(f"network.udp.{op}", e.text, "coarser",
                                      "enforced as: UDP sockets allowed (seccomp), any destination or port "
                                      "(Landlock cannot restrict UDP)"))
    for e in net.unix_connect:
        if e.path.startswith("@"):
            pl.statuses.append(Status("network.unix.connect", e.text, "coarser",
                                      "enforced as: any abstract unix socket (scoping would block this one)"))
        else:
            pl.statuses.append(Status("network.unix.connect", e.text, "coarser",
                                      "enforced as: any unix socket path (Landlock cannot restrict connecting "
                                      "to a path)"))
    for e in net.unix_bind:
        detail = ("enforced through files.create (the socket file)" if not e.path.startswith("@")
                  else "enforced as: any abstract name (no Landlock rule for abstract bind)")
        pl.statuses.append(Status("network.unix.bind", e.text, "coarser", detail))
    return pl


def render_plan(pl: Plan, *, verbose: bool = True) -> list[str]:
    """Human lines: what is enforced how, and what is not."""
    counts = {s: sum(1 for x in pl.statuses if x.status == s) for s in ("exact", "coarser", "unenforced")}
    lines = [f"Landlock ABI {pl.abi}: {counts['exact']} rules exact, {counts['coarser']} coarser, "
             f"{counts['unenforced']} not enforced"]
    if verbose:
        for st in pl.statuses:
            if st.status != "exact":
                lines.append(f"  {st.status:<10} {st.section}: {st.rule}  -- {st.detail}")
    lines += [f"  cannot enforce: {m}" for m in pl.missing]
    lines += [f"  conflict: {c}" for c in pl.conflicts]
    lines += [f"  note: {n}" for n in pl.notes]
    return lines


def build(pl: Plan) -> Ruleset | None:
    """The ruleset for ``pl`` (None when Landlock is not used)."""
    if pl.abi <= 0:
        return None
    rs = Ruleset(pl.fs, pl.net, pl.scoped, pl.abi)
    try:
        for g in pl.grants:
            rs.add_path(g.path, g.rights)
        for port in sorted(pl.bind_ports):
            rs.add_port(port, NET_BIND_TCP)
        for port in sorted(pl.connect_ports):
            rs.add_port(port, NET_CONNECT_TCP)
    except ProfileError:
        rs.close()
        raise
    return rs


def describe_grants(grants: Iterable[Grant]) -> list[str]:
    return [f"{g.path}{'/**' if g.is_dir and g.path != '/' else ''}: {rights_text(g.rights)}" for g in grants]
