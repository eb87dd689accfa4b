"""Pure profile model: parse, validate shape, merge, serialise, atomic write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import Profile, Rule, allow_profile, load, loads, merge, parse, write_atomic


def test_allow_profile_has_documented_shape() -> None:
    p = allow_profile(["write", "read", "exit_group", "read"], ["SCMP_ARCH_X86_64"])
    assert p.to_dict() == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["exit_group", "read", "write"], "action": "SCMP_ACT_ALLOW"}],
    }
    assert p.allows("read") and not p.allows("mkdir")
    assert p.action_for("mkdir") == "SCMP_ACT_ERRNO"


def test_merge_is_union() -> None:
    a = allow_profile(["read", "write"], ["SCMP_ARCH_X86_64"])
    b = allow_profile(["write", "socket"], ["SCMP_ARCH_X86"])
    m = merge(a, b)
    assert m.allowed_names() == {"read", "write", "socket"}
    assert m.architectures == ("SCMP_ARCH_X86", "SCMP_ARCH_X86_64")
    assert len(m.rules) == 1


def test_merge_refuses_different_defaults() -> None:
    a = allow_profile(["read"], [])
    b = Profile("SCMP_ACT_KILL_PROCESS", None, (), (Rule("SCMP_ACT_ALLOW", frozenset({"read"})),))
    with pytest.raises(SeccompError, match="different default actions"):
        merge(a, b)


def test_conflicting_actions_rejected() -> None:
    data = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["read"], "action": "SCMP_ACT_KILL"},
        ],
    }
    with pytest.raises(SeccompError, match="conflicting actions"):
        parse(data, source="x.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "x.json: not valid JSON: line 1 column 2"),
        ("[]", "x.json: a seccomp profile must be a JSON object"),
        ("{}", "missing required field 'defaultAction'"),
        ('{"defaultAction": "SCMP_ACT_NOPE"}', "unknown action 'SCMP_ACT_NOPE'"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "bogus": 1}', "unknown field 'bogus'"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "x"}', "must be an integer errno"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["x86_64"]}', "unknown architecture 'x86_64'"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}', "syscalls must be a list"),
        (
            '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}',
            "syscalls[0]: missing required field 'action'",
        ),
        (
            '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}',
            "names must not be empty",
        ),
        (
            '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [1], "action": "SCMP_ACT_ALLOW"}]}',
            "names: must be a list of non-empty strings",
        ),
        (
            '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["personality"], '
            '"action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}',
            "conditional rules (args) are not supported",
        ),
    ],
)
def test_malformed_profiles_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(SeccompError) as ei:
        loads(text, source="x.json")
    assert message in str(ei.value)
    assert "\n" not in str(ei.value)
    assert str(ei.value).startswith("x.json")


def test_docker_archmap_and_spo_string_errno_accepted() -> None:
    p = parse(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
            "syscalls": [
                {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": "38"},
                {"name": "read", "action": "SCMP_ACT_ALLOW"},
            ],
        },
        source="d.json",
    )
    assert p.architectures == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86")
    assert p.rules[0] == Rule("SCMP_ACT_ALLOW", frozenset({"read"}))
    assert p.rules[1] == Rule("SCMP_ACT_ERRNO", frozenset({"ptrace"}), 38)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(SeccompError, match="no such profile file"):
        load(tmp_path / "missing.json")
    with pytest.raises(SeccompError, match="is a directory"):
        load(tmp_path)
    bad = tmp_path / "bin.json"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SeccompError, match="not valid JSON"):
        load(bad)


def test_unreadable_profile(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(allow_profile(["read"], []).to_json())
    f.chmod(0)
    if os.access(f, os.R_OK):  # root with CAP_DAC_OVERRIDE reads anything
        pytest.skip(
            "running with CAP_DAC_OVERRIDE: cannot make a file unreadable here (test_cli covers it as user nobody)"
        )
    with pytest.raises(SeccompError, match="permission denied"):
        load(f)


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert sorted(os.listdir(tmp_path)) == ["out.json"]
    with pytest.raises(SeccompError, match="cannot write"):
        write_atomic(tmp_path / "nodir" / "x.json", "x")


names = st.frozensets(
    st.sampled_from(["read", "write", "openat", "close", "mmap", "socket", "bind", "mkdir"])
)
arches = st.frozensets(st.sampled_from(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"]))


@given(names, names, names, arches, arches)
def test_merge_properties(
    a: frozenset[str], b: frozenset[str], c: frozenset[str], xa: frozenset[str], xb: frozenset[str]
) -> None:
    pa, pb, pc = allow_profile(a, xa), allow_profile(b, xb), allow_profile(c, [])
    assert merge(pa, pb) == merge(pb, pa)
    assert merge(merge(pa, pb), pc) == merge(pa, merge(pb, pc))
    assert merge(pa, pb).allowed_names() == a | b
    assert merge(pa, pa) == pa


@given(names, arches)
def test_json_round_trip(a: frozenset[str], xa: frozenset[str]) -> None:
    p = allow_profile(a, xa)
    assert loads(p.to_json(), source="rt") == p
    assert json.loads(p.to_json())["syscalls"][0]["names"] == sorted(a) if a else True
