#!/usr/bin/env python3
"""Check that the Swift wrapper's public API mirrors the Kotlin wrapper's.

Usage: api_mirror.py [--kotlin DIR] [--swift DIR] [-v]

Compares the hand-written wrappers only (the generated bindings come from one Rust definition):
  Kotlin  android/guardian/src/main/kotlin/dev/guardian/*.kt   (not the generated ffi/ folder)
  Swift   ios/Sources/Guardian/*.swift                         (not GuardianFFI.swift)

Each side is reduced to public declarations: types, initialisers, properties and functions with
their parameter names, keyed by owner type. Platform conventions are normalised:
  Kotlin `fun X.f()` extension            <-> Swift `extension X { public func f() }`
  Kotlin `companion object` member        <-> Swift `static` member
  Kotlin primary constructor `class C(a)` <-> Swift `public init(a:)`
  Kotlin `close()` (AutoCloseable)        <-> Swift `deinit` or `close()`
  Kotlin `fun isEmpty()` (no parameters)  <-> Swift `var isEmpty` (no-argument functions and
                                              properties are one kind of member)
  Kotlin SCREAMING_CASE constants         <-> Swift lowerCamelCase
  Kotlin `size`                           <-> Swift `count`
  Kotlin `pushTo(detector)`               <-> Swift `push(to detector:)` (a preposition label
                                              joins the base name; parameters compare by the
                                              Swift internal name)
  types: Flow<T> <-> AsyncStream<T>, Long <-> Int64, Boolean <-> Bool, Unit <-> Void,
         ByteBuffer <-> Data, List<T> <-> [T]; a type left to inference is not compared.
A declaration only one platform can have is marked on the line before it (above its doc
comment) with `// api-mirror: ios-only (why)` or `// api-mirror: android-only (why)`.

Parsing is deliberately small: comments and strings are blanked, braces give the scopes, and a
regex reads each declaration head. Exits 1 with a diff when an operation exists on one side
only, or when the two sides disagree on a type; prints a one-line summary either way.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KOTLIN_DIR = ROOT / "android/guardian/src/main/kotlin/dev/guardian"
SWIFT_DIR = ROOT / "ios/Sources/Guardian"
GENERATED_SWIFT = {"GuardianFFI.swift"}

PREPOSITIONS = {"to", "from", "with", "at", "in", "into", "for", "of", "by", "on", "onto", "as"}
KOTLIN_NAME_TO_SWIFT = {"size": "count"}
# Kotlin type tokens -> Swift type tokens (applied word by word after normalising).
KOTLIN_TYPE_TO_SWIFT = {
    "Flow": "AsyncStream",
    "Long": "Int64",
    "Int": "Int",
    "Short": "Int16",
    "Byte": "Int8",
    "ULong": "UInt64",
    "UInt": "UInt32",
    "Double": "Double",
    "Float": "Float",
    "Boolean": "Bool",
    "Unit": "Void",
    "ByteBuffer": "Data",
    "ByteArray": "Data",
    "String": "String",
}

TYPE_KEYWORDS = {"class", "struct", "enum", "protocol", "interface", "object", "extension", "actor"}
BODY_KEYWORDS = {
    "fun", "func", "init", "deinit", "get", "set", "willSet", "didSet", "if", "else", "for", "while",
    "switch", "when", "do", "catch", "guard", "try", "finally", "defer", "val", "var", "let", "return",
    "constructor", "repeat", "in",
}  # fmt: skip
SCOPE_WORD = re.compile(r"\b(" + "|".join(sorted(TYPE_KEYWORDS | BODY_KEYWORDS | {"companion"})) + r")\b")
MARKER = re.compile(r"//\s*api-mirror:\s*(ios|android)-only\b")


@dataclass(frozen=True)
class Decl:
    owner: str  # "" for top level
    static: bool
    kind: str  # "type", "init", "member" (property / no-arg function), "func"
    name: str
    params: tuple[str, ...]
    types: tuple[str | None, ...]  # parameter types then the result type (None: not written)
    where: str  # file:line
    deinit: bool = False  # a Swift deinit, standing for Kotlin's close()

    @property
    def key(self) -> tuple:
        return (self.owner, self.static, self.kind, self.name, self.params)

    def show(self) -> str:
        prefix = f"{self.owner}." if self.owner else ""
        static = "static " if self.static else ""
        if self.kind == "type":
            return f"type {self.name}"
        if self.kind == "member":
            return f"{static}{prefix}{self.name}"
        return f"{static}{prefix}{self.name}({', '.join(self.params)})"


# ---------------------------------------------------------------- scanning helpers


def blank_comments_and_strings(src: str) -> str:
    """Replace comments and string literals by spaces, keeping offsets and newlines."""
    out = list(src)
    i, n = 0, len(src)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:  # Kotlin and Swift both nest block comments
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif src.startswith('"""', i):
            j = src.find('"""', i + 3)
            j = n if j < 0 else j + 3
            blank(i + 1, j - 1)
            i = j
        elif src[i] == '"':
            j = i + 1
            while j < n and src[j] != '"' and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        elif src[i] == "'" and re.match(r"'(\\.|[^\\'])'", src[i:]):  # Kotlin char literal
            j = i + src[i:].index("'", 1 + (src[i + 1] == "\\"))
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def balanced(text: str, start: int, open_ch: str = "(", close_ch: str = ")") -> int:
    """Index just past the bracket that closes the one at `start`."""
    depth = 0
    for k in range(start, len(text)):
        if text[k] == open_ch:
            depth += 1
        elif text[k] == close_ch:
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


