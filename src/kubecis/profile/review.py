"""``profile show`` and ``profile diff``: the sections, grouped, one rule per line."""

from __future__ import annotations

from dataclasses import dataclass

from kubecis.profile import landlock
from kubecis.profile.model import FILE_ACCESS, FILE_ACCESS_HELP, NET_SECTIONS, RuntimeProfile
from kubecis.seccomp import groups


def _cmd(argv: tuple[str, ...]) -> str:
    text = " ".join(argv)
    return text if len(text) <= 100 else text[:97] + "..."


def render_show(profile: RuntimeProfile, *, source: str, plan: landlock.Plan | None = None,
                socket_filter: bool = False) -> str:
    lines = [f"profile: {source} (kubecis-profile 1)"]
    lines.append(f"learned from {len(profile.learned)} run(s):")
    for r in profile.learned:
        lines.append(f"  {r.started}  {r.seconds:.1f}s  {r.ended}  {_cmd(r.command)}")
    if profile.generalisation:
        lines.append("generalisation (how observed paths became rules):")
        lines += [f"  - {g}" for g in profile.generalisation]
    total = sum(len(profile.files.get(a)) for a in FILE_ACCESS)
    lines.append(f"files ({total} rules):")
    for acc in FILE_ACCESS:
        rules = profile.files.get(acc)
        lines.append(f"  {acc} ({len(rules)}): {FILE_ACCESS_HELP[acc]}")
        lines += [f"    {r.text}" for r in rules]
    net = profile.network
    lines.append("network:")
    lines.append(f"  sockets: {' '.join(net.sockets) or '(none)'}")
    for proto, ops in NET_SECTIONS.items():
        for op in ops:
            eps = net.get(proto, op)
            lines.append(f"  {proto} {op}: {' '.join(e.text for e in eps) or '(none)'}")
    lines.append("seccomp:")
    lines += ["  " + li for li in groups.render_show(profile.seccomp, source="section").splitlines()[1:]]
    if plan is not None:
        lines.append("on this kernel:")
        lines += ["  " + li for li in landlock.render_plan(plan, verbose=True)]
        if socket_filter:
            lines.append(f"  socket(): only {' '.join(profile.network.sockets) or '(none)'} "
                         "(a seccomp filter on its arguments; anything else fails with EACCES)")
        lines.append("  Landlock rules:")
        lines += [f"    {g}" for g in landlock.describe_grants(plan.grants)]
        if plan.bind_ports or plan.connect_ports:
            lines.append(f"    tcp bind ports: {' '.join(map(str, sorted(plan.bind_ports))) or '(none)'}; "
                         f"connect ports: {' '.join(map(str, sorted(plan.connect_ports))) or '(none)'}")
    return "\n".join(lines) + "\n"


@dataclass
class ProfileDiff:
    sections: dict[str, tuple[list[str], list[str]]]  # section -> (only in a, only in b)
    seccomp: groups.ProfileDiff

    @property
    def empty(self) -> bool:
        return self.seccomp.empty and not any(a or b for a, b in self.sections.values())


def _texts(profile: RuntimeProfile) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {f"files.{a}": {r.text for r in profile.files.get(a)} for a in FILE_ACCESS}
    out["network.sockets"] = set(profile.network.sockets)
    for proto, ops in NET_SECTIONS.items():
        for op in ops:
            out[f"network.{proto}.{op}"] = {e.text for e in profile.network.get(proto, op)}
    return out


def diff(a: RuntimeProfile, b: RuntimeProfile) -> ProfileDiff:
    ta, tb = _texts(a), _texts(b)
    sections = {k: (sorted(ta[k] - tb[k]), sorted(tb[k] - ta[k])) for k in ta}
    return ProfileDiff(sections, groups.diff(a.seccomp, b.seccomp))


def render_diff(d: ProfileDiff, *, a: str, b: str) -> str:
    if d.empty:
        return f"{a} and {b} allow the same\n"
    lines = [f"--- {a}", f"+++ {b}"]
    added = removed = 0
    for section, (only_a, only_b) in d.sections.items():
        if not only_a and not only_b:
            continue
        lines.append(f"{section}:")
        lines += [f"- {t}" for t in only_a]
        lines += [f"+ {t}" for t in only_b]
        removed += len(only_a)
        added += len(only_b)
    if not d.seccomp.empty:
        lines.append("seccomp:")
        body = groups.render_diff(d.seccomp, a=a, b=b).splitlines()[2:-1]
        lines += [f"{li}" for li in body]
        added += len(d.seccomp.only_b)
        removed += len(d.seccomp.only_a)
    lines.append(f"{removed} removed, {added} added")
    return "\n".join(lines) + "\n"
