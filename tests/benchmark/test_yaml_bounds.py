"""Bounded YAML in the definitions loader: bombs, recursion, nesting, size and special files are refused
with one ``file:line`` error, quickly; random input only ever gives a LoadError."""

from __future__ import annotations

import os
import resource
import string
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecis.benchmark import yamlraw
from kubecis.benchmark.config import Config, read_config_file
from kubecis.benchmark.loader import load_controls, parse_controls, read_text
from kubecis.errors import ConfigError, LoadError
from kubecis.yamllimits import (
    MAX_DEPTH,
    YamlLimitError,
    allowed_alias_ratio,
    check_graph,
    may_have_aliases,
    read_file,
)

HEAD = "controls:\nid: 1\ntype: master\n"


def laughs(levels: int, fan: int = 9) -> str:
    """The billion-laughs shape: each level a list of ``fan`` aliases to the previous one."""
    out = ["a0: &a0 [{id: c, text: t}]"]
    out += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(out) + "\n"


def merge_chain(levels: int) -> str:
    """``<<`` merge keys, each level merging the previous mapping twice."""
    out = ["x0: &x0 {k: v}"]
    out += [f"x{i}: &x{i} {{<<: [*x{i - 1}, *x{i - 1}], k{i}: v}}" for i in range(1, levels)]
    return "\n".join(out) + "\n"


BOMBS = {
    "billion laughs": HEAD + laughs(9) + "groups:\n- id: g\n  checks: *a8\n",
    "billion laughs, unused": HEAD + laughs(12, fan=10) + "groups: []\n",
    "laughs into groups": HEAD + laughs(30, fan=2) + "groups: [{id: g, checks: *a29}]\n",
    "merge-key chain": HEAD + merge_chain(40) + "groups:\n- id: g\n  checks:\n  - <<: *x39\n    id: c\n",
    "merge-key chain, unused": HEAD + merge_chain(60) + "groups: []\n",
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bombs_are_refused_with_file_and_line(name: str) -> None:
    text = BOMBS[name]
    assert len(text) < 4096
    with pytest.raises(LoadError) as exc:
        parse_controls(text, "bomb.yaml", "master")
    msg = str(exc.value)
    assert msg.startswith("bomb.yaml:") and exc.value.line is not None
    assert "YAML refused:" in msg and "\n" not in msg
    assert "aliases expanded" in msg or "excessive aliasing" in msg


def test_go_yaml_alias_ratio_rule() -> None:
    """go-yaml v2: past 1000 nodes with over 100 from aliases, at most 99% may come from aliases."""
    assert allowed_alias_ratio(1000) == 0.99
    assert allowed_alias_ratio(4_000_000) == pytest.approx(0.10)
    assert 0.10 < allowed_alias_ratio(2_000_000) < 0.99
    # ~2^15 nodes from 15 small lines: almost all of them from aliases
    with pytest.raises(LoadError, match="document contains excessive aliasing"):
        parse_controls(HEAD + laughs(15, fan=2) + "groups: []\n", "r.yaml")
    # ordinary reuse of anchors stays accepted (1 defined mapping, 50 aliases to it)
    reuse = HEAD + "base: &b {id: x, text: t, audit: a, type: manual}\ngroups:\n- id: g\n  checks:\n"
    reuse += "".join(f"  - {{<<: *b, id: '{i}'}}\n" for i in range(50))
    checks = parse_controls(reuse, "ok.yaml").controls.checks()
    assert [c.id for c in checks] == [str(i) for i in range(50)] and checks[0].type == "manual"


@pytest.mark.parametrize(
    "text",
    [
        "groups: &g\n- id: g\n  checks: *g\n",  # a list holding an alias to itself (via a mapping)
        "x: &m\n  a: *m\ngroups: []\n",
        "x: &m {<<: *m}\ngroups: []\n",  # a mapping merging itself
        "groups: &g [*g]\n",
    ],
)
def test_recursive_aliases_are_refused(text: str) -> None:
    with pytest.raises(LoadError, match=r"^rec\.yaml:\d+: YAML refused: recursive alias"):
        parse_controls(HEAD + text, "rec.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "x: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
        "x:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(MAX_DEPTH + 2)),
    ],
)
def test_nesting_is_bounded_where_it_is_walked(text: str) -> None:
    """Without aliases the loader never walks unknown keys; the converter that does refuses the depth."""
    doc = HEAD + text + "groups: []\n"
    assert parse_controls(doc, "deep.yaml").controls.groups == ()
    with pytest.raises(YamlLimitError, match=f"nesting deeper than {MAX_DEPTH} levels") as exc:
        yamlraw.to_plain(yamlraw.compose(doc, "deep.yaml").root)
    assert exc.value.line is not None
    shallow = HEAD + "x: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\ngroups: []\n"
    yamlraw.to_plain(yamlraw.compose(shallow, "ok.yaml").root)


