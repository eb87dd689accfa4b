"""Native ``openssl x509 -subject/-issuer -noout`` vs the real openssl CLI on generated certificates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecis.audit.native import NativeExecutor, unsupported_reason
from kubecis.host.live import LiveHost
from tests.realtools import needs_real, real_tool

OPENSSL = real_tool("openssl")
pytestmark = needs_real("openssl", "sh")


def make_cert(tmp: Path, subj: str, name: str = "c.pem", *, multi: bool = False) -> Path:
    out = tmp / name
    cmd = [str(OPENSSL), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", str(tmp / "k.pem"), "-out", str(out), "-days", "1", "-utf8", "-subj", subj]
    if multi:
        cmd.append("-multivalue-rdn")
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def both(script: str) -> tuple[tuple[str, int], tuple[str, int]]:
    real = subprocess.run(["/bin/sh", "-c", script], capture_output=True)
    res = NativeExecutor(LiveHost()).run(script)
    assert not res.not_run, res.not_run
    return (real.stdout.decode(), real.returncode), (res.output, res.returncode)


SUBJECTS = [
    "/CN=etcd-signer@1700000000",
    "/C=US/ST=Some, State/O=Acme+Co/CN=x",
    '/CN=a"b/O=a\\\\b',
    "/CN= lead/O=trail /OU=#hash/L=a<b>c;d=e",
    "/CN=h\u00e9llo \u65e5\u672c",
    "/DC=com/DC=ex/UID=u1/L=Town/serialNumber=12/street=Main/title=T/GN=g/SN=s/initials=i/pseudonym=p"
    "/generationQualifier=q/dnQualifier=d/postalCode=12345/businessCategory=b/emailAddress=a@b.c",
]


@pytest.mark.parametrize("subj", SUBJECTS)
@pytest.mark.parametrize("opts", ["-subject -issuer -noout", "-noout -issuer -subject", "-subject -noout"])
def test_subject_issuer_identical(tmp_path: Path, subj: str, opts: str) -> None:
    cert = make_cert(tmp_path, subj)
    real, native = both(f"openssl x509 -in {cert} {opts} | sed 's/@/ /'")
    assert native == real


def test_multivalued_rdn_and_stdin(tmp_path: Path) -> None:
    cert = make_cert(tmp_path, "/CN=a/CN=b+OU=c/O=d", multi=True)
    for script in (f"openssl x509 -noout -subject -in {cert}", f"cat {cert} | openssl x509 -noout -issuer"):
        real, native = both(script)
        assert native == real


def test_first_certificate_of_a_bundle(tmp_path: Path) -> None:
    a = make_cert(tmp_path, "/CN=first", "a.pem")
    b = make_cert(tmp_path, "/CN=second", "b.pem")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((tmp_path / "k.pem").read_bytes() + a.read_bytes() + b.read_bytes())
    real, native = both(f"openssl x509 -in {bundle} -subject -noout")
    assert native == real == ("subject=CN = first\n", 0)


def test_unloadable_with_stderr_discarded(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for f in (junk, tmp_path / "missing.pem"):
        real, native = both(f"openssl x509 -in {f} -subject -noout 2>/dev/null; echo rc=$?")
        assert native == real


def test_unloadable_with_stderr_kept_is_declined(tmp_path: Path) -> None:
    res = NativeExecutor(LiveHost()).run(f"openssl x509 -in {tmp_path}/missing.pem -subject -noout")
    assert res.not_run.startswith("audit not supported natively: openssl x509 on a file it cannot load")
    # ...which static coverage still counts as a supported construct
    assert unsupported_reason(f"openssl x509 -in {tmp_path}/missing.pem -subject -noout") is None


@pytest.mark.parametrize("script", ["openssl req -noout -text", "openssl x509 -in f -text -noout",
                                    "openssl x509 -in f -subject", "openssl"])
def test_other_forms_unsupported(script: str) -> None:
    assert unsupported_reason(script) is not None


_VALUE = st.text(alphabet=st.sampled_from(" #\"\\,+<>;=@-_.azAZ09\u00e9\u00ff"), min_size=1,
                 max_size=12).filter(str.strip)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cn=_VALUE, org=_VALUE)
def test_escaping_matches_openssl(tmp_path: Path, cn: str, org: str) -> None:
    def esc(v: str) -> str:  # -subj: backslash escapes the next character
        return v.replace("\\", "\\\\").replace("/", "\\/")

    try:
        cert = make_cert(tmp_path, f"/CN={esc(cn)}/O={esc(org)}")
    except subprocess.CalledProcessError:
        return  # a value openssl req itself refuses
    real, native = both(f"openssl x509 -in {cert} -subject -issuer -noout")
    assert native == real
