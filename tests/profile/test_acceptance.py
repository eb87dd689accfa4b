"""Issue 14's acceptance, with real processes and real kernel enforcement.

The "product search" HTTP service over SQLite (examples/product_search.py) is learned from a few
requests; under enforce it keeps serving them, while its injected code paths (write to the database,
write a file in /tmp, connect to a port it never used) fail with the kernel's EACCES; in audit mode
all three succeed and are reported with the process that did them. Learns merge as a union, show/diff
list the sections, exports validate, and bad input is one clear line.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecis.profile import landlock
from kubecis.profile.model import load, merge

from .test_export import APPARMOR_PROFILE_SCHEMA, NETWORK_POLICY_SCHEMA, check_fields

KUBECIS = str(Path(sys.executable).with_name("kubecis"))
SERVICE = Path(__file__).resolve().parents[2] / "examples" / "product_search.py"
NORMAL_REQUESTS = ["/health", "/search?q=lamp", "/search?q=desk", "/products/3", "/products/99"]

pytestmark = pytest.mark.usefixtures("needs_ptrace", "needs_seccomp", "needs_landlock")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, *, deadline: float) -> tuple[int, Any]:
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", path)
            r = c.getresponse()
            body = json.loads(r.read())
            c.close()
            return r.status, body
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Run:
    """`kubecis ...` around the service, its output captured, stopped with SIGTERM (forwarded)."""

    def __init__(self, argv: list[str], tmp: Path, port: int) -> None:
        self.port = port
        self.err_path = tmp / f"stderr-{uuid.uuid4().hex[:8]}"
        with self.err_path.open("w") as err:
            self.proc = subprocess.Popen([KUBECIS, *argv], stdout=subprocess.DEVNULL, stderr=err)
        self.health = self.get("/health", wait=60)

    def get(self, path: str, *, wait: float = 10) -> tuple[int, Any]:
        return _get(self.port, path, deadline=time.monotonic() + wait)

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, self.err_path.read_text()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("product-search")
    db = d / "products.db"
    subprocess.run([sys.executable, "-B", str(SERVICE), "init-db", str(db)], check=True, timeout=60)
    port = _free_port()
    cmd = [sys.executable, "-B", str(SERVICE), "serve", "--db", str(db), "--port", str(port), "--with-injected-paths"]
    return {"dir": d, "db": db, "port": port, "cmd": cmd}


@pytest.fixture(scope="module")
def learned(world: dict[str, Any]) -> dict[str, Any]:
    """Learn the service from a few requests; remember the answers."""
    out = world["dir"] / "product-search.yaml"
    run = Run(["profile", "learn", "-o", str(out), "--", *world["cmd"]], world["dir"], world["port"])
    answers = {p: run.get(p) for p in NORMAL_REQUESTS}
    rc, err = run.stop()
    assert rc == 0, err
    assert f"kubecis profile learn: wrote {out}" in err
    return {"profile": out, "answers": answers}


@pytest.fixture
def unlearned_port() -> Iterator[int]:
    """A listener on a port the service never used while learning (accepts, reads, closes)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                c.settimeout(2)
                with contextlib.suppress(OSError):
                    c.recv(64)
                c.close()
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield int(srv.getsockname()[1])
    stop.set()
    t.join(5)
    srv.close()


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_learned_profile(learned: dict[str, Any], world: dict[str, Any]) -> None:
    prof = load(learned["profile"])
    db = str(world["db"])
    assert prof.files.allows("read", db)
    assert not prof.files.allows("write", db) and not prof.files.allows("create", db)
    assert not prof.files.allows("create", "/tmp/anything")
    assert [e.text for e in prof.network.tcp_bind] == [f"127.0.0.1:{world['port']}"]
    assert not prof.network.tcp_connect
    assert "inet/stream" in prof.network.sockets and "inet/dgram" not in prof.network.sockets
    assert {"accept4", "bind", "listen", "clone3"} & prof.seccomp.allowed_names() >= {"bind", "listen"}
    assert prof.files.allows("execute", os.path.realpath(sys.executable))
    doc = yaml.safe_load(learned["profile"].read_text())
    assert doc["kubecis-profile"] == 1 and doc["generalisation"]  # the rules are printed with the profile
    assert doc["learned"][0]["command"] == world["cmd"]


def test_enforce_serves_and_blocks_injected_paths(
    learned: dict[str, Any], world: dict[str, Any], unlearned_port: int
) -> None:
    before = _sha(world["db"])
    tmp_target = f"/tmp/kubecis-injected-{uuid.uuid4().hex}"
    run = Run(["profile", "run", "--mode", "enforce", "-p", str(learned["profile"]), "--", *world["cmd"]],
              world["dir"], world["port"])
    try:
        for path in NORMAL_REQUESTS:
            status, body = run.get(path)
            want_status, want_body = learned["answers"][path]
            assert status == want_status
            if path != "/health":
                assert body == want_body  # the same answers as while learning
        injected = {
            "db": run.get("/_injected/write-db")[1],
            "tmp": run.get(f"/_injected/write-tmp?path={tmp_target}")[1],
            "connect": run.get(f"/_injected/connect?port={unlearned_port}")[1],
        }
        assert run.get("/search?q=lamp") == learned["answers"]["/search?q=lamp"]  # still serving
    finally:
        rc, err = run.stop()
    for what, body in injected.items():
        assert body == {"ok": False, "errno": 13, "error": "Permission denied"}, what  # the kernel's EACCES
    assert _sha(world["db"]) == before
    assert not os.path.exists(tmp_target)
    assert rc == 0, err
    assert f"kubecis profile: enforcing {learned['profile']}" in err


