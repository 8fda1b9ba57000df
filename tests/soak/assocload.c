/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * assocload: the soak test's traffic (tests/soak/soak.sh).
 *
 *   assocload server [--listen IP] --port P [--port P ...]
 *	accept any association: A-ASSOCIATE-AC for the first presentation context
 *	(result 0, Implicit VR LE), C-ECHO-RSP status 0x0000 to a C-ECHO-RQ,
 *	A-RELEASE-RP to A-RELEASE-RQ, then wait for the requestor to close
 *	(PS3.8: the requestor closes after the RP).
 *   assocload client --server IP [--port P] --rate R --duration S
 *		[--concurrency C] [--calling AE] [--called AE] [--timeout S] [--out FILE]
 *	R associations a second for S seconds, at most C at once: connect, RQ,
 *	AC, C-ECHO, release, close. One line per association in FILE
 *	("sport dport start end outcome reason", Unix seconds), a summary
 *	on stdout. An association that cannot start because C are going on is
 *	started late: the achieved rate says so.
 *   assocload flood --iface IF --dst-mac MAC --src IP --dst IP [--port P]
 *		--count N --pps R
 *	N half-open A-ASSOCIATE-RQs (one ACK|PSH segment each, no handshake)
 *	from IP, source ports 1024..65535 then the next destination port, sent
 *	on IF (AF_PACKET) to MAC at R packets a second.
 *
 * epoll, non-blocking sockets, no threads. Nothing here carries patient data:
 * the only payloads are association set-ups and C-ECHO.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "pktbuild.h"

#define MAX_PORTS 16
#define RBUF	  8192
#define WBUF	  2048
#define MAX_PDU	  (RBUF - 6)

enum state { S_CONNECTING, S_AWAIT_AC, S_AWAIT_RSP, S_AWAIT_RP, S_SRV_OPEN, S_SRV_RELEASED };

static const char *state_name[] = {"connect",  "await-ac", "await-echo-rsp",
				   "await-rp", "open",	   "released"};

struct conn {
	uint64_t tag; /* epoll's data: the conn itself (server) or its slot (client) */
	int fd;
	enum state st;
	uint16_t sport, dport;
	double start;	 /* realtime, for the line */
	double deadline; /* monotonic */
	size_t rlen, wlen, woff;
	uint8_t rbuf[RBUF];
	uint8_t wbuf[WBUF];
};

struct opts {
	const char *mode, *listen, *server, *out, *iface, *src, *dst;
	const char *calling, *called;
	uint16_t ports[MAX_PORTS];
	int nports;
	double rate, duration, timeout, pps;
	int concurrency;
	long count;
	uint8_t dst_mac[6];
	int have_mac;
};

static int epfd = -1;

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "assocload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------ connection I/O */

static void conn_events(struct conn *c)
{
	struct epoll_event ev = {.data.u64 = c->tag};

	ev.events = EPOLLIN | (c->st == S_CONNECTING || c->wlen > c->woff ? EPOLLOUT : 0);
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* 0, or -errno of a failed send (EAGAIN leaves the rest for EPOLLOUT). */
static int conn_flush(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		c->woff += n;
	}
	c->wlen = c->woff = 0;
	return 0;
}

static int conn_send(struct conn *c, const uint8_t *buf, size_t n)
{
	if (!n || n > WBUF - c->wlen)
		return -ENOBUFS;
	memcpy(c->wbuf + c->wlen, buf, n);
	c->wlen += n;
	return conn_flush(c);
}

/*
 * Reads what the socket has. 1 on data, 0 on EOF, -errno on an error.
 * EAGAIN with nothing read is 1 (nothing to do).
 */
static int conn_read(struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->rlen == RBUF)
			return -EMSGSIZE;
		n = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, 0);
		if (n == 0)
			return 0;
		if (n < 0)
			return errno == EAGAIN ? 1 : -errno;
		c->rlen += n;
	}
}

