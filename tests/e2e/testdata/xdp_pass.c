// Trivial XDP program for `test_dcmtk.sh --traffic-only --xdp-obj xdp_pass.o`:
// attaching any native XDP program to the gateway veths makes the kernel turn
// off GSO on their peers, so the capture sees MTU-sized segments, as it does
// while dicomon runs. Build:
//   clang -O2 -target bpf -I/usr/include/$(gcc -dumpmachine) -c xdp_pass.c -o /tmp/xdp_pass.o
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int xdp_pass(struct xdp_md *ctx)
{
    (void)ctx;
    return XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
