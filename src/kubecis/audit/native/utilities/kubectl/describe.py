"""``kubectl describe secret`` (describe.go's describeSecret) and ``oc describe scc`` (openshift/oc's).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from typing import Any

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import dec, enc
from kubecis.audit.native.utilities.kubectl.flags import Opts
from kubecis.audit.native.utilities.kubectl.printers import SURROGATE
from kubecis.audit.native.utilities.kubectl.requests import (
    KubectlError,
    get_one,
    list_items,
    namespace_of,
    status_error,
    status_reason,
)
from kubecis.audit.native.utilities.kubectl.resources import RESTMapper
from kubecis.errors import HostError
from kubecis.golang.tabwriter import go_tabwriter
from kubecis.host.cluster import MARKER, APIResource, Cluster

__all__ = ["describe", "describe_scc", "describe_secret"]


# kubectl's describe: tabwriter.Writer.Init(buf, 0, 8, 2, ' ', 0)
_DESCRIBE_MINWIDTH, _DESCRIBE_PADDING = 0, 2


_MAX_ANNOTATION_LEN = 140


_SKIP_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})


_REDACTED_DATA = base64.b64encode(MARKER.encode()).decode()


def _go_string(v: Any, what: str) -> str:
    """A JSON string as Go decodes it (a lone surrogate escape becomes U+FFFD); absent is ""."""
    if v is None:
        return ""
    if not isinstance(v, str):
        raise Unsupported(f"kubectl describe: {what} is not a string")
    return SURROGATE.sub("\ufffd", v)


def _string_map(v: Any, what: str) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise Unsupported(f"kubectl describe: {what} is not a map")
    return {_go_string(k, what): _go_string(x, what) for k, x in v.items()}


def _shorten(s: str, max_len: int) -> str:
    """describe.go shorten: cut at ``max_len`` bytes (possibly inside a UTF-8 sequence) and add "..."."""
    b = enc(s)
    return dec(b[:max_len]) + "..." if len(b) > max_len else s


def _labels_multiline(title: str, labels: dict[str, str]) -> str:
    """describe.go printLabelsMultiline (sorted keys, one per line)."""
    out = f"{title}:\t"
    if not labels:
        return out + "<none>\n"
    return out + "\t".join(f"{k}={labels[k]}\n" for k in sorted(labels))


def _annotations_multiline(title: str, annotations: dict[str, str]) -> str:
    """describe.go printAnnotationsMultiline: long or multi-line values on their own, shortened, lines."""
    out = f"{title}:\t"
    keys = sorted(k for k in annotations if k not in _SKIP_ANNOTATIONS)
    if not keys:
        return out + "<none>\n"
    parts: list[str] = []
    for k in keys:
        value = annotations[k].removesuffix("\n")
        if len(enc(value)) + len(enc(k)) + 2 > _MAX_ANNOTATION_LEN or "\n" in value:
            parts.append(f"{k}:\n" + "".join(f"\t  {_shorten(line, _MAX_ANNOTATION_LEN - 2)}\n"
                                               for line in value.split("\n")))
        else:
            parts.append(f"{k}: {value}\n")
    return out + "\t".join(parts)


def _secret_data(v: Any) -> dict[str, bytes]:
    """Secret.data as Go decodes []byte values (StdEncoding, newlines ignored; null is empty)."""

    out: dict[str, bytes] = {}
    for k, x in _string_map_raw(v).items():
        if x is None:
            out[k] = b""
            continue
        if not isinstance(x, str):
            raise Unsupported("kubectl describe: secret data value is not a string")
        if x == _REDACTED_DATA:
            # a snapshot keeps the keys but not the values: their sizes are unknown, not guessed
            raise Unsupported("kubectl describe secret: data redacted in the snapshot")
        try:
            out[k] = base64.b64decode(x.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            raise Unsupported("kubectl describe: secret data that is not canonical base64") from None
    return out


def _string_map_raw(v: Any) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise Unsupported("kubectl describe: secret data is not a map")
    return {_go_string(k, "secret data key"): x for k, x in v.items()}


def describe_secret(obj: dict[str, Any]) -> str:
    """describe.go describeSecret, through kubectl's describe tabwriter.

    Go prints the data keys in map iteration order, which is random; here they are sorted.
    """
    meta = obj.get("metadata") or {}
    if not isinstance(meta, dict):
        raise Unsupported("kubectl describe: metadata is not an object")
    typ = _go_string(obj.get("type"), "type")
    text = (f"Name:\t{_go_string(meta.get('name'), 'name')}\n"
            f"Namespace:\t{_go_string(meta.get('namespace'), 'namespace')}\n"
            + _labels_multiline("Labels", _string_map(meta.get("labels"), "labels"))
            + _annotations_multiline("Annotations", _string_map(meta.get("annotations"), "annotations"))
            + f"\nType:\t{typ}\n"
            + "\nData\n====\n")
    data = _secret_data(obj.get("data"))
    for k in sorted(data):
        if k == "token" and typ == "kubernetes.io/service-account-token":
            text += f"{k}:\t{dec(data[k])}\n"
        else:
            text += f"{k}:\t{len(data[k])} bytes\n"
    # describe's prefixWriter writes through printers.WriteEscaped (terminal escape characters, before tabwriter)
    text = text.replace("\x1b", "^[").replace("\r", "\\r")
    return go_tabwriter(text, _DESCRIBE_MINWIDTH, _DESCRIBE_PADDING)


_INT32, _INT64 = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1)


_TW_BREAKS = re.compile("[\t\v\n\f]")


def _scc_fail(what: str) -> Unsupported:
    # oc decodes into its typed struct and fails on a mismatch; its message is not reproduced
    return Unsupported(f"oc describe scc: {what} does not decode into SecurityContextConstraints")


def _scc_obj(v: Any, what: str) -> dict[str, Any]:
    """A JSON object field (null or absent: the zero struct)."""
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise _scc_fail(what)
    return v


def _scc_str(v: Any, what: str) -> str:
    if v is not None and not isinstance(v, str):
        raise _scc_fail(what)
    return _go_string(v, what)


def _scc_bool(v: Any, what: str) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    raise _scc_fail(what)


def _scc_int(v: Any, what: str, bounds: tuple[int, int]) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not bounds[0] <= v <= bounds[1]:
        raise _scc_fail(what)
    return v


def _scc_strings(v: Any, what: str) -> list[str] | None:
    """A []string field: null is nil; a null element decodes as ""."""
    if v is None:
        return None
    if not isinstance(v, list):
        raise _scc_fail(what)
    return [_scc_str(x, what) for x in v]


def _or_none(s: str, default: str = "<none>") -> str:
    return s if s else default


def _id_ranges(v: Any, what: str) -> str:
    if v is None:
        return "<none>"
    if not isinstance(v, list):
        raise _scc_fail(what)
    out = []
    for x in v:
        r = _scc_obj(x, what)
        lo, hi = _scc_int(r.get("min"), what, _INT64) or 0, _scc_int(r.get("max"), what, _INT64) or 0
        out.append(f"{lo}-{hi}")
    return _or_none(",".join(out))


def describe_scc(obj: dict[str, Any]) -> str:
    """openshift/oc's describeSecurityContextConstraints (pkg/helpers/describe/describer.go), through its
    tabbedString: text/tabwriter with minwidth 0, tabwidth 8, padding 1 and tabs as padding."""
    meta = _scc_obj(obj.get("metadata"), "metadata")

    def strs(key: str) -> str:
        return ",".join(_scc_strings(obj.get(key), key) or [])

    def flag(key: str) -> str:
        return "true" if _scc_bool(obj.get(key), key) else "false"

    prio = _scc_int(obj.get("priority"), "priority", _INT32)
    escalation = _scc_bool(obj.get("allowPrivilegeEscalation"), "allowPrivilegeEscalation")
    flex = []
    fv = obj.get("allowedFlexVolumes")
    if fv is not None and not isinstance(fv, list):
        raise _scc_fail("allowedFlexVolumes")
    for x in fv or []:
        flex.append("driver=" + _scc_str(_scc_obj(x, "allowedFlexVolumes").get("driver"), "allowedFlexVolumes"))
    run_as = _scc_obj(obj.get("runAsUser"), "runAsUser")
    selinux = _scc_obj(obj.get("seLinuxContext"), "seLinuxContext")
    opts = _scc_obj(selinux.get("seLinuxOptions"), "seLinuxOptions")
    fs_group = _scc_obj(obj.get("fsGroup"), "fsGroup")
    sup = _scc_obj(obj.get("supplementalGroups"), "supplementalGroups")

    def uid(key: str) -> str:
        n = _scc_int(run_as.get(key), "runAsUser." + key, _INT64)
        return "<none>" if n is None else str(n)

    def strategy(o: dict[str, Any], what: str) -> str:
        return _scc_str(o.get("type"), what + ".type")

    rows = [
        ("Name:", _scc_str(meta.get("name"), "name")),
        ("Priority:", "<none>" if prio is None else str(prio)),
        ("Access:", ""),
        ("  Users:", _or_none(strs("users"))),
        ("  Groups:", _or_none(strs("groups"))),
        ("Settings:", ""),
        ("  Allow Privileged:", flag("allowPrivilegedContainer")),
        ("  Allow Privilege Escalation:", "<none>" if escalation is None else str(escalation).lower()),
        ("  Default Add Capabilities:", _or_none(strs("defaultAddCapabilities"))),
        ("  Required Drop Capabilities:", _or_none(strs("requiredDropCapabilities"))),
        ("  Allowed Capabilities:", _or_none(strs("allowedCapabilities"))),
        ("  Allowed Seccomp Profiles:", _or_none(strs("seccompProfiles"))),
        ("  Allowed Volume Types:", _or_none(strs("volumes"))),
        ("  Allowed Flexvolumes:", _or_none(",".join(flex), "<all>")),
        ("  Allowed Unsafe Sysctls:", _or_none(strs("allowedUnsafeSysctls"))),
        ("  Forbidden Sysctls:", _or_none(strs("forbiddenSysctls"))),
        ("  Allow Host Network:", flag("allowHostNetwork")),
        ("  Allow Host Ports:", flag("allowHostPorts")),
        ("  Allow Host PID:", flag("allowHostPID")),
        ("  Allow Host IPC:", flag("allowHostIPC")),
        ("  Read Only Root Filesystem:", flag("readOnlyRootFilesystem")),
        ("  Run As User Strategy: " + strategy(run_as, "runAsUser"), ""),
        ("    UID:", uid("uid")),
        ("    UID Range Min:", uid("uidRangeMin")),
        ("    UID Range Max:", uid("uidRangeMax")),
        ("  SELinux Context Strategy: " + strategy(selinux, "seLinuxContext"), ""),
        ("    User:", _or_none(_scc_str(opts.get("user"), "seLinuxOptions.user"))),
        ("    Role:", _or_none(_scc_str(opts.get("role"), "seLinuxOptions.role"))),
        ("    Type:", _or_none(_scc_str(opts.get("type"), "seLinuxOptions.type"))),
        ("    Level:", _or_none(_scc_str(opts.get("level"), "seLinuxOptions.level"))),
        ("  FSGroup Strategy: " + strategy(fs_group, "fsGroup"), ""),
        ("    Ranges:", _id_ranges(fs_group.get("ranges"), "fsGroup.ranges")),
        ("  Supplemental Groups Strategy: " + strategy(sup, "supplementalGroups"), ""),
        ("    Ranges:", _id_ranges(sup.get("ranges"), "supplementalGroups.ranges")),
    ]
    if any(_TW_BREAKS.search(label + value) for label, value in rows):
        # each line is then two cells of one column; other layouts are not derived here
        raise Unsupported("oc describe scc: a value with tabs or line breaks")
    # one column block: every label cell is padded with tabs to the same multiple of 8 past its widest cell
    # (tabwriter widths count runes; padding 1)
    cellw = -(-(max(len(label) for label, _ in rows) + 1) // 8) * 8
    return "".join(label + "\t" * -(-(cellw - len(label)) // 8) + value + "\n" for label, value in rows)


def _describe_one(cluster: Cluster, r: APIResource, ns: str | None, name: str) -> str:
    """The describer's own GET of the object (kubectl fetches it again after resolving the arguments)."""
    status, body = cluster.get(r.collection(ns) + "/" + urllib.parse.quote(name, safe=""))
    if status != 200:
        raise KubectlError(status_error(status, body) + "\n")
    try:
        doc = json.loads(body)
    except ValueError:
        raise HostError(f"cluster: {r.name} {name}: invalid JSON") from None
    if not isinstance(doc, dict):
        raise HostError(f"cluster: {r.name} {name}: not an object")
    return describe_scc(doc) if r.kind == "SecurityContextConstraints" else describe_secret(doc)


