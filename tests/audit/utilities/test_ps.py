"""Native ``ps`` renders command lines and names like procps-ng 4, in the locale the audit runs in.

Multi-line ``sh -c`` commands (newlines, tabs, non-ASCII text) are common in a node's process table. The
differential tests start real processes with chosen (hypothesis-generated) argv bytes and command names
and compare native ``ps`` with the real procps ``ps`` under the same environment (C, POSIX, C.UTF-8, a
locale that does not exist here, mixed LC_* settings).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecis.audit.native import NativeExecutor
from kubecis.audit.native.procps import escape_cmdline, escape_comm, ps_locale_utf8
from kubecis.host.base import Process
from kubecis.host.live import LiveHost
from tests.fakes import FakeHost

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
U8 = "C.UTF-8"

# What procps-ng 4.0.2 printed for these command lines (sh -c 'sleep 5; :' s ARG), observed once; the
# differential tests below recheck the same rules against whatever procps 4.0 is installed.
OBSERVED = [
    (b"a\n\tb \xc3\xa9", "a .b ??", "a ?b \xc3\xa9"),  # issue 9's example
    (b"\xff\tA", "?.A", "?.A"),  # invalid first byte: the rest in C-locale form, even under UTF-8
    (b"\xc2\x85x\ty", "??x.y", "?x?y"),  # a C1 control: one '?' for its two bytes
    (b"\xc3A\tb", "?A.b", "?A?b"),  # a lead byte without its trail byte
    (b"a\x7fb", "a.b", "a?b"),
    (b"\xe2\x80\x8bz", "???z", "\xe2\x80\x8bz"),  # ZERO WIDTH SPACE is printable to glibc
    (b"\xee\x80\x80p", "???p", "\xee\x80\x80p"),  # private use: printable
    (b"\xd8\x9b", "??", "\xd8\x9b"),
    (b"x\xe2\x82", "x??", "x??"),  # cut short by the end
    (b"a\n", "a ", "a "),
    (b"\xed\xa0\x80s", "???s", "???s"),  # a surrogate: glibc rejects each byte
    (b"\xf4\x90\x80\x80t", "????t", "?t"),  # above U+10FFFF: glibc decodes it, iswprint says no
]


def _b(s: str) -> bytes:
    return s.encode("latin-1")


@pytest.mark.parametrize(("arg", "c_form", "utf8_form"), OBSERVED)
def test_procps_4_forms(arg: bytes, c_form: str, utf8_form: str) -> None:
    argv = [b"sh", b"-c", b"sleep 5; :", b"s", arg]
    prefix = b"sh -c sleep 5; : s "
    assert escape_cmdline(argv, b"sh", None) == prefix + _b(c_form)
    assert escape_cmdline(argv, b"sh", U8) == prefix + _b(utf8_form)


def test_command_names_and_empty_lines() -> None:
    assert escape_comm(b"a\tb\xc3\xa9", None) == b"a.b??" and escape_comm(b"a\tb\xc3\xa9", U8) == b"a?b\xc3\xa9"
    assert escape_comm(b"ab\ncd", U8) == b"ab?cd" and escape_comm(b"x\xff\ty", U8) == b"x?.y"
    assert escape_cmdline([], b"kworker/0:1", None) == b"[kworker/0:1]"
    assert escape_cmdline([], b"k\tw", U8) == b"[k?w]"
    assert escape_cmdline([b"s", b"", b""], b"s", None) == b"s"  # trailing empty arguments: trailing NULs
    assert escape_cmdline([b"", b""], b"s", None) == b"?"


def test_locale_from_the_environment() -> None:
    def env(**kv: str) -> object:
        return lambda n: kv.get(n)

    assert ps_locale_utf8(env()) is None
    assert ps_locale_utf8(env(LANG=U8)) == U8
    assert ps_locale_utf8(env(LANG=U8, LC_ALL="C")) is None
    assert ps_locale_utf8(env(LANG="C", LC_CTYPE=U8)) == U8
    assert ps_locale_utf8(env(LC_CTYPE=U8, LC_TIME="xx_NOWHERE.UTF-8")) is None  # setlocale(LC_ALL, "") fails
    assert ps_locale_utf8(env(LANG="xx_NOWHERE.UTF-8")) is None
    assert ps_locale_utf8(env(LC_ALL="", LANG=U8)) == U8  # empty means unset
    # a recorded environment is data: a locale "name" that is a path is never handed to glibc to load
    assert ps_locale_utf8(env(LANG="/tmp/evil.UTF-8")) is None and ps_locale_utf8(env(LANG="../x.UTF-8")) is None


def test_native_ps_follows_the_shell_environment() -> None:
    host = FakeHost()
    host.procs.append(Process(7, 1, 0, "sh", ("sh", "-c", "a\n\tb é")))
    script = "ps -p 7 -o args="
    assert NativeExecutor(host, env={"PATH": PATH}).run(script).output == "sh -c a .b ??\n"
    assert NativeExecutor(host, env={"PATH": PATH, "LANG": U8}).run(script).output == "sh -c a ?b é\n"
    both = "ps -p 7 -o args=; export LC_ALL=C; ps -p 7 -o args=; unset LC_ALL; ps -p 7 -o args="
    assert NativeExecutor(host, env={"PATH": PATH, "LANG": U8}).run(both).output == (
        "sh -c a ?b é\nsh -c a .b ??\nsh -c a ?b é\n"
    )
    mine = "LC_ALL=C.UTF-8; ps -p 7 -o args="  # not exported, not inherited: ps does not see it
    assert NativeExecutor(host, env={"PATH": PATH}).run(mine).output == "sh -c a .b ??\n"


# --- against the real procps ----------------------------------------------------------------------------


def _real_procps() -> str:
    ps = shutil.which("ps")
    if ps is None:
        pytest.skip("ps is not installed")
    out = subprocess.run([ps, "--version"], capture_output=True, text=True).stdout
    m = re.match(r"ps from procps-ng (\d+)\.(\d+)\.(\d+)", out)
    if not m:
        pytest.skip(f"the ps on PATH is not procps-ng: {out.strip()!r}")
    if (int(m[1]), int(m[2]), int(m[3])) < (4, 0, 0) or (int(m[1]), int(m[2]), int(m[3])) > (4, 0, 4):
        pytest.skip(f"native ps renders like procps-ng 4.0.0-4.0.4, this is {out.strip()}")
    return ps


@contextlib.contextmanager
def spawned(args: list[bytes], comm: bytes | None = None) -> Iterator[int]:
    """A process whose argv is ``sh -c 'sleep 30; :' s ARGS...`` (or, with ``comm``, a forked child that
    renamed itself): its pid, killed afterwards."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            if comm is not None:
                with open("/proc/self/comm", "wb") as f:
                    f.write(comm)
                os.write(w, b"x")
                time.sleep(30)
            else:
                os.dup2(w, 1)
                os.execv("/bin/sh", [b"sh", b"-c", b"echo x; sleep 30; :", b"s", *args])
        finally:
            os._exit(1)
    os.close(w)
    try:
        os.read(r, 1)  # the child has exec'ed (or renamed itself)
        yield pid
    finally:
        os.close(r)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0)


