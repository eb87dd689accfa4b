"""Discovery on a node: which component binaries run, which candidate files exist (kube-bench's rules).

kube-bench finds each component's binary in the process table and each file as the
first existing candidate path. kubecis does the same, with one improvement that
fixes kube-bench's most reported false positive (#1256): when the running
kubelet (or kube-proxy, scheduler, controller-manager, etcd) names its config,
kubeconfig or data dir on its command line, that path wins over the candidate
list. Every decision is recorded with its reason for ``kubecis explain``.

This is the engine's step between the definitions (:mod:`kubecis.benchmark`, no I/O) and the node
(:mod:`kubecis.host`): it reads the host and fills a :class:`~kubecis.benchmark.variables.NodeDiscovery`,
which substitution then pastes into the audits. See kube-bench-compat.md#discovery-and-substitution.
"""

from __future__ import annotations

import re

from kubecis.benchmark.config import FILE_KINDS, Component, NodeSection
from kubecis.benchmark.variables import Decision, NodeDiscovery, unsafe_reason
from kubecis.errors import HostError
from kubecis.golang.fmt import go_quote
from kubecis.host.base import Host, NotInSnapshot, Process

__all__ = ["CMDLINE_FILE_FLAGS", "FLAG_ONLY_KINDS", "discover", "find_binary", "flag_value", "ps_select"]

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


def discover(section: NodeSection, host: Host, *, use_cmdline: bool = True) -> NodeDiscovery:
    d = NodeDiscovery(section.name)
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


def _undetermined(d: NodeDiscovery, component: str, kind: str, value: str, why: str, problem: str) -> None:
    """A path that cannot be looked at (an unsearchable directory as non-root, an I/O error): the variable is
    not substituted and every check using it is WARN with the reason; the rest of the run goes on."""
    var = f"${component}{kind}"
    d.refused[var] = f"{var} undetermined: {problem}"
    d.decisions.append(Decision(component, kind, value, f"{why}; {problem}"))


def _named_none(d: NodeDiscovery, component: str, kind: str, proc: Process | None) -> None:
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


def _short(s: str, n: int = 100) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."
