/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * One input through a decoder, with the invariants the decoders promise
 * checked after each run (an invariant that fails aborts, which libFuzzer
 * reports as a crash). Shared by the libFuzzer harnesses (fuzz_*.c) and by
 * the unit test that replays tests/fuzz/regressions/ without sanitizers.
 *
 *   dm_fuzz_assoc    A-ASSOCIATE-RQ/AC decode, RQ/AC match, fingerprints, JSON
 *   dm_fuzz_dimse    DIMSE command set decode, the old head parser, names, JSON
 *   dm_fuzz_pdu_buf  piece reassembly: split-and-rebuild must decode the same
 *                    as whole (even first byte), or hostile piece records (odd)
 *   dm_fuzz_evidence the evidence redactor over the input as a TCP stream cut
 *                    at input-chosen places (with retransmissions and gaps),
 *                    and the input as a frame through the evidence store
 */
#ifndef __FUZZ_COMMON_H
#define __FUZZ_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode/assoc_decode.h"
#include "decode/decode_json.h"
#include "decode/dimse.h"
#include "output/evidence.h"
#include "decode/fingerprint.h"
#include "decode/pdu.h"
#include "../unit/decode_views.h"

#define FUZZ_CHECK(c)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static inline void fuzz_printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	FUZZ_CHECK(n <= max);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(s[i] >= 0x20 && s[i] <= 0x7e);
}

static inline void fuzz_viol(const struct dm_violations *v)
{
	FUZZ_CHECK(v->n <= DM_VIOL_KEEP);
	FUZZ_CHECK(v->n <= v->total);
	for (unsigned int i = 0; i < v->n; i++) {
		FUZZ_CHECK(v->v[i].code > DM_V_NONE && v->v[i].code < DM_V_MAX);
		FUZZ_CHECK(memchr(v->v[i].text, 0, sizeof(v->v[i].text)));
	}
}

static inline void fuzz_ae(const struct dm_ae *ae)
{
	static const struct dm_ae absent;

	FUZZ_CHECK(strnlen(ae->str, DM_AE_STR) < DM_AE_STR);
	/* Set from the wire, or never set (input too short) and all zero. */
	FUZZ_CHECK(ae->flags == dm_ae_flags(ae->raw) || !memcmp(ae, &absent, sizeof(*ae)));
}

static inline void fuzz_str(const struct dm_assoc_info *a, dm_str_t s)
{
	const char *v = dm_assoc_str(a, s);

	if (!s)
		return;
	FUZZ_CHECK(v);
	FUZZ_CHECK(s + strnlen(v, a->strs_len - s) < a->strs_len);
	fuzz_printable(v, DM_UID_MAX);
}

