"""CLI contract: validate all upstream sets, and bad input → one line, non-zero exit, no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubecis.cli.main import main

KUBECIS = Path(sys.executable).with_name("kubecis")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "expected an error message"
    assert "Traceback" not in err
    assert lines[0].startswith("kubecis: error: ")
    return lines[0]


def test_every_upstream_set_validates(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = sorted(p.name for p in cfg_dir.iterdir() if p.is_dir())
    assert len(names) == 46
    rc, out, _ = run_cli(["benchmarks", "validate", "--config-dir", str(cfg_dir), *names], capsys)
    assert rc == 0, out
    assert out.count(": ok (") == 46


def test_validate_strict_fails_on_unknown_op(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(["benchmarks", "validate", "--strict", "-D", str(cfg_dir), "k3s-cis-1.9"], capsys)
    assert rc == 1
    assert "node.yaml:247: check 4.2.5: unknown compare op 'noteqx'" in err


def test_benchmarks_list(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(["benchmarks", "list", "-D", str(cfg_dir)], capsys)
    assert rc == 0
    line = next(x for x in out.splitlines() if x.startswith("cis-1.12 "))
    assert "1.32, 1.33, 1.34" in line and "master,node,controlplane,etcd,policies" in line


@pytest.fixture
def bad_cfg(tmp_path: Path, cfg_dir: Path) -> Path:
    """A copy of the global config with a few broken benchmark sets."""
    d = tmp_path / "cfg"
    d.mkdir()
    text = (cfg_dir / "config.yaml").read_text()
    text = text.replace("target_mapping:", "target_mapping:\n  \"bad-yaml\":\n    - \"node\"\n"
                        "  \"bad-type\":\n    - \"node\"", 1)
    (d / "config.yaml").write_text(text)
    (d / "bad-yaml").mkdir()
    (d / "bad-yaml" / "node.yaml").write_text("id: 4\ntype: node\ngroups:\n  - id: 1\n    text: a: b\n")
    (d / "bad-type").mkdir()
    (d / "bad-type" / "node.yaml").write_text("id: 4\ntext: x\ntype: master\ngroups: []\n")
    shutil.copytree(cfg_dir / "cis-1.12", d / "cis-1.12")
    return d


def test_validate_reports_file_and_line(bad_cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(["benchmarks", "validate", "-D", str(bad_cfg), "bad-yaml", "bad-type", "nope"], capsys)
    assert rc == 1
    assert f"{bad_cfg}/bad-yaml/node.yaml:5: malformed YAML" in err
    assert f"{bad_cfg}/bad-type/node.yaml:3: non-node controls file specified" in err
    assert "nope: unknown benchmark" in err and "available: bad-type, bad-yaml, cis-1.12" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "--benchmark", "nope", "--targets", "node"], "unknown benchmark 'nope'"),
        (["run", "--benchmark", "bad-yaml", "--targets", "node"], "bad-yaml/node.yaml:5: malformed YAML"),
        (["run", "--benchmark", "bad-type", "--targets", "node"], "bad-type/node.yaml:3: non-node controls file"),
        (["run", "--benchmark", "cis-1.12", "--targets", "master,bogus"], "valid targets: master, node"),
        (["run", "--benchmark", "cis-1.12", "--version", "1.33"], "both --version and --benchmark"),
        (["run", "--benchmark", "cis-1.12", "--check", "1.1.1", "--group", "1.1"], "can't be used together"),
        (["run", "--benchmark", "cis-1.12", "--no-such-flag"], "No such option: --no-such-flag"),
    ],
)
def test_bad_input_is_one_line(bad_cfg: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                               needle: str) -> None:
    rc, out, err = run_cli([*args, "--config-dir", str(bad_cfg)], capsys)
    assert rc != 0
    assert needle in one_line_error(err)
    assert out == ""


def test_missing_config_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(["run", "--config-dir", str(tmp_path / "nope"), "--benchmark", "cis-1.12"], capsys)
    assert rc == 1
    assert "no such directory" in one_line_error(err)


def test_unwritable_outputfile_writes_nothing(bad_cfg: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing-dir" / "out.json"
    rc, out, err = run_cli(["run", "-D", str(bad_cfg), "--benchmark", "cis-1.12", "--targets", "policies",
                            "--json", "--outputfile", str(target)], capsys)
    assert rc == 1
    assert "--outputfile" in one_line_error(err)
    assert not target.exists() and out == ""


def test_console_script_bad_flag_no_traceback() -> None:
    if not KUBECIS.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    cp = subprocess.run([str(KUBECIS), "run", "--exit-code", "notanumber"], capture_output=True, text=True,
                        check=False)
    assert cp.returncode == 2
    assert "Traceback" not in cp.stderr
    assert "--exit-code" in cp.stderr.splitlines()[0]


def test_snapshot_record_checks_its_output_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing" / "node.snap"
    rc = main(["snapshot", "record", "-o", str(target), "--benchmark", "cis-1.12"])
    assert rc == 1
    assert one_line_error(capsys.readouterr().err) == (
        f"kubecis: error: --output {target}: directory {target.parent} does not exist")
    assert not target.parent.exists()
