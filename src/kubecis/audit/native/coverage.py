"""How much of an audit corpus the native executor supports (``kubecis audits coverage``)."""

from __future__ import annotations

from collections.abc import Iterable

from kubecis.audit.native import unsupported_reason


def coverage(scripts: Iterable[str]) -> tuple[int, int, list[tuple[str, str]]]:
    """(supported, total, [(script, reason)...]) over the distinct scripts given."""
    seen = list(dict.fromkeys(scripts))
    bad: list[tuple[str, str]] = []
    for s in seen:
        r = unsupported_reason(s)
        if r is not None:
            bad.append((s, r))
    return len(seen) - len(bad), len(seen), bad
