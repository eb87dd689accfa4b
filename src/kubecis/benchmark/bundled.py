"""The benchmark sets kubecis ships, compiled from a layered store in ``kubecis/data``.

Layout of the store::

    data/config.yaml            node-type sections (component binaries, candidate file paths)
    data/checks/<target>.yaml   check definitions, each stored once, keyed ``ID`` or ``ID@VARIANT``;
                                ``base: KEY`` inherits another definition and lists only what changes
    data/sets/<name>.yaml       one benchmark set: ``extends``, ``kubernetes`` (versions it is mapped
                                to), ``targets``, ``variant``, ``config`` (per-set config override),
                                ``outline`` (controls headers, groups and check ids, ``a..b`` ranges)
                                and ``checks`` (check id → definition key, or an inline partial
                                definition over the inherited one)

A child set inherits its parent's outline, checks and config; its ``outline`` entries replace
groups by id (or add groups, ``drop_groups``, ``group_order``). A check id resolves to: the set's
own ``checks`` entry, else the parent's resolution when the parent has that id, else
``ID@VARIANT``, else ``ID``.

:func:`compile_set` turns a set into the frozen kube-bench model; :func:`materialise` writes every
set as a kube-bench ``cfg/`` directory (into a private cache directory keyed by the store's hash,
written atomically and verified before each use) so that the engine and loader run bundled sets
exactly like a user's ``--config-dir``.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kubecis import __version__
from kubecis.benchmark.config import TARGETS, deep_merge
from kubecis.benchmark.model import Check, Compare, Controls, Group, TestItem, Tests
from kubecis.errors import BenchmarkError, ConfigError
from kubecis.privdir import cache_root

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_DEF_FIELDS = ("title", "type", "scored", "audit", "audit_config", "audit_env", "tests",
               "use_multiple_values", "disable_env_testing", "remediation", "fail_on_evidence")
# An audit that asks one of kubecis's probes decides the check from evidence (see Check.fail_on_evidence).
_PROBE_AUDIT = "kubecis probe "


class _StrLoader(yaml.SafeLoader):
    """Safe loader that keeps numbers and dates as strings (ids like 1.10 stay "1.10")."""


def _construct_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    if node.tag == "tag:yaml.org,2002:bool":
        return loader.construct_yaml_bool(node)
    if node.tag == "tag:yaml.org,2002:null":
        return None
    return loader.construct_scalar(node)


for _tag in ("int", "float", "null", "timestamp", "bool"):
    _StrLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_scalar)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrLoader)  # noqa: S506 - safe subclass
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"bundled data {path}: {e}") from None


@dataclass(frozen=True, slots=True)
class BundledSet:
    name: str
    description: str
    kubernetes: tuple[str, ...]
    targets: tuple[str, ...]
    controls: dict[str, Controls]  # target → controls, in TARGETS order
    config: dict[str, Any] = field(default_factory=dict)  # per-set config override (merged chain)

    def checks(self) -> list[tuple[str, Check]]:
        return [(t, c) for t, ctl in self.controls.items() for c in ctl.checks()]

    def find(self, check_id: str) -> tuple[str, Check] | None:
        return next(((t, c) for t, c in self.checks() if c.id == check_id), None)


def expand_ids(specs: list[str]) -> list[str]:
    """``["1.1.1..1.1.3", "1.1.5"]`` → ``["1.1.1", "1.1.2", "1.1.3", "1.1.5"]``."""
    out: list[str] = []
    for spec in specs:
        spec = str(spec)
        if ".." not in spec:
            out.append(spec)
            continue
        first, last = spec.split("..", 1)
        prefix, lo = first.rsplit(".", 1)
        prefix2, hi = last.rsplit(".", 1)
        if prefix != prefix2 or not lo.isdigit() or not hi.isdigit() or int(hi) < int(lo):
            raise ConfigError(f"bundled data: bad check id range {spec!r}")
        out += [f"{prefix}.{n}" for n in range(int(lo), int(hi) + 1)]
    return out


class Store:
    """The parsed layered store (no compilation yet)."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.data_dir = data_dir
        self.base_config: dict[str, Any] = _read_yaml(data_dir / "config.yaml") or {}
        self.defs: dict[str, dict[str, dict[str, Any]]] = {}
        for t in TARGETS:
            p = data_dir / "checks" / f"{t}.yaml"
            self.defs[t] = (_read_yaml(p) or {}) if p.is_file() else {}
        self.sets: dict[str, dict[str, Any]] = {}
        for p in sorted((data_dir / "sets").glob("*.yaml")):
            raw = _read_yaml(p) or {}
            name = str(raw.get("name", p.stem))
            if name != p.stem:
                raise ConfigError(f"bundled data {p}: name {name!r} does not match the file name")
            self.sets[name] = raw

    # ---- names ------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        def key(n: str) -> tuple[int, list[int], str]:
            nums = [int(x) for x in re.findall(r"\d+", n)]
            return (0 if n.startswith("cis-") else 1, nums if n.startswith("cis-") else [], n)

        return sorted(self.sets, key=key)

    def chain(self, name: str) -> list[dict[str, Any]]:
        """The set and its ancestors, root first."""
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        cur: str | None = name
        while cur is not None:
            if cur not in self.sets:
                raise BenchmarkError(f"unknown bundled benchmark {cur!r}; available: {', '.join(self.names())}")
            if cur in seen:
                raise ConfigError(f"bundled data: set {name} extends itself through {cur}")
            seen.add(cur)
            out.append(self.sets[cur])
            parent = self.sets[cur].get("extends")
            cur = str(parent) if parent else None
        return out[::-1]

    # ---- definitions ------------------------------------------------------------------------------
    def definition(self, target: str, key: str, _depth: int = 0) -> dict[str, Any]:
        raw = self.defs[target].get(key)
        if raw is None:
            raise ConfigError(f"bundled data: no check definition {key!r} in checks/{target}.yaml")
        if _depth > 20:
            raise ConfigError(f"bundled data: base chain of {key!r} is too deep")
        base = raw.get("base")
        out = dict(self.definition(target, str(base), _depth + 1)) if base else {}
        out.update({k: v for k, v in raw.items() if k != "base"})
        return out

    def _resolve(self, chain: list[dict[str, Any]], outlines: list[dict[str, list[str]]],
                 target: str, cid: str) -> dict[str, Any]:
        """Definition of check ``cid`` in the last set of ``chain`` (``outlines[i]``: target → ids)."""
        me = chain[-1]
        own = ((me.get("checks") or {}).get(target) or {}).get(cid)
        if isinstance(own, str):
            return self.definition(target, own)
        if isinstance(own, dict):
            if own.get("base"):
                base = self.definition(target, str(own["base"]))
            elif len(chain) > 1:
                base = self._resolve(chain[:-1], outlines[:-1], target, cid)
            else:
                base = self._default(chain, target, cid)
            return {**base, **{k: v for k, v in own.items() if k != "base"}}
        if len(chain) > 1 and cid in outlines[-2].get(target, []):
            return self._resolve(chain[:-1], outlines[:-1], target, cid)
        return self._default(chain, target, cid)

    def _default(self, chain: list[dict[str, Any]], target: str, cid: str) -> dict[str, Any]:
        variant = next((str(s["variant"]) for s in reversed(chain) if s.get("variant")), "")
        if variant and f"{cid}@{variant}" in self.defs[target]:
            return self.definition(target, f"{cid}@{variant}")
        return self.definition(target, cid)


