"""Exports: AppArmor (parsed by the real apparmor_parser -Q when installed), the operator's
AppArmorProfile and a NetworkPolicy (checked against their API field names), the seccomp part."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecis.profile import export
from kubecis.profile.errors import ProfileError
from kubecis.profile.model import RuntimeProfile, loads
from tests.seccomp.test_groups_export import validate_spo

from .test_model import DOC


@pytest.fixture(scope="module")
def prof() -> RuntimeProfile:
    return loads(DOC.replace("bind: ['*:8080']", "bind: ['*:8080', '127.0.0.1:9000', '0.0.0.0:0', '*:443']")
                 .replace("[/dev/null]", "[/dev/null, /srv/app/products.db, '/srv/with space/log']")
                 .replace("[/usr/**, /srv/app/products.db, /srv/app/]",
                          "[/usr/**, /srv/app/products.db, /srv/app/, /proc/self/**, /usr/lib/libx.so.1]"),
                 source="p.yaml")


# ---- AppArmor -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def apparmor_parser() -> str:
    path = shutil.which("apparmor_parser") or next(
        (p for p in ("/usr/sbin/apparmor_parser", "/sbin/apparmor_parser") if Path(p).exists()), None)
    if path is None:
        pytest.skip("apparmor_parser is not installed (Debian: apt-get install apparmor; .ci/run installs it)")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    assert "AppArmor parser version" in version.stdout, "not the real apparmor_parser"
    return path


def test_apparmor_text(prof: RuntimeProfile) -> None:
    text = export.apparmor(prof, name="product-search")
    body = text[text.index("profile product-search flags=(attach_disconnected,mediate_deleted) {"):]
    lines = [li.strip() for li in body.splitlines()]
    assert "/usr/ mr," in lines and "/usr/** mr," in lines  # a tree: the directory and what is beneath
    assert "/srv/app/products.db rw," in lines
    assert "/srv/app/ r," in lines
    assert '"/srv/with space/log" w,' in lines
    assert "/tmp/tmp* w," in lines
    assert "/usr/bin/python3.11 mrix," in lines
    assert "/proc/[0-9]*/** r," in lines
    assert "network inet stream," in lines and "network unix stream," in lines
    assert "capability net_bind_service," in lines  # it binds port 443
    assert lines[-1] == "}"


def test_apparmor_parses(prof: RuntimeProfile, tmp_path: Path, apparmor_parser: str) -> None:
    f = tmp_path / "product-search"
    f.write_text(export.apparmor(prof, name="product-search"))
    r = subprocess.run([apparmor_parser, "-Q", "-K", str(f)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # control: the parser does reject a broken profile
    f.write_text(export.apparmor(prof, name="product-search").replace(" mrix,", " mrixq,"))
    r = subprocess.run([apparmor_parser, "-Q", "-K", str(f)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0


@pytest.mark.parametrize("path", ["/srv/a,b", "/srv/{x}", "/srv/q?", "/srv/@{HOME}", '/srv/"q"', "/srv/#c"])
def test_apparmor_refuses_what_it_cannot_express(prof: RuntimeProfile, path: str) -> None:
    bad = loads(DOC.replace("[/dev/null]", f"['{path}']"), source="p.yaml")
    with pytest.raises(ProfileError, match="cannot be represented in an AppArmor profile"):
        export.apparmor(bad, name="x")


def test_apparmor_name_checked(prof: RuntimeProfile) -> None:
    with pytest.raises(ProfileError, match="invalid --name"):
        export.apparmor(prof, name="bad name {")


# ---- the operator's AppArmorProfile ----------------------------------------------------------------------

_SPO_PATH = re.compile(r"^(?:/(?:[a-zA-Z0-9_./*?+@ -]|@\{[a-zA-Z0-9_]+\})*)$")
APPARMOR_PROFILE_SCHEMA: dict[str, Any] = {
    "apiVersion": str, "kind": str, "metadata": {"name": str, "namespace": str},
    "spec": {"abstract": {
        "executable": {"allowedExecutables": [str], "allowedLibraries": [str]},
        "filesystem": {"readOnlyPaths": [str], "writeOnlyPaths": [str], "readWritePaths": [str]},
        "network": {"allowRaw": bool, "allowedProtocols": {"allowTcp": bool, "allowUdp": bool}},
        "capability": {"allowedCapabilities": [str]},
    }},
}
NETWORK_POLICY_PEER: dict[str, Any] = {
    "ipBlock": {"cidr": str, "except": [str]},
    "namespaceSelector": {"matchLabels": dict, "matchExpressions": list},
    "podSelector": {"matchLabels": dict, "matchExpressions": list},
}
NETWORK_POLICY_PORT: dict[str, Any] = {"protocol": str, "port": int, "endPort": int}
NETWORK_POLICY_SCHEMA: dict[str, Any] = {
    "apiVersion": str, "kind": str, "metadata": {"name": str, "namespace": str},
    "spec": {
        "podSelector": {"matchLabels": dict, "matchExpressions": list},
        "policyTypes": [str],
        "ingress": [{"from": [NETWORK_POLICY_PEER], "ports": [NETWORK_POLICY_PORT]}],
        "egress": [{"to": [NETWORK_POLICY_PEER], "ports": [NETWORK_POLICY_PORT]}],
    },
}


def check_fields(obj: object, schema: object, where: str = "") -> None:
    """Every field of ``obj`` is one the API defines, with the type it defines."""
    if isinstance(schema, dict):
        assert isinstance(obj, dict), f"{where}: expected an object"
        extra = set(obj) - set(schema)
        assert not extra, f"{where}: unknown fields {extra}"
        for k, v in obj.items():
            check_fields(v, schema[k], f"{where}.{k}")
    elif isinstance(schema, list):
        assert isinstance(obj, list), f"{where}: expected a list"
        for i, item in enumerate(obj):
            check_fields(item, schema[0], f"{where}[{i}]")
    else:
        assert isinstance(obj, schema) and not (schema is int and isinstance(obj, bool)), f"{where}: {obj!r}"  # type: ignore[arg-type]


def test_spo_apparmor_profile(prof: RuntimeProfile) -> None:
    text = export.spo_apparmor_yaml(prof, name="product-search", namespace="shop")
    obj = yaml.safe_load(text)
    check_fields(obj, APPARMOR_PROFILE_SCHEMA)
    assert obj["apiVersion"] == "security-profiles-operator.x-k8s.io/v1alpha1" and obj["kind"] == "AppArmorProfile"
    ab = obj["spec"]["abstract"]
    for group in ("executable", "filesystem"):
        for paths in ab[group].values():
            assert all(_SPO_PATH.match(p) for p in paths), paths
    fs = ab["filesystem"]
    assert "/srv/app/products.db" in fs["readWritePaths"]
    assert "/srv/app/" in fs["readOnlyPaths"] and "/proc/@{pid}/**" in fs["readOnlyPaths"]
    assert "/tmp/tmp*" in fs["writeOnlyPaths"]
    assert ab["executable"]["allowedExecutables"] == ["/usr/bin/python3.11"]
    assert "/usr/**" in ab["executable"]["allowedLibraries"]
    assert ab["network"] == {"allowedProtocols": {"allowTcp": True}}
    assert ab["capability"] == {"allowedCapabilities": ["net_bind_service"]}
    with pytest.raises(ProfileError, match="invalid --name"):
        export.spo_apparmor(prof, name="Bad_Name", namespace="shop")


def test_spo_refuses_what_it_cannot_express() -> None:
    bad = loads(DOC.replace("[/dev/null]", "['/srv/a,b']"), source="p.yaml")
    with pytest.raises(ProfileError, match="cannot be represented in an AppArmorProfile"):
        export.spo_apparmor(bad, name="x", namespace="y")


# ---- NetworkPolicy -------------------------------------------------------------------------------------


def test_network_policy(prof: RuntimeProfile) -> None:
    labels = export.parse_labels(["app=product-search", "app.kubernetes.io/part-of=shop"])
    text = export.network_policy_yaml(prof, name="product-search", namespace="shop", labels=labels)
    obj = yaml.safe_load(text)
    check_fields(obj, NETWORK_POLICY_SCHEMA)
    assert obj["apiVersion"] == "networking.k8s.io/v1" and obj["kind"] == "NetworkPolicy"
    spec = obj["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app": "product-search", "app.kubernetes.io/part-of": "shop"}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [{"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 8080}]}]
    egress = spec["egress"]
    assert {"to": [{"ipBlock": {"cidr": "10.0.0.5/32"}}], "ports": [{"protocol": "TCP", "port": 5432}]} in egress
    assert {"to": [{"ipBlock": {"cidr": "10.96.0.10/32"}}], "ports": [{"protocol": "UDP", "port": 53}]} in egress
    assert "::1" not in str(spec)  # loopback is inside the pod
    assert "# left out: tcp [::1]:80: loopback" in text
    assert "# left out: tcp bind 127.0.0.1:9000: loopback only" in text
    assert "# left out: tcp bind 0.0.0.0:0: an ephemeral port" in text
    assert "kube-dns" in text


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["app"], "expected KEY=VALUE"),
        (["-bad=x"], "not a valid label key"),
        (["a/b/c=x"], "not a valid label key"),
        (["app=" + "x" * 64], "not a valid label value"),
        (["app=bad value"], "not a valid label value"),
    ],
)
def test_network_policy_labels(prof: RuntimeProfile, labels: list[str], message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        export.network_policy(prof, name="n", namespace="d", labels=export.parse_labels(labels))


def test_network_policy_needs_labels(prof: RuntimeProfile) -> None:
    with pytest.raises(ProfileError, match="needs the pod's labels"):
        export.network_policy(prof, name="n", namespace="d", labels={})


def test_seccomp_part_reuses_seccomp_exports(prof: RuntimeProfile) -> None:
    from kubecis.seccomp import export as seccomp_export

    obj = yaml.safe_load(seccomp_export.k8s(prof.seccomp, name="product-search", namespace="shop"))
    validate_spo(obj)
