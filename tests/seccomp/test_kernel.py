"""libseccomp binding and real kernel filters (no strace involved)."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest

from kubecis.seccomp import libseccomp, runner
from kubecis.seccomp.base import RUNTIME_BASE_SET
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import Profile, Rule, allow_profile, loads

pytestmark = pytest.mark.usefixtures("needs_seccomp")


def test_names_resolve() -> None:
    assert libseccomp.syscall_known("read")
    assert libseccomp.syscall_known("socketcall")  # not on x86_64, known on x86: a pseudo syscall
    assert not libseccomp.syscall_known("no_such_syscall")
    native = libseccomp.native_arch()
    assert native.startswith("SCMP_ARCH_")
    tok = libseccomp.arch_token(native)
    nr = int(libseccomp.lib().seccomp_syscall_resolve_name_arch(tok, b"getppid"))
    assert libseccomp.syscall_name(tok, nr) == "getppid"
    with pytest.raises(SeccompError, match="unknown architecture 'SCMP_ARCH_VAX'"):
        libseccomp.arch_token("SCMP_ARCH_VAX")


def test_base_set_known_to_libseccomp() -> None:
    assert all(libseccomp.syscall_known(n) for n in RUNTIME_BASE_SET)


def test_unknown_name_rejected_with_one_line() -> None:
    p = loads(
        '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","frobnicate"],'
        '"action":"SCMP_ACT_ALLOW"}]}',
        source="bad.json",
    )
    with pytest.raises(SeccompError) as ei:
        libseccomp.validate_names(p, source="bad.json")
    assert (
        str(ei.value) == "bad.json: syscalls[0]: unknown syscall 'frobnicate' (libseccomp does not know it)"
    )


def test_compile_produces_bpf() -> None:
    c = libseccomp.compile_profile(allow_profile(["read", "write"], [libseccomp.native_arch()]))
    assert c.instructions > 4 and len(c.program) == 8 * c.instructions


def _run_under(profile: Profile, code: str) -> subprocess.CompletedProcess[str]:
    c = libseccomp.compile_profile(profile)
    return subprocess.run(
        [sys.executable, "-B", "-c", code], preexec_fn=c.preexec(), capture_output=True, text=True, timeout=60
    )


def _permissive_but(action: str, errno_ret: int | None, names: list[str]) -> Profile:
    return Profile("SCMP_ACT_ALLOW", None, (), (Rule(action, frozenset(names), errno_ret),))


def test_kernel_filter_returns_the_configured_errno() -> None:
    # Everything allowed except uname -> EACCES (errnoRet 13) and getpgid -> EPERM (no errnoRet).
    prof = Profile(
        "SCMP_ACT_ALLOW",
        None,
        (),
        (
            Rule("SCMP_ACT_ERRNO", frozenset({"uname"}), 13),
            Rule("SCMP_ACT_ERRNO", frozenset({"getpgid"}), None),
        ),
    )
    code = (
        "import os\n"
        "for name, call in (('uname', os.uname), ('getpgid', lambda: os.getpgid(0))):\n"
        "    try:\n        call(); print(name, 'ok')\n"
        "    except OSError as e:\n        print(name, e.errno)\n"
    )
    r = _run_under(prof, code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"uname {errno.EACCES}", f"getpgid {errno.EPERM}"]
    # Control: without the filter both succeed.
    free = subprocess.run([sys.executable, "-B", "-c", code], capture_output=True, text=True, timeout=60)
    assert free.stdout.splitlines() == ["uname ok", "getpgid ok"]


def test_filter_without_execve_is_one_clear_error() -> None:
    prof = allow_profile(["read", "write", "exit_group"], [])
    with pytest.raises(SeccompError, match="execve is not allowed .*--mode audit"):
        runner.enforce([sys.executable, "-c", "pass"], prof)


def test_control_without_filter_getppid_works() -> None:
    r = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getppid() > 0)"], capture_output=True, text=True
    )
    assert r.stdout.strip() == "True"
