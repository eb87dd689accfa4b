"""EncryptionConfiguration files in the layouts the Kubernetes documentation shows, and the traps around them, give
the verdict the API server's behaviour implies (CIS 1.2.27 "--encryption-provider-config set as appropriate" and
1.2.28 "encryption providers appropriately configured", v1.9+ numbering; cis-1.8's 1.2.28/1.2.29 for Kubernetes
1.26, which had no wildcards)."""

from __future__ import annotations

import pytest

from kubecis.configfiles import Malformed, decode, encryption

from .node import ENC, node, states, verdicts

HEAD = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
AESCBC = """\
      - aescbc:
          keys:
            - name: key1
              secret: c2VjcmV0IGlzIHNlY3VyZQ==
"""
IDENTITY = "      - identity: {}\n"


def entry(resources: str, *providers: str) -> str:
    names = "".join(f"      - {r!r}\n" if r.startswith("*") else f"      - {r}\n" for r in resources.split())
    return "  - resources:\n" + names + "    providers:\n" + "".join(providers)


def config(*entries: str) -> str:
    return HEAD + "resources:\n" + "".join(entries)


DOCS_WILDCARDS = HEAD + """\
resources:
  - resources:
      - events
    providers:
      - identity: {} # do not encrypt Events even though *.* is specified below
  - resources:
      - secrets
      - configmaps
      - pandas.awesome.bears.example
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: c2VjcmV0IGlzIHNlY3VyZQ==
  - resources:
      - '*.apps'
    providers:
      - aescbc:
          keys:
          - name: key2
            secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==
  - resources:
      - '*.*'
    providers:
      - aescbc:
          keys:
          - name: key3
            secret: c2VjcmV0IGlzIHNlY3VyZSwgSSB0aGluaw==
"""
KMS_V2 = config(entry("secrets", """\
      - kms:
          apiVersion: v2
          name: myKmsPluginFoo
          endpoint: unix:///tmp/socketfile-foo.sock
          timeout: 3s
      - kms:
          apiVersion: v2
          name: myKmsPluginBar
          endpoint: unix:///tmp/socketfile-bar.sock
          timeout: 3s
"""))
KMS_V1 = config(entry("secrets", """\
      - kms:
          name: myKmsPluginFoo
          endpoint: unix:///tmp/socketfile-foo.sock
          cachesize: 100
          timeout: 3s
""", IDENTITY))
SECRETBOX = config(entry("secrets", """\
      - secretbox:
          keys:
            - name: key1
              secret: YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=
""", IDENTITY))
K3S_JSON = ('{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":'
            '["secrets"],"providers":[{"aescbc":{"keys":[{"name":"aescbckey","secret":"c2VjcmV0"}]}},{"identity":{}}]}]}')

P, F, W = "PASS", "FAIL", "WARN"