def _outline(chain: list[dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """Per set in the chain: target → {id, text, groups: [{id, text, type, checks: [ids]}]}."""
    out: list[dict[str, dict[str, Any]]] = []
    cur: dict[str, dict[str, Any]] = {}
    for s in chain:
        nxt = {t: {**o, "groups": [dict(g) for g in o["groups"]]} for t, o in cur.items()}
        for t, change in (s.get("outline") or {}).items():
            o = nxt.setdefault(t, {"id": "", "text": "", "groups": []})
            for k in ("id", "text", "type"):
                if k in change:
                    o[k] = str(change[k])
            drop = {str(g) for g in change.get("drop_groups") or []}
            groups = [g for g in o["groups"] if g["id"] not in drop]
            for g in change.get("groups") or []:
                entry = {"id": str(g["id"]), "text": str(g.get("text", "")), "type": str(g.get("type", "")),
                         "checks": expand_ids([str(x) for x in g.get("checks") or []])}
                idx = next((i for i, x in enumerate(groups) if x["id"] == entry["id"]), None)
                if idx is None:
                    groups.append(entry)
                else:
                    groups[idx] = entry
            if change.get("group_order"):
                order = [str(x) for x in change["group_order"]]
                groups.sort(key=lambda g: order.index(g["id"]) if g["id"] in order else len(order))
            o["groups"] = groups
        out.append(nxt)
        cur = nxt
    return out


def _tests(raw: Any) -> Tests | None:
    if raw is None:
        return None
    items = tuple(
        TestItem(flag=str(i.get("flag", "")), path=str(i.get("path", "")), env=str(i.get("env", "")),
                 set=bool(i.get("set", True)),
                 compare=Compare(op=str(i.get("op", "")), value=str(i.get("value", ""))))
        for i in raw.get("items") or []
    )
    return Tests(bin_op=str(raw.get("bin_op", "")), items=items)


def _check(cid: str, d: dict[str, Any]) -> Check:
    unknown = set(d) - set(_DEF_FIELDS)
    if unknown:
        raise ConfigError(f"bundled data: check {cid}: unknown fields {', '.join(sorted(unknown))}")
    return Check(
        id=cid, text=str(d.get("title", "")), type=str(d.get("type", "")), audit=str(d.get("audit", "")),
        audit_config=str(d.get("audit_config", "")), audit_env=str(d.get("audit_env", "")),
        tests=_tests(d.get("tests")), remediation=str(d.get("remediation", "")),
        scored=bool(d.get("scored", False)), use_multiple_values=bool(d.get("use_multiple_values", False)),
        disable_env_testing=bool(d.get("disable_env_testing", False)),
        fail_on_evidence=bool(d.get("fail_on_evidence", str(d.get("audit", "")).lstrip().startswith(_PROBE_AUDIT))),
    )


def compile_set(store: Store, name: str) -> BundledSet:
    chain = store.chain(name)
    outlines = _outline(chain)
    ids = [{t: [c for g in o["groups"] for c in g["checks"]] for t, o in ol.items()} for ol in outlines]
    controls: dict[str, Controls] = {}
    for t in TARGETS:
        o = outlines[-1].get(t)
        if o is None:
            continue
        groups = tuple(
            Group(id=g["id"], text=g["text"], type=g["type"],
                  checks=tuple(_check(c, store._resolve(chain, ids, t, c)) for c in g["checks"]))
            for g in o["groups"]
        )
        controls[t] = Controls(id=o["id"], version=name, text=o["text"], type=t, groups=groups,
                               source=f"bundled:{name}/{t}")
    config: dict[str, Any] = {}
    for s in chain:
        config = deep_merge(config, s.get("config") or {})
    targets = next((s["targets"] for s in reversed(chain) if s.get("targets")), list(controls))
    me = chain[-1]
    return BundledSet(name=name, description=str(me.get("description", "")),
                      kubernetes=tuple(str(v) for v in me.get("kubernetes") or ()),
                      targets=tuple(str(t) for t in targets), controls=controls, config=config)


@cache
def default_store() -> Store:
    return Store(DATA_DIR)


def bundled_names() -> list[str]:
    return default_store().names()


def get_set(name: str) -> BundledSet:
    return compile_set(default_store(), name)


def _minor_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".") if x.isdigit())


