"""``openssl x509 [-in FILE] -subject|-issuer ... -noout``: a certificate's names, as OpenSSL 3 prints them.

Audits read a CA's subject and issuer (rh-0.7 5.9). The certificate is parsed here (PEM, then a small
DER reader for the two Names) and printed in OpenSSL's default ``oneline`` form: ``subject=C = US, O = x,
CN = y``, RDNs in certificate order, multi-valued RDNs joined with `` + ``, values quoted when they hold
``,+<>;`` or start with ``#``/space or end with a space, ``"`` and ``\\`` escaped, control and non-ASCII
bytes as ``\\XX``. Anything else (other options, an attribute type without a short name we know, a
certificate that does not parse) is declined, never guessed: OpenSSL's load errors carry a thread id.

Why hand-written: ``cryptography`` parses certificates, but its names print as RFC 4514 (reversed order,
other escaping), not OpenSSL's ``oneline`` bytes that audits compare; two Names need only a small DER reader.
"""

from __future__ import annotations

import base64
import binascii
import re

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Irreproducible, Unsupported

# OID (dotted) → OpenSSL short name, for the attribute types certificates carry.
_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
}

# Universal string tags → how their content bytes decode.
_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x12: "ascii",  # NumericString
    0x13: "ascii",  # PrintableString
    0x14: "latin-1",  # T61String: OpenSSL reads it one byte per character
    0x16: "ascii",  # IA5String
    0x1A: "ascii",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}

_PEM = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----\r?\n(.*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----", re.DOTALL
)


class _Bad(Exception):
    """The input is not a certificate we can read."""


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise _Bad("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise _Bad("high tag number")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise _Bad("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise _Bad("truncated")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos)
        if e > end:
            raise _Bad("element overruns its parent")
        out.append((tag, s, e))
        pos = e
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        raise _Bad("empty OID")
    parts: list[int] = []
    value = 0
    for b in raw:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in [first, parts[0] - 40 * first, *parts[1:]])


def _names(der: bytes) -> dict[str, list[list[tuple[str, int, bytes]]]]:
    """issuer and subject of a DER certificate: RDNs of (OID, string tag, raw value)."""
    tag, s, e = _tlv(der, 0)
    if tag != 0x30:
        raise _Bad("not a SEQUENCE")
    cert = _children(der, s, e)
    if not cert or cert[0][0] != 0x30:
        raise _Bad("no tbsCertificate")
    tbs = _children(der, cert[0][1], cert[0][2])
    if tbs and tbs[0][0] == 0xA0:  # [0] version
        tbs = tbs[1:]
    if len(tbs) < 5:
        raise _Bad("short tbsCertificate")
    # serialNumber, signature, issuer, validity, subject
    out: dict[str, list[list[tuple[str, int, bytes]]]] = {}
    for key, (tag, ns, ne) in (("issuer", tbs[2]), ("subject", tbs[4])):
        if tag != 0x30:
            raise _Bad(f"{key} is not a Name")
        rdns = []
        for set_tag, ss, se in _children(der, ns, ne):
            if set_tag != 0x31:
                raise _Bad("RDN is not a SET")
            avas = []
            for ava_tag, as_, ae in _children(der, ss, se):
                parts = _children(der, as_, ae) if ava_tag == 0x30 else []
                if len(parts) != 2 or parts[0][0] != 0x06:
                    raise _Bad("bad AttributeTypeAndValue")
                (_, os_, oe), (vt, vs, ve) = parts
                avas.append((_oid(der[os_:oe]), vt, der[vs:ve]))
            rdns.append(avas)
        out[key] = rdns
    return out


def _escape(value: str) -> str:
    """OpenSSL's ``oneline`` escaping (RFC 2253 specials by quoting, ESC_CTRL and ESC_MSB as \\XX).

    As in OpenSSL's do_buf, the last character's rule replaces the first's: a one-character ``#`` is not
    quoted, a one-character space is."""
    out: list[str] = []
    quote = False
    last = len(value) - 1
    for i, c in enumerate(value):
        b = ord(c)
        if b > 0x7F:
            out.extend(f"\\{x:02X}" for x in c.encode("utf-8"))
        elif b < 0x20 or b == 0x7F:
            out.append(f"\\{b:02X}")
        elif c in ",+<>;" or (i == 0 and i != last and c in "# ") or (i == last and c == " "):
            quote = True
            out.append(c)
        elif c in '"\\':
            out.append("\\" + c)
        else:
            out.append(c)
    text = "".join(out)
    return f'"{text}"' if quote else text


def _oneline(rdns: list[list[tuple[str, int, bytes]]]) -> str:
    parts = []
    for rdn in rdns:
        avas = []
        for oid, tag, raw in rdn:
            short = _SHORT_NAMES.get(oid)
            codec = _STRING_CODECS.get(tag)
            if short is None or codec is None:
                raise Unsupported(f"openssl x509 with a name attribute {oid} (string type {tag:#x})")
            try:
                value = raw.decode(codec)
            except UnicodeDecodeError:
                raise Unsupported("openssl x509 with a name value that does not decode") from None
            avas.append(f"{short} = {_escape(value)}")
        parts.append(" + ".join(avas))
    return ", ".join(parts)


def u_openssl(ctx: Ctx, args: list[str]) -> int:
    """``openssl x509`` with ``-in FILE``, ``-noout`` and ``-subject``/``-issuer`` (printed in option order)."""
    if not args or args[0] != "x509":
        raise Unsupported(f"openssl {args[0] if args else ''}".rstrip())
    path: str | None = None
    noout = False
    fields: list[str] = []
    rest = args[1:]
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "-in" and i + 1 < len(rest):
            path = rest[i + 1]
            i += 2
            continue
        if a == "-noout":
            noout = True
        elif a in ("-subject", "-issuer"):
            fields.append(a[1:])
        else:
            raise Unsupported(f"openssl x509 {a}")
        i += 1
    if not noout or not fields:
        raise Unsupported("openssl x509 without -noout and -subject/-issuer")
    try:
        data = ctx.host.read(ctx.path(path)) if path is not None else ctx.stdin.read_all()
    except OSError:
        data = None
    names = None
    if data is not None:
        m = _PEM.search(data)
        if m is not None:
            try:
                names = _names(base64.b64decode(b"".join(m.group(1).split()), validate=True))
            except (_Bad, binascii.Error, IndexError):
                names = None
    if names is None:
        if ctx.err.null:  # nothing on stdout and exit 1, whatever the reason
            return 1
        raise Irreproducible("openssl x509 on a file it cannot load (its error lines carry a thread id)")
    ctx.write("".join(f"{f}={_oneline(names[f])}\n" for f in fields))
    return 0
