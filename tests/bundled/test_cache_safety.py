"""The bundled definitions' cache is never a directory another user prepared or can change (issue 9 item 3).

Directories are planted the way another local user would: owned by ``nobody`` (``os.chown``, so these
tests need root), or as symbolic links at the cache path. A tree that is used is always the genuine one.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from kubecis.benchmark import bundled
from kubecis.errors import ConfigError
from kubecis.privdir import UnsafeDirError, private_dir, private_tempdir, resolve_trusted

Genuine = Callable[[Path], bool]
Plant = Callable[[Path, int], Path]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="planting another user's directory needs root (chown)")

@pytest.fixture
def nobody() -> int:
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.skip("no user 'nobody' on this machine")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A small copy of the bundled store (one set), the tree it compiles to and that tree's digest."""
    d = tmp_path_factory.mktemp("store") / "data"
    shutil.copytree(bundled.DATA_DIR / "checks", d / "checks")
    shutil.copy(bundled.DATA_DIR / "config.yaml", d / "config.yaml")
    (d / "sets").mkdir()
    shutil.copy(bundled.DATA_DIR / "sets" / "cis-1.8.yaml", d / "sets" / "cis-1.8.yaml")
    tree = d.parent / "reference"
    bundled.write_tree(bundled.Store(d), tree)
    return d, tree, content(tree)


