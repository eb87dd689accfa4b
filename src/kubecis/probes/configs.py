"""Probes over the kube-apiserver's configuration files: thin wrappers of :mod:`kubecis.configfiles`.

Each takes the file the running API server names on its command line as its argument (bundled checks pass the
discovered variable, e.g. ``kubecis probe encryption-config "$apiserverencryptionconfig"``); an empty or absent
argument means the API server names none (the flag is not set). The file is read through the node's Host, so
``--root`` and ``--snapshot`` read the node's copy. A file that is named but cannot be read, or that the API server
would refuse, leaves the probe undecided (the check is WARN with the reason), never decided.
"""

from __future__ import annotations

import posixpath
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from kubecis.configfiles import MAX_FILE_BYTES, Malformed, admission, audit, decode, encryption
from kubecis.probes import UNDECIDED, ProbeContext, ProbeResult, ProbeUsageError

FLAGS = {"encryption-config": "--encryption-provider-config", "audit-policy": "--audit-policy-file",
         "event-rate-limit": "--admission-control-config-file"}


@dataclass(slots=True)
class Args:
    path: str = ""
    wildcards: bool = True  # Kubernetes 1.27+ EncryptionConfiguration wildcards


def parse_args(name: str, args: list[str]) -> Args:
    """``[--kubernetes X.Y] [FILE]`` (``--kubernetes`` for encryption-config only)."""
    out = Args()
    positional: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        opt, eq, value = a.partition("=")
        if opt == "--kubernetes" and name == "encryption-config":
            if not eq:
                if i + 1 >= len(args):
                    raise ProbeUsageError("--kubernetes needs a value (X.Y)")
                i += 1
                value = args[i]
            major, dot, minor = value.partition(".")
            if not (major == "1" and dot and minor.isdigit()):
                raise ProbeUsageError(f"--kubernetes {value!r}: a version such as 1.26")
            out.wildcards = int(minor) >= 27
        elif a.startswith("--") and a != "--":
            raise ProbeUsageError(f"unexpected option {a!r}")
        else:
            positional.append(a)
        i += 1
    if len(positional) > 1:
        raise ProbeUsageError(f"takes at most one file, got {len(positional)}")
    out.path = positional[0] if positional else ""
    return out


class _Unreadable(Exception):
    """Why a named file cannot be read (the probe is undecided)."""


def _read(ctx: ProbeContext, path: str, named_by: str) -> str:
    if not posixpath.isabs(path):
        raise _Unreadable(f"{named_by} names {path!r}, a relative path: it is relative to the API server's working "
                          "directory, which kubecis cannot know")
    if ctx.host is None:
        raise _Unreadable(f"no node to read {path} from")
    try:
        st = ctx.host.stat(path)
    except FileNotFoundError:
        raise _Unreadable(f"{named_by} names {path}, which does not exist on this node (for an API server in a static "
                          "pod the path is inside the container: check that the pod mounts it from the same host "
                          "path)") from None
    except OSError as exc:
        raise _Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.mode):
        raise _Unreadable(f"{named_by} names {path}, which is a directory")
    if not stat.S_ISREG(st.mode):
        raise _Unreadable(f"{named_by} names {path}, which is not a regular file")
    if st.size > MAX_FILE_BYTES:
        raise _Unreadable(f"{path} is {st.size} bytes (kubecis reads at most {MAX_FILE_BYTES})")
    try:
        data = ctx.host.read(path)
    except OSError as exc:
        raise _Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unreadable(f"{path} is not UTF-8 text") from None


def _render(lines: list[str], notes: Sequence[str] = ()) -> str:
    return "\n".join([*lines, *(f"note: {n}" for n in notes)]) + "\n"


