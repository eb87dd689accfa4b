"""Path rules and the generalisation from observed paths to rules (pure: no I/O).

The rule language is deliberately small, so that every rule can be reviewed, matched exactly in
audit mode and mapped to Landlock and AppArmor:

============================  =====================================================================
``/srv/app/products.db``      exactly this file (or directory)
``/srv/app/``                 this directory itself: listing its entries (not what is beneath)
``/usr/**``                   this directory and everything beneath it
``/tmp/tmp*``                 entries directly in ``/tmp`` whose name starts with ``tmp``
``/tmp/tmp*/**``              ... and everything beneath such entries
============================  =====================================================================

Paths are absolute and normalised (no ``.``/``..``/``//``, no control characters); ``*`` may only
end a name as shown. ``/proc/self/...`` stands for the observed process's own ``/proc/<pid>/...``.
Anything else is refused with one line naming the rule ("cannot be represented").
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubecis.profile.errors import ProfileError

MAX_PATH = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

FILE = "file"
DIR = "dir"
TREE = "tree"
NAMES = "names"
NAMES_TREE = "names-tree"


@dataclass(frozen=True, order=True)
class PathRule:
    """One parsed path rule; ``text`` is its canonical spelling."""

    text: str
    base: str  # the file, directory, or the directory holding the named entries
    kind: str
    prefix: str = ""  # NAMES / NAMES_TREE: the name prefix before '*'

    @property
    def is_pattern(self) -> bool:
        return self.kind in (NAMES, NAMES_TREE)

    def covers(self, path: str) -> bool:
        """Does this rule match the (normalised, absolute) ``path``?"""
        if self.kind in (FILE, DIR):
            return path == self.base
        if self.kind == TREE:
            return path == self.base or path.startswith(_slash(self.base))
        head = _slash(self.base)
        if not path.startswith(head):
            return False
        rest = path[len(head):]
        first, sep, _ = rest.partition("/")
        if not first.startswith(self.prefix):
            return False
        return not sep if self.kind == NAMES else True

    def covers_rule(self, other: PathRule) -> bool:
        """Does this rule match everything ``other`` matches (so ``other`` is redundant)?"""
        if self == other:
            return True
        if self.kind == TREE:
            return other.base == self.base or other.base.startswith(_slash(self.base))
        if self.kind in (NAMES, NAMES_TREE):
            if other.kind in (NAMES, NAMES_TREE):
                if other.base == self.base:
                    return other.prefix.startswith(self.prefix) and (self.kind == NAMES_TREE or other.kind == NAMES)
                return self.kind == NAMES_TREE and self.covers(other.base) and other.base != self.base
            return self.covers(other.base) if self.kind == NAMES_TREE else (
                other.kind in (FILE, DIR) and self.covers(other.base))
        return other.kind in (FILE, DIR) and other.base == self.base


def _slash(p: str) -> str:
    return p if p.endswith("/") else p + "/"


def representable(path: str) -> str | None:
    """Why ``path`` (a plain absolute path, no pattern) cannot be a rule, or None."""
    if not path.startswith("/"):
        return "not an absolute path"
    if len(path) > MAX_PATH:
        return f"longer than {MAX_PATH} characters"
    if _CONTROL.search(path):
        return "contains a control character (newline, tab, NUL...)"
    if path != "/" and (path.endswith("/") or "//" in path):
        return "not normalised ('//' or a trailing '/')"
    parts = path.split("/")[1:]
    if any(p in (".", "..") for p in parts):
        return "not normalised ('.' or '..')"
    if "*" in path:
        return "contains '*', which the rule language uses as a pattern"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid UTF-8"
    return None


def parse_rule(text: object, *, where: str) -> PathRule:
    """A rule from its spelling; :class:`ProfileError` ("cannot be represented") otherwise."""
    if not isinstance(text, str) or not text:
        raise ProfileError(f"{where}: must be a non-empty string, got {text!r}")

    def bad(reason: str) -> ProfileError:
        return ProfileError(f"{where}: path rule {text!r} cannot be represented: {reason}")

    if text == "/**":
        return PathRule(text, "/", TREE)
    kind, body, prefix = FILE, text, ""
    if text.endswith("/**"):
        kind, body = TREE, text[:-3]
    elif text.endswith("/") and text != "/":
        kind, body = DIR, text[:-1]
    if body.endswith("*"):
        head, _, last = body.rpartition("/")
        if "*" in last[:-1]:
            raise bad("'*' may only end a name")
        prefix = last[:-1]
        body = head or "/"
        if kind == DIR:
            raise bad("a pattern cannot name a directory listing; use NAME* or NAME*/**")
        kind = NAMES_TREE if kind == TREE else NAMES
    why = representable(body)
    if why is not None:
        if "'*'" in why:
            why = "'*' may only end the last name (or the name before '/**')"
        raise bad(why)
    if "/" in prefix:
        raise bad("'*' may only end a name")
    if kind == DIR and body == "/":
        return PathRule("/", "/", DIR)
    canonical = {FILE: body, DIR: body + "/", TREE: _slash(body) + "**",
                 NAMES: _slash(body) + prefix + "*", NAMES_TREE: _slash(body) + prefix + "*/**"}[kind]
    return PathRule(canonical, body, kind, prefix)


def simplify(rules: Iterable[PathRule]) -> tuple[PathRule, ...]:
    """Sorted, without rules another rule already covers."""
    uniq = sorted(set(rules), key=lambda r: (r.base.count("/"), r.kind != TREE, r.text))
    kept: list[PathRule] = []
    for r in uniq:
        if not any(k.covers_rule(r) for k in kept):
            kept = [k for k in kept if not r.covers_rule(k)]
            kept.append(r)
    return tuple(sorted(kept, key=lambda r: r.text))


# ---- generalisation -----------------------------------------------------------------------------

#: Read-only system trees: any read beneath one becomes the whole tree (executables stay exact).
SYSTEM_TREES = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin")
#: A directory at least this deep that the program listed and read at least TREE_MIN_FILES files beneath
#: becomes ``D/**`` (interpreter libraries, application trees).
TREE_MIN_DEPTH = 2
TREE_MIN_FILES = 4
_NO_TREE = ("/proc", "/sys", "/dev", "/tmp", "/var/tmp", "/dev/shm", "/run")  # noqa: S108 - recognised, not used
# a name ending in 6-8 random-looking characters (mkstemp's XXXXXX, Python's tempfile), before an extension
_TEMP_NAME = re.compile(r"^(?P<prefix>.*?)(?P<rand>[A-Za-z0-9_]{6,8})(?P<suffix>\.[A-Za-z0-9]{1,10})?$")
_PROC_PID = re.compile(r"^/proc/(?:\d+|self|thread-self)(?=/|$)")

GENERALISATION = (
    "proc: a traced process's own /proc/<pid>/... (also /proc/self, /proc/thread-self) -> /proc/self/**",
    "system: a read beneath " + ", ".join(SYSTEM_TREES) + " -> that whole tree (e.g. /usr/**); "
    "executables stay exact",
    f"trees: a directory at least {TREE_MIN_DEPTH} levels deep that the program listed and read at least "
    f"{TREE_MIN_FILES} files beneath -> DIR/** (read)",
    "temporary names: an entry created and removed again during learning, or whose name ends in 6-8 "
    "random-looking letters/digits -> DIR/PREFIX* (and everything beneath such a directory -> DIR/PREFIX*/**)",
    "otherwise exact: a file as /path, a directory listing as /path/",
)


def normalise_proc(path: str, pids: Iterable[int] | None = None) -> str:
    """``/proc/<pid>/x`` of a traced pid (or ``/proc/self``, ``/proc/thread-self``) -> ``/proc/self/x``."""
    m = _PROC_PID.match(path)
    if m is None:
        return path
    word = m.group()[len("/proc/"):]
    if word.isdigit() and pids is not None and int(word) not in set(pids):
        return path
    return "/proc/self" + path[m.end():]


def temp_prefix(name: str, *, transient: bool) -> str | None:
    """The pattern prefix for a temporary-looking ``name`` (``tmpk3j2l1x0`` -> ``tmp``), or None."""
    m = _TEMP_NAME.match(name)
    if m is None:
        return None
    rand = m.group("rand")
    looks_random = any(c.isdigit() for c in rand) and any(c.isalpha() for c in rand)
    if looks_random or transient:
        return m.group("prefix")
    return None


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


@dataclass
class Observed:
    """Paths seen per operation, already resolved and absolute."""

    read: set[str]
    listed: set[str]
    write: set[str]
    create: set[str]  # created (and rename targets)
    remove: set[str]  # removed (and rename sources)
    execute: set[str]


def generalise(obs: Observed) -> dict[str, tuple[PathRule, ...]]:
    """Rules per category (read, write, create, execute) by :data:`GENERALISATION`; one
    :class:`ProfileError` naming a path that cannot be represented."""
    everything = obs.read | obs.listed | obs.write | obs.create | obs.remove | obs.execute
    for p in sorted(everything):
        why = representable(p)
        if why is not None:
            raise ProfileError(f"observed path {p!r} cannot be represented as a rule: {why}")

    # temporary names: created entries that were removed again, or that look random
    temp: dict[str, PathRule] = {}  # created path -> its pattern (NAMES)
    for p in sorted(obs.create):
        if p.startswith("/proc/"):
            continue
        d, name = posixpath.split(p)
        prefix = temp_prefix(name, transient=p in obs.remove)
        if prefix is not None:
            temp[p] = parse_rule(_slash(d) + prefix + "*", where="generalisation")

    def pattern(p: str) -> PathRule | None:
        if p in temp:
            return temp[p]
        for created, rule in temp.items():
            if p.startswith(created + "/"):
                return parse_rule(rule.text + "/**", where="generalisation")
        return None

    def exact(p: str, *, listing: bool = False) -> PathRule:
        if p.startswith("/proc/self"):
            return PathRule("/proc/self/**", "/proc/self", TREE)
        pat = pattern(p)
        if pat is not None:
            return pat
        return parse_rule(p + "/" if listing and p != "/" else p, where="generalisation")

    out: dict[str, tuple[PathRule, ...]] = {}

    # read: system trees, listed trees, then exact
    read_rules: list[PathRule] = []
    reads = obs.read | obs.listed
    rest: set[str] = set()
    for p in reads:
        top = next((t for t in SYSTEM_TREES if _under(p, t)), None)
        if top is not None:
            read_rules.append(PathRule(top + "/**", top, TREE))
        else:
            rest.add(p)
    trees: list[str] = []
    candidates = sorted(
        (d for d in obs.listed
         if d.count("/") >= TREE_MIN_DEPTH and not any(_under(d, t) for t in _NO_TREE) and d not in temp),
        key=lambda d: (d.count("/"), d),
    )
    for d in candidates:
        if any(_under(d, t) for t in trees):
            continue
        beneath = sum(1 for p in obs.read if p.startswith(d + "/"))
        if beneath >= TREE_MIN_FILES:
            trees.append(d)
    read_rules += [PathRule(d + "/**", d, TREE) for d in trees]
    for p in rest:
        if any(_under(p, t) for t in trees):
            continue
        read_rules.append(exact(p, listing=p in obs.listed and p not in obs.read))
    out["read"] = simplify(read_rules)
    out["write"] = simplify(exact(p) for p in obs.write)
    out["create"] = simplify(exact(p) for p in obs.create | obs.remove)
    out["execute"] = simplify(parse_rule(p, where="generalisation") for p in obs.execute)
    return out


def rules_from(texts: Iterable[str], *, where: str) -> tuple[PathRule, ...]:
    return tuple(parse_rule(t, where=f"{where}[{i}]") for i, t in enumerate(texts))


def texts(rules: Mapping[str, Iterable[PathRule]]) -> dict[str, list[str]]:
    return {k: [r.text for r in v] for k, v in rules.items()}
