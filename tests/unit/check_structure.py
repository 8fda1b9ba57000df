#!/usr/bin/env python3
"""The userspace structure, checked: layers, include cycles, function length.

userspace/ is in layers, one folder each, bottom to top (docs/ARCHITECTURE.md):

    lib decode config kern assoc detect output core cmd

1. A file includes project headers as "layer/name.h", of its own layer or a lower one.
2. No include cycle between modules (a module: userspace/LAYER/NAME.c with NAME.h and
   its private NAME_internal.h, if any).
3. No function longer than MAX_LINES lines, its opening "{" to its closing "}".

Usage: check_structure.py [--root DIR] [--self-test]
Prints every finding; exit 1 if there is any.
"""

import argparse
import os
import re
import sys
import tempfile

LAYERS = ["lib", "decode", "config", "kern", "assoc", "detect", "output", "core", "cmd"]
MAX_LINES = 80
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# A function definition at file scope: its body opens with "{" alone at column 0 (the
# project's clang-format style) and closes with "}" at column 0.
OPEN = re.compile(r"^\{\s*$")
CLOSE = re.compile(r"^\}\s*;?\s*$")
NAME = re.compile(r"([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$", re.S)


def sources(root):
    """(layer, path relative to root/userspace) of every .c and .h file."""
    base = os.path.join(root, "userspace")
    out = []
    for layer in sorted(os.listdir(base)):
        d = os.path.join(base, layer)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                out.append((layer, f"{layer}/{f}"))
    loose = [f for f in os.listdir(base) if f.endswith((".c", ".h"))]
    return out, loose


def module(rel):
    """A module: NAME.c with NAME.h, and NAME_internal.h, its private header."""
    m = os.path.splitext(rel)[0]
    return m[: -len("_internal")] if m.endswith("_internal") else m


def check_includes(root, files, problems):
    """Layer rule; returns the module graph {module: {modules it includes}}."""
    base = os.path.join(root, "userspace")
    known = {rel for _, rel in files}
    graph = {}
    for layer, rel in files:
        with open(os.path.join(base, rel), encoding="utf-8") as f:
            text = f.read()
        me = module(rel)
        graph.setdefault(me, set())
        for inc in INCLUDE.findall(text):
            if "/" not in inc:
                continue  # include/dicomon.h, skeletons, test headers
            their = inc.split("/", 1)[0]
            if their not in LAYERS:
                continue
            if inc not in known:
                problems.append(f"{rel}: includes \"{inc}\", which does not exist")
                continue
            if layer in LAYERS and LAYERS.index(their) > LAYERS.index(layer):
                problems.append(f"{rel}: includes \"{inc}\" from a higher layer "
                                f"({layer} < {their})")
            if module(inc) != me:
                graph[me].add(module(inc))
    return graph


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def long_functions(path):
    """(name, first line, length) of every function over MAX_LINES lines."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        if OPEN.match(lines[i]):
            j = i + 1
            while j < len(lines) and not CLOSE.match(lines[j]):
                j += 1
            length = j - i + 1
            # The signature: the lines above, back to a blank line or the end of a comment.
            k = i
            while k > 0 and lines[k - 1].strip() and not lines[k - 1].rstrip().endswith(
                    ("*/", ";", "}")):
                k -= 1
            m = NAME.search(" ".join(lines[k:i]))
            if length > MAX_LINES and m and "=" not in " ".join(lines[k:i]).split("(")[0]:
                out.append((m.group(1), i + 1, length))
            i = j
        i += 1
    return out


def check(root):
    problems = []
    files, loose = sources(root)
    for f in loose:
        problems.append(f"userspace/{f}: outside the layer folders")
    for layer, rel in files:
        if layer not in LAYERS:
            problems.append(f"{rel}: in folder {layer}/, which is not a layer")
    graph = check_includes(root, files, problems)
    for comp in cycles(graph):
        problems.append("include cycle between modules: " + " -> ".join(comp))
    for _, rel in files:
        if rel.endswith(".c"):
            for name, line, length in long_functions(os.path.join(root, "userspace", rel)):
                problems.append(f"userspace/{rel}:{line}: {name}() is {length} lines "
                                f"(at most {MAX_LINES})")
    return problems


def self_test():
    """The checker finds what it must: a tree with one of each fault, and a clean one."""
    long_body = "\n".join(f"\tx += {i};" for i in range(MAX_LINES))
    tree = {
        "lib/a.h": '#include "core/b.h"\n',  # upward
        "lib/a.c": '#include "lib/a.h"\n#include "lib/c.h"\n',
        "lib/c.h": '#include "lib/a.h"\n',  # a <-> c
        "core/b.h": "",
        "core/b.c": '#include "core/b.h"\n#include "lib/gone.h"\n'
                    f"static int f(int x)\n{{\n{long_body}\n\treturn x;\n}}\n",
        "odd/d.c": "",
        "e.c": "",
    }
    want = ['lib/a.h: includes "core/b.h" from a higher layer',
            'core/b.c: includes "lib/gone.h", which does not exist',
            "include cycle between modules: lib/a -> lib/c",
            "userspace/core/b.c:4: f() is 83 lines",
            "odd/d.c: in folder odd/, which is not a layer",
            "userspace/e.c: outside the layer folders"]
    with tempfile.TemporaryDirectory() as root:
        for rel, text in tree.items():
            p = os.path.join(root, "userspace", rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
        got = check(root)
    missing = [w for w in want if not any(w in g for g in got)]
    extra = [g for g in got if not any(w in g for w in want)]
    with tempfile.TemporaryDirectory() as root:
        p = os.path.join(root, "userspace", "lib")
        os.makedirs(p)
        with open(os.path.join(p, "ok.c"), "w", encoding="utf-8") as f:
            f.write('#include "lib/ok.h"\nint g(void)\n{\n\treturn 0;\n}\n')
        with open(os.path.join(p, "ok.h"), "w", encoding="utf-8") as f:
            f.write("int g(void);\n")
        clean = check(root)
    for m in missing:
        print(f"self-test: not found: {m}")
    for e in extra + clean:
        print(f"self-test: unexpected: {e}")
    ok = not missing and not extra and not clean
    print(f"check_structure self-test: {'ok' if ok else 'FAILED'}")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=".")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test and not self_test():
        return 1
    problems = check(a.root)
    for p in problems:
        print(p)
    files, _ = sources(a.root)
    print(f"structure: {len(files)} files in {len(LAYERS)} layers, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
