"""Rebuild a RunResult from one of kube-bench's golden text outputs.

The parser reads facts (ids, titles, states, remediations, reasons, counts) out
of the text and stores them in the results model; it keeps none of the layout.
Rendering the model again must give back the file byte for byte, which is what
proves the renderer's blank-line and section rules.
"""

from __future__ import annotations

import re

from kubecis.results.model import CheckResult, ControlsResult, Counts, GroupResult, RunResult, State
from tests.shared import COMPAT as SHARED_COMPAT

COMPAT = SHARED_COMPAT
GOLDEN_CIS = COMPAT / "integration/testdata/Expected_output.data"
GOLDEN_STIG = COMPAT / "integration/testdata/Expected_output_stig.data"

_RESULT = re.compile(r"^\[(PASS|FAIL|WARN|INFO)\] (\S+) (.*)$")
_REMEDIATIONS = re.compile(r"^== Remediations (.*) ==$")
_SUMMARY = re.compile(r"^== Summary (.*) ==$")
_COUNT = re.compile(r"^(\d+) checks (PASS|FAIL|WARN|INFO)$")
_NOT_RUN = "audit test did not run: "


def _is_group_id(controls_id: str, ident: str) -> bool:
    """Group ids are the controls id, optionally plus one numeric component (``2``, ``1.2``, ``5.1``)."""
    return re.fullmatch(re.escape(controls_id) + r"(\.\d+)?", ident) is not None


def _counts(lines: list[str]) -> Counts:
    values: dict[str, int] = {}
    for line in lines:
        m = _COUNT.match(line)
        assert m, f"bad count line {line!r}"
        values[m.group(2)] = int(m.group(1))
    return Counts(values["PASS"], values["FAIL"], values["WARN"], values["INFO"])


def _split_remediations(body: str, ids: list[str]) -> dict[str, str]:
    """Cut the Remediations section body into ``id -> text after "id "`` (Printf's newline removed)."""
    entries: dict[str, str] = {}
    pos = 0
    for i, ident in enumerate(ids):
        assert body.startswith(ident + " ", pos), f"expected entry for {ident} at {body[pos:pos + 40]!r}"
        start = pos + len(ident) + 1
        if i + 1 < len(ids):
            end = body.index("\n" + ids[i + 1] + " ", start)
            entries[ident] = body[start:end]
            pos = end + 1
        else:
            assert body.endswith("\n")
            entries[ident] = body[start:-1]
            pos = len(body)
    assert pos == len(body)
    return entries


def parse(text: str) -> RunResult:
    lines = text.split("\n")
    assert lines[-1] == "", "output ends with a newline"
    lines = lines[:-1]
    run = RunResult()
    i = 0
    while i < len(lines):
        m = _RESULT.match(lines[i])
        if m is None:
            # Only the closing total summary may follow the last controls object.
            sm = _SUMMARY.match(lines[i])
            assert sm and sm.group(1) == "total", f"unexpected line {lines[i]!r}"
            totals = _counts(lines[i + 1 : i + 5])
            assert lines[i + 5] == ""
            assert i + 6 == len(lines)
            t = run.totals
            assert (t.pass_, t.fail, t.warn, t.info) == (totals.pass_, totals.fail, totals.warn, totals.info)
            break
        assert m.group(1) == "INFO"
        controls = ControlsResult(id=m.group(2), version="", text=m.group(3), node_type="")
        run.controls.append(controls)
        i += 1
        group: GroupResult | None = None
        while lines[i] != "":
            m = _RESULT.match(lines[i])
            assert m, f"unexpected result line {lines[i]!r}"
            state, ident, title = State(m.group(1)), m.group(2), m.group(3)
            if state is State.INFO and _is_group_id(controls.id, ident):
                group = GroupResult(id=ident, text=title)
                controls.groups.append(group)
            else:
                assert group is not None
                group.checks.append(CheckResult(id=ident, text=title, state=state))
                group.counts.add(state)
            i += 1
        i += 1  # the blank line closing the results block

        flagged = (State.FAIL, State.WARN)
        needs_remediation = [c for g in controls.groups for c in g.checks if c.state in flagged]
        rm = _REMEDIATIONS.match(lines[i])
        if rm:
            controls.node_type = rm.group(1)
            i += 1
            start = i
            while not _SUMMARY.match(lines[i]):
                i += 1
            body = "\n".join(lines[start:i]) + "\n"
            # The section ends with its own blank line (one Println).
            assert body.endswith("\n\n")
            entries = _split_remediations(body[:-1], [c.id for c in needs_remediation])
            for check in needs_remediation:
                entry = entries[check.id]
                if check.state is State.WARN and entry.startswith(_NOT_RUN):
                    check.reason = entry[len(_NOT_RUN) :]
                else:
                    check.remediation = entry
                    check.test_info = [entry]
                    if check.state is State.WARN and check.text.endswith("(Manual)"):
                        check.type = "manual"
                        check.reason = "Test marked as a manual test"
        else:
            assert not needs_remediation

        sm = _SUMMARY.match(lines[i])
        assert sm, f"expected a summary at {lines[i]!r}"
        assert controls.node_type in ("", sm.group(1))
        controls.node_type = sm.group(1)
        controls.counts = _counts(lines[i + 1 : i + 5])
        assert lines[i + 5] == ""
        i += 6
    return run
