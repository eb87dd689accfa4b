"""The native interpreter on hostile scripts and data: bounded work, no crash, GNU/dash messages for bad
numbers. Fuzzed with hypothesis (deterministic, small budgets so each target takes a few seconds)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecis.audit.base import AuditResult
from kubecis.audit.native import NativeExecutor, bounds, unsupported_reason
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.parser import MAX_SCRIPT, parse
from kubecis.host.live import LiveHost
from tests.fakes import FakeHost

BIG = "9" * 5000  # more digits than Python's int() takes from a string
NUMBERS = ["x", "-1", "", " 5", "+3", "1k", "99999999999999999999999", BIG, "-" + BIG, "1_0", "0x10", "1.5",
           "\u0663", "\u00b2", "-0", "0", "1e400", "nan"]


def _host() -> FakeHost:
    host = FakeHost(files={"/e/a": b"a b c\n1 2 3\nx:y:z\n", "/e/j": b'{"a":[1,2,{"b":"c"}]}\n'}, dirs={"/e"})
    host.add_process(["/usr/bin/kubelet", "--config=/e/a"])
    return host


def _not_a_crash(res: AuditResult) -> None:
    assert isinstance(res, AuditResult)
    assert not res.not_run.startswith("internal error"), res.not_run


# Every utility and builtin that takes a number, in the forms audits write them.
NUMERIC_FORMS = [
    "head -n {n} /e/a", "head -{n} /e/a", "tail -n {n} /e/a", "tail -n +{n} /e/a", "tail -{n} /e/a",
    "cut -d ' ' -f {n} /e/a", "cut -c {n} /e/a", "cut -c 1-{n} /e/a", "cut -f {n}- /e/a",
    "sed -n '{n}p' /e/a", "sed '{n},{n}d' /e/a", "sed 's/a/\\{n}/' /e/a", "sed 's/\\(a\\)/\\{n}/g' /e/a",
    "awk '{{print ${n}}}' /e/a", "awk 'NR=={n}' /e/a", "awk '$1 > {n} {{print}}' /e/a",
    "find /e -maxdepth {n}", "find /e -mindepth {n}", "find /e -perm -{n}", "find /e -user {n}",
    "xargs -n {n} echo < /e/a", "xargs -L {n} echo < /e/a", "ps -p {n}", "ps -o pid= -p {n}",
    "stat -c '%{n}a' /e/a", "exit {n}", "f() {{ return {n}; }}; f", "for i in 1; do break {n}; done",
    "shift {n}", "[ {n} -eq 1 ]", "test {n} -gt 0", "echo $(({n}))", "x={n}; echo $((x))", "echo $((1 << {n}))",
    "printf '%d' {n}", "printf '%{n}d' 1", "printf '%.{n}s' a", "printf '%x' {n}", "printf '\\{n}'",
    "jq '.a[{n}]' /e/j", "jq '\"x\" * {n}' /e/j", "jq '[range({n})] | length' /e/j", "jq '{n}' /e/j",
    "journalctl -n {n}", "sort -k {n} /e/a", "uniq -f {n} /e/a", "paste -d {n} -s /e/a",
    "grep -A {n} a /e/a", "grep -m {n} a /e/a", "grep -e 'a\\{{{n}\\}}' /e/a", "grep -E 'a{{1,{n}}}' /e/a",
    "kubectl get pods -n {n}",
]


@pytest.mark.parametrize("form", NUMERIC_FORMS)
def test_numeric_arguments_never_crash(form: str) -> None:
    ex = NativeExecutor(_host())
    for n in NUMBERS:
        _not_a_crash(ex.run(form.format(n=n)))


# --- GNU grep's own messages (differential against the real grep) ----------------------------------


def _gnu_grep() -> str | None:
    path = shutil.which("grep")
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    return path if out.startswith("grep (GNU grep)") else None


def _dash() -> str | None:
    sh = shutil.which("dash")
    return sh if sh is not None and os.path.realpath(sh).endswith("/dash") else None


needs_gnu_grep = pytest.mark.skipif(_gnu_grep() is None or _dash() is None, reason="GNU grep and dash needed")

GREP_CASES = [
    *(f"grep -A '{n}' a {{f}}" for n in ["x", "-1", "", " 5", "+3", "1k", "99999999999999999999999", "-0",
                                         "1_0", "0x10", "1.5", "5 ", "-99999999999999999999999", "\u0663"]),
    *(f"grep -m '{n}' b {{f}}" for n in ["x", "-1", "", " 5", "+1", "99999999999999999999999",
                                         "-99999999999999999999999", "0", "1_0"]),
    "grep -Ax a {f}", "/bin/grep -A x a {f}", "grep -A x -A 1 a {f}", "grep -m x -A y a {f}",
    "grep -e 'a\\{{99999\\}}' {f}", "grep -e 'a\\{{32768\\}}' {f}",  # (32767 takes GNU grep 10 s to compile)
    "grep -e 'a\\{{1,99999999999999999999\\}}' {f}", "grep -e 'a\\{{2,1\\}}' {f}", "grep -E 'a{{99999}}' {f}",
    "grep -E 'a{{1,99999999999999999999}}' {f}", "grep -E 'a{{2,1}}' {f}",
]


@needs_gnu_grep
@pytest.mark.parametrize("case", GREP_CASES)
def test_grep_numbers_match_gnu_grep(tmp_path: Path, case: str) -> None:
    f = tmp_path / "g.txt"
    f.write_text("a\nb\nc\nb\n")
    script = case.format(f=f) + " 2>&1; echo rc=$?"
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    real = subprocess.run([str(_dash()), "-c", script], capture_output=True, env=env, check=False)
    native = NativeExecutor(LiveHost(), env=env).run(script)
    assert not native.not_run, native.not_run
    assert native.output.encode() == real.stdout + real.stderr, script


DASH_CASES = [
    "exit 99999999999; echo no", "exit -1", "exit 256", "exit \u0663", "[ 99999999999999999999 -eq 1 ]; echo $?",
    "[ \u0663 -eq 3 ]; echo $?", "[ ' 3' -eq 3 ]; echo $?", "[ +3 -eq 3 ]; echo $?",
    "for i in 1; do break 99999999999; done; echo $?",
]


@pytest.mark.skipif(_dash() is None, reason="dash needed")
@pytest.mark.parametrize("script", DASH_CASES)
def test_builtin_numbers_match_dash(script: str) -> None:
    real = subprocess.run([str(_dash()), "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=False, env={"LC_ALL": "C"})
    native = NativeExecutor(FakeHost(), env={"PATH": "/usr/bin:/bin"}).run(script)
    if native.not_run:  # declined (WARN with the reason) is honest; a wrong answer is not
        assert native.not_run.startswith("audit not supported natively"), native.not_run
        return
    expected = real.stdout.decode().replace(str(_dash()), "/bin/sh").replace("dash:", "/bin/sh:")
    assert (native.output, native.returncode) == (expected, real.returncode), script


# --- bounds --------------------------------------------------------------------------------------


def test_bounds_stop_bombs_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounds, "MAX_DATA", 256 << 10)  # the same code paths as 8 MiB, in less time
    ex = NativeExecutor(_host())
    cases = {
        "a=x; while :; do a=$a$a; done": "expanded word over",
        "a=x; for i in 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5; do a=$a$a; done; echo $a": "over",
        "printf '%99999999999d' 1": "printf field width over",
        "printf '%.99999999s' a": "printf field width over",
        "echo ab | sed 's/./&&&&&&&&&&/g;s/./&&&&&&&&&&/g;s/./&&&&&&&&&&/g;s/./&&&&&&&&&&/g;"
        "s/./&&&&&&&&&&/g;s/./&&&&&&&&&&/g;s/./&&&&&&&&&&/g'": "sed pattern space over",
        "echo '\"x\"' | jq '. * 100000000000'": "jq string over",
    }
    monkeypatch.setattr(bounds, "MAX_BUFFER", 512 << 10)
    cases |= {
        "a=$(printf '%100000s' x); while :; do echo \"$a\"; done": "output over 524288 bytes",
        "printf '%100000s\\n' x | sed 'p;p;p;p;p;p;p;p'": "output over 524288 bytes",
        "printf '%100000s\\n' x | awk '{print $0,$0,$0,$0,$0,$0,$0,$0}'": "output over 524288 bytes",
    }
    for script, why in cases.items():
        res = ex.run(script)
        assert res.not_run.startswith("audit exceeds the native interpreter's bounds: "), (script, res)
        assert why in res.not_run, (script, res.not_run)


def test_step_and_time_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounds, "MAX_STEPS", 5000)
    ex = NativeExecutor(_host())
    loops = "for a in 1 2 3 4 5 6 7 8 9 10; do for b in 1 2 3 4 5 6 7 8 9 10; do for c in 1 2 3 4 5 6 7 8 9 10; " \
            "do for d in 1 2 3 4 5 6 7 8 9 10; do :; done; done; done; done"
    assert ex.run(loops).not_run.endswith("more than 5000 commands executed")
    assert ex.run("for a in 1 2 3; do :; done; echo ok").output == "ok\n"  # a fresh budget per audit
    monkeypatch.setattr(bounds, "MAX_STEPS", 10**9)
    monkeypatch.setattr(bounds, "MAX_SECONDS", 0.2)
    start = time.monotonic()
    res = ex.run("while :; do while :; do :; done; done")
    assert res.not_run.endswith("ran longer than 0.2 s") or "loop did not terminate" in res.not_run
    assert time.monotonic() - start < 10
    assert ex.run("echo '[1]' | jq '[range(1e9)] | length'").not_run


def test_timeout_is_per_executor() -> None:
    res = NativeExecutor(_host(), timeout=0.05).run("while :; do while :; do :; done; done")
    assert res.not_run == "audit exceeds the native interpreter's bounds: ran longer than 0.05 s"


def test_jq_range_counts_as_work(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubecis.audit.native.utilities.jq import ops as jq

    monkeypatch.setattr(jq, "MAX_STEPS", 100_000)
    assert NativeExecutor(_host()).run("echo 1 | jq '[range(1000)] | length'").output == "1000\n"
    res = NativeExecutor(_host()).run("echo 1 | jq '[range(100000000)] | length'")
    assert res.not_run == "audit not supported natively: jq program too expensive"


def test_long_scripts_are_declined_and_not_memoised() -> None:
    script = "echo " + "a " * MAX_SCRIPT
    res = NativeExecutor(_host()).run(script)
    assert res.not_run == f"audit not supported natively: script over {MAX_SCRIPT} bytes"
    with pytest.raises(Unsupported):
        parse(script)


def test_deep_and_long_shapes() -> None:
    ex = NativeExecutor(_host())
    for script in ["(" * 3000 + "echo" + ")" * 3000, "echo $(" * 2000, "$(" * 2000 + "echo" + ")" * 2000,
                   "echo $((" + "(" * 3000 + "1" + ")" * 3000 + "))", "echo ${x:-" * 2000 + "}" * 2000,
                   "if true; then " * 2000 + "echo" + "; fi" * 2000, " | ".join(["cat /e/a"] * 2000),
                   "echo 'abc", 'echo "abc $(echo', "cat <<E\n" + "x\n" * 20000, "f() { f; }; f",
                   "f() { g; }; g() { f; }; f", "echo `echo \\`echo \\\\\\`echo x\\\\\\`\\``"]:
        _not_a_crash(ex.run(script))
        reason = unsupported_reason(script)
        assert reason is None or not reason.startswith("internal error"), reason


# --- fuzzing ---------------------------------------------------------------------------------------

_UTILS = ["cat", "echo", "printf", "grep", "head", "tail", "cut", "sed", "awk", "sort", "uniq", "wc", "tr", "find",
          "xargs", "stat", "ps", "jq", "basename", "dirname", "paste", "test", "[", "exit", "return", "shift",
          "break", "set", "export", "unset", "read", "cd", "local", "sh -c", "kubectl", "journalctl", "openssl"]
_OPTS = ["-A", "-m", "-n", "-c", "-f", "-d", "-k", "-e", "-E", "-o", "-p", "-C", "-L", "-I", "-s", "-maxdepth",
         "-mindepth", "-perm", "-user", "-exec", "-r", "-v", "-q", "-x", "-w", "-F", "-t", "--", "-"]
_ARGS = [*NUMBERS, "/e/a", "/e/j", "/nope", "a", ".*", "[", "'", '"', "$(", "${", "`", "(", ")", "{", "}", "%s",
         "%99999d", "%b", "\\0", "$((1<<62))", "$((1/0))", "$x", "${x:-$(echo y)}", "*", "/e/*", "s/a/&&/g",
         "{print $1}", ".a[]", "<<E", ">/dev/null", "2>&1", "|", ";", "&&", "||", "!", "\n", "\t"]


@st.composite
def _command(draw: st.DrawFn) -> str:
    words = [draw(st.sampled_from(_UTILS))]
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            words.append(draw(st.sampled_from(_OPTS)))
        words.append(draw(st.sampled_from(_ARGS)))
    return " ".join(words)


@st.composite
def _script(draw: st.DrawFn) -> str:
    cmds = draw(st.lists(_command(), min_size=1, max_size=4))
    script = draw(st.sampled_from([" | ", "; ", " && ", " || ", "\n"])).join(cmds)
    wrap = draw(st.sampled_from(["{}", "x=$({})", "( {} )", "if {}; then :; fi", "for i in 1 2; do {}; done",
                                 "while {}; do break; done", "echo \"$({})\"", "{{ {}; }}", "{} 2>&1"]))
    return wrap.format(script)


_SHELL_CHARS = st.sampled_from([*"ab $(){}[]|&;<>'\"\\`\n\t=*?!#-0129~%:,.", "((", "$((", "${", "<<", "<<-",
                                "if ", "then ", "fi", "while ", "do ", "done", "case ", " in ", "esac", ";;"])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_script(), st.lists(_SHELL_CHARS, max_size=40).map("".join)))
def test_fuzz_hostile_scripts(script: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bounds, "MAX_STEPS", 20_000)
        mp.setattr(bounds, "MAX_SECONDS", 2.0)
        mp.setattr(bounds, "MAX_BUFFER", 16 << 20)
        start = time.monotonic()
        tracemalloc.start()
        try:
            _not_a_crash(NativeExecutor(_host()).run(script))
            reason = unsupported_reason(script)
            assert reason is None or not reason.startswith("internal error"), (script, reason)
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak < 256 * 1024 * 1024, script  # a few 8 MiB buffers at most
        assert time.monotonic() - start < 10, script  # the budgets stop it; generous for a shared CI machine
