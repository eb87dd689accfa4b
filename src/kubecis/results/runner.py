"""Run a (substituted) controls file through an executor: kube-bench's state machine.

See kube-bench-compat.md#state-machine, #audits and #filters-and-skips.

Definitions stay frozen; this module produces new result objects. The executor
and the evaluator are passed in, so the same code runs over the real shell, the
native interpreter or a snapshot.

Each check is its own failure domain: an exception escaping one check's audits or
evaluation (a bug, hostile input nobody foresaw) makes that check WARN with the reason
``internal error in audit: <type>: <message>``; the run goes on. ``KeyboardInterrupt``
and ``SystemExit`` are not ``Exception`` subclasses: they still stop the run.
"""

from __future__ import annotations

from kubecis.audit.base import Executor, internal_error_reason
from kubecis.benchmark.model import Check, Controls
from kubecis.errors import UsageError
from kubecis.evaluate.evaluator import evaluate_tests
from kubecis.records import dataclass
from kubecis.results.model import CheckResult, ControlsResult, GroupResult, State


def parse_id_list(text: str) -> list[str]:
    """kube-bench's list flags: outer commas dropped, split on ',', each id trimmed of spaces."""
    text = text.strip(",")
    if not text:
        return []
    return [part.strip(" ") for part in text.split(",")]


@dataclass(frozen=True, slots=True)
class Filters:
    checks: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    scored: bool = True
    unscored: bool = True

    def __post_init__(self) -> None:
        if self.checks and self.groups:
            raise UsageError("group option and check option can't be used together")

    def keeps(self, group_id: str, check: Check) -> bool:
        if self.checks and check.id not in self.checks:
            return False
        if self.groups and group_id not in self.groups:
            return False
        return (self.scored and check.scored) or (self.unscored and not check.scored)


def _fail_or_warn(check: Check) -> State:
    return State.FAIL if check.scored else State.WARN


def _audit_error_state(check: Check, result: CheckResult, error: str) -> CheckResult:
    result.state = _fail_or_warn(check)
    result.reason = error
    return result


def run_check(check: Check, executor: Executor, *, check_type: str | None = None) -> CheckResult:
    """One check through the state machine. ``check_type`` overrides the YAML type (``--skip``).

    Never raises an ``Exception``: one that escapes the audits or the evaluation makes the check WARN.
    """
    ctype = check.type if check_type is None else check_type
    r = _new_result(check, ctype)
    try:
        return _run_check(check, executor, ctype, r)
    except Exception as exc:  # the per-check failure domain (see the module docstring)
        r.state, r.reason = State.WARN, internal_error_reason(exc)
        r.actual_value = r.expected_result = ""
        return r


def _new_result(check: Check, ctype: str) -> CheckResult:
    r = CheckResult(
        id=check.id,
        text=check.text,
        audit=check.audit,
        audit_env=check.audit_env,
        audit_config=check.audit_config,
        type=ctype,
        remediation=check.remediation,
        scored=check.scored,
        is_multiple=check.use_multiple_values,
    )
    r.test_info = [check.remediation]
    return r


def _run_check(check: Check, executor: Executor, ctype: str, r: CheckResult) -> CheckResult:
    # kube-bench-compat.md#state-machine rule 1: scored, automated, no `tests` key at all
    if check.scored and ctype.strip() == "" and check.tests is None:
        r.state, r.reason = State.WARN, "There are no tests"
        return r
    if ctype == "skip":
        r.state, r.reason = State.INFO, "Test marked as skip"
        return r
    if ctype == "manual":
        r.state, r.reason = State.WARN, "Test marked as a manual test"
        return r
    if check.tests is None or not check.tests.items:
        r.state, r.reason = _fail_or_warn(check), "No tests defined"
        return r

    if check.not_run:  # a value from the host could not be substituted safely (benchmark.variables)
        r.state, r.reason = State.WARN, check.not_run
        return r
    # kube-bench-compat.md#audits: audit_env, then audit, then audit_config; the first that cannot run or fails decides.
    outputs: dict[str, str] = {}
    for kind, script in (("env", check.audit_env), ("audit", check.audit), ("config", check.audit_config)):
        outputs[kind] = ""
        if not script.strip():
            continue
        res = executor.run(script)
        r.executor = res.executor
        if res.not_run:
            r.state, r.reason = State.WARN, res.not_run
            return r
        err = res.error_text(script)
        if not err:
            outputs[kind] = res.output
            continue
        # a missing config file is not an error when the command line (or env) already said something
        suppressible = "exit status 127" in err or "No such file or directory" in err
        if not (kind == "config" and suppressible and (outputs["audit"] or outputs["env"])):
            return _audit_error_state(check, r, err)
    env_out, audit_out, config_out = outputs["env"], outputs["audit"], outputs["config"]

    outcome = evaluate_tests(
        check.tests,
        multiple=check.use_multiple_values,
        audit_output=audit_out,
        config_output=config_out,
        env_output=env_out,
        has_audit_config=bool(check.audit_config),
    )
    if outcome.refused:
        r.state, r.reason = State.WARN, f"audit_config output not evaluated: {outcome.refused}"
        return r
    if outcome.error:
        r.state = _fail_or_warn(check)
        r.reason = outcome.error
        r.actual_value = outcome.actual
        r.expected_result = outcome.expected
        return r
    r.actual_value = outcome.actual
    r.expected_result = outcome.expected
    r.state = State.PASS if outcome.passed else State.FAIL if check.fail_on_evidence else _fail_or_warn(check)
    return r


def run_controls(
    controls: Controls,
    executor: Executor,
    filters: Filters,
    *,
    detected_version: str = "none",
) -> ControlsResult:
    """All checks of one target, filtered; groups sharing an id are merged into the first
    (kube-bench-compat.md#filters-and-skips)."""
    out = ControlsResult(
        id=controls.id,
        version=controls.version,
        text=controls.text,
        node_type=controls.type,
        detected_version=detected_version,
    )
    by_id: dict[str, GroupResult] = {}
    skip = set(filters.skip)
    for group in controls.groups:
        group_skipped = group.type == "skip" or group.id in skip
        for check in group.checks:
            if not filters.keeps(group.id, check):
                continue
            forced = "skip" if group_skipped or check.id in skip else None
            result = run_check(check, executor, check_type=forced)
            gr = by_id.get(group.id)
            if gr is None:
                gr = GroupResult(group.id, group.text)
                by_id[group.id] = gr
                out.groups.append(gr)
            gr.checks.append(result)
            gr.counts.add(result.state)
            out.counts.add(result.state)
    return out

