"""Test-only, rough re-enactment of kube-bench's audit loop, used to tune hermetic node specs
without kubecis (whose engine is developed separately).  NOT a reference implementation: it covers
just enough of docs/kube-bench-compat.md (#discovery-and-substitution, #state-machine, #audits via
/bin/sh stdin, #test-items with a tiny JSONPath subset) to compare verdicts with kube-bench's golden
output.

Two modes:
- inside a node:  ``python kb_reference.py inside <cfg-dir> <benchmark> [-v]`` prints
  ``<STATE> <id>`` per check (with audit outputs when -v);
- from the host:  ``python -m hermetic.kb_reference`` (cwd tests/) builds the kind v1.21.1 node,
  runs the above inside it and diffs the verdicts against integration/testdata/Expected_output.data.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from .node import NodeSpec

TARGETS = ("master", "etcd", "controlplane", "node", "policies")


def merged_config(cfg_dir: Path, bench: str) -> dict[str, Any]:
    base: dict[str, Any] = yaml.safe_load((cfg_dir / "config.yaml").read_text())
    over = yaml.safe_load((cfg_dir / bench / "config.yaml").read_text()) or {}

    def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    return merge(base, over)


def find_bin(candidates: list[str]) -> str | None:
    for cand in candidates:
        cand = cand.strip("'\"")
        proc = cand.split()[0]
        res = subprocess.run(["/bin/ps", "-C", proc, "-o", "cmd", "--no-headers"], capture_output=True, text=True)
        for line in res.stdout.splitlines():
            if re.match(r"^(\S*/)*" + cand, line):
                return cand
    return None


def discover(section: dict[str, Any]) -> tuple[dict[str, dict[str, str]], bool]:
    """-> ({kind: {component: value}}, bins_ok)"""
    out: dict[str, dict[str, str]] = {k: {} for k in ("bin", "conf", "svc", "kubeconfig", "cafile", "datadir")}
    ok = True
    for comp in section.get("components", []):
        sub = section.get(comp)
        if not isinstance(sub, dict):
            continue
        if sub.get("bins"):
            found = find_bin(sub["bins"])
            if found is None:
                if sub.get("optional"):
                    found = comp
                else:
                    ok = False
            if found is not None:
                out["bin"][comp] = found
        for kind, key, default in (
            ("conf", "confs", "defaultconf"),
            ("svc", "svc", "defaultsvc"),
            ("kubeconfig", "kubeconfig", "defaultkubeconfig"),
            ("cafile", "cafile", "defaultcafile"),
            ("datadir", "datadirs", "defaultdatadir"),
        ):
            if key not in sub and default not in sub:
                continue
            value = next((c for c in sub.get(key) or [] if os.path.exists(c)), None)
            out[kind][comp] = value or sub.get(default) or comp
    if not ok:
        out["bin"] = {}
    return out, ok


def substitute(text: str, found: dict[str, dict[str, str]]) -> tuple[str, list[str]]:
    changed: list[str] = []
    for kind in ("bin", "conf", "svc", "kubeconfig", "cafile", "datadir"):
        for comp, value in found[kind].items():
            if not value:
                continue
            var = f"${comp}{kind}"
            rep = f"'{value}'" if re.search(r"\s", value) else value
            if var in text:
                text = text.replace(var, rep)
                if kind == "bin":
                    changed.append(value)
    return text, changed


def run_sh(script: str) -> tuple[str, bool]:
    if not script.strip():
        return "", True
    res = subprocess.run(["/bin/sh"], input=script, capture_output=True, text=True)
    return res.stdout + res.stderr, res.returncode == 0


def jsonpath(doc: Any, path: str) -> str:
    m = re.fullmatch(r"\{range \.(\w+)\[:\]\}\{\}\{','\}\{end\}", path)
    if m:
        items = doc.get(m.group(1)) if isinstance(doc, dict) else None
        return "".join(f"{x}," for x in items) if isinstance(items, list) else ""
    m = re.fullmatch(r"\{\.([\w.\-]+)\}", path)
    if not m:
        return path
    cur = doc
    for part in m.group(1).split("."):
        if not isinstance(cur, dict) or part not in cur:
            return ""
        cur = cur[part]
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, (dict, list)):
        return json.dumps(cur, sort_keys=True, separators=(",", ":"))
    return str(cur)


def compare(op: str, v: str, c: Any) -> bool:
    c = str(c).lower() if isinstance(c, bool) else str(c)
    if op in ("eq", "noteq"):
        r = v.lower() == c if v.lower() in ("true", "false") else v == c
        return r if op == "eq" else not r
    if op in ("gt", "gte", "lt", "lte"):
        try:
            a, b = int(v.strip()), int(c.strip())
        except ValueError:
            return False
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
    if op == "has":
        return c in v
    if op == "nothave":
        return c not in v
    if op == "regex":
        return re.search(c, v) is not None
    if op == "valid_elements":
        vs = [x.strip() for x in v.strip().strip(",").split(",") if x.strip()]
        cs = [x.strip() for x in c.strip().strip(",").split(",") if x.strip()]
        if not vs and not cs:
            return True
        if not vs or not cs:
            return False
        return all(x in cs for x in vs)
    if op == "bitmask":
        try:
            return (int(c, 8) & int(v, 8)) == int(v, 8)
        except ValueError:
            return False
    return False


def eval_flag(text: str, flag: str) -> tuple[bool, str]:
    if not text or not flag or flag not in text:
        return False, ""
    m = re.search("(" + flag + r")(=|: *)*([^\s]*) *", text)
    value = m.group(3) if m else ""
    if not value:
        value = "true" if flag.startswith("--") else flag
    return True, value


def eval_item(item: dict[str, Any], text: str, multi: bool) -> tuple[bool, bool, str]:
    """-> (found, passed, value) in flag mode."""
    texts = text.rstrip(" \n").split("\n") if multi else [text.rstrip(" \n")]
    found, passed, value = False, False, ""
    for t in texts:
        found, value = eval_flag(t, str(item.get("flag") or ""))
        passed = judge(item, found, value)
        if not passed:
            break
    return found, passed, value


def judge(item: dict[str, Any], found: bool, value: str) -> bool:
    is_set = item.get("set", True)
    if is_set is False:
        return not found
    comp = item.get("compare") or {}
    if found and comp.get("op"):
        return compare(comp["op"], value, comp.get("value", ""))
    return found


def run_check(check: dict[str, Any]) -> tuple[str, list[str]]:
    log: list[str] = []
    scored = bool(check.get("scored"))
    typ = str(check.get("type") or "").strip()
    tests = check.get("tests")
    fail = "FAIL" if scored else "WARN"
    if scored and not typ and tests is None:
        return "WARN", ["There are no tests"]
    if typ == "skip":
        return "INFO", []
    if typ == "manual":
        return "WARN", []
    if not tests or not tests.get("test_items"):
        return fail, ["No tests defined"]
    env_out = ""
    if check.get("audit_env"):
        env_out, ok = run_sh(check["audit_env"])
        if not ok:
            return fail, ["audit_env error", env_out]
    out, ok = run_sh(str(check.get("audit") or ""))
    log.append(f"audit: {check.get('audit')!r}\n  -> {out!r}")
    if not ok:
        return fail, [*log, "audit error"]
    cfg_out = ""
    if check.get("audit_config"):
        cfg_out, ok = run_sh(check["audit_config"])
        log.append(f"audit_config -> {cfg_out[:200]!r}")
        if not ok:
            if ("exit status 127" in cfg_out or "No such file or directory" in cfg_out) and (out or env_out):
                cfg_out = ""
            else:
                return fail, [*log, "audit_config error"]
    results = []
    multi = bool(check.get("use_multiple_values"))
    for item in tests["test_items"]:
        found, passed, value = eval_item(item, out, multi)
        if not found and check.get("audit_config") and cfg_out.strip():
            doc: Any
            try:
                doc = json.loads(cfg_out)
            except ValueError:
                try:
                    doc = yaml.safe_load(cfg_out)
                except yaml.YAMLError:
                    doc = None
            if doc is not None and item.get("path"):
                value = jsonpath(doc, item["path"])
                found = value != ""
                passed = judge(item, found, value)
            else:
                found, passed = False, False
        if not found and item.get("env"):
            m = re.search(item["env"] + "=(.*)", env_out)
            value = m.group(1) if m else ""
            found = value != ""
            passed = judge(item, found, value)
        results.append(passed)
        log.append(
            f"item {item.get('flag') or item.get('path') or item.get('env')}: found={found} "
            f"value={value!r} pass={passed}"
        )
    op = tests.get("bin_op") or "and"
    ok = all(results) if op == "and" else any(results)
    return ("PASS" if ok else fail), log


def inside(cfg_dir: Path, bench: str, verbose: bool) -> None:
    config = merged_config(cfg_dir, bench)
    _, master = discover(config["master"])
    _, etcd = discover(config["etcd"])
    targets = [t for t in TARGETS if (t not in ("master", "controlplane") or master) and (t != "etcd" or etcd)]
    print(f"# targets: {' '.join(targets)}")
    for target in targets:
        found, _ = discover(config[target])
        raw = (cfg_dir / bench / f"{target}.yaml").read_text()
        text, changed = substitute(raw, found)
        controls = yaml.safe_load(text)
        for group in controls.get("groups") or []:
            for check in group.get("checks") or []:
                if not check.get("audit_env") and any(
                    i.get("env") for i in (check.get("tests") or {}).get("test_items") or []
                ):
                    b = changed[0] if len(changed) == 1 else ""
                    check["audit_env"] = f"cat \"/proc/$(/bin/ps -C {b} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"
                state, log = run_check(check)
                print(f"{state} {check['id']}")
                if verbose:
                    for line in log:
                        print("    " + line.replace("\n", "\n    "))


def expected_verdicts(golden: Path) -> list[str]:
    return [
        f"{m.group(1)} {m.group(2)}"
        for line in golden.read_text().splitlines()
        if (m := re.match(r"\[(PASS|FAIL|WARN)\] (\S+) ", line))
    ]


COMPAT = Path(__file__).resolve().parents[3] / "shared" / "compat" / "kube-bench"
GOLDEN = COMPAT / "integration" / "testdata" / "Expected_output.data"


def reference_run(spec: NodeSpec, bench: str, *, verbose: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the rough driver inside ``spec``'s node (host side)."""
    from .node import run_in_node

    argv = [sys.executable, __file__, "inside", str(COMPAT / "cfg"), bench, *(["-v"] if verbose else [])]
    return run_in_node(spec, argv, timeout=300)


