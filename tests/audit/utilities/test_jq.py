"""Native jq against the real jq 1.6 (/usr/bin/jq): output bytes, error messages and exit statuses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.shell import Shell
from kubecis.audit.native.static import EmptyHost
from kubecis.audit.native.streams import Out, Stream
from kubecis.audit.native.utilities import UTILITIES
from kubecis.audit.native.utilities.jq import format_number, run_jq
from tests.realtools import needs_real, real_tool

JQ = real_tool("jq")
needs_jq = needs_real("jq")

_DATA = json.loads((Path(__file__).parent / "test_jq_programs.json").read_text(encoding="utf-8"))
# every jq invocation (its literal arguments) in the kube-bench and bundled audits
AUDIT_JQ_ARGS: list[list[str]] = _DATA["programs"]


def native(inp: bytes, args: list[str]) -> tuple[bytes, int] | None:
    """(stdout+stderr, status) of the native jq; None when it declines (Unsupported)."""
    sh = Shell(EmptyHost(), {}, "/bin/sh", commands=UTILITIES)
    o = Out()
    try:
        st_ = run_jq(sh.ctx("jq", Stream(inp), o, o), list(args))
    except Unsupported:
        return None
    return bytes(o.buf), st_


def real(inp: bytes, args: list[str]) -> tuple[bytes, int]:
    assert JQ is not None
    p = subprocess.run(["jq", *args], executable=JQ, input=inp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       check=False)
    return p.stdout, p.returncode


def same(inp: bytes | str, args: list[str], allow_unsupported: bool = False) -> None:
    data = inp.encode() if isinstance(inp, str) else inp
    n = native(data, args)
    if n is None and allow_unsupported:
        return
    assert n is not None, f"native jq declined {args!r}"
    assert n == real(data, args), (args, inp)


ITEM, ITEM2, CONFIG = _DATA["item"], _DATA["item2"], _DATA["config"]
SAMPLES: list[str] = [
    "",
    "\n",
    "null\n",
    "{}\n",
    "[]\n",
    '"text"\n',
    "42\n",
    json.dumps({"items": []}, indent=4) + "\n",
    json.dumps({"items": [ITEM, ITEM2]}, indent=4) + "\n",
    json.dumps({"items": [ITEM2, {"metadata": {"name": "kube-public"}}, {"items": "x"}]}) + "\n",
    json.dumps(CONFIG, indent=2) + "\n",
    json.dumps(CONFIG) + "\n" + json.dumps({"items": [ITEM]}) + "\n",
    json.dumps(ITEM) + "\n" + json.dumps(ITEM2) + "\n" + "[1, {\"a\": 2}]\n",
    json.dumps({"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}) + "\n"
    + json.dumps({"items": [{"metadata": {"namespace": "a"}}, {"metadata": {"namespace": "a"}}]}) + "\n",
    json.dumps({"items": [], "__err": "SVC_FORBIDDEN"}) + "\n" + json.dumps({"items": [ITEM]}) + "\n"
    + json.dumps({"items": [{"metadata": {"namespace": "ns1", "name": "mc1"}}]}) + "\n",
    json.dumps({"items": [ITEM]}) + "\n" + json.dumps({"items": [ITEM]}) + "\n" + json.dumps({"items": []}) + "\n",
]


@needs_jq
@pytest.mark.parametrize("args", AUDIT_JQ_ARGS, ids=lambda a: " ".join(a)[:60])
def test_audit_programs(args: list[str]) -> None:
    for s in SAMPLES:
        same(s, args)


CASES: list[tuple[str, list[str]]] = [
    ("0.1 1.1 100000000000000000 1e17 1e-5 0.0001 0.00001 123456789012345678901 1e1000 -1e1000 3.0 1.5e300", ["."]),
    ("12345.678e10 1e16 1e15 123456789012345678 0.1e-3 -0 -0.0 5e-324 2.5e-7 1e308 0.3", ["-c", "."]),
    ('"a\\u0001\\u007f\\u00e9\\ud83d\\ude00/\\b\\f\\n\\r\\t\\"\\\\ \\u001f"', ["."]),
    ('{"a":1,"b":[1,2,{}],"c":{"d":null,"e":[]},"a":3}', ["."]),
    ('{"a":1,"b":[1,2,{}],"c":{"d":null,"e":[]}}', ["-c", "."]),
    ("null", [".[]"]),
    ("1\n2\n\n[3]\n null", [".[]"]),
    ("1 [2]", [".[]"]),
    ('{"a":1}', [".a.b"]),
    ("[1]", [".a"]),
    ('"x"', [".[0]"]),
    ("{}", [".[0]"]),
    ('"abcdefghijklmnopqrstuvwxyz"', [".[]"]),
    ("null", ["-c", '[1,null,"a",true,2.5]|join(",")']),
    ("null", ["-c", '"a\\(1,2)b\\(3,4)"']),
    ("null", ["-c", "(1,2) + (10,20)"]),
    ("null", ["-c", "{a:(1,2),b:(3,4)}"]),
    ("null", ["-c", '[1,2] | .[]? | error("x")']),
    ("null", ["-c", "true|length"]),
    ("null", ["-c", "1|keys"]),
    ("null", ["-c", 'error({"a":1})']),
    ("null", ["-c", '"x"+1']),
    ("null", ["-c", "{} | has(1)"]),
    ("null", ['1|test("a")']),
    ("1 2", ["-e", "."]),
    ("null", ["-e", "."]),
    ("", ["-e", "."]),
    ("false", ["-e", "empty"]),
    ("false", ["-re", '"x", false']),
    ('"s"', ["-e", "-r", "."]),
    ("{}", ['-r.data["config.yaml"]']),
    ("{}", ["-rr", "."]),
    ("{}", ["-x", "."]),
    ('{"a":1}', ["-r"]),
    ('{"a":1}', []),
    ("[1,[2]]", ["-c", ".[]?|.[]"]),
    ('{"a":[1,2]}', ["-c", 'try (.a[] | error("x")) catch .']),
    ('{"a":"b"}', ["-c", ".a?|.[0]?, 5"]),
    ('{"a":[1,"x",3]}', [".a[]? | .+1"]),
    ("null", ["-c", '(1,2)? | error("x")']),
    ("null", ["-c", '[(1,2)? | if . == 1 then error("x") else . end]']),
    ("null", ["-c", '[.a? | error("x")]']),
    ("null", ["-c", '[(try (1,2) catch "c") | if . == 1 then error("x") else . end]']),
    ("null", ["-c", '(error("x") // 1)']),
    ("null", ["-c", '[(1,2) // 3 | if .==1 then error("x") else . end]']),
    ("null", ["-c", '[(null,2) // 3 | if .==2 then error("x") else . end]']),
    ("null", ["-c", '[((1,error("y"),2)) // 3]']),
    ("null", ["-c", "[(false, null) // 3]"]),
    ("null", ["-c", "[1,2] as $x | [$x[] | (.,10)?]"]),
    ("null", ["-c", '[(1,2) | try (if .==1 then error("a") else . end) catch "c"]']),
    ("null", ["-c", "def f(g): [g, g]; f(1,2)"]),
    ("null", ["-c", "def f($a; $b): [$a,$b,a]; f(1,2;3,4)"]),
    ("null", ["-c", "def f: def g: 3; g * 2; f, (def h(x): x + 1; h(10))"]),
    ("null", ["-c", "def fac: if . <= 1 then 1 else . * (. - 1 | fac) end; 10 | fac"]),
    ("null", ["-c", "[.[]?]"]),
    ("null", ["-c", "{(1,2|tostring): (3,4)}"]),
    ("null", ["-c", "[(1,2) as $x | ($x, 10)]"]),
    ('"s"', ["-c", '.a // "d"']),
    ('"s"', ["-c", '(.a)? // "d"']),
    ("null", ["-c", "[.[]?, 1] | length"]),
    ("null", ["-c", "{} | .a.b.c"]),
    ("null", ["-c", '"\\(1,2) \\("a")"']),
    ("null", ["-c", "[1,[2]] | map(.[0]?)"]),
    ("null", ["-c", 'try error({"a":1}) catch .a']),
    ("null", ["-c", "[1,2,3] | any(. > 2), all(. > 2), any, all"]),
    ("null", ["-c", "[] | all, any"]),
    ("null", ["-c", '{"a":1} | contains({}), ("foobar" | contains("bar")), ([1,[2,3]] | contains([[2]]))']),
    ("null", ["-c", "true | contains(false)"]),
    ("null", ["-c", '{"b":1,"a":2} | keys, to_entries, keys_unsorted, length']),
    ("null", ["-c", "[3,1,2,null,\"a\",[1],{},false,true] | sort, min, max, reverse, unique"]),
    ("null", ["-c", "[3,1,2] | add"]),
    ("null", ["-c", '"a" * 0, "ab" * 2.5, ({"a":{"b":1}} * {"a":{"c":2}})']),
    ("null", ["-c", "[1,2,3] - [2], 7 % 3, -7 % 3, 1 / 4, 10 - 3"]),
    ("null", ["-c", '[{"a":"x"},{"a":"y"},{"a":"x"}] | group_by(.a), sort_by(.a), unique_by(.a)']),
    ("null", ["-c", '[{"key":"a","value":2},{"name":"b","v":3},{"k":"c","value":null}] | from_entries']),
    ("null", ["-c", '[{"key":1,"value":2}] | from_entries']),
    ("null", ["-c", '{"a":1} | with_entries({key: (.key + "x"), value: [.value]})']),
    ("null", ["-c", '[{"key":"a","value":2},{"name":"b","v":3}], [{"k":"c","value":null}], [{"key":false}] '
                    "| from_entries"]),
    ("null", ["-c", '"a" * 0.5, "ab" * 1.5, "ab" * 3']),
    ("null", ["-c", "[1,2,3] | contains([1]), ([[1]] | contains([1]))"]),
    ("[1]", ["-c", ".", "--"]),
    ("null", ["-c", '"a,,b," | split(","), ("" | split(","))']),
    ("null", ["-c", 'null | index("a"), ([] | index("a")), (["x","ALL"] | index("ALL")), ("xALLx" | index("ALL"))']),
    ("null", ["-c", '"  a b  ", "a", "   ", "", " x" | gsub("^\\\\s+|\\\\s+$";"")']),
    ("null", ["-c", '"abc" | test("b"), test("^b"), sub("b";"X"), ascii_upcase, ltrimstr("a"), rtrimstr("c")']),
    ("null", ["-c", '"abc" | startswith("a"), endswith("bc"), (. as $x | $x + $x), length, tojson']),
    ("null", ["-c", '1, "1", [1], {"a":[1]} | tostring']),
    ("null", ["-c", '"12", 3, " 4.5 " | tonumber']),
    ("null", ["-c", "[range(3)], [range(0)], (null | type), (1 | type)"]),
    ("null", ["-c", "[1,2] | first, last, (. | first(.[]))"]),
    ("null", ["-c", "reduce (1,2,3) as $x (0; . + $x)"]),
    ("null", ["-c", "if true then 1 elif false then 2 else 3 end, if null then 1 elif 1 then 2 else 3 end"]),
    ("null", ["-c", "[1,[2,[3]]] | [..]"]),
    ("null", ["-c", "(1,null,2) | values"]),
    ("null", ["-c", "[1,2] | .[1], .[-1], .[5], .[1.7]"]),
    ("null", ["-c", '{"a":[{"b":1},{"b":2}]} | [.a[].b], .a[0]["b"], ."a"[1]']),
    ("null", ["-c", "1 == 1.0, true == 1, null < false, false < true, true < 0, 0 < \"\", \"\" < [], [] < {}"]),
    ("null", ["-c", '{"a":1,"b":2} == {"b":2,"a":1}, ({"a":2} < {"b":1}), ([1,2] < [1,3])']),
    ("null", ["-c", "not, (1 | not), (false | not)"]),
    ("null", ["-c", "(1 > 2 or 2 > 1) and (true, false)"]),
    ("null", ["-c", "(true, false) and (true, false)"]),
    ("null", ["-c", "(true, false) or (true, false)"]),
    ("null", ["-c", "-(1,2), -(.a // 3)"]),
    ("null", ["-c", '-"a"']),
    ("null", ["-c", "{a:1} | .a as $v | {$v, b: .a, \"c\": 3, (\"d\" + \"e\"): 4, if: 5}"]),
    ("null", ["-c", '{"a":{"b":2}} | {a: .a | .b}']),
    ("null", ["--arg", "x", "val", "-c", "$x, {$x}"]),
    ("[1,2]", ["-n", "-c", "."]),
    ("[1,2] [3]", ["-s", "-c", "."]),
    ("", ["-s", "-c", "."]),
    ("[1,2] 3", ["-s", "-c", ".[] | .[]"]),
    ("[1,2] 3", ["-j", "-c", ".[]?"]),
    ("1 2", ["-c", ". as $x | [$x, .] | error"]),
    ("{\"a\":[]}", ["-e", ".a[]"]),
    ('"x"', ["-r", '"a\\tb", [1]']),
    ('"\\u0000a\\u0000"', ["-r", "."]),
    ("[" * 10 + "]" * 10, ["-c", "."]),
    ("# nothing\n", ["-c", "."]),
]


@needs_jq
@pytest.mark.parametrize(("inp", "args"), CASES, ids=lambda x: str(x)[:40])
def test_cases(inp: str, args: list[str]) -> None:
    same(inp, args, allow_unsupported=inp.startswith("#"))


def test_format_number() -> None:
    assert format_number(1e1000) == "1.7976931348623157e+308"
    assert format_number(3.0) == "3"
    assert format_number(1e17) == "1e+17"
    assert format_number(1e-5) == "1e-05"
    assert format_number(float("nan")) == "null"


def test_declines_outside_subset() -> None:
    for args in (["1 / 0"], ["--tab", "."], [".a |= 1"], ["@base64"], ["foreach .[] as $x (0; 1)"], ["label $f | 1"],
                 [".", "file.json"], ["-C", "."], ["input"], ["$__loc__"], ["nosuchfunction"]):
        assert native(b"{}", args) is None, args
    assert native(b"NaN", ["."]) is None
    assert native(b"01", ["."]) is None
    assert native(b'"\\ud800"', ["."]) is None
    assert native(b"\xff", ["."]) is None


_json = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.integers()
    | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["items", "metadata", "name", "spec", "rules", "subjects", "kind", "a", "data",
                         "apiServerArguments", "config.yaml", "roleRef", "type"]), kids, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_json, max_size=3), st.sampled_from(AUDIT_JQ_ARGS))
def test_never_raises(values: list[object], args: list[str]) -> None:
    data = "\n".join(json.dumps(v) for v in values).encode()
    r = native(data, args)
    assert r is None or isinstance(r[0], bytes)


@needs_jq
@settings(max_examples=150, deadline=None)
@given(st.lists(_json, max_size=3), st.sampled_from(AUDIT_JQ_ARGS), st.booleans())
def test_differential_random(values: list[object], args: list[str], pretty: bool) -> None:
    data = "\n".join(json.dumps(v, indent=2 if pretty else None) for v in values).encode() + b"\n"
    n = native(data, args)
    if n is not None:
        assert n == real(data, args)
