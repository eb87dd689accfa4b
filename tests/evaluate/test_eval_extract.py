"""Flag, env and path extraction (kube-bench-compat.md#flag-mode, #path-mode, #env-mode)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecis.evaluate.extract import Extraction, find_env, find_flag, find_path


@pytest.mark.parametrize(
    ("text", "flag", "found", "value"),
    [
        ("kube-apiserver --flag=v --other", "--flag", True, "v"),
        ("flag: v", "flag", True, "v"),
        ("flag:v", "flag", True, "v"),
        ("flag:   v", "flag", True, "v"),
        ("--flag", "--flag", True, "true"),
        ("--flag v", "--flag", True, "true"),  # space-separated value is not read (upstream #2095)
        ("--abc --peer-client-cert-auth --efg", "--peer-client-cert-auth", True, "true"),
        ('--flag="a,b"', "--flag", True, '"a,b"'),
        ("--flag=1 --flag=2", "--flag", True, "1"),  # first occurrence only
        ("permissions=600", "permissions", True, "600"),
        ("permissions", "permissions", True, "permissions"),  # non-`--` flag without value: the flag
        ("--feature-gates=RotateKubeletServerCertificate=true", "RotateKubeletServerCertificate", True, "true"),
        ("--flag==v", "--flag", True, "v"),
        ("", "--flag", False, ""),
        ("--other", "", False, ""),
        ("--other=1", "--flag", False, ""),
    ],
)
def test_find_flag(text: str, flag: str, found: bool, value: str) -> None:
    assert find_flag(text, flag) == Extraction(found=found, value=value)


def test_flag_is_a_regex_inserted_unescaped() -> None:
    # "a.c" as a substring is required, but the regex's "." matches anything afterwards.
    assert find_flag("abc=1 a.c=2", "a.c") == Extraction(found=True, value="1")
    # Present as a substring but the regex cannot match it: kube-bench's findValue error.
    got = find_flag("x $proxykubeconfig y", "$proxykubeconfig")
    assert (got.found, got.error) == (False, "invalid flag in testItem definition: x $proxykubeconfig y")


def test_uncompilable_flag_is_fatal_not_an_exception() -> None:
    got = find_flag("c++ --x", "c++")
    assert got.found is False
    assert got.fatal


@pytest.mark.parametrize(
    ("text", "env", "found", "value"),
    [
        ("ETCD_CERT_FILE=/a.crt\nOTHER=1", "ETCD_CERT_FILE", True, "/a.crt"),
        ("A=1\nB=two words\n", "B", True, "two words"),
        ("ETCD_AUTO_TLS=false", "AUTO_TLS", True, "false"),  # matches inside a longer name
        ("B=", "B", False, ""),  # empty value counts as not present
        ("B=\nC=3", "B", False, ""),
        ("", "B", False, ""),
        ("B=1", "", False, ""),
        ("X=1", "B", False, ""),
    ],
)
def test_find_env(text: str, env: str, found: bool, value: str) -> None:
    assert find_env(text, env) == Extraction(found=found, value=value)


def test_find_path_modes() -> None:
    assert find_path('{"readOnlyPort": 15000}', "{.readOnlyPort}") == Extraction(True, "15000")
    assert find_path("readOnlyPort: 15000", "{.missing}") == Extraction(False, "")
    bad_yaml = find_path("broken } yaml\nenabled: true", "{.enabled}")
    assert not bad_yaml.found
    assert bad_yaml.error.startswith('failed to load YAML or JSON from input "broken } yaml')
    bad_path = find_path('{"key": "value"}', "{.missingClosingBrace")
    assert bad_path == Extraction(
        False, error='unable to parse path expression "{.missingClosingBrace": unclosed action'
    )


@given(st.text(), st.text(min_size=1, max_size=20))
def test_extraction_never_raises(text: str, name: str) -> None:
    for finder in (find_flag, find_env, find_path):
        result = finder(text, name)
        assert isinstance(result, Extraction)
        assert result.found == (result.found and not result.error and not result.fatal)


@given(st.text(alphabet=st.sampled_from("{}[]().*@$'\",:?=<>!-_ab01\\ \n"), max_size=30), st.text(max_size=40))
def test_path_extraction_never_raises_on_odd_templates(path: str, text: str) -> None:
    assert isinstance(find_path(text or "{}", path), Extraction)
