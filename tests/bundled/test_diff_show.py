"""`benchmarks diff` and `benchmarks show` on the bundled sets."""

from __future__ import annotations

import pytest

from kubecis.cli.benchmarks import diff_sets
from kubecis.cli.main import main

from .conftest import load_kb


def parse(out: str) -> tuple[set[str], set[str], set[str]]:
    added, removed, retitled = set(), set(), set()
    for line in out.splitlines()[1:]:
        kind, cid = line.split()[:2]
        if kind == "+":
            added.add(cid)
        elif kind == "-":
            removed.add(cid)
        elif "title" in line.split(")", 1)[1].split(":", 1)[0]:
            retitled.add(cid)
    return added, removed, retitled


@pytest.mark.parametrize(("old", "new"), [("cis-1.11", "cis-1.12"), ("cis-1.8", "cis-1.9"), ("cis-1.10", "cis-1.11")])
def test_diff_agrees_with_kube_bench(old: str, new: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmarks", "diff", old, new]) == 0
    added, removed, retitled = parse(capsys.readouterr().out)
    a = {c.id: c.text for ctl in load_kb(old).values() for c in ctl.checks()}
    b = {c.id: c.text for ctl in load_kb(new).values() for c in ctl.checks()}
    assert added == set(b) - set(a)
    assert removed == set(a) - set(b)
    assert retitled == {i for i in set(a) & set(b) if a[i] != b[i]}


def test_diff_of_kube_bench_sets_matches_diff_of_ours() -> None:
    """Facts-only lines (added/removed/title/type/scored/tests) are the same for kube-bench's two sets.

    Except the type and tests of policies checks kubecis automates with probes (docs/policies.md): those are
    kubecis's own (automated in both sets, one test of the probe's count), where kube-bench's change between
    automated and manual."""
    from kubecis.benchmark import bundled

    probes = {c.id for n in ("cis-1.11", "cis-1.12") for t, c in bundled.get_set(n).checks()
              if t == "policies" and c.audit.startswith("kubecis probe ")}

    def facts_lines(lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            if line[0] in "+-":
                out.append(line)
            else:
                head = line.partition(" changed")[0]
                kinds = [k for k in head.split(") ", 1)[1].split(", ") if k in ("title", "type", "scored", "tests")]
                if head.split()[1] in probes and head.split()[2] == "(policies)":
                    kinds = [k for k in kinds if k not in ("type", "tests")]
                if kinds:
                    out.append(head.split(") ")[0] + ") " + ",".join(kinds))
        return out

    ours = diff_sets(bundled.get_set("cis-1.11").controls, bundled.get_set("cis-1.12").controls)
    theirs = diff_sets(load_kb("cis-1.11"), load_kb("cis-1.12"))
    assert facts_lines(ours) == facts_lines(theirs)


def test_diff_cis_2_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmarks", "diff", "cis-1.12", "cis-2.0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["cis-1.12 -> cis-2.0: 2 differences", "~ 1.2.29 (master) remediation changed",
                   "~ 2.2 (etcd) remediation changed"]


def test_show_check_and_outline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmarks", "show", "cis-1.12", "1.2.15"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1.2.15 (cis-1.12/master) Ensure that the --profiling argument is set to false")
    assert "audit:\n  ps -ef | grep $apiserverbin | grep -v grep" in out
    assert "flag='--profiling': eq 'false'" in out and "remediation:\n  On each control-plane node" in out
    assert main(["benchmarks", "show", "eks-1.8.0"]) == 0
    out = capsys.readouterr().out
    assert "managedservices:" in out and "    3.1.1" in out


def test_show_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmarks", "show", "cis-1.12", "9.9.9"]) == 1
    assert main(["benchmarks", "show", "cis-0.1"]) == 1
    assert "unknown bundled benchmark" in capsys.readouterr().err