ENVS = [
    {"LC_ALL": "C"},
    {"LC_ALL": "POSIX"},
    {"LC_ALL": U8},
    {"LANG": "C.utf8"},
    {"LC_CTYPE": U8},
    {"LANG": U8, "LC_ALL": "C"},
    {"LANG": "xx_NOWHERE.UTF-8"},
    {"LC_CTYPE": U8, "LC_MESSAGES": "xx_NOWHERE.UTF-8"},
    {},
]
FEW_ENVS = [{"LC_ALL": "C"}, {"LC_ALL": U8}, {"LANG": "C.utf8"}, {"LC_CTYPE": U8, "LC_MESSAGES": "xx_NOWHERE.UTF-8"}]


def _compare(ps: str, scripts: list[str], envs: list[dict[str, str]] = ENVS) -> None:
    # The native shell sees its executor's variables, then this process's environment (as /bin/sh would
    # inherit kubecis's): give both the same, without this process's own locale settings.
    own = {k: v for k, v in os.environ.items() if not (k == "LANG" or k.startswith("LC_") or k == "LANGUAGE")}
    host = LiveHost()  # one process table for all (read at the first ps, after the processes started)
    for env in envs:
        full = {**own, "PATH": PATH, **env}
        with mock.patch.dict(os.environ, full, clear=True):
            native = NativeExecutor(host, env={"PATH": PATH})
            for script in scripts:
                real = subprocess.run([ps, *script.split()[1:]], capture_output=True, env=full)
                mine = native.run(script)
                assert not mine.not_run, mine.not_run
                got = mine.output.encode("utf-8", "surrogateescape")
                assert _stable(got) == _stable(real.stdout), (env, script)


