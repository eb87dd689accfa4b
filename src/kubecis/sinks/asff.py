"""``--asff``: send the findings (:mod:`kubecis.report.asff`) to AWS Security Hub with the AWS SDK.

Settings as kube-bench reads them: ``AWS_ACCOUNT``, ``AWS_REGION``, ``CLUSTER_ARN`` (required) and
``NODE_NAME`` (optional) from the benchmark's config.yaml or the environment (``KUBE_BENCH_<KEY>``, which
wins; ``NODE_NAME`` also plain, as kube-bench's Job manifests set it). Credentials and the endpoint are the
SDK's own (``AWS_PROFILE``, instance/IRSA roles ...; ``AWS_ENDPOINT_URL_SECURITYHUB`` or ``AWS_ENDPOINT_URL``
point it elsewhere). Findings go in real batches of at most 100 (``BatchImportFindings``' limit; kube-bench
re-sent the whole list once per 100). boto3 is an optional extra: ``pip install 'kubecis[aws]'``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from kubecis.errors import ConfigError, SinkError
from kubecis.report.options import AsffSettings

BATCH = 100
REQUIRED = ("AWS_ACCOUNT", "AWS_REGION", "CLUSTER_ARN")


def settings(config_get: Callable[[str], Any], env: Mapping[str, str] | None = None) -> AsffSettings | None:
    """The settings, or None when one of the required ones is missing."""
    env = os.environ if env is None else env

    def value(key: str, *env_names: str) -> str:
        for name in (f"KUBE_BENCH_{key}", *env_names):
            if env.get(name):
                return env[name]
        v = config_get(key)
        return str(v) if v not in (None, "") else ""

    account, region, arn = (value(k) for k in REQUIRED)
    if not (account and region and arn):
        return None
    return AsffSettings(account, region, arn, value("NODE_NAME", "NODE_NAME"))


def require(config_get: Callable[[str], Any], env: Mapping[str, str] | None = None) -> AsffSettings:
    """The settings for ``--asff``; kube-bench's ``<KEY> not set`` when one is missing."""
    s = settings(config_get, env)
    if s is None:
        env = os.environ if env is None else env
        for key in REQUIRED:
            if not (env.get(f"KUBE_BENCH_{key}") or config_get(key)):
                raise ConfigError(f"--asff: {key} not set (the benchmark's config.yaml, or KUBE_BENCH_{key})")
    assert s is not None
    return s


def check_sdk() -> None:
    """Fail before any check runs when the AWS SDK is not installed."""
    if importlib.util.find_spec("boto3") is None:
        raise ConfigError("--asff needs the AWS SDK: pip install 'kubecis[aws]' (boto3)")


def send(findings: list[dict[str, Any]], region: str, log: Callable[[str], None] | None = None) -> int:
    """Import the findings in batches of at most 100; returns how many were imported.

    Any finding Security Hub refuses, and any failure to reach it, is a :class:`SinkError` (after every
    batch was tried, each failure logged as kube-bench logs it)."""
    emit: Callable[[str], object] = log or (lambda line: sys.stderr.write(line + "\n"))
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError:
        raise SinkError("--asff needs the AWS SDK: pip install 'kubecis[aws]' (boto3)") from None
    cfg = botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10,
                                 read_timeout=60)
    try:
        client = boto3.client("securityhub", region_name=region, config=cfg)
    except botocore.exceptions.BotoCoreError as e:
        raise SinkError(f"--asff: {e}") from None
    imported = failed = 0
    for start in range(0, len(findings), BATCH):
        batch = findings[start:start + BATCH]
        try:
            resp = client.batch_import_findings(Findings=batch)
        except botocore.exceptions.ClientError as e:
            err = e.response.get("Error", {})
            raise SinkError(f"--asff: Security Hub refused the findings: {err.get('Code', '')}: "
                            f"{err.get('Message', '')} ({imported} of {len(findings)} imported before)") from None
        except botocore.exceptions.BotoCoreError as e:
            raise SinkError(f"--asff: {e} ({imported} of {len(findings)} imported before)") from None
        imported += int(resp.get("SuccessCount", 0))
        failed += int(resp.get("FailedCount", 0))
        for f in resp.get("FailedFindings") or []:
            emit(f"ID: {f.get('Id', '')}")
            emit(f"Message: {f.get('ErrorMessage', '')}")
            emit(f"Error Code: {f.get('ErrorCode', '')}")
    emit(f"Number of findings that were successfully imported:{imported}")
    emit(f"Number of findings that failed to import:{failed}")
    if failed:
        raise SinkError(f"--asff: {failed} of {len(findings)} findings failed to import")
    return imported
