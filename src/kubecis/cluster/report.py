"""The merged report of a cluster: text, JSON (schema: docs/cluster-report.schema.json), per-node files, and
kubecis's other formats (JUnit, HTML, SARIF, CSV) through :func:`fleet`.

Pure functions of :class:`~kubecis.cluster.model.ClusterResult`. A node's ``results`` object is exactly what
``kubecis run --json`` (and so kube-bench) prints for that node; ``--per-node-dir`` writes it alone, one
file per evaluated node, for tooling that reads kube-bench's JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubecis import __version__
from kubecis.cluster.model import ClusterResult, NodeResult, NodeSummary
from kubecis.report.json import encode, go_string, payload
from kubecis.report.options import ReportOptions
from kubecis.report.views import Fleet, FleetNode
from kubecis.results.model import Counts, RunResult, State, StatusCounts

FORMATS = ("text", "json", "junit", "html", "sarif", "csv")
NEEDS_RESULTS = ("junit", "html", "sarif", "csv")  # formats that read every check of every node

SCHEMA_ID = "https://kubecis.dev/schemas/cluster-report-v1.json"
FORMAT_VERSION = 1
MATRIX_MAX_NODES = 12  # wider clusters list the failing nodes per check instead of a column each


def kube_bench_object(run: RunResult) -> Any:
    """The node's kube-bench JSON value (``{"Controls": [...], "Totals": {...}}``)."""
    return payload(run.sorted(), ReportOptions())


def summarize(run: RunResult) -> NodeSummary:
    """The node's :class:`NodeSummary` (its kube-bench JSON encoded once)."""
    run = run.sorted()
    states: dict[str, str] = {}
    failing: dict[str, str] = {}
    statuses = StatusCounts()
    for ctl in run.controls:
        for g in ctl.groups:
            for chk in g.checks:
                status = chk.status
                statuses.add(status)
                states.setdefault(chk.id, status)
                if chk.state is State.FAIL:
                    failing.setdefault(chk.id, chk.text)
    return NodeSummary(fast_encode(kube_bench_object(run)) + "\n", run.totals, states, failing, statuses,
                       run.waivers)


_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def fast_encode(value: Any) -> str:
    """:func:`kubecis.report.json.encode`'s exact output through the C JSON encoder: Go escapes the HTML
    characters and U+2028/U+2029 (they only occur inside strings, so replacing them everywhere is exact),
    and short/``\\u00xx`` escapes for control characters are the same in both. Text with lone surrogates
    (undecodable bytes) takes the reference encoder, which writes U+FFFD like Go."""
    import json

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for a, b in _GO_ESCAPES:
        if a in text:
            text = text.replace(a, b)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return encode(value)
    return text


class _Raw(str):
    """Already-encoded JSON, spliced in as is."""


def _enc(value: Any) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_string(str(k))}:{_enc(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_enc(v) for v in value) + "]"
    return encode(value)


def _node_json(n: NodeResult) -> str | None:
    if n.summary is not None:
        return n.summary.json.rstrip("\n")
    if n.result is not None:
        return fast_encode(kube_bench_object(n.result))
    return None


def _totals(c: Counts) -> dict[str, int]:
    return {"total_pass": c.pass_, "total_fail": c.fail, "total_warn": c.warn, "total_info": c.info}


def node_dict(n: NodeResult) -> dict[str, Any]:
    return {
        "name": n.name,
        "roles": list(n.roles),
        "platform": n.platform,
        "benchmark": n.benchmark,
        "targets": list(n.targets),
        "state": n.state.value,
        "reason": n.reason,
        "results": _Raw(j) if (j := _node_json(n)) is not None else None,
        "decisions": list(n.decisions),
    }


def _head(c: ClusterResult) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_ID,
        "format_version": FORMAT_VERSION,
        "kubecis_version": __version__,
        "cluster": c.cluster.to_dict(),
    }


def _tail(c: ClusterResult) -> dict[str, Any]:
    ev = len(c.evaluated)
    return {
        "policies": _Raw(fast_encode(kube_bench_object(c.policies))) if c.policies is not None else None,
        "policies_reason": c.policies_reason,
        "summary": {"nodes": len(c.nodes), "evaluated": ev, "not_evaluated": len(c.nodes) - ev,
                    "coverage": c.coverage_line},
        "totals": _totals(c.totals),
    }