def content(tree: Path) -> str:
    """sha256 over every file's relative path and bytes (the digest file aside)."""
    h = hashlib.sha256()
    for p in sorted(tree.rglob("*")):
        if p.is_file() and p.name != bundled.TREE_DIGEST:
            h.update(str(p.relative_to(tree)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@pytest.fixture
def data_dir(reference: tuple[Path, Path, str]) -> Path:
    return reference[0]


@pytest.fixture
def genuine(reference: tuple[Path, Path, str]) -> Genuine:
    """Is this tree exactly what the store compiles to?"""
    return lambda tree: content(tree) == reference[2]


@pytest.fixture
def plant(reference: tuple[Path, Path, str]) -> Plant:
    """A complete-looking bundled tree at ``where`` whose audits are hostile, owned by ``owner``."""

    def plant(where: Path, owner: int) -> Path:
        tree = where / f"bundled-{bundled.store_hash(reference[0])}"
        shutil.copytree(reference[1], tree)
        node = tree / "cis-1.8" / "node.yaml"
        node.write_text(node.read_text().replace("audit: ", "audit: touch /tmp/kubecis-pwned; ", 1))
        (tree / bundled.TREE_DIGEST).write_text(bundled.tree_digest(tree) + "\n")  # even a "valid" digest
        for p in [where, *where.rglob("*")]:
            os.lchown(p, owner, owner)
        return tree

    return plant


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """XDG_CACHE_HOME and the temp dir inside tmp_path (a sticky, world-writable temp dir like /tmp)."""
    cache, tmp = tmp_path / "xdg", tmp_path / "tmp"
    cache.mkdir()
    tmp.mkdir()
    tmp.chmod(0o1777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setattr(bundled, "_EPHEMERAL", {})
    return {"cache": cache / "kubecis", "tmp": tmp / f"kubecis-{os.geteuid()}", "tmpdir": tmp}


def assert_private(path: Path) -> None:
    st = os.lstat(path)
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
    assert not st.st_mode & 0o022


def test_cache_is_created_private_and_reused(env: dict[str, Path], data_dir: Path, genuine: Genuine) -> None:
    tree = bundled.materialise(data_dir)
    assert tree.parent == env["cache"]
    assert stat.S_IMODE(os.lstat(env["cache"]).st_mode) == 0o700
    for p in [tree, *tree.rglob("*")]:
        st = os.lstat(p)
        assert st.st_uid == os.geteuid() and not st.st_mode & 0o022
        assert stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)
    assert genuine(tree)
    mtime = os.lstat(tree).st_mtime_ns
    assert bundled.materialise(data_dir) == tree and os.lstat(tree).st_mtime_ns == mtime  # reused, not rebuilt


def test_cache_dir_precreated_by_another_user_is_not_used(
    env: dict[str, Path], data_dir: Path, nobody: int, genuine: Genuine, plant: Plant
) -> None:
    env["cache"].mkdir(mode=0o755)
    planted = plant(env["cache"], nobody)
    tree = bundled.materialise(data_dir)
    assert not str(tree).startswith(str(env["cache"]))
    assert tree.parent == env["tmp"]  # the private per-user fallback
    assert genuine(tree)
    assert "kubecis-pwned" in (planted / "cis-1.8" / "node.yaml").read_text()  # untouched, just not used


def test_symlink_planted_at_the_cache_path_is_not_followed_to_another_users_dir(
    env: dict[str, Path], data_dir: Path, tmp_path: Path, nobody: int, genuine: Genuine, plant: Plant
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    plant(theirs, nobody)
    env["cache"].symlink_to(theirs)
    tree = bundled.materialise(data_dir)
    assert tree.parent == env["tmp"] and genuine(tree)


def test_planted_tree_symlink_inside_our_cache_is_refused(
    env: dict[str, Path], data_dir: Path, tmp_path: Path, nobody: int, genuine: Genuine, plant: Plant
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    planted = plant(theirs, nobody)
    private_dir(env["cache"])
    (env["cache"] / planted.name).symlink_to(planted)
    tree = bundled.materialise(data_dir)
    assert tree != env["cache"] / planted.name and genuine(tree)


def test_every_cache_taken_gives_a_fresh_private_temporary_tree(
    env: dict[str, Path], data_dir: Path, nobody: int, genuine: Genuine, plant: Plant
) -> None:
    env["cache"].mkdir(mode=0o755)
    plant(env["cache"], nobody)
    env["tmp"].mkdir(mode=0o777)
    plant(env["tmp"], nobody)
    tree = bundled.materialise(data_dir)
    assert tree.parent.parent == env["tmpdir"] and tree.parent.name.startswith("kubecis-bundled-")
    assert_private(tree.parent)
    assert stat.S_IMODE(os.lstat(tree.parent).st_mode) == 0o700
    assert genuine(tree)
    assert bundled.materialise(data_dir) == tree  # one per process


def test_writable_by_others_on_the_way_is_refused(env: dict[str, Path], data_dir: Path) -> None:
    xdg = env["cache"].parent
    xdg.chmod(0o777)  # not sticky: anyone could rename our kubecis/ away and put theirs there
    tree = bundled.materialise(data_dir)
    assert tree.parent == env["tmp"]
    xdg.chmod(0o755)


def test_own_tree_with_changed_content_is_rebuilt(env: dict[str, Path], data_dir: Path, genuine: Genuine) -> None:
    tree = bundled.materialise(data_dir)
    node = tree / "cis-1.8" / "node.yaml"
    node.write_text(node.read_text() + "\n# edited\n")
    again = bundled.materialise(data_dir)
    assert again == tree and genuine(again)
    text = node.read_text()
    node.write_text(text.replace("audit:", "audyt:", 1))  # same size, other content
    assert not genuine(tree)
    assert bundled.materialise(data_dir) == tree and genuine(tree)
    assert not [p for p in env["cache"].iterdir() if p.name.startswith(".")]  # nothing left aside


def test_own_tree_with_a_foreign_file_is_rebuilt(
    env: dict[str, Path], data_dir: Path, nobody: int, genuine: Genuine
) -> None:
    tree = bundled.materialise(data_dir)
    os.chown(tree / "cis-1.8" / "node.yaml", nobody, nobody)
    assert bundled.materialise(data_dir) == tree
    assert os.lstat(tree / "cis-1.8" / "node.yaml").st_uid == os.geteuid() and genuine(tree)


def test_nothing_usable_is_one_clear_error(env: dict[str, Path], data_dir: Path, nobody: int) -> None:
    root = env["cache"]
    root.mkdir()
    os.chown(root, nobody, nobody)
    with pytest.raises(ConfigError, match=r"definitions: .*kubecis: owned by another user"):
        bundled.materialise(data_dir, root=root)


# ---- privdir itself ----------------------------------------------------------------------------------------
def test_private_dir_creates_each_missing_component_0700(tmp_path: Path) -> None:
    made = private_dir(tmp_path / "a" / "b" / "c")
    assert made == (tmp_path / "a" / "b" / "c").resolve()
    for p in (tmp_path / "a", tmp_path / "a" / "b", made):
        assert stat.S_IMODE(os.lstat(p).st_mode) == 0o700


def test_links_made_by_trusted_users_are_followed_and_their_targets_checked(tmp_path: Path, nobody: int) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to("real")
    assert private_dir(tmp_path / "link") == (tmp_path / "real").resolve()
    assert resolve_trusted(tmp_path / "link" / "x" / "y") == (str((tmp_path / "real").resolve()), ["x", "y"])
    (tmp_path / "theirs").mkdir(mode=0o755)
    os.chown(tmp_path / "theirs", nobody, nobody)
    (tmp_path / "link2").symlink_to(tmp_path / "theirs")
    with pytest.raises(UnsafeDirError, match="owned by another user"):
        private_dir(tmp_path / "link2" / "cache")


def test_a_link_inside_an_untrusted_directory_is_refused(tmp_path: Path, nobody: int) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    (tmp_path / "ours").mkdir(mode=0o700)
    (theirs / "link").symlink_to(tmp_path / "ours")
    os.chown(theirs, nobody, nobody)
    with pytest.raises(UnsafeDirError, match="theirs: owned by another user"):
        private_dir(theirs / "link")


def test_entry_created_first_by_someone_else_in_a_sticky_dir_is_not_adopted(tmp_path: Path, nobody: int) -> None:
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    assert private_dir(sticky / "mine").parent == sticky.resolve()  # a sticky dir may be crossed
    (sticky / "squatted").mkdir(mode=0o700)
    os.chown(sticky / "squatted", nobody, nobody)
    with pytest.raises(UnsafeDirError, match="squatted: owned by another user"):
        private_dir(sticky / "squatted")
    with pytest.raises(UnsafeDirError, match="writable by other users"):
        private_dir(sticky)  # the sticky dir itself is not private


def test_private_tempdir_refuses_an_untrusted_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      nobody: int) -> None:
    bad = tmp_path / "badtmp"
    bad.mkdir(mode=0o777)
    bad.chmod(0o777)  # world-writable without the sticky bit
    monkeypatch.setattr(tempfile, "tempdir", str(bad))
    with pytest.raises(UnsafeDirError, match="writable by other users"):
        private_tempdir()
    bad.chmod(0o1777)
    made = private_tempdir()
    assert made.parent == bad.resolve() and stat.S_IMODE(os.lstat(made).st_mode) == 0o700
