/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Adversarial captures for `dicomon replay` (issue 11): associations cut,
 * overlapped, reordered, fragmented and malformed as an attacker would send
 * them, each a real TCP connection (handshake, both FINs, sequence and ack
 * numbers right) that tshark dissects as a receiving DICOM stack would read
 * it. Writes DIR/NAME.pcap per capture and DIR/expected.json: per case what
 * a correct monitor reports (check_adversarial.py asserts it).
 *
 *   gen_adversarial DIR
 *
 * Deterministic: no clock, no randomness (pcap timestamps from pktbuild's
 * fixed epoch, 1 ms apart).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pktbuild.h"

#define CLIENT_IP   "10.20.0.2"
#define SERVER_IP   "10.20.0.6"
#define CALLING	    "MODALITY1"
#define CALLING_X   "ATTACKER1" /* same length as CALLING: the RQ's other bytes stay aligned */
#define CALLED	    "PACS_SCP"
#define PORT_DICOM  104
#define PORT_RAND   40123
#define PORT_WEB    8042
#define MSS	    1448
#define FRAME_MAX   8192
#define CANARY	    "LEAK^CANARY"
#define CT_INSTANCE "1.2.826.0.1.3680043.9.7433.1.1"

/* ---- frames of one capture ------------------------------------------------ */

struct cap {
	struct pkt_frame *fr;
	int n, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "gen_adversarial: %s\n", what);
	exit(1);
}

static void cap_add(struct cap *c, const uint8_t *data, size_t len)
{
	uint8_t *copy;

	if (!len)
		die("a frame could not be built");
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->fr = realloc(c->fr, (size_t)c->cap * sizeof(*c->fr));
		if (!c->fr)
			die("out of memory");
	}
	copy = malloc(len);
	if (!copy)
		die("out of memory");
	memcpy(copy, data, len);
	c->fr[c->n].data = copy;
	c->fr[c->n].len = len;
	c->n++;
}

static void cap_write(struct cap *c, const char *dir, const char *name)
{
	char path[512];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = pcap_write_frames(path, c->fr, c->n);
	if (err) {
		fprintf(stderr, "gen_adversarial: %s: %s\n", path, strerror(-err));
		exit(1);
	}
	for (int i = 0; i < c->n; i++)
		free((void *)c->fr[i].data);
	free(c->fr);
	memset(c, 0, sizeof(*c));
}

/* ---- one TCP connection ---------------------------------------------------- */

enum { C2S = 0, S2C = 1 };

struct conn {
	struct cap *cap;
	struct pkt_flow f;
};

static void conn_init(struct conn *c, struct cap *cap, uint16_t sport, uint16_t dport)
{
	struct pkt_spec s = {
	    .family = 4,
	    .src = CLIENT_IP,
	    .dst = SERVER_IP,
	    .sport = sport,
	    .dport = dport,
	    /* Distinct, fixed ISNs per connection. */
	    .seq = 0x10000000u + (uint32_t)sport * 7919u,
	    .ack = 0x60000000u + (uint32_t)sport * 104729u,
	};

	c->cap = cap;
	pkt_flow_init(&c->f, &s);
}

/* One segment at the direction's next sequence number, which then moves on. */
static void seg(struct conn *c, int dir, uint8_t flags, const void *p, size_t n)
{
	uint8_t buf[FRAME_MAX];

	cap_add(c->cap, buf, pkt_flow_next(&c->f, dir, flags, buf, sizeof(buf), p, n));
}

/* One segment at sequence number seq; the direction's next sequence number stays. */
static void seg_at(struct conn *c, int dir, uint32_t seq, const void *p, size_t n)
{
	uint32_t keep = c->f.next_seq[dir];

	c->f.next_seq[dir] = seq;
	seg(c, dir, 0, p, n);
	c->f.next_seq[dir] = keep;
}

static void ack(struct conn *c, int dir)
{
	seg(c, dir, PKT_TCP_ACK, NULL, 0);
}

/* A message in segments of at most mss bytes. */
static void send_msg(struct conn *c, int dir, const uint8_t *p, size_t n, size_t mss)
{
	for (size_t off = 0; off < n; off += mss)
		seg(c, dir, 0, p + off, n - off < mss ? n - off : mss);
}

static void handshake(struct conn *c)
{
	seg(c, C2S, PKT_TCP_SYN, NULL, 0);
	seg(c, S2C, PKT_TCP_SYN | PKT_TCP_ACK, NULL, 0);
	ack(c, C2S);
}