def test_audit_lets_everything_through_and_reports_the_process(
    learned: dict[str, Any], world: dict[str, Any], unlearned_port: int
) -> None:
    report = world["dir"] / "audit.json"
    db_copy = world["dir"] / "audit-copy.db"
    shutil.copy(world["db"], db_copy)
    tmp_target = f"/tmp/kubecis-injected-{uuid.uuid4().hex}"
    run = Run(["profile", "run", "--mode", "audit", "--report", str(report), "-p", str(learned["profile"]), "--",
               *world["cmd"]], world["dir"], world["port"])
    try:
        for path in NORMAL_REQUESTS:
            assert run.get(path)[0] == learned["answers"][path][0]
        service_pid = run.health[1]["pid"]
        injected_from = time.time()
        injected = {
            "db": run.get("/_injected/write-db")[1],
            "tmp": run.get(f"/_injected/write-tmp?path={tmp_target}")[1],
            "connect": run.get(f"/_injected/connect?port={unlearned_port}")[1],
        }
    finally:
        rc, err = run.stop()
        created = os.path.exists(tmp_target)
        if created:
            os.unlink(tmp_target)
    try:
        assert all(body["ok"] for body in injected.values()), injected  # audit blocks nothing
        assert created
        con = sqlite3.connect(world["db"])
        assert con.execute("SELECT count(*) FROM products WHERE name = 'injected'").fetchone()[0] == 1
        con.close()
    finally:
        shutil.copy(db_copy, world["db"])  # undo the injected write for the other tests
    assert rc == 0, err
    doc = json.loads(report.read_text())
    assert doc["profile"] == str(learned["profile"]) and doc["command"] == world["cmd"]
    devs = {(d["kind"], d["op"], d["object"]): d for d in doc["deviations"]}
    expected = [("file", "write", str(world["db"])), ("file", "create", tmp_target),
                ("tcp", "connect", f"127.0.0.1:{unlearned_port}")]
    for key in expected:
        d = devs[key]
        assert d["first"]["pid"] == service_pid, d  # the process that did it
        assert d["first"]["exe"] and d["first"]["comm"]
        assert d["count"] >= 1 and d["first"]["time"].endswith("Z")
        assert d["enforce"] == {"blocked": True, "by": "Landlock", "error": "EACCES"}
        assert f"{key[0]} {key[1]} {key[2]}" in err and f"pid {service_pid}" in err  # and at the end, on stderr
    # serving the learned requests did not deviate: everything reported came from the injected paths
    early = [d for d in doc["deviations"] if d["first"]["time"] < _iso_ms(injected_from)]
    assert not early, early


