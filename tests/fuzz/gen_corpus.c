// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Seed corpora for the fuzz harnesses, made from the test fixtures (pktbuild
 * and tests/unit/ulbuild.h): gen_corpus DIR writes DIR/corpus-assoc/,
 * DIR/corpus-dimse/, DIR/corpus-pdu_buf/ and DIR/corpus-evidence/.
 * Generated, never committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "pktbuild.h"
#include "ulbuild.h"

static const char *outdir;
static int written;

static void put(const char *target, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	if (!n) {
		fprintf(stderr, "gen_corpus: %s/%s: builder failed\n", target, name);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/corpus-%s", outdir, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/corpus-%s/seed-%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
	written++;
}

/* pdu_buf split mode: [even flag byte, seed, PDU]. */
static void put_split(const char *name, uint8_t seed, const uint8_t *p, size_t n)
{
	uint8_t *x = malloc(n + 2);

	x[0] = 0;
	x[1] = seed;
	memcpy(x + 2, p, n);
	put("pdu_buf", name, x, n + 2);
	free(x);
}

/* pdu_buf record mode: the PDU as in-order pieces of up to 200 bytes, first/last flagged. */
static void put_records(const char *name, const uint8_t *p, size_t n)
{
	uint8_t *x = malloc(1 + n + 5 * (n / 200 + 2));
	size_t o = 0, w = 0, k;

	x[w++] = 1;
	for (o = 0; o < n; o += k) {
		k = n - o < 200 ? n - o : 200;
		x[w++] = p[0];
		x[w++] = (uint8_t)(0x80 | (o == 0) | (o + k == n ? 2 : 0));
		x[w++] = 0;
		x[w++] = 0;
		x[w++] = (uint8_t)k;
		memcpy(x + w, p + o, k);
		w += k;
	}
	put("pdu_buf", name, x, w);
	free(x);
}

static void assoc_seeds(void)
{
	static const uint8_t ids[5] = {1, 3, 5, 7, 9}, res[5] = {0, 1, 2, 3, 4};
	struct pdu_pc pcs[3] = {
	    {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1},
	    {3, PDU_UID_CT_STORAGE, {PDU_UID_EXPLICIT_LE, PDU_UID_IMPLICIT_LE}, 2},
	    {5, PDU_UID_STUDY_FIND, {PDU_UID_IMPLICIT_LE}, 1},
	};
	static uint8_t p[65536];
	size_t n;

	put("assoc", "rq-echo", p,
	    pdu_assoc_rq(p, sizeof(p), "ANY-SCP", "ECHOSCU", pcs, 1, 16384, PDU_DCMTK_IMPL_UID,
			 PDU_DCMTK_IMPL_VER));
	n = pdu_assoc_rq(p, sizeof(p), "PACS", "MOD", pcs, 3, 0, PDU_DCMTK_IMPL_UID, NULL);
	put("assoc", "rq-3pc", p, n);
	put("assoc", "rq-16pc", p, pdu_assoc_rq_n(p, sizeof(p), "PACS", "STORESCU", 16));
	n = pdu_assoc_rq_n(p, sizeof(p), "PACS", "STORESCU", 128);
	put("assoc", "rq-128pc", p, n);
	put_split("rq-128pc", 3, p, n);
	put("assoc", "ac-results", p,
	    pdu_assoc_ac(p, sizeof(p), "PACS", "MOD", ids, res, 5, 16384));
	n = ub_rq_full(p, sizeof(p));
	put("assoc", "rq-full", p, n);
	put_split("rq-full", 1, p, n);
	put_records("rq-full", p, n);
	put("assoc", "rq-full-cut", p, n / 2);
	p[78] = 0xff; /* the first item's length lies */
	put("assoc", "rq-full-lying", p, n);
	n = ub_ac_full(p, sizeof(p));
	put("assoc", "ac-full", p, n);
	put_split("ac-full", 2, p, n);
	n = ub_rq_nmap(p, sizeof(p), "ANY-SCP");
	put("assoc", "rq-nmap", p, n);
	memcpy(p + 10, "EV\x1b\\IL\0X        ", 16);
	put("assoc", "rq-hostile-ae", p, n);
}

static void dimse_seeds(void)
{
	static const uint16_t fields[] = {0x0001, 0x0010, 0x0020, 0x0021, 0x0030, 0x0100,
					  0x0110, 0x0120, 0x0130, 0x0140, 0x0150};
	static uint8_t p[8192];
	struct ub b;
	struct ub_cmd c;
	char name[32];
	size_t n;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (int rsp = 0; rsp < 2; rsp++) {
			uint16_t cmd = (uint16_t)(fields[i] | (rsp ? 0x8000 : 0));

			ub_init(&b, p, sizeof(p));
			ub_cmd_begin(&b, &c, 1, 0x03, 1);
			ub_cmd_valid(&b, cmd);
			snprintf(name, sizeof(name), "cmd-%04x", cmd);
			put("dimse", name, p, ub_cmd_end(&b, &c));
		}
	}
	ub_init(&b, p, sizeof(p));
	ub_cmd_begin(&b, &c, 1, 0x03, 1);
	ub_cmd_valid(&b, 0x0fff);
	put("dimse", "cmd-0fff", p, ub_cmd_end(&b, &c));
	n = pdu_pdata_command(p, sizeof(p), 3, DIMSE_C_MOVE, PDU_UID_STUDY_MOVE, 9, 0, "STORESCP",
			      1);
	put("dimse", "pkt-move", p, n);
	put_split("move", 5, p, n);
	put_records("move", p, n);
	put("dimse", "pkt-move-rsp", p,
	    pdu_pdata_command(p, sizeof(p), 3, DIMSE_C_MOVE | DIMSE_RSP, NULL, 9, 0xa801, NULL, 0));
	put("dimse", "data", p, pdu_pdata_data(p, sizeof(p), 1, 64, 1));
	/* A pending C-MOVE-RSP with counters; a C-STORE with originator and error elements. */
	ub_init(&b, p, sizeof(p));
	ub_cmd_begin(&b, &c, 3, 0x03, 1);
	ub_elem_str(&b, 0x0002, PDU_UID_STUDY_MOVE, 0);
	ub_elem_us(&b, 0x0100, 0x8021);
	ub_elem_us(&b, 0x0120, 9);
	ub_elem_us(&b, 0x0800, 0x0101);
	ub_elem_us(&b, 0x0900, 0xff00);
	for (uint16_t e = 0x1020; e <= 0x1023; e++)
		ub_elem_us(&b, e, e);
	put("dimse", "move-pending", p, ub_cmd_end(&b, &c));
	ub_init(&b, p, sizeof(p));
	ub_cmd_begin(&b, &c, 1, 0x03, 1);
	ub_elem_str(&b, 0x0002, PDU_UID_CT_STORAGE, 0);
	ub_elem_us(&b, 0x0100, 0x8001);
	ub_elem_us(&b, 0x0120, 1);
	ub_elem_us(&b, 0x0800, 0x0101);
	ub_elem_us(&b, 0x0900, 0xa700);
	ub_elem(&b, 0x0901, "\x10\x00\x10\x00", 4);
	ub_elem_str(&b, 0x0902, "comment", ' ');
	ub_elem_us(&b, 0x0903, 1);
	ub_elem_str(&b, 0x1000, UB_INSTANCE_UID, 0);
	ub_elem_str(&b, 0x1030, "MOVESCU", ' ');
	ub_elem_us(&b, 0x1031, 9);
	put("dimse", "store-rsp-error", p, ub_cmd_end(&b, &c));
	/* A command in two PDVs, then a data PDV. */
	ub_init(&b, p, sizeof(p));
	{
		size_t pdu = ub_pdu_begin(&b, 4);
		uint8_t cmd[512];
		struct ub cb;
		struct ub_cmd cc;
		size_t cn, body, half;

		ub_init(&cb, cmd, sizeof(cmd));
		ub_cmd_begin(&cb, &cc, 1, 0x03, 1);
		ub_cmd_valid(&cb, 0x0001);
		cn = ub_cmd_end(&cb, &cc);
		body = cn - 12;
		half = body / 2;
		ub_be32(&b, (uint32_t)half + 2);
		ub_u8(&b, 1);
		ub_u8(&b, 0x01);
		ub_mem(&b, cmd + 12, half);
		ub_be32(&b, (uint32_t)(body - half) + 2);
		ub_u8(&b, 1);
		ub_u8(&b, 0x03);
		ub_mem(&b, cmd + 12 + half, body - half);
		ub_be32(&b, 10);
		ub_u8(&b, 1);
		ub_u8(&b, 0x02);
		ub_mem(&b, "\x08\x00\x16\x00\x02\x00\x00\x00", 8);
		put("dimse", "fragmented", p, ub_pdu_end(&b, pdu));
	}
}

