"""kube-bench's image helper ``check_files_owner_in_dir.sh``, run natively over a --root node.

Expected answers follow the helper's documented behaviour
(kube-bench-compat.md#image-helper-script): ``true`` iff the directory and every
non-hidden entry directly in it are root:root, ``kube-etcd-*`` entries may be etcd:etcd; its quirks (an
empty directory is ``false``) are kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubecis.audit.native import NativeExecutor, unsupported_reason
from kubecis.host.rooted import RootedHost

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown the fixture files")

ETCD = 1001


def node(tmp_path: Path) -> Path:
    root = tmp_path / "node"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(f"root:x:0:0::/root:/bin/sh\netcd:x:{ETCD}:{ETCD}::/:/bin/false\n")
    (root / "etc" / "group").write_text(f"root:x:0:\netcd:x:{ETCD}:\n")
    ssl = root / "etc" / "kubernetes" / "ssl"
    ssl.mkdir(parents=True)
    for name in ("kube-ca.pem", "kube-apiserver.pem", "kube-apiserver-key.pem"):
        (ssl / name).write_text("x")
    return root


def run(root: Path, script: str = "check_files_owner_in_dir.sh /etc/kubernetes/ssl") -> str:
    res = NativeExecutor(RootedHost(str(root))).run(script)
    assert not res.not_run, res.not_run
    assert res.returncode == 0
    return res.output


def test_all_root_owned(tmp_path: Path) -> None:
    assert run(node(tmp_path)) == "true\n"


def test_one_file_not_root(tmp_path: Path) -> None:
    root = node(tmp_path)
    os.chown(root / "etc/kubernetes/ssl/kube-apiserver.pem", 0, ETCD)
    assert run(root) == "false\n"


@pytest.mark.parametrize("name", ["kube-etcd-node1.pem", "kube-etcd-node1-key.pem", "kube-etcd-x"])
def test_etcd_files_may_be_etcd_owned(tmp_path: Path, name: str) -> None:
    root = node(tmp_path)
    f = root / "etc/kubernetes/ssl" / name
    f.write_text("x")
    os.chown(f, ETCD, ETCD)
    assert run(root) == "true\n"
    os.chown(f, ETCD, 0)  # etcd:root is neither
    assert run(root) == "false\n"


def test_other_files_may_not_be_etcd_owned(tmp_path: Path) -> None:
    root = node(tmp_path)
    f = root / "etc/kubernetes/ssl/etcd-kube-x.pem"
    f.write_text("x")
    os.chown(f, ETCD, ETCD)
    assert run(root) == "false\n"


def test_unknown_owner_is_not_root(tmp_path: Path) -> None:
    root = node(tmp_path)
    os.chown(root / "etc/kubernetes/ssl/kube-ca.pem", 4242, 0)  # no name: stat prints UNKNOWN
    res = NativeExecutor(RootedHost(str(root))).run("check_files_owner_in_dir.sh /etc/kubernetes/ssl")
    assert res.output == "false\n"  # what the script prints; the check is WARN naming the uid (test_nonroot.py)
    assert res.not_run == "cannot resolve owner uid 4242: no user with that id in /etc/passwd"


def test_directory_itself_must_be_root_owned(tmp_path: Path) -> None:
    root = node(tmp_path)
    os.chown(root / "etc/kubernetes/ssl", ETCD, ETCD)
    assert run(root) == "false\n"


def test_hidden_entries_are_not_checked_and_subdirectories_are(tmp_path: Path) -> None:
    root = node(tmp_path)
    hidden = root / "etc/kubernetes/ssl/.tmp"
    hidden.write_text("x")
    os.chown(hidden, ETCD, ETCD)
    assert run(root) == "true\n"
    sub = root / "etc/kubernetes/ssl/certs"
    sub.mkdir()
    os.chown(sub, ETCD, 0)
    assert run(root) == "false\n"


def test_symlink_entries_are_judged_by_their_own_owner(tmp_path: Path) -> None:
    root = node(tmp_path)
    target = root / "etc/other.pem"
    target.write_text("x")
    os.chown(target, ETCD, ETCD)
    (root / "etc/kubernetes/ssl/link.pem").symlink_to("/etc/other.pem")
    assert run(root) == "true\n"


@pytest.mark.parametrize("arg", ["", "/etc/kubernetes/missing", "/etc/passwd"])
def test_missing_empty_or_not_a_directory(tmp_path: Path, arg: str) -> None:
    assert run(node(tmp_path), f"check_files_owner_in_dir.sh {arg}") == "false\n"


def test_empty_directory_is_false(tmp_path: Path) -> None:
    root = node(tmp_path)
    (root / "etc/empty").mkdir()
    assert run(root, "check_files_owner_in_dir.sh /etc/empty") == "false\n"


def test_names_the_script_would_split_are_declined(tmp_path: Path) -> None:
    root = node(tmp_path)
    (root / "etc/kubernetes/ssl/a b.pem").write_text("x")
    res = NativeExecutor(RootedHost(str(root))).run("check_files_owner_in_dir.sh /etc/kubernetes/ssl")
    assert res.not_run.startswith("audit not supported natively: check_files_owner_in_dir.sh over a file name")


def test_rke_audit_statically_supported() -> None:
    assert unsupported_reason("check_files_owner_in_dir.sh /etc/kubernetes/ssl") is None
