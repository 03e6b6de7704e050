#!/usr/bin/env python3
"""Checks every #include under src/ against the layering table of ARCHITECTURE.md section 7.

A layer may include only itself and the layers listed for it, and only the external headers allowed to it.
Outside src/event/, code may not name sd-event or epoll (sd_event*, SD_EVENT_*, EPOLL*): the event layer is the
only user of sd-event; the other layers use its wrapper types and its own priority and event-mask names.
Comments and the contents of string and char literals do not count for that check.
Exit 0 when clean; otherwise prints one line per violation (file:line: message) and exits 1.
"""
import pathlib
import re
import sys

# layer -> project layers it may include (itself always allowed)
ALLOWED = {
    "base": set(),
    "model": {"base"},
    "config": {"model", "base"},
    "sys": {"base"},
    "event": {"sys", "base"},
    "net": {"event", "sys", "base"},
    "probe": {"model", "net", "systemd", "event", "sys", "base"},
    "notify": {"model", "net", "event", "base"},
    "systemd": {"model", "event", "base"},
    "store": {"model", "base"},
    "metrics": {"model", "base"},
    "supervisor": {"probe", "notify", "systemd", "store", "metrics", "model", "event", "sys", "base"},
    "api": {"supervisor", "metrics", "event", "base"},
    "daemon": None,  # anything below
    "tools": None,
}
# api/* may include only these supervisor headers
API_SUPERVISOR_HEADERS = {"supervisor/view.h", "supervisor/command_sink.h", "supervisor/observer.h"}
# external headers that only some layers may use
EXTERNAL = [
    (re.compile(r"^systemd/sd-event\.h$"), {"event"}),
    (re.compile(r"^systemd/sd-bus\.h$"), {"event", "systemd", "api", "daemon", "tools"}),  # event: BusPump; tools: watchctl's client
    (re.compile(r"^systemd/sd-journal\.h$"), {"sys"}),
    (re.compile(r"^systemd/sd-daemon\.h$"), {"daemon"}),
    (re.compile(r"^boost/json"), {"config", "store", "api"}),
    (re.compile(r"^microhttpd\.h$"), {"api"}),
    (re.compile(r"^curl/"), {"net"}),
    (re.compile(r"^openssl/"), {"net", "api"}),
]
NEVER_INCLUDED = {"api", "daemon", "tools"}
# ... except by the wiring layer: the daemon constructs the API services (ARCHITECTURE.md: daemon wires everything)
WIRED_BY = {"api": {"daemon"}}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
# sd-event and epoll names: only the event layer may use them in code
EVENT_LAYER = "event"
EVENT_NAMES = re.compile(r"\bsd_event\w*|\bSD_EVENT_\w+|\bEPOLL\w+")
# an identifier or pp-number (a quote between digits is a C++14 digit separator, as in 1'000'000)
WORD = re.compile(r"[0-9](?:'?[0-9A-Za-z_.])*|[A-Za-z_]\w*")
ENCODING_PREFIXES = {"u8", "u", "U", "L"}
RAW_OPEN = re.compile(r'"([^()\\\s"]{0,16})\(')


