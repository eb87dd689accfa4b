"""Discovery of component binaries and files, and ``$<component><kind>`` substitution (spec §4).

kube-bench finds each component's binary in the process table and each file as the
first existing candidate path. kubecis does the same, with one improvement that
fixes kube-bench's most reported false positive (#1256): when the running
kubelet (or kube-proxy, scheduler, controller-manager, etcd) names its config,
kubeconfig or data dir on its command line, that path wins over the candidate
list. The API server's encryption, admission and audit files are kubecis's own
kinds, named only by its flags (:data:`FLAG_ONLY_KINDS`, docs/config-checks.md).
Every decision is recorded with its reason for ``kubecis explain``.

Substitution happens on the parsed model (every text field), which is equivalent
to kube-bench's raw-text replacement for all shipped data, without letting a
replacement value break YAML parsing.

A value taken from the host (a path named on a running component's command line) is
data, never code: it is pasted into audits only when it is made of characters that
mean nothing to a shell in any quoting context (:data:`SAFE_VALUE`). Any other
value is not substituted at all, and every check whose audits or tests use that
variable is WARN with the reason (``Check.not_run``) instead of running. Values from
the benchmark definitions (bins, candidates, defaults) are substituted exactly as
kube-bench does. See docs/security.md.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kubecis.benchmark.config import FILE_KINDS, Component, NodeSection
from kubecis.benchmark.model import Check, Controls, Tests
from kubecis.errors import HostError
from kubecis.gofmt import go_quote
from kubecis.host.base import Host, NotInSnapshot, Process

# Command-line flags that name a component's files: (component, flag) → kind.
CMDLINE_FILE_FLAGS: dict[str, dict[str, str]] = {
    "kubelet": {"--config": "conf", "--kubeconfig": "kubeconfig", "--client-ca-file": "cafile"},
    "proxy": {"--config": "conf", "--kubeconfig": "kubeconfig"},
    "scheduler": {"--kubeconfig": "kubeconfig"},
    "controllermanager": {"--kubeconfig": "kubeconfig"},
    "etcd": {"--data-dir": "datadir"},
    "apiserver": {"--encryption-provider-config": "encryptionconfig", "--admission-control-config-file":
                  "admissionconfig", "--audit-policy-file": "auditpolicy"},
}
# Kinds only a running component's flag names (kubecis's): with no candidate and no default configured, the value is
# "" when the running component names none (kubeadm's default: the flag is not set), and undetermined (the checks
# using it WARN) when no command line was read. Never the component's name.
FLAG_ONLY_KINDS = frozenset({"encryptionconfig", "admissionconfig", "auditpolicy"})

# The characters a value from the host may consist of to be pasted into an audit. None of them is special to
# /bin/sh bare, inside "...", inside '...', inside a nested `sh -c '...'` or inside backquotes, so such a value
# reads the same to every shell that parses the audit (kube-bench's audits nest shells). A leading '-' is refused
# too: `stat -c %a $kubeletconf` would take it as an option.
SAFE_VALUE = re.compile(r"[A-Za-z0-9_./:@%+,=-]+")
SAFE_CHARS = "A-Z a-z 0-9 _ . / : @ % + , = -"

ENV_AUDIT_TEMPLATE = "cat \"/proc/$(/bin/ps -C {bin} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"


@dataclass(frozen=True, slots=True)
class Decision:
    component: str
    kind: str  # bin, conf, svc, kubeconfig, cafile, datadir
    value: str
    why: str


@dataclass(slots=True)
class Discovery:
    """What was found for one node-type section."""

    section: str
    bins: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → component → path
    decisions: list[Decision] = field(default_factory=list)
    bin_error: str = ""  # set when a mandatory component is not running (bins then stay empty)
    # Variables whose value came from the host but cannot be pasted into an audit: ``$name`` → why. They
    # are not substituted; the checks using them are WARN with the reason (see :func:`substitute`).
    refused: dict[str, str] = field(default_factory=dict)

    def variables(self) -> list[tuple[str, str]]:
        """``($name, value)`` pairs in kube-bench's substitution order: bin, conf, svc, kubeconfig, ..."""
        out = [(f"${c}bin", v) for c, v in self.bins.items()]
        for kind in FILE_KINDS:
            out += [(f"${c}{kind}", v) for c, v in self.files.get(kind, {}).items()]
        return out


