"""How much of an audit corpus the native executor supports."""

from __future__ import annotations

import sys
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


def main(argv: list[str] | None = None) -> int:
    """``python -m kubecis.audit.native.coverage CFG_DIR [BENCH...]``: print coverage per benchmark."""
    from collections import Counter

    from kubecis.audit.native.corpus import benchmarks, distinct, load_corpus

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m kubecis.audit.native.coverage CFG_DIR [BENCHMARK...]", file=sys.stderr)
        return 2
    cfg = args[0]
    names = args[1:] or benchmarks(cfg)
    entries = load_corpus(cfg, names)
    for b in names:
        ok, total, _ = coverage(distinct(e for e in entries if e.benchmark == b))
        print(f"{b:28} {ok:4}/{total:<4} {100.0 * ok / total if total else 100.0:6.1f}%")
    ok, total, bad = coverage(distinct(entries))
    print(f"{'ALL (distinct)':28} {ok:4}/{total:<4} {100.0 * ok / total if total else 100.0:6.1f}%")
    reasons = Counter(r for _, r in bad)
    for r, n in reasons.most_common():
        print(f"  {n:4}  {r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
