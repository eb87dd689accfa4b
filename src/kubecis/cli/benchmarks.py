"""`kubecis benchmarks list|validate|show|diff`: which benchmark sets exist, are they well-formed, what
is in them and how two of them differ.

Without ``--config-dir`` these use ``./cfg`` when it exists (kube-bench's default), else the sets
bundled with kubecis (materialised as a kube-bench directory, see :mod:`kubecis.benchmark.bundled`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kubecis.benchmark import bundled
from kubecis.benchmark.config import Config
from kubecis.benchmark.loader import Diagnostic, load_controls
from kubecis.benchmark.model import Check, Controls
from kubecis.cli import args as a
from kubecis.cli.common import echo, resolve_config_dir
from kubecis.errors import ConfigError, KubecisError, LoadError, UsageError

DOC_FORMATS = ("markdown", "html")
REGENERATE = "kubecis benchmarks docs --all --output-dir docs/catalogue"  # = kubecis.report.catalogue.REGENERATE


def build(p: argparse.ArgumentParser, name: str) -> None:
    sub = p.add_subparsers(title="commands", metavar="COMMAND", dest="subcommand")
    c = sub.add_parser("list", help="list the benchmark sets, their targets and mapped Kubernetes versions",
                       description="List the benchmark sets, their targets and the Kubernetes versions mapped to them.")
    a.add_config_dir(c)
    c.set_defaults(handler=list_cmd)
    c = sub.add_parser("validate", help="load every controls file of the named sets; exit 0 only if well-formed",
                       description="Load every controls file of the named sets; exit 0 only if all are well-formed. "
                                   "Errors name the file and line.")
    c.add_argument("names", nargs="+", metavar="NAME", help="benchmark set names, e.g. cis-1.12")
    a.add_config_dir(c)
    c.add_argument("--strict", action="store_true", help="treat warnings as errors")
    c.set_defaults(handler=validate_cmd)
    c = sub.add_parser("show", help="print a set's outline, or one check",
                       description="Print a set's outline, or one check: title, audit, tests and remediation.")
    c.add_argument("name", metavar="NAME", help="benchmark set, e.g. cis-1.12")
    c.add_argument("check_id", nargs="?", metavar="ID", help="a check id, e.g. 1.2.5; omit for the outline")
    a.add_config_dir(c)
    c.set_defaults(handler=show_cmd)
    c = sub.add_parser("diff", help="list checks added, removed or changed between two sets",
                       description="List checks added, removed or changed (title, type, scored, tests, audit, "
                                   "remediation) by check id.")
    c.add_argument("old", metavar="OLD", help="the older set, e.g. cis-1.11")
    c.add_argument("new", metavar="NEW", help="the newer set, e.g. cis-1.12")
    a.add_config_dir(c)
    c.set_defaults(handler=diff_cmd)
    c = sub.add_parser("docs", help="write a set's check catalogue: what each check inspects, its tests, remediation",
                       description="Write the check catalogue of a benchmark set, generated from the definitions "
                                   "`kubecis run` executes: per check its id, title, automated/manual, scored, what "
                                   "it inspects (file, flag, API objects), the probe or audit, the tests in words and "
                                   "the remediation, with paths shown as their defaults. One set goes to standard "
                                   "output or -o FILE; several (or --all) to --output-dir DIR, one file per set plus "
                                   f"an index. The shipped docs/catalogue is `{REGENERATE}`.")
    c.add_argument("names", nargs="*", metavar="NAME", help="benchmark set names, e.g. cis-2.0")
    c.add_argument("--all", action="store_true", help="every set (bundled, or in --config-dir), with an index")
    c.add_argument("--format", choices=DOC_FORMATS, default="markdown",
                   help="markdown (default) or html (one self-contained page per set)")
    c.add_argument("--outputfile", "-o", type=a.path_arg, metavar="FILE",
                   help="write the one set's catalogue to FILE (atomically)")
    c.add_argument("--output-dir", type=a.path_arg, metavar="DIR",
                   help="write NAME.md (or NAME.html) per set into DIR (created if missing); with --all also the "
                        "index (README.md or index.html), and catalogue files of sets that no longer exist are "
                        "removed")
    c.add_argument("--config-dir", "-D", type=a.path_arg, metavar="DIR",
                   help="document the sets of this kube-bench-format directory (holds config.yaml) instead of the "
                        "bundled ones")
    c.set_defaults(handler=docs_cmd)


def config_dir_or_bundled(config_dir: Path | None) -> Path:
    """``--config-dir``, else ``./cfg`` when it holds a config.yaml, else the bundled sets."""
    if config_dir is not None:
        return resolve_config_dir(config_dir)
    try:
        return resolve_config_dir(None)
    except ConfigError:
        return bundled.materialise()


def list_cmd(ns: argparse.Namespace) -> int:
    """List the benchmark sets, their targets and the Kubernetes versions mapped to them."""
    cfg = Config.load(config_dir_or_bundled(ns.config_dir))
    try:
        tmap = cfg.target_mapping()
    except KubecisError:
        tmap = {}
    try:
        vmap = cfg.version_mapping()
    except KubecisError:
        vmap = {}
    by_bench: dict[str, list[str]] = {}
    for k, v in vmap.items():
        if k != v:
            by_bench.setdefault(v, []).append(k)
    for name in cfg.benchmarks():
        versions = ", ".join(by_bench.get(name, [])) or "-"
        targets = ",".join(tmap.get(name, [])) or "(no target_mapping entry)"
        echo(f"{name:<28} targets: {targets:<55} kubernetes: {versions}")
    return 0


def validate_controls(controls: Controls) -> list[Diagnostic]:
    """Errors kube-bench would only hit at run time (it panics on them): invalid regexes."""
    errs: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for g in controls.groups:
        if not g.id:
            errs.append(Diagnostic(controls.source, g.line, "group without an id"))
        for c in g.checks:
            if not c.id:
                errs.append(Diagnostic(controls.source, c.line, "check without an id"))
            if c.id in seen and c.id:
                errs.append(Diagnostic(controls.source, c.line,
                                       f"check id {c.id} repeats the check at line {seen[c.id]}"))
            seen.setdefault(c.id, c.line)
            for item in c.tests.items if c.tests else ():
                if item.flag:
                    try:
                        re.compile("(" + item.flag + r")(=|: *)*([^\s]*) *")
                    except re.error as e:
                        errs.append(Diagnostic(controls.source, c.line,
                                               f"check {c.id}: flag {item.flag!r} is not a valid pattern: {e}"))
                if item.compare.op == "regex":
                    try:
                        re.compile(item.compare.value)
                    except re.error as e:
                        errs.append(Diagnostic(controls.source, c.line,
                                               f"check {c.id}: regex {item.compare.value!r} is invalid: {e}"))
    return errs


def validate_set(cfg: Config, name: str) -> tuple[list[str], list[str], int]:
    """(errors, warnings, number of checks) for one benchmark set."""
    errors: list[str] = []
    warnings: list[str] = []
    bench_dir = cfg.config_dir / name
    if not bench_dir.is_dir():
        available = ", ".join(cfg.benchmarks())
        return [f"{name}: unknown benchmark in {cfg.config_dir}; available: {available}"], [], 0
    try:
        cfg.merged_with(name)
    except KubecisError as e:
        errors.append(str(e))
    try:
        if not cfg.target_mapping().get(name):
            warnings.append(f"{name}: no target_mapping entry; `kubecis run` cannot select its targets")
    except KubecisError as e:
        warnings.append(str(e))
    n = 0
    files = sorted(p for p in bench_dir.rglob("*.yaml") if p.name != "config.yaml")
    if not files:
        errors.append(f"{bench_dir}: no controls files")
    for path in files:
        target = path.name.split(".")[0]
        try:
            loaded = load_controls(path, target)
        except LoadError as e:
            errors.append(str(e))
            continue
        n += len(loaded.controls.checks())
        warnings += [str(d) for d in loaded.diagnostics]
        errors += [str(d) for d in validate_controls(loaded.controls)]
    return errors, warnings, n


def validate_cmd(ns: argparse.Namespace) -> int:
    """Load every controls file of the named sets; exit 0 only if all are well-formed."""
    cfg = Config.load(config_dir_or_bundled(ns.config_dir))
    strict: bool = ns.strict
    failed = False
    for name in ns.names:
        errors, warnings, n = validate_set(cfg, name)
        for w in warnings:
            sys.stderr.write(f"warning: {w}\n")
        for e in errors:
            sys.stderr.write(f"error: {e}\n")
        bad = bool(errors) or (strict and bool(warnings))
        failed |= bad
        status = "FAILED" if bad else "ok"
        echo(f"{name}: {status} ({n} checks, {len(errors)} errors, {len(warnings)} warnings)")
    return 1 if failed else 0


# ---- show / diff -----------------------------------------------------------------------------------
def load_set(name: str, config_dir: Path | None) -> dict[str, Controls]:
    """target → controls of one set: from ``--config-dir`` when given, else from the bundled store."""
    if config_dir is None:
        if name not in bundled.bundled_names():
            raise KubecisError(f"unknown bundled benchmark {name!r}; available: {', '.join(bundled.bundled_names())}")
        return bundled.get_set(name).controls
    base = resolve_config_dir(config_dir) / name
    if not base.is_dir():
        raise KubecisError(f"unknown benchmark {name!r} in {config_dir}")
    out: dict[str, Controls] = {}
    for t in ("master", "controlplane", "etcd", "node", "policies", "managedservices"):
        if (base / f"{t}.yaml").is_file():
            out[t] = load_controls(base / f"{t}.yaml", t).controls
    return out


def format_tests(c: Check) -> list[str]:
    if c.tests is None:
        return ["(no tests)"]
    lines = [f"bin_op: {c.tests.bin_op or 'and'}"] if len(c.tests.items) > 1 else []
    for i in c.tests.items:
        src = " ".join(f"{k}={v!r}" for k, v in (("flag", i.flag), ("path", i.path), ("env", i.env)) if v)
        if not i.set:
            lines.append(f"- {src}: not set")
        elif i.compare.op:
            lines.append(f"- {src}: {i.compare.op} {i.compare.value!r}")
        else:
            lines.append(f"- {src}: set")
    return lines or ["(empty test list)"]


def check_kind(c: Check) -> str:
    t = c.type.strip()
    return t if t else ("automated" if c.tests and c.tests.items else "no tests")


def show_cmd(ns: argparse.Namespace) -> int:
    """Print a set's outline, or one check: title, audit, tests and remediation."""
    name: str = ns.name
    check_id: str | None = ns.check_id
    sets = load_set(name, ns.config_dir)
    if check_id is None:
        for t, ctl in sets.items():
            echo(f"{t}: {ctl.id} {ctl.text} ({len(ctl.checks())} checks)")
            for g in ctl.groups:
                echo(f"  {g.id} {g.text}")
                for c in g.checks:
                    echo(f"    {c.id:<8} [{check_kind(c)}{', scored' if c.scored else ''}] {c.text}")
        return 0
    for t, ctl in sets.items():
        for c in ctl.checks():
            if c.id == check_id:
                echo(f"{c.id} ({name}/{t}) {c.text}")
                echo(f"type: {check_kind(c)}; scored: {str(c.scored).lower()}"
                           f"{'; use_multiple_values' if c.use_multiple_values else ''}")
                for label, text in (("audit", c.audit), ("audit_config", c.audit_config), ("audit_env", c.audit_env)):
                    if text.strip():
                        echo(f"{label}:")
                        echo("\n".join("  " + line for line in text.strip().splitlines()))
                echo("tests:")
                echo("\n".join("  " + line for line in format_tests(c)))
                echo("remediation:")
                echo("  " + c.remediation.strip())
                return 0
    raise KubecisError(f"no check {check_id!r} in {name}")


