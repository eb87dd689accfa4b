"""The migration guide and the README document only flags and commands kubecis has (kube-bench's own flags
that kubecis does not accept are named as such)."""

from __future__ import annotations

import argparse
import re

import pytest

from kubecis.cli.main import build_parser
from tests.shared import REPO

# kube-bench's glog flags: the guide names them as not accepted.
NOT_OURS = {"--v", "--logtostderr", "--alsologtostderr", "--stderrthreshold", "--log_dir", "--vmodule"}


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], set[str]]:
    out = {path: {s for a in parser._actions for s in a.option_strings}}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.update(_walk(sub, (*path, name)))
    return out


@pytest.fixture(scope="module")
def commands() -> dict[tuple[str, ...], set[str]]:
    return _walk(build_parser(everything=True))


@pytest.mark.parametrize("doc", ["docs/migrating-from-kube-bench.md", "README.md"])
def test_documented_flags_exist(doc: str, commands: dict[tuple[str, ...], set[str]]) -> None:
    text = (REPO / doc).read_text(encoding="utf-8")
    ours = set().union(*commands.values())
    flags = set(re.findall(r"(?<![\w#-])(--[a-z][a-z0-9_-]*)", text))  # not a link anchor (#--root-...)
    kube_bench_only = {"--scored=false"}  # spelled with its value
    missing = sorted(f for f in flags - ours - NOT_OURS - kube_bench_only
                     if not f.startswith(("--no-", "--raw")) and f.rstrip("=") not in ours)
    # flags of other programs the docs quote (kubelet's, etcd's, the benchmarks/ scripts' ...) are not ours
    foreign = {"--anonymous-auth", "--kubeconfig", "--client-ca-file", "--data-dir", "--skip-scan", "--repeat",
               # the kube-apiserver's, whose files the config-file checks read
               "--admission-control-config-file", "--audit-policy-file", "--enable-admission-plugins",
               "--encryption-provider-config", "--tls-cipher-suites", "--tls-min-version"}
    assert [f for f in missing if f not in foreign] == [], f"{doc} names flags kubecis does not have"


@pytest.mark.parametrize("doc", ["docs/migrating-from-kube-bench.md", "README.md"])
def test_documented_commands_exist(doc: str, commands: dict[tuple[str, ...], set[str]]) -> None:
    text = (REPO / doc).read_text(encoding="utf-8")
    bad = []
    for m in re.finditer(r"`kubecis ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", text):
        first, second = m.group(1), m.group(2)
        has_subcommands = any(len(k) == 2 and k[0] == first for k in commands)
        unknown_sub = bool(second) and has_subcommands and (first, second) not in commands
        if (first,) not in commands or unknown_sub:
            bad.append(m.group(0))
    assert bad == [], f"{doc} names commands kubecis does not have"


def test_the_guide_says_which_kube_bench_flags_are_not_accepted(commands: dict[tuple[str, ...], set[str]]) -> None:
    ours = set().union(*commands.values())
    assert not (NOT_OURS & ours)
    text = (REPO / "docs/migrating-from-kube-bench.md").read_text(encoding="utf-8")
    assert "not accepted (exit 2)" in text
    for flag in ("--config", "--config-dir", "--benchmark", "--version", "--check", "--group", "--skip", "--scored",
                 "--unscored", "--json", "--junit", "--pgsql", "--asff", "--outputfile", "--noresults",
                 "--noremediations", "--nosummary", "--nototals", "--include-test-output", "--exit-code", "--targets"):
        assert f"`{flag}" in text, flag  # every kube-bench flag has its row
        assert flag in commands[("run",)], flag
