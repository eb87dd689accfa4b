"""`kubecis benchmarks docs`: the check catalogue from the command line (Markdown and self-contained HTML, one set
or all of them, bundled or kube-bench-format definitions), and its bad-input behaviour."""

from __future__ import annotations

import html.parser
import os
import re
from pathlib import Path

import pytest

from kubecis.benchmark import bundled
from kubecis.report import catalogue
from tests.cli.test_cli import one_line_error, run_cli


def test_one_set_to_stdout_and_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_cli(["benchmarks", "docs", "cis-2.0"], capsys)
    assert rc == 0 and err == ""
    assert out.startswith("# cis-2.0: check catalogue\n")
    assert "#### 4.2.1 Ensure that the --anonymous-auth argument is set to false (Automated)" in out
    # the kubelet check in words: the flag, the config file path through its variable and default, the remediation
    block = out.split("#### 4.2.1 ", 1)[1].split("\n#### ", 1)[0]
    assert "the command line of the running kubelet ($kubeletbin" in block
    assert "`/var/lib/kubelet/config.yaml` ($kubeletconf, kubelet's configuration file)" in block
    assert ("**Passes when:** `--anonymous-auth` (or, when absent, `authentication.anonymous.enabled` in the config "
            "file) is `false`.") in block
    assert "$kubeletconf" not in block.split("**Remediation:**", 1)[1]
    target = tmp_path / "cis-2.0.md"
    rc, out2, _ = run_cli(["benchmarks", "docs", "cis-2.0", "-o", str(target)], capsys)
    assert rc == 0 and out2 == ""
    assert target.read_text(encoding="utf-8") == out
    assert target.stat().st_mode & 0o044 == 0o044 & ~_umask()  # documentation is readable like any new file


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_all_sets_into_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "catalogue"
    out_dir.mkdir()
    (out_dir / "cis-0.1.md").write_text(f"# old\n\n{catalogue.GENERATED_MARK} ... -->\n")  # a set that is gone
    (out_dir / "notes.md").write_text("# my notes\n")  # not ours: kept
    rc, out, _ = run_cli(["benchmarks", "docs", "--all", "--output-dir", str(out_dir)], capsys)
    assert rc == 0
    assert "removed 1 stale: cis-0.1.md" in out
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted([f"{n}.md" for n in bundled.bundled_names()] + ["README.md", "notes.md"])
    index = (out_dir / "README.md").read_text(encoding="utf-8")
    for n in bundled.bundled_names():
        assert f"| [{n}]({n}.md) |" in index
    # deterministic: a second run writes the same bytes
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    assert run_cli(["benchmarks", "docs", "--all", "--output-dir", str(out_dir)], capsys)[0] == 0
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.external: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            if k == "id" and v:
                self.ids.add(v)
            if k in ("src", "href") and v and not v.startswith("#") and not v.endswith(".html"):
                self.external.append(f"{tag} {k}={v}")


def test_html_is_self_contained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(["benchmarks", "docs", "cis-2.0", "--format", "html"], capsys)
    assert rc == 0
    page = _Page()
    page.feed(out)
    assert not page.external and "link" not in page.tags
    assert not re.search(r"https?://", out)
    bs = bundled.get_set("cis-2.0")
    for _, c in bs.checks():
        assert catalogue.anchor(c.id) in page.ids
    assert "<code>--anonymous-auth</code>" in out  # code spans of the definitions become <code>
    rc, out, _ = run_cli(["benchmarks", "docs", "--all", "--format", "html", "--output-dir", str(tmp_path)], capsys)
    assert rc == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n}.html" for n in bundled.bundled_names()] + ["index.html"])
    assert 'href="cis-2.0.html"' in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_kube_bench_definitions(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--config-dir: kube-bench's own cis-1.12, every check of `show` documented, with upstream's paths."""
    rc, out, _ = run_cli(["benchmarks", "show", "cis-1.12", "--config-dir", str(cfg_dir)], capsys)
    ids = [m.group(1) for m in re.finditer(r"^    (\S+)\s+\[", out, re.M)]
    rc, out, _ = run_cli(["benchmarks", "docs", "cis-1.12", "--config-dir", str(cfg_dir)], capsys)
    assert rc == 0
    assert sorted(re.findall(r"^#### (\S+) ", out, re.M)) == sorted(ids)
    assert str(cfg_dir) not in out  # no machine path
    assert "Kubernetes 1.32, 1.33, 1.34" in out  # from its version_mapping
    assert "etcd's data directory" in out
    assert "from kube-bench-format definitions" in out and "`kubecis benchmarks docs cis-1.12 --config-dir DIR`" in out


@pytest.mark.parametrize(("args", "message"), [
    (["benchmarks", "docs"], "name a benchmark set"),
    (["benchmarks", "docs", "cis-2.0", "--all"], "not both"),
    (["benchmarks", "docs", "cis-2.0", "cis-1.12"], "several sets need --output-dir"),
    (["benchmarks", "docs", "--all"], "several sets need --output-dir"),
    (["benchmarks", "docs", "cis-2.0", "-o", "x.md", "--output-dir", "d"], "cannot be used together"),
    (["benchmarks", "docs", "cis-2.0", "--format", "pdf"], "invalid choice"),
])
def test_bad_command_lines(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_cli(args, capsys)
    assert rc == 2 and out == ""
    assert message in one_line_error(err)


def test_unknown_set_and_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(["benchmarks", "docs", "cis-9.9"], capsys)
    assert rc == 1 and "unknown bundled benchmark 'cis-9.9'" in one_line_error(err)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, _, err = run_cli(["benchmarks", "docs", "--all", "--output-dir", str(blocker / "sub")], capsys)
    assert rc == 1 and "--output-dir" in one_line_error(err)
    assert not (blocker.parent / "sub").exists()


def test_config_file_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """kube-bench's --config FILE: the global config file instead of the config directory's config.yaml (its
    version_mapping decides here); the benchmark directories still come from --config-dir."""
    cfg_dir = bundled.materialise()
    mine = tmp_path / "my-config.yaml"
    mine.write_text((cfg_dir / "config.yaml").read_text(encoding="utf-8").replace("'1.34': cis-2.0",
                                                                                  "'1.34': cis-1.12"))
    base = ["--snapshot", "example", "--config-dir", str(cfg_dir), "--version", "1.34"]
    rc, out, _ = run_cli(["explain", *base], capsys)
    assert rc == 0 and "=> cis-2.0 " in out
    rc, out, _ = run_cli(["explain", *base, "--config", str(mine)], capsys)
    assert rc == 0 and "=> cis-1.12 " in out and f"config file: {mine}" in out
    rc, out, _ = run_cli(["run", *base, "--config", str(mine), "--json", "--targets", "node"], capsys)
    assert rc == 0 and '"version":"cis-1.12"' in out.replace(" ", "")
    rc, _, err = run_cli(["run", *base, "--config", str(tmp_path / "missing.yaml")], capsys)
    assert rc == 1 and one_line_error(err) == f"kubecis: error: config file {tmp_path / 'missing.yaml'}: no such file"


def test_the_help_spells_the_regeneration_like_the_files() -> None:
    from kubecis.cli.benchmarks import REGENERATE

    assert REGENERATE == catalogue.REGENERATE
