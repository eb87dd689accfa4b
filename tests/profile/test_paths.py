"""The path-rule language and the generalisation from observed paths (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecis.profile.errors import ProfileError
from kubecis.profile.paths import (
    DIR,
    FILE,
    GENERALISATION,
    NAMES,
    NAMES_TREE,
    TREE,
    Observed,
    generalise,
    normalise_proc,
    parse_rule,
    simplify,
    temp_prefix,
)


@pytest.mark.parametrize(
    ("text", "kind", "base", "prefix"),
    [
        ("/srv/app/products.db", FILE, "/srv/app/products.db", ""),
        ("/srv/app/", DIR, "/srv/app", ""),
        ("/usr/**", TREE, "/usr", ""),
        ("/tmp/tmp*", NAMES, "/tmp", "tmp"),
        ("/tmp/*", NAMES, "/tmp", ""),
        ("/tmp/tmp*/**", NAMES_TREE, "/tmp", "tmp"),
        ("/**", TREE, "/", ""),
        ("/", FILE, "/", ""),
        ("/srv/with space/a b", FILE, "/srv/with space/a b", ""),
    ],
)
def test_rule_forms(text: str, kind: str, base: str, prefix: str) -> None:
    r = parse_rule(text, where="t")
    assert (r.kind, r.base, r.prefix, r.text) == (kind, base, prefix, text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("srv/x", "not an absolute path"),
        ("/srv//x", "not normalised"),
        ("/srv/./x", "not normalised"),
        ("/srv/../etc/shadow", "not normalised"),
        ("/a/*/b", "'*' may only end"),
        ("/a/b*c", "'*' may only end"),
        ("/a/**/b", "'*' may only end"),
        ("/a/b*/", "cannot name a directory listing"),
        ("/a/new\nline", "control character"),
        ("/a/nul\x00", "control character"),
        ("/a/\x7f", "control character"),
        ("/" + "a" * 5000, "longer than"),
        ("", "non-empty string"),
    ],
)
def test_unrepresentable_rules_are_one_clear_error(text: str, why: str) -> None:
    with pytest.raises(ProfileError) as ei:
        parse_rule(text, where="p.yaml: files.read[0]")
    msg = str(ei.value)
    assert msg.startswith("p.yaml: files.read[0]: ")
    assert why in msg
    assert "\n" not in msg


def test_non_string_rule() -> None:
    with pytest.raises(ProfileError, match="must be a non-empty string"):
        parse_rule(42, where="x")


@pytest.mark.parametrize(
    ("rule", "yes", "no"),
    [
        ("/srv/db", ["/srv/db"], ["/srv/db2", "/srv/db/x", "/srv"]),
        ("/srv/", ["/srv"], ["/srv/db"]),
        ("/usr/**", ["/usr", "/usr/lib/x.so", "/usr/bin/python3"], ["/usrx", "/us", "/"]),
        ("/tmp/tmp*", ["/tmp/tmp", "/tmp/tmpab12cd"], ["/tmp/x", "/tmp/tmpa/b", "/tmp"]),
        ("/tmp/tmp*/**", ["/tmp/tmpab", "/tmp/tmpab/c/d"], ["/tmp/x/tmpab", "/tmp"]),
        ("/**", ["/", "/etc/passwd"], []),
    ],
)
def test_covers(rule: str, yes: list[str], no: list[str]) -> None:
    r = parse_rule(rule, where="t")
    assert all(r.covers(p) for p in yes), [p for p in yes if not r.covers(p)]
    assert not any(r.covers(p) for p in no), [p for p in no if r.covers(p)]


def test_simplify_drops_covered_rules() -> None:
    rules = [parse_rule(t, where="t") for t in
             ["/usr/lib/x.so", "/usr/**", "/tmp/tmpab12", "/tmp/tmp*", "/tmp/tmp*/**", "/srv/a", "/srv/"]]
    assert [r.text for r in simplify(rules)] == ["/srv/", "/srv/a", "/tmp/tmp*/**", "/usr/**"]


_seg = st.text(alphabet="abcxyz01_.", min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))
_path = st.lists(_seg, min_size=1, max_size=4).map(lambda xs: "/" + "/".join(xs))


@given(st.lists(_path, max_size=8), _path)
def test_simplify_keeps_coverage(paths: list[str], probe: str) -> None:
    forms = [p for x in paths for p in (x, x + "/**", x + "*")]
    rules = [parse_rule(t, where="t") for t in forms]
    simple = simplify(rules)
    assert any(r.covers(probe) for r in rules) == any(r.covers(probe) for r in simple)


def test_normalise_proc() -> None:
    assert normalise_proc("/proc/123/status", [123]) == "/proc/self/status"
    assert normalise_proc("/proc/123/status", [7]) == "/proc/123/status"  # another process: kept
    assert normalise_proc("/proc/thread-self/comm") == "/proc/self/comm"
    assert normalise_proc("/proc/meminfo", [1]) == "/proc/meminfo"


@pytest.mark.parametrize(
    ("name", "transient", "prefix"),
    [
        ("tmpk3j2l1x0", False, "tmp"),  # Python's tempfile
        ("tmpabcdefgh", True, "tmp"),  # no digit, but it was removed again
        ("tmpabcdefgh", False, None),
        ("app.XyZ123", False, "app."),  # mkstemp XXXXXX
        ("products.db-journal", True, "products.db-"),
        ("app.lock", True, None),  # nothing random to cut: stays exact
        ("report-2024.pdf", False, None),
    ],
)
def test_temp_prefix(name: str, transient: bool, prefix: str | None) -> None:
    assert temp_prefix(name, transient=transient) == prefix


def _obs(**kw: set[str]) -> Observed:
    base: dict[str, set[str]] = {k: set() for k in ("read", "listed", "write", "create", "remove", "execute")}
    base.update(kw)
    return Observed(**base)


def test_generalise_documented_rules() -> None:
    lib = "/opt/py/lib/python3.11"
    obs = _obs(
        read={"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6", "/etc/hosts",
              "/srv/app/products.db", "/proc/self/status", *(f"{lib}/m{i}.py" for i in range(6)),
              f"{lib}/enc/__init__.py", "/srv/app/app.py"},
        listed={lib, f"{lib}/enc", "/srv/app"},
        write={"/dev/null", "/tmp/tmpk3j2l1x0", "/proc/self/task/12/comm"},
        create={"/tmp/tmpk3j2l1x0", "/srv/app/cache", "/tmp/tmpq1w2e3r4", "/tmp/tmpq1w2e3r4/x"},  # mkdtemp
        remove={"/tmp/tmpk3j2l1x0"},
        execute={"/usr/bin/python3.11"},
    )
    g = {k: [r.text for r in v] for k, v in generalise(obs).items()}
    assert g["read"] == ["/etc/hosts", "/lib/**", f"{lib}/**", "/proc/self/**", "/srv/app/", "/srv/app/app.py",
                         "/srv/app/products.db", "/usr/**"]
    assert g["write"] == ["/dev/null", "/proc/self/**", "/tmp/tmp*"]
    assert g["create"] == ["/srv/app/cache", "/tmp/tmp*/**"]
    assert g["execute"] == ["/usr/bin/python3.11"]
    assert len(GENERALISATION) == 5


def test_generalise_below_threshold_stays_exact() -> None:
    obs = _obs(read={"/srv/app/a.py", "/srv/app/b.py"}, listed={"/srv/app"})
    assert [r.text for r in generalise(obs)["read"]] == ["/srv/app/", "/srv/app/a.py", "/srv/app/b.py"]


def test_generalise_refuses_unrepresentable_observation() -> None:
    with pytest.raises(ProfileError, match="cannot be represented as a rule: contains a control character"):
        generalise(_obs(write={"/tmp/evil\nname"}))
    with pytest.raises(ProfileError, match="contains '\\*'"):
        generalise(_obs(read={"/srv/star*file"}))
