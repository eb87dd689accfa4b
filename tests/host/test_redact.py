"""Snapshots hold no secret: every planted form is redacted, what checks evaluate is kept (docs/snapshots.md)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecis.audit.native import NativeExecutor
from kubecis.host.base import Process
from kubecis.host.cluster import RecordingCluster, SnapshotCluster
from kubecis.host.journal import JournalEntry, JournalQuery, JournalResult
from kubecis.host.redact import (
    MARKER,
    redact_argv,
    redact_environ,
    redact_file,
    redact_json,
    redact_text,
    secret_env_name,
    secret_name,
)
from kubecis.host.rooted import RootedHost
from kubecis.host.snapshot import RecordingHost, SnapshotHost
from tests import planted_secrets as planted


class PlantedHost(RootedHost):
    """A mounted root holding the planted files, plus the planted processes, environment and journal."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.envs: dict[int, dict[str, str]] = {}
        self.procs: list[Process] = []
        for n, (name, argv, env) in enumerate(planted.PROCESSES):
            self.procs.append(Process(100 + n, 1, 0, name[:15], argv))
            self.envs[100 + n] = env

    @property
    def name(self) -> str:
        return "planted"

    def processes(self) -> list[Process]:
        return list(self.procs)

    def environ(self, pid: int) -> bytes:
        return b"".join(f"{k}={v}".encode() + b"\0" for k, v in self.envs[pid].items())

    def read(self, path: str) -> bytes:
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "proc" and parts[2].isdigit() and int(parts[2]) in self.envs:
            if parts[3] == "environ":
                return self.environ(int(parts[2]))
            if parts[3] == "cmdline":
                argv = next(p.cmdline for p in self.procs if p.pid == int(parts[2]))
                return b"\0".join(a.encode() for a in argv) + b"\0"
        return super().read(path)

    def getenv(self, name: str) -> str | None:
        return planted.AUDIT_ENV.get(name)

    def journal(self, q: JournalQuery) -> JournalResult:
        return JournalResult(1, (), (JournalEntry(tuple(planted.JOURNAL_FIELDS), 1, 1, "b" * 32, 1, "s" * 32, 7),))


class PlantedAPI:
    namespace = "default"

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        return 200, json.dumps(planted.API[path]).encode()

    def post(self, path: str, body: bytes, impersonate: str | None = None, groups: object = ()) -> tuple[int, bytes]:
        return 201, b"{}"


def _write_files(root: Path) -> None:
    for path, content in planted.FILES.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    (root / "etc/shadow").write_text("root:$6$salt$plnt70shadowhash:19000:0:99999:7:::\nbin:*:19000::::::\n")


SCRIPTS = [
    "ps -ef",
    "cat " + " ".join(sorted(planted.FILES)) + " /etc/shadow",
    *(f"cat /proc/{100 + n}/environ" for n in range(len(planted.PROCESSES))),
    *(f"cat /proc/{100 + n}/cmdline" for n in range(len(planted.PROCESSES))),
    "echo $REGISTRY_PASSWORD",
    "ps -ef | grep mystery-agent | grep -v grep | grep -c -- --anonymous-auth=false",
    "grep -c aescbc /etc/kubernetes/enc/flow.yaml",
]


