#!/usr/bin/env python3
"""Instructions per message by function, old code against new, from the callgrind dumps of
bench/instructions/measure.py (a small and a large window of each):

  bench/instructions/by_function.py OLD_SMALL OLD_LARGE NEW_SMALL NEW_LARGE MESSAGES [--top 25] \\
      [--old-idle DUMP IDLE_SECONDS EXTRA_SECONDS] [--new-idle DUMP IDLE_SECONDS EXTRA_SECONDS]

MESSAGES is the difference of the two windows' message counts. Each function's own (exclusive)
instructions per message are (Ir in LARGE - Ir in SMALL) / MESSAGES, read with
callgrind_annotate; template arguments are folded to <…> so that a function's instantiations
and its name in either build compare as one. --old-idle/--new-idle take a side's idle window
(its dump and length) off its figures in proportion to how much longer its LARGE window
lasted (EXTRA_SECONDS), as measure.py's "without_idle" column does for the totals. Prints the sums
by area (JSON, allocator, libpq, ...), the functions that grew or shrank most, then each side's
largest.
"""

import argparse
import re
import subprocess

AREAS = (
    ("JSON (nlohmann)", lambda name: "nlohmann" in name),
    ("std::map / _Rb_tree", lambda name: "_Rb_tree" in name or name.startswith("std::map")
     or " std::map<" in name[:40]),
    ("allocator (jemalloc)", lambda name: name in ("free", "malloc", "calloc", "realloc", "aligned_alloc", "sdallocx")
     or name.startswith(("operator new", "operator delete", "je_")) or "libjemalloc" in name),
    ("libpq, libpqxx", lambda name: "libpq" in name or "pqxx::" in name),
    ("libc mem*/str*", lambda name: name.startswith(("__mem", "__str", "mem", "str"))),
    ("Boost (Asio, Beast, containers)", lambda name: "boost::" in name),
    ("confab::", lambda name: "confab::" in name),
)
LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$")


def fold(name):
    name = re.sub(r"^[^:]*:(?=\S)", "", name, count=1)  # the source file ("???:" for most)
    name = re.sub(r"json_abi_v[\d_]+::", "", name)
    # The object only where it is all there is to tell (an address in a stripped library); a
    # function may move between the server's libraries, whose paths differ between builds.
    name = re.sub(r" \[(?:[^\]]*/)?([^/\]]*)\]$", lambda m: f" [{m.group(1)}]" if name.startswith("0x") else "", name)
    while True:
        folded = re.sub(r"<[^<>]*>", "\x01", name)
        if folded == name:
            return name.replace("\x01", "<…>")
        name = folded


def self_costs(dump):
    output = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", dump],
                            check=True, capture_output=True, text=True).stdout
    costs = {}
    for line in output.splitlines():
        match = LINE.match(line)
        if match and "PROGRAM TOTALS" not in line:
            name = fold(match.group(2))
            costs[name] = costs.get(name, 0) + int(match.group(1).replace(",", ""))
    return costs


def per_message(small, large, messages, idle=None):
    small, large = self_costs(small), self_costs(large)
    costs = {name: (large.get(name, 0) - small.get(name, 0)) / messages for name in set(small) | set(large)}
    if idle:
        dump, idle_seconds, extra_seconds = idle[0], float(idle[1]), float(idle[2])
        for name, cost in self_costs(dump).items():
            costs[name] = costs.get(name, 0) - cost / idle_seconds * extra_seconds / messages
    return costs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_small")
    parser.add_argument("old_large")
    parser.add_argument("new_small")
    parser.add_argument("new_large")
    parser.add_argument("messages", type=float)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--old-idle", nargs=3, metavar=("DUMP", "IDLE_SECONDS", "EXTRA_SECONDS"))
    parser.add_argument("--new-idle", nargs=3, metavar=("DUMP", "IDLE_SECONDS", "EXTRA_SECONDS"))
    args = parser.parse_args()
    old = per_message(args.old_small, args.old_large, args.messages, args.old_idle)
    new = per_message(args.new_small, args.new_large, args.messages, args.new_idle)
    print(f"total per message: old {sum(old.values()):,.0f}, new {sum(new.values()):,.0f}")
    print("\n== by area, own instructions per message (old, new, new - old); first match wins ==")
    left = set(old) | set(new)
    for area, member in AREAS + (("the rest", lambda name: True),):
        names = {name for name in left if member(name)}
        left -= names
        before, after = sum(old.get(n, 0) for n in names), sum(new.get(n, 0) for n in names)
        print(f"{before:10,.0f} {after:10,.0f} {after - before:+10,.0f}  {area}")
    names = set(old) | set(new)
    print("\n== largest changes, own instructions per message (old, new, new - old) ==")
    for name in sorted(names, key=lambda n: (-abs(new.get(n, 0) - old.get(n, 0)), n))[:args.top]:
        print(f"{old.get(name, 0):10,.0f} {new.get(name, 0):10,.0f} {new.get(name, 0) - old.get(name, 0):+10,.0f}  "
              f"{name[:150]}")
    for side, costs in (("old", old), ("new", new)):
        print(f"\n== {side}: largest own instructions per message ==")
        for name in sorted(costs, key=lambda n: (-costs[n], n))[:args.top]:
            print(f"{costs[name]:10,.0f}  {name[:150]}")


if __name__ == "__main__":
    main()
