"""Secrets planted on a node in every form the red team found (and more), for the snapshot redaction tests.

Every secret value contains a tag ``plnt<NN>`` that appears nowhere else; a snapshot holds no secret
when no tag is found in it, in the base64-decoded strings inside it, or in what those decode to
(:func:`haystack`). ``KEPT`` lists what the checks need from the same places and must survive.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
from collections.abc import Iterator

# ------------------------------------------------------------------------------------------ processes
# (executable name, argv, environment); the form each plants is in the comment


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


PEM_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEplnt41AAAAKEYBODY\nQUJDREVGplnt41\n-----END RSA PRIVATE KEY-----\n"
K3S_TOKEN = "K10" + "0123456789abcdef" * 4 + "::server:plnt13k3stokenvalue"
JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9." + base64.urlsafe_b64encode(b'{"sub":"plnt51jwt"}').decode().rstrip("=")
       + ".c2lnbmF0dXJlcGxudDUx")

PROCESSES: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
    ("kube-proxy", ("kube-proxy", "--token=plnt01tokeneq", "--v=2", "--kubeconfig=/var/lib/kube-proxy/kc.conf"), {}),
    ("mystery-agent", ("mystery-agent", "--password", "plnt02passsep", "--anonymous-auth=false"), {
        "DB_PASS": "plnt18dbpass",
        "API_KEY": "plnt19apikey",
        "KUBE_BEARER": "plnt20bearer",
        "X_PASSWD": "plnt21passwd",
        "AWS_CREDENTIALS": "plnt22awscreds",
        "SSH_PRIVATE_KEY_B64": "plnt23privkey",
        "MY_AUTH_THING": "plnt24auth",
        "DATABASE_URL": "postgres://app:plnt25dburl@db:5432/app",
        "GITHUB_TOKEN": "plnt26ghtoken",
        "ETCD_CLIENT_CERT_AUTH": "true",
        "ETCD_KEY_FILE": "/etc/etcd/server.key",
    }),
    ("mysql", ("mysql", "-uroot", "-pplnt03mysql", "-h", "db", "app"), {}),
    ("oidc-helper", ("oidc-helper", "--oidc-client-secret=plnt04oidcsec", "--oidc-client-id=kubernetes",
                     "--datastore-endpoint=https://kine:plnt05urlpw@db.example:5432/kine"), {}),
    ("sh", ("sh", "-c", "curl -H 'Authorization: Bearer plnt07bearerhdr' https://api.example/ ; sleep 1000"), {}),
    ("sshpass", ("sshpass", "-p", "plnt08sshpass", "ssh", "backup@host"), {}),
    ("redis-cli", ("redis-cli", "-h", "cache", "-a", "plnt09redis", "monitor"), {}),
    ("cloud-agent", ("cloud-agent", "--api-key=plnt10apikeyflag", "--client-secret", "plnt11clisec",
                     "-password=plnt12goflag", "--authentication-token-webhook-cache-ttl=2m"), {}),
    ("k3s", ("k3s", "agent", "--token", K3S_TOKEN, "--server", "https://10.0.0.1:6443"), {}),
    ("helm", ("helm", "upgrade", "db", "chart", "--set", "db.password=plnt14helmset"), {}),
    ("docker", ("docker", "login", "-u", "robot", "-p", "plnt15dockerlogin", "registry.example"), {}),
    ("openssl", ("openssl", "rsa", "-in", "/k.pem", "-passin", "pass:plnt16openssl", "-passout", "env:PW"), {}),
    ("curl", ("curl", "-u", "admin:plnt17curluser", "https://api.example/"), {}),
]

# the environment `snapshot record` runs in (an audit's `echo $REGISTRY_PASSWORD` reads it)
AUDIT_ENV = {"REGISTRY_PASSWORD": "plnt27auditenv"}

# ---------------------------------------------------------------------------------------------- files

MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  name: planted
  namespace: kube-system
spec:
  tolerations:
  - key: node-role.kubernetes.io/control-plane
    effect: NoSchedule
  containers:
  - name: planted
    image: planted:1
    command:
    - planted
    - --token=plnt30manifesttoken
    - --basic-auth-password
    - plnt31manifestsep
    - --anonymous-auth=false
    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key
    env:
    - name: DB_PASSWORD
      value: plnt28manifestenv
    - name: UPSTREAM
      value: https://user:plnt29manifesturl@upstream.example/
    - {name: API_TOKEN, value: "plnt32flowenv"}
    - name: LOG_LEVEL
      value: debug
  volumes:
  - name: creds
    secret:
      secretName: my-secret
"""

