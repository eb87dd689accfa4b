"""ctypes binding to the system libseccomp (Debian: libseccomp2).

Only what kubecis needs: resolve syscall and architecture names, build a filter
from a :class:`~kubecis.seccomp.profile.Profile` and export it as classic BPF, so
the child can install it with one ``prctl`` right before ``execve`` (the way
runc/crun do it) without calling into libseccomp after ``fork``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import ARCH_NAME, SYSCALL_NAME, Profile

__NR_SCMP_ERROR = -1

# Action values from seccomp.h (kernel SECCOMP_RET_* as libseccomp spells them).
_ACTIONS: dict[str, int] = {
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL": 0x00000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_ERRNO": 0x00050000,
    "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_LOG": 0x7FFC0000,
    "SCMP_ACT_ALLOW": 0x7FFF0000,
}

# enum scmp_filter_attr
_SCMP_FLTATR_CTL_NNP = 3

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [
        ("len", ctypes.c_ushort),
        ("filter", ctypes.POINTER(_SockFilter)),
    ]


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as e:
        raise SeccompError(
            f"libseccomp is not available ({e}); install it (Debian: apt-get install libseccomp2)"
        ) from e
    u32, c_int, ctx = ctypes.c_uint32, ctypes.c_int, ctypes.c_void_p
    sigs: dict[str, tuple[object, list[object]]] = {
        "seccomp_init": (ctx, [u32]),
        "seccomp_release": (None, [ctx]),
        "seccomp_arch_add": (c_int, [ctx, u32]),
        "seccomp_arch_native": (u32, []),
        "seccomp_arch_resolve_name": (u32, [ctypes.c_char_p]),
        "seccomp_syscall_resolve_name": (c_int, [ctypes.c_char_p]),
        "seccomp_syscall_resolve_name_arch": (c_int, [u32, ctypes.c_char_p]),
        "seccomp_syscall_resolve_num_arch": (ctypes.c_void_p, [u32, c_int]),
        "seccomp_rule_add_array": (c_int, [ctx, u32, c_int, ctypes.c_uint, ctypes.c_void_p]),
        "seccomp_attr_set": (c_int, [ctx, c_int, u32]),
        "seccomp_export_bpf": (c_int, [ctx, c_int]),
    }
    for fname, (restype, argtypes) in sigs.items():
        fn = getattr(lib, fname)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


@functools.cache
def lib() -> ctypes.CDLL:
    """The loaded library (cached); :class:`SeccompError` if it is missing."""
    return _load()


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl.restype = ctypes.c_int
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    libc.free.restype = None
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


def arch_token(oci_arch: str) -> int:
    """``SCMP_ARCH_X86_64`` -> libseccomp's token (the kernel AUDIT_ARCH value)."""
    if oci_arch == "SCMP_ARCH_NATIVE":
        return int(lib().seccomp_arch_native())
    if not ARCH_NAME.fullmatch(oci_arch):
        raise SeccompError(f"unknown architecture {oci_arch!r} (expected SCMP_ARCH_*)")
    tok = int(lib().seccomp_arch_resolve_name(oci_arch[len("SCMP_ARCH_"):].lower().encode()))
    if tok == 0:
        raise SeccompError(f"unknown architecture {oci_arch!r} (libseccomp does not know it)")
    return tok


_KNOWN_ARCHES = ("X86_64", "X86", "X32", "ARM", "AARCH64", "MIPS", "MIPS64", "MIPS64N32", "MIPSEL",
                 "MIPSEL64", "MIPSEL64N32", "PPC", "PPC64", "PPC64LE", "S390", "S390X", "PARISC",
                 "PARISC64", "RISCV64")


def native_arch() -> str:
    """The OCI name of the host's architecture, e.g. ``SCMP_ARCH_X86_64``."""
    tok = int(lib().seccomp_arch_native())
    for a in _KNOWN_ARCHES:
        if int(lib().seccomp_arch_resolve_name(a.lower().encode())) == tok:
            return f"SCMP_ARCH_{a}"
    raise SeccompError(f"libseccomp reports an unknown native architecture 0x{tok:x}")


@functools.cache
def syscall_known(name: str) -> bool:
    """True if libseccomp knows ``name`` on any architecture (natively or as a pseudo syscall).

    Only well-formed names are asked: C strings end at a NUL, so ``"read\\0x"`` would resolve as ``read``."""
    if not SYSCALL_NAME.fullmatch(name):
        return False
    b = name.encode()
    if int(lib().seccomp_syscall_resolve_name(b)) != __NR_SCMP_ERROR:
        return True
    for a in _KNOWN_ARCHES:
        tok = int(lib().seccomp_arch_resolve_name(a.lower().encode()))
        if tok and int(lib().seccomp_syscall_resolve_name_arch(tok, b)) != __NR_SCMP_ERROR:
            return True
    return False