def test_nesting_through_an_alias_is_refused_on_load() -> None:
    text = HEAD + "x: &d " + "[" * 60 + "]" * 60 + "\ny: " + "[" * 50 + "*d" + "]" * 50 + "\ngroups: []\n"
    with pytest.raises(LoadError, match=f"^deep.yaml:4: YAML refused: nesting deeper than {MAX_DEPTH} levels"):
        parse_controls(text, "deep.yaml")


def test_deep_inline_merges_are_bounded() -> None:
    text = HEAD + "groups:\n- id: g\n  checks:\n  - " + "{<<: " * (MAX_DEPTH + 1) + "{id: c}" + "}" * (MAX_DEPTH + 1)
    with pytest.raises(LoadError, match="nesting deeper than"):
        parse_controls(text + "\n", "m.yaml")


def test_c_composer_errors_are_load_errors() -> None:
    # the C composer raises plain Python errors on some inputs (UnboundLocalError here)
    for text in ("&a {<<: *a}", "- &a\n- *a\n- !!binary *a"):
        try:
            parse_controls(text, "c.yaml")
        except LoadError as exc:
            assert str(exc).startswith("c.yaml")
            assert "\n" not in str(exc)


def test_config_yaml_bomb_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(merge_chain(40) + laughs(9))
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+: YAML refused"):
        Config.load(tmp_path)
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 150 + "]" * 150 + "\n")
    with pytest.raises(ConfigError, match=r"deep\.yaml:1: YAML refused: nesting deeper than"):
        read_config_file(deep)


# --- files ---------------------------------------------------------------------------------------


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "master.yaml"
    os.mkfifo(fifo)  # nobody writes: a blocking open or read would hang the test
    with pytest.raises(LoadError, match=r"master\.yaml: not a regular file \(a FIFO\)"):
        load_controls(fifo, "master")
    with pytest.raises(LoadError, match=r"^/dev/zero: not a regular file \(a character device\)"):
        read_text(Path("/dev/zero"))
    with pytest.raises(LoadError, match="is a directory"):
        read_text(tmp_path)
    with pytest.raises(LoadError, match="no such file"):
        read_text(tmp_path / "missing.yaml")


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * 100 + b"\n")
    assert read_text(big, limit=103) and read_file(big, 103)
    with pytest.raises(LoadError, match=r"big\.yaml: file too large: 103 bytes \(the limit is 102\)"):
        read_text(big, limit=102)
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(3 * 1024 * 1024)  # sparse: over the default 2 MiB, refused before reading
    with pytest.raises(LoadError, match="file too large"):
        load_controls(huge)


def test_huge_scalars_and_tabs(tmp_path: Path) -> None:
    remediation = "x" * (1024 * 1024)
    p = tmp_path / "master.yaml"
    p.write_text(HEAD + f"groups:\n- id: g\n  checks:\n  - id: c\n    remediation: {remediation}\n")
    assert load_controls(p, "master").controls.groups[0].checks[0].remediation == remediation
    p.write_text(HEAD + "groups:\n-\tid: g\n")  # a tab where indentation is expected
    with pytest.raises(LoadError, match=r"master\.yaml:5: malformed YAML: "):
        load_controls(p, "master")


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_bytes(b"id: \xff\n")
    with pytest.raises(LoadError, match=r"not UTF-8 text \(byte 4\)"):
        load_controls(p)


# --- the CLI, in a process with bounded memory --------------------------------------------------


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_validate_a_bomb_set_is_one_line_per_file_and_exit_1(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    (cfg / "bomb").mkdir(parents=True)
    (cfg / "config.yaml").write_text("version_mapping: {}\ntarget_mapping:\n  bomb: [master, node]\n")
    (cfg / "bomb" / "master.yaml").write_text(BOMBS["billion laughs"])
    (cfg / "bomb" / "node.yaml").write_text(BOMBS["merge-key chain"].replace("type: master", "type: node"))
    cp = subprocess.run(
        [sys.executable, "-m", "kubecis", "benchmarks", "validate", "--config-dir", str(cfg), "bomb"],
        capture_output=True, text=True, timeout=120, preexec_fn=_limit_memory, check=False,
    )
    assert cp.returncode == 1, cp.stderr
    assert "Traceback" not in cp.stderr + cp.stdout
    errors = [line for line in (cp.stdout + cp.stderr).splitlines() if "YAML refused" in line]
    assert len(errors) == 2, cp.stdout + cp.stderr
    assert any(f"{cfg}/bomb/master.yaml:" in e for e in errors)
    assert any(f"{cfg}/bomb/node.yaml:" in e for e in errors)


# --- fuzzing ----------------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from([
    "a", "b: ", "- ", "&x ", "&y ", "*x", "*y", "<<: ", "[", "]", "{", "}", ", ", ": ", "\n", "\n  ", "\t",
    "'", '"', "? ", "!!str ", "!!binary ", "!foo ", "---\n", "...\n", "|\n  ", ">\n  ", "#c\n", "~", "\\",
    "id: ", "groups:\n", "checks:\n", "type: master\n", "\u2028", "\ufeff", "\x85", "%YAML 1.1\n", "\x00",
])
_YAMLISH = st.lists(_FRAGMENTS, max_size=60).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_YAMLISH, st.text(max_size=200)))
def test_fuzz_loader_only_raises_load_errors(text: str) -> None:
    tracemalloc.start()
    try:
        parse_controls(text, "fuzz.yaml")
    except LoadError as exc:
        assert str(exc).startswith("fuzz.yaml") and "\n" not in str(exc)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024  # a few hundred characters never cost more (a bomb would cost GBs)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(max_size=300))