/*
 * evidence: 8 control bytes (segment sizes, retransmissions, snap cuts), then
 * an initiator's stream: RQ with a user identity, a command and a data set
 * PDV in one P-DATA, a release RQ.
 */
static void evidence_seeds(void)
{
	static const uint8_t ctls[3][8] = {{0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10},
					   {0x01, 0x02, 0xd0, 0x03, 0x05, 0x40, 0x07, 0x11},
					   {0xff, 0xee, 0x20, 0x30, 0x02, 0x01, 0x55, 0x00}};
	static uint8_t p[16384];
	uint8_t called[16], calling[16];
	struct ub b;
	struct ub_cmd c;
	size_t pdu, ui, pdv, i;
	char name[32];

	for (i = 0; i < 3; i++) {
		ub_init(&b, p, sizeof(p));
		ub_mem(&b, ctls[i], 8);
		ub_ae16(called, "PACS");
		ub_ae16(calling, "MODALITY");
		pdu = ub_pdu_begin(&b, 0x01);
		ub_assoc_fixed(&b, called, calling);
		ub_item_str(&b, 0x10, "1.2.840.10008.3.1.1.1");
		ub_pc_rq(&b, 1, 0, PDU_UID_CT_STORAGE, (const char *[]){"1.2.840.10008.1.2"}, 1);
		ui = ub_item_begin(&b, 0x50, 0);
		ub_sub_u32(&b, 0x51, 16384);
		ub_identity(&b, 2, 1, "user", "passcode");
		ub_item_end(&b, ui);
		ub_pdu_end(&b, pdu);
		ub_cmd_begin(&b, &c, 1, 0x03, 1);
		ub_cmd_valid(&b, 0x0001);
		pdv = b.n;
		ub_be32(&b, 0);
		ub_u8(&b, 1);
		ub_u8(&b, 0x02);
		ub_elem_str(&b, 0x0010, "DOE^JOHN", ' ');
		ub_patch_be(&b, pdv, (uint32_t)(b.n - pdv - 4), 4);
		ub_patch_be(&b, c.pdv, (uint32_t)(pdv - c.pdv - 4), 4);
		ub_pdu_end(&b, c.pdu);
		pdu = ub_pdu_begin(&b, 0x05);
		ub_be32(&b, 0);
		ub_pdu_end(&b, pdu);
		snprintf(name, sizeof(name), "stream-%zu", i);
		put("evidence", name, p, b.n);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	assoc_seeds();
	dimse_seeds();
	evidence_seeds();
	printf("gen_corpus: %d seeds in %s/corpus-{assoc,dimse,pdu_buf,evidence}\n", written, outdir);
	return 0;
}