def unsafe_reason(value: str) -> str:
    """Why ``value`` cannot be pasted into an audit, or "" when it can (see :data:`SAFE_VALUE`)."""
    if SAFE_VALUE.fullmatch(value):
        return "it starts with \"-\" (a command would take it as an option)" if value.startswith("-") else ""
    bad = sorted({ch for ch in value if not SAFE_VALUE.fullmatch(ch)})
    shown = " ".join(go_quote(ch) for ch in bad[:8]) + (" ..." if len(bad) > 8 else "")
    return f"it contains {shown} (a value from the host is substituted only when made of {SAFE_CHARS})"


def ps_select(processes: list[Process], name: str) -> list[Process]:
    """Processes ``ps -C name`` selects: procps compares the first 15 characters of the command name."""
    key = name[:15]
    return [p for p in processes if p.comm[:15] == key]


def find_binary(component: Component, processes: list[Process]) -> tuple[str, Process] | None:
    """The first bins candidate that is running (kube-bench's prefix-regex rule), with its process."""
    for cand in component.bins:
        cand = cand.strip("'\"")
        words = cand.split()
        if not words:
            continue
        try:
            rx = re.compile(r"^(\S*/)*" + cand)
        except re.error:
            rx = re.compile(r"^(\S*/)*" + re.escape(cand))
        for p in ps_select(processes, words[0]):
            if rx.match(p.cmd):
                return cand, p
    return None


def flag_value(argv: tuple[str, ...], flag: str) -> str | None:
    """Value of ``--flag=value`` or ``--flag value`` on a command line (last one wins, like Go's flag)."""
    value: str | None = None
    for i, arg in enumerate(argv):
        if arg.startswith(flag + "="):
            value = arg[len(flag) + 1 :]
        elif arg == flag and i + 1 < len(argv):
            value = argv[i + 1]
    return value


def _stat_kind(host: Host, path: str) -> str:
    """'exists', 'missing', or why the path cannot be looked at ("cannot stat X: Permission denied"). kube-bench
    stops the whole run there; kubecis makes only the checks that use the variable WARN with that reason."""
    try:
        host.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as e:
        return f"cannot stat {path}: {e.strerror or e}"
    except NotInSnapshot:
        raise HostError(f"the snapshot has no record of {path}; record it with the same benchmark and "
                        "targets") from None
    return "exists"


