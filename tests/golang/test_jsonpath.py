"""client-go JSONPath template semantics as kube-bench uses them (kube-bench-compat.md#path-mode)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecis.golang.jsonpath import check_syntax, render
from kubecis.golang.yaml import load_config


def _json(text: str) -> Any:
    decoded = load_config(text)
    assert decoded.error == ""
    return decoded.value


DOC = _json(
    """{
  "tlsCipherSuites": ["A", "B"],
  "readOnlyPort": 15000,
  "eventRecordQPS": 1000000,
  "small": 0.0001,
  "enabled": true,
  "nothing": null,
  "peer-transport-security": {"cert-file": "/p.crt", "auto-tls": false},
  "html": "<a&b>",
  "resources": [{"providers": [{"aescbc": {"keys": [{"name": "k1", "secret": "secret1"},
                                                      {"name": "k2", "secret": "secret2"}]}},
                               {"identity": {}}]}],
  "items": [{"n": "a", "v": 1}, {"n": "b", "v": 2}, {"n": "c"}]
}"""
)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("{.readOnlyPort}", "15000"),
        ("{.eventRecordQPS}", "1e+06"),  # JSON numbers are float64: Go %v
        ("{.small}", "0.0001"),
        ("{.enabled}", "true"),
        ("{.nothing}", "<nil>"),  # fmt.Fprint of a nil interface
        ("{.missing}", ""),
        ("{.missing.deeper[0]}", ""),
        ("{.peer-transport-security.cert-file}", "/p.crt"),
        ("{.peer-transport-security.auto-tls}", "false"),
        ("{range .tlsCipherSuites[:]}{}{','}{end}", "A,B,"),
        ("{range .tlsCipherSuites[*]}[{@}]{end}!", "[A][B]!"),
        ("{.tlsCipherSuites}", '["A","B"]'),
        ("{.tlsCipherSuites[*]}", "A B"),
        ("{.tlsCipherSuites[0]}", "A"),
        ("{.tlsCipherSuites[-1]}", "B"),
        ("{.tlsCipherSuites[0:1]}", "A"),
        ("{.tlsCipherSuites[1:1]}", ""),
        ("{.tlsCipherSuites[::2]}", "A"),
        ("{.tlsCipherSuites[0,1]}", "A B"),
        ("{.tlsCipherSuites['x']}", ""),
        ("{['readOnlyPort']}", "15000"),
        ("{.resources[*].providers[*].aescbc.keys[*].secret}", "secret1 secret2"),
        (
            "{.resources[*].providers[*].aescbc.keys[*]}}",
            '{"name":"k1","secret":"secret1"} {"name":"k2","secret":"secret2"}}',
        ),
        ("{..secret}", "secret1 secret2"),
        ('{.items[?(@.n=="b")].v}', "2"),
        ("{.items[?(@.v)].n}", "a b"),
        ("{.items[?(@.v>1.5)].n}", "b"),
        ("{.peer-transport-security}", '{"auto-tls":false,"cert-file":"/p.crt"}'),  # sorted keys
        ("{.html}", "<a&b>"),
        ("{.resources[0].providers[1]}", '{"identity":{}}'),
        (".rotateCertificates", ".rotateCertificates"),  # no braces: literal text
        ("x{.readOnlyPort} {.enabled}y", "x15000 truey"),
        ("{'a\\tb'}", "a\tb"),
        ("{5}{-1.5}{true}", "5-1.5true"),
        ("{range .items[*]}{.n}={.v};{end}", "a=1;b=2;c=;"),
        ("{range .missing[*]}{.x}{end}after", "after"),
        ("", ""),
    ],
)
def test_render_json(path: str, text: str) -> None:
    assert render(path, DOC) == type(render(path, DOC))(text=text)


def test_json_map_printing_html_escapes() -> None:
    assert render("{.a}", _json('{"a": [{"h": "<a&b>"}]}')).text == '[{"h":"\\u003ca\\u0026b\\u003e"}]'


def test_root_prints_with_go_percent_v() -> None:
    # kube-bench passes &data; a pointer is printed by fmt, not encoding/json.
    assert render("{}", _json('{"b": [1, "x"], "a": null}')).text == "map[a:<nil> b:[1 x]]"
    assert render("{@}", _json('"s"')).text == "s"


def test_yaml_ints_stay_ints_and_maps_cannot_be_json_encoded() -> None:
    doc = load_config("qps: 1000000\nauth:\n  mode: Webhook\nlist: [1, 2]\n").value
    assert render("{.qps}", doc).text == "1000000"
    assert render("{.list}", doc).text == "[1,2]"
    assert render("{.auth}", doc).error == "json: unsupported type: map[interface {}]interface {}"


def test_null_in_range_prints_no_value() -> None:
    assert render("{range .a[*]}{}|{end}", _json('{"a": [null, 1]}')).text == "<no value>|1|"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("{.missingClosingBrace", "unclosed action"),
        ("{.a[0}", "unterminated array"),
        ("{.a[x]}", "invalid array index x"),
        ("{'abc}", "unterminated quoted string"),
        ("{end}", "not in range, nothing to end"),
        ("{foo}", "unrecognized identifier foo"),
        ("{#}", "unrecognized character in action: U+0023 '#'"),
        ("{....a}", "invalid multiple recursive descent"),
        ("{.tlsCipherSuites[5]}", "array index out of bounds: index 5, length 2"),
        ("{.readOnlyPort[0]}", "float64 is not array or slice"),
        ("{.tlsCipherSuites[0::0]}", "step must be > 0"),
        ('{.items[?(@.v=="1")].n}', "incompatible types for comparison"),
        ("{.items[?(@.v==1)].n}", "incompatible types for comparison"),  # int literal vs float64
    ],
)
def test_render_errors(path: str, error: str) -> None:
    assert render(path, DOC).error == error


def _shipped_paths(cfg: Path) -> list[str]:
    paths: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            path = node.get("path")
            if isinstance(path, str) and "test_items" not in node:
                paths.add(path)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for file in sorted(cfg.rglob("*.yaml")):
        walk(yaml.load(file.read_text(), Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader)))
    return sorted(paths)


KUBELET_YAML = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
readOnlyPort: 0
streamingConnectionIdleTimeout: 4h0m0s
protectKernelDefaults: true
makeIPTablesUtilChains: true
eventRecordQPS: 5
rotateCertificates: true
featureGates:
  RotateKubeletServerCertificate: true
tlsCertFile: /var/lib/kubelet/pki/kubelet.crt
tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key
tlsCipherSuites:
  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
podPidsLimit: 4096
seccompDefault: true
staticPodPath: /etc/kubernetes/manifests
"""