def split_top(text: str) -> list[str]:
    """Split on commas outside (), <>, [] and {} (arrows do not count as brackets)."""
    t = text.replace("->", "  ")
    parts, depth, last = [], 0, 0
    for k, ch in enumerate(t):
        if ch in "(<[{":
            depth += 1
        elif ch in ")>]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[last:k])
            last = k + 1
    if text[last:].strip():
        parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


@dataclass
class Scope:
    start: int
    end: int
    kind: str  # "type", "companion", "body"
    name: str


def scopes(clean: str) -> list[Scope]:
    """Every `{...}` with what opened it: a type (name), a companion object, or a body."""
    found: list[Scope] = []
    stack: list[tuple[int, str, str]] = []
    boundary = 0
    for k, ch in enumerate(clean):
        if ch == "{":
            header = clean[boundary:k]
            words = list(SCOPE_WORD.finditer(header))
            kind, name = "body", ""
            if words:
                w = words[-1]
                if w.group(1) == "companion" or (w.group(1) == "object" and re.search(r"\bcompanion\s+object\b", header)):
                    kind = "companion"
                elif w.group(1) in TYPE_KEYWORDS:
                    m = re.match(r"\s+([A-Za-z_][\w.]*)", header[w.end() :])
                    if m:  # `object : Foo {` (anonymous object) has no name: a body
                        kind, name = "type", m.group(1)
            stack.append((k, kind, name))
            boundary = k + 1
        elif ch == "}":
            if stack:
                s, kind, name = stack.pop()
                found.append(Scope(s, k, kind, name))
            boundary = k + 1
        elif ch == ";":
            boundary = k + 1
    return found


def enclosing(all_scopes: list[Scope], pos: int) -> list[Scope]:
    """Scopes containing `pos`, outermost first."""
    return sorted((s for s in all_scopes if s.start < pos < s.end), key=lambda s: s.start)


def marker_exemptions(raw: str, decl_positions: list[int]) -> set[int]:
    """Declaration positions that follow an `api-mirror: <platform>-only` marker."""
    exempt = set()
    for m in MARKER.finditer(raw):
        later = [p for p in decl_positions if p > m.end()]
        if later:
            exempt.add(min(later))
    return exempt


def exempt_scopes(all_scopes: list[Scope], matches: list, exempt: set[int], kinds: set[str]) -> list[Scope]:
    """The bodies of exempt types and extensions: everything declared inside is exempt too."""
    out = []
    for m in matches:
        if m.start("kw") in exempt and m.group("kw") in kinds:
            after = [sc for sc in all_scopes if sc.start > m.start("kw")]
            if after:
                out.append(min(after, key=lambda sc: sc.start))
    return out


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def snake_upper_to_camel(name: str) -> str:
    if re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+|[A-Z]{2,}[A-Z0-9]*", name):
        head, *rest = name.lower().split("_")
        return head + "".join(p.capitalize() for p in rest)
    return name