/* The requestor closes first after A-RELEASE-RP or A-ABORT (PS3.8 AR-3, AA-3). */
static void teardown(struct conn *c)
{
	seg(c, C2S, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	seg(c, S2C, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	ack(c, C2S);
}

/*
 * The segment of the direction's next n bytes as one IPv4 datagram cut into
 * fragments: the first carries the TCP header and first_data bytes after it,
 * the others up to 64 bytes each (multiples of 8 but the last), sent in order
 * or last first. pkt_build writes the whole datagram (TCP checksum over the
 * whole segment); each fragment gets its own IP header (same id, MF on all
 * but the last, offset in 8-byte units, DF clear, its own checksum).
 */
static void seg_fragmented(struct conn *c, int dir, const uint8_t *p, size_t n, size_t first_data,
			   uint16_t ip_id, int reversed)
{
	uint8_t dgram[FRAME_MAX], frag[FRAME_MAX];
	size_t len = pkt_flow_next(&c->f, dir, 0, dgram, sizeof(dgram), p, n);
	size_t l3 = 14, ihl = 20, l4 = l3 + ihl, body = len - l4;
	size_t offs[64], lens[64];
	int nf = 0;

	if (!len || (dgram[l3] & 0x0f) != 5)
		die("fragmented datagram");
	/* Fragment boundaries: 8-byte units, the TCP header whole in the first. */
	offs[0] = 0;
	lens[0] = (20 + first_data + 7) / 8 * 8;
	for (nf = 1; offs[nf - 1] + lens[nf - 1] < body; nf++) {
		offs[nf] = offs[nf - 1] + lens[nf - 1];
		lens[nf] = body - offs[nf] < 64 ? body - offs[nf] : 64;
		if (nf == 63)
			die("too many fragments");
	}
	for (int k = 0; k < nf; k++) {
		int i = reversed ? nf - 1 - k : k;
		uint16_t fo = (uint16_t)((i < nf - 1 ? 0x2000 : 0) | (offs[i] / 8));
		uint16_t tot = (uint16_t)(ihl + lens[i]);
		uint32_t sum = 0;

		memcpy(frag, dgram, l4);
		frag[l3 + 2] = (uint8_t)(tot >> 8), frag[l3 + 3] = (uint8_t)tot;
		frag[l3 + 4] = (uint8_t)(ip_id >> 8), frag[l3 + 5] = (uint8_t)ip_id;
		frag[l3 + 6] = (uint8_t)(fo >> 8), frag[l3 + 7] = (uint8_t)fo;
		frag[l3 + 10] = frag[l3 + 11] = 0;
		for (size_t b = 0; b < ihl; b += 2)
			sum += (uint32_t)frag[l3 + b] << 8 | frag[l3 + b + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		sum = ~sum & 0xffff;
		frag[l3 + 10] = (uint8_t)(sum >> 8), frag[l3 + 11] = (uint8_t)sum;
		memcpy(frag + l4, dgram + l4 + offs[i], lens[i]);
		cap_add(c->cap, frag, l4 + lens[i]);
	}
}

/* ---- the association's PDUs ------------------------------------------------ */

struct pdus {
	uint8_t rq[1024], rq_x[1024], ac[1024], echo_rq[128], echo_rsp[128];
	uint8_t rel_rq[16], rel_rp[16];
	size_t rq_len, rq_x_len, ac_len, echo_rq_len, echo_rsp_len, rel_rq_len, rel_rp_len;
};

static struct pdus P;

static void pdus_init(void)
{
	static const struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	static const uint8_t ids[1] = {1}, results[1] = {0};

	P.rq_len = pdu_assoc_rq(P.rq, sizeof(P.rq), CALLED, CALLING, &pc, 1, 16384,
				PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);
	P.rq_x_len = pdu_assoc_rq(P.rq_x, sizeof(P.rq_x), CALLED, CALLING_X, &pc, 1, 16384,
				  PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);
	P.ac_len = pdu_assoc_ac(P.ac, sizeof(P.ac), CALLED, CALLING, ids, results, 1, 16384);
	P.echo_rq_len = pdu_pdata_command(P.echo_rq, sizeof(P.echo_rq), 1, DIMSE_C_ECHO,
					  PDU_UID_VERIFICATION, 1, 0, NULL, 0);
	P.echo_rsp_len =
	    pdu_pdata_command(P.echo_rsp, sizeof(P.echo_rsp), 1, DIMSE_C_ECHO | DIMSE_RSP,
			      PDU_UID_VERIFICATION, 1, 0x0000, NULL, 0);
	P.rel_rq_len = pdu_release_rq(P.rel_rq, sizeof(P.rel_rq));
	P.rel_rp_len = pdu_release_rp(P.rel_rp, sizeof(P.rel_rp));
	if (!P.rq_len || P.rq_len != P.rq_x_len || !P.ac_len || !P.echo_rq_len || !P.echo_rsp_len ||
	    !P.rel_rq_len || !P.rel_rp_len)
		die("PDUs");
	if (P.rq_len <= 100)
		die("the RQ is expected to be longer than 100 bytes");
}

/* The AC as the acceptor answers an RQ with this calling AE title (it echoes it). */
static size_t ac_for(uint8_t *out, size_t cap, const char *calling, uint32_t max_len)
{
	static const uint8_t ids[1] = {1}, results[1] = {0};

	return pdu_assoc_ac(out, cap, CALLED, calling, ids, results, 1, max_len);
}

/* After the RQ: AC, one C-ECHO, release, both FINs. */
static void rest_of_echo_assoc(struct conn *c, const char *calling)
{
	uint8_t ac[1024];
	size_t n = ac_for(ac, sizeof(ac), calling, 16384);

	if (!n)
		die("AC");
	send_msg(c, S2C, ac, n, MSS);
	send_msg(c, C2S, P.echo_rq, P.echo_rq_len, MSS);
	send_msg(c, S2C, P.echo_rsp, P.echo_rsp_len, MSS);
	send_msg(c, C2S, P.rel_rq, P.rel_rq_len, MSS);
	send_msg(c, S2C, P.rel_rp, P.rel_rp_len, MSS);
	teardown(c);
}

/* ---- expected.json ----------------------------------------------------------- */

/*
 * What each case's record must show. Strings are JSON text written as they
 * are (NULL: not checked); ints -1: not checked.
 */
struct expect {
	const char *kind; /* "assoc" (default) or "http" */
	const char *calling, *called;
	int contexts;
	const char *outcome, *state, *reason;
	const char *pdus_orig, *pdus_reply; /* exact per-direction PDU counts */
	const char *commands, *statuses;    /* exact */
	const char *viol_present, *viol_absent;
	int viol_none;	    /* 1: violations must be [] */
	int di;		    /* decode_incomplete: -1 unchecked, 0 null, 1 contains di_has */
	const char *di_has; /* JSON array of reasons */
	int candidate;	    /* -1 unchecked, 0/1 */
	const char *alerts_present, *alerts_absent;
	const char *http;	 /* kind http: {"method":..,"resource":..,"phi_keys":[..]} */
	int mutation;		 /* must FAIL with detection.candidate_seconds=0 */
	const char *depends;	 /* JSON array of the fixes it depends on */
	const char *oracle_skip; /* JSON array: expectations tshark cannot check */
	const char *what;	 /* one line: what the case proves */
};

/* A normal C-ECHO association as a receiving stack sees it: the defaults of every case. */
static struct expect echo_expect(void)
{
	return (struct expect){
	    .kind = "assoc",
	    .calling = CALLING,
	    .called = CALLED,
	    .contexts = 1,
	    .outcome = "released",
	    .state = "released",
	    .reason = "fin",
	    .pdus_orig = "{\"A-ASSOCIATE-RQ\":1,\"P-DATA-TF\":1,\"A-RELEASE-RQ\":1}",
	    .pdus_reply = "{\"A-ASSOCIATE-AC\":1,\"P-DATA-TF\":1,\"A-RELEASE-RP\":1}",
	    .commands = "{\"C-ECHO-RQ\":1,\"C-ECHO-RSP\":1}",
	    .statuses = "{\"success\":1}",
	    .viol_none = 1,
	    .di = 0,
	    .candidate = 0,
	    .alerts_present = "[9100010]",
	    .alerts_absent = "[9100120]",
	    .depends = "[]",
	};
}

struct manifest {
	FILE *f;
	int ncap, ncase;
};

static struct manifest M;

static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * replay_args: extra words for `dicomon replay` (JSON array text, NULL none).
 * Captures of many associations from one client lift the alert rate limit
 * (10 per signature and source a minute), or rule 1 would fall silent.
 */
static void man_capture_begin(const char *file, const char *proto, uint16_t port, const char *what,
			      const char *replay_args)
{
	FILE *f = M.f;

	fprintf(f, "%s\n  {\"file\": ", M.ncap++ ? "," : "");
	jstr(f, file);
	fprintf(f,
		", \"tshark_decode\": [\"tcp.port==%u,%s\"], \"replay_args\": %s,\n   \"what\": ",
		port, proto, replay_args ? replay_args : "[]");
	jstr(f, what);
	fprintf(f, ",\n   \"cases\": [");
	M.ncase = 0;
}

static void man_capture_end(void)
{
	fprintf(M.f, "\n   ]}");
}

/* One expectation as JSON text, or unchecked (set = 0). */
struct kv {
	const char *key;
	char val[512];
	int set;
};

enum { NKV = 20 };

static void kv_put(struct kv *kv, int *n, const char *key, int set, const char *fmt, ...)
{
	va_list ap;

	kv[*n].key = key;
	kv[*n].set = set;
	kv[*n].val[0] = 0;
	if (set) {
		va_start(ap, fmt);
		vsnprintf(kv[*n].val, sizeof(kv[*n].val), fmt, ap);
		va_end(ap);
	}
	(*n)++;
}

/* A string as JSON text (AE titles and fixed words: no escaping needed, checked). */
static const char *jtext(char *buf, size_t cap, const char *s)
{
	if (strpbrk(s, "\"\\"))
		die("a string that needs escaping");
	snprintf(buf, cap, "\"%s\"", s);
	return buf;
}

/* Every expectation key of e, in a fixed order. */
static int render(const struct expect *e, struct kv *kv)
{
	char b[2][64];
	int n = 0;

	kv_put(kv, &n, "records", 1, "%d", strcmp(e->kind, "http") ? 1 : 0);
	kv_put(kv, &n, "calling_ae", !!e->calling, "%s",
	       e->calling ? jtext(b[0], sizeof(b[0]), e->calling) : "");
	kv_put(kv, &n, "called_ae", !!e->called, "%s",
	       e->called ? jtext(b[1], sizeof(b[1]), e->called) : "");
	kv_put(kv, &n, "contexts", e->contexts >= 0, "%d", e->contexts);
	kv_put(kv, &n, "outcome", !!e->outcome, "\"%s\"", e->outcome);
	kv_put(kv, &n, "state", !!e->state, "\"%s\"", e->state);
	kv_put(kv, &n, "reason", !!e->reason, "\"%s\"", e->reason);
	kv_put(kv, &n, "pdus_orig", !!e->pdus_orig, "%s", e->pdus_orig);
	kv_put(kv, &n, "pdus_reply", !!e->pdus_reply, "%s", e->pdus_reply);
	kv_put(kv, &n, "commands", !!e->commands, "%s", e->commands);
	kv_put(kv, &n, "statuses", !!e->statuses, "%s", e->statuses);
	kv_put(kv, &n, "violations_none", e->viol_none, "true");
	kv_put(kv, &n, "violations_present", !!e->viol_present, "%s", e->viol_present);
	kv_put(kv, &n, "violations_absent", !!e->viol_absent, "%s", e->viol_absent);
	kv_put(kv, &n, "decode_incomplete", e->di == 0, "null");
	kv_put(kv, &n, "decode_incomplete_has", e->di == 1, "%s", e->di_has);
	kv_put(kv, &n, "candidate", e->candidate >= 0, "%s", e->candidate > 0 ? "true" : "false");
	kv_put(kv, &n, "alerts_present", !!e->alerts_present, "%s", e->alerts_present);
	kv_put(kv, &n, "alerts_absent", !!e->alerts_absent, "%s", e->alerts_absent);
	kv_put(kv, &n, "dicomweb", !!e->http, "%s", e->http);
	if (n > NKV)
		die("NKV");
	return n;
}

/* The defaults every case's "expect" overrides: a normal C-ECHO association. */
static void man_defaults(void)
{
	struct expect e = echo_expect();
	struct kv kv[NKV];
	int n = render(&e, kv), first = 1;

	fprintf(M.f, "\"defaults\": {");
	for (int i = 0; i < n; i++) {
		if (!kv[i].set)
			continue;
		fprintf(M.f, "%s\n  \"%s\": %s", first ? "" : ",", kv[i].key, kv[i].val);
		first = 0;
	}
	fprintf(M.f, "},\n");
}

/*
 * One case: its flow, what it proves, and its expectations where they differ
 * from the defaults ("unchecked": default expectations that do not apply).
 */
static void man_case(const char *name, uint16_t sport, uint16_t dport, const struct expect *e)
{
	struct expect d = echo_expect();
	struct kv kv[NKV], dkv[NKV];
	int n = render(e, kv), first = 1, nun = 0;
	FILE *f = M.f;

	render(&d, dkv);
	fprintf(f, "%s\n    {\"name\": ", M.ncase++ ? "," : "");
	jstr(f, name);
	fprintf(f,
		", \"kind\": \"%s\", \"client\": \"%s\", \"sport\": %u, \"server\": \"%s\", "
		"\"dport\": %u, \"mutation\": %s,\n     \"depends\": %s, \"what\": ",
		e->kind, CLIENT_IP, sport, SERVER_IP, dport, e->mutation ? "true" : "false",
		e->depends ? e->depends : "[]");
	jstr(f, e->what ? e->what : "");
	if (e->oracle_skip)
		fprintf(f, ", \"oracle_skip\": %s", e->oracle_skip);
	fprintf(f, ",\n     \"expect\": {");
	for (int i = 0; i < n; i++) {
		if (!kv[i].set || (dkv[i].set && !strcmp(kv[i].val, dkv[i].val)))
			continue;
		fprintf(f, "%s\"%s\": %s", first ? "" : ", ", kv[i].key, kv[i].val);
		first = 0;
	}
	if (!strcmp(e->kind, "http"))
		fprintf(f, "%s\"canary\": \"%s\"", first ? "" : ", ", CANARY);
	fprintf(f, "}");
	for (int i = 0; i < n; i++) {
		if (kv[i].set || !dkv[i].set)
			continue;
		fprintf(f, "%s\"%s\"", nun++ ? ", " : ", \"unchecked\": [", kv[i].key);
	}
	fprintf(f, "%s}", nun ? "]" : "");
}

/* ---- the cases ----------------------------------------------------------------- */

/* First segment n bytes of the RQ, the rest in one segment after the peer's ACK (Nagle). */
static void gen_first_seg(const char *dir, uint16_t port)
{
	struct cap cap = {};
	char file[80], name[64];

	snprintf(file, sizeof(file), "first_seg_%u.pcap", port);
	man_capture_begin(file, "dicom", port,
			  "80 associations, A-ASSOCIATE-RQ first segment 1..80 bytes, the rest "
			  "in the next segment",
			  "[\"-o\",\"alerts.rate_limit_count=0\"]");
	for (int n = 1; n <= 80; n++) {
		struct conn c;
		struct expect e = echo_expect();
		uint16_t sport = (uint16_t)(50000 + n);

		conn_init(&c, &cap, sport, port);
		handshake(&c);
		seg(&c, C2S, 0, P.rq, (size_t)n);
		ack(&c, S2C);
		seg(&c, C2S, 0, P.rq + n, P.rq_len - (size_t)n);
		rest_of_echo_assoc(&c, CALLING);

		e.candidate = n < 42;
		e.mutation = n < 42;
		e.depends = n < 42
				? "[\"candidates\",\"candidate_field\",\"decode_incomplete_field\"]"
				: "[\"decode_incomplete_field\",\"candidate_field\"]";
		e.what = n < 42 ? "an RQ whose first segment is too short to decide (42 bytes "
				  "decide) is held as a candidate and recognised"
				: "an RQ whose first segment decides is recognised at once";
		snprintf(name, sizeof(name), "first_seg_%u_n%02d", port, n);
		man_case(name, sport, port, &e);
	}
	man_capture_end();
	cap_write(&cap, dir, file);
}

/* Every byte of the association its own segment, both directions. */
static void gen_one_byte(const char *dir, uint16_t port)
{
	struct cap cap = {};
	struct conn c;
	struct expect e = echo_expect();
	uint16_t sport = 51001;
	uint8_t ac[1024];
	size_t acn = ac_for(ac, sizeof(ac), CALLING, 16384);
	char file[80], name[64];

	snprintf(file, sizeof(file), "one_byte_%u.pcap", port);
	snprintf(name, sizeof(name), "one_byte_%u", port);
	man_capture_begin(file, "dicom", port, "a whole C-ECHO association in 1-byte segments",
			  NULL);
	conn_init(&c, &cap, sport, port);
	handshake(&c);
	send_msg(&c, C2S, P.rq, P.rq_len, 1);
	send_msg(&c, S2C, ac, acn, 1);
	send_msg(&c, C2S, P.echo_rq, P.echo_rq_len, 1);
	send_msg(&c, S2C, P.echo_rsp, P.echo_rsp_len, 1);
	send_msg(&c, C2S, P.rel_rq, P.rel_rq_len, 1);
	send_msg(&c, S2C, P.rel_rp, P.rel_rp_len, 1);
	teardown(&c);
	e.candidate = 1;
	e.mutation = 1;
	e.depends = "[\"candidates\",\"candidate_field\",\"decode_incomplete_field\"]";
	e.what = "1-byte segmentation of every PDU in both directions hides nothing";
	man_case(name, sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, file);
}

/* Retransmissions, overlaps and reordering among the RQ's first (held) bytes. */
enum ovl { OVL_SAME, OVL_DIFF, OVL_DIFF_FIRST, OVL_PARTIAL, OVL_PARTIAL_DIFF, OVL_GAP, OVL_N };

static void gen_overlap(const char *dir, uint16_t port, enum ovl k)
{
	static const char *const names[OVL_N] = {"same",    "diff",	    "diff_first",
						 "partial", "partial_diff", "gap"};
	struct cap cap = {};
	struct conn c;
	struct expect e = echo_expect();
	uint16_t sport = (uint16_t)(51100 + k);
	uint32_t s0;
	const char *calling = CALLING;
	char file[80], name[64];

	snprintf(name, sizeof(name), "overlap_%s_%u", names[k], port);
	snprintf(file, sizeof(file), "%s.pcap", name);
	conn_init(&c, &cap, sport, port);
	handshake(&c);
	s0 = c.f.next_seq[C2S];
	e.candidate = 1;
	e.mutation = 1;
	e.depends = "[\"candidates\",\"candidate_field\",\"decode_incomplete_field\"]";
	switch (k) {
	case OVL_SAME:
		/* 0..19, 0..19 again (the same bytes), 20..end */
		seg_at(&c, C2S, s0, P.rq, 20);
		seg_at(&c, C2S, s0, P.rq, 20);
		e.what = "a retransmission of the held bytes with the same bytes is benign";
		e.viol_absent = "[\"stream_overlap_conflict\"]";
		break;
	case OVL_DIFF:
		/* 0..39, 0..39 again naming another caller, 40..end: the first copy stands. */
		seg_at(&c, C2S, s0, P.rq, 40);
		seg_at(&c, C2S, s0, P.rq_x, 40);
		e.what = "a retransmission with another calling AE title: the first copy wins "
			 "(as in the receiver's TCP), the conflict is a violation";
		break;
	case OVL_DIFF_FIRST:
		/* The other caller first, then the "right" bytes: still the first copy. */
		seg_at(&c, C2S, s0, P.rq_x, 40);
		seg_at(&c, C2S, s0, P.rq, 40);
		calling = CALLING_X;
		e.what = "the different copy first, then the expected one: the first copy "
			 "still wins (what the acceptor read), the conflict is a violation";
		break;
	case OVL_PARTIAL:
		/* 0..19, then 10..59 (the same bytes) past the 48 held, then 60..end. */
		seg_at(&c, C2S, s0, P.rq, 20);
		seg_at(&c, C2S, s0 + 10, P.rq + 10, 50);
		seg_at(&c, C2S, s0 + 60, P.rq + 60, P.rq_len - 60);
		c.f.next_seq[C2S] = s0 + (uint32_t)P.rq_len;
		e.what = "a segment overlapping the held bytes and reaching past them: the "
			 "new part is taken, nothing lost";
		e.viol_absent = "[\"stream_overlap_conflict\"]";
		break;
	case OVL_PARTIAL_DIFF:
		/*
		 * 0..29, then 20..59 from the other caller's RQ: bytes 20..29 were
		 * seen (the first copy stands: "MODA"), 30..59 are new ("CKER1"),
		 * so the acceptor reads the calling AE title "MODACKER1".
		 */
		seg_at(&c, C2S, s0, P.rq, 30);
		seg_at(&c, C2S, s0 + 20, P.rq_x + 20, 40);
		seg_at(&c, C2S, s0 + 60, P.rq + 60, P.rq_len - 60);
		c.f.next_seq[C2S] = s0 + (uint32_t)P.rq_len;
		calling = "MODACKER1";
		e.what = "a conflicting partial overlap: old bytes from the first copy, new "
			 "bytes from the second, as the receiver's TCP assembles them";
		break;
	case OVL_GAP:
		/* 0..9, 20..39 (beyond a gap), 10..19, 40..end: reordered, nothing repeated. */
		seg_at(&c, C2S, s0, P.rq, 10);
		seg_at(&c, C2S, s0 + 20, P.rq + 20, 20);
		seg_at(&c, C2S, s0 + 10, P.rq + 10, 10);
		seg_at(&c, C2S, s0 + 40, P.rq + 40, P.rq_len - 40);
		c.f.next_seq[C2S] = s0 + (uint32_t)P.rq_len;
		e.what = "a segment beyond a gap inside the held bytes, the missing bytes "
			 "after it (no retransmission: the receiver kept it)";
		e.depends = "[\"candidates\",\"candidate_reorder\",\"candidate_field\","
			    "\"decode_incomplete_field\"]";
		break;
	default:
		break;
	}
	if (k == OVL_SAME || k == OVL_DIFF || k == OVL_DIFF_FIRST) {
		uint32_t at = k == OVL_SAME ? 20 : 40;

		seg_at(&c, C2S, s0 + at, P.rq + at, P.rq_len - at);
		c.f.next_seq[C2S] = s0 + (uint32_t)P.rq_len;
	}
	if (k == OVL_DIFF || k == OVL_DIFF_FIRST || k == OVL_PARTIAL_DIFF) {
		e.viol_none = 0;
		e.viol_present = "[\"stream_overlap_conflict\"]";
		e.alerts_present = "[9100010,9100120]";
		e.alerts_absent = "[]";
		/* Wireshark refuses conflicting overlaps ("Illegal Segments"): the AC's echo. */
		e.oracle_skip = "[\"contexts\",\"pdus_orig\"]";
		e.depends = "[\"candidates\",\"overlap_violation\",\"candidate_field\","
			    "\"decode_incomplete_field\"]";
	}
	e.calling = calling;
	rest_of_echo_assoc(&c, calling);
	man_capture_begin(file, "dicom", port, e.what, NULL);
	man_case(name, sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, file);
}

/* The RQ's segment as IPv4 fragments (4 RQ bytes in the first), in order or last first. */
static void gen_frag(const char *dir, uint16_t port, int reversed)
{
	struct cap cap = {};
	struct conn c;
	struct expect e = echo_expect();
	uint16_t sport = (uint16_t)(51200 + reversed);
	char file[80], name[64];

	snprintf(name, sizeof(name), "ipfrag_%s_%u", reversed ? "reversed" : "inorder", port);
	snprintf(file, sizeof(file), "%s.pcap", name);
	conn_init(&c, &cap, sport, port);
	handshake(&c);
	seg_fragmented(&c, C2S, P.rq, P.rq_len, 4, (uint16_t)(0x7a00 + port + reversed), reversed);
	rest_of_echo_assoc(&c, CALLING);
	e.viol_none = 0;
	e.viol_present = "[\"stream_ip_fragments\"]";
	e.candidate = -1; /* whether 4 bytes in the first fragment make a candidate: theirs */
	e.alerts_present = "[9100010,9100120]";
	e.alerts_absent = "[]";
	if (!reversed) {
		e.what = "the RQ in in-order IPv4 fragments is decoded whole and flagged";
		e.depends = "[\"ip_fragments_inorder\",\"anomaly_violations\","
			    "\"decode_incomplete_field\"]";
	} else {
		/*
		 * The fragment with the ports comes last: nothing can be placed, only
		 * flagged. The AC still names both parties (it echoes them).
		 */
		e.what = "the RQ in reversed IPv4 fragments: flagged as undecoded, the "
			 "association still recorded from the AC on";
		e.di = 1;
		e.di_has = "[\"ip_fragments\"]";
		e.contexts = -1;
		e.pdus_orig = NULL;
		e.alerts_present = "[9100120]";
		e.depends = "[\"ip_fragments_flag\",\"anomaly_violations\","
			    "\"decode_incomplete_field\"]";
	}
	man_capture_begin(file, "dicom", port, e.what, NULL);
	man_case(name, sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, file);
}

/* An RQ whose PDU length lies: 0 and 0xFFFFFFFF (abort), or more than is sent (then FIN). */
static void gen_pdu_len(const char *dir, uint16_t port, int which)
{
	static const char *const names[3] = {"zero", "max", "long"};
	static const uint32_t lens[3] = {0, 0xffffffffu, 1000};
	struct cap cap = {};
	struct conn c;
	struct expect e = echo_expect();
	uint16_t sport = (uint16_t)(51300 + which);
	uint8_t rq[1024], ab[16];
	size_t abn = pdu_abort(ab, sizeof(ab), 2, 6); /* invalid-PDU-parameter-value */
	char file[80], name[64];

	snprintf(name, sizeof(name), "rq_pdu_len_%s_%u", names[which], port);
	snprintf(file, sizeof(file), "%s.pcap", name);
	memcpy(rq, P.rq, P.rq_len);
	rq[2] = (uint8_t)(lens[which] >> 24), rq[3] = (uint8_t)(lens[which] >> 16);
	rq[4] = (uint8_t)(lens[which] >> 8), rq[5] = (uint8_t)lens[which];
	conn_init(&c, &cap, sport, port);
	handshake(&c);
	seg(&c, C2S, 0, rq, P.rq_len);
	e.viol_none = 0;
	e.contexts = -1;
	e.commands = "{}";
	e.statuses = "{}";
	e.candidate = 0;
	e.alerts_present = "[9100120]";
	e.alerts_absent = "[]";
	e.pdus_orig = "{\"A-ASSOCIATE-RQ\":1}";
	/* tshark does not dissect an RQ whose length lies. */
	e.oracle_skip = "[\"calling_ae\",\"called_ae\",\"pdus_orig\"]";
	if (which < 2) {
		/* The acceptor cannot read it: A-ABORT, then the requestor closes. */
		send_msg(&c, S2C, ab, abn, MSS);
		teardown(&c);
		e.outcome = "aborted";
		e.state = "aborted";
		e.pdus_reply = "{\"A-ABORT\":1}";
		e.viol_present = "[\"stream_pdu_length\"]";
		e.di = 1;
		e.di_has = "[\"pdu_length\"]";
		e.what = which ? "an RQ with PDU length 0xFFFFFFFF is recognised, its AE titles "
				 "read, the length a violation"
			       : "an RQ with PDU length 0 is recognised, its AE titles read, the "
				 "length a violation";
		e.depends = "[\"rq_bogus_length\",\"anomaly_violations\","
			    "\"decode_incomplete_field\"]";
	} else {
		/* Declares 1000 bytes, sends the RQ's 211, then closes; the acceptor waits. */
		teardown(&c);
		e.outcome = "incomplete";
		e.state = "requested";
		e.pdus_reply = "{}";
		/* The association ended before the PDU's last byte (not a length lie). */
		e.viol_present = "[\"pdu_incomplete\"]";
		e.di = 1;
		e.di_has = "[\"truncated\"]";
		e.what = "an RQ declaring more bytes than sent, then FIN: not accepted, "
			 "truncated, a violation";
		e.depends = "[\"rq_truncated\",\"decode_incomplete_field\"]";
	}
	man_capture_begin(file, "dicom", port, e.what, NULL);
	man_case(name, sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, file);
}

/* 40 C-ECHO-RQ P-DATA PDUs in one segment; 40 responses in MSS-sized segments. */
static void gen_pipeline(const char *dir)
{
	struct cap cap = {};
	struct conn c;
	struct expect e = echo_expect();
	uint16_t sport = 51400, port = PORT_DICOM;
	static uint8_t rqs[40 * 128], rsps[40 * 128];
	size_t nq = 0, np = 0;
	uint8_t ac[1024];
	size_t acn = ac_for(ac, sizeof(ac), CALLING, 16384);

	for (int i = 0; i < 40; i++) {
		size_t a = pdu_pdata_command(rqs + nq, sizeof(rqs) - nq, 1, DIMSE_C_ECHO,
					     PDU_UID_VERIFICATION, (uint16_t)(i + 1), 0, NULL, 0);
		size_t b =
		    pdu_pdata_command(rsps + np, sizeof(rsps) - np, 1, DIMSE_C_ECHO | DIMSE_RSP,
				      PDU_UID_VERIFICATION, (uint16_t)(i + 1), 0x0000, NULL, 0);
		if (!a || !b)
			die("pipeline PDUs");
		nq += a;
		np += b;
	}
	conn_init(&c, &cap, sport, port);
	handshake(&c);
	send_msg(&c, C2S, P.rq, P.rq_len, MSS);
	send_msg(&c, S2C, ac, acn, MSS);
	seg(&c, C2S, 0, rqs, nq); /* one segment, as a TSO/GRO capture shows it */
	send_msg(&c, S2C, rsps, np, MSS);
	send_msg(&c, C2S, P.rel_rq, P.rel_rq_len, MSS);
	send_msg(&c, S2C, P.rel_rp, P.rel_rp_len, MSS);
	teardown(&c);
	e.pdus_orig = "{\"A-ASSOCIATE-RQ\":1,\"P-DATA-TF\":40,\"A-RELEASE-RQ\":1}";
	e.pdus_reply = "{\"A-ASSOCIATE-AC\":1,\"P-DATA-TF\":40,\"A-RELEASE-RP\":1}";
	e.commands = "{\"C-ECHO-RQ\":40,\"C-ECHO-RSP\":40}";
	e.statuses = "{\"success\":40}";
	e.what = "40 P-DATA PDUs in one segment: every command counted";
	e.depends = "[\"walk_8192\",\"decode_incomplete_field\",\"candidate_field\"]";
	man_capture_begin("pipeline_40.pcap", "dicom", port, e.what, NULL);
	man_case("pipeline_40", sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, "pipeline_40.pcap");
}

/*
 * After a good C-ECHO the requestor sends a malformed PDU: a C-ECHO-RQ whose
 * PDV length is bad, or a 10-byte PDU of an invalid type. The acceptor
 * aborts (PS3.8 AA-8: invalid PDU, A-ABORT from the service provider); the
 * requestor closes (AA-3).
 */
static void gen_bad(const char *dir, int pdv, uint32_t value, uint16_t sport)
{
	struct cap cap = {};
	struct conn c;
	struct expect e = echo_expect();
	uint16_t port = PORT_DICOM;
	uint8_t bad[128], ab[16], ac[1024];
	size_t badn, abn, acn = ac_for(ac, sizeof(ac), CALLING, 16384);
	char file[80], name[64];

	if (pdv) {
		snprintf(name, sizeof(name), "bad_pdv_len_%s",
			 value == 0	       ? "0"
			 : value == 1	       ? "1"
			 : value == 0xffffffff ? "ffffffff"
					       : "gt_pdu");
		badn = pdu_pdata_command(bad, sizeof(bad), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 2,
					 0, NULL, 0);
		bad[6] = (uint8_t)(value >> 24), bad[7] = (uint8_t)(value >> 16);
		bad[8] = (uint8_t)(value >> 8), bad[9] = (uint8_t)value;
		abn = pdu_abort(ab, sizeof(ab), 2, 6); /* invalid-PDU-parameter-value */
	} else {
		snprintf(name, sizeof(name), "bad_pdu_type_%02x", value);
		badn = pdu_release_rq(bad, sizeof(bad));
		bad[0] = (uint8_t)value;
		abn = pdu_abort(ab, sizeof(ab), 2, 1); /* unrecognized-PDU */
	}
	snprintf(file, sizeof(file), "%s.pcap", name);
	conn_init(&c, &cap, sport, port);
	handshake(&c);
	send_msg(&c, C2S, P.rq, P.rq_len, MSS);
	send_msg(&c, S2C, ac, acn, MSS);
	send_msg(&c, C2S, P.echo_rq, P.echo_rq_len, MSS);
	send_msg(&c, S2C, P.echo_rsp, P.echo_rsp_len, MSS);
	seg(&c, C2S, 0, bad, badn);
	send_msg(&c, S2C, ab, abn, MSS);
	teardown(&c);
	e.outcome = "aborted";
	e.state = "aborted";
	e.viol_none = 0;
	e.alerts_present = "[9100120]";
	e.alerts_absent = "[]";
	e.pdus_reply = "{\"A-ASSOCIATE-AC\":1,\"P-DATA-TF\":1,\"A-ABORT\":1}";
	if (pdv) {
		e.pdus_orig = "{\"A-ASSOCIATE-RQ\":1,\"P-DATA-TF\":2}";
		e.viol_present = "[\"stream_pdv_length\"]";
		e.what = "a P-DATA PDU whose PDV length is invalid, after a good C-ECHO: a "
			 "violation, the good command counted once";
	} else {
		e.pdus_orig = NULL; /* how an invalid type is counted is not fixed */
		e.viol_present = "[\"stream_pdu_type\"]";
		e.di = -1;
		e.what = "a PDU of an invalid type after a good C-ECHO: a violation";
	}
	e.depends = pdv ? "[\"anomaly_violations\",\"decode_incomplete_field\",\"candidate_field\"]"
			: "[\"anomaly_violations\",\"candidate_field\"]";
	man_capture_begin(file, "dicom", port, e.what, NULL);
	man_case(name, sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, file);
}

/* The C-STORE-RQ command set, Implicit VR LE, with the affected SOP instance UID. */
static size_t store_command(uint8_t *out)
{
	static const struct {
		uint16_t elem;
		const char *str; /* UI, padded with 0x00 to even length */
		uint16_t us;
	} el[] = {
	    {0x0002, PDU_UID_CT_STORAGE, 0},
	    {0x0100, NULL, DIMSE_C_STORE},
	    {0x0110, NULL, 1},
	    {0x0700, NULL, 0x0000},
	    {0x0800, NULL, 0x0001},
	    {0x1000, CT_INSTANCE, 0},
	};
	size_t n = 12;

	for (size_t i = 0; i < sizeof(el) / sizeof(el[0]); i++) {
		size_t vl = el[i].str ? (strlen(el[i].str) + 1) / 2 * 2 : 2;

		out[n] = 0, out[n + 1] = 0;
		out[n + 2] = (uint8_t)el[i].elem, out[n + 3] = (uint8_t)(el[i].elem >> 8);
		out[n + 4] = (uint8_t)vl, out[n + 5] = (uint8_t)(vl >> 8), out[n + 6] = 0,
			out[n + 7] = 0;
		if (el[i].str) {
			memset(out + n + 8, 0, vl);
			memcpy(out + n + 8, el[i].str, strlen(el[i].str));
		} else {
			out[n + 8] = (uint8_t)el[i].us, out[n + 9] = (uint8_t)(el[i].us >> 8);
		}
		n += 8 + vl;
	}
	/* (0000,0000) UL: the bytes after it */
	memcpy(out, "\x00\x00\x00\x00\x04\x00\x00\x00", 8);
	out[8] = (uint8_t)(n - 12), out[9] = (uint8_t)((n - 12) >> 8), out[10] = 0, out[11] = 0;
	return n;
}

static size_t put_pdv(uint8_t *out, const uint8_t *frag, size_t n, uint8_t mch)
{
	uint32_t l = (uint32_t)n + 2;

	out[0] = (uint8_t)(l >> 24), out[1] = (uint8_t)(l >> 16), out[2] = (uint8_t)(l >> 8),
	out[3] = (uint8_t)l;
	out[4] = 1;
	out[5] = mch;
	memcpy(out + 6, frag, n);
	return n + 6;
}

static size_t put_pdu_hdr(uint8_t *out, size_t body)
{
	out[0] = 4, out[1] = 0;
	out[2] = (uint8_t)(body >> 24), out[3] = (uint8_t)(body >> 16);
	out[4] = (uint8_t)(body >> 8), out[5] = (uint8_t)body;
	return 6;
}

/*
 * A C-STORE-RQ whose command set is cut into nfrag command PDVs: each in a
 * P-DATA PDU of its own (the acceptor's maximum PDU length is 128), or all
 * in one PDU (together = 1); then the data set, the response, release.
 */
static void gen_split(const char *dir, int nfrag, int together, uint16_t sport)
{
	static const struct pdu_pc pc = {1, PDU_UID_CT_STORAGE, {PDU_UID_IMPLICIT_LE}, 1};
	static const uint8_t ids[1] = {1}, results[1] = {0};
	struct cap cap = {};
	struct conn c;
	struct expect e = echo_expect();
	uint16_t port = PORT_DICOM;
	uint8_t cmd[256], rq[1024], ac[1024], pdus[1024], data[256], rsp[256];
	size_t cn = store_command(cmd), rqn, acn, n = 0, dn, rn, off = 0;
	uint32_t max_pdu = together ? 16384 : 128;
	char name[64], file[80], orig[160];

	if (together)
		snprintf(name, sizeof(name), "split_cmd_%d_pdvs_1_pdu", nfrag);
	else
		snprintf(name, sizeof(name), "split_cmd_%d_pdus", nfrag);
	snprintf(file, sizeof(file), "%s.pcap", name);
	rqn = pdu_assoc_rq(rq, sizeof(rq), CALLED, CALLING, &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			   PDU_DCMTK_IMPL_VER);
	acn = pdu_assoc_ac(ac, sizeof(ac), CALLED, CALLING, ids, results, 1, max_pdu);
	dn = pdu_pdata_data(data, sizeof(data), 1, 100, 1);
	rn = pdu_pdata_command(rsp, sizeof(rsp), 1, DIMSE_C_STORE | DIMSE_RSP, PDU_UID_CT_STORAGE,
			       1, 0x0000, NULL, 0);
	if (!rqn || !acn || !dn || !rn)
		die("split PDUs");
	/* The command P-DATA PDUs: fragments as equal as 2-byte steps allow. */
	if (together)
		n += put_pdu_hdr(pdus, cn + 6 * (size_t)nfrag);
	for (int i = 0; i < nfrag; i++) {
		size_t fl = i == nfrag - 1 ? cn - off : (cn / (size_t)nfrag) & ~(size_t)1;

		if (!together)
			n += put_pdu_hdr(pdus + n, fl + 6);
		n += put_pdv(pdus + n, cmd + off, fl, i == nfrag - 1 ? 0x03 : 0x01);
		if (!together && fl + 6 > max_pdu)
			die("a command fragment beyond the maximum PDU length");
		off += fl;
	}
	if (cn + 6 <= max_pdu && !together)
		die("the command set must not fit one PDU");
	conn_init(&c, &cap, sport, port);
	handshake(&c);
	send_msg(&c, C2S, rq, rqn, MSS);
	send_msg(&c, S2C, ac, acn, MSS);
	/* Each PDU its own segment (as written), then the data set's PDU. */
	for (size_t p = 0; p < n;) {
		size_t l = 6 + ((size_t)pdus[p + 2] << 24 | (size_t)pdus[p + 3] << 16 |
				(size_t)pdus[p + 4] << 8 | pdus[p + 5]);

		seg(&c, C2S, 0, pdus + p, l);
		p += l;
	}
	seg(&c, C2S, 0, data, dn);
	send_msg(&c, S2C, rsp, rn, MSS);
	send_msg(&c, C2S, P.rel_rq, P.rel_rq_len, MSS);
	send_msg(&c, S2C, P.rel_rp, P.rel_rp_len, MSS);
	teardown(&c);
	snprintf(orig, sizeof(orig), "{\"A-ASSOCIATE-RQ\":1,\"P-DATA-TF\":%d,\"A-RELEASE-RQ\":1}",
		 (together ? 1 : nfrag) + 1);
	e.pdus_orig = strdup(orig);
	e.commands = "{\"C-STORE-RQ\":1,\"C-STORE-RSP\":1}";
	e.what = together ? "a command set in 2 PDVs of one P-DATA PDU is one command, no "
			    "violation"
			  : "a command set split over P-DATA PDUs (peer's max PDU 128) is one "
			    "command, no violation, no 9100120";
	e.depends = "[\"dimse_reassembly\",\"decode_incomplete_field\",\"candidate_field\"]";
	man_capture_begin(file, "dicom", port, e.what, NULL);
	man_case(name, sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, file);
}

/* The RQ in 3 segments sent 1, 3, 2 (the first decides: no candidate). */
static void gen_rq_tail_ooo(const char *dir)
{
	struct cap cap = {};
	struct conn c;
	struct expect e = echo_expect();
	uint16_t sport = 51600, port = PORT_DICOM;
	uint32_t s0;

	conn_init(&c, &cap, sport, port);
	handshake(&c);
	s0 = c.f.next_seq[C2S];
	seg_at(&c, C2S, s0, P.rq, 100);
	seg_at(&c, C2S, s0 + 160, P.rq + 160, P.rq_len - 160);
	seg_at(&c, C2S, s0 + 100, P.rq + 100, 60);
	c.f.next_seq[C2S] = s0 + (uint32_t)P.rq_len;
	rest_of_echo_assoc(&c, CALLING);
	e.what = "the RQ's tail out of order (segments 1, 3, 2): decoded whole";
	e.depends = "[\"ctl_ooo_ship\",\"decode_incomplete_field\",\"candidate_field\"]";
	man_capture_begin("rq_tail_ooo.pcap", "dicom", port, e.what, NULL);
	man_case("rq_tail_ooo", sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, "rq_tail_ooo.pcap");
}

/* A QIDO-RS request naming a patient, in 1-byte segments or split after 20 bytes. */
static void gen_web(const char *dir, int one_byte)
{
	static const char req[] = "GET /dicom-web/studies?PatientName=" CANARY " HTTP/1.1\r\n"
				  "Host: " SERVER_IP ":8042\r\n"
				  "User-Agent: curl/7.88.1\r\n"
				  "Accept: application/dicom+json\r\n\r\n";
	static const char rsp[] = "HTTP/1.1 200 OK\r\n"
				  "Content-Type: application/dicom+json\r\n"
				  "Content-Length: 2\r\n\r\n[]";
	struct cap cap = {};
	struct conn c;
	struct expect e = {0};
	uint16_t sport = (uint16_t)(51700 + one_byte), port = PORT_WEB;
	const char *name = one_byte ? "dicomweb_one_byte" : "dicomweb_split20";
	char file[80];

	snprintf(file, sizeof(file), "%s.pcap", name);
	conn_init(&c, &cap, sport, port);
	handshake(&c);
	if (one_byte) {
		send_msg(&c, C2S, (const uint8_t *)req, sizeof(req) - 1, 1);
		send_msg(&c, S2C, (const uint8_t *)rsp, sizeof(rsp) - 1, 1);
	} else {
		seg(&c, C2S, 0, req, 20);
		ack(&c, S2C);
		seg(&c, C2S, 0, req + 20, sizeof(req) - 1 - 20);
		send_msg(&c, S2C, (const uint8_t *)rsp, sizeof(rsp) - 1, MSS);
	}
	teardown(&c);
	e.kind = "http";
	e.contexts = -1;
	e.di = -1;
	e.candidate = -1;
	e.http = "{\"method\":\"GET\",\"resource\":\"studies\",\"phi_keys\":[\"PatientName\"]}";
	e.alerts_present = "[9100110,9100111]";
	e.alerts_absent = "[]";
	e.mutation = one_byte;
	e.depends = one_byte ? "[\"candidates\",\"http_reassembly\"]" : "[\"http_reassembly\"]";
	e.what = one_byte ? "a DICOMweb request line in 1-byte segments: one dicomweb event, "
			    "rule 11 alerts, the query value never printed"
			  : "a DICOMweb request line split after 20 bytes: one dicomweb event, "
			    "rule 11 alerts, the query value never printed";
	man_capture_begin(file, "http", port, e.what, NULL);
	man_case(name, sport, port, &e);
	man_capture_end();
	cap_write(&cap, dir, file);
}

int main(int argc, char **argv)
{
	static const uint32_t pdv_bad[] = {0, 1, 200, 0xffffffffu};
	static const uint32_t type_bad[] = {0x00, 0x08, 0x7f, 0xff};
	char path[512];
	const char *dir;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_adversarial DIR\n");
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	pdus_init();
	snprintf(path, sizeof(path), "%s/expected.json", dir);
	M.f = fopen(path, "w");
	if (!M.f) {
		perror(path);
		return 1;
	}
	fprintf(M.f, "{\"generator\": \"tests/adversarial/gen_adversarial.c\", \"rq_len\": %zu,\n",
		P.rq_len);
	man_defaults();
	fprintf(M.f, "\"captures\": [");

	gen_first_seg(dir, PORT_DICOM);
	gen_first_seg(dir, PORT_RAND);
	gen_one_byte(dir, PORT_DICOM);
	gen_one_byte(dir, PORT_RAND);
	for (int k = 0; k < OVL_N; k++) {
		gen_overlap(dir, PORT_DICOM, (enum ovl)k);
		gen_overlap(dir, PORT_RAND, (enum ovl)k);
	}
	gen_frag(dir, PORT_DICOM, 0);
	gen_frag(dir, PORT_RAND, 0);
	gen_frag(dir, PORT_DICOM, 1);
	for (int w = 0; w < 3; w++) {
		gen_pdu_len(dir, PORT_DICOM, w);
		gen_pdu_len(dir, PORT_RAND, w);
	}
	gen_pipeline(dir);
	for (int i = 0; i < 4; i++)
		gen_bad(dir, 1, pdv_bad[i], (uint16_t)(51500 + i));
	for (int i = 0; i < 4; i++)
		gen_bad(dir, 0, type_bad[i], (uint16_t)(51510 + i));
	gen_split(dir, 2, 0, 51550);
	gen_split(dir, 3, 0, 51551);
	gen_split(dir, 2, 1, 51552);
	gen_rq_tail_ooo(dir);
	gen_web(dir, 1);
	gen_web(dir, 0);

	fprintf(M.f, "\n]}\n");
	if (fclose(M.f)) {
		perror(path);
		return 1;
	}
	return 0;
}
