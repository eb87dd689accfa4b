"""A second seccomp filter that allows ``socket()`` only for the kinds (family/type) the profile lists.

Landlock cannot restrict UDP, raw or netlink sockets; the syscall list cannot tell ``socket`` for
TCP from ``socket`` for UDP. This small classic-BPF program, stacked on top of the profile's
filter, checks ``socket``'s first two arguments, so a profile learned from a program that never
used UDP denies creating a UDP socket (EACCES). Written by hand (a few instructions) because the
OCI profile format kubecis reads has no argument conditions.
"""

from __future__ import annotations

import errno
import struct
import sys
from collections.abc import Iterable

from kubecis.seccomp import libseccomp

FAMILY_NUMBERS = {"unix": 1, "inet": 2, "inet6": 10, "netlink": 16, "packet": 17}
TYPE_NUMBERS = {"stream": 1, "dgram": 2, "raw": 3, "seqpacket": 5}
_SOCK_TYPE_MASK = 0xF

# classic BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JA = 0x05
_AND_K = 0x54
_RET_K = 0x06
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000


def _ins(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def program(kinds: Iterable[str], *, arch_token: int, socket_nr: int) -> bytes:
    """BPF: for ``socket`` on the native architecture, allow only ``kinds`` ("inet/stream"...); everything
    else passes to the other filters. A kind "other" in a family (or a family "other") allows the rest."""
    allowed: dict[str, set[str]] = {}
    for kind in kinds:
        fam, _, typ = kind.partition("/")
        allowed.setdefault(fam, set()).add(typ)
    lo = 0 if sys.byteorder == "little" else 4  # low 32 bits of a 64-bit argument
    arg0, arg1 = 16 + lo, 24 + lo
    if "other" in allowed:
        return b""  # an unnamed family was seen: the filter cannot name what to allow
    # Build per-family blocks; jump targets are resolved at the end (labels: "allow", "deny", "next").
    blocks: list[list[tuple[int, str, str, int]]] = []
    for fam in sorted(allowed):
        if fam not in FAMILY_NUMBERS:
            continue
        types = allowed[fam]
        block: list[tuple[int, str, str, int]] = [(_JEQ_K, "", "next", FAMILY_NUMBERS[fam])]
        if "other" in types:
            block.append((_JA, "allow", "", 0))
        else:
            block.append((_LD_W_ABS, "", "", arg1))
            block.append((_AND_K, "", "", _SOCK_TYPE_MASK))
            for typ in sorted(types):
                if typ in TYPE_NUMBERS:
                    block.append((_JEQ_K, "allow", "", TYPE_NUMBERS[typ]))
            block.append((_JA, "deny", "", 0))
        blocks.append(block)
    head = [
        (_LD_W_ABS, "", "", 4),  # arch
        (_JEQ_K, "", "allow", arch_token),
        (_LD_W_ABS, "", "", 0),  # nr
        (_JEQ_K, "", "allow", socket_nr),
    ]
    flat: list[tuple[int, str, str, int]] = list(head)
    starts: list[int] = []
    for block in blocks:
        flat.append((_LD_W_ABS, "", "", arg0))
        starts.append(len(flat))
        flat.extend(block)
    deny_at = len(flat)
    allow_at = deny_at + 1

    def target(label: str, idx: int) -> int:
        """Relative jump from instruction ``idx`` to ``label``."""
        if label == "allow":
            return allow_at - idx - 1
        if label == "deny":
            return deny_at - idx - 1
        if label == "next":  # the next block's reload of arg0, or deny after the last block
            nxt = next((s - 1 for s in starts if s > idx), deny_at)
            return nxt - idx - 1
        return 0

    out: list[bytes] = []
    for i, (code, on_true, on_false, operand) in enumerate(flat):
        if code == _JA:
            out.append(_ins(code, 0, 0, target(on_true, i)))
        elif code == _JEQ_K:
            out.append(_ins(code, target(on_true, i), target(on_false, i), operand))
        else:
            out.append(_ins(code, 0, 0, operand))
    out.append(_ins(_RET_K, 0, 0, _SECCOMP_RET_ERRNO | errno.EACCES))
    out.append(_ins(_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
    if any(b > 255 for ins in out for b in struct.unpack("=HBBI", ins)[1:3]):
        raise ValueError("socket filter too large")  # pragma: no cover - a handful of kinds at most
    return b"".join(out)


def native_program(kinds: Iterable[str]) -> bytes:
    native = libseccomp.native_arch()
    tok = libseccomp.arch_token(native)
    nr = int(libseccomp.lib().seccomp_syscall_resolve_name_arch(tok, b"socket"))
    if nr < 0:
        return b""  # socketcall-only architectures: the filter cannot see socket()'s arguments
    return program(kinds, arch_token=tok, socket_nr=nr)