# what ``oc describe`` resolves to openshift/oc's SCC describer (kubectl has none: its generic describer)
_SCC_TYPES = frozenset({"scc", "securitycontextconstraints", "securitycontextconstraint",
                        "securitycontextconstraints.security.openshift.io",
                        "securitycontextconstraints.v1.security.openshift.io"})


def describe(ctx: Ctx, prog: str, cluster: Cluster, o: Opts) -> int:
    """``describe secret NAME``, ``describe secret/NAME`` and ``describe secret`` (kubectl's DescribeOptions.Run);
    the same for ``oc describe scc``."""
    used = [flag for flag, on in (("-o", bool(o.output)), ("-l", o.selector is not None),
                                  ("--field-selector", o.field_selector is not None), ("-A", o.all_ns),
                                  ("--no-headers", o.no_headers), ("--ignore-not-found", o.ignore_not_found),
                                  ("--raw", o.raw is not None), ("--as", o.as_user is not None or bool(o.as_groups)),
                                  ("--", o.after_dashes is not None)) if on]
    if used:
        raise Unsupported(f"{prog} describe {used[0]}")
    if not o.args:
        raise Unsupported(f"{prog} describe without a resource type")
    typ, slash, name = o.args[0].partition("/")
    scc = prog == "oc" and typ.lower() in _SCC_TYPES
    if typ.lower() not in ("secret", "secrets") and not scc:
        raise Unsupported(f"{prog} describe {typ}")
    if slash and (not name or len(o.args) > 1):
        raise Unsupported(f"{prog} describe {o.args[0]} with other arguments")
    if not slash and len(o.args) > 2:
        raise Unsupported(f"{prog} describe {typ} with several names")
    if not slash and len(o.args) == 2:
        name = o.args[1]
    if not slash and len(o.args) == 2 and not name:
        raise Unsupported(f"{prog} describe {typ} with an empty name")
    r = RESTMapper(cluster).resolve(typ)
    if r is None:
        raise KubectlError(f'error: the server doesn\'t have a resource type "{typ}"\n')
    if (not scc and (r.group or r.kind != "Secret" or not r.namespaced)) or (
            scc and (r.group != "security.openshift.io" or r.kind != "SecurityContextConstraints" or r.namespaced)):
        raise Unsupported(f"{prog} describe {typ} resolving to {r.group_version} {r.kind}")
    ns = namespace_of(cluster, o)
    if not name:
        return _describe_all(ctx, prog, cluster, r, ns, o)
    status, body = get_one(cluster, r, ns, name)
    if status == 200:
        ctx.write(_describe_one(cluster, r, ns, name))
        return 0
    err = status_error(status, body)
    if slash or status_reason(body) != "NotFound":
        raise KubectlError(err + "\n")
    # DescribeMatchingResources: describe every secret whose name starts with NAME, each followed by a newline
    found = False
    for it in list_items(cluster, r, ns, o):
        meta = it.get("metadata") or {}
        item = str(meta.get("name", ""))
        if item.startswith(name):
            found = True
            ctx.write(_describe_one(cluster, r, str(meta.get("namespace") or ns), item) + "\n")
    if not found:
        raise KubectlError(err + "\n")
    return 0


def _describe_all(ctx: Ctx, prog: str, cluster: Cluster, r: APIResource, ns: str, o: Opts) -> int:
    items = list_items(cluster, r, ns, o)
    errors: list[str] = []
    first = True
    for it in items:
        meta = it.get("metadata") or {}
        try:
            s = _describe_one(cluster, r, str(meta.get("namespace") or ns), str(meta.get("name", "")))
        except KubectlError as f:
            if f.msg not in errors:
                errors.append(f.msg)
            continue
        ctx.write(s if first else "\n\n" + s)
        first = False
    if not items:
        ctx.err.write(enc(f"No resources found in {ns} namespace.\n"))
    if len(errors) > 1:
        raise Unsupported(f"{prog} describe: kubectl's output for several errors")
    if errors:
        raise KubectlError(errors[0])
    return 0
