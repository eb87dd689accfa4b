"""RE2 → Python translation: same meaning, or a clean RegexpError (kube-bench-compat.md#compare-operators, regex)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubecis.golang.regexp import RegexpError, compile_go


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("a$", "a\n", False),  # RE2 $ is end of text; Python's would match before the newline
        ("(?m)a$", "a\nb", True),
        (r"a\z", "a", True),
        (r"^\d+$", "١٢", False),  # \d is ASCII in RE2
        (r"\s", "\v", False),  # RE2 \s excludes \v
        (r"\w+", "é", False),
        ("[[:alpha:]]+$", "abc", True),
        (r"\Qa.b\E", "axb", False),
        (r"\Qa.b\E", "a.b", True),
        (r"\x{41}", "A", True),
        (r"\101", "A", True),
        ("a(?i)b", "aB", True),
        ("a(?i)b", "AB", False),
        ("(?i:A)b", "ab", True),
        ("a(?i)b|c", "C", True),  # (?i) lasts to the end of the group, across |
        ("a(?i)b|c", "x", False),  # ...without swallowing the alternation
        ("(x(?i)b|c)d", "Cd", True),
        ("(?<n>x)", "x", True),
        (r"\/etc\/kubernetes", "/etc/kubernetes", True),
        ("a{2}", "aa", True),
        ("{x}", "{x}", True),
        ("[a-c]]", "b]", True),
    ],
)
def test_translation_semantics(pattern: str, text: str, matches: bool) -> None:
    assert (compile_go(pattern).search(text) is not None) is matches


@pytest.mark.parametrize(
    "pattern",
    ["(", "a)", "[a", r"\1", "(?=a)", "(?!a)", "(?<=a)b", "a**", "a*+", "a{1001}", r"\Z", r"\pL", "(?U)a", "\\"],
)
def test_rejected_like_go(pattern: str) -> None:
    with pytest.raises(RegexpError):
        compile_go(pattern)


def test_every_shipped_regex_compiles(compat: Path) -> None:
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    found = 0
    for file in sorted((compat / "cfg").rglob("*.yaml")):
        text = file.read_text()
        if "regex" not in text:
            continue
        stack = [yaml.load(text, Loader=loader)]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("op") == "regex":
                    compile_go(node.get("value", ""))
                    found += 1
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    assert found >= 8
