"""The layered store compiles, materialises into a kube-bench tree that loads back identically, and the
CLI lists and validates every bundled set without --config-dir."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kubecis.benchmark import bundled
from kubecis.benchmark.config import Config
from kubecis.benchmark.loader import load_controls
from kubecis.benchmark.model import Controls
from kubecis.cli.main import main
from kubecis.errors import ConfigError

from .conftest import ALL_SETS


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # no ./cfg here


def strip(ctl: Controls) -> Controls:
    groups = tuple(dataclasses.replace(g, line=0, checks=tuple(dataclasses.replace(c, line=0) for c in g.checks))
                   for g in ctl.groups)
    return dataclasses.replace(ctl, groups=groups, source="")


def test_eleven_sets() -> None:
    assert sorted(bundled.bundled_names()) == sorted(ALL_SETS)


def test_list_without_config_dir(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmarks", "list"]) == 0
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines()]
    assert sorted(names) == sorted(ALL_SETS)
    assert "cis-2.0" in out and "1.34, 1.35" in out


@pytest.mark.parametrize("name", ALL_SETS)
def test_validate_each(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmarks", "validate", name]) == 0
    assert f"{name}: ok" in capsys.readouterr().out


@pytest.mark.parametrize("name", ALL_SETS)
def test_materialised_tree_loads_back_identically(name: str) -> None:
    root = bundled.materialise()
    compiled = bundled.get_set(name)
    for target, ctl in compiled.controls.items():
        loaded = load_controls(root / name / f"{target}.yaml", target)
        assert strip(loaded.controls) == strip(ctl), target
    cfg = Config.load(root).merged_with(name)
    assert cfg.targets_for(name) == list(compiled.targets)


def test_materialise_is_cached_and_keyed_by_content(tmp_path: Path) -> None:
    a = bundled.materialise()
    assert bundled.materialise() == a
    assert a.name == f"bundled-{bundled.store_hash()}"
    assert not [p for p in a.parent.iterdir() if p.name.startswith(".bundled-")]  # no leftovers


def test_version_mapping_and_newest() -> None:
    cfg = Config.load(bundled.materialise())
    vm = cfg.version_mapping()
    assert {k: vm[k] for k in ("1.26", "1.27", "1.28", "1.29", "1.31", "1.32", "1.33", "1.34", "1.35")} == {
        "1.26": "cis-1.8", "1.27": "cis-1.9", "1.28": "cis-1.10", "1.29": "cis-1.11", "1.31": "cis-1.11",
        "1.32": "cis-1.12", "1.33": "cis-1.12", "1.34": "cis-2.0", "1.35": "cis-2.0"}
    from kubecis.benchmark.versions import lookup

    assert lookup(vm, "1.37") == "cis-2.0"
    assert cfg.get("newest_kubernetes") == "1.35" and cfg.get("newest_benchmark") == "cis-2.0"
    assert vm["eks-1.8.0"] == "eks-1.8.0"


def test_per_set_config_overrides() -> None:
    k3s = Config.load(bundled.materialise()).merged_with("k3s-cis-1.9")
    assert k3s.section("master") is not None
    api = next(c for c in k3s.section("master").components if c.name == "apiserver")  # type: ignore[union-attr]
    assert api.bins == ("containerd",)
    gke = Config.load(bundled.materialise()).merged_with("gke-1.9.0")
    kubelet = next(c for c in gke.section("node").components if c.name == "kubelet")  # type: ignore[union-attr]
    assert kubelet.defaults["conf"] == "/etc/kubernetes/kubelet-config.yaml"


# ---- the layering rules, on a tiny store ----------------------------------------------------------
def write(p: Path, text: str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


@pytest.fixture
def tiny(tmp_path: Path) -> bundled.Store:
    d = tmp_path / "data"
    write(d / "config.yaml", "node:\n  components: [kubelet]\n  kubelet:\n    bins: [kubelet]\n")
    write(d / "checks" / "node.yaml", """
'4.1':
  title: One
  scored: true
  audit: cat $kubeletconf
  tests: {items: [{flag: '--a', op: eq, value: '0644'}]}
  remediation: fix one
'4.2':
  title: Two
  type: manual
  remediation: fix two
'4.2@v2':
  base: '4.2'
  title: Two, renamed
'4.1@eks':
  title: EKS one
  scored: false
""")
    write(d / "sets" / "a.yaml", """name: a
kubernetes: ['1.10']
targets: [node]
outline:
  node: {id: '4', text: Node, groups: [{id: '4.0', text: G, checks: ['4.1..4.2']}]}
""")
    write(d / "sets" / "b.yaml", """name: b
extends: a
kubernetes: ['1.11']
outline:
  node: {groups: [{id: '4.9', text: New group, checks: ['4.1']}], drop_groups: ['4.0']}
checks:
  node:
    '4.1': {remediation: fix one better}
""")
    write(d / "sets" / "c.yaml", """name: c
extends: b
checks:
  node: {'4.2': '4.2@v2'}
outline:
  node: {groups: [{id: '4.0', text: G, checks: ['4.2', '4.1']}], group_order: ['4.0', '4.9']}
""")
    write(d / "sets" / "e.yaml", """name: e
variant: eks
targets: [node]
outline:
  node: {id: '4', text: Node, groups: [{id: '4.0', text: G, checks: ['4.1']}]}
""")
    return bundled.Store(d)


def test_layering(tiny: bundled.Store) -> None:
    a = bundled.compile_set(tiny, "a")
    one = a.controls["node"].checks()[0]
    assert (one.id, one.text, one.scored, one.remediation) == ("4.1", "One", True, "fix one")
    assert one.tests is not None and one.tests.items[0].compare.value == "0644"  # stays a string
    assert [c.id for c in a.controls["node"].checks()] == ["4.1", "4.2"]
    b = bundled.compile_set(tiny, "b")
    assert [g.id for g in b.controls["node"].groups] == ["4.9"]
    assert b.controls["node"].checks()[0].remediation == "fix one better"
    assert b.controls["node"].checks()[0].text == "One"
    c = bundled.compile_set(tiny, "c")
    assert [g.id for g in c.controls["node"].groups] == ["4.0", "4.9"]
    two = c.find("4.2")
    assert two is not None and (two[1].text, two[1].type, two[1].remediation) == ("Two, renamed", "manual", "fix two")
    assert c.find("4.1")[1].remediation == "fix one better"  # type: ignore[index]  # inherited override
    assert c.targets == ("node",)
    e = bundled.compile_set(tiny, "e")
    assert e.find("4.1")[1].text == "EKS one"  # type: ignore[index]
    vm = bundled.global_config(tiny)["version_mapping"]
    assert vm == {"1.10": "a", "1.11": "b", "c": "c", "e": "e"}


def test_bad_store_is_reported(tiny: bundled.Store) -> None:
    with pytest.raises(ConfigError, match="no check definition"):
        tiny.definition("node", "9.9")
    with pytest.raises(ConfigError, match="range"):
        bundled.expand_ids(["4.3..4.1"])
    assert bundled.expand_ids(["1.2.9..1.2.11", "1.3"]) == ["1.2.9", "1.2.10", "1.2.11", "1.3"]