def json_head(c: ClusterResult) -> str:
    """The merged JSON up to the opening of the node list (it is streamed: :func:`json_node` per node, commas
    between, then :func:`json_tail` once every node and the policies are known)."""
    return _enc(_head(c))[:-1] + ',"nodes":['


def json_node(n: NodeResult) -> str:
    return _enc(node_dict(n))


def json_tail(c: ClusterResult) -> str:
    return "]," + _enc(_tail(c))[1:] + "\n"


def to_dict(c: ClusterResult) -> dict[str, Any]:
    import json

    return dict(json.loads(render_json(c)))


def render_json(c: ClusterResult) -> str:
    """One JSON object (Go-style encoding like kube-bench's, so node results are byte-identical)."""
    return json_head(c) + ",".join(json_node(n) for n in c.nodes) + json_tail(c)


def node_json(n: NodeResult) -> str:
    """What ``kubecis run --json`` prints on that node (kube-bench's format)."""
    j = _node_json(n)
    assert j is not None
    return j + "\n"


def fleet(c: ClusterResult) -> Fleet:
    """The cluster as kubecis's own formats see it (every evaluated node's full results must have been kept)."""
    nodes = []
    for n in c.nodes:
        run = n.result if n.evaluated else None
        if n.evaluated and run is None:
            raise AssertionError(f"{n.name}: results were not kept for this format")
        nodes.append(FleetNode(n.name, run, n.reason, tuple(n.roles), n.benchmark, n.platform))
    info = c.cluster
    return Fleet(info.name, info.server, info.version, info.source, c.scanned_at, nodes, c.policies,
                 c.policies_reason, c.waivers)


