"""ASFF: the findings (kube-bench's fields, its id defects fixed) and sending them with the real AWS SDK to a
fake Security Hub on loopback (never the network)."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest

from kubecis.cli.main import main
from kubecis.errors import ConfigError, SinkError
from kubecis.report import ReportOptions, render
from kubecis.report.asff import PRODUCT_ARN, REQUIRED, TYPE, findings
from kubecis.report.options import AsffSettings
from kubecis.results.waivers import apply, parse
from kubecis.sinks import asff as asff_sink
from tests.report.fake_securityhub import fake_securityhub
from tests.report.sample import demo_run, sample_run

ARN1 = "arn:aws:eks:eu-west-1:123456789012:cluster/prod"
ARN2 = "arn:aws:eks:eu-west-1:123456789012:cluster/staging"
S1 = AsffSettings("123456789012", "eu-west-1", ARN1)


def ids(run, settings=S1) -> list[str]:
    return [f["Id"] for f in findings(run, settings)]


def test_findings_have_the_required_fields_and_kube_bench_values():
    run = demo_run(node="ip-10-0-0-1")
    fs = findings(run, S1)
    assert len(fs) == run.totals.fail + run.totals.warn == 90
    product = PRODUCT_ARN.format(region="eu-west-1")
    for f in fs:
        assert all(k in f for k in REQUIRED)
        assert len(f["Title"]) <= 256 and len(f["Description"]) <= 1024 and len(f["Id"]) <= 512
        assert f["ProductArn"] == product == "arn:aws:securityhub:eu-west-1::product/aqua-security/kube-bench"
        assert f["Types"] == [TYPE] and f["Resources"] == [{"Id": ARN1, "Type": TYPE}]
        assert f["Severity"] == {"Label": "HIGH"} and f["Confidence"] == 100
        assert f["CreatedAt"] == f["UpdatedAt"] == "2025-03-01T12:00:00Z"
        assert f["SchemaVersion"] == "2018-10-08" and f["AwsAccountId"] == "123456789012"
    f = next(f for f in fs if f["Title"].startswith("1.1.1 "))
    assert f["Id"] == f"{product}123456789012EKSnodeID+1.1.1+{ARN1}+ip-10-0-0-1"
    assert f["GeneratorId"] == f"{product}/cis-kubernetes-benchmark/cis-1.12/1.1.1"
    assert f["ProductFields"]["Section"] == "1 Control Plane Security Configuration"
    assert f["ProductFields"]["Subsection"] == "1.1 Control Plane Node Configuration Files"
    assert f["ProductFields"]["Actual result"] == "permissions=666"


def test_ids_are_stable_across_runs_and_distinct_across_nodes_and_clusters():
    first, second = sample_run(node="n1"), sample_run(node="n1")
    second.scanned_at = "2025-03-08T12:00:00Z"  # a week later
    assert ids(first) == ids(second)  # no time in the id (kube-bench #1116)
    assert all("2025" not in i for i in ids(first))
    other_node = ids(sample_run(node="n2"))
    other_cluster = ids(sample_run(node="n1"), AsffSettings("123456789012", "eu-west-1", ARN2))
    assert len(set(ids(first))) == len(ids(first)) == 5
    assert not set(ids(first)) & set(other_node)  # #1179, #1190: nodes do not overwrite each other
    assert not set(ids(first)) & set(other_cluster)
    assert not set(other_node) & set(other_cluster)
    # NODE_NAME set: exactly kube-bench's id, so kube-bench's findings are updated, not duplicated
    s = AsffSettings("123456789012", "eu-west-1", ARN1, node_name="node-a")
    assert ids(sample_run(node="whatever"), s)[0] == (
        f"{PRODUCT_ARN.format(region='eu-west-1')}123456789012EKSnodeID+1.1.1+{ARN1}+node-a")


def test_kube_bench_truncation():
    run = sample_run()
    run.controls[1].groups[0].checks[0].remediation = "é" * 300  # 600 bytes
    run.controls[1].groups[0].checks[0].actual_value = "x" * 2000
    f = next(f for f in findings(run, S1) if f["Title"].startswith("1.1.1 "))
    assert f["Remediation"]["Recommendation"]["Text"] == "é" * 255  # 511 bytes, whole characters
    assert f["ProductFields"]["Actual result"] == "x" * 1023


def test_waived_findings_are_sent_suppressed():
    run = apply(sample_run(), parse("waivers:\n  - {id: w, checks: ['1.1.1'], reason: ok, owner: al, "
                                    "expires: 2030-01-01}\n", "w.yaml"), dt.date(2025, 3, 1))
    f = next(f for f in findings(run, S1) if f["Title"].startswith("1.1.1 "))
    assert f["Workflow"] == {"Status": "SUPPRESSED"}
    assert f["Note"] == {"Text": "waived until 2030-01-01: ok", "UpdatedBy": "al", "UpdatedAt": "2025-03-01T12:00:00Z"}
    assert f["ProductFields"]["Reason"] == ""


def test_format_asff_prints_the_request_body():
    doc = json.loads(render("asff", sample_run(), ReportOptions(asff=S1)))
    assert list(doc) == ["Findings"] and len(doc["Findings"]) == 5


def test_settings_from_config_and_env():
    config = {"AWS_ACCOUNT": "111", "AWS_REGION": "us-east-1", "CLUSTER_ARN": "arn:c"}
    assert asff_sink.require(config.get, {}) == AsffSettings("111", "us-east-1", "arn:c", "")
    env = {"KUBE_BENCH_AWS_ACCOUNT": "222", "NODE_NAME": "n7"}
    assert asff_sink.require(config.get, env) == AsffSettings("222", "us-east-1", "arn:c", "n7")
    with pytest.raises(ConfigError, match=r"^--asff: CLUSTER_ARN not set"):
        asff_sink.require({"AWS_ACCOUNT": "1", "AWS_REGION": "r"}.get, {})


@pytest.fixture
def aws_env(monkeypatch, tmp_path: Path):
    pytest.importorskip("boto3")
    for k, v in {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_EC2_METADATA_DISABLED":
                 "true", "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE":
                 str(tmp_path / "none"), "KUBE_BENCH_AWS_ACCOUNT": "123456789012", "KUBE_BENCH_AWS_REGION":
                 "eu-west-1", "KUBE_BENCH_CLUSTER_ARN": ARN1}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "NODE_NAME", "KUBE_BENCH_NODE_NAME", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_send_in_real_batches_of_at_most_100(aws_env):
    fs = [f for n in ("n1", "n2", "n3") for f in findings(demo_run(node=n), S1)]
    assert len(fs) == 270
    with fake_securityhub() as hub:
        aws_env.setenv("AWS_ENDPOINT_URL_SECURITYHUB", hub.url)
        lines: list[str] = []
        assert asff_sink.send(fs, "eu-west-1", lines.append) == 270
    assert hub.errors == []
    assert [len(b) for b in hub.batches] == [100, 100, 70]
    assert [f["Id"] for f in hub.findings] == [f["Id"] for f in fs]
    assert lines == ["Number of findings that were successfully imported:270",
                     "Number of findings that failed to import:0"]


def test_refused_findings_are_listed_and_fail_the_sink(aws_env):
    fs = findings(sample_run(), S1)
    with fake_securityhub() as hub:
        aws_env.setenv("AWS_ENDPOINT_URL_SECURITYHUB", hub.url)
        hub.refuse = {fs[1]["Id"]}
        lines: list[str] = []
        with pytest.raises(SinkError, match=r"^--asff: 1 of 5 findings failed to import$"):
            asff_sink.send(fs, "eu-west-1", lines.append)
    assert lines == [f"ID: {fs[1]['Id']}", "Message: The product is not subscribed",
                     "Error Code: AccessDeniedException", "Number of findings that were successfully imported:4",
                     "Number of findings that failed to import:1"]


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_cli_asff_sends_after_writing_the_report(aws_env, tmp_path: Path, capsys):
    out = tmp_path / "report.json"
    with fake_securityhub() as hub:
        aws_env.setenv("AWS_ENDPOINT_URL_SECURITYHUB", hub.url)
        rc = main(["demo", "--json", "--outputfile", str(out), "--asff", "--node-name", "cp-1"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert json.loads(out.read_text())["Totals"]["total_fail"] == 65
    assert len(hub.findings) == 90 and hub.errors == []
    assert all(f["Id"].endswith(f"+{ARN1}+cp-1") for f in hub.findings)
    assert "Number of findings that were successfully imported:90" in err


def test_cli_unreachable_security_hub_is_one_line_and_keeps_the_report(aws_env, tmp_path: Path, capsys):
    aws_env.setenv("AWS_ENDPOINT_URL_SECURITYHUB", f"http://127.0.0.1:{_closed_port()}")
    out = tmp_path / "report.html"
    rc = main(["demo", "--format", "html", "--outputfile", str(out), "--asff"])
    err = capsys.readouterr().err
    assert rc == 1
    assert out.read_text().startswith("<!DOCTYPE html>")
    [line] = [x for x in err.splitlines() if x.startswith("kubecis: error:")]
    assert line.startswith("kubecis: error: --asff: Could not connect to the endpoint URL")
    assert "Traceback" not in err


def test_cli_asff_without_settings_fails_before_running(aws_env, capsys):
    aws_env.delenv("KUBE_BENCH_CLUSTER_ARN")
    rc = main(["demo", "--asff"])
    captured = capsys.readouterr()
    assert rc == 1 and captured.out == ""
    assert captured.err == ("kubecis: error: --asff: CLUSTER_ARN not set (the benchmark's config.yaml, or "
                            "KUBE_BENCH_CLUSTER_ARN)\n")


def test_cli_asff_without_the_sdk_says_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a))
    assert main(["demo", "--asff"]) == 1
    assert capsys.readouterr().err == "kubecis: error: --asff needs the AWS SDK: pip install 'kubecis[aws]' (boto3)\n"
