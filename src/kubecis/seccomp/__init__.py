"""Seccomp profiles learned from observed syscalls: learn -> audit -> enforce.

Pure logic: :mod:`.profile` (model, parse, merge), :mod:`.groups` (show/diff), :mod:`.export`,
:mod:`.base` (runtime base set). System layers: :mod:`.trace` (strace), :mod:`.libseccomp`
(ctypes), orchestrated by :mod:`.runner`.
"""

from kubecis.seccomp.errors import SeccompError

__all__ = ["SeccompError"]
