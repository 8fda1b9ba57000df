#!/usr/bin/env python3
"""Rewrite an Ethernet pcap (classic format) under another link type.

  relink.py IN.pcap OUT.pcap {raw,sll,sll2,null,ieee80211}

Each frame's 14-byte Ethernet header is replaced by the link layer's own
(Linux cooked v1/v2 with the source MAC and the ethertype, BSD loopback with
the address family in host order, nothing for raw IP); ieee80211 only
relabels the file (an unsupported link type for dicomon). Timestamps and
payloads are kept byte for byte. Standard library only.
"""
import struct
import sys

LINKTYPES = {"raw": 101, "sll": 113, "sll2": 276, "null": 0, "ieee80211": 105}


def relink(frame, kind):
    if kind == "ieee80211":
        return frame
    src, etype, body = frame[6:12], struct.unpack("!H", frame[12:14])[0], frame[14:]
    if kind == "raw":
        return body
    if kind == "sll":
        return struct.pack("!HHH", 0, 1, 6) + src + b"\0\0" + struct.pack("!H", etype) + body
    if kind == "sll2":
        return struct.pack("!HHIHBB", etype, 0, 1, 1, 0, 6) + src + b"\0\0" + body
    af = 2 if etype == 0x0800 else 10
    return struct.pack("<I", af) + body


def main(argv):
    if len(argv) != 4 or argv[3] not in LINKTYPES:
        sys.exit(__doc__)
    data = open(argv[1], "rb").read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    ver_maj, ver_min, zone, sigfigs, snap, lt = struct.unpack(endian + "HHiIII", data[4:24])
    if lt != 1:
        sys.exit("%s: link type %d, not Ethernet" % (argv[1], lt))
    out = [magic + struct.pack(endian + "HHiIII", ver_maj, ver_min, zone, sigfigs, snap + 32,
                               LINKTYPES[argv[3]])]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        new = relink(frame, argv[3])
        out.append(struct.pack(endian + "IIII", sec, frac, len(new), orig - len(frame) + len(new)))
        out.append(new)
    open(argv[2], "wb").write(b"".join(out))


if __name__ == "__main__":
    main(sys.argv)
