"""Secret material that never leaves a node: found by structure, not only by key name.

Everything a snapshot records from a node goes through one of these functions before it is written
(docs/snapshots.md lists the rules with examples):

* :func:`redact_argv` -- a process's argv: values of secret-named flags (``--token=X``, ``--password X``,
  ``--oidc-client-secret=X``), the password options of known clients (``mysql -pX``, ``sshpass -p X``,
  ``curl -u user:X``...), then every element through :func:`redact_text`.
* :func:`redact_environ` -- ``NAME=value`` lists: values of variables with secret-looking names (a broader
  rule than for flags: ``DB_PASS``, ``API_KEY``, ``KUBE_BEARER``, ``*_PRIVATE*``, ``*_AUTH*``...).
* :func:`redact_file` -- file contents: YAML/JSON documents are parsed (positions only, nothing is
  re-serialised) and secret scalars replaced in place -- values of secret-named keys, ``env`` entries whose
  ``name`` is secret-looking, kubeconfig auth-provider ``config`` and exec ``env`` values, Secret ``data``,
  argv-like lists (container ``command``/``args``); then the text rules; a file whose name says it holds a
  secret (``token``, ``*password*``, ``.netrc``...) and that is not a YAML/JSON document is dropped whole.
* :func:`redact_text` -- any other text (journal fields, lines of a file that does not parse, argv
  elements): PEM private key blocks (to the end of the text when the END line is missing), base64-encoded
  PEM private keys, JWTs, kubeadm bootstrap and k3s tokens, ``Authorization``/``Bearer`` credentials, URL
  userinfo, secret-named ``--flag[= ]value``, ``key=value`` and ``key: value`` pairs, client passwords.
* :func:`redact_json` -- a decoded JSON document (API responses): the structural rules of
  :func:`redact_file` on the objects, every string through :func:`redact_text`.

What is kept: everything checks evaluate that is not a secret -- flag names, paths (a secret-named flag or
key whose value is an absolute or relative file path keeps it: ``--tls-private-key-file=/etc/...``),
booleans (``--anonymous-auth=false``), and numbers/durations of settings *about* secrets
(``--authentication-token-webhook-cache-ttl=2m``). Names whose last word says they are metadata about a
secret (``secretName``, ``--token-auth-file``, ``--discovery-token-ca-cert-hash``) are not secret-named.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from kubecis.host.apibase import MARKER as MARKER  # re-exported: the marker these rules write

MARKER_B64 = base64.b64encode(MARKER.encode()).decode()

# ----------------------------------------------------------------------------------------------- names

# words that make a name secret-looking (flags, YAML/JSON keys, key=value pairs)
_WORDS = frozenset({
    "token", "tokens", "password", "passwords", "passwd", "pwd", "pass", "passphrase", "secret", "secrets",
    "credential", "credentials", "creds", "cred", "key", "keys", "apikey", "auth", "bearer", "privatekey",
    "cookie", "psk",
})
# ... also anywhere inside the name, separators removed (``accesstoken``, ``oidcclientsecret``)
_SUBSTR = re.compile(r"token|passw|secret|credential|bearer|apikey|passphrase|privatekey")
# environment variable names: also words that start or end with these (DB_PASS, PRIVATEKEY, AUTHZ, XAUTHTOKEN)
_ENV_PREFIX = ("passw", "secret", "token", "cred", "auth", "private", "apikey", "bearer", "passphrase")
_ENV_SUFFIX = ("token", "tokens", "passwd", "password", "secret", "pass", "pwd", "key", "keys", "cred", "creds")
# a last word that makes the name metadata *about* a secret, not the secret
_META = frozenset({
    "name", "names", "ref", "namespace", "id", "path", "paths", "file", "files", "dir", "url", "uri",
    "endpoint", "type", "mode", "ttl", "expiration", "seconds", "size", "length", "count", "enabled",
    "version", "format", "provider", "selector", "hash", "claim", "prefix", "suffix", "kind", "policy",
    "algorithm", "usage", "issuer", "audience", "audiences", "lookup", "webhook", "rotation", "period",
    "interval", "timeout", "config", "kubeconfig", "duration", "attributes", "stdin", "header", "headers",
})
_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _words(name: str) -> list[str]:
    return [w.lower() for w in _SPLIT.split(name) if w]


@functools.lru_cache(maxsize=8192)
def secret_name(name: str, *, bare_key: bool = False) -> bool:
    """A flag, YAML/JSON key or ``key=value`` name that holds a secret (``token``, ``oidc-client-secret``,
    ``client-key-data``, ``access-token``, ``X-Auth-Token``). ``key`` alone only when ``bare_key`` (a
    flag ``--key``; a YAML ``key:`` is mostly a label/toleration key)."""
    words = _words(name)
    if not words or words[-1] in _META:
        return False
    if words in (["key"], ["keys"]):
        return bare_key
    return any(w in _WORDS for w in words) or bool(_SUBSTR.search("".join(words)))


@functools.lru_cache(maxsize=8192)
def secret_env_name(name: str) -> bool:
    """An environment variable name that holds a secret: broader than :func:`secret_name`."""
    words = _words(name)
    if not words or words[-1] in _META:
        return False
    if secret_name(name, bare_key=True):
        return True
    return any(w.startswith(_ENV_PREFIX) or w.endswith(_ENV_SUFFIX) for w in words)


_PATHLIKE = re.compile(r"(?:/|\./|\.\./|~/|file:/)\S*")
_FILENAME = re.compile(
    r"[\w.@+-]+\.(?:pem|key|crt|cer|cert|csr|pub|conf|cfg|yaml|yml|json|csv|txt|kubeconfig|p12|pfx|jks|der|env)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+")


def safe_value(name: str, value: str) -> bool:
    """A value of a secret-named setting that is not itself a secret: empty, a boolean, a file path,
    the marker; a number or duration unless the name's last word is a secret word (``--password=1234``)."""
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        v = v[1:-1]
    if not v or v == MARKER or v.lower() in ("true", "false"):
        return True
    if _PATHLIKE.fullmatch(v) or _FILENAME.fullmatch(v):
        return True
    words = _words(name)
    last_secret = bool(words) and (words[-1] in _WORDS or bool(_SUBSTR.search(words[-1])))
    return not last_secret and bool(_NUMBER.fullmatch(v) or _DURATION.fullmatch(v))