/* Length of the whole PDU at the head of rbuf, 0 if not all there, -1 if too long. */
static long pdu_head(const struct conn *c)
{
	uint32_t len;

	if (c->rlen < 6)
		return 0;
	len = be32(c->rbuf + 2);
	if (len > MAX_PDU)
		return -1;
	return c->rlen >= len + 6 ? (long)len + 6 : 0;
}

static void pdu_consume(struct conn *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
}

/*
 * The Message ID (0000,0110) of the command set in the first PDV of a
 * P-DATA-TF, and its Command Field (0000,0100). -1 if the PDU holds no
 * command PDV.
 */
static int pdata_command(const uint8_t *p, size_t len, uint8_t *pcid, uint16_t *field,
			 uint16_t *msg_id)
{
	size_t off = 12, end;

	if (len < 12 || !(p[11] & 1))
		return -1;
	*pcid = p[10];
	end = 10 + (size_t)be32(p + 6);
	if (end > len)
		return -1;
	*field = 0;
	*msg_id = 0;
	while (off + 8 <= end) {
		uint16_t elem = (uint16_t)(p[off + 2] | p[off + 3] << 8);
		uint32_t vlen = le32(p + off + 4);

		if (vlen > end - off - 8)
			return -1;
		if (elem == 0x0100 && vlen == 2)
			*field = (uint16_t)(p[off + 8] | p[off + 9] << 8);
		if ((elem == 0x0110 || elem == 0x0120) && vlen == 2)
			*msg_id = (uint16_t)(p[off + 8] | p[off + 9] << 8);
		off += 8 + vlen;
	}
	return 0;
}

/* ------------------------------------------------------------ server */

static void ae_copy(char *dst, const uint8_t *src)
{
	int n = 16;

	memcpy(dst, src, 16);
	while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == 0))
		n--;
	dst[n] = 0;
}

/* Offset of the first item of this type in an RQ or AC with a body of >= min bytes, or 0. */
static size_t assoc_item(const uint8_t *p, size_t len, uint8_t type, size_t min)
{
	size_t off = 74;

	while (off + 4 <= len) {
		size_t ilen = be16(p + off + 2);

		if (off + 4 + ilen > len)
			return 0;
		if (p[off] == type && ilen >= min)
			return off;
		off += 4 + ilen;
	}
	return 0;
}

/* The first presentation context's id of an RQ, 0 if none. */
static uint8_t rq_first_pc(const uint8_t *p, size_t len)
{
	size_t off = assoc_item(p, len, 0x20, 1);

	return off ? p[off + 4] : 0;
}

/* 0 to go on, -1 to close the connection. */
static int srv_pdu(struct conn *c, const uint8_t *p, size_t len)
{
	uint8_t out[1024], pcid, result = 0;
	char called[17], calling[17];
	uint16_t field, msg_id;
	size_t n = 0;

	switch (p[0]) {
	case 0x01:
		if (c->st != S_SRV_OPEN || len < 74 || !(pcid = rq_first_pc(p, len)))
			break;
		ae_copy(called, p + 10);
		ae_copy(calling, p + 26);
		n = pdu_assoc_ac(out, sizeof(out), called, calling, &pcid, &result, 1, 16384);
		break;
	case 0x04:
		if (pdata_command(p, len, &pcid, &field, &msg_id) || field != DIMSE_C_ECHO)
			break;
		n = pdu_pdata_command(out, sizeof(out), pcid, DIMSE_C_ECHO | DIMSE_RSP,
				      PDU_UID_VERIFICATION, msg_id, 0x0000, NULL, 0);
		break;
	case 0x05:
		n = pdu_release_rp(out, sizeof(out));
		c->st = S_SRV_RELEASED;
		break;
	default: /* an abort or anything unexpected ends it */
		return -1;
	}
	if (!n) { /* nothing we can answer: abort, as an SCP would */
		n = pdu_abort(out, sizeof(out), 2, 2);
		conn_send(c, out, n);
		return -1;
	}
	return conn_send(c, out, n) ? -1 : 0;
}

