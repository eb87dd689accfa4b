"""Remediations and titles of every bundled set read well after substitution: no variable left unsubstituted,
no path repeated as "X, usually X", whether discovery found the default paths or somewhere else."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from kubecis.benchmark import bundled
from kubecis.benchmark.config import Config
from kubecis.benchmark.variables import NodeDiscovery, nominal_discovery, substitute

from .conftest import ALL_SETS

VARIABLE = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")
CONNECTOR = r"[\s,;:()]{0,4}(?:usually|typically|normally|by default|default|e\.g\.|i\.e\.|or)?[\s,;:()]{0,4}"


def moved(d: NodeDiscovery) -> NodeDiscovery:
    """The same discovery with every file found somewhere else (a non-default install)."""
    files = {kind: {comp: f"/opt/alt{path}" if path.startswith("/") else path for comp, path in by.items()}
             for kind, by in d.files.items()}
    return replace(d, files=files)


def problems(text: str, values: list[str]) -> list[str]:
    out = [f"unsubstituted {m}" for m in VARIABLE.findall(text)]
    for v in values:
        if v.startswith("/") and re.search(re.escape(v) + CONNECTOR + re.escape(v) + r"(?![\w/.-])", text):
            out.append(f"repeats {v}")
    return out


@pytest.fixture(scope="module")
def root_config() -> Config:
    return Config.load(bundled.materialise())


@pytest.mark.parametrize("name", ALL_SETS)
@pytest.mark.parametrize("where", ["default", "moved"])
def test_texts_read_well_after_substitution(name: str, where: str, root_config: Config) -> None:
    cfg = root_config.merged_with(name)
    bad: list[str] = []
    for target, ctl in bundled.get_set(name).controls.items():
        d = nominal_discovery(cfg.section(target))
        if where == "moved":
            d = moved(d)
        values = [v for _, v in d.variables()]
        for c in substitute(ctl, d).checks():
            for label, text in (("title", c.text), ("remediation", c.remediation)):
                bad += [f"{target} {c.id} {label}: {p}" for p in problems(text, values)]
    assert not bad, "\n".join(bad)


def test_the_rule_catches_the_old_wording() -> None:
    old = "edit the manifest (/etc/kubernetes/manifests/kube-apiserver.yaml, usually\n /etc/kubernetes/manifests/" \
          "kube-apiserver.yaml) and set"
    assert problems(old, ["/etc/kubernetes/manifests/kube-apiserver.yaml"]) == [
        "repeats /etc/kubernetes/manifests/kube-apiserver.yaml"]
    assert problems("edit $apiserverconf", []) == ["unsubstituted $apiserverconf"]
    assert problems("chmod 600 /etc/x and chown root:root /etc/x", ["/etc/x"]) == []
