"""`kubecis run` (and the `master` / `node` shortcuts and `demo`): kube-bench's run, with kube-bench's flags."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from dataclasses import replace
from pathlib import Path

from kubecis.cli import args as a
from kubecis.cli import outputs
from kubecis.errors import BenchmarkError, OutputError, UsageError
from kubecis.records import dataclass

EXECUTORS = ("auto", "native", "shell")
DISCOVERY = ("process", "candidates")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything one `kubecis run` needs, as parsed from its command line."""

    targets: tuple[str, ...] = ()  # empty: detect the node's roles
    config_dir: Path | None = None
    config_file: Path | None = None  # --config: the global config file (kube-bench's flag)
    benchmark: str = ""
    version: str = ""
    check: str = ""
    group: str = ""
    skip: str = ""
    scored: bool = True
    unscored: bool = True
    fmt: str = "text"  # one of outputs.FORMATS
    outputfile: Path | None = None
    noremediations: bool = False
    noresults: bool = False
    nosummary: bool = False
    nototals: bool = False
    include_test_output: bool = False
    exit_code: int = 0
    executor: str = "auto"
    allow_shell: bool = False  # auto: run what the native interpreter does not cover through /bin/sh
    root: Path | None = None
    snapshot: Path | None = None
    timeout: float = 30.0
    discovery: str = "process"
    # reports beyond kube-bench's, waivers and sinks (cli/outputs.py)
    waivers: Path | None = None
    node_name: str = ""
    cluster: str = ""
    store: str | None = None
    pgsql: bool = False
    asff: bool = False
    objects: Path | None = None  # an object dump for the policies checks (--objects)