struct srv_stats {
	unsigned long accepted, released, closed_early;
};

static void srv_close(struct conn *c, struct srv_stats *st)
{
	if (c->st == S_SRV_RELEASED)
		st->released++;
	else
		st->closed_early++;
	close(c->fd);
	free(c);
}

static void srv_io(struct conn *c, uint32_t events, struct srv_stats *st)
{
	long n;
	int r;

	if ((events & EPOLLOUT) && conn_flush(c))
		goto close;
	r = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? conn_read(c) : 1;
	while ((n = pdu_head(c)) > 0) {
		if (srv_pdu(c, c->rbuf, n))
			goto close;
		pdu_consume(c, n);
	}
	if (n < 0 || r <= 0)
		goto close;
	conn_events(c);
	return;
close:
	srv_close(c, st);
}

static void srv_accept(int lfd, struct srv_stats *st)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct conn *c;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c)
			die("calloc");
		c->tag = (uintptr_t)c;
		c->fd = fd;
		c->st = S_SRV_OPEN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
			die("epoll_ctl");
		st->accepted++;
	}
}

static int listen_on(const char *ip, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd, one = 1;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		fprintf(stderr, "assocload: bad address %s\n", ip);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4096))
		die("bind/listen");
	return fd;
}

static int signal_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		die("signalfd");
	return fd;
}

/* Listener and signal fds are told apart from connections by these tags. */
static int tag_sig, tag_listen[MAX_PORTS];

static int run_server(const struct opts *o)
{
	struct epoll_event ev = {.events = EPOLLIN}, evs[256];
	struct srv_stats st = {0};
	int sfd = signal_fd(), lfd[MAX_PORTS], i, n, stop = 0;

	ev.data.ptr = &tag_sig;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	for (i = 0; i < o->nports; i++) {
		lfd[i] = listen_on(o->listen, o->ports[i]);
		ev.data.ptr = &tag_listen[i];
		epoll_ctl(epfd, EPOLL_CTL_ADD, lfd[i], &ev);
	}
	printf("listening %d port(s)\n", o->nports);
	fflush(stdout);
	while (!stop) {
		n = epoll_wait(epfd, evs, 256, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &tag_sig)
				stop = 1;
			else if (p >= (void *)tag_listen && p < (void *)(tag_listen + MAX_PORTS))
				srv_accept(lfd[(int *)p - tag_listen], &st);
			else
				srv_io(p, evs[i].events, &st);
		}
	}
	printf("server accepted=%lu released=%lu closed_early=%lu\n", st.accepted, st.released,
	       st.closed_early);
	return 0;
}

/* ------------------------------------------------------------ client */

#define MAX_REASONS 32

struct client {
	const struct opts *o;
	struct sockaddr_in dst;
	uint16_t next_port;
	struct conn **slots;
	int active;
	unsigned long made, ok, failed;
	FILE *out;
	char reasons[MAX_REASONS][48];
	unsigned long reason_n[MAX_REASONS];
};

static void count_reason(struct client *cl, const char *why)
{
	int i;

	for (i = 0; i < MAX_REASONS && cl->reasons[i][0]; i++)
		if (!strcmp(cl->reasons[i], why))
			break;
	if (i == MAX_REASONS)
		i = MAX_REASONS - 1; /* the last one takes the rest */
	if (!cl->reasons[i][0])
		snprintf(cl->reasons[i], sizeof(cl->reasons[i]), "%s", why);
	cl->reason_n[i]++;
}

static void cli_end(struct client *cl, int slot, const char *why)
{
	struct conn *c = cl->slots[slot];

	fprintf(cl->out, "%u %u %.6f %.6f %s %s\n", c->sport, c->dport, c->start, now_real(),
		why ? "failed" : "ok", why ? why : "-");
	if (why) {
		cl->failed++;
		count_reason(cl, why);
	} else {
		cl->ok++;
	}
	close(c->fd);
	free(c);
	cl->slots[slot] = NULL;
	cl->active--;
}

