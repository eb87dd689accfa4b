"""A snapshot records the configuration files with every key redacted (YAML block and flow style, JSON) and the
replay decides exactly as the live run: the probes need provider names, order, key names and counts, never keys."""

from __future__ import annotations

import base64
import json

from kubecis.host.snapshot import RecordingHost, SnapshotHost

from .node import ADMISSION, AUDIT, ENC, node, verdicts

KEYS = [base64.b64encode(f"kubecis-unit-test-aes-key-{n:06d}".encode()).decode() for n in range(3)]
BLOCK = f"""\
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [configmaps]
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: {KEYS[0]}
  - resources:
      - secrets
    providers:
      - identity: {{}}
      - secretbox: {{keys: [{{name: key2, secret: "{KEYS[1]}"}}]}}
"""
JSON = json.dumps({"kind": "EncryptionConfiguration", "apiVersion": "apiserver.config.k8s.io/v1", "resources": [
    {"resources": ["secrets"], "providers": [{"aesgcm": {"keys": [{"name": "k", "secret": KEYS[2]}]}},
                                             {"identity": {}}]}]})
POLICY = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"
ADM = ("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: EventRateLimit\n"
       "  configuration: {apiVersion: eventratelimit.admission.k8s.io/v1alpha1, kind: Configuration, limits: "
       "[{type: Server, qps: 10, burst: 20}]}\n")
FLAGS = {"encryption-provider-config": ENC, "audit-policy-file": AUDIT, "admission-control-config-file": ADMISSION,
         "enable-admission-plugins": "EventRateLimit"}


def test_record_redacts_keys_and_replays_the_same_verdicts() -> None:
    for text in (BLOCK, JSON):
        live = node(FLAGS, {ENC: text, AUDIT: POLICY, ADMISSION: ADM})
        rec = RecordingHost(live)
        recorded = verdicts(rec)
        assert recorded == verdicts(live)
        doc = json.loads(json.dumps(rec.document()))
        blob = json.dumps(doc).encode()
        contents = b"\n".join(base64.b64decode(e[1]["ok"]) for e in doc["entries"]
                              if e[0].startswith('["read"') and "ok" in e[1])
        assert b"REDACTED-BY-KUBECIS" in contents
        for key in KEYS:
            assert key.encode() not in blob + contents
            assert base64.b64decode(key) not in blob + contents
        replayed = verdicts(SnapshotHost(doc))
        assert replayed == recorded
        assert replayed["1.2.28"].state == "FAIL"  # identity first (block), aesgcm (JSON)
        assert {k: v.state for k, v in replayed.items() if k != "1.2.28"} == {
            "1.2.9": "PASS", "1.2.27": "PASS", "1.2.29": "FAIL", "3.2.1": "PASS", "3.2.2": "PASS"}