def global_config(store: Store) -> dict[str, Any]:
    """config.yaml of the materialised tree: node sections plus mappings built from the sets."""
    vm: dict[str, str] = {}
    tm: dict[str, list[str]] = {}
    newest = ("", "")
    for name in store.names():
        s = store.chain(name)
        own = store.sets[name]
        for v in own.get("kubernetes") or []:
            vm[str(v)] = name
            if not newest[0] or _minor_key(str(v)) > _minor_key(newest[0]):
                newest = (str(v), name)
        if not own.get("kubernetes"):
            vm[name] = name
        tm[name] = [str(t) for t in next((x["targets"] for x in reversed(s) if x.get("targets")), [])]
    cfg = dict(store.base_config)
    cfg["version_mapping"] = vm
    cfg["target_mapping"] = tm
    # Versions above newest_kubernetes map to newest_benchmark through kube-bench's decrementing lookup;
    # selection code can compare against these keys to warn that the node is newer than the data.
    cfg["newest_kubernetes"] = newest[0]
    cfg["newest_benchmark"] = newest[1]
    return cfg


# ---- kube-bench format -----------------------------------------------------------------------------
def _item_yaml(i: TestItem) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if i.flag:
        d["flag"] = i.flag
    if i.path:
        d["path"] = i.path
    if i.env:
        d["env"] = i.env
    if not i.set:
        d["set"] = False
    if i.compare.op or i.compare.value:
        d["compare"] = {"op": i.compare.op, "value": i.compare.value}
    return d