# -f's C, STIME and TIME columns move while the processes run (ps and the native table are read at different
# moments): compared as placeholders; everything else, the command column above all, byte for byte.
_F_LINE = re.compile(rb"^(\S+ +\d+ +\d+) +\d+ \S+ +(\S+) +\S+ ", re.M)


def _stable(out: bytes) -> bytes:
    return _F_LINE.sub(rb"\1 C STIME \2 TIME ", out)


BYTES = st.one_of(
    st.sampled_from([b"\n", b"\t", b"\x1b[31m", b"\x7f", b"\r", b"\x01", b" ", b"\\", b"'", b'"']),
    st.sampled_from([b"\xc3\xa9", b"\xc2\x85", b"\xc2\xa0", b"\xe2\x80\x8b", b"\xd8\x9b", b"\xee\x80\x80",
                     b"\xe4\xb8\xad", b"\xf0\x9f\x98\x80", b"\xcc\x81", b"\xef\xbb\xbf", b"\xe2\x80\xa8"]),
    st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf5\x80",
                     b"\x80", b"\xfe"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=4).map(
        lambda s: s.encode()),
    st.binary(min_size=1, max_size=3).filter(lambda b: b"\0" not in b),
)
ARG = st.lists(BYTES, min_size=0, max_size=6).map(b"".join)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argvs=st.lists(st.lists(ARG, min_size=1, max_size=3), min_size=1, max_size=4))
def test_command_lines_match_procps(argvs: list[list[bytes]]) -> None:
    ps = _real_procps()
    with contextlib.ExitStack() as stack:
        pids = ",".join(str(stack.enter_context(spawned(a))) for a in argvs)
        _compare(ps, [f"ps -p {pids} -o args=", f"ps -fp {pids}"], FEW_ENVS)


@pytest.mark.parametrize("arg", [a for a, _, _ in OBSERVED] + [b"", b"a\n\nb\n", b"\t\t", "é中😀".encode()])
def test_observed_forms_match_procps(arg: bytes) -> None:
    ps = _real_procps()
    with spawned([arg, b"", b""]) as pid:
        _compare(ps, [f"ps -p {pid} -o args="])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(st.lists(BYTES, min_size=1, max_size=4).map(b"".join).map(lambda b: b[:15]).filter(
    lambda b: b and b[-1:] != b"\n" and b"/" not in b), min_size=1, max_size=4))
def test_command_names_match_procps(names: list[bytes]) -> None:
    """The kernel's command name (what ``ps -e`` and ``-o comm`` show) through both passes."""
    ps = _real_procps()
    with contextlib.ExitStack() as stack:
        pids = ",".join(str(stack.enter_context(spawned([], comm=n))) for n in names)
        _compare(ps, [f"ps -p {pids} -o comm=", f"ps -p {pids}"], FEW_ENVS)