def test_fuzz_loader_on_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fuzz") / "master.yaml"
    p.write_bytes(data)
    try:
        load_controls(p, "master")
    except LoadError as exc:
        assert str(exc).startswith(str(p)) and "\n" not in str(exc)


def _shared_nodes(root: yaml.Node | None) -> bool:
    """Whether the composed graph has a node reachable twice (an alias), by a plain walk with a cap."""
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            return True
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            stack.extend(x for pair in n.value for x in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return False


_ALIAS_SITES = [
    "a: &x 1\nb:{s}*x{t}", "[&x 1,{s}*x{t}]", "{{&x a: 1, b:{s}*x{t}}}", "- &x 1\n-{s}*x{t}", "&x a: {s}*x{t}",
    "? &x a\n:{s}*x{t}", "--- &x [1]\n---{s}*x{t}", "{{? &x a : 1,{s}*x{t}: 2}}", "[&x a, {{b:{s}*x{t}}}]",
    "!t &x a{s}*x{t}", '{{"k": &x 1, "b"{s}*x{t}}}', "[&x [a]{s}*x{t}]", "&x a\n...\n{s}*x{t}",
    "{{&x a:{s}*x{t}}}", "[&x a{s}*x{t}]", "a: &x 1\n{s}*x{t}: 2", "- &x 1\n- [{s}*x{t}]", "{{&x a: 1, {s}*x{t}}}",
]
_BEFORE = [*string.printable, "\ufeff", "\u2028", "\u2029", "\x85", "\xa0", "\u3000", "é"]


def test_alias_prefilter_is_conservative_at_every_alias_site() -> None:
    """Every character before ``*`` in every place libyaml takes an alias: when the composed graph
    shares a node, the pre-filter said the text might have aliases."""
    composed = shared = 0
    for site in _ALIAS_SITES:
        for c in _BEFORE:
            for sep in (c, " " + c, c + " ", c + "\n"):
                for tail in ("", "]", "}", " : 1"):
                    text = site.format(s=sep, t=tail)
                    try:
                        root = yaml.compose(text, Loader=yaml.CBaseLoader)
                    except yaml.YAMLError:
                        continue
                    composed += 1
                    if _shared_nodes(root):
                        shared += 1
                        assert may_have_aliases(text), repr(text)
    assert composed > 5_000 and shared > 500  # the enumeration reaches real aliases


_ALIASY = st.lists(st.sampled_from([
    "&a ", "*a", "&b ", "*b", "[", "]", "{", "}", ",", ":", ": ", "- ", "? ", "?", "x", "\n", " ", "\t", "'", '"',
    "\ufeff", "\u2028", "\x85", "\r", "!t ", "!t*", "<<", "#", "|", ">", "...", "---", "%TAG ! !x\n",
]), min_size=1, max_size=25).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_ALIASY)
def test_alias_prefilter_is_conservative(text: str) -> None:
    try:
        root = yaml.compose(text, Loader=yaml.CBaseLoader)
    except Exception:  # malformed documents are not composed at all (the C composer raises anything)
        return
    if _shared_nodes(root):
        assert may_have_aliases(text), repr(text)


def test_check_graph_limits_directly() -> None:
    root = yaml.compose("a: &a {b: [1, 2, {c: [3]}]}\nd: [*a, *a, *a]\n", Loader=yaml.CBaseLoader)
    check_graph(root)  # a few aliases: fine
    with pytest.raises(YamlLimitError, match="more than 20 nodes"):
        check_graph(root, max_nodes=20)
    with pytest.raises(YamlLimitError, match="nesting deeper than 3 levels"):
        check_graph(root, max_depth=3)


def test_guard_cost_is_linear_in_distinct_nodes() -> None:
    """60 levels of merges stand for 2^60 pairs; refusing them visits each node once (no time asserted:
    an unguarded walk would not finish)."""
    src = textwrap.dedent(merge_chain(60))
    with pytest.raises(YamlLimitError):
        check_graph(yaml.compose(src, Loader=yaml.CBaseLoader))
