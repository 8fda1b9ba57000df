#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""A DICOM Verification SCU that holds its association open until told to go on.

    slowscu.py HOST PORT STATEFILE GOFILE [CALLED [CALLING]]

Connects, sends an A-ASSOCIATE-RQ (Verification, implicit VR little endian),
waits for the A-ASSOCIATE-AC, writes "associated <local port>" to STATEFILE,
then waits (up to 60 s) until GOFILE exists; then C-ECHO-RQ, its response,
A-RELEASE-RQ, A-RELEASE-RP, close, and "done" to STATEFILE. Exit 0 only if
every answer was the expected PDU. Lets test_daemon.sh reconfigure dicomon
while an association is in the middle of its life.
"""
import os
import socket
import struct
import sys
import time


def item(t, data):
    return struct.pack(">BBH", t, 0, len(data)) + data


def pdu(t, body):
    return struct.pack(">BBI", t, 0, len(body)) + body


def ae(name):
    return name.encode().ljust(16)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_pdu(s):
    t, _, n = struct.unpack(">BBI", recv_exact(s, 6))
    return t, recv_exact(s, n)


def element(group, elem, value):
    return struct.pack("<HHI", group, elem, len(value)) + value


def c_echo_rq(msg_id):
    uid = b"1.2.840.10008.1.1\0"  # even length
    cmd = (element(0, 0x0002, uid) + element(0, 0x0100, struct.pack("<H", 0x0030)) +
           element(0, 0x0110, struct.pack("<H", msg_id)) +
           element(0, 0x0800, struct.pack("<H", 0x0101)))
    cmd = element(0, 0x0000, struct.pack("<I", len(cmd))) + cmd
    # PDV: presentation context 1, message control header: command, last fragment
    return pdu(4, struct.pack(">IBB", len(cmd) + 2, 1, 0x03) + cmd)


def main():
    host, port, state, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    called = sys.argv[5] if len(sys.argv) > 5 else "PACS_SCP"
    calling = sys.argv[6] if len(sys.argv) > 6 else "SLOWSCU"
    pc = item(0x20, bytes([1, 0, 0xFF, 0]) + item(0x30, b"1.2.840.10008.1.1") +
              item(0x40, b"1.2.840.10008.1.2"))
    ui = item(0x50, item(0x51, struct.pack(">I", 16384)) +
              item(0x52, b"1.2.826.0.1.3680043.9.7433.1"))
    rq = pdu(1, struct.pack(">HH", 1, 0) + ae(called) + ae(calling) + bytes(32) +
             item(0x10, b"1.2.840.10008.3.1.1.1") + pc + ui)
    s = socket.create_connection((host, port), timeout=20)
    s.sendall(rq)
    t, _ = recv_pdu(s)
    if t != 2:
        sys.exit("expected A-ASSOCIATE-AC, got PDU type %d" % t)
    with open(state, "w") as f:
        f.write("associated %d\n" % s.getsockname()[1])
    deadline = time.time() + 60
    while not os.path.exists(go):
        if time.time() > deadline:
            sys.exit("timed out waiting for %s" % go)
        time.sleep(0.05)
    s.sendall(c_echo_rq(1))
    t, _ = recv_pdu(s)
    if t != 4:
        sys.exit("expected P-DATA-TF (C-ECHO-RSP), got PDU type %d" % t)
    s.sendall(pdu(5, bytes(4)))
    t, _ = recv_pdu(s)
    if t != 6:
        sys.exit("expected A-RELEASE-RP, got PDU type %d" % t)
    s.close()
    with open(state, "a") as f:
        f.write("done\n")


if __name__ == "__main__":
    main()