def strip_comments_and_literals(text: str) -> str:
    """Returns text with comments removed and string/char literals emptied ("" and '').

    Raw strings (R"d(...)d", with or without an encoding prefix) are emptied too. Every newline is kept, so a
    line number in the result is the line number in text; a comment becomes one space so the tokens on either
    side stay apart.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = i + 2
            while j < n and text[j] != "\n":
                j += 2 if text.startswith("\\\n", j) else 1  # a backslash-newline continues the comment
            out.append(" " + "\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            j = n if end < 0 else end + 2
            out.append(" " + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"' or c == "'":
            i = _skip_quoted(text, i, out)
        elif m := WORD.match(text, i):
            word, j = m.group(), m.end()
            out.append(word)
            if word[0].isdigit() or j >= n:
                i = j
            elif text[j] in "\"'" and word in ENCODING_PREFIXES:
                i = _skip_quoted(text, j, out)
            elif text[j] == '"' and word.endswith("R") and word[:-1] in ENCODING_PREFIXES | {""}:
                i = _skip_raw(text, j, out)
            else:
                i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _skip_quoted(text: str, i: int, out: list[str]) -> int:
    """Appends the emptied literal that opens at text[i]; returns the index just past it.

    An unterminated literal stops at the end of its line (the compiler rejects it there anyway).
    """
    quote, n, j, newlines = text[i], len(text), i + 1, 0
    while j < n and text[j] != quote and text[j] != "\n":
        if text[j] == "\\" and j + 1 < n:
            newlines += text[j + 1] == "\n"
            j += 2
        else:
            j += 1
    if j < n and text[j] == quote:
        j += 1
    out.append(quote + quote + "\n" * newlines)
    return j


def _skip_raw(text: str, i: int, out: list[str]) -> int:
    """Appends the emptied raw string whose quote is at text[i]; returns the index just past it."""
    m = RAW_OPEN.match(text, i)
    if not m:  # not a valid raw-string opening: treat it as an ordinary string
        return _skip_quoted(text, i, out)
    end = text.find(")" + m.group(1) + '"', m.end())
    j = len(text) if end < 0 else end + len(m.group(1)) + 2
    out.append('""' + "\n" * text.count("\n", i, j))
    return j


def layer_of(rel: pathlib.PurePosixPath) -> str:
    return rel.parts[0]


def event_name_problems(rel: pathlib.PurePosixPath, me: str, text: str) -> list[tuple[int, str]]:
    """(line, report) for each line of code outside the event layer that names sd-event or epoll."""
    if me == EVENT_LAYER:
        return []
    found = []
    for n, line in enumerate(strip_comments_and_literals(text).split("\n"), 1):
        names = list(dict.fromkeys(EVENT_NAMES.findall(line)))
        if names:
            found.append((n, f"src/{rel}:{n}: {me}/ uses {', '.join(names)} "
                             f"(sd-event and epoll names belong in src/event/)"))
    return found


def include_problems(rel: pathlib.PurePosixPath, me: str, text: str, layers: set[str]) -> list[tuple[int, str]]:
    """(line, report) for each #include that breaks the layering table."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        inc = m.group(2)
        first = inc.split("/")[0]
        where = f"src/{rel}:{n}"
        if m.group(1) == '"' and first in layers:
            if first == me:
                continue
            if first in NEVER_INCLUDED and me not in WIRED_BY.get(first, set()):
                wirer = "".join(f" but {w}/" for w in sorted(WIRED_BY.get(first, set())))
                found.append((n, f"{where}: includes {inc}: nothing{wirer} may include {first}/"))
            elif ALLOWED[me] is not None and first not in ALLOWED[me]:
                found.append((n, f"{where}: {me}/ may not include {inc} ({first}/ is not below it)"))
            elif me == "api" and first == "supervisor" and inc not in API_SUPERVISOR_HEADERS:
                found.append((n, f"{where}: api/ may include only {sorted(API_SUPERVISOR_HEADERS)} of supervisor/"))
            continue
        for pattern, allowed in EXTERNAL:
            if pattern.search(inc) and me not in allowed:
                found.append((n, f"{where}: {me}/ may not use <{inc}> (allowed in: {', '.join(sorted(allowed))})"))
    return found


def check(root: pathlib.Path) -> list[str]:
    src = root / "src"
    layers = {p.name for p in src.iterdir() if p.is_dir()}
    problems = []
    for f in sorted(src.rglob("*")):
        if f.suffix not in {".h", ".cc", ".hpp", ".cpp"}:
            continue
        rel = pathlib.PurePosixPath(f.relative_to(src).as_posix())
        me = layer_of(rel)
        if me not in ALLOWED:
            problems.append(f"src/{rel}: layer '{me}' is not in the layering table")
            continue
        text = f.read_text(errors="replace")
        found = include_problems(rel, me, text, layers) + event_name_problems(rel, me, text)
        problems += [report for _, report in sorted(found, key=lambda p: p[0])]  # stable: includes first
    return problems


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
    problems = check(root)
    for p in problems:
        print(p)
    print(f"layering: {len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