def diff_sets(a: dict[str, Controls], b: dict[str, Controls]) -> list[str]:
    """Lines describing how set ``b`` differs from set ``a`` (by check id, target by target)."""
    fa = {c.id: (t, c) for t, ctl in a.items() for c in ctl.checks()}
    fb = {c.id: (t, c) for t, ctl in b.items() for c in ctl.checks()}
    out: list[str] = []
    for cid, (t, c) in fa.items():
        if cid not in fb:
            out.append(f"- {cid} ({t}) removed: {c.text}")
    for cid, (t, c) in fb.items():
        if cid not in fa:
            out.append(f"+ {cid} ({t}) added: {c.text}")
    for cid, (t, c) in fb.items():
        if cid not in fa:
            continue
        old = fa[cid][1]
        changed = [label for label, x, y in (
            ("title", old.text, c.text), ("type", old.type.strip(), c.type.strip()), ("scored", old.scored, c.scored),
            ("tests", (old.tests, old.use_multiple_values), (c.tests, c.use_multiple_values)),
            ("audit", (old.audit, old.audit_config, old.audit_env), (c.audit, c.audit_config, c.audit_env)),
            ("remediation", old.remediation, c.remediation)) if x != y]
        if changed:
            line = f"~ {cid} ({t}) {', '.join(changed)} changed"
            if "title" in changed:
                line += f": {old.text!r} -> {c.text!r}"
            out.append(line)
    return out