def norm_type(t: str | None, kotlin: bool) -> str | None:
    if t is None:
        return None
    t = re.sub(r"@\w+(\([^)]*\))?", " ", t)
    t = re.sub(r"\b(throws|rethrows|async|suspend|crossinline|noinline|inout|some|any)\b", " ", t)
    t = re.sub(r"\s+", "", t)
    if not t:
        return None
    if kotlin:
        # List<T> -> [T] (innermost first), then word by word.
        while True:
            m = re.search(r"\bList<([^<>]*)>", t)
            if not m:
                break
            t = t[: m.start()] + "[" + m.group(1) + "]" + t[m.end() :]
        t = re.sub(r"\b\w+\b", lambda m: KOTLIN_TYPE_TO_SWIFT.get(m.group(0), m.group(0)), t)
    t = t.replace("()->", "->").replace("Void->", "->")
    return t


# ---------------------------------------------------------------- Kotlin

K_MODS = r"(?:(?:public|private|internal|protected|open|override|inline|suspend|operator|infix|abstract|final|data|sealed|enum|const|lateinit|tailrec|external|value|annotation|inner|fun(?=\s+interface))\s+|@\w+(?:\([^)]*\))?\s+)*"
K_DECL = re.compile(
    r"(?m)^[ \t]*(?P<mods>" + K_MODS + r")(?P<kw>fun|val|var|class|object|interface)\s+"
    r"(?:<[^>]*>\s*)?(?:(?P<recv>[A-Z][\w.]*(?:<[^>]*>)?)\.)?(?P<name>\w+)"
)


def kotlin_decls(path: Path) -> tuple[list[Decl], list[Decl]]:
    raw = path.read_text()
    clean = blank_comments_and_strings(raw)
    all_scopes = scopes(clean)
    matches = list(K_DECL.finditer(clean))
    exempt = marker_exemptions(raw, [m.start("kw") for m in matches])
    exempt_bodies = exempt_scopes(all_scopes, matches, exempt, {"class", "object", "interface"})
    decls, skipped = [], []
    for m in matches:
        mods, kw, recv, name = m.group("mods"), m.group("kw"), m.group("recv"), m.group("name")
        outer = enclosing(all_scopes, m.start())
        if any(sc in exempt_bodies for sc in outer):
            exempt.add(m.start("kw"))
        if any(s.kind == "body" for s in outer):
            continue  # local declarations, anonymous objects, function bodies
        if re.search(r"\b(private|internal|protected)\b", mods):
            continue
        owner, static = "", False
        types_ = [s for s in outer if s.kind == "type"]
        if types_:
            owner = types_[-1].name
        if outer and outer[-1].kind == "companion":
            static = True
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line_of(raw, m.start('kw'))}"
        rest = clean[m.end() :]
        out: list[Decl] = []
        if kw in ("class", "interface") or (kw == "object" and not static):
            out.append(Decl("", False, "type", name, (), (), where))
            ctor = re.match(r"\s*(?:<[^>]*>\s*)?(?:(?:public\s+)?constructor\s*)?\(", rest)
            if kw == "class" and ctor and not re.match(r"\s*(?:<[^>]*>\s*)?(private|internal|protected)\s+constructor", rest):
                p0 = m.end() + ctor.end() - 1
                params, ptypes = kotlin_params(clean[p0 + 1 : balanced(clean, p0) - 1])
                out.append(Decl(name, False, "init", "init", params, ptypes, where))
        elif kw == "fun":
            if recv:
                owner = re.sub(r"<.*", "", recv)
            if "override" in mods and name == "close":
                name = "close"
            p0 = m.end() + (rest.index("(") if "(" in rest else 0)
            pend = balanced(clean, p0)
            params, ptypes = kotlin_params(clean[p0 + 1 : pend - 1])
            ret = re.match(r"\s*:\s*([^={\n]+)", clean[pend:])
            # No result type: a block body returns Unit; an expression body's type is inferred.
            block_body = re.match(r"\s*\{", clean[pend:]) is not None
            rtype = norm_type(ret.group(1).strip(), True) if ret else ("Void" if block_body else None)
            kind = "func" if params else "member"
            out.append(Decl(owner, static, kind, KOTLIN_NAME_TO_SWIFT.get(name, name), params, (*ptypes, rtype), where))
        else:  # val / var
            if "override" in mods:
                continue
            t = re.match(r"\s*:\s*([\w.<>?, \[\]]+?)\s*(?:=|\n|get\b|$)", rest)
            rtype = norm_type(t.group(1), True) if t else None
            n = KOTLIN_NAME_TO_SWIFT.get(name, snake_upper_to_camel(name))
            out.append(Decl(owner, static, "member", n, (), (rtype,), where))
        (skipped if m.start("kw") in exempt else decls).extend(out)
    return decls, skipped


