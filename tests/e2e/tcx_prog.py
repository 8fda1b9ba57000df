#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""A foreign tcx program for tests/e2e/test_tcorder.sh, through the bpf(2)
syscall (Debian 12's bpftool 7.1 and tc cannot attach tcx).

  tcx_prog.py attach IFACE ingress|egress [--before] [--verdict N]
      load "r0 = N; exit" (default 0 = TCX_PASS: ends the hook) as a
      SCHED_CLS program named foreign_tcx, attach it through a tcx link
      (appended, or with --before in front of every tcx program), print
      "attached prog_id=ID" and hold the link until killed.
  tcx_prog.py query IFACE ingress|egress
      print the ids of the tcx programs on the hook, in the order they run.
  tcx_prog.py probe
      exit 0 if the kernel has tcx (6.6+), 1 if not.
Run it inside the interface's network namespace (ip netns exec).
"""
import ctypes
import os
import signal
import socket
import struct
import sys

SYS_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
BPF_PROG_LOAD, BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_QUERY, BPF_LINK_CREATE = 5, 15, 16, 28
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_TCX = {"ingress": 46, "egress": 47}
BPF_F_BEFORE = 1 << 3

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), len(attr))
    r = libc.syscall(SYS_BPF, cmd, buf, len(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, "bpf(%d): %s" % (cmd, os.strerror(e)))
    return r, buf.raw


def load(verdict):
    insns = struct.pack("<BBhi", 0xB7, 0, 0, verdict) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    ibuf = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = bytearray(128)
    struct.pack_into("<IIQQ", attr, 0, BPF_PROG_TYPE_SCHED_CLS, 2,
                     ctypes.addressof(ibuf), ctypes.addressof(lic))
    attr[48:48 + 11] = b"foreign_tcx"
    fd, _ = bpf(BPF_PROG_LOAD, attr)
    return fd


def prog_id(fd):
    info = ctypes.create_string_buffer(256)
    attr = bytearray(16)
    struct.pack_into("<IIQ", attr, 0, fd, 256, ctypes.addressof(info))
    bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
    return struct.unpack_from("<I", info.raw, 4)[0]


def attach(ifindex, hook, before, verdict):
    fd = load(verdict)
    attr = bytearray(64)
    struct.pack_into("<IIII", attr, 0, fd, ifindex, BPF_TCX[hook], BPF_F_BEFORE if before else 0)
    bpf(BPF_LINK_CREATE, attr)  # the link lives as long as this process
    print("attached prog_id=%d" % prog_id(fd), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


def query(ifindex, hook):
    ids = (ctypes.c_uint32 * 64)()
    attr = bytearray(64)
    struct.pack_into("<IIIIQI", attr, 0, ifindex, BPF_TCX[hook], 0, 0, ctypes.addressof(ids), 64)
    _, out = bpf(BPF_PROG_QUERY, attr)
    n = struct.unpack_from("<I", out, 24)[0]
    print(" ".join(str(ids[i]) for i in range(n)))


def main(argv):
    if argv[:1] == ["probe"]:
        try:
            query(socket.if_nametoindex("lo"), "ingress")
        except OSError:
            sys.exit(1)  # EINVAL: an attach type this kernel does not know
        return
    if len(argv) < 3 or argv[0] not in ("attach", "query") or argv[2] not in BPF_TCX:
        sys.exit(__doc__)
    ifindex = socket.if_nametoindex(argv[1])
    if argv[0] == "query":
        query(ifindex, argv[2])
        return
    verdict = int(argv[argv.index("--verdict") + 1]) if "--verdict" in argv else 0
    attach(ifindex, argv[2], "--before" in argv, verdict)


if __name__ == "__main__":
    main(sys.argv[1:])