def diff_cmd(ns: argparse.Namespace) -> int:
    """List checks added, removed or changed (title, type, scored, tests, audit, remediation) by check id."""
    old: str = ns.old
    new: str = ns.new
    lines = diff_sets(load_set(old, ns.config_dir), load_set(new, ns.config_dir))
    echo(f"{old} -> {new}: {len(lines)} difference{'s' if len(lines) != 1 else ''}")
    for line in lines:
        echo(line)
    return 0


# ---- docs ----------------------------------------------------------------------------------------------------
if TYPE_CHECKING:
    from kubecis.report.catalogue import Catalogue


def catalogue_of(name: str, config_dir: Path | None) -> Catalogue:
    """The catalogue of one set: bundled (compiled from kubecis/data) or from a kube-bench cfg directory."""
    from kubecis.report import catalogue

    if config_dir is None:
        if name not in bundled.bundled_names():
            raise KubecisError(f"unknown bundled benchmark {name!r}; available: {', '.join(bundled.bundled_names())}")
        bs = bundled.get_set(name)
        config = Config.load(bundled.materialise()).merged_with(name)
        return catalogue.build(name, bs.controls, config, description=bs.description, kubernetes=bs.kubernetes)
    root = Config.load(resolve_config_dir(config_dir))
    controls = load_set(name, config_dir)
    try:
        versions = [k for k, v in root.version_mapping().items() if v == name and k != name]
    except KubecisError:
        versions = []
    return catalogue.build(name, controls, root.merged_with(name), kubernetes=versions, source="config-dir")