def syscall_name(arch: int, nr: int) -> str | None:
    """Syscall number -> name on ``arch`` (a libseccomp token), or None."""
    p = lib().seccomp_syscall_resolve_num_arch(arch, nr)
    if not p:
        return None
    try:
        return ctypes.string_at(p).decode()
    finally:
        _libc().free(p)


def validate_names(profile: Profile, *, source: str) -> None:
    """Every syscall name and architecture must be known to libseccomp; else one clear error."""
    for a in profile.architectures:
        try:
            arch_token(a)
        except SeccompError as e:
            raise SeccompError(f"{source}: {e}") from None
    for idx, rule in enumerate(profile.rules):
        for name in rule.names:
            if not syscall_known(name):
                raise SeccompError(
                    f"{source}: syscalls[{idx}]: unknown syscall {name!r} (libseccomp does not know it)"
                )


def _action(name: str, errno_ret: int | None) -> int:
    base = _ACTIONS[name]
    if name in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        return base | ((errno_ret if errno_ret is not None else 1) & 0xFFFF)
    return base


@dataclass(frozen=True)
class CompiledFilter:
    """A classic-BPF seccomp program, ready to install with :func:`install` in a child."""

    program: bytes

    @property
    def instructions(self) -> int:
        return len(self.program) // ctypes.sizeof(_SockFilter)

    def preexec(self) -> Callable[[], None]:
        """A ``preexec_fn`` that sets no_new_privs and installs the filter (all buffers built here)."""
        install = self.install_step()
        libc = _libc()

        def _preexec() -> None:
            if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")
            install()

        return _preexec

    def install_step(self) -> Callable[[], None]:
        """Install the filter (no_new_privs must be set already); every buffer is built here, before fork."""
        n = self.instructions
        arr = (_SockFilter * n).from_buffer_copy(self.program)
        prog = _SockFprog(n, ctypes.cast(arr, ctypes.POINTER(_SockFilter)))
        libc = _libc()
        prog_p = ctypes.cast(ctypes.pointer(prog), ctypes.c_void_p)

        def _install() -> None:
            _ = arr  # keep the instruction buffer alive
            if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, prog_p, 0, 0) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"prctl(PR_SET_SECCOMP): {os.strerror(err)}")

        return _install


def compile_profile(profile: Profile) -> CompiledFilter:
    """Build the filter with libseccomp (native arch + the profile's) and export it as BPF."""
    lib_ = lib()
    ctx = lib_.seccomp_init(_action(profile.default_action, profile.default_errno_ret))
    if not ctx:
        raise SeccompError("seccomp_init failed")
    try:
        native = int(lib_.seccomp_arch_native())
        for a in profile.architectures:
            tok = arch_token(a)
            if tok != native:
                rc = int(lib_.seccomp_arch_add(ctx, tok))
                if rc not in (0, -17):  # -EEXIST
                    raise SeccompError(f"cannot add architecture {a}: {os.strerror(-rc)}")
        default = _action(profile.default_action, profile.default_errno_ret)
        for rule in profile.rules:
            act = _action(rule.action, rule.errno_ret)
            if act == default:
                continue  # libseccomp rejects rules equal to the default action
            for name in rule.names:
                nr = int(lib_.seccomp_syscall_resolve_name(name.encode()))
                if nr == __NR_SCMP_ERROR:
                    raise SeccompError(f"unknown syscall {name!r} (libseccomp does not know it)")
                rc = int(lib_.seccomp_rule_add_array(ctx, act, nr, 0, None))
                # -EDOM/-EINVAL: the name has no number on any arch of this filter; it can't be used anyway.
                if rc not in (0, -22, -33, -17):
                    raise SeccompError(f"cannot add rule for {name}: {os.strerror(-rc)}")
        with tempfile.TemporaryFile() as f:
            rc = int(lib_.seccomp_export_bpf(ctx, f.fileno()))
            if rc != 0:
                raise SeccompError(f"seccomp_export_bpf failed: {os.strerror(-rc)}")
            f.seek(0)
            program = f.read()
    finally:
        lib_.seccomp_release(ctx)
    if not program or len(program) % ctypes.sizeof(_SockFilter):
        raise SeccompError("libseccomp exported an empty or truncated filter")
    return CompiledFilter(program)