# (name, file content, 1.2.27, 1.2.28, what the evidence shows)
TABLE = [
    ("aescbc (docs)", config(entry("secrets configmaps pandas.awesome.bears.example", AESCBC, IDENTITY)), P, P,
     "secrets_provider: aescbc"),
    ("secretbox", SECRETBOX, P, P, "secretbox (1 key: key1), identity"),
    ("kms v2, two plugins", KMS_V2, P, P, "kms v2 (name myKmsPluginFoo"),
    ("kms v1 (deprecated, still encrypts)", KMS_V1, P, P, "KMS v1 is deprecated"),
    ("k3s JSON layout", K3S_JSON, P, P, "aescbc (1 key: aescbckey)"),
    ("identity first: secrets stored in plaintext", config(entry("secrets", IDENTITY, AESCBC)), P, F,
     "identity is the first provider"),
    ("the issue's trap: secrets identity-first, configmaps aescbc after", config(
        entry("secrets", IDENTITY, AESCBC), entry("configmaps", AESCBC, IDENTITY)), P, F, "resources[0] (secrets)"),
    ("configmaps encrypted, secrets in a later identity-first entry", config(
        entry("configmaps", AESCBC, IDENTITY), entry("secrets", IDENTITY, AESCBC)), P, F, "resources[1] (secrets)"),
    ("secrets in two entries: the first wins", config(
        entry("secrets", IDENTITY), entry("secrets", AESCBC)), P, F, "resources[0] (secrets)"),
    ("secrets first encrypted, configmaps identity", config(
        entry("secrets", AESCBC, IDENTITY), entry("configmaps", IDENTITY)), P, P, "resources[0] (secrets)"),
    ("identity only", config(entry("secrets", IDENTITY)), P, F, "secrets_provider: identity"),
    ("aesgcm: encrypts, but not a CIS provider", config(entry("secrets", AESCBC.replace("aescbc", "aesgcm"))), P, F,
     "aesgcm is not among the providers CIS names"),
    ("no entry covers secrets", config(entry("configmaps", AESCBC)), P, F, "no resources entry covers secrets"),
    ("secrets. is core secrets", config(entry("secrets.", AESCBC)), P, P, "resources[0] (secrets.)"),
    ("secrets.v1 is a group named v1, not core", config(entry("secrets.v1", AESCBC)), P, F, "secrets_rule: none"),
    ("*. covers every core resource", config(entry("*.", AESCBC)), P, P, "through *."),
    ("*.* covers everything", config(entry("*.*", AESCBC)), P, P, "through *.*"),
    ("*.apps does not cover core secrets", config(entry("*.apps", AESCBC)), P, F, "secrets_rule: none"),
    ("docs wildcard example: secrets by name before *.*", DOCS_WILDCARDS, P, P, "resources[1] (secrets, configmaps"),
    ("events identity, then *.* aescbc", config(entry("events", IDENTITY), entry("*.*", AESCBC)), P, P, "through *.*"),
    # files the API server refuses: it cannot be running with them -> WARN with the reason, never PASS
    ("empty key list", config(entry("secrets", "      - aescbc:\n          keys: []\n")), W, W,
     "at least one keys is required"),
    ("key without a secret", config(entry("secrets", "      - aescbc:\n          keys:\n            - name: k\n")), W,
     W, "secret is a mandatory field"),
    ("identity: with no value (null)", config(entry("secrets", "      - identity:\n")), W, W,
     "does not contain any of the expected providers"),
    ("two providers in one element", config(entry("secrets", "      - identity: {}\n        aescbc: {keys: "
                                                              "[{name: k, secret: c2VjcmV0}]}\n")), W, W,
     "more than one provider"),
    ("*. before secrets: masked", config(entry("*.", AESCBC), entry("secrets", IDENTITY)), W, W,
     'resource "secrets" is masked by earlier rule "*."'),
    ("secrets and *. in one entry", config(entry("secrets *.", AESCBC)), W, W, "overlapping resources"),
    ("capital letters", config(entry("Secrets", AESCBC)), W, W, "capital letters"),
    ("kms without endpoint", config(entry("secrets", "      - kms:\n          apiVersion: v2\n          name: x\n")),
     W, W, "endpoint is a mandatory field"),
    ("kms v2 with cachesize", config(entry("secrets", "      - kms:\n          apiVersion: v2\n          name: x\n"
                                                      "          endpoint: unix:///k.sock\n          cachesize: 10\n")),
     W, W, "cachesize is not supported in v2"),
    ("kms over tcp", config(entry("secrets", "      - kms:\n          name: x\n          endpoint: tcp://k:1\n")), W,
     W, 'unsupported scheme "tcp"'),
    ("the pre-1.13 kind: EncryptionConfig", "kind: EncryptionConfig\napiVersion: v1\nresources:\n- resources: "
     "[secrets]\n  providers: [{aescbc: {keys: [{name: k, secret: c2VjcmV0}]}}]\n", W, W, 'kind "EncryptionConfig"'),
    ("not YAML", HEAD + "resources:\n  - resources: [secrets\n", W, W, "not valid YAML or JSON"),
    ("empty file", "", W, W, "the file is empty"),
    ("no resources", HEAD, W, W, "at least one resources is required"),
    ("resources is a string", HEAD + "resources: secrets\n", W, W, "resources: expected a list"),
]


