"""1.2.9: EventRateLimit enabled AND configured with limits in the AdmissionConfiguration the API server names
(inline or through a path, first entry wins, relative paths from the admission file's directory). 1.2.29 (cis-1.9+
numbering): only strong cipher suites, or TLS 1.3 only."""

from __future__ import annotations

import pytest

from .node import ADMISSION, node, states, verdicts

P, F, W = "PASS", "FAIL", "WARN"
ADM = "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n"
ERL = ("apiVersion: eventratelimit.admission.k8s.io/v1alpha1\nkind: Configuration\nlimits:\n"
       "- type: Server\n  qps: 5000\n  burst: 20000\n- type: Namespace\n  qps: 50\n  burst: 100\n  cacheSize: 2000\n")
ERL_FILE = "/etc/kubernetes/admission/eventratelimit.yaml"
ENABLED = {"enable-admission-plugins": "NodeRestriction,EventRateLimit", "admission-control-config-file": ADMISSION}
INLINE = ADM + """\
  - name: EventRateLimit
    configuration:
      apiVersion: eventratelimit.admission.k8s.io/v1alpha1
      kind: Configuration
      limits:
        - type: User
          qps: 10
          burst: 50
"""

# (name, flags, files, 1.2.9, evidence)
TABLE = [
    ("path to a config file", ENABLED, {ADMISSION: ADM + f"  - name: EventRateLimit\n    path: {ERL_FILE}\n",
                                        ERL_FILE: ERL}, P, "limit: type=Namespace qps=50 burst=100 cacheSize=2000"),
    ("relative path from the admission file's directory", ENABLED, {
        ADMISSION: ADM + "  - name: EventRateLimit\n    path: eventratelimit.yaml\n", ERL_FILE: ERL}, P,
     f"eventratelimit_config: {ERL_FILE}"),
    ("inline configuration", ENABLED, {ADMISSION: INLINE}, P, "eventratelimit_config: inline in plugins[0]"),
    ("legacy group apiserver.k8s.io/v1alpha1", ENABLED, {
        ADMISSION: INLINE.replace("apiserver.config.k8s.io/v1", "apiserver.k8s.io/v1alpha1")}, P, "type=User"),
    ("plugin enabled, no configuration entry", ENABLED, {ADMISSION: ADM + "  - name: PodSecurity\n    path: x\n"}, F,
     "no plugins entry named EventRateLimit"),
    ("plugin enabled, no --admission-control-config-file", {"enable-admission-plugins": "EventRateLimit"}, {}, F,
     "admission_config: none"),
    ("configured but not enabled", {"enable-admission-plugins": "NodeRestriction",
                                    "admission-control-config-file": ADMISSION}, {ADMISSION: INLINE}, F,
     "event_rate_limits: 1"),
    ("legacy imagePolicy file", ENABLED, {ADMISSION: "imagePolicy:\n  kubeConfigFile: /x\n"}, F,
     "a legacy ImagePolicyWebhook/PodNodeSelector file"),
    ("first entry wins (the second is never read)", ENABLED, {
        ADMISSION: ADM + "  - name: EventRateLimit\n    path: /missing.yaml\n" + INLINE[len(ADM):]}, W,
     "/missing.yaml, which does not exist"),
    # refused by the API server -> WARN
    ("empty limits", ENABLED, {ADMISSION: INLINE.split("      limits:")[0] + "      limits: []\n"}, W,
     "limits: Invalid value: must not be empty"),
    ("qps 0", ENABLED, {ADMISSION: INLINE.replace("qps: 10", "qps: 0")}, W, "qps: Invalid value: 0: must be positive"),
    ("unknown limit type", ENABLED, {ADMISSION: INLINE.replace("type: User", "type: Pod")}, W,
     'type: Unsupported value: "Pod"'),
    ("wrong kind for the plugin", ENABLED, {ADMISSION: INLINE.replace("kind: Configuration", "kind: Config")}, W,
     'kind "Config"'),
    ("admission file malformed", ENABLED, {ADMISSION: "plugins: [\n"}, W, "not valid YAML or JSON"),
    ("admission file missing", ENABLED, {}, W, "does not exist on this node"),
]


@pytest.mark.parametrize(("name", "flags", "files", "state", "evidence"), TABLE, ids=[t[0] for t in TABLE])
def test_event_rate_limit(name: str, flags: dict[str, str], files: dict[str, str], state: str, evidence: str) -> None:
    v = verdicts(node(flags, files), ids=("1.2.9",))["1.2.9"]
    assert v.state == state, v
    assert evidence in (v.reason if state == W else v.actual), v


STRONG = ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
CBC = STRONG + ",TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"


@pytest.mark.parametrize(("flags", "cis_1_10", "cis_2_0"), [
    ({"tls-cipher-suites": STRONG}, P, P),
    ({"tls-cipher-suites": CBC}, P, F),  # CBC suites left CIS's list in v1.12
    ({"tls-cipher-suites": STRONG + ",TLS_RSA_WITH_RC4_128_SHA"}, F, F),
    ({"tls-min-version": "VersionTLS13"}, P, P),  # TLS 1.3 negotiates only strong suites
    ({"tls-min-version": "VersionTLS13", "tls-cipher-suites": CBC}, P, P),
    ({"tls-min-version": "VersionTLS12"}, F, F),
    ({}, F, F),  # Go's defaults include CBC suites: decided from the evidence, FAIL (not WARN)
])
def test_strong_ciphers(flags: dict[str, str], cis_1_10: str, cis_2_0: str) -> None:
    host = node(flags)
    assert states(host, "cis-1.10", ("1.2.29",)) == {"1.2.29": cis_1_10}
    assert states(host, "cis-2.0", ("1.2.29",)) == {"1.2.29": cis_2_0}
