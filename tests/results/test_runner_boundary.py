"""Each check is its own failure domain: an exception in one audit or its evaluation is that check's WARN
with a reason, the run goes on; Ctrl-C and SystemExit still stop it."""

from __future__ import annotations

import pytest

from kubecis.audit.base import AuditResult
from kubecis.audit.native import NativeExecutor
from kubecis.benchmark.loader import parse_controls
from kubecis.benchmark.model import Check, Compare, TestItem, Tests
from kubecis.results import runner
from kubecis.results.model import State
from kubecis.results.runner import Filters, run_check, run_controls
from tests.fakes import FakeHost

ITEM = TestItem(flag="--x", compare=Compare("eq", "1"))


class Exploding:
    """An executor whose audits raise for scripts that contain ``boom``."""

    name = "exploding"

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def run(self, script: str) -> AuditResult:
        if "boom" in script:
            raise self.exc
        return AuditResult("--x=1", 0, self.name)


def _check(cid: str, audit: str, scored: bool = True) -> Check:
    return Check(id=cid, text="t", audit=audit, tests=Tests(items=(ITEM,)), scored=scored, remediation="fix")


@pytest.mark.parametrize("exc", [ValueError("bad\nvalue"), RecursionError(), MemoryError(), KeyError("k"),
                                 ZeroDivisionError("division by zero"), OSError(5, "I/O error")])
def test_an_exception_in_one_audit_is_that_checks_warn(exc: Exception) -> None:
    r = run_check(_check("1.1", "boom"), Exploding(exc))
    assert r.state is State.WARN
    assert r.reason.startswith(f"internal error in audit: {type(exc).__name__}")
    assert "\n" not in r.reason
    assert r.actual_value == "" and r.expected_result == ""


def test_reason_carries_the_message() -> None:
    r = run_check(_check("1.1", "boom"), Exploding(ValueError("x: invalid thing")))
    assert r.reason == "internal error in audit: ValueError: x: invalid thing"


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)])
def test_interrupts_still_stop_the_run(exc: BaseException) -> None:
    with pytest.raises(type(exc)):
        run_check(_check("1.1", "boom"), Exploding(exc))


def test_the_run_goes_on_after_a_crashing_check() -> None:
    text = """\
controls:
type: node
groups:
- id: "1"
  checks:
  - {id: "1.1", text: a, audit: ok, scored: true, tests: {test_items: [{flag: --x, compare: {op: eq, value: "1"}}]}}
  - {id: "1.2", text: b, audit: boom, scored: true, tests: {test_items: [{flag: --x}]}}
  - {id: "1.3", text: c, audit: ok, scored: true, tests: {test_items: [{flag: --x, compare: {op: eq, value: "1"}}]}}
"""
    controls = parse_controls(text, "t.yaml").controls
    out = run_controls(controls, Exploding(RuntimeError("bug")), Filters())
    states = [(c.id, c.state) for c in out.groups[0].checks]
    assert states == [("1.1", State.PASS), ("1.2", State.WARN), ("1.3", State.PASS)]
    assert out.counts.warn == 1 and out.counts.pass_ == 2


def test_an_exception_in_evaluation_is_caught_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(runner, "evaluate_tests", broken)
    r = run_check(_check("1.1", "ok"), Exploding(ValueError()))
    assert (r.state, r.reason) == (State.WARN, "internal error in audit: IndexError: list index out of range")


def test_native_executor_reports_a_bug_as_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubecis.audit.native import utilities

    def u_broken(ctx: object, args: list[str]) -> int:
        raise TypeError("unsupported operand")

    monkeypatch.setitem(utilities.UTILITIES, "cat", u_broken)
    res = NativeExecutor(FakeHost()).run("cat /etc/x")
    assert res.not_run == "internal error in audit: TypeError: unsupported operand"
    r = run_check(_check("1.1", "cat /etc/x"), NativeExecutor(FakeHost()))
    assert (r.state, r.reason) == (State.WARN, "internal error in audit: TypeError: unsupported operand")


def test_native_executor_lets_interrupts_through(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubecis.audit.native import utilities

    def u_interrupted(ctx: object, args: list[str]) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(utilities.UTILITIES, "cat", u_interrupted)
    with pytest.raises(KeyboardInterrupt):
        NativeExecutor(FakeHost()).run("cat /etc/x")


def test_grep_with_a_bad_context_length_is_grep_s_error_not_a_crash() -> None:
    """The red team's `grep -A x` traceback: now GNU grep's message and status 2, so kube-bench's audit error."""
    host = FakeHost(files={"/etc/k": b"--x=1\n"}, dirs={"/etc"})
    check = _check("1.1", "grep -A x x /etc/k")
    r = run_check(check, NativeExecutor(host))
    assert r.state is State.FAIL
    assert r.reason.endswith('output: "grep: x: invalid context length argument\\n", error: exit status 2')


def test_a_config_bomb_makes_the_check_warn() -> None:
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))
    host = FakeHost(files={"/var/lib/kubelet/config.yaml": bomb.encode()}, dirs={"/var/lib/kubelet"})
    check = Check(id="4.2.1", text="anonymous auth", audit="echo", audit_config="cat /var/lib/kubelet/config.yaml",
                  tests=Tests(items=(TestItem(flag="--anonymous-auth", path="{.authentication.anonymous.enabled}",
                                              compare=Compare("eq", "false")),)), scored=True)
    r = run_check(check, NativeExecutor(host))
    assert r.state is State.WARN
    assert r.reason.startswith("audit_config output not evaluated: YAML refused: line ")
    assert "nodes with aliases expanded" in r.reason