def check_yaml(c: Check) -> dict[str, Any]:
    d: dict[str, Any] = {"id": c.id, "text": c.text}
    if c.type:
        d["type"] = c.type
    d["audit"] = c.audit
    if c.audit_config:
        d["audit_config"] = c.audit_config
    if c.audit_env:
        d["audit_env"] = c.audit_env
    if c.tests is not None:
        t: dict[str, Any] = {}
        if c.tests.bin_op:
            t["bin_op"] = c.tests.bin_op
        t["test_items"] = [_item_yaml(i) for i in c.tests.items]
        d["tests"] = t
    if c.use_multiple_values:
        d["use_multiple_values"] = True
    if c.disable_env_testing:
        d["disableenvtesting"] = True
    d["remediation"] = c.remediation
    d["scored"] = c.scored
    if c.fail_on_evidence:
        d["fail_on_evidence"] = True
    return d


def controls_yaml(ctl: Controls) -> str:
    doc: dict[str, Any] = {"controls": None, "version": ctl.version, "id": ctl.id, "text": ctl.text, "type": ctl.type,
                           "groups": [{"id": g.id, "text": g.text, **({"type": g.type} if g.type else {}),
                                       "checks": [check_yaml(c) for c in g.checks]} for g in ctl.groups]}
    header = (f"# Generated by kubecis from its bundled benchmark store ({ctl.version}); edit kubecis/data instead.\n"
              "---\n")
    return header + yaml.safe_dump(doc, sort_keys=False, width=110, allow_unicode=True)