def discover(section: NodeSection, host: Host, *, use_cmdline: bool = True) -> Discovery:
    d = Discovery(section.name)
    try:
        procs = host.processes()
    except NotInSnapshot:
        raise HostError("the snapshot has no process table") from None
    running: dict[str, Process] = {}
    bins: dict[str, str] = {}
    for comp in section.components:
        if not comp.bins:
            continue
        found = find_binary(comp, procs)
        if found is not None:
            bins[comp.name] = found[0]
            running[comp.name] = found[1]
            d.decisions.append(Decision(comp.name, "bin", found[0],
                                        f"running as pid {found[1].pid}: {_short(found[1].cmd)}"))
        elif comp.optional:
            bins[comp.name] = comp.name
            d.decisions.append(Decision(comp.name, "bin", comp.name,
                                        "optional, not running; using the component name"))
        else:
            d.bin_error = (f"unable to detect running programs for component {comp.name!r} "
                           f"(looked for: {', '.join(comp.bins)})")
            d.decisions.append(Decision(comp.name, "bin", "", d.bin_error + "; no $...bin variable "
                                        "is substituted in this target"))
            bins = {}
            break
    if not d.bin_error:
        d.bins = bins

    for comp in section.components:
        proc = running.get(comp.name)
        flags = CMDLINE_FILE_FLAGS.get(comp.name, {}) if use_cmdline else {}
        from_cmdline: dict[str, tuple[str, str]] = {}
        if proc is not None:
            for flag, kind in flags.items():
                v = flag_value(proc.cmdline, flag)
                if v:
                    from_cmdline[kind] = (v, flag)
        for kind in FILE_KINDS:
            cands = comp.candidates.get(kind, ())
            default = comp.defaults.get(kind)
            if kind in from_cmdline:
                v, flag = from_cmdline[kind]
                unsafe = unsafe_reason(v)
                if unsafe:
                    var = f"${comp.name}{kind}"
                    d.refused[var] = (f"{var} not substituted: the running {comp.name}'s {flag} is "
                                      f"{go_quote(_short(v))}; {unsafe}")
                    d.decisions.append(Decision(comp.name, kind, go_quote(_short(v)),
                                                f"the running {comp.name} names it with {flag}; not substituted: "
                                                f"{unsafe}"))
                    continue
                try:
                    state = _stat_kind(host, v)
                except HostError:  # not recorded / not visible: the checks reading it say so themselves
                    state = "unrecorded"
                if state not in ("exists", "missing", "unrecorded"):
                    _undetermined(d, comp.name, kind, v, f"the running {comp.name} names it with {flag}", state)
                    continue
                note = {"exists": "", "missing": " (it does not exist on this host)",
                        "unrecorded": " (not recorded: it could not be looked at)"}[state]
                d.files.setdefault(kind, {})[comp.name] = v
                d.decisions.append(Decision(comp.name, kind, v,
                                            f"the running {comp.name} names it with {flag}{note}"))
                continue
            if not cands and default is None and kind not in FLAG_ONLY_KINDS:
                continue
            chosen: str | None = None
            state = "missing"
            for c in cands:
                state = _stat_kind(host, c)
                if state != "missing":
                    chosen = c
                    break
            if chosen is not None and state != "exists":  # it may exist: then it is the one to use, but unknown
                _undetermined(d, comp.name, kind, chosen,
                              f"candidate {cands.index(chosen) + 1} of {len(cands)} cannot be looked at", state)
                continue
            if chosen is not None:
                why = f"first existing candidate ({cands.index(chosen) + 1} of {len(cands)})"
            elif default is not None:
                chosen = default
                why = "no candidate exists; using the default"
            elif kind in FLAG_ONLY_KINDS:
                _named_none(d, comp.name, kind, proc if use_cmdline else None)
                continue
            else:
                chosen = comp.name
                why = "no candidate exists and no default; using the component name (kube-bench rule)"
            d.files.setdefault(kind, {})[comp.name] = chosen
            d.decisions.append(Decision(comp.name, kind, chosen, why))
    return d


def _undetermined(d: Discovery, component: str, kind: str, value: str, why: str, problem: str) -> None:
    """A path that cannot be looked at (an unsearchable directory as non-root, an I/O error): the variable is
    not substituted and every check using it is WARN with the reason; the rest of the run goes on."""
    var = f"${component}{kind}"
    d.refused[var] = f"{var} undetermined: {problem}"
    d.decisions.append(Decision(component, kind, value, f"{why}; {problem}"))


def _named_none(d: Discovery, component: str, kind: str, proc: Process | None) -> None:
    """A flag-only kind (:data:`FLAG_ONLY_KINDS`) the component's command line does not name."""
    flag = next((f for f, k in CMDLINE_FILE_FLAGS.get(component, {}).items() if k == kind), None)
    if flag is None:
        return
    if proc is None:
        _undetermined(d, component, kind, "", f"only a running {component}'s {flag} names it",
                      f"no {component} command line was read (not running, or --discovery candidates)")
        return
    d.files.setdefault(kind, {})[component] = ""
    d.decisions.append(Decision(component, kind, "", f"the running {component} names none with {flag} (not set)"))


