#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The README's test command: install dependencies, build, run every test
# (unit, BPF_PROG_TEST_RUN, end-to-end in network namespaces). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $EUID -ne 0 ]]; then
	exec sudo -E "$0" "$@"
fi
scripts/install-deps.sh
make -j"$(nproc)"
make test