static void cli_fail_errno(struct client *cl, int slot, const char *what, int err)
{
	char why[48];

	snprintf(why, sizeof(why), "%s:%s-%s", state_name[cl->slots[slot]->st], what,
		 strerrorname_np(err) ? strerrorname_np(err) : "?");
	cli_end(cl, slot, why);
}

/*
 * Source ports in turn over 1024..65535, bound before connect: the kernel's own
 * choice scans every port in TIME_WAIT on each connect once half the range is in
 * it (about 32,000 associations in, the rate fell from 1,000/s to 150/s). In turn,
 * a port comes back after 64,512 associations: 64 s at 1,000/s, past TIME_WAIT's
 * 60 s. Faster, a connect meets its port's TIME_WAIT and fails (EADDRNOTAVAIL).
 */
static int cli_bind(struct client *cl, int fd)
{
	struct sockaddr_in me = {.sin_family = AF_INET};
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	for (int tries = 0; tries < 64; tries++) {
		me.sin_port = htons(cl->next_port);
		cl->next_port = cl->next_port == 65535 ? 1024 : cl->next_port + 1;
		if (!bind(fd, (struct sockaddr *)&me, sizeof(me)))
			return 0;
	}
	return -errno;
}

static void cli_start(struct client *cl, int slot)
{
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN};
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	struct conn *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		die("calloc");
	c->tag = slot;
	c->start = now_real();
	c->deadline = now_mono() + cl->o->timeout;
	c->dport = ntohs(cl->dst.sin_port);
	c->st = S_CONNECTING;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	cl->slots[slot] = c;
	cl->active++;
	cl->made++;
	ev.data.u64 = slot;
	if ((err = cli_bind(cl, c->fd))) {
		cli_fail_errno(cl, slot, "bind", -err);
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&cl->dst, sizeof(cl->dst)) && errno != EINPROGRESS) {
		cli_fail_errno(cl, slot, "connect", errno);
		return;
	}
	if (!getsockname(c->fd, (struct sockaddr *)&me, &len))
		c->sport = ntohs(me.sin_port);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev))
		die("epoll_ctl");
}

/* The next request of the conversation after a PDU in state st; NULL: a failure reason. */
static const char *cli_pdu(struct conn *c, const uint8_t *p, size_t len, uint8_t *out, size_t *n)
{
	uint16_t field, msg_id;
	uint8_t pcid;

	if (p[0] == 0x03)
		return "rejected";
	if (p[0] == 0x07)
		return "aborted";
	if (c->st == S_AWAIT_AC && p[0] == 0x02) {
		/* Our one context (id 1) accepted: PC-ID at item byte 4, result at 6. */
		size_t pc = assoc_item(p, len, 0x21, 4);

		if (!pc || p[pc + 4] != 1 || p[pc + 6] != 0)
			return "context-not-accepted";
		*n = pdu_pdata_command(out, 1024, 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL,
				       0);
		c->st = S_AWAIT_RSP;
		return NULL;
	}
	if (c->st == S_AWAIT_RSP && p[0] == 0x04) {
		if (pdata_command(p, len, &pcid, &field, &msg_id) ||
		    field != (DIMSE_C_ECHO | DIMSE_RSP) || msg_id != 1)
			return "bad-echo-rsp";
		*n = pdu_release_rq(out, 1024);
		c->st = S_AWAIT_RP;
		return NULL;
	}
	if (c->st == S_AWAIT_RP && p[0] == 0x06) {
		*n = 0;
		return NULL;
	}
	return "unexpected-pdu";
}