def render(fmt: str, c: ClusterResult, *, explain: bool = False, escape: bool = False) -> str:
    """The merged report in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "text":
        return render_text(c, explain=explain, escape=escape)
    if fmt == "json":
        return render_json(c)
    import importlib

    module = importlib.import_module(f"kubecis.report.{fmt}")
    text: str = module.render_fleet(fleet(c), ReportOptions())
    return text


def safe_file_name(name: str) -> str:
    """A node name as a file name (node names are DNS subdomains; anything else is replaced)."""
    import re

    s = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return s or "_"


# ---- text ---------------------------------------------------------------------------------------------------

def _cell(text: str, width: int) -> str:
    return text[:width].ljust(width)


def _esc(text: str, escape: bool) -> str:
    if not escape:
        return text
    from kubecis.report.color import escape_controls

    return escape_controls(text)


def render_text(c: ClusterResult, *, explain: bool = False, escape: bool = False) -> str:
    """Per-node summary, the cluster-wide policies, then a node x check matrix of failures."""
    def e(s: str) -> str:
        return _esc(s, escape)

    out: list[str] = []
    info = c.cluster
    head = info.name or info.label or info.server or "cluster"
    extra = ", ".join(x for x in (info.server if info.name else "", info.version) if x)
    out.append(f"== Cluster {e(head)}" + (f" ({e(extra)})" if extra else "") + " ==\n")
    w = max([4, *(len(n.name) for n in c.nodes)])
    rw = max([5, *(len(",".join(n.roles)) for n in c.nodes)])
    bw = max([9, *(len(n.benchmark) for n in c.nodes)])
    out.append(f"{'NODE'.ljust(w)}  {'ROLES'.ljust(rw)}  {'BENCHMARK'.ljust(bw)}  {'STATE':<13}  "
               f"{'PASS':>4} {'FAIL':>4} {'WARN':>4} {'INFO':>4}  REASON\n")
    for n in c.nodes:
        if n.evaluated:
            k = n.counts
            nums = f"{k.pass_:>4} {k.fail:>4} {k.warn:>4} {k.info:>4}"
        else:
            nums = f"{'-':>4} {'-':>4} {'-':>4} {'-':>4}"
        state = "evaluated" if n.evaluated else "NOT EVALUATED"
        out.append(f"{e(n.name).ljust(w)}  {','.join(n.roles).ljust(rw)}  {e(n.benchmark or '-').ljust(bw)}  "
                   f"{state:<13}  {nums}  {e(n.reason)}\n".rstrip() + "\n")
        if explain:
            out.extend(f"    {e(d)}\n" for d in n.decisions)
    out.append("\n")
    if c.policies is not None:
        k = c.policies.totals
        out.append(f"== Policies (once per cluster) ==\n{e(c.policies_reason)}\n")
        for _, _, chk in c.policies.sorted().checks():
            if chk.state is State.FAIL or chk.waiver is not None:
                out.append(f"[{chk.status}] {e(chk.id)} {e(chk.text)}\n")
        out.append(f"{k.pass_} checks PASS\n{k.fail} checks FAIL\n{k.warn} checks WARN\n{k.info} checks INFO\n\n")
    elif c.policies_reason:
        out.append(f"== Policies (once per cluster) ==\nnot evaluated: {e(c.policies_reason)}\n\n")
    out += _matrix(c, e)
    t = c.totals
    out.append("== Summary cluster ==\n")
    out.append(f"{c.coverage_line}\n")
    for n in c.not_evaluated:
        out.append(f"  not evaluated: {e(n.name)}: {e(n.reason)}\n")
    out.append(f"{t.pass_} checks PASS\n{t.fail} checks FAIL\n{t.warn} checks WARN\n{t.info} checks INFO\n")
    if c.waivers is not None:
        waived = sum(n.summary.statuses.waived for n in c.nodes if n.summary is not None)
        if c.policies is not None:
            waived += c.policies.status_counts.waived
        out.append(f"({waived} of the INFO checks are WAIVED)\n")
    return "".join(out)


def _matrix(c: ClusterResult, e: Callable[[str], str]) -> list[str]:
    """Checks that FAIL on at least one node: a row each, a column per node (FAIL, pass, warn, info, waived,
    '-' not checked there, 'n/e' node not evaluated)."""
    states: dict[str, dict[str, str]] = {}
    texts: dict[str, str] = {}
    for n in c.nodes:
        s = n.summary if n.summary is not None else (summarize(n.result) if n.result is not None else None)
        if s is None:
            continue
        for cid, st in s.states.items():
            states.setdefault(cid, {})[n.name] = st
        for cid, text in s.failing.items():
            texts.setdefault(cid, text)
    failing = sorted(texts, key=_id_key)
    out = ["== Failures (node x check) ==\n"]
    if not failing:
        out.append("no check FAILs on any evaluated node\n\n")
        return out
    idw = max(5, *(len(x) for x in failing))
    mark = {"FAIL": "FAIL", "PASS": "pass", "WARN": "warn", "INFO": "info", "WAIVED": "waived"}
    if len(c.nodes) <= MATRIX_MAX_NODES:
        cols = [(n.name, n.evaluated) for n in c.nodes]
        widths = [max(6 if any(states[cid].get(name) == "WAIVED" for cid in failing) else 4, len(name))
                  for name, _ in cols]
        out.append(f"{'CHECK'.ljust(idw)}  " + "  ".join(e(name).ljust(wd) for (name, _), wd in zip(cols, widths,
                                                                                                 strict=True))
                   + "  TEXT\n")
        for cid in failing:
            cells = []
            for (name, ok), wd in zip(cols, widths, strict=True):
                got = states[cid].get(name)
                cells.append(("n/e" if not ok else mark[got] if got is not None else "-").ljust(wd))
            out.append(f"{e(cid).ljust(idw)}  " + "  ".join(cells) + f"  {e(texts[cid])}\n")
    else:
        out.append(f"{'CHECK'.ljust(idw)}  {'FAILED ON':<10}  TEXT\n")
        for cid in failing:
            bad = [name for name, st in states[cid].items() if st == "FAIL"]
            out.append(f"{e(cid).ljust(idw)}  {len(bad):>3} nodes    {e(texts[cid])}\n"
                       f"{''.ljust(idw)}  {e(', '.join(bad[:20]))}{' ...' if len(bad) > 20 else ''}\n")
    out.append("\n")
    return out


def _id_key(cid: str) -> tuple[tuple[int, int | str], ...]:
    """Check ids in numeric order (1.2.10 after 1.2.9)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in cid.split("."))