def encryption_config(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    a = parse_args("encryption-config", list(args))
    flag = FLAGS["encryption-config"]
    if not a.path:
        return ProbeResult(_render(["secrets_provider: identity", "encryption_config: none"], [
            f"the kube-apiserver runs without {flag}: Secrets are stored in etcd unencrypted"]))
    try:
        cfg = encryption.parse(decode(_read(ctx, a.path, flag)), wildcards=a.wildcards)
    except _Unreadable as exc:
        return ProbeResult(str(exc), UNDECIDED)
    except Malformed as exc:
        return ProbeResult(f"{a.path}: the API server would not accept this EncryptionConfiguration: {exc}", UNDECIDED)
    w = encryption.write_provider(cfg, "", "secrets", wildcards=a.wildcards)
    lines = [f"secrets_provider: {w.provider.kind}", f"encryption_config: {a.path}"]
    notes: list[str] = []
    if w.rule is None:
        lines.append("secrets_rule: none (no resources entry covers secrets: they are stored unencrypted)")
        if not a.wildcards and any(n.startswith("*.") for r in cfg.rules for n in r.resources):
            notes.append("wildcard resources (*. and *.*) are honoured from Kubernetes 1.27; this benchmark is for "
                         "an earlier version, where they match nothing")
    else:
        via = "" if w.matched in ("secrets", "secrets.") else f" through {w.matched}"
        lines.append(f"secrets_rule: {w.rule.describe()}{via}")
        lines.append(f"secrets_providers: {', '.join(p.describe() for p in w.rule.providers)}")
        if w.plaintext:
            notes.append("identity is the first provider: new Secrets are written unencrypted")
        elif w.provider.kind == "aesgcm":
            notes.append("aesgcm is not among the providers CIS names (aescbc, kms, secretbox): its keys must be "
                         "rotated every 200,000 writes")
        elif w.provider.kind == "kms" and w.provider.kms_api_version == "v1":
            notes.append("KMS v1 is deprecated since Kubernetes 1.28 and off by default since 1.29 (the KMSv1 feature "
                         "gate); move to apiVersion: v2")
    return ProbeResult(_render(lines, notes))


def audit_policy(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    a = parse_args("audit-policy", list(args))
    flag = FLAGS["audit-policy"]
    if not a.path:
        gaps = list(audit.no_policy_gaps())
        return ProbeResult(_render([f"audit_gaps: {len(gaps)}", "audit_policy: none", *(g.line() for g in gaps)],
                                   [f"the kube-apiserver runs without {flag}: it records no audit events"]))
    try:
        policy = audit.parse(decode(_read(ctx, a.path, flag)))
        cov = audit.coverage(policy)
    except _Unreadable as exc:
        return ProbeResult(str(exc), UNDECIDED)
    except Malformed as exc:
        return ProbeResult(f"{a.path}: the API server would not accept this audit Policy: {exc}", UNDECIDED)
    except OverflowError as exc:
        return ProbeResult(f"{a.path}: {exc}", UNDECIDED)
    n = len(policy.rules)
    lines = [f"audit_gaps: {len(cov.gaps)}", "audit_policy: valid", f"policy_file: {a.path} ({n} rule{'s' * (n != 1)})",
             *(g.line() for g in cov.gaps)]
    return ProbeResult(_render(lines, [*(f"covered: {m}" for m in cov.met), *cov.notes]))


def event_rate_limit(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    a = parse_args("event-rate-limit", list(args))
    flag = FLAGS["event-rate-limit"]
    if not a.path:
        return ProbeResult(_render(["event_rate_limits: 0", "admission_config: none"], [
            f"the kube-apiserver runs without {flag}: EventRateLimit has no configuration (the API server does not "
            "start with the plugin enabled and no limits)"]))
    try:
        cfg = admission.parse(decode(_read(ctx, a.path, flag)))
    except _Unreadable as exc:
        return ProbeResult(str(exc), UNDECIDED)
    except Malformed as exc:
        return ProbeResult(f"{a.path}: the API server would not accept this AdmissionConfiguration: {exc}", UNDECIDED)
    lines = [f"admission_config: {a.path}"]
    entry = cfg.plugin("EventRateLimit")
    if entry is None or (entry.configuration is None and not entry.path):
        why = ("a legacy ImagePolicyWebhook/PodNodeSelector file" if cfg.legacy else
               "no plugins entry named EventRateLimit" if entry is None else
               f"plugins[{entry.index}] (EventRateLimit) has neither configuration nor path")
        return ProbeResult(_render(["event_rate_limits: 0", *lines, f"eventratelimit_config: none ({why})"]))
    try:
        if entry.configuration is not None:
            where = f"inline in plugins[{entry.index}]"
            limits = admission.event_rate_limits(entry.configuration)
        else:
            where = admission.plugin_path(entry.path, a.path)
            limits = admission.event_rate_limits(decode(_read(ctx, where, f"plugins[{entry.index}].path of {a.path}")))
    except _Unreadable as exc:
        return ProbeResult(str(exc), UNDECIDED)
    except Malformed as exc:
        return ProbeResult(f"EventRateLimit configuration ({where}): the API server would not accept it: {exc}",
                           UNDECIDED)
    return ProbeResult(_render([f"event_rate_limits: {len(limits)}", *lines, f"eventratelimit_config: {where}",
                                *(lim.describe() for lim in limits)]))
