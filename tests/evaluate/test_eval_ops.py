"""Compare operators: kube-bench's pass/fail rules and exact expectation strings.

See kube-bench-compat.md#compare-operators.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecis.evaluate.ops import OPS, compare, go_atoi, go_parse_octal, go_trim_space, split_elements
from kubecis.golang.regexp import RegexpError

CASES = [
    # op, v, c, passed, expectation
    ("eq", "", "", True, "'N' is equal to ''"),
    ("eq", "true", "true", True, "'N' is equal to 'true'"),
    ("eq", "TRUE", "true", True, "'N' is equal to 'true'"),
    ("eq", "true", "True", False, "'N' is equal to 'True'"),  # only the value is lower-cased
    ("eq", "False", "false", True, "'N' is equal to 'false'"),
    ("eq", "false", "true", False, "'N' is equal to 'true'"),
    ("eq", "Webhook", "webhook", False, "'N' is equal to 'webhook'"),  # non-booleans are case-sensitive
    ("eq", "", "KubeletConfiguration", False, "'N' is equal to 'KubeletConfiguration'"),
    ("noteq", "", "", False, "'N' is not equal to ''"),
    ("noteq", "TRUE", "true", False, "'N' is not equal to 'true'"),
    ("noteq", "false", "true", True, "'N' is not equal to 'true'"),
    ("noteq", "a", "", True, "'N' is not equal to ''"),
    ("gt", "", "", False, "Invalid Number(s) used for comparison: '' ''"),
    ("gt", "0", "0", False, "'N' is greater than 0"),
    ("gt", "5", "0", True, "'N' is greater than 0"),
    ("gt", " 5\n", " 4 ", True, "'N' is greater than  4 "),  # both sides trimmed for parsing only
    ("gt", "+5", "4", True, "'N' is greater than 4"),
    ("gt", "5m", "4", False, "Invalid Number(s) used for comparison: '5m' '4'"),
    ("gt", "1_000", "4", False, "Invalid Number(s) used for comparison: '1_000' '4'"),
    ("gt", "0x10", "4", False, "Invalid Number(s) used for comparison: '0x10' '4'"),
    ("gt", "1.5", "1", False, "Invalid Number(s) used for comparison: '1.5' '1'"),
    ("gt", "9223372036854775808", "1", False, "Invalid Number(s) used for comparison: '9223372036854775808' '1'"),
    ("gte", "30", "30", True, "'N' is greater or equal to 30"),
    ("gte", "29", "30", False, "'N' is greater or equal to 30"),
    ("gte", "-1", "-2", True, "'N' is greater or equal to -2"),
    ("lt", "20", "30", True, "'N' is lower than 30"),
    ("lt", "30", "30", False, "'N' is lower than 30"),
    ("lte", "15000", "15000", True, "'N' is lower or equal to 15000"),
    ("lte", "abc", "1", False, "Invalid Number(s) used for comparison: 'abc' '1'"),
    ("has", "WebHook,RBAC", "RBAC", True, "'N' has 'RBAC'"),
    ("has", "WebHook,RBAC", "rbac", False, "'N' has 'rbac'"),
    ("has", "x", "", True, "'N' has ''"),
    ("nothave", "WebHook,RBAC", "AlwaysAdmit", True, "'N' does not have 'AlwaysAdmit'"),
    ("nothave", "AlwaysAdmit", "AlwaysAdmit", False, "'N' does not have 'AlwaysAdmit'"),
    ("nothave", "x", "", False, "'N' does not have ''"),
    ("regex", "1.12.7", r"^1\.12.*$", True, "'N' matched by regex expression '^1\\.12.*$'"),
    ("regex", "1.11", r"^1\.12.*$", False, "'N' matched by regex expression '^1\\.12.*$'"),
    ("regex", "x 6443\n", r"\s*(?:6443\s*){1,}$", True, "'N' matched by regex expression '\\s*(?:6443\\s*){1,}$'"),
    ("valid_elements", "A,B,", "A,B,C", True, "'N' contains valid elements from 'A,B,C'"),
    ("valid_elements", " A , B ,", "A,B", True, "'N' contains valid elements from 'A,B'"),
    ("valid_elements", "A,D", "A,B,C", False, "'N' contains valid elements from 'A,B,C'"),
    ("valid_elements", "", "", True, "'N' contains valid elements from ''"),
    ("valid_elements", ",", ", ", True, "'N' contains valid elements from ', '"),
    ("valid_elements", "A", "", False, "'N' contains valid elements from ''"),
    ("valid_elements", "", "A", False, "'N' contains valid elements from 'A'"),
    ("bitmask", "600", "644", True, "N has permissions 600, expected 644 or more restrictive"),
    ("bitmask", "644", "600", False, "N has permissions 644, expected 600 or more restrictive"),
    ("bitmask", "640", "644", True, "N has permissions 640, expected 644 or more restrictive"),
    ("bitmask", "777", "644", False, "N has permissions 777, expected 644 or more restrictive"),
    ("bitmask", "0644", "644", True, "N has permissions 0644, expected 644 or more restrictive"),
    ("bitmask", "0", "600", True, "N has permissions 0, expected 600 or more restrictive"),
    ("bitmask", "abc", "644", False, "Not numeric value - flag: abc"),
    ("bitmask", "", "644", False, "Not numeric value - flag: "),
    ("bitmask", "688", "644", False, "Not numeric value - flag: 688"),
    ("bitmask", "0o644", "644", False, "Not numeric value - flag: 0o644"),
    ("bitmask", "644", "xyz", False, "Not numeric value - flag: xyz"),
    ("bitmask", " 644", "644", False, "Not numeric value - flag:  644"),  # no trimming for bitmask
    ("blah", "foo", "bar", False, ""),
    ("", "", "", False, ""),
    ("noteqx", "a", "b", False, ""),
]


@pytest.mark.parametrize(("op", "v", "c", "passed", "expected"), CASES)
def test_compare_table(op: str, v: str, c: str, passed: bool, expected: str) -> None:
    assert compare(op, v, c, "N") == (passed, expected)


def test_all_eleven_ops_are_registered() -> None:
    assert sorted(OPS) == sorted(
        ["eq", "noteq", "gt", "gte", "lt", "lte", "has", "nothave", "regex", "valid_elements", "bitmask"]
    )


def test_invalid_regex_raises_regex_error_not_re_error() -> None:
    with pytest.raises(RegexpError):
        compare("regex", "abc", "(unclosed", "N")


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("-7", -7), ("+7", 7), ("007", 7), ("", None), ("4 2", None), ("٣", None), ("1e3", None)],
)
def test_go_atoi(text: str, value: int | None) -> None:
    assert go_atoi(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("644", 420), ("0644", 420), ("-1", -1), ("+7", 7), ("8", None), ("0o7", None), ("1_0", None), ("", None)],
)
def test_go_parse_octal(text: str, value: int | None) -> None:
    assert go_parse_octal(text) == value


def test_go_trim_space_differs_from_str_strip() -> None:
    # Python treats \x1c-\x1f as whitespace; Go's unicode.IsSpace does not.
    assert go_trim_space("\x1c5\xa0\n") == "\x1c5"


def test_split_elements_upstream_counts() -> None:
    assert len(split_elements("A,B,")) == 2
    assert len(split_elements("A, B,")) == 2
    assert len(split_elements("A,B, ")) == 2
    assert len(split_elements(" A,B,")) == 2
    assert split_elements(" ,,") == []


octal = st.integers(min_value=0, max_value=0o7777)


@given(octal, octal)
def test_bitmask_is_subset(v: int, c: int) -> None:
    passed, _ = compare("bitmask", f"{v:o}", f"{c:o}", "f")
    assert passed == (v & ~c == 0)


ints = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)


@given(ints, ints)
def test_gte_and_lt_are_complementary(a: int, b: int) -> None:
    assert compare("gte", str(a), str(b), "n")[0] != compare("lt", str(a), str(b), "n")[0]
    assert compare("gt", str(a), str(b), "n")[0] != compare("lte", str(a), str(b), "n")[0]


@given(st.text(), st.text(min_size=1))
def test_has_and_nothave_are_complementary(v: str, c: str) -> None:
    assert compare("has", v, c, "n")[0] != compare("nothave", v, c, "n")[0]


@given(st.text(), st.text())
def test_eq_and_noteq_are_complementary(v: str, c: str) -> None:
    assert compare("eq", v, c, "n")[0] != compare("noteq", v, c, "n")[0]


@given(st.text(), st.text())
def test_numeric_ops_never_raise(v: str, c: str) -> None:
    for op in ("gt", "gte", "lt", "lte", "bitmask", "valid_elements"):
        passed, expected = compare(op, v, c, "n")
        assert isinstance(passed, bool)
        assert isinstance(expected, str)