def _secret_pair(name: str, value: str, *, env: bool = False, bare_key: bool = False) -> bool:
    named = secret_env_name(name) if env else secret_name(name, bare_key=bare_key)
    return named and not safe_value(name, value)


# ------------------------------------------------------------------------------------------------ text

_PEM = re.compile(
    r"(-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----)(.*?)(?:(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)|\Z)",
    re.DOTALL,
)
# base64 of "-----BEGIN" (a PEM file stored base64-encoded: client-key-data, Secret data, ...)
_PEM_B64 = re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=]*(?:(?:\\r|\\n|\r?\n)[ \t]*[A-Za-z0-9+/]{40,}={0,2})*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BOOTSTRAP = re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b")  # kubeadm bootstrap token id.secret
_K3S_TOKEN = re.compile(r"\bK10[0-9a-f]{16,}::[^\s:\"',]+:[^\s\"',]+")
_BEARER = re.compile(r"(?i)(\bbearer[ \t]+)([A-Za-z0-9._~+/=-]+)")
_AUTH_SCHEME = re.compile(
    r"(?i)(\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)([A-Za-z][\w-]*)([ \t]+)([^\s\"',;]+)")
_AUTH_BARE = re.compile(
    r"(?i)(\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)([^\s\"',;{}\[\]|>&*!]+)"
    r"(?=[\"']?[ \t]*(?:[,;}\]\r\n]|$))",
    re.MULTILINE,
)
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^/\s:@\"'<>\\]*)(?::([^/\s@\"'<>\\]*))?@")
_QUOTED = r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'"
# --name=value, -name=value, --name value (value not a flag)
_FLAG = re.compile(rf"(?<![\w.-])(--?[A-Za-z][\w.-]*)(=|[ \t]+)({_QUOTED}|[^\s\"',;|&)]+)")
# a flag and its value as separate items of a list: ["--token", "X"] (flow/JSON) or "- --token\n- X" (block)
_FLAG_ITEMS = re.compile(
    r"([\"'])(--?[A-Za-z][\w.-]*)\1([ \t]*,[ \t\r\n]*)([\"'])((?:(?!\4)[^\\\n]|\\.)*)\4"
    r"|^([ \t]*-[ \t]+)([\"']?)(--?[A-Za-z][\w.-]*)\7([ \t]*\r?\n[ \t]*-[ \t]+)([\"']?)([^\s\"'#][^\n]*?)\10[ \t]*$",
    re.MULTILINE,
)
# name=value (env files, systemd Environment=, connection strings, query strings)
_KV = re.compile(rf"(?<![\w.-])([A-Za-z_][\w.-]*)([ \t]*=[ \t]*)({_QUOTED}|[^\s\"'&;,]+)")
# key: value on its own line (YAML block style, HTTP headers, INI-ish) -- the value runs to the end of the line
_PROPS = r"((?:[&!][^\s,{}\[\]]*[ \t]+)*)"  # a YAML anchor or tag before a value: password: &pw VALUE
_LINE = re.compile(
    rf"^([ \t]*(?:#[ \t]*)?(?:-[ \t]+)?)([\"']?)([A-Za-z_][\w.-]*)\2([ \t]*:[ \t]*){_PROPS}"
    rf"({_QUOTED}|[^\s\[{{|>&*!#\"'][^\n]*?)((?:[ \t]*[,}}\]])*[ \t]*(?:#[^\n]*)?\r?)$",
    re.MULTILINE,
)
# key: value inside a flow mapping, a JSON object, or after a space or "=" (a header: -H "X-Auth-Token: V")
_INLINE = re.compile(
    rf"([{{,=\s][ \t]*)([\"']?)([A-Za-z_][\w.-]*)\2([ \t]*:[ \t]*){_PROPS}"
    rf"({_QUOTED}|[^\s\[{{,}}\]\"'&*!|>][^,}}\]\n]*?)(?=[ \t]*(?:[,}}\]\r\n]|$))"
)
# a block scalar under a secret-named key: token: |  (the more-indented lines that follow are its value)
_BLOCK_KEY = re.compile(
    r"^([ \t]*)(?:-[ \t]+)?([\"']?)([A-Za-z_][\w.-]*)\2[ \t]*:[ \t]*(?:[&!][^\s]*[ \t]+)*[|>][-+0-9]*[ \t]*(?:#.*)?$"
)
# env entries: name: SECRET followed by value: X (block or flow), the fallback for files that do not parse
_ENV_BLOCK = re.compile(
    rf"(\bname[\"']?[ \t]*:[ \t]*[\"']?([\w.-]+)[\"']?[ \t]*(?:,[ \t]*|\r?\n[ \t]*)[\"']?value[\"']?[ \t]*:[ \t]*)"
    rf"({_QUOTED}|[^\s,}}\n][^,}}\n]*)"
)


