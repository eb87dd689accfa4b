"""The parsed-definitions cache: a hit is exactly the parse; anything not written by us is a miss, never used."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from kubecis.benchmark import defcache, loader
from kubecis.benchmark.loader import load_controls, parse_controls, read_text
from tests.shared import CFG

TARGETS = ("master", "controlplane", "etcd", "node", "policies")
pytestmark = pytest.mark.skipif(not CFG.is_dir(), reason=f"kube-bench compat data not found at {CFG}")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "tmp").mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the fallback when XDG is unusable
    loader._load_cached.cache_clear()
    yield tmp_path / "xdg" / "kubecis" / "defs"
    loader._load_cached.cache_clear()


def _entry(cache: Path) -> Path:
    (entry,) = [p for p in cache.iterdir() if p.suffix == defcache.SUFFIX]
    return entry


@pytest.mark.parametrize("target", TARGETS)
def test_a_hit_is_the_parse(cache: Path, target: str) -> None:
    path = CFG / "cis-1.12" / f"{target}.yaml"
    text = read_text(path)
    ref = parse_controls(text, str(path), target)
    assert defcache.load(str(path), text, target) is None
    first = load_controls(path, target)  # parsed, and written to the cache
    assert _entry(cache).stat().st_mode & 0o077 == 0
    hit = defcache.load(str(path), text, target)
    assert hit is not None
    assert (hit.controls, hit.diagnostics, hit.text) == (ref.controls, ref.diagnostics, ref.text)
    assert (first.controls, first.diagnostics) == (ref.controls, ref.diagnostics)


def test_diagnostics_survive(cache: Path, tmp_path: Path) -> None:
    f = tmp_path / "node.yaml"
    f.write_text("controls:\ntype: node\ngroups:\n- id: 1\n  checks:\n  - id: 1.1\n    tests:\n      bin_op: xor\n"
                 "      test_items:\n      - flag: x\n        compare: {op: like, value: y}\n", encoding="utf-8")
    ref = parse_controls(f.read_text(encoding="utf-8"), str(f), "node")
    assert len(ref.diagnostics) == 2
    defcache.store(str(f), "node", ref)
    hit = defcache.load(str(f), ref.text, "node")
    assert hit is not None and hit.diagnostics == ref.diagnostics and hit.controls == ref.controls


def test_another_text_or_type_is_a_miss(cache: Path) -> None:
    path = CFG / "cis-1.12" / "node.yaml"
    text = read_text(path)
    defcache.store(str(path), "node", parse_controls(text, str(path), "node"))
    assert defcache.load(str(path), text.replace("kubelet", "kubeIet", 1), "node") is None
    assert defcache.load(str(path), text, "master") is None
    assert defcache.load(str(path), text, "node") is not None


@pytest.mark.parametrize("damage", ["truncated", "not json", "wrong types", "other version", "group-writable",
                                    "symlink"])
def test_a_damaged_or_foreign_entry_is_ignored_and_rebuilt(cache: Path, tmp_path: Path, damage: str) -> None:
    path = CFG / "cis-1.12" / "etcd.yaml"
    text = read_text(path)
    ref = parse_controls(text, str(path), "etcd")
    load_controls(path, "etcd")
    entry = _entry(cache)
    data = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "not json":
        entry.write_bytes(b"\x80\x04\x95pickle")
    elif damage == "wrong types":
        doc = json.loads(data)
        doc[5][5][0][4][0][3] = ["echo", "pwned"]  # an audit that is not a string
        entry.write_text(json.dumps(doc), encoding="ascii")
    elif damage == "other version":
        doc = json.loads(data)
        doc[1] = "0.0.0"
        entry.write_text(json.dumps(doc), encoding="ascii")
    elif damage == "group-writable":
        os.chmod(entry, 0o664)
    elif damage == "symlink":
        planted = tmp_path / "planted"
        planted.write_bytes(data)
        entry.unlink()
        entry.symlink_to(planted)
    assert defcache.load(str(path), text, "etcd") is None
    loader._load_cached.cache_clear()
    assert load_controls(path, "etcd").controls == ref.controls  # parsed again
    assert defcache.load(str(path), text, "etcd") is not None  # and the entry rewritten
    assert not _entry(cache).is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the entry to another user")
def test_an_entry_of_another_user_is_ignored(cache: Path) -> None:
    path = CFG / "cis-1.12" / "etcd.yaml"
    text = read_text(path)
    load_controls(path, "etcd")
    os.chown(_entry(cache), 65534, 65534)
    assert defcache.load(str(path), text, "etcd") is None


def test_a_directory_others_can_write_is_not_used(cache: Path) -> None:
    path = CFG / "cis-1.12" / "etcd.yaml"
    text = read_text(path)
    load_controls(path, "etcd")
    os.chmod(cache, 0o777)
    assert defcache.load(str(path), text, "etcd") is None  # private_dir refuses it: parsed instead
    loader._load_cached.cache_clear()
    assert load_controls(path, "etcd").controls == parse_controls(text, str(path), "etcd").controls


def test_the_cache_is_bounded(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(defcache, "MAX_ENTRIES", 4)
    for i in range(10):
        f = tmp_path / f"n{i}" / "node.yaml"
        f.parent.mkdir()
        f.write_text("controls:\ntype: node\n", encoding="utf-8")
        load_controls(f, "node")
    assert len(list(cache.iterdir())) <= 4
