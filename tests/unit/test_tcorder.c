// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcorder.c without root: an RTM_GETTFILTER dump as the kernel sends it (laid
 * out like the one 6.18 gives for a clsact hook with a foreign bpf filter
 * added at priority 1 after dicomon's), which of its filters is ours, which
 * ones an earlier dicomon left, and how they are described.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>
#include "kern/pin.h"
#include "kern/tcorder.h"

#define SEQ 77

struct nlbuf {
	char b[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len;
};

static struct nlmsghdr *msg(struct nlbuf *nb, __u16 type, __u32 seq)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(nb->b + nb->len);

	memset(h, 0, NLMSG_SPACE(0));
	h->nlmsg_type = type;
	h->nlmsg_seq = seq;
	h->nlmsg_len = NLMSG_LENGTH(0);
	return h;
}

static void grow(struct nlbuf *nb, struct nlmsghdr *h, const void *data, size_t len)
{
	memcpy((char *)h + NLMSG_ALIGN(h->nlmsg_len), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + len;
	(void)nb;
}

static void done(struct nlbuf *nb, struct nlmsghdr *h)
{
	nb->len += NLMSG_ALIGN(h->nlmsg_len);
}

static void attr(struct nlmsghdr *h, __u16 type, const void *data, size_t len)
{
	struct rtattr a = {.rta_len = RTA_LENGTH(len), .rta_type = type};
	char *p = (char *)h + NLMSG_ALIGN(h->nlmsg_len);

	memcpy(p, &a, sizeof(a));
	memset(p + sizeof(a), 0, RTA_ALIGN(a.rta_len) - sizeof(a));
	if (len)
		memcpy(RTA_DATA((struct rtattr *)p), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a.rta_len);
}

static void attr_u32(struct nlmsghdr *h, __u16 type, __u32 v)
{
	attr(h, type, &v, sizeof(v));
}

/* A filter message: handle 0 is a priority's classifier instance, no options. */
static void filter(struct nlbuf *nb, __u32 seq, const char *kind, __u32 prio, __u32 handle,
		   __u32 chain, const char *name, __u32 id)
{
	struct nlmsghdr *h = msg(nb, RTM_NEWTFILTER, seq);
	struct tcmsg t = {.tcm_family = AF_UNSPEC,
			  .tcm_ifindex = 3,
			  .tcm_handle = handle,
			  .tcm_parent = 0xfffffff2,
			  .tcm_info = (prio << 16) | 0x0300};
	struct rtattr *nest;
	__u32 at;

	grow(nb, h, &t, sizeof(t));
	attr(h, TCA_KIND, kind, strlen(kind) + 1);
	attr_u32(h, TCA_CHAIN, chain);
	if (handle) {
		at = NLMSG_ALIGN(h->nlmsg_len);
		attr(h, TCA_OPTIONS | NLA_F_NESTED, NULL, 0);
		nest = (struct rtattr *)((char *)h + at);
		if (name)
			attr(h, TCA_BPF_NAME, name, strlen(name) + 1);
		attr_u32(h, TCA_BPF_ID, id); /* for u32, another option of the same number */
		attr_u32(h, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
		nest->rta_len = h->nlmsg_len - at;
	}
	done(nb, h);
}

static void nl_done(struct nlbuf *nb, __u32 seq, int err)
{
	struct nlmsghdr *h = msg(nb, NLMSG_DONE, seq);

	grow(nb, h, &err, sizeof(err));
	done(nb, h);
}

/* The dump of one clsact hook: a foreign filter ahead of ours at priority 1, and more. */
static void hook_dump(struct nlbuf *nb)
{
	memset(nb, 0, sizeof(*nb));
	filter(nb, SEQ, "bpf", 1, 0, 0, NULL, 0);
	filter(nb, SEQ, "bpf", 1, 1, 0, "tc_pass.bpf.o:[tc]", 1518);
	filter(nb, SEQ, "bpf", 1, DM_TC_HANDLE, 0, "dicomon_tc_ingr:[1381]", 1381);
	filter(nb, SEQ + 1, "bpf", 2, 9, 0, "another request", 9);
	filter(nb, SEQ, "bpf", 3, 5, 1, "chain 1 (reached by goto only)", 5);
	filter(nb, SEQ, "u32", 4, 0x80000800, 0, NULL, 1381);
	filter(nb, SEQ, "bpf", DM_TC_PRIO_OLD, 0, 0, NULL, 0);
	filter(nb, SEQ, "bpf", DM_TC_PRIO_OLD, DM_TC_HANDLE, 0, "dicomon_tc_ingr:[12]", 12);
	nl_done(nb, SEQ, 0);
}

static void test_parse(void **state)
{
	struct dm_tc_filter fs[8];
	struct nlbuf nb;
	int n = 0;

	(void)state;
	hook_dump(&nb);
	assert_int_equal(dm_tc_parse_dump(nb.b, nb.len, SEQ, fs, 8, &n), 1);
	assert_int_equal(n, 4);
	assert_string_equal(fs[0].kind, "bpf");
	assert_int_equal(fs[0].prio, 1);
	assert_int_equal(fs[0].handle, 1);
	assert_int_equal(fs[0].prog_id, 1518);
	assert_string_equal(fs[0].name, "tc_pass.bpf.o:[tc]");
	assert_int_equal(fs[0].flags, TCA_BPF_FLAG_ACT_DIRECT);
	assert_int_equal(fs[1].handle, DM_TC_HANDLE);
	assert_int_equal(fs[1].prog_id, 1381);
	/* Options of other classifiers are not read as bpf's. */
	assert_string_equal(fs[2].kind, "u32");
	assert_int_equal(fs[2].prio, 4);
	assert_int_equal(fs[2].prog_id, 0);
	assert_string_equal(fs[2].name, "");
	assert_int_equal(fs[3].prio, DM_TC_PRIO_OLD);
}

static void test_ours(void **state)
{
	struct dm_tc_filter fs[8];
	struct nlbuf nb;
	int n = 0;

	(void)state;
	hook_dump(&nb);
	dm_tc_parse_dump(nb.b, nb.len, SEQ, fs, 8, &n);
	assert_int_equal(dm_tc_find_ours(fs, n, DM_TC_PRIO, 1381), 1);
	assert_int_equal(dm_tc_find_ours(fs, n, DM_TC_PRIO, 0), 1);
	assert_int_equal(dm_tc_find_ours(fs, n, DM_TC_PRIO, 1518), -ENOENT);
	assert_int_equal(dm_tc_find_ours(fs, n, DM_TC_PRIO_OLD, 12), 3);
	assert_int_equal(dm_tc_find_ours(fs, 1, DM_TC_PRIO, 0), -ENOENT);
	/* What an earlier dicomon left: by program id, else by the program's name. */
	assert_true(dm_tc_filter_dicomon(&fs[3], 0));
	assert_true(dm_tc_filter_dicomon(&fs[1], 0));
	assert_false(dm_tc_filter_dicomon(&fs[0], 0));
	strcpy(fs[3].name, "renamed");
	assert_true(dm_tc_filter_dicomon(&fs[3], 12));
	assert_false(dm_tc_filter_dicomon(&fs[3], 13));
	fs[0].handle = DM_TC_HANDLE;
	assert_false(dm_tc_filter_dicomon(&fs[0], 0)); /* our handle, a foreign program */
	assert_false(dm_tc_filter_dicomon(&fs[2], 0));
}

static void test_describe(void **state)
{
	struct dm_tc_filter fs[8], t = {.kind = "tcx", .prog_id = 7};
	struct nlbuf nb;
	char s[160];
	int n = 0;

	(void)state;
	hook_dump(&nb);
	dm_tc_parse_dump(nb.b, nb.len, SEQ, fs, 8, &n);
	dm_tc_describe(&fs[0], s, sizeof(s));
	assert_string_equal(s, "bpf filter pref 1 handle 0x1 (tc_pass.bpf.o:[tc], program id 1518, "
			       "direct-action)");
	dm_tc_describe(&fs[2], s, sizeof(s));
	assert_string_equal(s, "u32 classifier pref 4");
	dm_tc_describe(&t, s, sizeof(s));
	assert_string_equal(s, "tcx program id 7");
	strcpy(t.name, "foreign_tcx");
	dm_tc_describe(&t, s, sizeof(s));
	assert_string_equal(s, "tcx program foreign_tcx, id 7");
	fs[0].flags = 0;
	fs[0].name[0] = 0;
	dm_tc_describe(&fs[0], s, sizeof(s));
	assert_string_equal(s, "bpf filter pref 1 handle 0x1 (program id 1518, classifier mode)");
}

static void test_chunks_and_errors(void **state)
{
	struct dm_tc_filter fs[8];
	struct nlbuf nb, nb2;
	struct nlmsghdr *h;
	struct nlmsgerr e = {.error = -EPERM};
	size_t cut;
	int n = 0;

	(void)state;
	hook_dump(&nb);
	/* A dump arrives in several recv()s: no NLMSG_DONE yet means more to come. */
	cut = nb.len - NLMSG_ALIGN(NLMSG_LENGTH(sizeof(int)));
	assert_int_equal(dm_tc_parse_dump(nb.b, cut, SEQ, fs, 8, &n), 0);
	assert_int_equal(n, 4);
	/* More filters than room: counted, not stored. */
	n = 0;
	assert_int_equal(dm_tc_parse_dump(nb.b, nb.len, SEQ, fs, 2, &n), 1);
	assert_int_equal(n, 4);
	/* A message cut short is malformed. */
	n = 0;
	assert_int_equal(dm_tc_parse_dump(nb.b, cut - 6, SEQ, fs, 8, &n), -EBADMSG);
	/* An error answer, and a dump that failed midway (NLMSG_DONE with an error). */
	memset(&nb2, 0, sizeof(nb2));
	h = msg(&nb2, NLMSG_ERROR, SEQ);
	grow(&nb2, h, &e, sizeof(e));
	done(&nb2, h);
	assert_int_equal(dm_tc_parse_dump(nb2.b, nb2.len, SEQ, fs, 8, &n), -EPERM);
	memset(&nb2, 0, sizeof(nb2));
	nl_done(&nb2, SEQ, -EMSGSIZE);
	assert_int_equal(dm_tc_parse_dump(nb2.b, nb2.len, SEQ, fs, 8, &n), -EMSGSIZE);
	/* A filter message too short for its tcmsg. */
	memset(&nb2, 0, sizeof(nb2));
	h = msg(&nb2, RTM_NEWTFILTER, SEQ);
	grow(&nb2, h, "ab", 2);
	done(&nb2, h);
	assert_int_equal(dm_tc_parse_dump(nb2.b, nb2.len, SEQ, fs, 8, &n), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_ours),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_chunks_and_errors),
	};

	return cmocka_run_group_tests_name("unit_tcorder", tests, NULL, NULL);
}