def nominal_discovery(section: NodeSection | None) -> Discovery:
    """Variables as on a typical node, without a host: the first bins candidate and the first file
    candidate (or the default). For measuring audits (coverage), never for checking a node."""
    d = Discovery(section.name if section else "")
    if section is None:
        return d
    for comp in section.components:
        if comp.bins:
            d.bins[comp.name] = comp.bins[0].strip("'\"")
        for kind in FILE_KINDS:
            cands = comp.candidates.get(kind, ())
            value = cands[0] if cands else comp.defaults.get(kind)
            if value:
                d.files.setdefault(kind, {})[comp.name] = value
    return d


def _short(s: str, n: int = 100) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def _quote(value: str) -> str:
    return f"'{value}'" if any(ch.isspace() for ch in value) else value


def substitute(controls: Controls, discovery: Discovery, raw_text: str | None = None) -> Controls:
    """Replace ``$<component><kind>`` in every text field; add the default ``audit_env`` (§4.6)."""
    pairs = [(name, _quote(v)) for name, v in discovery.variables()]  # "": a flag-only kind that nothing names
    # §4.5/§4.6: the bins whose replacement changed the file text, with repeats.
    text_for_bins = raw_text if raw_text is not None else _all_text(controls)
    changed_bins = [_quote(v) for c, v in discovery.bins.items() if v and f"${c}bin" in text_for_bins]
    env_bin = changed_bins[0] if len(changed_bins) == 1 else ""

    def sub(s: str) -> str:
        if "$" not in s:
            return s
        for name, value in pairs:
            if name in s:
                s = s.replace(name, value)
        return s

    def fix_check(c: Check) -> Check:
        refused = [discovery.refused[name] for name in discovery.refused if _uses(c, name)]
        new = _replaced(
            c,
            not_run=c.not_run or "; ".join(refused),
            text=sub(c.text),
            audit=sub(c.audit),
            audit_config=sub(c.audit_config),
            audit_env=sub(c.audit_env),
            remediation=sub(c.remediation),
            tests=_sub_tests(c, sub),
        )
        if (not new.audit_env and not new.disable_env_testing and new.tests is not None
                and any(i.env for i in new.tests.items)):
            new = dataclasses.replace(new, audit_env=ENV_AUDIT_TEMPLATE.format(bin=env_bin))
        return new

    groups = tuple(
        _replaced(g, text=sub(g.text), checks=tuple(fix_check(c) for c in g.checks))
        for g in controls.groups
    )
    return _replaced(controls, text=sub(controls.text), groups=groups)


_T = TypeVar("_T")


def _replaced(obj: _T, **values: Any) -> _T:
    """``dataclasses.replace`` with only the fields that changed; ``obj`` itself when none did (substitution
    runs per node, and most fields hold no variable)."""
    changed = {k: v for k, v in values.items() if not _same(v, getattr(obj, k))}
    return dataclasses.replace(obj, **changed) if changed else obj  # type: ignore[type-var]


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, tuple) and isinstance(b, tuple):  # rebuilt tuples of (maybe) unchanged members
        return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
    return False


def _sub_tests(c: Check, sub: Callable[[str], str]) -> Tests | None:
    if c.tests is None:
        return None
    items = tuple(
        _replaced(
            i, flag=sub(i.flag), path=sub(i.path), env=sub(i.env),
            compare=_replaced(i.compare, value=sub(i.compare.value)),
        )
        for i in c.tests.items
    )
    return _replaced(c.tests, items=items)


def _uses(c: Check, name: str) -> bool:
    """Does running or evaluating check ``c`` depend on variable ``name`` (its audits or its tests)?"""
    if any(name in s for s in (c.audit, c.audit_config, c.audit_env)):
        return True
    items = c.tests.items if c.tests is not None else ()
    return any(name in s for i in items for s in (i.flag, i.path, i.env, i.compare.value))


def _all_text(controls: Controls) -> str:
    parts = [controls.text]
    for g in controls.groups:
        parts.append(g.text)
        for c in g.checks:
            parts += [c.text, c.audit, c.audit_config, c.audit_env, c.remediation]
    return "\n".join(parts)


def describe(d: Discovery) -> list[str]:
    """Human-readable decision lines for ``kubecis explain``."""
    return [f"{x.component:<18} {x.kind:<16} {x.value or '-':<50} {x.why}" for x in d.decisions]

