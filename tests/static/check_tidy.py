#!/usr/bin/env python3
"""The server's sources pass clang-tidy as .clang-tidy configures it (Debian's clang-tidy 14).

Usage: check_tidy.py SOURCE_DIR BUILD_DIR [JOBS]

Runs clang-tidy on every translation unit of src/ listed in BUILD_DIR/compile_commands.json
(headers of include/ and src/ are checked through them), JOBS at a time (default: the number
of processors). In a unity build (CONFAB_UNITY) the units are CMake's batches of src/ files,
so Boost's headers are parsed and matched once per batch rather than once per file. Any
diagnostic fails; each is printed once even when several units include the header it is in.
"""
import concurrent.futures
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys


def clang_tidy() -> str:
    for name in ("clang-tidy-14", "clang-tidy"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("clang-tidy not found: install Debian's clang-tidy package (scripts/dev does)")


def units(root: pathlib.Path, build: pathlib.Path):
    database = build / "compile_commands.json"
    if not database.exists():
        sys.exit(f"{database} not found: configure the build with CMake first")
    sources = root / "src"
    files = {pathlib.Path(entry["file"]).resolve() for entry in json.loads(database.read_text())}
    return sorted(path for path in files if sources in path.parents or batches_sources(path, sources))


def batches_sources(path: pathlib.Path, sources: pathlib.Path) -> bool:
    """A unity build's batch (a generated file of #includes) of files under src/."""
    if path.parent.name != "Unity":
        return False
    included = re.findall(r'^#include "([^"]+)"', path.read_text(), re.M)
    return any(sources in pathlib.Path(name).resolve().parents for name in included)


def diagnostics(tool: str, root: pathlib.Path, build: pathlib.Path, unit: pathlib.Path) -> list[str]:
    # The configuration is named, not looked up beside the unit: a batch lives in the build tree.
    result = subprocess.run(
        [tool, "-p", str(build), f"--config-file={root / '.clang-tidy'}", "--quiet", str(unit)],
        capture_output=True,
        text=True,
    )
    reported = [line for line in result.stdout.splitlines() if ": warning: " in line or ": error: " in line]
    # A batch itself is nothing but #includes of .cpp files (bugprone-suspicious-include).
    found = [line for line in reported if not line.startswith(f"{unit}:") or root / "src" in unit.parents]
    if result.returncode != 0 and not reported:
        found = [f"{unit}: clang-tidy failed:\n{result.stderr.strip()}"]
    return found


def main() -> int:
    root = pathlib.Path(sys.argv[1]).resolve()
    build = pathlib.Path(sys.argv[2]).resolve()
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count() or 1
    tool = clang_tidy()
    todo = units(root, build)
    found: dict[str, None] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for lines in pool.map(lambda unit: diagnostics(tool, root, build, unit), todo):
            found.update(dict.fromkeys(lines))
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} clang-tidy finding(s) in {len(todo)} units (see .clang-tidy)")
        return 1
    print(f"tidy: {len(todo)} units pass .clang-tidy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
