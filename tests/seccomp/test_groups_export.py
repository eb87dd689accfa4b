"""Pure review and export helpers: grouping, diff, docker and SPO output."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from kubecis.seccomp import export, groups
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import Profile, Rule, allow_profile


def test_grouping() -> None:
    g = groups.group(["mount", "socket", "clone", "openat", "fsetxattr", "getrandom", "bind"])
    assert g == {
        "privileged": ["mount"],
        "network": ["bind", "socket"],
        "process": ["clone"],
        "file": ["fsetxattr", "openat"],
        "other": ["getrandom"],
    }


def test_show_lists_groups_and_non_allow_rules() -> None:
    p = Profile(
        "SCMP_ACT_ERRNO",
        1,
        ("SCMP_ARCH_X86_64",),
        (
            Rule("SCMP_ACT_ALLOW", frozenset({"read", "socket", "mount"})),
            Rule("SCMP_ACT_KILL_PROCESS", frozenset({"ptrace"})),
        ),
    )
    out = groups.render_show(p, source="p.json")
    assert "allowed syscalls: 3" in out
    assert "  privileged (1): mount" in out
    assert "  network (1): socket" in out
    assert "  file (1): read" in out
    assert "SCMP_ACT_KILL_PROCESS: ptrace" in out


def test_diff() -> None:
    a = allow_profile(["read", "write", "mkdir"], ["SCMP_ARCH_X86_64"])
    b = allow_profile(["read", "write", "socket"], ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
    d = groups.diff(a, b)
    assert d.only_a == {"mkdir"} and d.only_b == {"socket"}
    text = groups.render_diff(d, a="a", b="b")
    assert "- mkdir" in text and "[file]" in text
    assert "+ socket" in text and "[network]" in text
    assert "architectures: SCMP_ARCH_X86_64 -> SCMP_ARCH_X86,SCMP_ARCH_X86_64" in text
    assert groups.diff(a, a).empty
    assert "allow the same syscalls" in groups.render_diff(groups.diff(a, a), a="a", b="a")


# Field names of the security-profiles-operator CRD (api/seccompprofile/v1beta1), with enums.
_ACTIONS = {
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
}
_ARCHES = {
    "SCMP_ARCH_NATIVE",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
}
_SPEC_FIELDS = {
    "baseProfileName",
    "defaultAction",
    "architectures",
    "listenerPath",
    "listenerMetadata",
    "syscalls",
    "flags",
    "disabled",
}
_SYSCALL_FIELDS = {"names", "action", "errnoRet", "args"}


def validate_spo(obj: dict[str, Any]) -> None:
    """A field-name + type check of a SeccompProfile against the SPO v1beta1 CRD."""
    assert set(obj) <= {"apiVersion", "kind", "metadata", "spec", "status"}
    assert obj["apiVersion"] == "security-profiles-operator.x-k8s.io/v1beta1"
    assert obj["kind"] == "SeccompProfile"
    assert set(obj["metadata"]) <= {"name", "namespace", "labels", "annotations"}
    assert isinstance(obj["metadata"]["name"], str) and obj["metadata"]["name"]
    spec = obj["spec"]
    assert set(spec) <= _SPEC_FIELDS, set(spec) - _SPEC_FIELDS
    assert spec["defaultAction"] in _ACTIONS
    assert all(a in _ARCHES for a in spec.get("architectures", []))
    for sc in spec.get("syscalls", []):
        assert set(sc) <= _SYSCALL_FIELDS, set(sc) - _SYSCALL_FIELDS
        assert {"names", "action"} <= set(sc)
        assert sc["action"] in _ACTIONS
        assert sc["names"] and all(isinstance(n, str) for n in sc["names"])
        if "errnoRet" in sc:
            assert isinstance(sc["errnoRet"], str)  # the CRD types it as a string


def test_k8s_export_matches_spo_crd_and_snippet() -> None:
    p = Profile(
        "SCMP_ACT_ERRNO",
        1,
        ("SCMP_ARCH_X86_64",),
        (
            Rule("SCMP_ACT_ALLOW", frozenset({"read", "write"})),
            Rule("SCMP_ACT_ERRNO", frozenset({"ptrace"}), 38),
        ),
    )
    text = export.k8s(p, name="web", namespace="shop")
    obj = yaml.safe_load(text)
    validate_spo(obj)
    assert obj["metadata"] == {"name": "web", "namespace": "shop"}
    assert obj["spec"]["syscalls"][0] == {"action": "SCMP_ACT_ALLOW", "names": ["read", "write"]}
    assert obj["spec"]["syscalls"][1]["errnoRet"] == "38"
    assert "localhostProfile: operator/shop/web.json" in text
    assert "type: Localhost" in text
    assert "/var/lib/kubelet/seccomp/profiles/web.json" in text
    assert "localhostProfile: profiles/web.json" in text


def test_schema_check_itself_rejects_wrong_field_names() -> None:
    obj = export.spo_object(allow_profile(["read"], []), name="x", namespace="default")
    obj["spec"]["defaultErrnoRet"] = 1
    with pytest.raises(AssertionError):
        validate_spo(obj)


def test_k8s_export_refuses_what_spo_cannot_say() -> None:
    with pytest.raises(SeccompError, match="defaultErrnoRet 13"):
        export.k8s(allow_profile(["read"], [], errno_ret=13), name="x", namespace="default")
    with pytest.raises(SeccompError, match="invalid --name"):
        export.k8s(allow_profile(["read"], []), name="Bad_Name", namespace="default")


def test_docker_export_shape() -> None:
    p = allow_profile(["read", "exit_group"], ["SCMP_ARCH_X86_64"])
    d = json.loads(export.docker(p))
    assert d == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["exit_group", "read"], "action": "SCMP_ACT_ALLOW"}],
    }
