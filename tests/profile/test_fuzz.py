"""Hostile shapes: the profile loader and the strace parser end in a value or one ProfileError, never
another exception, in bounded time."""

from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecis.profile import observe
from kubecis.profile.errors import ProfileError
from kubecis.profile.model import loads

from .test_model import DOC

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                     st.text(max_size=20), st.sampled_from(["/usr/**", "/a/*/b", "127.0.0.1:80", "inet/stream",
                                                            "SCMP_ACT_ALLOW", "read", "@x", "*:0"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                       max_leaves=20)
_keys = st.sampled_from(["kubecis-profile", "learned", "generalisation", "files", "network", "seccomp", "read",
                         "write", "create", "execute", "tcp", "udp", "unix", "sockets", "connect", "bind", "send"])


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _values, max_size=6))
def test_loader_on_random_documents(doc: dict[str, object]) -> None:
    doc.setdefault("kubecis-profile", 1)
    try:
        text = yaml.safe_dump(doc)
    except yaml.YAMLError:
        return
    try:
        loads(text, source="f.yaml")
    except ProfileError as e:
        assert str(e).startswith("f.yaml") and "\n" not in str(e)


@settings(max_examples=150)
@given(st.data())
def test_loader_on_mutated_real_document(data: st.DataObject) -> None:
    text = DOC
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        text = text[:i] + data.draw(st.text(alphabet=string.printable, max_size=6)) + text[i + 1:]
    try:
        loads(text, source="f.yaml")
    except ProfileError as e:
        assert "\n" not in str(e)


_pieces = st.sampled_from([
    '100<x> 1.5 openat(AT_FDCWD</a>, "b", O_RDONLY) = 3</a/b>', "100 1.5 connect(3<TCP:[1]>, {sa_family=AF_INET, ",
    "sin_port=htons(99999999999)", 'sin_addr=inet_addr("nonsense")}, 16) = 0', "<... openat resumed>) = -1 E",
    "clone3({flags=CLONE_THREAD} <unfinished ...>", "= 12<x>", '"\\x', "\\777", "<", ">", "(", ")", "{", "}", ",",
    "execve(", 'sun_path=@"', "O_CREAT|O_EXCL", "mkdir(", "\n",
])


@settings(max_examples=150)
@given(st.lists(st.lists(_pieces, max_size=8).map("".join), max_size=12))
def test_strace_parser_never_crashes(lines: list[str]) -> None:
    act = observe.parse(lines, native="SCMP_ARCH_X86_64", cwd="/", syscall_events=True)
    assert isinstance(act.events, dict)