/* A PDU loop: 1 when the association is released, 0 to wait, -1 when it ended. */
static int cli_read(struct client *cl, int slot)
{
	struct conn *c = cl->slots[slot];
	uint8_t out[1024];
	const char *why;
	size_t n = 0;
	long len;
	int r = conn_read(c), w;

	while ((len = pdu_head(c)) > 0) {
		int was = c->st;

		why = cli_pdu(c, c->rbuf, len, out, &n);
		if (why)
			return cli_end(cl, slot, why), -1;
		if (was == S_AWAIT_RP)
			return 1;
		pdu_consume(c, len);
		if ((w = conn_send(c, out, n)) < 0)
			return cli_fail_errno(cl, slot, "send", -w), -1;
	}
	if (len < 0)
		return cli_end(cl, slot, "pdu-too-long"), -1;
	if (r < 0)
		return cli_fail_errno(cl, slot, "recv", -r), -1;
	if (r == 0) {
		char why_eof[48];

		snprintf(why_eof, sizeof(why_eof), "%s:eof", state_name[c->st]);
		return cli_end(cl, slot, why_eof), -1;
	}
	return 0;
}

static void cli_connected(struct client *cl, int slot)
{
	struct conn *c = cl->slots[slot];
	const struct opts *o = cl->o;
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	uint8_t rq[1024];
	socklen_t len = sizeof(int);
	int err = 0;
	size_t n;

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		cli_fail_errno(cl, slot, "connect", err);
		return;
	}
	n = pdu_assoc_rq(rq, sizeof(rq), o->called, o->calling, &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			 PDU_DCMTK_IMPL_VER);
	c->st = S_AWAIT_AC;
	if ((err = conn_send(c, rq, n)) < 0) {
		cli_fail_errno(cl, slot, "send", -err);
		return;
	}
	conn_events(c);
}

static void cli_io(struct client *cl, int slot, uint32_t events)
{
	struct conn *c = cl->slots[slot];
	int r;

	if (!c)
		return;
	if (c->st == S_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			cli_connected(cl, slot);
		return;
	}
	if ((events & EPOLLOUT) && (r = conn_flush(c)) < 0) {
		cli_fail_errno(cl, slot, "send", -r);
		return;
	}
	r = cli_read(cl, slot);
	if (r == 1)
		cli_end(cl, slot, NULL); /* released: the requestor closes */
	else if (r == 0)
		conn_events(c);
}

static void cli_timeouts(struct client *cl, double now, int all)
{
	char why[48];

	for (int i = 0; i < cl->o->concurrency; i++) {
		struct conn *c = cl->slots[i];

		if (!c || (!all && now < c->deadline))
			continue;
		snprintf(why, sizeof(why), "%s:timeout", state_name[c->st]);
		cli_end(cl, i, why);
	}
}

static int free_slot(const struct client *cl)
{
	for (int i = 0; i < cl->o->concurrency; i++)
		if (!cl->slots[i])
			return i;
	return -1;
}

static int timer_fd(long ns)
{
	struct itimerspec it = {{0, ns}, {0, ns}};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0 || timerfd_settime(fd, 0, &it, NULL))
		die("timerfd");
	return fd;
}