def _requote(original: str, new: str) -> str:
    if len(original) >= 2 and original[0] == original[-1] and original[0] in "\"'":
        return original[0] + new + original[0]
    return new


def _sub_pem(m: re.Match[str]) -> str:
    return m.group(1) + "\n" + MARKER + "\n" + (m.group(4) or "")


def _sub_pem_b64(m: re.Match[str]) -> str:
    s = re.sub(r"\\[nr]|\s", "", m.group(0))
    try:
        head = base64.b64decode(s[: len(s) // 4 * 4][:96] or "", validate=True)
    except (binascii.Error, ValueError):
        head = b"-----BEGIN PRIVATE KEY"  # undecodable: assume the worst
    return MARKER_B64 if b"PRIVATE KEY" in head or len(head) < 30 else m.group(0)


def _auth_value(value: str) -> str:
    """An Authorization header's value: ``SCHEME CREDENTIAL`` keeps the scheme; a bare credential goes,
    a plain word (a setting such as ``Webhook``) stays."""
    scheme, sep, cred = value.strip().partition(" ")
    if sep and cred.strip() and scheme.isalpha():
        return value if cred.strip() == MARKER else f"{scheme} {MARKER}"
    if value in ("", MARKER) or (value.isalpha() and len(value) < 20):
        return value
    return MARKER


def _sub_auth_bare(m: re.Match[str]) -> str:
    v = m.group(2)
    if v == MARKER or (v.isalpha() and len(v) < 20):  # "authorization: Webhook" is a setting, not a credential
        return m.group(0)
    return m.group(1) + MARKER


def _sub_userinfo(m: re.Match[str]) -> str:
    scheme, user, password = m.group(1), m.group(2), m.group(3)
    if password is not None:
        return f"{scheme}{user}:{MARKER}@" if password != MARKER else m.group(0)
    return f"{scheme}{MARKER}@" if user and user != MARKER else m.group(0)


def _sub_flag(m: re.Match[str]) -> str:
    flag, sep, value = m.group(1), m.group(2), m.group(3)
    name = flag.lstrip("-")
    if sep != "=" and (value.startswith("-") or value == MARKER):
        return m.group(0)
    if _secret_pair(name, value, bare_key=flag.startswith("--")):
        return flag + sep + _requote(value, MARKER)
    if len(value) > 2 and value[0] in "\"'" and "-" in value:  # sh -c "app --password X": the quoted script
        return flag + sep + value[0] + _FLAG.sub(_sub_flag, value[1:-1]) + value[-1]
    return m.group(0)


def _sub_flag_items(m: re.Match[str]) -> str:
    if m.group(2) is not None:
        flag, value = m.group(2), m.group(5)
        head = m.group(1) + flag + m.group(1) + m.group(3) + m.group(4)
        tail = m.group(4)
    else:
        flag, value = m.group(8), m.group(11)
        head = m.group(6) + m.group(7) + flag + m.group(7) + m.group(9) + m.group(10)
        tail = m.group(10)
    if value.startswith("-") or not _secret_pair(flag.lstrip("-"), value, bare_key=flag.startswith("--")):
        return m.group(0)
    return head + MARKER + tail


def _sub_kv(m: re.Match[str]) -> str:
    name, value = m.group(1), m.group(3)
    env = name.upper() == name  # DB_PASS=..., KUBE_BEARER=...: the environment-name rule
    if _secret_pair(name, value, env=env):
        return name + m.group(2) + _requote(value, MARKER)
    if len(value) > 2 and value[0] in "\"'" and "=" in value:  # Environment="DB_PASSWORD=x"
        return name + m.group(2) + value[0] + _KV.sub(_sub_kv, value[1:-1]) + value[-1]
    return m.group(0)


def _sub_line(m: re.Match[str]) -> str:
    name, value = m.group(3), m.group(6)
    if _secret_pair(name, value):
        return (m.group(1) + m.group(2) + name + m.group(2) + m.group(4) + m.group(5) + _requote(value, MARKER)
                + m.group(7))
    return m.group(0)


def _sub_inline(m: re.Match[str]) -> str:
    name, value = m.group(3), m.group(6)
    if _secret_pair(name, value):
        return m.group(1) + m.group(2) + name + m.group(2) + m.group(4) + m.group(5) + _requote(value, MARKER)
    return m.group(0)


def _block_scalars(text: str) -> str:
    """The lines of a block scalar (``token: |``) under a secret-named key become one marker line."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        m = _BLOCK_KEY.match(line)
        if m is None or not secret_name(m.group(3)):
            continue
        indent = len(m.group(1))
        body = []
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():  # trailing blank lines belong to what follows
            body.pop()
            i -= 1
        if body:
            first = body[0]
            out.append(first[: len(first) - len(first.lstrip())] + MARKER)
    return "\n".join(out)


def _sub_env_block(m: re.Match[str]) -> str:
    name, value = m.group(2), m.group(3)
    return m.group(1) + _requote(value.strip(), MARKER) if _secret_pair(name, value, env=True) else m.group(0)


class _Client:
    """Password options of a known client: ``sep`` take the next argument, ``att`` an attached value
    (``-pSECRET``), ``userpass`` a ``user:password`` value."""

    __slots__ = ("att", "sep", "userpass")

    def __init__(self, sep: tuple[str, ...] = (), att: tuple[str, ...] = (), userpass: tuple[str, ...] = ()) -> None:
        self.sep = frozenset(sep)
        self.att = frozenset(att)
        self.userpass = frozenset(userpass)


_MYSQL = _Client(att=("-p",))  # -p alone prompts; the next argument is not the password
_CLIENTS: dict[str, _Client] = {}
for _names, _client in (
    (("mysql", "mysqldump", "mysqladmin", "mysqlcheck", "mysqlimport", "mysqlshow", "mysqlslap", "mysqlbinlog",
      "mysqlpump", "mysqlsh", "mariadb", "mariadb-dump", "mariadb-admin", "mariadb-check", "mariadb-import",
      "mariadb-show", "mariadb-slap", "mariadb-binlog"), _MYSQL),
    (("sshpass",), _Client(sep=("-p",), att=("-p",))),
    (("redis-cli", "redis-benchmark", "keydb-cli", "valkey-cli"), _Client(sep=("-a",), att=("-a",))),
    (("mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport", "mongostat", "mongotop"),
     _Client(sep=("-p",), att=("-p",))),
    (("ldapsearch", "ldapmodify", "ldapadd", "ldapdelete", "ldapwhoami", "ldappasswd", "ldapcompare",
      "ldapmodrdn", "ldapexop"), _Client(sep=("-w",), att=("-w",))),
    (("sqlcmd", "bcp", "osql", "isql"), _Client(sep=("-P",), att=("-P",))),
    (("openssl",), _Client(sep=("-passin", "-passout", "-pass", "-k", "-password", "-kfile"))),
    (("curl", "wget", "lftp", "ftp"), _Client(userpass=("-u", "-U", "--user", "--proxy-user"))),
    (("etcdctl",), _Client(userpass=("--user",))),
    (("skopeo",), _Client(userpass=("--creds", "--src-creds", "--dest-creds"))),
):
    for _n in _names:
        _CLIENTS[_n] = _client
# login subcommands whose -p is a password (elsewhere -p is a port: docker run -p 80:80)
_LOGIN = _Client(sep=("-p",), att=("-p",), userpass=("-u",))
_LOGIN_CLIENTS = frozenset({"docker", "podman", "nerdctl", "buildah", "helm", "crane", "oras", "regctl", "oc", "az"})
_CLIENT_TEXT = re.compile(
    r"(?<![\w/.-])((?:[\w./-]*/)?(" + "|".join(sorted(map(re.escape, _CLIENTS), key=len, reverse=True))
    + r"))(?=[ \t])([^\n;|&]*)"
)


def _client_text(m: re.Match[str]) -> str:
    client = _CLIENTS[m.group(2)]
    rest = m.group(3)
    for opt in client.att:
        rest = re.sub(rf"(?<=[ \t]){re.escape(opt)}(?!{MARKER})([^\s\"']+)", opt + MARKER, rest)
    for opt in client.sep:
        rest = re.sub(rf"(?<=[ \t]){re.escape(opt)}[ \t]+(?!-)([^\s\"']+)", opt + " " + MARKER, rest)
    for opt in client.userpass:
        rest = re.sub(rf"(?<=[ \t]){re.escape(opt)}([ \t]+|=)([^\s\"':]*):(?!{MARKER})[^\s\"']+",
                      lambda x, opt=opt: f"{opt}{x.group(1)}{x.group(2)}:{MARKER}", rest)
    return m.group(1) + rest


# text no rule can match has none of these (lower-cased): no secret-word fragment, no key or token shape,
# no URL, no known client (a substring test per hint is much cheaper than one case-insensitive regex)
_HINTS = ("tok", "pass", "pwd", "secret", "cred", "key", "auth", "bearer", "cookie", "psk", "priv",
          "ls0tls1crudjti", "eyj", "://", "k10", "mysql", "mariadb", "redis", "keydb", "valkey", "mongo", "ldap",
          "sql", "bcp", "openssl", "curl", "wget", "ftp", "etcdctl", "skopeo")


def _quiet(text: str) -> bool:
    low = text.lower()
    return not any(h in low for h in _HINTS) and not ("." in text and _BOOTSTRAP.search(text))


def redact_text(text: str) -> str:
    """Any text: every text rule (see the module documentation)."""
    if not text or _quiet(text):
        return text
    if "PRIVATE KEY" in text:
        text = _PEM.sub(_sub_pem, text)
    if "LS0tLS1CRUdJTi" in text:
        text = _PEM_B64.sub(_sub_pem_b64, text)
    text = _JWT.sub(MARKER, text)
    text = _BOOTSTRAP.sub(MARKER, text)
    text = _K3S_TOKEN.sub(MARKER, text)
    text = _AUTH_SCHEME.sub(lambda m: m.group(0) if m.group(4) == MARKER else m.group(1) + m.group(2) + m.group(3)
                            + MARKER, text)
    text = _AUTH_BARE.sub(_sub_auth_bare, text)
    text = _BEARER.sub(lambda m: m.group(1) + MARKER, text)
    if "://" in text:
        text = _URL_USERINFO.sub(_sub_userinfo, text)
    if "-" in text:
        text = _FLAG.sub(_sub_flag, text)
        text = _FLAG_ITEMS.sub(_sub_flag_items, text)
        text = _CLIENT_TEXT.sub(_client_text, text)
    if "=" in text:
        text = _KV.sub(_sub_kv, text)
    if ":" in text:
        if "|" in text or ">" in text:
            text = _block_scalars(text)
        text = _LINE.sub(_sub_line, text)
        text = _INLINE.sub(_sub_inline, text)
        if "value" in text:
            text = _ENV_BLOCK.sub(_sub_env_block, text)
    return text


def _bytes(fn: Callable[[str], str]) -> Callable[[bytes], bytes]:
    def wrapped(data: bytes) -> bytes:
        return fn(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    return wrapped


redact_text_bytes = _bytes(redact_text)

# ------------------------------------------------------------------------------------------------ argv

_FLAG_ARG = re.compile(r"(--?)([A-Za-z][\w.-]*)(?:=(.*))?", re.DOTALL)
_LOOKS_LIKE_FLAG = re.compile(r"--?[A-Za-z][\w.-]*(?:=.*)?", re.DOTALL)
_HTPASSWD_B = re.compile(r"-[a-zA-Z]*b[a-zA-Z]*")


def redact_argv(argv: Sequence[str]) -> list[str]:
    """A command line with secret values replaced; flag names, paths and booleans are kept."""
    out = list(argv)
    client: _Client | None = None
    i = 0
    while i < len(out):
        a = out[i]
        base = os.path.basename(a)
        if base in _CLIENTS:
            client = _CLIENTS[base]
        elif base in _LOGIN_CLIENTS and "login" in out[i + 1:]:
            client = _LOGIN
        elif base == "htpasswd" and any(_HTPASSWD_B.fullmatch(x) for x in out[i + 1:]):
            out[-1] = MARKER  # htpasswd -b FILE USER PASSWORD
        nxt = out[i + 1] if i + 1 < len(out) else None
        if client is not None:
            if a in client.sep and nxt is not None and not _LOOKS_LIKE_FLAG.fullmatch(nxt):
                out[i + 1] = _client_value(a, nxt)
                i += 2
                continue
            att = next((o for o in client.att if a.startswith(o) and len(a) > len(o) and a[len(o)] != "="), None)
            if att is not None:
                out[i] = att + _client_value(att, a[len(att):])
                i += 1
                continue
            flag, eq, value = a.partition("=")
            if flag in client.userpass and eq and ":" in value:
                out[i] = f"{flag}={_userpass(value)}"
                i += 1
                continue
            if a in client.userpass and nxt is not None and ":" in nxt:
                out[i + 1] = _userpass(nxt)
                i += 2
                continue
        m = _FLAG_ARG.fullmatch(a)
        if m is not None:
            prefix, name, value = m.groups()
            if value is not None and _secret_pair(name, value, bare_key=True):
                out[i] = f"{prefix}{name}={MARKER}"
                i += 1
                continue
            if value is None and nxt is not None and not _LOOKS_LIKE_FLAG.fullmatch(nxt) \
                    and _secret_pair(name, nxt, bare_key=True):
                out[i + 1] = MARKER
                i += 2
                continue
        out[i] = redact_text(a)
        i += 1
    return out


def _userpass(value: str) -> str:
    user, _, password = value.partition(":")
    return f"{user}:{MARKER}" if password else value


def _client_value(opt: str, value: str) -> str:
    """The password argument of a client option; openssl's env:/file:/fd:/stdin sources are not secrets."""
    if opt.startswith("-pass") or opt == "-password":
        kind, colon, _ = value.partition(":")
        if (colon and kind in ("env", "file", "fd")) or value == "stdin":
            return value
        if colon and kind == "pass":
            return "pass:" + MARKER
    return MARKER


# --------------------------------------------------------------------------------------------- environ


def redact_env_value(name: str, value: str) -> str:
    if secret_env_name(name) and not safe_value(name, value):
        return MARKER
    return redact_text(value)


def redact_environ(data: bytes) -> bytes:
    """A NUL-separated ``NAME=value`` list (``/proc/PID/environ``)."""
    out = []
    for item in data.split(b"\0"):
        name, eq, value = item.partition(b"=")
        if not eq:
            out.append(redact_text_bytes(item))
            continue
        n = name.decode("utf-8", "surrogateescape")
        v = value.decode("utf-8", "surrogateescape")
        out.append(name + b"=" + redact_env_value(n, v).encode("utf-8", "surrogateescape"))
    return b"\0".join(out)


# ------------------------------------------------------------------------------------------- structure
#
# One walker decides, for a document tree, which scalars are secret. Trees come from YAML node graphs
# (files: the decision replaces the scalar's span in the original text) or decoded JSON (API responses).


class _Scalar:
    __slots__ = ("ref", "value")

    def __init__(self, value: str, ref: object) -> None:
        self.value = value
        self.ref = ref


_Tree = Any  # _Scalar | list[_Tree] (sequence) | list[tuple[str | None, _Tree]] wrapped in _Map
_MAX_NODES = 1_000_000


class _Map:
    __slots__ = ("items",)

    def __init__(self, items: list[tuple[str | None, _Tree]]) -> None:
        self.items = items


def _decisions(root: _Tree) -> Iterator[tuple[object, str]]:
    """(scalar ref, replacement) for every secret scalar under ``root``."""
    # stack entries: node, parent keys, force (replacement for every scalar below, or None), exec env
    stack: list[tuple[_Tree, tuple[str, ...], str | None, bool]] = [(root, (), None, False)]
    seen: set[int] = set()
    while stack:
        node, parents, force, exec_env = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if len(seen) > _MAX_NODES:
            return
        if isinstance(node, _Scalar):
            if force is not None:
                if node.value not in ("", MARKER, MARKER_B64):
                    yield node.ref, force
            else:
                new = redact_text(node.value)
                if new != node.value:
                    yield node.ref, new
        elif isinstance(node, _Map):
            scalars = {k: v.value for k, v in node.items if k is not None and isinstance(v, _Scalar)}
            is_secret_obj = scalars.get("kind") == "Secret"
            env_name = scalars.get("name")
            for k, child in node.items:
                key = k or ""
                child_force = force
                if is_secret_obj and key == "data":
                    child_force = MARKER_B64
                elif (is_secret_obj and key == "stringData") or (key, parents[-1:]) == ("config", ("auth-provider",)):
                    child_force = MARKER
                if isinstance(child, _Scalar) and child_force is None:
                    if secret_name(key) and not safe_value(key, child.value):
                        yield child.ref, MARKER
                        continue
                    if key.lower() in ("authorization", "proxy-authorization"):  # a header map: {Authorization: V}
                        new = _auth_value(child.value)
                        if new != child.value:
                            yield child.ref, new
                        continue
                    if key == "value" and (exec_env or (env_name is not None and secret_env_name(env_name)
                                                        and not safe_value(env_name, child.value))):
                        if child.value not in ("", MARKER):
                            yield child.ref, MARKER
                        continue
                stack.append((child, (*parents, key), child_force, key == "env" and parents[-1:] == ("exec",)))
        elif isinstance(node, list):
            if force is None and node and all(isinstance(x, _Scalar) for x in node):
                values = [x.value for x in node]
                for x, old, new in zip(node, values, redact_argv(values), strict=True):
                    if new != old:
                        yield x.ref, new
                continue
            for child in reversed(node):
                stack.append((child, parents, force, exec_env))


# --- JSON


def _put(parent: _Tree, idx: int, child: _Tree) -> None:
    if isinstance(parent, _Map):
        parent.items[idx] = (parent.items[idx][0], child)
    else:
        parent[idx] = child


def redact_json(doc: Any) -> Any:
    """A decoded JSON document with secret values replaced (containers are modified in place)."""
    root: list[Any] = [doc]
    slots: list[tuple[Any, Any]] = []  # scalar ref -> (container, key) in the document
    top: list[_Tree] = [None]
    todo: list[tuple[Any, Any, _Tree, int]] = [(root, 0, top, 0)]  # (container, key, parent tree, index)
    while todo:
        container, key, parent, idx = todo.pop()
        v = container[key]
        t: _Tree
        if isinstance(v, dict):
            t = _Map([(str(k), None) for k in v])
            todo.extend((v, k, t, n) for n, k in enumerate(v))
        elif isinstance(v, list):
            t = [None] * len(v)
            todo.extend((v, n, t, n) for n in range(len(v)))
        elif v is None:
            t = _Map([])  # null: nothing to redact, and not an argument of an argv-like list
        else:
            t = _Scalar(v if isinstance(v, str) else json.dumps(v), len(slots))
            slots.append((container, key))
        _put(parent, idx, t)
    for ref, new in _decisions(top[0]):
        assert isinstance(ref, int)
        container, key = slots[ref]
        container[key] = new
    return root[0]


# --- files

_MAX_PARSE = 2 << 20  # larger files get the text rules only
# file names that say the whole file is a secret (dropped unless it is a YAML/JSON document)
_SECRET_FILE = re.compile(
    r"(?i)(?:^|[._-])(?:tokens?|passwords?|passwd|secrets?|credentials?|htpasswd|pgpass|netrc|basic_auth)"
    r"(?:$|[._-])"
)
# name:HASH:... files
_SHADOW = frozenset({"shadow", "gshadow", "shadow-", "gshadow-"})


def _yaml_trees(text: str) -> list[_Tree] | None:
    """The collection documents of ``text`` as walker trees whose scalar refs are (start, end, style)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = list(yaml.compose_all(text, Loader=loader))
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return None
    top: list[_Tree] = [None] * len(docs)
    memo: dict[int, _Tree] = {}  # aliases share nodes, and a recursive alias must not loop
    todo: list[tuple[Any, _Tree, int]] = [(doc, top, n) for n, doc in enumerate(docs)]
    count = 0
    while todo:
        node, parent, idx = todo.pop()
        count += 1
        if count > _MAX_NODES:
            return None
        t: _Tree = memo.get(id(node))
        if t is None:
            if isinstance(node, yaml.ScalarNode):
                t = _Scalar(str(node.value), _Span(node.start_mark.index, node.end_mark.index, node.style))
            elif isinstance(node, yaml.SequenceNode):
                t = [None] * len(node.value)
                todo.extend((x, t, n) for n, x in enumerate(node.value))
            elif isinstance(node, yaml.MappingNode):
                t = _Map([(str(k.value) if isinstance(k, yaml.ScalarNode) else None, None) for k, _ in node.value])
                todo.extend((x, t, n) for n, (_, x) in enumerate(node.value))
            else:
                continue
            memo[id(node)] = t
        _put(parent, idx, t)
    return [t for t in top if isinstance(t, (_Map, list))]


class _Span(NamedTuple):
    start: int
    end: int
    style: str | None


def _render(original: str, style: str | None, new: str) -> str:
    """A replacement scalar in the style of the one it replaces (plain only where plain stays valid)."""
    trail = original[len(original.rstrip()):]
    if style == "'":
        return "'" + new.replace("'", "''") + "'" + trail
    if style in ("|", ">", '"') or not _PLAIN.fullmatch(new):
        return json.dumps(new) + trail
    return new + trail


_PLAIN = re.compile(r"[A-Za-z0-9_./=+@-][\w./=+@,-]*(?::[\w./=+@,-]+)*")


def _structured(text: str) -> tuple[str, bool]:
    """``text`` with the structural rules applied, and whether it is a YAML/JSON collection."""
    if len(text) > _MAX_PARSE:
        return text, False
    trees = _yaml_trees(text)
    if not trees:
        return text, False
    spans: dict[int, tuple[_Span, str]] = {}
    for tree in trees:
        for ref, new in _decisions(tree):
            assert isinstance(ref, _Span)
            spans[ref.start] = (ref, new)
    out: list[str] = []
    pos = 0
    for start in sorted(spans):
        span, new = spans[start]
        if start < pos or span.end > len(text) or start >= span.end:
            return text, False  # positions that do not fit: the text rules alone
        out.append(text[pos:start])
        out.append(_render(text[start:span.end], span.style, new))
        pos = span.end
    out.append(text[pos:])
    return "".join(out), True


def _redact_shadow(text: str) -> str:
    lines = text.split("\n")
    for n, line in enumerate(lines):
        fields = line.split(":")
        if len(fields) > 2 and fields[1] not in ("", "*", "!", "!!", "x", "!*"):
            fields[1] = MARKER
            lines[n] = ":".join(fields)
    return "\n".join(lines)


def redact_file(data: bytes, path: str = "") -> bytes:
    """File content with secret material replaced; the rest is kept byte for byte."""
    if not data:
        return data
    base = os.path.basename(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return MARKER.encode() + b"\n" if _SECRET_FILE.search(base) else redact_text_bytes(data)
    if base in _SHADOW:
        text = _redact_shadow(text)
    text, structured = _structured(text)
    if not structured and _SECRET_FILE.search(base) and path != "/etc/passwd":
        return MARKER.encode() + b"\n"
    return redact_text(text).encode("utf-8")
