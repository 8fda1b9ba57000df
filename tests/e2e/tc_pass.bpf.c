// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Test helper for tests/e2e/test_tcorder.sh: a foreign TC program that ends
 * processing. As a clsact filter in direct-action mode TC_ACT_OK (0) lets the
 * packet through but skips every filter after it; through tcx, 0 is TCX_PASS,
 * with the same effect on the programs after it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return 0; /* TC_ACT_OK, TCX_PASS */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
