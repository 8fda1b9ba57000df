#!/usr/bin/env python3
"""Coalesce TCP segments the way GRO/TSO captures show them.

  coalesce.py IN.pcap OUT.pcap [MAX_PAYLOAD]

IN is a classic Ethernet/IPv4 pcap. Runs of records of one TCP flow and
direction that follow each other in the file, carry payload, have only
ACK/PSH set and continue the sequence exactly are merged into one frame of
up to MAX_PAYLOAD (default 60000) payload bytes: the first segment's headers
with the IP total length fixed, the first one's timestamp. A capture taken on
a host with GRO or TSO looks like this; XDP on the wire sees the segments.
Prints how many frames were merged into how many. Standard library only.
"""
import struct
import sys


def parse(f):
    if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6:
        return None
    ihl = (f[14] & 0xF) * 4
    tl = struct.unpack("!H", f[16:18])[0]
    t = 14 + ihl
    doff = (f[t + 12] >> 4) * 4
    key = (f[26:30], f[30:34], f[t:t + 2], f[t + 2:t + 4])
    seq = struct.unpack("!I", f[t + 4:t + 8])[0]
    flags = f[t + 13]
    payload = f[t + doff:14 + tl]
    return key, seq, flags, t + doff, payload


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__)
    cap = int(argv[3]) if len(argv) == 4 else 60000
    data = open(argv[1], "rb").read()
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append([sec, frac, bytearray(data[off + 16:off + 16 + incl])])
        off += 16 + incl
    out, merged, i = [], 0, 0
    while i < len(recs):
        sec, frac, f = recs[i]
        p = parse(f)
        j = i + 1
        if p and p[4] and p[2] & ~0x18 == 0:
            key, seq, _, hlen, payload = p
            body = bytearray(payload)
            while j < len(recs):
                q = parse(recs[j][2])
                if not q or q[0] != key or not q[4] or q[2] & ~0x18 or q[1] != (seq + len(body)) & 0xFFFFFFFF \
                        or len(body) + len(q[4]) > cap:
                    break
                body += q[4]
                j += 1
            if j > i + 1:
                merged += j - i
                f = bytearray(f[:hlen]) + body
                f[16:18] = struct.pack("!H", len(f) - 14)
        out.append(struct.pack(e + "IIII", sec, frac, len(f), len(f)) + bytes(f))
        i = j
    hdr = bytearray(data[:24])
    hdr[16:20] = struct.pack(e + "I", 262144)
    open(argv[2], "wb").write(bytes(hdr) + b"".join(out))
    print("%d frames merged into %d" % (merged, merged - (len(recs) - len(out))))


if __name__ == "__main__":
    main(sys.argv)