def _doc_names(ns: argparse.Namespace) -> list[str]:
    names: list[str] = list(ns.names)
    if ns.all and names:
        raise UsageError("give benchmark names or --all, not both")
    if ns.all:
        if ns.config_dir is None:
            return bundled.bundled_names()
        return Config.load(resolve_config_dir(ns.config_dir)).benchmarks()
    if not names:
        raise UsageError("name a benchmark set (e.g. `kubecis benchmarks docs cis-2.0`) or pass --all")
    return list(dict.fromkeys(names))


def docs_cmd(ns: argparse.Namespace) -> int:
    """Write the check catalogue of one or more sets (see the subcommand's description)."""
    from kubecis.cli.common import check_output_path
    from kubecis.cli.run import write_atomic
    from kubecis.report import catalogue

    names = _doc_names(ns)
    out_dir: Path | None = ns.output_dir
    out_file: Path | None = ns.outputfile
    if out_dir is not None and out_file is not None:
        raise UsageError("--outputfile and --output-dir cannot be used together")
    if out_dir is None and (len(names) > 1 or ns.all):
        raise UsageError("several sets need --output-dir DIR (one file per set)")
    html = ns.format == "html"
    render = catalogue.html if html else catalogue.markdown
    if out_dir is None:
        if out_file is not None:
            check_output_path(out_file)
        text = render(catalogue_of(names[0], ns.config_dir))
        if out_file is not None:
            write_atomic(out_file, text)
            _world_readable(out_file)
        else:
            sys.stdout.write(text)
        return 0
    cats = [catalogue_of(n, ns.config_dir) for n in names]  # everything is built before anything is written
    files = {f"{c.name}.{'html' if html else 'md'}": render(c) for c in cats}
    if ns.all:
        if html:
            files["index.html"] = catalogue.index_html(cats)
        else:
            files["README.md"] = catalogue.index_markdown(cats)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise KubecisError(f"--output-dir {out_dir}: {e.strerror or e}") from None
    if not out_dir.is_dir():
        raise KubecisError(f"--output-dir {out_dir}: not a directory")
    for fname, text in files.items():
        check_output_path(out_dir / fname, "--output-dir")
        write_atomic(out_dir / fname, text, "--output-dir")
        _world_readable(out_dir / fname)
    removed = _remove_stale(out_dir, set(files), html) if ns.all else []
    echo(f"{out_dir}: wrote {len(files)} files" + (f", removed {len(removed)} stale: {', '.join(removed)}"
                                                     if removed else ""))
    return 0


def _world_readable(path: Path) -> None:
    """Documentation is public: the mode a new file gets from the umask (the atomic write creates it 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    try:
        os.chmod(path, 0o666 & ~mask)
    except OSError as e:
        raise KubecisError(f"{path}: {e.strerror or e}") from None


def _remove_stale(out_dir: Path, written: set[str], html: bool) -> list[str]:
    """Catalogue files in ``out_dir`` kubecis generated earlier for sets that no longer exist (nothing else)."""
    from kubecis.report.catalogue import GENERATED_MARK

    removed = []
    for p in sorted(out_dir.glob("*.html" if html else "*.md")):
        if p.name in written or p.is_symlink() or not p.is_file():
            continue
        try:
            with p.open("r", encoding="utf-8", errors="replace") as f:
                head = f.read(2000)
        except OSError:
            continue
        ours = ('<meta name="generator" content="kubecis' in head and "check catalogue</title>" in head) if html \
            else GENERATED_MARK in head
        if ours:
            p.unlink()
            removed.append(p.name)
    return removed