def kotlin_params(text: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    names, types_ = [], []
    for p in split_top(text):
        p = re.sub(r"^(?:(?:vararg|crossinline|noinline|val|var|private|public|internal)\s+)+", "", p)
        m = re.match(r"(\w+)\s*:\s*(.*?)\s*(?:=.*)?$", p, re.S)
        if m:
            names.append(m.group(1))
            types_.append(norm_type(m.group(2), True))
    return tuple(names), tuple(types_)


# ---------------------------------------------------------------- Swift

S_MODS = r"(?:(?:public|open|private|fileprivate|internal|static|class|final|override|mutating|nonmutating|convenience|required|lazy|weak|unowned|nonisolated|dynamic|indirect)(?:\(set\))?\s+|@\w+(?:\([^)]*\))?\s+)*"
S_DECL = re.compile(
    r"(?m)^[ \t]*(?P<mods>"
    + S_MODS
    + r")(?P<kw>func|var|let|init|deinit|class|struct|enum|protocol|extension|actor|typealias)\b(?P<tail>[^\n]*)"
)


def swift_decls(path: Path) -> tuple[list[Decl], list[Decl]]:
    raw = path.read_text()
    clean = blank_comments_and_strings(raw)
    all_scopes = scopes(clean)
    matches = list(S_DECL.finditer(clean))
    exempt = marker_exemptions(raw, [m.start("kw") for m in matches])
    exempt_bodies = exempt_scopes(all_scopes, matches, exempt, {"class", "struct", "enum", "protocol", "extension", "actor"})
    decls, skipped = [], []
    for m in matches:
        mods, kw, tail = m.group("mods"), m.group("kw"), m.group("tail")
        outer = enclosing(all_scopes, m.start())
        if any(sc in exempt_bodies for sc in outer):
            exempt.add(m.start("kw"))
        if any(s.kind == "body" for s in outer):
            continue
        types_ = [s for s in outer if s.kind == "type"]
        owner = types_[-1].name if types_ else ""
        public = re.search(r"\b(public|open)\b", mods) is not None
        static = re.search(r"\b(static|class)\b", mods) is not None
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line_of(raw, m.start('kw'))}"
        out: list[Decl] = []
        if kw == "extension":
            continue  # its members carry their own `public`; the scope gives the owner
        if kw == "deinit":
            if owner:  # deinit exists whenever the type is public: the `close()` of Kotlin
                out.append(Decl(owner, False, "member", "close", (), (None,), where, deinit=True))
        elif not public:
            continue
        elif kw in ("class", "struct", "enum", "protocol", "actor", "typealias"):
            name = re.match(r"\s*(\w+)", tail)
            if name:
                out.append(Decl("", False, "type", name.group(1), (), (), where))
        elif kw in ("func", "init"):
            after = clean[m.start("tail") :]
            name_m = re.match(r"\s*(\w+)?\s*(?:<[^>]*>)?\s*\(", after) if kw == "func" else re.match(r"[?!]?\s*(?:<[^>]*>)?\s*\(", after)
            if not name_m:
                continue
            p0 = m.start("tail") + name_m.end() - 1
            pend = balanced(clean, p0)
            labels, params, ptypes = swift_params(clean[p0 + 1 : pend - 1])
            ret = re.match(r"\s*(?:async\s+)?(?:throws\s+|rethrows\s+)?(?:async\s+)?->\s*([^{\n]+)", clean[pend:])
            rtype = norm_type(ret.group(1).strip(), False) if ret else ("Void" if kw == "func" else None)
            if kw == "init":
                out.append(Decl(owner, False, "init", "init", params, tuple(ptypes), where))
            else:
                name = name_m.group(1)
                if labels and labels[0] in PREPOSITIONS and labels[0] != params[0]:
                    name = name + labels[0].capitalize()
                kind = "func" if params else "member"
                out.append(Decl(owner, static, kind, name, params, (*ptypes, rtype), where))
        else:  # var / let
            name = re.match(r"\s*(\w+)\s*(?::\s*([^={\n]+))?", tail)
            if name:
                rtype = norm_type(name.group(2).strip(), False) if name.group(2) else None
                out.append(Decl(owner, static, "member", name.group(1), (), (rtype,), where))
        (skipped if m.start("kw") in exempt else decls).extend(out)
    return decls, skipped