ETCD_JSON = """{
  "peer-transport-security": {"cert-file": "/p.crt", "key-file": "/p.key", "client-cert-auth": true,
                              "auto-tls": false, "trusted-ca-file": "/ca.crt"},
  "client-transport-security": {"cert-file": "/c.crt", "key-file": "/c.key", "client-cert-auth": true,
                                "auto-tls": false},
  "authorization-mode": "Node,RBAC",
  "kubernetesMasterConfig": {"apiServerArguments": {"secure-port": ["6443"]}},
  "resources": [{"providers": [{"aescbc": {"keys": [{"name": "key1", "secret": "c2VjcmV0"}]}}]}]
}"""


def _expected_plain_field(path: str, doc: Any) -> str | None:
    """The expected rendering of the common `{.a.b-c.d}` shape, computed independently."""
    m = re.fullmatch(r"\{((?:\.[A-Za-z0-9_-]+)+)\}", path)
    if not m:
        return None
    node = doc
    for key in m.group(1).split(".")[1:]:
        if not isinstance(node, dict) or key not in node:
            return ""
        node = node[key]
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, str | int):
        return str(node)
    return None


def test_every_shipped_path_parses_and_renders(compat: Path) -> None:
    paths = _shipped_paths(compat / "cfg")
    assert len(paths) > 50
    kubelet = load_config(KUBELET_YAML).value
    etcd = load_config(ETCD_JSON).value
    for path in paths:
        assert check_syntax(path) == "", path
        for doc in (kubelet, etcd):
            result = render(path, doc)
            expected = _expected_plain_field(path, doc)
            if expected is not None:
                assert result.text == expected, path
            if "{" not in path:
                assert result.text == path  # literal text renders as itself (always "found")


def test_shipped_special_paths(compat: Path) -> None:
    paths = _shipped_paths(compat / "cfg")
    kubelet = load_config(KUBELET_YAML).value
    etcd = load_config(ETCD_JSON).value
    cipher = "{range .tlsCipherSuites[:]}{}{','}{end}"
    assert cipher in paths
    assert render(cipher, kubelet).text == (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,"
    )
    keys = "{.resources[*].providers[*].aescbc.keys[*]}}"
    assert keys in paths
    assert render(keys, etcd).text == '{"name":"key1","secret":"c2VjcmV0"}}'
    assert render("{.kubernetesMasterConfig.apiServerArguments.secure-port}", etcd).text == '["6443"]'
    assert render("{.featureGates.RotateKubeletServerCertificate}", kubelet).text == "true"
    assert render("{.readOnlyPort}", kubelet).text == "0"
