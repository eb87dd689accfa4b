"""The shipped check catalogue (docs/catalogue) is what `kubecis benchmarks docs` generates from the bundled
definitions today, lists every check `benchmarks show` lists, and reads well (no variable left, every automated
check says what it inspects and what passes)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kubecis.benchmark import bundled
from kubecis.benchmark.config import Config
from kubecis.cli.main import main
from kubecis.report import catalogue
from tests.shared import REPO

from .conftest import ALL_SETS

SHIPPED = REPO / "docs" / "catalogue"
STALE = f"docs/catalogue is stale: run `{catalogue.REGENERATE}` (from the repository root) and commit the result"


@pytest.fixture(scope="module")
def root_config() -> Config:
    return Config.load(bundled.materialise())


def build(name: str, root: Config, store: bundled.Store | None = None) -> catalogue.Catalogue:
    bs = bundled.get_set(name) if store is None else bundled.compile_set(store, name)
    return catalogue.build(name, bs.controls, root.merged_with(name), description=bs.description,
                           kubernetes=bs.kubernetes)


@pytest.fixture(scope="module")
def catalogues(root_config: Config) -> dict[str, catalogue.Catalogue]:
    return {name: build(name, root_config) for name in bundled.bundled_names()}


def test_every_bundled_set_is_documented() -> None:
    assert set(bundled.bundled_names()) == set(ALL_SETS)
    shipped = {p.name for p in SHIPPED.glob("*.md")}
    assert shipped == {f"{n}.md" for n in bundled.bundled_names()} | {"README.md"}, STALE


@pytest.mark.parametrize("name", ALL_SETS)
def test_shipped_catalogue_is_current(name: str, catalogues: dict[str, catalogue.Catalogue]) -> None:
    path = SHIPPED / f"{name}.md"
    assert path.is_file(), STALE
    assert path.read_text(encoding="utf-8") == catalogue.markdown(catalogues[name]), f"{path.name}: {STALE}"


def test_shipped_index_is_current(catalogues: dict[str, catalogue.Catalogue]) -> None:
    cats = [catalogues[n] for n in bundled.bundled_names()]
    assert (SHIPPED / "README.md").read_text(encoding="utf-8") == catalogue.index_markdown(cats), STALE


def test_a_changed_definition_makes_the_shipped_file_stale(tmp_path: Path, root_config: Config) -> None:
    """The comparison above can fail: one title changed in a copy of the store changes cis-2.0's catalogue."""
    data = tmp_path / "data"
    shutil.copytree(bundled.DATA_DIR, data, ignore=shutil.ignore_patterns("examples"))
    checks = data / "checks" / "master.yaml"
    text = checks.read_text(encoding="utf-8")
    old = "Ensure that the --anonymous-auth argument is set to false (Manual)"
    assert old in text
    checks.write_text(text.replace(old, "Ensure anonymous requests are refused (Manual)"), encoding="utf-8")
    changed = catalogue.markdown(build("cis-2.0", root_config, bundled.Store(data)))
    shipped = (SHIPPED / "cis-2.0.md").read_text(encoding="utf-8")
    assert changed != shipped
    assert "#### 1.2.1 Ensure anonymous requests are refused (Manual)" in changed


def _show_ids(capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> list[str]:
    assert main(["benchmarks", "show", name, *extra]) == 0
    out = capsys.readouterr().out
    return [m.group(1) for m in re.finditer(r"^    (\S+)\s+\[", out, re.M)]


def test_cis20_catalogue_lists_every_check_of_show(capsys: pytest.CaptureFixture[str]) -> None:
    ids = _show_ids(capsys, "cis-2.0")
    assert len(ids) > 100
    text = (SHIPPED / "cis-2.0.md").read_text(encoding="utf-8")
    documented = re.findall(r"^#### (\S+) ", text, re.M)
    assert sorted(documented) == sorted(ids)
    for cid in ids:  # each under its own anchor, so links to a check work
        assert f'<a id="{catalogue.anchor(cid)}"></a>\n\n#### {cid} ' in text


@pytest.mark.parametrize("name", ALL_SETS)
def test_catalogue_reads_well(name: str, catalogues: dict[str, catalogue.Catalogue]) -> None:
    cat = catalogues[name]
    var = re.compile(r"\$[a-z]+(?:bin|conf|svc|kubeconfig|cafile|datadir)\b")
    bad = []
    for e in cat.entries():
        for label, text in (("audit", e.audit), ("audit_config", e.audit_config), ("remediation", e.remediation)):
            if var.search(text):
                bad.append(f"{e.id} {label}: unsubstituted {var.search(text).group(0)}")  # type: ignore[union-attr]
        if e.kind == "automated":
            if not e.inspects or any("output of the audit below" in p for p in e.inspects):
                bad.append(f"{e.id}: no words for what it inspects")
            if not e.tests:
                bad.append(f"{e.id}: no tests in words")
        if not e.remediation:
            bad.append(f"{e.id}: no remediation")
    assert not bad, "\n".join(bad)
    md = catalogue.markdown(cat)
    assert str(bundled.DATA_DIR) not in md and str(bundled.materialise()) not in md  # nothing machine-specific


def test_probe_checks_name_their_probe(catalogues: dict[str, catalogue.Catalogue]) -> None:
    from kubecis.probes import PROBES

    entries = [e for e in catalogues["cis-2.0"].entries() if e.probe]
    assert len(entries) >= 25
    for e in entries:
        name = e.probe.split()[2]
        assert name in PROBES, e.probe
        assert PROBES[name].summary in e.inspects[0]
        if not e.scored:  # a probe decides from evidence: FAIL on failing tests even unscored
            assert e.fail_on_evidence and "fail_on_evidence" in e.verdict