@pytest.mark.parametrize(("name", "text", "flag_check", "provider_check", "evidence"), TABLE, ids=[t[0] for t in TABLE])
def test_encryption_configuration(name: str, text: str, flag_check: str, provider_check: str, evidence: str) -> None:
    v = verdicts(node({"encryption-provider-config": ENC}, {ENC: text}), ids=("1.2.27", "1.2.28"))
    assert (v["1.2.27"].state, v["1.2.28"].state) == (flag_check, provider_check), (v["1.2.28"])
    shown = v["1.2.28"].actual if provider_check != W else v["1.2.28"].reason
    assert evidence in shown, shown
    if provider_check == W:
        assert ENC in v["1.2.28"].reason
    if provider_check == F:
        assert "secrets_provider: " in v["1.2.28"].actual  # the evidence, not an empty audit


def test_no_encryption_provider_config_fails_both() -> None:
    v = verdicts(node({}), ids=("1.2.27", "1.2.28"))
    assert (v["1.2.27"].state, v["1.2.28"].state) == (F, F)
    assert "runs without --encryption-provider-config" in v["1.2.28"].actual


@pytest.mark.parametrize(("files", "why"), [
    ({}, "which does not exist on this node"),
    ({"/etc/kubernetes/enc/enc.yaml/x": ""}, "which is a directory"),
])
def test_named_but_unreadable_is_warn(files: dict[str, str], why: str) -> None:
    host = node({"encryption-provider-config": ENC}, files)
    if files:
        host.files.clear()
        host.dirs.add(ENC)
    v = verdicts(host, ids=("1.2.27", "1.2.28"))
    assert (v["1.2.27"].state, v["1.2.28"].state) == (W, W)
    assert why in v["1.2.28"].reason


def test_unreadable_file_is_warn() -> None:
    host = node({"encryption-provider-config": ENC}, {ENC: "x"})
    host.denied.add(ENC)
    v = verdicts(host, ids=("1.2.28",))
    assert v["1.2.28"].state == W and "Permission denied" in v["1.2.28"].reason


def test_relative_path_is_warn() -> None:
    v = verdicts(node({"encryption-provider-config": "enc.yaml"}), ids=("1.2.28",))
    assert v["1.2.28"].state == W and "relative path" in v["1.2.28"].reason


def test_unsafe_path_is_not_substituted() -> None:
    v = verdicts(node({"encryption-provider-config": "/x;touch /tmp/pwned"}), ids=("1.2.27", "1.2.28"))
    assert (v["1.2.27"].state, v["1.2.28"].state) == (W, W)
    assert "$apiserverencryptionconfig not substituted" in v["1.2.28"].reason


@pytest.mark.parametrize(("text", "before_127", "from_127"), [
    (config(entry("*.", AESCBC)), F, P),
    (config(entry("*.*", AESCBC)), F, P),
    (config(entry("secrets", AESCBC), entry("*.*", IDENTITY)), P, P),
])
def test_wildcards_arrived_in_kubernetes_1_27(text: str, before_127: str, from_127: str) -> None:
    host = node({"encryption-provider-config": ENC}, {ENC: text})
    assert states(host, "cis-1.8", ("1.2.29",)) == {"1.2.29": before_127}  # cis-1.8: Kubernetes 1.26
    assert states(host, "cis-1.9", ("1.2.28",)) == {"1.2.28": from_127}
    if before_127 == F:
        assert "honoured from Kubernetes 1.27" in verdicts(host, "cis-1.8", ("1.2.29",))["1.2.29"].actual


def test_write_provider_lookup_order() -> None:
    cfg = encryption.parse(decode(DOCS_WILDCARDS))
    assert encryption.write_provider(cfg, "", "secrets").matched == "secrets"
    assert encryption.write_provider(cfg, "apps", "deployments").matched == "*.apps"
    assert encryption.write_provider(cfg, "", "events").provider.kind == "identity"
    assert encryption.write_provider(cfg, "batch", "jobs").matched == "*.*"
    assert encryption.write_provider(cfg, "batch", "jobs", wildcards=False).rule is None


def test_malformed_never_quotes_key_material() -> None:
    text = config(entry("secrets", "      - aescbc:\n          keys:\n            - name: k\n              secret: "
                                   "[\"TOPSECRETKEYMATERIAL\"]\n"))
    with pytest.raises(Malformed) as exc:
        encryption.parse(decode(text))
    assert "TOPSECRET" not in str(exc.value)
    v = verdicts(node({"encryption-provider-config": ENC}, {ENC: text}), ids=("1.2.28",))
    assert v["1.2.28"].state == W and "TOPSECRET" not in v["1.2.28"].reason + v["1.2.28"].actual
