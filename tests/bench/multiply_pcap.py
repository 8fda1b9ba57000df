#!/usr/bin/env python3
"""Make a long capture from a short one: N copies, one after the other.

  multiply_pcap.py IN.pcap OUT.pcap N

IN is a classic Ethernet/IPv4 pcap (editcap -F pcap). Copy i moves every
TCP port above 32767 (the clients' ephemeral ports) by i*7 modulo the
ephemeral range and shifts time by i * (the capture's span + 1 s), so each
copy's associations are new connections, not retransmissions. TCP checksums
are left as they are (dicomon and tshark's default do not check them).
Standard library only.
"""
import struct
import sys


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    data = open(argv[1], "rb").read()
    n = int(argv[3])
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    unit = 1_000_000_000 if nano else 1_000_000
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append((sec * unit + frac, orig, bytearray(data[off + 16:off + 16 + incl])))
        off += 16 + incl
    span = recs[-1][0] - recs[0][0] + unit
    out = [data[:24]]
    for i in range(n):
        for t, orig, f in recs:
            g = bytearray(f)
            if len(g) >= 38 and g[12:14] == b"\x08\x00" and g[23] == 6:
                ihl = (g[14] & 0xF) * 4
                for p in (14 + ihl, 16 + ihl):
                    port = struct.unpack("!H", g[p:p + 2])[0]
                    if port > 32767:
                        port = 32768 + (port - 32768 + i * 7) % 28000
                        g[p:p + 2] = struct.pack("!H", port)
            t2 = t + i * span
            out.append(struct.pack(e + "IIII", t2 // unit, t2 % unit, len(g), orig) + bytes(g))
    open(argv[2], "wb").write(b"".join(out))


if __name__ == "__main__":
    main(sys.argv)