def store_hash(data_dir: Path = DATA_DIR) -> str:
    h = hashlib.sha256(__version__.encode())
    for p in sorted(data_dir.rglob("*.yaml")):
        h.update(str(p.relative_to(data_dir)).encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def write_tree(store: Store, dest: Path) -> None:
    """Write every set as a kube-bench cfg tree into ``dest`` (which must not exist yet)."""
    dest.mkdir(parents=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(global_config(store), sort_keys=False), encoding="utf-8")
    for name in store.names():
        bs = compile_set(store, name)
        d = dest / name
        d.mkdir()
        (d / "config.yaml").write_text("---\n" + (yaml.safe_dump(bs.config, sort_keys=False) if bs.config else ""),
                                       encoding="utf-8")
        for t, ctl in bs.controls.items():
            (d / f"{t}.yaml").write_text(controls_yaml(ctl), encoding="utf-8")


TREE_DIGEST = ".kubecis-tree"  # fingerprint of every entry of a materialised tree, written last


def tree_digest(root: Path, *, private: bool = False) -> str:
    """sha256 over the relative path, type, size and modification time of every entry below ``root`` (but the
    digest file): what kubecis wrote, recorded when it wrote it. Any later change to a file's content, a file
    added, removed or replaced changes it (a stat per entry: a run pays ~1 ms, not a read of the whole tree).

    ``private``: also check, in the same walk, that every entry is a directory or regular file of the
    effective user's and not group- or other-writable (:func:`kubecis.privdir.check_entry`)."""
    from kubecis.privdir import check_entry

    top = str(root)
    rows: list[str] = []
    stack = [top]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if d == top and e.name == TREE_DIGEST:
                    continue
                st = check_entry(e) if private else e.stat(follow_symlinks=False)
                rel = e.path[len(top) + 1:]
                if stat.S_ISDIR(st.st_mode):  # its entries are rows of their own
                    rows.append(f"{rel}\0dir")
                    stack.append(e.path)
                else:
                    rows.append(f"{rel}\0{stat.S_IFMT(st.st_mode)}\0{st.st_size}\0{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(rows)).encode("utf-8", "surrogateescape")).hexdigest()


def _verify_tree(tree: Path) -> None:
    """A cached tree is used only when every entry is ours (see :mod:`kubecis.privdir`) and is exactly what was
    written (the fingerprint recorded at creation). Raises ``UnsafeDirError``."""
    from kubecis.privdir import UnsafeDirError, private_dir

    if private_dir(tree) != tree:  # a link, someone else's, or writable by others
        raise UnsafeDirError(f"{tree}: not a plain directory")
    try:
        recorded = (tree / TREE_DIGEST).read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        recorded = ""
    if recorded != tree_digest(tree, private=True):
        raise UnsafeDirError(f"{tree}: not what kubecis wrote there (changed since)")


def _build_tree(data_dir: Path, dest: Path) -> None:
    """``write_tree`` plus the digest; nothing group- or other-writable whatever the umask."""
    write_tree(Store(data_dir), dest)
    for dirpath, dirnames, filenames in os.walk(dest):
        for name in [*dirnames, *filenames]:
            p = os.path.join(dirpath, name)
            os.chmod(p, stat.S_IMODE(os.lstat(p).st_mode) & ~0o022)
    (dest / TREE_DIGEST).write_text(tree_digest(dest) + "\n", encoding="ascii")
    for top in (dest, dest / TREE_DIGEST):
        os.chmod(top, stat.S_IMODE(os.lstat(top).st_mode) & ~0o022)


def _cached_tree(base: Path, digest: str, data_dir: Path) -> Path:
    """``base/bundled-<digest>``, verified, or built there atomically. ``base`` is a private dir."""
    from kubecis.privdir import UnsafeDirError

    final = base / f"bundled-{digest}"
    if os.path.lexists(final):
        try:
            _verify_tree(final)
            return final
        except UnsafeDirError:
            st = os.lstat(final)
            if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid():
                raise
            # our own tree, damaged (an interrupted older kubecis, an edit): set it aside and rebuild
            aside = Path(tempfile.mkdtemp(prefix=".stale-", dir=base))
            os.rename(final, aside / "tree")
            shutil.rmtree(aside, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bundled-", dir=base))
    try:
        work = tmp / "cfg"
        _build_tree(data_dir, work)
        try:
            os.rename(work, final)
        except OSError:
            if not os.path.lexists(final):  # not a lost race: a real error
                raise
        _verify_tree(final)  # ours, or the winner's of a race, checked like any cached tree
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


_EPHEMERAL: dict[Path, Path] = {}


def _why(where: Path, e: OSError) -> str:
    from kubecis.privdir import UnsafeDirError

    if isinstance(e, UnsafeDirError):
        return str(e)
    return f"{e.filename or where}: {e.strerror or e}"


def materialise(data_dir: Path = DATA_DIR, root: Path | None = None) -> Path:
    """A kube-bench cfg directory holding every bundled set; built once per store hash, atomically.

    It lives in a private cache directory (:func:`cache_root`, else ``$TMPDIR/kubecis-<euid>``) that only the
    effective user can change, checked with :func:`kubecis.privdir.private_dir` before each use, and a cached
    tree is used only when it passes :func:`_verify_tree`. A directory another user created or can write is
    never used: when neither cache is usable the tree is built in a new private temporary directory for this
    process only (removed at exit). ``root``: use this cache directory only (tests).
    """
    from kubecis.privdir import private_dir, private_tempdir

    digest = store_hash(data_dir)
    # the temp dir is looked up only when needed: a read-only container has none, and that is only an error if
    # the cache is unusable too
    roots: list[Path | str | None] = [root] if root is not None else [cache_root(), "tmp"]
    errors: list[str] = []
    for rr in roots:
        if rr is None:
            continue
        if rr == "tmp":
            try:
                r = Path(tempfile.gettempdir()) / f"kubecis-{os.geteuid()}"
            except OSError as e:
                errors.append(f"no usable temporary directory: {e}")
                continue
        else:
            r = Path(rr)
        try:
            return _cached_tree(private_dir(r), digest, data_dir)
        except OSError as e:
            errors.append(_why(r, e))
    if root is None:
        if data_dir in _EPHEMERAL:
            return _EPHEMERAL[data_dir]
        try:
            tmp = private_tempdir("kubecis-bundled-")
        except OSError as e:
            errors.append(_why(Path(tempfile.gettempdir()), e))
        else:
            atexit.register(shutil.rmtree, tmp, True)
            _build_tree(data_dir, tmp / "cfg")
            _EPHEMERAL[data_dir] = tmp / "cfg"
            return tmp / "cfg"
    raise ConfigError(f"cannot write the bundled benchmark definitions: {'; '.join(errors)}")
