#!/usr/bin/env python3
"""Every C++ file is formatted as .clang-format says (clang-format 14, Debian's clang-format).

Usage: check_format.py SOURCE_DIR        report the files that differ (exit 1 if any)
       check_format.py SOURCE_DIR --fix  format them in place
"""
import pathlib
import shutil
import subprocess
import sys

DIRECTORIES = ("src", "include", "tests", "bench", "fuzz")


def clang_format() -> str:
    for name in ("clang-format-14", "clang-format"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("clang-format not found: install Debian's clang-format package (scripts/dev does)")


def sources(root: pathlib.Path):
    for directory in DIRECTORIES:
        for path in sorted((root / directory).rglob("*")):
            if path.suffix in (".cpp", ".hpp") and "corpus" not in path.parts:
                yield path


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    fix = "--fix" in sys.argv[2:]
    tool = clang_format()
    unformatted = []
    for path in sources(root):
        if fix:
            subprocess.run([tool, "-i", "--style=file", str(path)], check=True)
            continue
        formatted = subprocess.run([tool, "--style=file", str(path)], check=True, capture_output=True).stdout
        if formatted != path.read_bytes():
            unformatted.append(path.relative_to(root))
    for path in unformatted:
        print(f"{path}: not formatted (fix: python3 tests/static/check_format.py . --fix)")
    if unformatted:
        print(f"{len(unformatted)} file(s) differ from .clang-format")
        return 1
    print("format: every C++ file matches .clang-format")
    return 0


if __name__ == "__main__":
    sys.exit(main())
