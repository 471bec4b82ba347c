#!/usr/bin/env python3
"""The layers include only what is below them, libpqxx stays inside the store, and the domain
sees neither Beast nor JSON text.

The link (-z defs, CMakeLists.txt) catches a library that uses a symbol of one it does not
link; this catches the same mistakes in headers, which never reach the linker, and keeps
libpqxx's types out of every layer above the store (docs/architecture.md, Layers).

Usage: check_layers.py SOURCE_DIR
"""
import pathlib
import re
import sys

# What each layer may include besides itself. The composition root (src/main.cpp) may
# include every layer, but not libpqxx.
BELOW = {
    "model": set(),
    "config": set(),
    "obs": set(),
    "store": {"model", "obs"},
    "realtime": {"model", "obs"},
    "media": {"model", "obs"},
    "domain": {"model", "config", "obs", "store", "realtime", "media"},
    "http": {"model", "obs", "store"},
    "api": {"model", "config", "obs", "store", "realtime", "media", "domain", "http"},
    "net": {"model", "config", "obs", "store", "realtime", "media", "domain", "http", "api"},
    "main": {"model", "config", "obs", "store", "realtime", "media", "domain", "http", "api", "net"},
}
# Headers that carry libpqxx's types: the store's own.
SQL_HEADERS = {"confab/store/sql.hpp", "confab/store/rows.hpp"}
# Libraries of the wire that the rules of chat stay apart from (DESIGN.md's layering).
DOMAIN_NEVER_SEES = ("boost/beast", "nlohmann/")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def layer_of(path: pathlib.Path, root: pathlib.Path) -> str | None:
    parts = path.relative_to(root).parts
    if parts == ("src", "main.cpp"):
        return "main"
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[:2] == ("include", "confab") and len(parts) > 3:
        return parts[2]
    return None


def problems(root: pathlib.Path):
    files = [p for d in ("src", "include") for p in (root / d).rglob("*") if p.suffix in (".cpp", ".hpp")]
    for path in sorted(files):
        layer = layer_of(path, root)
        if layer is None:
            continue
        if layer not in BELOW:
            yield f"{path.relative_to(root)}: layer '{layer}' is not in check_layers.py's BELOW"
            continue
        text = path.read_text()
        where = path.relative_to(root)
        if layer != "store" and "pqxx::" in text:
            yield f"{where}: names a libpqxx type; only the store uses libpqxx"
        for bracket, name in INCLUDE.findall(text):
            if bracket == "<" and name.startswith("pqxx/") and layer != "store":
                yield f"{where}: includes <{name}>; only the store uses libpqxx"
            if bracket == "<" and layer == "domain" and name.startswith(DOMAIN_NEVER_SEES):
                yield f"{where}: includes <{name}>; the domain never sees the wire (Beast) or JSON text"
            if bracket != '"' or not name.startswith("confab/"):
                continue
            target = name.split("/")[1]
            if target != layer and target not in BELOW[layer]:
                yield f"{where}: the {layer} layer includes {name}, from the {target} layer above it"
            if name in SQL_HEADERS and layer != "store":
                yield f"{where}: includes {name}; outside the store a Tx is opaque (confab/store/tx.hpp)"


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    found = list(problems(root))
    for problem in found:
        print(problem)
    if found:
        print(f"{len(found)} layering problem(s)")
        return 1
    print("layers: every include points down; libpqxx is the store's alone; the domain sees no Beast or JSON")
    return 0


if __name__ == "__main__":
    sys.exit(main())