def reference_verdicts(spec: NodeSpec, bench: str) -> dict[str, str]:
    """{check id: PASS|FAIL|WARN|INFO} as the rough driver sees ``spec``'s node."""
    res = reference_run(spec, bench)
    if res.returncode != 0:
        raise RuntimeError(f"reference driver failed ({res.returncode}): {res.stderr}")
    return {
        m.group(2): m.group(1)
        for line in res.stdout.splitlines()
        if (m := re.match(r"(PASS|FAIL|WARN|INFO) (\S+)$", line))
    }


def host_main(argv: list[str]) -> int:
    from .kind import kind_v1_21_1

    res = reference_run(kind_v1_21_1(), "cis-1.20", verbose="-v" in argv)
    sys.stderr.write(res.stderr)
    print(res.stdout)
    got = [line for line in res.stdout.splitlines() if re.match(r"(PASS|FAIL|WARN|INFO) ", line)]
    want = expected_verdicts(GOLDEN)
    diffs = [f"  {w!r:30} got {g!r}" for w, g in zip(want, got, strict=False) if w != g]
    print(f"checks: expected {len(want)}, got {len(got)}; mismatches: {len(diffs)}")
    print("\n".join(diffs))
    return 1 if diffs or len(want) != len(got) else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "inside":
        inside(Path(sys.argv[2]), sys.argv[3], "-v" in sys.argv)
    else:
        sys.exit(host_main(sys.argv[1:]))
