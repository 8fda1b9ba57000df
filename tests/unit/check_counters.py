#!/usr/bin/env python3
"""Counters that cannot drift: every exported counter has a code path that moves it.

core/counters.c defines every counter once, as a field of struct dm_counters
(core/counters.h) that its Prometheus families and stats rows name with F(...).
A field of a component's stats (F(ts.pdus_broken): struct dm_table_stats'
pdus_broken) is alive when some userspace/*.c file writes it through a
variable or member of that struct type (t->st.pdus_broken++, += n, = x other
than 0, or its address passed on); a field of struct dm_counters itself is
computed at render time and must be assigned in counters.c. The per-counter
families dicomon_<counter>_total are generated from enum dm_counter: each
counter (and each association event and parse error) must be used by the BPF
side. Exit 1, naming each dead source, when one is exported that nothing moves.

Usage: check_counters.py [-v] [ROOT]   (the repository root; default: this file's ../..)
"""

import glob
import os
import re
import sys

VERBOSE = "-v" in sys.argv[1:]
ARGS = [a for a in sys.argv[1:] if a != "-v"]
ROOT = ARGS[0] if ARGS else os.path.join(os.path.dirname(__file__), "..", "..")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def counters_members():
    """struct dm_counters: member name -> struct type (None: a plain field)."""
    h = strip_comments(read("userspace/core/counters.h"))
    body = re.search(r"struct dm_counters \{(.*?)\};", h, re.S).group(1)
    members = {}
    for decl in body.split(";"):
        decl = decl.strip()
        if not decl:
            continue
        m = re.match(r"struct (\w+) (\w+)$", decl)
        if m:
            members[m.group(2)] = m.group(1)
            continue
        for name in re.findall(r"(\w+)(?:\[[^\]]*\])?\s*(?:,|$)", decl.split(None, 1)[-1]):
            members[name] = None
    return members


def sources():
    """Every F(...) of the family and stats tables: (member, field or None)."""
    c = strip_comments(read("userspace/core/counters.c"))
    c = re.sub(r"#define[^\n]*", " ", c)  # the macros' own definitions
    found = set()
    for expr in re.findall(r"\bF\(([^()]*(?:\[[^\]]*\])?[^()]*)\)", c):
        expr = expr.strip()
        m = re.match(r"(\w+)(?:\.(\w+))?", expr)
        found.add((m.group(1), m.group(2)))
    for expr in re.findall(r"\bROW(?:IF)?\(\"\w+\", ([\w.]+)", c):
        m = re.match(r"(\w+)(?:\.(\w+))?", expr)
        found.add((m.group(1), m.group(2)))
    return sorted(found, key=lambda s: (s[0], s[1] or ""))


def user_sources():
    return {p: strip_comments(read(p)) for p in
            (os.path.relpath(f, ROOT) for f in
             glob.glob(os.path.join(ROOT, "userspace", "*", "*.[ch]")))}


def holders(files, stype):
    """Per file, the names of its variables and members of struct stype (or non-const
    pointers to one): a write must go through a holder declared in the same file."""
    names = {}
    for path, text in files.items():
        pat = r"(const\s+)?struct " + stype + r"\s*(\*?)\s*(\w+)\s*(?:\[[^\]]*\])?\s*[;=,)]"
        for m in re.finditer(pat, text):
            if m.group(2) and m.group(1):
                continue
            if path == "userspace/core/counters.h":
                continue  # dm_counters' own copies
            names.setdefault(path, set()).add(m.group(3))
    return names


def moved(files, names, field):
    """Where a write to NAME.field / NAME->field happens: [(file, line)]."""
    hits = []
    for path, held in names.items():
        text = files[path]
        who = "(?:" + "|".join(sorted(held)) + ")"
        target = r"\b" + who + r"\s*(?:\.|->)\s*" + field + r"\b(?:\s*\[[^\]]*\])?"
        patterns = [
            target + r"\s*(?:\+\+|--|[-+|]=)",
            r"(?:\+\+|--)\s*" + target,
            target + r"\s*=(?!=)\s*(?!0\s*;)",
            r"&\s*" + target,
        ]
        for pat in patterns:
            for m in re.finditer(pat, text):
                hits.append((path, text.count("\n", 0, m.start()) + 1))
    return sorted(hits)


def kernel_counters():
    """Enumerators of the kernel counters that families are generated from, unused by bpf/."""
    inc = strip_comments(read("include/dicomon.h"))
    bpf = "".join(strip_comments(read(os.path.relpath(f, ROOT)))
                  for f in glob.glob(os.path.join(ROOT, "bpf", "*.bpf.[ch]")))
    dead = []
    for enum in ("dm_counter", "dm_assoc_counter", "dm_err"):
        m = re.search(r"enum " + enum + r" \{(.*?)\};", inc, re.S)
        if not m:
            dead.append(f"enum {enum} not found in include/dicomon.h")
            continue
        for name in re.findall(r"\b(DM_\w+)\s*(?:=[^,]*)?,", m.group(1)):
            if name.endswith("_MAX"):
                continue
            if not re.search(r"\b" + name + r"\b", bpf):
                dead.append(f"{name} (enum {enum}): no BPF code counts it")
    return dead


def main():
    members = counters_members()
    files = user_sources()
    dead, ok = [], 0
    for member, field in sources():
        if member not in members:
            dead.append(f"F({member}{'.' + field if field else ''}): not a member of struct dm_counters")
            continue
        stype = members[member]
        if stype is None:
            where = moved(files, {"userspace/core/counters.c": {"c"}}, member)
            what = f"dm_counters.{member}"
        else:
            where = moved(files, holders(files, stype), field)
            what = f"{stype}.{field} (F({member}.{field}))"
        if where:
            ok += 1
            if VERBOSE:
                print(f"check_counters: {what}: moved at {where[0][0]}:{where[0][1]}")
        else:
            dead.append(f"{what}: exported, but no code path moves it")
    dead += kernel_counters()
    for d in dead:
        print(f"check_counters: DEAD {d}")
    print(f"check_counters: {ok} sources moved by code, {len(dead)} dead")
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
