"""The profile document: round trip, merge = union, and bad documents (one clear line each)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from kubecis.profile.errors import ProfileError
from kubecis.profile.model import MAX_DEPTH, load, loads, merge

DOC = """\
kubecis-profile: 1
learned:
- {command: [app, --port, '8080'], started: '2024-01-01T00:00:00.000Z', seconds: 3.5, ended: exit 0,
   tracer: strace 6.1}
generalisation: [rule one]
files:
  read: [/usr/**, /srv/app/products.db, /srv/app/]
  write: [/dev/null]
  create: [/tmp/tmp*]
  execute: [/usr/bin/python3.11]
network:
  sockets: [inet/stream, unix/stream]
  tcp: {connect: ['10.0.0.5:5432', '[::1]:80'], bind: ['*:8080']}
  udp: {send: ['10.96.0.10:53'], bind: []}
  unix: {connect: [/run/nscd/socket, '@abstract'], bind: []}
seccomp:
  defaultAction: SCMP_ACT_ERRNO
  defaultErrnoRet: 1
  architectures: [SCMP_ARCH_X86_64]
  syscalls:
  - names: [read, write, execve]
    action: SCMP_ACT_ALLOW
"""


def test_round_trip() -> None:
    p = loads(DOC, source="p.yaml")
    assert [r.text for r in p.files.read] == ["/srv/app/", "/srv/app/products.db", "/usr/**"]
    assert [e.text for e in p.network.tcp_connect] == ["10.0.0.5:5432", "[::1]:80"]
    assert p.network.tcp_bind[0].address == "*" and p.network.tcp_bind[0].port == 8080
    assert p.seccomp.allowed_names() == {"read", "write", "execve"}
    again = loads(p.to_yaml(), source="again")
    assert again == p
    assert p.to_yaml().startswith("# kubecis runtime profile")
    assert list(yaml.safe_load(p.to_yaml())) == ["kubecis-profile", "learned", "generalisation", "files", "network",
                                                 "seccomp"]


def test_merge_is_union() -> None:
    a = loads(DOC, source="a")
    b_doc = (DOC.replace("/srv/app/products.db", "/srv/other.db").replace("'10.0.0.5:5432'", "'10.0.0.6:5432'")
             .replace("[read, write, execve]", "[read, mkdir, execve]").replace("[inet/stream, ", "[inet/dgram, "))
    b = loads(b_doc, source="b")
    m = merge(a, b)
    assert {r.text for r in m.files.read} == {r.text for r in a.files.read} | {r.text for r in b.files.read}
    assert {e.text for e in m.network.tcp_connect} == {"10.0.0.5:5432", "10.0.0.6:5432", "[::1]:80"}
    assert m.seccomp.allowed_names() == {"read", "write", "mkdir", "execve"}
    assert set(m.network.sockets) == {"inet/stream", "inet/dgram", "unix/stream"}
    assert len(m.learned) == 2
    # a rule covered by the other side's wider rule disappears
    c = loads(DOC.replace("[/usr/**, /srv/app/products.db, /srv/app/]", "[/srv/**]"), source="c")
    assert [r.text for r in merge(a, c).files.read] == ["/srv/**", "/usr/**"]
    wide = loads(DOC.replace("'10.0.0.5:5432', ", "'*:5432', "), source="w")
    assert {e.text for e in merge(a, wide).network.tcp_connect} == {"*:5432", "[::1]:80"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kubecis-profile: 1\nfiles: [\n", "p.yaml:3: not valid YAML"),
        ("- a\n- b\n", "p.yaml: a runtime profile must be a YAML mapping"),
        ("seccomp: {defaultAction: SCMP_ACT_ERRNO}\n", "not a kubecis runtime profile"),
        (DOC.replace("kubecis-profile: 1", "kubecis-profile: 2"), "unsupported kubecis-profile version 2"),
        (DOC.replace("kubecis-profile: 1", "kubecis-profile: true"), "unsupported kubecis-profile version True"),
        (DOC + "extra: 1\n", "unknown field 'extra'"),
        (DOC.replace("  write: [/dev/null]", "  writes: [/dev/null]"), "files: unknown field 'writes'"),
        (DOC.replace("[/dev/null]", "[dev/null]"), "files.write[0]: path rule 'dev/null' cannot be represented: "
                                                   "not an absolute path"),
        (DOC.replace("[/dev/null]", "[/a/*/b]"), "files.write[0]: path rule '/a/*/b' cannot be represented"),
        (DOC.replace("[/dev/null]", '["/a/new\\nline"]'), "control character"),
        (DOC.replace("[/dev/null]", "/dev/null"), "files.write: must be a list"),
        (DOC.replace("'10.0.0.5:5432'", "'db.local:5432'"), "is not an IP address or '*'"),
        (DOC.replace("'10.0.0.5:5432'", "'10.0.0.5:99999'"), "is not ADDRESS:PORT"),
        (DOC.replace("'[::1]:80'", "'::1:80'"), "write IPv6 addresses in brackets"),
        (DOC.replace("'@abstract'", '"@bad\\x01"'), "abstract socket"),
        (DOC.replace("/run/nscd/socket", "/run/*"), "a unix socket must be one path"),
        (DOC.replace("[inet/stream, unix/stream]", "[inet/flow]"), "unknown socket kind 'inet/flow'"),
        (DOC.replace("SCMP_ACT_ALLOW", "SCMP_ACT_PERMIT"), "p.yaml: seccomp: syscalls[0]: action: unknown action"),
        (DOC.replace("[read, write, execve]", "[\"read\\0x\"]"), "invalid syscall name"),
        (DOC.split("seccomp:")[0], "missing required section 'seccomp'"),
        ("kubecis-profile: 1\nseccomp: &a {defaultAction: SCMP_ACT_ERRNO}\nx: *a\n", "anchors and aliases"),
        ("a: &x [1]\nb: [*x, *x, *x]\n", "anchors and aliases"),
        ("kubecis-profile: 1\nlearned: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n", "nested deeper"),
        ("kubecis-profile: 1\nlearned: [{seconds: yes}]\nseccomp: {defaultAction: SCMP_ACT_ERRNO}\n",
         "seconds: must be a number"),
        ("\t", "not valid YAML"),
    ],
)
def test_bad_documents(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as ei:
        loads(text, source="p.yaml")
    assert message in str(ei.value)
    assert "\n" not in str(ei.value)


def test_files_bounded(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile file"):
        load(tmp_path / "missing.yaml")
    with pytest.raises(ProfileError, match="is a directory"):
        load(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ProfileError, match="not a regular file"):
        load(fifo)
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(9 * 1024 * 1024)
    with pytest.raises(ProfileError, match="too large"):
        load(big)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(ProfileError, match="not UTF-8"):
        load(binary)