static inline void fuzz_json(json_object *o)
{
	FUZZ_CHECK(o);
	FUZZ_CHECK(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static inline void fuzz_assoc_check(const struct dm_assoc_info *a, int err)
{
	const struct dm_user_info *ui = &a->ui;
	unsigned int i, t;

	FUZZ_CHECK(err == 0 || err == -EINVAL || err == -ENOMEM);
	fuzz_viol(&a->viol);
	if (err)
		FUZZ_CHECK(a->viol.n > 0 || err == -ENOMEM);
	fuzz_ae(&a->called);
	fuzz_ae(&a->calling);
	FUZZ_CHECK(a->n_pcs <= DM_ASSOC_PC_KEEP && a->n_pcs <= a->n_pcs_seen);
	FUZZ_CHECK(a->strs_len <= a->strs_cap);
	fuzz_str(a, a->app_context);
	for (i = 0; i < a->n_pcs; i++) {
		const struct dm_assoc_pc *pc = &a->pcs[i];

		FUZZ_CHECK(pc->n_ts <= DM_ASSOC_TS_KEEP && pc->n_ts <= pc->n_ts_seen);
		FUZZ_CHECK(a->pc_ids[pc->id >> 3] & (1u << (pc->id & 7)));
		fuzz_str(a, pc->abstract);
		for (t = 0; t < pc->n_ts; t++)
			fuzz_str(a, pc->ts[t]);
	}
	fuzz_str(a, ui->impl_uid);
	fuzz_str(a, ui->impl_version);
	if (ui->impl_version)
		FUZZ_CHECK(strlen(dm_assoc_str(a, ui->impl_version)) <= DM_VERSION_NAME_MAX);
	FUZZ_CHECK(ui->n_roles <= DM_ASSOC_ROLE_KEEP && ui->n_roles <= ui->n_roles_seen);
	FUZZ_CHECK(ui->n_extneg <= DM_ASSOC_EXTNEG_KEEP && ui->n_extneg <= ui->n_extneg_seen);
	FUZZ_CHECK(ui->n_cextneg <= DM_ASSOC_CEXTNEG_KEEP && ui->n_cextneg <= ui->n_cextneg_seen);
	for (i = 0; i < ui->n_roles; i++)
		fuzz_str(a, ui->roles[i].sop_class);
	for (i = 0; i < ui->n_extneg; i++) {
		fuzz_str(a, ui->extneg[i].sop_class);
		FUZZ_CHECK(ui->extneg[i].info_kept <= DM_EXTNEG_INFO_KEEP);
		FUZZ_CHECK(ui->extneg[i].info_kept <= ui->extneg[i].info_len);
	}
	for (i = 0; i < ui->n_cextneg; i++) {
		fuzz_str(a, ui->cextneg[i].sop_class);
		fuzz_str(a, ui->cextneg[i].service_class);
		FUZZ_CHECK(ui->cextneg[i].n_related <= DM_ASSOC_RELATED_KEEP);
		for (t = 0; t < ui->cextneg[i].n_related; t++)
			fuzz_str(a, ui->cextneg[i].related[t]);
	}
	/* The documented bound (assoc_decode.h) holds for any input. */
	FUZZ_CHECK(dm_assoc_mem(a) <= 330 * 1024);
}

static inline void fuzz_fingerprint(const struct dm_fingerprint *fp)
{
	fuzz_printable(fp->name, DM_FP_NAME - 1);
	fuzz_printable(fp->version, DM_FP_VERSION - 1);
	FUZZ_CHECK(fp->confidence <= 100 && fp->kind < DM_FP_KIND_MAX);
	FUZZ_CHECK(fp->n_reasons <= DM_FP_REASONS);
	for (unsigned int i = 0; i < fp->n_reasons; i++)
		fuzz_printable(fp->reasons[i], DM_FP_REASON - 1);
}

static inline void dm_fuzz_assoc(const uint8_t *d, size_t n)
{
	struct dm_assoc_info a, other;
	struct dm_assoc_end end = {0};
	struct dm_violations v = {0};
	struct dm_fingerprint fp;
	uint8_t *flip;
	int err;

	err = dm_assoc_decode(d, n, &a);
	fuzz_assoc_check(&a, err);
	fuzz_json(dm_assoc_json(&a));
	dm_fingerprint_pdu(&a, &fp);
	fuzz_fingerprint(&fp);
	if (n) {
		end.dimse_commands = d[n - 1] & 3;
		end.accepted = !!(d[n - 1] & 4);
		end.released = !!(d[n - 1] & 8);
		end.aborted = !!(d[n - 1] & 16);
	}
	dm_fingerprint_assoc(&a, &end, &fp);
	fuzz_fingerprint(&fp);
	fuzz_json(dm_fingerprint_json(&fp));
	/* The same bytes as the other PDU type, matched both ways. */
	flip = n ? malloc(n) : NULL;
	if (flip) {
		memcpy(flip, d, n);
		flip[0] = flip[0] == 1 ? 2 : 1;
		err = dm_assoc_decode(flip, n, &other);
		fuzz_assoc_check(&other, err);
		dm_assoc_match(&a, &other, &v);
		dm_assoc_match(&other, &a, &v);
		fuzz_viol(&v);
		dm_assoc_free(&other);
		free(flip);
	}
	dm_assoc_free(&a);
}

static inline void dm_fuzz_dimse(const uint8_t *d, size_t n)
{
	struct dm_dimse_cmd c;
	struct dm_dimse old;
	int err = dm_dimse_decode(d, n, &c), perr = dm_dimse_parse(d, n, &old);

	FUZZ_CHECK(err == 0 || err == -EINVAL || err == -ENODATA);
	FUZZ_CHECK(perr == 0 || perr == -EINVAL || perr == -ENODATA);
	fuzz_viol(&c.viol);
	FUZZ_CHECK(c.cmd_len <= DM_DIMSE_CMD_MAX);
	fuzz_printable(c.affected_sop_class, 64);
	fuzz_printable(c.requested_sop_class, 64);
	fuzz_ae(&c.move_destination);
	fuzz_ae(&c.move_originator);
	/* The old head parser agrees with the decoder it summarises. */
	FUZZ_CHECK(!perr == (!err && (c.present & DM_DC_COMMAND)));
	if (!perr)
		FUZZ_CHECK(old.command == c.command && old.pc_id == c.pc_id);
	(void)dm_status_name(c.command, c.status);
	(void)dm_status_class(c.status);
	(void)dm_priority_name(c.priority);
	fuzz_json(dm_dimse_json(&c));
}

static inline void fuzz_same_decode(const uint8_t *x, const uint8_t *y, size_t n)
{
	json_object *ox, *oy;
	struct dm_assoc_info a, b;
	struct dm_dimse_cmd c, e;

	if (x[0] == 1 || x[0] == 2) {
		int ex = dm_assoc_decode(x, n, &a), ey = dm_assoc_decode(y, n, &b);

		FUZZ_CHECK(ex == ey);
		ox = dm_assoc_json(&a);
		oy = dm_assoc_json(&b);
		dm_assoc_free(&a);
		dm_assoc_free(&b);
	} else {
		int ex = dm_dimse_decode(x, n, &c), ey = dm_dimse_decode(y, n, &e);

		FUZZ_CHECK(ex == ey);
		ox = dm_dimse_json(&c);
		oy = dm_dimse_json(&e);
	}
	FUZZ_CHECK(!strcmp(json_object_to_json_string_ext(ox, JSON_C_TO_STRING_PLAIN),
			   json_object_to_json_string_ext(oy, JSON_C_TO_STRING_PLAIN)));
	json_object_put(ox);
	json_object_put(oy);
}

static inline void dm_fuzz_pdu_buf(const uint8_t *d, size_t n)
{
	struct dm_pdu_buf b = {0};
	size_t off, k, pos;
	uint32_t seed;
	int r = DM_PIECE_MORE;

	if (n < 3)
		return;
	if (!(d[0] & 1)) {
		/* Split d[2..) at pseudo-random points; rebuilt must equal whole. */
		const uint8_t *p = d + 2;
		size_t len = n - 2;

		seed = d[1] | 0x100u;
		for (off = 0; off < len; off += k) {
			seed = seed * 1103515245u + 12345u;
			k = 1 + (seed >> 16) % 300;
			if (k > len - off)
				k = len - off;
			r = dm_pdu_buf_add(&b, p[0], (uint32_t)off, p + off, k, off == 0,
					   off + k == len);
			FUZZ_CHECK(r == (off + k == len ? DM_PIECE_DONE : DM_PIECE_MORE));
		}
		FUZZ_CHECK(b.len == len && !memcmp(b.data, p, len));
		fuzz_same_decode(p, b.data, len);
		dm_pdu_buf_free(&b);
		return;
	}
	/* Hostile records: type, flags, offset (2, BE), length (1), bytes. */
	for (pos = 1; n - pos >= 5;) {
		uint8_t type = d[pos], flags = d[pos + 1];
		uint32_t o = (uint32_t)d[pos + 2] << 8 | d[pos + 3];

		k = d[pos + 4];
		pos += 5;
		if (k > n - pos)
			k = n - pos;
		if (flags & 0x80)
			o = (uint32_t)b.len; /* in sequence: the interesting case */
		r = dm_pdu_buf_add(&b, type, o, d + pos, k, flags & 1, flags & 2);
		FUZZ_CHECK(r == DM_PIECE_MORE || r == DM_PIECE_DONE || r == DM_PIECE_BAD);
		FUZZ_CHECK(b.len <= b.cap && b.len <= DM_PDU_BUF_MAX);
		pos += k;
		if (r != DM_PIECE_DONE)
			continue;
		if (b.len && (b.data[0] == 1 || b.data[0] == 2))
			dm_fuzz_assoc(b.data, b.len);
		else
			dm_fuzz_dimse(b.data, b.len);
	}
	dm_pdu_buf_free(&b);
}

/*
 * The redactor never invents a byte (each is kept or zeroed), zeroes at most
 * what is present, and reports exactly the bytes it zeroed; a stream it has
 * lost stays lost. The first 8 bytes steer the cuts; the rest is the stream.
 */
static inline void dm_fuzz_evidence(const uint8_t *d, size_t n)
{
	static uint8_t buf[1 << 17];
	static struct dm_event_packet pkt;
	const uint8_t *ctl = d, *s = d + 8;
	size_t len = n > 8 ? n - 8 : 0, off = 0, k = 0, chunk, i, z;
	struct dm_evidence *e;
	struct dm_redact r;
	uint32_t seq = 1000, got;
	bool was_lost;

	if (n < 8 || len > sizeof(buf))
		return;
	memcpy(buf, s, len);
	memset(&r, 0, sizeof(r));
	while (off < len) {
		chunk = 1 + ctl[k % 8] * 7 % 1500;
		if (chunk > len - off)
			chunk = len - off;
		was_lost = r.desync;
		switch (ctl[(k + 3) % 8] % 16) {
		case 0: /* a retransmission of what came before */
			if (off) {
				got = dm_redact_segment(&r, seq - 1, buf, 1, 1);
				FUZZ_CHECK(got == 1 && buf[0] == 0);
			}
			break;
		case 1: /* bytes past the snap length */
			got = dm_redact_segment(&r, seq, buf + off, (uint32_t)chunk / 2, (uint32_t)chunk);
			FUZZ_CHECK(got <= chunk / 2);
			seq += (uint32_t)chunk;
			off += chunk;
			k++;
			continue;
		default:
			break;
		}
		got = dm_redact_segment(&r, seq, buf + off, (uint32_t)chunk, (uint32_t)chunk);
		for (i = 0, z = 0; i < chunk; i++) {
			FUZZ_CHECK(buf[off + i] == s[off + i] || buf[off + i] == 0);
			z += buf[off + i] != s[off + i];
		}
		FUZZ_CHECK(z <= got && got <= chunk);
		if (was_lost)
			FUZZ_CHECK(r.desync && got == chunk);
		seq += (uint32_t)chunk;
		off += chunk;
		k++;
	}
	/* The input as a frame of an association, twice, then its end. */
	e = dm_evidence_new("/nonexistent", 1 << 20);
	FUZZ_CHECK(e != NULL);
	memset(&pkt, 0, sizeof(pkt));
	pkt.hdr.type = DM_EV_PACKET;
	pkt.hdr.assoc_id = 7;
	pkt.hdr.dir = ctl[0] & 1;
	pkt.hdr.len = (uint32_t)(n < DM_EVIDENCE_SNAP ? n : DM_EVIDENCE_SNAP);
	pkt.wire_len = (uint32_t)n;
	pkt.transport = ctl[1] & 1 ? DM_TRANSPORT_TLS : DM_TRANSPORT_CLEARTEXT;
	pkt.aflags = ctl[2] & DM_AF_MIDSTREAM;
	memcpy(pkt.data, d, pkt.hdr.len);
	dm_evidence_packet(e, &pkt, offsetof(struct dm_event_packet, data) + pkt.hdr.len, 1);
	dm_evidence_packet(e, &pkt, offsetof(struct dm_event_packet, data) + pkt.hdr.len, 2);
	/* A record shorter than its frame length is dropped, not read past. */
	dm_evidence_packet(e, &pkt, offsetof(struct dm_event_packet, data), 3);
	FUZZ_CHECK(dm_evidence_stats(e)->packets == 3 && dm_evidence_stats(e)->dropped >= 1);
	dm_evidence_end(e, 7);
	dm_evidence_free(e);
}

#endif /* __FUZZ_COMMON_H */