def _record(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "root"
    _write_files(root)
    rec = RecordingHost(PlantedHost(str(root)))
    ex = NativeExecutor(rec)
    outputs = [ex.run(s).output for s in SCRIPTS]
    assert "plnt27auditenv" in outputs[-3]  # the live run sees the secrets (so the test can fail)
    rec.journal(JournalQuery(units=("k3s.service",)))
    cluster = RecordingCluster(PlantedAPI(), rec.entries)  # type: ignore[arg-type]
    for path in planted.API:
        cluster.get(path)
    snap = tmp_path / "planted.snap"
    rec.save(str(snap))
    return snap, outputs


def test_every_planted_secret_is_redacted(tmp_path: Path) -> None:
    snap, live = _record(tmp_path)
    raw = snap.read_bytes()
    every = planted.tags()
    assert len(every) >= 60, sorted(every)
    # the live outputs held the planted secrets: the recording saw them
    assert {t.decode() for t in planted.TAG.findall("\n".join(live).encode())} >= {"plnt01", "plnt28", "plnt55"}
    assert planted.leaked(raw) == []
    hay = planted.haystack(raw)
    missing = [k for k in planted.KEPT if k not in hay]
    assert missing == []
    assert b"root:" + MARKER.encode() + b":19000" in hay


def test_replay_keeps_the_verdicts_that_do_not_read_secrets(tmp_path: Path) -> None:
    snap, live = _record(tmp_path)
    host = SnapshotHost.load(str(snap))
    replay = [NativeExecutor(host).run(s) for s in SCRIPTS]
    assert [r.not_run for r in replay] == [""] * len(SCRIPTS)
    assert replay[-2].output == live[-2] == "1\n" and replay[-1].output == live[-1] == "1\n"
    assert replay[-3].output == MARKER + "\n"
    for n, (a, b) in enumerate(zip(live, replay, strict=True)):  # same lines, secrets replaced in place
        if n != 1:  # (the files: a PEM body of several lines becomes one marker line)
            assert len(a.splitlines()) == len(b.output.splitlines()), SCRIPTS[n]
    api = SnapshotCluster.from_host(host)
    status, body = api.get("/api/v1/pods")
    pod = json.loads(body)["items"][0]["spec"]
    assert status == 200 and pod["tolerations"] == planted.POD_LIST["items"][0]["spec"]["tolerations"]  # type: ignore[index]
    assert pod["containers"][0]["args"] == ["--db-password", MARKER, f"--token={MARKER}", "--v=2"]
    assert pod["containers"][0]["env"][1] == {"name": "MODE", "value": "prod"}
    assert pod["volumes"] == [{"name": "s", "secret": {"secretName": "db"}}]
    secret = json.loads(api.get("/api/v1/namespaces/default/secrets/db")[1])
    assert secret["data"] == {"password": base64.b64encode(MARKER.encode()).decode()}


# ----------------------------------------------------------------------------------------- unit rules


@pytest.mark.parametrize(("argv", "want"), [
    (["kube-apiserver", "--token=abc", "--anonymous-auth=false"], ["kube-apiserver", f"--token={MARKER}",
                                                                   "--anonymous-auth=false"]),
    (["x", "--password", "p", "--v=2"], ["x", "--password", MARKER, "--v=2"]),
    (["x", "--service-account-key-file=/etc/k/sa.pub", "--token-auth-file=/etc/t.csv"],
     ["x", "--service-account-key-file=/etc/k/sa.pub", "--token-auth-file=/etc/t.csv"]),
    (["x", "--authorization-mode=Node,RBAC", "--client-cert-auth=true", "--use-service-account-credentials=true"],
     ["x", "--authorization-mode=Node,RBAC", "--client-cert-auth=true", "--use-service-account-credentials=true"]),
    (["x", "--password=1234", "--token-ttl=0", "--service-account-max-token-expiration=48h"],
     ["x", f"--password={MARKER}", "--token-ttl=0", "--service-account-max-token-expiration=48h"]),
    (["x", "--etcd-servers=https://u:pw@h:2379,https://h2:2379"], ["x", f"--etcd-servers=https://u:{MARKER}@h:2379,https://h2:2379"]),
    (["/usr/bin/mysql", "-p", "db"], ["/usr/bin/mysql", "-p", "db"]),
    (["docker", "run", "-p", "80:80", "img"], ["docker", "run", "-p", "80:80", "img"]),
    (["x", "--token", "--v=2"], ["x", "--token", "--v=2"]),
    (["x", "--key", "/etc/k.pem", "--cert", "c.pem"], ["x", "--key", "/etc/k.pem", "--cert", "c.pem"]),
    (["htpasswd", "-bc", "/f", "u", "pw"], ["htpasswd", "-bc", "/f", "u", MARKER]),
])
def test_argv_rules(argv: list[str], want: list[str]) -> None:
    assert redact_argv(argv) == want


@pytest.mark.parametrize("text", [
    "sh -c \"app --password 'my s3cr3t'\"",
    "x --header=X-Vault-Token: s3cr3t",
    "a:\n  token: >-\n    s3cr3t\n\n    czNjcjN0\n  other: [1\n",
    '{"headers": {"Authorization": "Basic czNjcjN0"}}',
    "redis://:s3cr3t@cache:6379/0",
    "Server=db;User Id=sa;Password=s3cr3t;",
    "kubectl create secret generic x --from-literal=password=s3cr3t",
    "--header=X-Vault-Token: s3cr3t",
    "Cookie: session=s3cr3t",
    "git clone https://oauth2:s3cr3t@gitlab.example/x.git",
    "password: &pw s3cr3t\nother: *pw\n",
    "token: |\n  s3cr3t\n",
    '"password" : "s3cr3t"\r\n',
    "-----BEGIN OPENSSH PRIVATE KEY-----\nczNjcjN0\n-----END OPENSSH PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nczNjcjN0",
    "MYSQL_ROOT_PASSWORD=s3cr3t",
    "x AWS_SECRET_ACCESS_KEY=s3cr3t y",
])
def test_more_forms(text: str) -> None:
    for out in (redact_file(text.encode(), "/f").decode(), redact_text(text), redact_argv(["x", text])[1]):
        assert "s3cr3t" not in out and "czNjcjN0" not in out, out


def test_more_argv_forms() -> None:
    for argv in (["az", "login", "-u", "me", "-p", "s3cr3t"], ["kubeadm", "join", "--certificate-key", "s3cr3t"],
                 ["sudo", "-u", "db", "mysql", "-ps3cr3t"], ["env", "DB_PASSWORD=s3cr3t", "app"],
                 ["kubectl", "exec", "pod", "--", "sh", "-c", "PGPASSWORD=s3cr3t psql -h db"]):
        assert "s3cr3t" not in " ".join(redact_argv(argv)), argv


def test_names() -> None:
    for n in ("token", "oidc-client-secret", "client-key-data", "access-token", "X-Auth-Token", "apiKey", "auth",
              "refresh_token", "privateKey", "passphrase", "db.password", "cookie"):
        assert secret_name(n), n
    for n in ("key", "secretName", "token-auth-file", "authorization-mode", "authorization", "tlsPrivateKeyFile",
              "discovery-token-ca-cert-hash", "secretKeyRef", "name", "value", "keyFile", "automount"):
        assert not secret_name(n), n
    assert secret_name("key", bare_key=True)
    for n in ("DB_PASS", "API_KEY", "KUBE_BEARER", "A_PASSWD", "X_CREDENTIALS", "SSH_PRIVATE_THING", "MY_AUTH_X",
              "PGPASSWORD", "AUTHTOKEN", "DBPASS"):
        assert secret_env_name(n), n
    for n in ("PATH", "HOME", "KUBECONFIG", "ETCD_KEY_FILE", "SECRET_NAME", "HOSTNAME", "LANG"):
        assert not secret_env_name(n), n


def test_the_quick_filter_lets_every_rule_through() -> None:
    """redact_text skips text with no hint of a secret: every trigger of a rule must be a hint."""
    from kubecis.host import redact

    for text in [*redact._CLIENTS, *redact._WORDS, "LS0tLS1CRUdJTiBQUklWQVRF", "a://b", "abcdef.0123456789abcdef",
                 "K10abc", "eyJhbGciOi", "Authorization", "PRIVATE KEY", "DB_PASS", "MY_PRIVATE", "X_AUTHZ"]:
        assert not redact._quiet(text), text
    assert redact._quiet("--advertise-address=10.0.0.10") and redact._quiet("/usr/bin/kube-apiserver")


def test_text_and_file_rules() -> None:
    assert redact_text("a -----BEGIN PRIVATE KEY-----\nxyz") == f"a -----BEGIN PRIVATE KEY-----\n{MARKER}\n"
    assert redact_text("Authorization: Basic dXNlcjpwdw==") == f"Authorization: Basic {MARKER}"
    assert redact_text("authorization: Webhook") == "authorization: Webhook"
    assert redact_text('{"token":"x","mode":"y"}') == f'{{"token":"{MARKER}","mode":"y"}}'
    assert redact_text("curl https://u:p@h/x?access_token=abc&x=1") == \
        f"curl https://u:{MARKER}@h/x?access_token={MARKER}&x=1"
    kubelet = b"authentication:\n  anonymous:\n    enabled: false\nauthorization:\n  mode: Webhook\n" \
              b"tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key\nstreamingConnectionIdleTimeout: 4h0m0s\n"
    assert redact_file(kubelet, "/var/lib/kubelet/config.yaml") == kubelet
    assert redact_file(b"abc\n", "/var/lib/rancher/k3s/server/token") == MARKER.encode() + b"\n"
    assert redact_file(b"root:x:0:0::/root:/bin/sh\n", "/etc/passwd") == b"root:x:0:0::/root:/bin/sh\n"
    manifest = planted.MANIFEST.encode()
    out = redact_file(manifest, "/m.yaml")
    import yaml

    assert yaml.safe_load(out)["spec"]["containers"][0]["command"][1] == f"--token={MARKER}"  # still valid YAML
    assert out.count(b"\n") == manifest.count(b"\n")
    doc = redact_json({"kind": "Secret", "data": {"a": "eA=="}, "items": None, "n": 5, "password": 5})
    assert doc == {"kind": "Secret", "data": {"a": base64.b64encode(MARKER.encode()).decode()}, "items": None,
                   "n": 5, "password": MARKER}
    assert redact_environ(b"A=1\0B_TOKEN=x\0") == b"A=1\0B_TOKEN=" + MARKER.encode() + b"\0"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode),
                 st.lists(st.sampled_from(["token: ", "--password ", "- name: X_TOKEN\n  value: ", "{", "[", "}",
                                           "]", ",", "\n", "  ", '"', "'", "-----BEGIN PRIVATE KEY-----", "Bearer ",
                                           "https://u:p@h", "key", "=", ":", "secret", "abc", "|\n", "&a ", "*a"]),
                          max_size=40).map(lambda xs: "".join(xs).encode())))
def test_redaction_never_fails_and_is_stable(data: bytes) -> None:
    once = redact_file(data, "/x.yaml")
    assert isinstance(once, bytes)
    assert redact_file(once, "/x.yaml") == redact_file(redact_file(once, "/x.yaml"), "/x.yaml")
    text = data.decode("utf-8", "surrogateescape")
    redact_text(text)
    redact_argv(text.split())
    redact_environ(data)

