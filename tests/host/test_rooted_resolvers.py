"""RootedHost's two resolvers agree (the kernel's openat2 is the reference for the descriptor walk), and
what neither ever does: block on a FIFO, open a device node, follow a link out of DIR."""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecis.host.journal import _open as journal_open
from kubecis.host.rooted import RootedHost
from tests.host.test_rooted_containment import resolvers


def _tree(root: Path) -> None:
    (root / "a/b").mkdir(parents=True)
    (root / "a/b/f").write_text("file f\n")
    (root / "a/g").write_text("file g\n")
    (root / "top").write_text("top\n")
    links = {
        "a/abs": "/a/b", "a/rel": "b", "a/up": "../a/b/f", "a/dangling": "/nope", "a/loop1": "loop2",
        "a/loop2": "loop1", "a/tofile": "g", "a/climb": "../../../../../../top", "a/root": "/",
        "a/dots": "./b/../b/./f", "a/chain": "abs/../rel/f", "a/empty": "/a/b/", "l": "a",
    }
    for rel, target in links.items():
        os.symlink(target, root / rel)


COMPONENTS = ["a", "b", "f", "g", "top", "abs", "rel", "up", "dangling", "loop1", "tofile", "climb", "root", "dots",
              "chain", "empty", "l", "..", ".", "", "nope"]


def _outcome(fn: Callable[[], object]) -> object:
    try:
        v = fn()
    except OSError as exc:
        return ("error", exc.errno)
    if isinstance(v, os.stat_result):
        return ("stat", v.st_ino, v.st_mode)
    return ("ok", v)


def _all(host: RootedHost, path: str) -> list[object]:
    return [
        _outcome(lambda: host.read(path)),
        _outcome(lambda: (lambda s: (s.ino, s.mode))(host.stat(path))),
        _outcome(lambda: (lambda s: (s.ino, s.mode))(host.stat(path, follow_symlinks=False))),
        _outcome(lambda: sorted(host.listdir(path))),
        _outcome(lambda: host.readlink(path)),
    ]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    _tree(root)
    return root


@pytest.mark.parametrize("resolver", resolvers())
def test_resolution_rules(tree: Path, resolver: str) -> None:
    h = RootedHost(str(tree), resolver=resolver)  # type: ignore[arg-type]
    assert h.read("/a/abs/f") == h.read("/l/rel/f") == h.read("/a/up") == h.read("/a/dots") == b"file f\n"
    assert h.read("/a/chain") == b"file f\n"
    assert h.read("/a/climb") == b"top\n"  # ../ stops at DIR
    assert h.read("/../../top") == b"top\n"
    assert sorted(h.listdir("/a/root")) == ["a", "l", "top"]
    assert h.readlink("/a/abs") == "/a/b" and h.readlink("/l/abs") == "/a/b"
    for path, code in (("/a/dangling", errno.ENOENT), ("/a/loop1", errno.ELOOP), ("/a/g/", errno.ENOTDIR),
                       ("/a/tofile/x", errno.ENOTDIR), ("/a/b", errno.EISDIR), ("/a/empty", errno.EISDIR),
                       ("", errno.ENOENT), ("/a/b\0x", errno.ENOENT)):
        with pytest.raises(OSError) as ei:
            h.read(path)
        assert ei.value.errno == code, path
        assert ei.value.filename == path
    with pytest.raises(OSError) as ei:
        h.readlink("/a/b")
    assert ei.value.errno == errno.EINVAL
    assert stat.S_ISLNK(h.stat("/a/abs", follow_symlinks=False).mode)
    assert stat.S_ISDIR(h.stat("/a/abs/", follow_symlinks=False).mode)  # a trailing slash follows
    h.close()


@pytest.mark.skipif(not any(r == "openat2" for r in resolvers()), reason="no openat2 to compare with")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(COMPONENTS), min_size=0, max_size=6), absolute=st.booleans(),
       trailing=st.booleans())
def test_walk_matches_openat2(tree: Path, parts: list[str], absolute: bool, trailing: bool) -> None:
    path = ("/" if absolute else "") + "/".join(parts) + ("/" if trailing and parts else "")
    kernel = RootedHost(str(tree), resolver="openat2")
    walk = RootedHost(str(tree), resolver="walk")
    assert _all(walk, path) == _all(kernel, path), path


@pytest.mark.parametrize("resolver", resolvers())
def test_fifo_and_devices(tmp_path: Path, resolver: str) -> None:
    os.mkfifo(tmp_path / "fifo")
    os.symlink("/fifo", tmp_path / "to-fifo")
    h = RootedHost(str(tmp_path), resolver=resolver)  # type: ignore[arg-type]
    got: list[bytes] = []
    t = threading.Thread(target=lambda: got.append(h.read("/to-fifo")), daemon=True)
    t.start()
    t.join(5)
    assert got == [b""]  # no writer: nothing, at once
    if os.geteuid() == 0:
        os.mknod(tmp_path / "zero", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's numbers
        with pytest.raises(OSError) as ei:
            h.read("/zero")
        assert ei.value.errno == errno.ENXIO and ei.value.filename == "/zero"
        assert stat.S_ISCHR(h.stat("/zero").mode)  # stat is fine: it opens nothing


@pytest.mark.parametrize("resolver", resolvers())
def test_journal_reads_through_the_root(tmp_path: Path, resolver: str) -> None:
    (tmp_path / "var/log/journal").mkdir(parents=True)
    (tmp_path / "var/log/journal/x.journal").write_bytes(b"LPKSHHRH" + b"\0" * 100)
    os.symlink(str(tmp_path / "var/log/journal/x.journal"), tmp_path / "var/log/journal/out.journal")
    h = RootedHost(str(tmp_path), resolver=resolver)  # type: ignore[arg-type]
    assert bytes(journal_open(h, "/var/log/journal/x.journal")[:8]) == b"LPKSHHRH"
    with pytest.raises(FileNotFoundError):  # the absolute host path, resolved under DIR: nothing there
        journal_open(h, "/var/log/journal/out.journal")