def swift_params(text: str) -> tuple[list[str], tuple[str, ...], list[str | None]]:
    labels, names, types_ = [], [], []
    for p in split_top(text):
        m = re.match(r"(\w+)(?:\s+(\w+))?\s*:\s*(.*?)\s*(?:=.*)?$", p, re.S)
        if m:
            label, inner = m.group(1), m.group(2) or m.group(1)
            labels.append(label)
            names.append(inner)
            types_.append(norm_type(m.group(3), False))
    return labels, tuple(names), types_


# ---------------------------------------------------------------- compare


def types_agree(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return True
    if a == b:
        return True
    # Kotlin returns `this` typed as the class; Kotlin `Unit` body-less results are not written.
    return a.rstrip("?") == b.rstrip("?") and a.endswith("?") == b.endswith("?")


def compare(kotlin: list[Decl], swift: list[Decl]) -> list[str]:
    kmap, smap = {}, {}
    for d in kotlin:
        kmap.setdefault(d.key, d)
    for d in swift:
        smap.setdefault(d.key, d)
    problems = []
    for key, d in sorted(kmap.items(), key=lambda kv: kv[1].where):
        if key not in smap:
            problems.append(f"  only in Kotlin: {d.show():<55} {d.where}")
    for key, d in sorted(smap.items(), key=lambda kv: kv[1].where):
        if key not in kmap and not d.deinit:  # a deinit with no Kotlin close(): memory management only
            problems.append(f"  only in Swift:  {d.show():<55} {d.where}")
    for key in sorted(set(kmap) & set(smap), key=lambda k: kmap[k].where):
        kd, sd = kmap[key], smap[key]
        if len(kd.types) == len(sd.types):
            for i, (a, b) in enumerate(zip(kd.types, sd.types)):
                if not types_agree(a, b):
                    what = "result" if i == len(kd.types) - 1 else f"parameter {kd.params[i]}"
                    problems.append(f"  type differs:   {kd.show()} {what}: Kotlin {a} vs Swift {b}   ({kd.where}, {sd.where})")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kotlin", type=Path, default=KOTLIN_DIR)
    ap.add_argument("--swift", type=Path, default=SWIFT_DIR)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every declaration matched")
    args = ap.parse_args(argv)
    kfiles = sorted(p for p in args.kotlin.glob("*.kt"))
    sfiles = sorted(p for p in args.swift.glob("*.swift") if p.name not in GENERATED_SWIFT)
    if not kfiles or not sfiles:
        print(f"api_mirror: FAILED: no {'Kotlin' if not kfiles else 'Swift'} wrapper files in {args.kotlin if not kfiles else args.swift}")
        return 1
    kotlin, swift, skipped = [], [], []
    for f in kfiles:
        d, s = kotlin_decls(f)
        kotlin += d
        skipped += [("android-only", x) for x in s]
    for f in sfiles:
        d, s = swift_decls(f)
        swift += d
        skipped += [("ios-only", x) for x in s]
    public_swift_types = {d.name for d in swift if d.kind == "type"}
    swift = [d for d in swift if not d.deinit or d.owner in public_swift_types]
    problems = compare(kotlin, swift)
    if args.verbose:
        for d in sorted(set(kotlin), key=lambda d: d.where):
            print(f"kotlin  {d.show():<55} {d.where}  {d.types}")
        for d in sorted(set(swift), key=lambda d: d.where):
            print(f"swift   {d.show():<55} {d.where}  {d.types}")
        for why, d in skipped:
            print(f"{why:<13} {d.show():<55} {d.where}")
    summary = (
        f"{len({d.key for d in kotlin})} Kotlin and {len({d.key for d in swift})} Swift public declarations "
        f"({len(kfiles)} .kt, {len(sfiles)} .swift files; {len(skipped)} marked platform-only)"
    )
    if problems:
        print("api_mirror: the Kotlin and Swift wrappers differ:")
        print("\n".join(problems))
        print(f"api_mirror: FAILED: {len(problems)} differences; {summary}")
        return 1
    print(f"api_mirror: OK: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