ENCRYPTION_FLOW = """apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys: [{name: key1, secret: plnt33flowkey}]
      - secretbox:
          keys:
            - name: key2
              secret: plnt34blockkey
      - identity: {}
"""

ENCRYPTION_JSON = json.dumps({
    "kind": "EncryptionConfiguration", "apiVersion": "apiserver.config.k8s.io/v1",
    "resources": [{"resources": ["secrets"], "providers": [{"aesgcm": {"keys": [
        {"name": "key1", "secret": "plnt35jsonkey"}]}}, {"identity": {}}]}],
}, indent=2)

_CA = _b64("-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n")
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: {_CA}
users:
- name: oidc
  user:
    auth-provider:
      name: oidc
      config:
        access-token: plnt36accesstoken
        client-id: kubernetes
        client-secret: plnt37clientsecret
        id-token: {JWT}
        refresh-token: plnt38refresh
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: get-token
      args: ["--token", "plnt39execarg"]
      env:
      - name: HELPER_MODE
        value: plnt40execenv
- name: keyed
  user:
    client-certificate-data: Q0VSVERBVEE=
    client-key-data: {_b64(PEM_KEY)}
"""

KUBECONFIG_JSON = json.dumps({"apiVersion": "v1", "kind": "Config", "users": [
    {"name": "j", "user": {"token": "plnt42jsontoken"}}]})

FILES: dict[str, str] = {
    "/etc/kubernetes/manifests/planted.yaml": MANIFEST,
    "/etc/kubernetes/enc/flow.yaml": ENCRYPTION_FLOW,
    "/etc/kubernetes/enc/json.json": ENCRYPTION_JSON,
    "/etc/kubernetes/planted.conf": KUBECONFIG,
    "/etc/kubernetes/planted.json": KUBECONFIG_JSON,
    "/etc/kubernetes/pki/truncated.key": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIplnt43truncated\nAAAAplnt43\n",
    "/etc/kubernetes/pki/full.key": "-----BEGIN PRIVATE KEY-----\nMIIplnt44fullkey\n-----END PRIVATE KEY-----\n",
    "/etc/kubernetes/request.txt": ("GET /api HTTP/1.1\nAuthorization: Basic " + _b64("admin:plnt45basic")
                                    + "\nX-Auth-Token: plnt46xauth\nnote: bearer plnt47bearertext\njwt " + JWT + "\n"),
    "/etc/kubernetes/tokens.csv": "plnt48csvtoken,admin,1,\"system:masters\"\n",
    "/etc/default/planted-kubelet": ('KUBELET_EXTRA_ARGS="--token=plnt49envfile --rotate-certificates=true"\n'
                                     "DB_PASSWORD=plnt50envfile\n"),
    "/etc/rancher/k3s/config.yaml": ("token: plnt52k3sconfig\nagent-token: plnt53k3sagent\nsecrets-encryption: true\n"
                                     "bootstrap: abc123.plnt06bootstrap0\n"),
    "/root/.docker/config.json": json.dumps({"auths": {"registry.example": {"auth": _b64("robot:plnt54dockercfg")}}}),
    "/root/.my.cnf": "[client]\nuser = root\npassword = plnt55mycnf\n",
    "/etc/systemd/system/planted.service.d/20-planted.conf": (
        '[Service]\nEnvironment="DB_PASSWORD=plnt56systemd"\n'
        "ExecStart=/usr/bin/kubelet --bootstrap-token plnt57execstart --anonymous-auth=false\n"),
}

# ----------------------------------------------------------------------------------- journal and API
# (used where a test host answers them; the hermetic node has no journal or API server)

JOURNAL_FIELDS: list[tuple[str, bytes]] = [
    ("MESSAGE", b"Running kube-apiserver --token=plnt58journal --oidc-client-secret plnt59journal"),
    ("_CMDLINE", b"/usr/bin/k3s server --datastore-endpoint=mysql://k3s:plnt60cmdline@tcp(db)/k3s"),
    ("_SYSTEMD_UNIT", b"k3s.service"),
    ("MESSAGE", b"join with abc123.plnt61bootstrap0 and Authorization: Bearer plnt62bearer"),
]

POD_LIST = {"kind": "PodList", "apiVersion": "v1", "items": [{
    "metadata": {"name": "app", "namespace": "default", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"spec": {"password": "plnt63annot"}})}},
    "spec": {
        "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}],
        "containers": [{
            "name": "app", "image": "app:1",
            "args": ["--db-password", "plnt64podarg", "--token=plnt65podarg", "--v=2"],
            "env": [{"name": "DB_PASSWORD", "value": "plnt66podenv"}, {"name": "MODE", "value": "prod"},
                    {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
        }],
        "volumes": [{"name": "s", "secret": {"secretName": "db"}}],
    },
}]}
SECRET = {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "db"}, "type": "Opaque",
          "data": {"password": _b64("plnt67secretdata")}, "stringData": {"extra": "plnt68stringdata"}}
CONFIGMAP = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "kc"},
             "data": {"kubeconfig": "users:\n- name: x\n  user:\n    token: plnt69cmtoken\n", "mode": "plain"}}
API: dict[str, dict[str, object]] = {
    "/api/v1/pods": POD_LIST, "/api/v1/namespaces/default/secrets/db": SECRET,
    "/api/v1/namespaces/default/configmaps/kc": CONFIGMAP,
}

# ------------------------------------------------------------------------------------------ the checks
# What must survive redaction: evidence checks evaluate, in the same places as the secrets.

KEPT = [
    b"--anonymous-auth=false",
    b"--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
    b"--authentication-token-webhook-cache-ttl=2m",
    b"--kubeconfig=/var/lib/kube-proxy/kc.conf",
    b"--oidc-client-id=kubernetes",
    b"key: node-role.kubernetes.io/control-plane",
    b"secretName: my-secret",
    b"keys: [{name: key1, secret: ",
    b"- aescbc:",
    b"- identity: {}",
    b"secrets-encryption: true",
    b"ETCD_CLIENT_CERT_AUTH=true",
    b"ETCD_KEY_FILE=/etc/etcd/server.key",
    b"client-certificate-data: Q0VSVERBVEE=",
    b"--rotate-certificates=true",
    b"-----BEGIN PRIVATE KEY-----\n" + b"REDACTED-BY-KUBECIS\n-----END PRIVATE KEY-----",
    b"-----BEGIN EC PRIVATE KEY-----",
    b"- name: LOG_LEVEL\n      value: debug",
]

TAG = re.compile(rb"plnt\d\d")


def tags() -> set[str]:
    """Every planted tag (the test fails if one is missing from the catalogue, i.e. a form was dropped)."""
    text = json.dumps([PROCESSES, AUDIT_ENV, FILES, [(k, v.decode()) for k, v in JOURNAL_FIELDS], API,
                       PEM_KEY, JWT, K3S_TOKEN])
    found = set(re.findall(r"plnt\d\d", text))
    found.update(re.findall(r"plnt\d\d", base64.urlsafe_b64decode(JWT.split(".")[1] + "==").decode()))
    return found


_B64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{8,}={0,2}")


def _decodings(data: bytes) -> Iterator[bytes]:
    for m in _B64_RUN.finditer(data):
        run = m.group(0)
        for alt in (None, b"-_"):
            for start in range(4):  # a run may begin mid-quantum (a base64 value after other base64 chars)
                piece = run[start:].rstrip(b"=")
                piece = piece[: len(piece) - len(piece) % 4] if len(piece) % 4 == 1 else piece
                try:
                    yield base64.b64decode(piece + b"=" * (-len(piece) % 4), altchars=alt)
                except (binascii.Error, ValueError):
                    continue


def haystack(snapshot: bytes, depth: int = 3) -> bytes:
    """The gunzipped snapshot, every base64 string in it decoded, and so on ``depth`` levels down."""
    level = [gzip.decompress(snapshot)]
    out = list(level)
    for _ in range(depth):
        level = [d for blob in level for d in _decodings(blob) if len(d) >= 4]
        out += level
    return b"\n".join(out)


def leaked(snapshot: bytes) -> list[str]:
    return sorted({m.decode() for m in TAG.findall(haystack(snapshot))})