/* Starts what the rate says is due; returns 1 once the run is over. */
static int cli_tick(struct client *cl, int tfd, double t0, int stopping)
{
	double now = now_mono();
	uint64_t exp;
	int slot;

	if (read(tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		die("timerfd read");
	if (!stopping && now - t0 < cl->o->duration) {
		double due = (now - t0) * cl->o->rate;

		while (cl->made < due && (slot = free_slot(cl)) >= 0)
			cli_start(cl, slot);
	} else if (!cl->active) {
		return 1;
	}
	cli_timeouts(cl, now, 0);
	return 0;
}

static void cli_report(struct client *cl, double secs)
{
	printf("summary made=%lu ok=%lu failed=%lu seconds=%.3f rate=%.1f ok_rate=%.1f\n", cl->made,
	       cl->ok, cl->failed, secs, cl->made / secs, cl->ok / secs);
	for (int i = 0; i < MAX_REASONS && cl->reasons[i][0]; i++)
		printf("failed %s=%lu\n", cl->reasons[i], cl->reason_n[i]);
}

static int run_client(const struct opts *o)
{
	struct epoll_event ev = {.events = EPOLLIN}, evs[256];
	struct client cl = {.o = o,
			    .next_port = 1024,
			    .dst = {.sin_family = AF_INET, .sin_port = htons(o->ports[0])}};
	int sfd = signal_fd(), tfd = timer_fd(1000000), i, n, stopping = 0, done = 0;
	double t0 = now_mono(), t_end;

	if (inet_pton(AF_INET, o->server, &cl.dst.sin_addr) != 1) {
		fprintf(stderr, "assocload: bad server address %s\n", o->server);
		return 2;
	}
	cl.out = o->out ? fopen(o->out, "w") : stdout;
	cl.slots = calloc(o->concurrency, sizeof(*cl.slots));
	if (!cl.out || !cl.slots)
		die(o->out ? o->out : "calloc");
	fprintf(cl.out, "# sport dport start end outcome reason\n");
	ev.data.u64 = UINT64_MAX;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.u64 = UINT64_MAX - 1;
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	while (!done) {
		n = epoll_wait(epfd, evs, 256, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			uint64_t id = evs[i].data.u64;

			if (id == UINT64_MAX)
				stopping = 1; /* started ones finish; no new ones */
			else if (id == UINT64_MAX - 1)
				done = cli_tick(&cl, tfd, t0, stopping);
			else
				cli_io(&cl, (int)id, evs[i].events);
		}
	}
	t_end = now_mono();
	fclose(cl.out);
	cli_report(&cl, t_end - t0);
	return 0;
}

/* ------------------------------------------------------------ flood */

static void if_mac(int fd, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		die(ifname);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

/* A full device queue (ENOBUFS) is waited out, up to 100 ms; 0 or -errno. */
static int send_frame(int fd, const uint8_t *frame, size_t len, const struct sockaddr_ll *sll)
{
	struct timespec pause = {0, 100000};

	for (int tries = 0; tries < 1000; tries++) {
		if (sendto(fd, frame, len, 0, (const struct sockaddr *)sll, sizeof(*sll)) >= 0)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN)
			return -errno;
		nanosleep(&pause, NULL);
	}
	return -ENOBUFS;
}

static int run_flood(const struct opts *o)
{
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	struct pkt_spec s = {.family = 4, .src = o->src, .dst = o->dst};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_halen = 6};
	uint8_t rq[512], frame[1024], mac[6];
	size_t rqlen, flen;
	long sent = 0, failed = 0;
	double t0;
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		die("AF_PACKET socket");
	sll.sll_ifindex = (int)if_nametoindex(o->iface);
	if (!sll.sll_ifindex)
		die(o->iface);
	memcpy(sll.sll_addr, o->dst_mac, 6);
	if_mac(fd, o->iface, mac);
	rqlen = pdu_assoc_rq(rq, sizeof(rq), "ANY-SCP", "FLOOD", &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			     PDU_DCMTK_IMPL_VER);
	t0 = now_mono();
	for (long i = 0; i < o->count; i++) {
		double due = t0 + i / o->pps, now;

		while ((now = now_mono()) < due) {
			struct timespec ts = {0, (long)((due - now) * 1e9)};

			nanosleep(&ts, NULL);
		}
		s.sport = (uint16_t)(1024 + i % 64512);
		s.dport = (uint16_t)(o->ports[0] + i / 64512);
		s.seq = 0x10000000u + (uint32_t)i * 7919u;
		s.ack = 0x20000000u;
		flen = pkt_build(frame, sizeof(frame), &s, rq, rqlen);
		memcpy(frame, o->dst_mac, 6);
		memcpy(frame + 6, mac, 6);
		if (send_frame(fd, frame, flen, &sll))
			failed++;
		else
			sent++;
	}
	printf("flood sent=%ld failed=%ld seconds=%.3f pps=%.0f\n", sent, failed, now_mono() - t0,
	       sent / (now_mono() - t0));
	return failed ? 1 : 0;
}

/* ------------------------------------------------------------ options */

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: assocload server [--listen IP] --port P [--port P ...]\n"
		"       assocload client --server IP [--port P] --rate R --duration S\n"
		"                 [--concurrency C] [--calling AE] [--called AE] [--timeout S]\n"
		"                 [--out FILE]\n"
		"       assocload flood --iface IF --dst-mac MAC --src IP --dst IP [--port P]\n"
		"                 --count N --pps R\n");
	exit(rc);
}