def _iso_ms(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t - 0.001, tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_merge_is_union_and_show_diff_list_sections(learned: dict[str, Any], world: dict[str, Any]) -> None:
    d = world["dir"]
    other_cmd = [shutil.which("sh") or "/bin/sh", "-c", "cat /etc/hostname >/dev/null"]
    other = d / "other.yaml"
    merged = d / "merged.yaml"
    r = subprocess.run([KUBECIS, "profile", "learn", "-o", str(other), "--", *other_cmd], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([KUBECIS, "profile", "learn", "-o", str(merged), "--merge", str(learned["profile"]), "--",
                        *other_cmd], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    a, b, m = load(learned["profile"]), load(other), load(merged)
    union = merge(a, b)
    assert m.files == union.files and m.network == union.network
    assert m.seccomp.allowed_names() == a.seccomp.allowed_names() | b.seccomp.allowed_names()
    assert len(m.learned) == 2
    assert m.files.allows("read", "/etc/hostname") and not a.files.allows("read", "/etc/hostname")

    show = subprocess.run([KUBECIS, "profile", "show", str(merged)], capture_output=True, text=True, timeout=60)
    assert show.returncode == 0, show.stderr
    for section in ("learned from 2 run(s):", "generalisation", "files (", "  read (", "  write (", "  create (",
                    "  execute (", "network:", "  tcp bind:", "seccomp:", "on this kernel:", "Landlock rules:"):
        assert section in show.stdout, section
    assert str(world["db"]) in show.stdout
    diff = subprocess.run([KUBECIS, "profile", "diff", "--exit-code", str(learned["profile"]), str(merged)],
                          capture_output=True, text=True, timeout=60)
    assert diff.returncode == 1
    assert "files.read:\n" in diff.stdout and "+ /etc/hostname" in diff.stdout
    same = subprocess.run([KUBECIS, "profile", "diff", "--exit-code", str(merged), str(merged)], capture_output=True,
                          text=True, timeout=60)
    assert same.returncode == 0 and "allow the same" in same.stdout


def test_exports_of_the_learned_profile(learned: dict[str, Any], world: dict[str, Any]) -> None:
    p = str(learned["profile"])

    def export(*args: str) -> str:
        r = subprocess.run([KUBECIS, "profile", "export", p, *args], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    assert json.loads(export("-f", "seccomp"))["defaultAction"] == "SCMP_ACT_ERRNO"
    sp = yaml.safe_load(export("-f", "seccomp-k8s", "--name", "product-search", "-n", "shop"))
    assert sp["kind"] == "SeccompProfile"
    aa = yaml.safe_load(export("-f", "apparmor-k8s", "--name", "product-search", "-n", "shop"))
    check_fields(aa, APPARMOR_PROFILE_SCHEMA)
    np = yaml.safe_load(export("-f", "networkpolicy", "--name", "product-search", "-n", "shop",
                               "-l", "app=product-search"))
    check_fields(np, NETWORK_POLICY_SCHEMA)
    assert np["spec"]["ingress"] == []  # it listened on loopback only: nothing for other pods
    text = export("-f", "apparmor", "--name", "product-search")
    assert f"{world['db']} r," in text
    parser = shutil.which("apparmor_parser")
    if parser is None:
        pytest.skip("apparmor_parser is not installed (Debian: apt-get install apparmor); structure checked above")
    f = world["dir"] / "product-search.apparmor"
    f.write_text(text)
    r = subprocess.run([parser, "-Q", "-K", str(f)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


# ---- bad input: one clear line, non-zero exit, nothing written, never fewer restrictions in silence ---------


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    errors = [li for li in err.splitlines() if li.startswith("kubecis: error: ")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize("sub", ["learn", "enforce", "audit"])
def test_command_not_found(sub: str, learned: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "o.yaml"
    argv = {"learn": ["learn", "-o", str(out)],
            "enforce": ["run", "-p", str(learned["profile"])],
            "audit": ["run", "--mode", "audit", "-p", str(learned["profile"]), "--report", str(tmp_path / "r.json")],
            }[sub]
    r = subprocess.run([KUBECIS, "profile", *argv, "--", "kubecis-no-such-command"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1
    assert "command not found: kubecis-no-such-command" in _one_error_line(r.stderr)
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kubecis-profile: 1\nfiles: [", "not valid YAML"),
        ("kubecis-profile: 1\nfiles: {read: ['/srv/*/db']}\nseccomp: {defaultAction: SCMP_ACT_ERRNO}\n",
         "path rule '/srv/*/db' cannot be represented"),
        ("kubecis-profile: 1\nfiles: {write: [relative/x]}\nseccomp: {defaultAction: SCMP_ACT_ERRNO}\n",
         "cannot be represented: not an absolute path"),
        ("kubecis-profile: 1\nnetwork: {tcp: {connect: [example.com:443]}}\nseccomp: {defaultAction: SCMP_ACT_ERRNO}\n",
         "not an IP address"),
    ],
)
@pytest.mark.parametrize("sub", ["show", "enforce", "audit", "export", "merge"])
def test_bad_profile_every_command(sub: str, content: str, message: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    out = tmp_path / "out.yaml"
    argv = {"show": ["show", str(bad)],
            "enforce": ["run", "-p", str(bad), "--", "true"],
            "audit": ["run", "--mode", "audit", "-p", str(bad), "--", "true"],
            "export": ["export", "-f", "apparmor", "--name", "x", str(bad)],
            "merge": ["learn", "-o", str(out), "--merge", str(bad), "--", "true"]}[sub]
    r = subprocess.run([KUBECIS, "profile", *argv], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    line = _one_error_line(r.stderr)
    assert message in line and str(bad) in line
    assert not out.exists()


def test_enforce_refuses_fewer_restrictions_unless_asked(learned: dict[str, Any], world: dict[str, Any]) -> None:
    if landlock.kernel_abi() < 4:
        pytest.skip("this kernel already lacks ABI 4")
    r = subprocess.run([KUBECIS, "profile", "run", "--landlock-abi", "3", "-p", str(learned["profile"]), "--",
                        *world["cmd"]], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "cannot enforce every rule of the profile; refusing (--best-effort" in _one_error_line(r.stderr)
    assert "cannot enforce: TCP connect/bind by port (needs ABI 4, have 3)" in r.stderr


def test_learn_never_started(tmp_path: Path) -> None:
    script = tmp_path / "bad"
    script.write_text("#!/nonexistent/interpreter\n")
    script.chmod(0o755)
    out = tmp_path / "o.yaml"
    r = subprocess.run([KUBECIS, "profile", "learn", "-o", str(out), "--", str(script)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert f"{script} never started" in _one_error_line(r.stderr)
    assert not out.exists()