def _new_temp(parent: Path, prefix: str) -> tuple[int, str]:
    """A new file beside the output, as ``tempfile.mkstemp`` makes one (a random name created with O_EXCL, mode
    0600, never through a symbolic link), without importing :mod:`tempfile` (and shutil, random) on a node run."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = os.path.join(parent, f"{prefix}{os.urandom(6).hex()}")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name found", str(parent))


def write_atomic(path: Path, text: str, flag: str = "--outputfile") -> None:
    """Write ``text`` to ``path`` via a temp file + rename: never a half-written report, even on Ctrl-C."""
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = _new_temp(parent, f".{path.name}.")
    except OSError as e:
        raise OutputError(f"{flag} {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{flag} {path}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def notice(line: str) -> None:
    """One line on stderr, at once (it announces something that is about to happen)."""
    sys.stderr.write(f"kubecis: {line}\n")
    sys.stderr.flush()


def do_run(opts: RunOptions) -> int:
    from kubecis.audit.dispatch import ALLOW_SHELL_HINT
    from kubecis.benchmark.versions import VersionNotDetected
    from kubecis.cli.common import (
        OBJECTS_NEED_NATIVE,
        build_host,
        check_output_path,
        load_objects,
        make_executor,
        resolve_config_dir,
    )
    from kubecis.engine import PlanRequest, make_plan, recorded_request, run_plan
    from kubecis.report import ReportOptions, color_enabled, render
    from kubecis.results.runner import Filters, parse_id_list

    filters = Filters(
        checks=tuple(parse_id_list(opts.check)),
        groups=tuple(parse_id_list(opts.group)),
        skip=tuple(parse_id_list(opts.skip)) if opts.skip else (),
        scored=opts.scored,
        unscored=opts.unscored,
    )
    if opts.outputfile is not None:
        check_output_path(opts.outputfile)
    extra = outputs.Outputs.prepare(fmt=opts.fmt, waivers=opts.waivers, node_name=opts.node_name,
                                    cluster=opts.cluster, store=opts.store, pgsql=opts.pgsql, asff=opts.asff)
    host, live = build_host(root=opts.root, snapshot=opts.snapshot)
    if opts.objects is not None and opts.executor == "shell":
        raise UsageError(OBJECTS_NEED_NATIVE)  # before reading a large dump
    cluster = load_objects(opts.objects)
    cfg_dir = resolve_config_dir(opts.config_dir)
    request = PlanRequest(
        config_dir=cfg_dir,
        benchmark=opts.benchmark,
        version=opts.version,
        targets=opts.targets,
        use_cmdline_paths=opts.discovery == "process",
        allow_tools=live and opts.executor != "native",
        config_file=opts.config_file,
    )
    if opts.snapshot is not None:  # replay what the snapshot was recorded for, unless told otherwise
        from kubecis.host.snapshot import SnapshotHost

        if isinstance(host, SnapshotHost):
            request, _ = recorded_request(request, host)
    try:
        plan = make_plan(request, host)
    except VersionNotDetected:
        from kubecis.benchmark.config import Config
        from kubecis.engine import NOT_A_NODE, node_evidence

        if not node_evidence(Config.load(cfg_dir, opts.config_file), host):
            raise BenchmarkError(NOT_A_NODE) from None
        raise
    for warning in plan.selection.warnings:
        sys.stderr.write(f"kubecis: warning: {warning}\n")
    extra.configure(plan.config.get)
    ex = make_executor(opts.executor, host, live=live, timeout=opts.timeout, allow_shell=opts.allow_shell,
                       notify=notice, cluster=cluster)
    if opts.executor == "shell":
        notice("--executor shell: every audit runs through /bin/sh")
    result = run_plan(plan, ex, filters)
    if extra.active:
        result = extra.annotate(result, host)
    to_terminal = opts.outputfile is None and _isatty(sys.stdout)
    options = ReportOptions(
        no_results=opts.noresults,
        no_remediations=opts.noremediations,
        no_summary=opts.nosummary,
        no_totals=opts.nototals,
        include_test_output=opts.include_test_output,
        color=opts.fmt == "text" and opts.outputfile is None and color_enabled(sys.stdout),
        escape_controls=opts.fmt == "text" and to_terminal,
        asff=extra.asff_settings,
    )
    text = render(opts.fmt, result, options)
    if opts.outputfile is not None:
        write_atomic(opts.outputfile, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    checks = [c for cr in result.controls for g in cr.groups for c in g.checks]
    if opts.allow_shell:
        via_shell = [c.id for c in checks if c.executor == "shell"]
        if via_shell:
            sys.stderr.write(f"kubecis: {len(via_shell)} checks ran through /bin/sh (audit not supported "
                             f"natively): {', '.join(via_shell)}\n")
    elif opts.executor == "auto" and live:
        declined = [c.id for c in checks if c.reason.endswith(ALLOW_SHELL_HINT)]
        if declined:
            sys.stderr.write(f"kubecis: {len(declined)} checks not run (audit not supported natively; "
                             f"{ALLOW_SHELL_HINT}): {', '.join(declined)}\n")
    extra.report_notes(result)
    extra.deliver(result)  # after the report is written: a failing sink loses no result
    if opts.exit_code and result.totals.fail > 0:
        return opts.exit_code
    return 0


def _isatty(stream: object) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except (OSError, ValueError):
        return False


# ---- command line ---------------------------------------------------------------------------------------
_SHORTCUTS = {"master": ("master",), "node": ("node",)}


def build(p: argparse.ArgumentParser, name: str) -> None:
    """`run`, `master`, `node` and `demo`."""
    if name == "demo":
        p.description = ("Show a real report without a cluster: replay the example node shipped with kubecis (a "
                         "kubeadm control plane with typical weaknesses) against the bundled benchmark. "
                         "Same as `kubecis run --snapshot example` with the bundled definitions.")
        out = p.add_argument_group("output")
        out.add_argument("--json", dest="json_out", action="store_true", help="kube-bench JSON output")
        out.add_argument("--outputfile", type=a.path_arg, metavar="FILE",
                         help="write the report to FILE (atomically; a regular file, never through a symlink)")
        outputs.add_arguments(p, out, cluster_name=False)
        p.add_argument("--cluster", action="store_true",
                       help="the merged report of an example fleet (a control plane, a hardened and a misconfigured "
                            "worker, one node whose payload never arrived, and the example cluster's API objects for "
                            "the policies), as `kubecis cluster scan` prints it; takes --json, --format (but asff), "
                            "--outputfile, --waivers and --store")
        p.set_defaults(handler=_demo)
        return
    if name in _SHORTCUTS:
        p.description = f"Shortcut for `kubecis run --targets {name}`: check this node's {name} target only."
    else:
        p.description = ("Check this node against the CIS Kubernetes Benchmark, like kube-bench's run. Without "
                         "--targets the node's roles (control plane, etcd, worker) are detected.")
    a.add_selection(p)
    a.add_config_file(p)
    p.add_argument("--check", "-c", default="", metavar="IDS", help="only these check ids (comma-separated)")
    p.add_argument("--group", "-g", default="", metavar="IDS", help="only these group ids (comma-separated)")
    p.add_argument("--skip", default="", metavar="IDS", help="check or group ids to skip (reported as INFO)")
    a.bool_flag(p, "--scored", default=True, help="include scored checks")
    a.bool_flag(p, "--unscored", default=True, help="include unscored checks")
    out = p.add_argument_group("output")
    out.add_argument("--json", dest="json_out", action="store_true", help="kube-bench JSON output")
    out.add_argument("--junit", dest="junit_out", action="store_true", help="JUnit XML output (wins over --json)")
    out.add_argument("--outputfile", type=a.path_arg, metavar="FILE",
                     help="write the report to FILE (atomically; a regular file, never through a symlink)")
    outputs.add_arguments(p, out)
    out.add_argument("--noremediations", action="store_true", help="text: omit the remediations")
    out.add_argument("--noresults", action="store_true", help="text: omit per-check lines")
    out.add_argument("--nosummary", action="store_true", help="text: omit per-target summaries")
    out.add_argument("--nototals", action="store_true", help="omit the total summary (JSON: a bare array)")
    out.add_argument("--include-test-output", action="store_true", help="text: print audit output under FAIL lines")
    out.add_argument("--exit-code", type=a.exit_status, default=0, metavar="N",
                     help="exit status (0-255) when any check FAILs (default 0, like kube-bench)")
    ex = p.add_argument_group("execution")
    ex.add_argument("--executor", choices=EXECUTORS, default="auto",
                    help="auto: every audit natively, one it does not cover is WARN unless --allow-shell; native: "
                         "never start a process; shell: every audit through /bin/sh like kube-bench")
    ex.add_argument("--allow-shell", action="store_true",
                    help="with auto on this machine: run the audits the native interpreter does not cover through "
                         "/bin/sh, each announced on stderr before it starts")
    a.add_host(ex)
    a.add_objects(ex)
    ex.add_argument("--timeout", type=a.positive_seconds(0.1), default=30.0, metavar="SECONDS",
                    help="seconds before an audit is stopped (the check becomes WARN; default 30)")
    ex.add_argument("--discovery", choices=DISCOVERY, default="process",
                    help="process: config paths named on a running component's command line win (fixes "
                         "kube-bench #1256); candidates: kube-bench's first-existing-candidate rule only")
    p.set_defaults(handler=_run, fixed_targets=_SHORTCUTS.get(name), command_name=name)


def options_from(ns: argparse.Namespace) -> RunOptions:
    """The RunOptions of a parsed `run`/`master`/`node` command line."""
    from kubecis.results.runner import parse_id_list

    fixed: tuple[str, ...] | None = ns.fixed_targets
    if fixed is not None and ns.targets:
        raise UsageError(f"`kubecis {ns.command_name}` runs {fixed[0]} only; use `kubecis run --targets`")
    return RunOptions(
        targets=fixed if fixed is not None else tuple(parse_id_list(ns.targets)),
        config_dir=ns.config_dir, config_file=ns.config_file, benchmark=ns.benchmark, version=ns.version,
        check=ns.check, group=ns.group,
        skip=ns.skip, scored=ns.scored, unscored=ns.unscored,
        outputfile=ns.outputfile,
        noremediations=ns.noremediations, noresults=ns.noresults, nosummary=ns.nosummary, nototals=ns.nototals,
        include_test_output=ns.include_test_output, exit_code=ns.exit_code, executor=ns.executor,
        allow_shell=ns.allow_shell, root=ns.root,
        snapshot=ns.snapshot, timeout=ns.timeout, discovery=ns.discovery, objects=ns.objects,
        **outputs.options_from(ns),
    )


def _run(ns: argparse.Namespace) -> int:
    return do_run(options_from(ns))


DEMO = RunOptions(executor="native", snapshot=Path("example"))


def _demo(ns: argparse.Namespace) -> int:
    from kubecis.benchmark.bundled import materialise

    if ns.cluster:
        from kubecis.cli.cluster import demo

        return demo(ns)
    # always the bundled definitions the example was recorded with, never ./cfg
    return do_run(replace(DEMO, config_dir=materialise(), outputfile=ns.outputfile, **outputs.options_from(ns)))
