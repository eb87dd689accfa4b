"""Config output read from the node is hostile: the decoder bounds it, never raises, and a document over a
bound makes the path test *refused* (the check is not evaluated) instead of failing."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecis.benchmark.model import Compare, TestItem, Tests
from kubecis.evaluate.evaluator import evaluate_tests
from kubecis.evaluate.extract import find_path
from kubecis.golang.yaml import Decoded, load_config, load_yaml
from kubecis.yamllimits import MAX_DEPTH, MAX_FILE_BYTES, YamlLimitError


def laughs(levels: int, fan: int = 9) -> str:
    out = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    out += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(out) + "\nauthentication: {anonymous: {enabled: false}}\n"


def merges(levels: int) -> str:
    out = ["x0: &x0 {k0: v}"]
    out += [f"x{i}: &x{i} {{<<: [*x{i - 1}, *x{i - 1}], k{i}: v}}" for i in range(1, levels)]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (laughs(9), "nodes with aliases expanded"),
        (laughs(15, fan=2), "document contains excessive aliasing"),
        (merges(60), "nodes with aliases expanded"),
        ("a: &a [1, *a]", "recursive alias"),
        ("&a {<<: *a}", "recursive alias"),
        ("- &a\n- *a\n- !!binary *a", ""),  # malformed: the constructor fails
        ("a: &a {b: *a}", "recursive alias"),
        ("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nesting deeper than {MAX_DEPTH} levels"),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), f"JSON nesting deeper than {MAX_DEPTH} levels"),
        ("[" * 5000 + "]" * 5000, f"JSON nesting deeper than {MAX_DEPTH} levels"),
    ],
)
def test_hostile_config_is_refused_or_malformed(text: str, why: str) -> None:
    load_config.cache_clear()
    decoded = load_config(text)
    assert decoded.value is None
    if why:
        assert why in decoded.refused and not decoded.error
        assert "\n" not in decoded.refused
    else:
        assert decoded.error.startswith("failed to load YAML or JSON from input") and not decoded.refused


def test_load_yaml_raises_the_bound() -> None:
    with pytest.raises(YamlLimitError):
        load_yaml(laughs(9))


def test_ordinary_aliases_and_merges_still_decode() -> None:
    doc = load_config("base: &b {enabled: true, port: 10250}\nx: {<<: *b, port: 1}\nys: [*b, *b]\n").value
    assert doc["x"] == {"enabled": True, "port": 1}
    assert doc["ys"][1]["port"] == 10250


def test_oversized_config_is_refused() -> None:
    load_config.cache_clear()
    assert load_config("a: " + "x" * MAX_FILE_BYTES).refused == f"config over {MAX_FILE_BYTES} bytes"


def test_refused_config_makes_the_outcome_refused_not_failed() -> None:
    item = TestItem(path="{.authentication.anonymous.enabled}", compare=Compare("eq", "false"))
    out = evaluate_tests(Tests(items=(item,)), multiple=False, audit_output="", config_output=laughs(9),
                         env_output="", has_audit_config=True)
    assert out.refused.startswith("YAML refused: line ") and "aliases expanded" in out.refused
    assert not out.error and not out.passed
    # a flag found on the command line wins: the config is never decoded, nothing is refused
    item2 = TestItem(flag="--anonymous-auth", path="{.authentication.anonymous.enabled}",
                     compare=Compare("eq", "false"))
    out2 = evaluate_tests(Tests(items=(item2,)), multiple=False, audit_output="--anonymous-auth=false",
                          config_output=laughs(9), env_output="", has_audit_config=True)
    assert out2.passed and not out2.refused


@pytest.mark.parametrize("path", ["{.}", "{..a}", "{.a}", "{range .a}{@}{end}", "{.a[*]}", "{..*}"])
def test_render_at_the_depth_bound_never_raises(path: str) -> None:
    deep_json = '{"a":' * (MAX_DEPTH - 1) + "[1]" + "}" * (MAX_DEPTH - 1)
    deep_yaml = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    for text in (deep_json, deep_yaml, "a: &a [1, 2]\nb: [*a, *a]"):
        find_path(text, path)


_YAMLISH = st.lists(st.sampled_from([
    "a", "b: ", "- ", "&x ", "*x", "<<: ", "[", "]", "{", "}", ", ", ": ", "\n", "\n  ", "\t", "'", '"', "? ",
    "!!str ", "!!binary ", "!!int ", "!!float ", "!!timestamp ", "!!set ", "!!omap ", "!!map ", "!!seq ", "!foo ",
    "!!python/object ", "---\n", "...\n", "|\n  ", "#c\n", "~", "0x1F", "0644", "1e400", "-.inf", ".nan", "yes",
    '{"k": ', "1_0", "9" * 30, "\\u00", '"\\ud800"', "\x00", "\ufeff", "\u2028",
]), max_size=40).map("".join)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.one_of(_YAMLISH, st.text(max_size=200)), st.sampled_from(["{.a}", "{..x}", "{.}", "{.a[*]}", "{range .*}"]))
def test_fuzz_decoder_and_path_never_raise(text: str, path: str) -> None:
    load_config.cache_clear()
    start = time.monotonic()
    tracemalloc.start()
    try:
        decoded = load_config(text)
        assert isinstance(decoded, Decoded)
        assert not (decoded.error and decoded.refused)
        ext = find_path(text, path)
        assert ext.found in (True, False)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024  # a bomb would take GBs
    assert time.monotonic() - start < 5  # generous: a shared CI machine; a bomb would take minutes
