#!/usr/bin/env python3
"""Checks every #include under src/ against the layering table of ARCHITECTURE.md section 7.

A layer may include only itself and the layers listed for it, and only the external headers allowed to it.
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
    (re.compile(r"^systemd/sd-event\.h$"), {"event", "daemon"}),
    (re.compile(r"^systemd/sd-bus\.h$"), {"systemd", "api", "daemon"}),
    (re.compile(r"^systemd/sd-journal\.h$"), {"sys"}),
    (re.compile(r"^systemd/sd-daemon\.h$"), {"daemon"}),
    (re.compile(r"^boost/json"), {"config", "store", "api"}),
    (re.compile(r"^microhttpd\.h$"), {"api"}),
    (re.compile(r"^curl/"), {"net"}),
    (re.compile(r"^openssl/"), {"net", "api"}),
]
NEVER_INCLUDED = {"api", "daemon", "tools"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(rel: pathlib.PurePosixPath) -> str:
    return rel.parts[0]


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
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(2)
            first = inc.split("/")[0]
            where = f"src/{rel}:{n}"
            if m.group(1) == '"' and first in layers:
                if first == me:
                    continue
                if first in NEVER_INCLUDED:
                    problems.append(f"{where}: includes {inc}: nothing may include {first}/")
                elif ALLOWED[me] is not None and first not in ALLOWED[me]:
                    problems.append(f"{where}: {me}/ may not include {inc} ({first}/ is not below it)")
                elif me == "api" and first == "supervisor" and inc not in API_SUPERVISOR_HEADERS:
                    problems.append(f"{where}: api/ may include only {sorted(API_SUPERVISOR_HEADERS)} of supervisor/")
                continue
            for pattern, allowed in EXTERNAL:
                if pattern.search(inc) and me not in allowed:
                    problems.append(f"{where}: {me}/ may not use <{inc}> (allowed in: {', '.join(sorted(allowed))})")
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
