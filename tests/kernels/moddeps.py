#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Print the modules to insmod for the named ones, dependencies first.

    moddeps.py MODULE_DIR NAME...

MODULE_DIR is lib/modules/VERSION of an unpacked kernel package with a
modules.dep (depmod -b). Paths are printed relative to MODULE_DIR. A name that
is no module (built in, or absent) is skipped with a note on stderr: init.sh
then relies on the kernel having it built in.
"""
import sys


def stem(path):
    base = path.rsplit("/", 1)[-1]
    for suffix in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(suffix):
            return base[: -len(suffix)].replace("-", "_")
    return base


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    deps = {}
    with open(argv[1] + "/modules.dep", encoding="utf-8") as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod.strip()] = rest.split()
    by_name = {stem(m): m for m in deps}
    order, seen = [], set()

    def visit(mod):
        if mod in seen:
            return
        seen.add(mod)
        for dep in deps.get(mod, []):
            visit(dep)
        order.append(mod)

    for name in argv[2:]:
        mod = by_name.get(name.replace("-", "_"))
        if mod is None:
            print(f"moddeps: {name}: not a module here (built in?)", file=sys.stderr)
            continue
        visit(mod)
    print("\n".join(order))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