static double num(const char *s, double lo, double hi, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || end == s || v < lo || v > hi) {
		fprintf(stderr, "assocload: bad %s '%s' (%g..%g)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

static void parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
		fprintf(stderr, "assocload: bad MAC '%s'\n", s);
		exit(2);
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

static void parse_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'l':
		o->listen = arg;
		break;
	case 's':
		o->server = arg;
		break;
	case 'p':
		if (o->nports == MAX_PORTS)
			usage(2);
		o->ports[o->nports++] = (uint16_t)num(arg, 1, 65535, "port");
		break;
	case 'r':
		o->rate = num(arg, 0.001, 1e6, "rate");
		break;
	case 'd':
		o->duration = num(arg, 0, 86400, "duration");
		break;
	case 'C':
		o->concurrency = (int)num(arg, 1, 60000, "concurrency");
		break;
	case 'a':
		o->calling = arg;
		break;
	case 'A':
		o->called = arg;
		break;
	case 't':
		o->timeout = num(arg, 0.1, 3600, "timeout");
		break;
	case 'o':
		o->out = arg;
		break;
	case 'i':
		o->iface = arg;
		break;
	case 'm':
		parse_mac(arg, o->dst_mac);
		o->have_mac = 1;
		break;
	case 'S':
		o->src = arg;
		break;
	case 'D':
		o->dst = arg;
		break;
	case 'n':
		o->count = (long)num(arg, 1, 1e9, "count");
		break;
	case 'P':
		o->pps = num(arg, 1, 1e8, "pps");
		break;
	case 'h':
		usage(0);
		break;
	default:
		usage(2);
	}
}

static void parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"listen", 1, 0, 'l'},  {"server", 1, 0, 's'},   {"port", 1, 0, 'p'},
	    {"rate", 1, 0, 'r'},    {"duration", 1, 0, 'd'}, {"concurrency", 1, 0, 'C'},
	    {"calling", 1, 0, 'a'}, {"called", 1, 0, 'A'},   {"timeout", 1, 0, 't'},
	    {"out", 1, 0, 'o'},	    {"iface", 1, 0, 'i'},    {"dst-mac", 1, 0, 'm'},
	    {"src", 1, 0, 'S'},	    {"dst", 1, 0, 'D'},	     {"count", 1, 0, 'n'},
	    {"pps", 1, 0, 'P'},	    {"help", 0, 0, 'h'},     {0},
	};
	int c;

	if (argc < 2)
		usage(2);
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1)
		parse_opt(o, c, optarg);
	if (optind != argc)
		usage(2);
	if (!o->nports)
		o->ports[o->nports++] = 11112;
}

int main(int argc, char **argv)
{
	struct opts o = {.listen = "0.0.0.0",
			 .concurrency = 256,
			 .calling = "SOAKSCU",
			 .called = "SOAKSCP",
			 .timeout = 10};

	parse(&o, argc, argv);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(o.mode, "server"))
		return run_server(&o);
	if (!strcmp(o.mode, "client")) {
		if (!o.server || !o.rate || !o.duration)
			usage(2);
		return run_client(&o);
	}
	if (!strcmp(o.mode, "flood")) {
		if (!o.iface || !o.have_mac || !o.src || !o.dst || !o.count || !o.pps)
			usage(2);
		return run_flood(&o);
	}
	usage(2);
	return 2;
}
