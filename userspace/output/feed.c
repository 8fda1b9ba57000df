// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The feed's outputs and the alert rate limit (see feed.h, docs/feed.md).
 *
 * Each line is rendered once (dm_eve_line: valid UTF-8 whatever the wire
 * held) and handed to every output. Only the file and stdout may block
 * (local disk, or a pipe the operator chose, as the daemon's own stdout
 * lines already do); the unix socket and syslog never do: a line the peer
 * does not take now is kept in a bounded buffer (socket) or dropped
 * (datagrams), and counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "config/config.h"
#include "output/eve.h"
#include "lib/clock.h"
#include "output/feed.h"
#include "lib/log.h"
#include "lib/lru.h"
#include "lib/safefile.h"
#include "assoc/record.h"

#define BACKOFF_MIN_NS (100 * 1000000ULL)
#define BACKOFF_MAX_NS (30 * 1000000000ULL)
#define LOG_EVERY_NS   (60 * 1000000000ULL) /* a failing file write, logged again at most */
/* Unsent bytes kept for a slow unix socket reader; past this, lines are dropped. */
#define SOCK_PENDING_MAX (1 << 20)
/* The rate limiter: (sid, source) entries, least recently used dropped first. */
#define LIM_MAX 4096
#define LIM_KEY 64 /* an IPv6 address is 45 characters; longer keys are cut */

static const char *const out_names[DM_FEED_OUT_MAX] = {
    [DM_FEED_FILE] = "file",
    [DM_FEED_STDOUT] = "stdout",
    [DM_FEED_UNIX] = "unix_socket",
    [DM_FEED_SYSLOG] = "syslog",
};

/* dm_syslog_facility_names order: local0..local7, user, daemon. */
static const int facilities[] = {LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4,
				 LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7, LOG_USER,	 LOG_DAEMON};

/* A file or socket output that can go away and come back. */
struct conn {
	int fd;
	char path[DM_FEED_PATH_MAX]; /* "" = output off */
	uint64_t next_try_ns;
	uint64_t backoff_ns;
	bool down_logged;
	char *pending; /* unix socket: bytes accepted but not yet sent */
	size_t pending_len;
	off_t cut;		/* file: the size a torn line is cut back to; -1: none owed */
	bool refused;		/* file: refused as unsafe at its last open (lib/safefile.h) */
	uint64_t lost;		/* file: lines dropped since writing failed (for the "again" log) */
	uint64_t failed_log_ns; /* file: when a write failure was last logged */
};

struct lim {
	struct dm_lru_node node; /* found by (sid, key), least recently alerting first */
	uint32_t sid;
	uint32_t count; /* alerts let through in the window */
	uint64_t win_start_ns;
	uint64_t suppressed; /* held back since the last one let through */
	char key[LIM_KEY];
};

struct dm_feed {
	struct conn file, unix_sock, syslog;
	bool syslog_on;
	int facility; /* LOG_* */
	bool to_stdout;
	FILE *out;
	char syslog_path[DM_SOCKET_PATH_MAX];
	char hostname[256];
	uint32_t rate_count, rate_s;
	uint64_t fixed_now_ns;
	struct dm_lru lim;
	struct dm_feed_stats st;
};

const char *dm_feed_output_name(unsigned int o)
{
	return o < DM_FEED_OUT_MAX ? out_names[o] : "?";
}

static uint64_t now_ns(const struct dm_feed *f)
{
	return f->fixed_now_ns ? f->fixed_now_ns : dm_clock_now_ns();
}

static void conn_init(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->cut = -1;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->pending_len = 0;
}

static void conn_backoff(struct dm_feed *f, struct conn *c)
{
	c->backoff_ns = c->backoff_ns ? c->backoff_ns * 2 : BACKOFF_MIN_NS;
	if (c->backoff_ns > BACKOFF_MAX_NS)
		c->backoff_ns = BACKOFF_MAX_NS;
	c->next_try_ns = now_ns(f) + c->backoff_ns;
}

static void hostname_init(struct dm_feed *f)
{
	char *p;

	if (gethostname(f->hostname, sizeof(f->hostname) - 1) || !f->hostname[0])
		snprintf(f->hostname, sizeof(f->hostname), "-");
	/* RFC 5424 HOSTNAME: PRINTUSASCII, no spaces. */
	for (p = f->hostname; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			*p = '_';
}

/* The rate limiter's entries, found by (sid, source) in one bounded LRU (lib/lru.h). */

struct lim_key {
	uint32_t sid;
	char key[LIM_KEY];
};

static uint32_t lim_hash(const void *key)
{
	const struct lim_key *k = key;

	return dm_lru_hash_bytes(k->key, strlen(k->key), 2166136261u ^ k->sid); /* FNV-1a */
}

static bool lim_match(const struct dm_lru_node *n, const void *key)
{
	const struct lim *l = dm_container_of(n, struct lim, node);
	const struct lim_key *k = key;

	return l->sid == k->sid && !strcmp(l->key, k->key);
}

/* The least recently alerting (sid, source) goes; its suppressed count with it. */
static void lim_evicted(void *ctx, struct dm_lru_node *n)
{
	struct dm_feed *f = ctx;

	f->st.limiter_evictions++;
	free(dm_container_of(n, struct lim, node));
}

static const struct dm_lru_ops lim_ops = {
    .hash = lim_hash, .match = lim_match, .evict = lim_evicted};

struct dm_feed *dm_feed_new(void)
{
	struct dm_feed *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (dm_lru_init(&f->lim, &lim_ops, f, LIM_MAX)) {
		free(f);
		return NULL;
	}
	conn_init(&f->file);
	conn_init(&f->unix_sock);
	conn_init(&f->syslog);
	f->out = stdout;
	f->facility = LOG_LOCAL5;
	f->rate_count = 10;
	f->rate_s = 60;
	snprintf(f->syslog_path, sizeof(f->syslog_path), "/dev/log");
	hostname_init(f);
	return f;
}

static void lim_free_all(struct dm_feed *f)
{
	struct dm_lru_node *n, *tmp;

	dm_lru_for_each(&f->lim, n, tmp) {
		dm_lru_remove(&f->lim, n);
		free(dm_container_of(n, struct lim, node));
	}
	dm_lru_fini(&f->lim);
}

void dm_feed_free(struct dm_feed *f)
{
	if (!f)
		return;
	conn_close(&f->file);
	conn_close(&f->unix_sock);
	conn_close(&f->syslog);
	free(f->unix_sock.pending);
	lim_free_all(f);
	free(f);
}

/* ---- file ---------------------------------------------------------------- */

static int file_open(struct dm_feed *f)
{
	struct conn *c = &f->file;
	char msg[512];
	int err;

	conn_close(c);
	c->cut = -1;
	if (!c->path[0])
		return 0;
	err = dm_safe_parent_dir(c->path, 0750, msg, sizeof(msg));
	c->fd = err ? err : dm_safe_open(c->path, DM_SAFE_APPEND, 0640, msg, sizeof(msg));
	if (c->fd < 0) {
		err = c->fd;
		c->fd = -1;
		c->refused = err == -EPERM;
		f->st.out[DM_FEED_FILE].errors++;
		if (!c->down_logged)
			pr_warn("feed file: %s (lines are dropped until it opens)\n", msg);
		c->down_logged = true;
		conn_backoff(f, c);
		return err;
	}
	c->refused = false;
	c->backoff_ns = 0;
	f->st.out[DM_FEED_FILE].reconnects++;
	return 0;
}

/*
 * The whole line with one write() (O_APPEND keeps concurrent writers' lines
 * whole); *done: what went in before a write failed.
 */
static int write_all(int fd, const char *p, size_t n, size_t *done)
{
	ssize_t w;

	*done = 0;
	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= w;
		*done += w;
	}
	return 0;
}

/* A torn line is cut back off; false while it cannot be (nothing is written after it). */
static bool file_cut(struct dm_feed *f)
{
	struct conn *c = &f->file;

	if (c->cut < 0)
		return true;
	if (ftruncate(c->fd, c->cut)) {
		f->st.out[DM_FEED_FILE].errors++;
		return false;
	}
	c->cut = -1;
	f->st.out[DM_FEED_FILE].rolled_back++;
	return true;
}

/* A line that did not go in whole: the part that did is cut off, once logged. */
static void file_failed(struct dm_feed *f, int err, size_t done)
{
	struct dm_feed_out_stats *s = &f->st.out[DM_FEED_FILE];
	struct conn *c = &f->file;
	struct stat st;

	s->errors++;
	if (err == -ENOSPC || err == -EDQUOT)
		s->full++;
	/* Once, and again at most once a minute: a nearly full disk takes some lines, not all. */
	if (!c->down_logged &&
	    (!c->failed_log_ns || now_ns(f) - c->failed_log_ns >= LOG_EVERY_NS)) {
		pr_warn("feed file %s: %s (a line could not be written whole: nothing of it stays; "
			"lines are dropped until writing succeeds again)\n",
			c->path, strerror(-err));
		c->failed_log_ns = now_ns(f);
		c->down_logged = true;
	}
	if (!done)
		return;
	if (fstat(c->fd, &st) || st.st_size < (off_t)done) {
		/* Where the line began is unknown: nothing more is appended to this open file. */
		pr_warn("feed file %s: a partial line may remain (its size is unknown)\n", c->path);
		conn_close(c);
		conn_backoff(f, c);
		return;
	}
	c->cut = st.st_size - (off_t)done;
	file_cut(f); /* if it fails now, it is tried again before the next line */
}

static bool file_emit(struct dm_feed *f, const char *line, size_t n)
{
	struct dm_feed_out_stats *s = &f->st.out[DM_FEED_FILE];
	struct conn *c = &f->file;
	size_t done;
	int err;

	if (c->fd < 0 && now_ns(f) >= c->next_try_ns)
		file_open(f);
	if (c->fd < 0 || !file_cut(f)) {
		s->dropped++;
		c->lost++;
		return false;
	}
	err = write_all(c->fd, line, n, &done);
	if (err) {
		s->dropped++;
		c->lost++;
		file_failed(f, err, done);
		return false;
	}
	if (c->down_logged)
		pr_info("feed file %s: writing again (%llu lines were dropped)\n", c->path,
			(unsigned long long)c->lost);
	c->down_logged = false;
	c->lost = 0;
	s->lines++;
	return true;
}

/* ---- unix stream socket -------------------------------------------------- */

static int sock_connect(struct dm_feed *f, struct conn *c, int type, int idx)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int err;

	conn_close(c);
	/* config.c keeps socket paths under sizeof(sun_path); a longer one cannot connect. */
	memcpy(sa.sun_path, c->path, strnlen(c->path, sizeof(sa.sun_path) - 1));
	c->fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		conn_close(c);
		f->st.out[idx].errors++;
		if (!c->down_logged)
			pr_warn("feed %s %s: %s (retrying; lines are dropped meanwhile)\n",
				out_names[idx], c->path, strerror(-err));
		c->down_logged = true;
		conn_backoff(f, c);
		return err;
	}
	if (c->down_logged)
		pr_info("feed %s %s: connected\n", out_names[idx], c->path);
	c->down_logged = false;
	c->backoff_ns = 0;
	f->st.out[idx].reconnects++;
	return 0;
}

static size_t count_lines(const char *p, size_t n)
{
	const char *e = p + n;
	size_t k = 0;

	while (p < e && (p = memchr(p, '\n', e - p))) {
		k++;
		p++;
	}
	return k;
}

/* The peer went away: what it did not get is lost (and counted). */
static void sock_lost(struct dm_feed *f, int err)
{
	struct conn *c = &f->unix_sock;
	struct dm_feed_out_stats *s = &f->st.out[DM_FEED_UNIX];

	s->errors++;
	s->dropped += count_lines(c->pending, c->pending_len);
	pr_warn("feed unix_socket %s: %s (reconnecting)\n", c->path, strerror(-err));
	c->down_logged = true;
	conn_close(c);
	conn_backoff(f, c);
}

/* Send what is pending; 0 when all went, 1 when some stays, -errno when the peer is gone. */
static int sock_flush(struct dm_feed *f)
{
	struct conn *c = &f->unix_sock;
	ssize_t w;

	while (c->pending_len) {
		w = send(c->fd, c->pending, c->pending_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		f->st.out[DM_FEED_UNIX].lines += count_lines(c->pending, w);
		memmove(c->pending, c->pending + w, c->pending_len - w);
		c->pending_len -= w;
	}
	return 0;
}

static bool sock_keep(struct dm_feed *f, const char *p, size_t n)
{
	struct conn *c = &f->unix_sock;

	if (c->pending_len + n > SOCK_PENDING_MAX)
		return false;
	if (!c->pending) {
		c->pending = malloc(SOCK_PENDING_MAX);
		if (!c->pending)
			return false;
	}
	memcpy(c->pending + c->pending_len, p, n);
	c->pending_len += n;
	return true;
}

static bool sock_emit(struct dm_feed *f, const char *line, size_t n)
{
	struct conn *c = &f->unix_sock;
	struct dm_feed_out_stats *s = &f->st.out[DM_FEED_UNIX];
	ssize_t w = 0;
	int r;

	if (c->fd < 0 && now_ns(f) >= c->next_try_ns)
		sock_connect(f, c, SOCK_STREAM, DM_FEED_UNIX);
	if (c->fd < 0) {
		s->dropped++;
		return false;
	}
	r = sock_flush(f);
	if (r < 0) {
		sock_lost(f, r);
		s->dropped++;
		return false;
	}
	if (r == 0) {
		do
			w = send(c->fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			sock_lost(f, -errno);
			s->dropped++;
			return false;
		}
		if (w == (ssize_t)n) {
			s->lines++;
			return true;
		}
		if (w < 0)
			w = 0;
	}
	/* A line is never cut: its tail waits, or (buffer full) all of it is dropped. */
	if (sock_keep(f, line + w, n - w))
		return true;
	s->dropped++;
	if (w) /* a head already went: the stream must stay whole, so this cannot happen */
		sock_lost(f, -EIO);
	return false;
}

/* ---- syslog (RFC 5424 over a unix datagram socket) ------------------------ */

static bool syslog_emit(struct dm_feed *f, const char *json, size_t n, int severity)
{
	struct conn *c = &f->syslog;
	struct dm_feed_out_stats *s = &f->st.out[DM_FEED_SYSLOG];
	struct timespec ts;
	struct iovec iov[2];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	char head[400], t[40];
	struct tm tm;
	ssize_t w;
	int h, tries;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	/* <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG */
	h = snprintf(head, sizeof(head), "<%d>1 %s.%06ldZ %s dicomon %d - - ",
		     f->facility | (severity & 7), t, ts.tv_nsec / 1000, f->hostname,
		     (int)getpid());
	iov[0] = (struct iovec){head, (size_t)h};
	iov[1] = (struct iovec){(void *)json, n};
	for (tries = 0; tries < 2; tries++) {
		if (c->fd < 0 && (tries || now_ns(f) >= c->next_try_ns))
			sock_connect(f, c, SOCK_DGRAM, DM_FEED_SYSLOG);
		if (c->fd < 0)
			break;
		w = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w >= 0) {
			s->lines++;
			return true;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			break; /* syslogd is behind: drop, never wait */
		if (errno == EMSGSIZE) {
			s->errors++;
			break;
		}
		/* syslogd restarted (ECONNREFUSED, ENOTCONN): reconnect once now. */
		s->errors++;
		conn_close(c);
		if (tries)
			conn_backoff(f, c);
	}
	s->dropped++;
	return false;
}

/* ---- configuration -------------------------------------------------------- */

int dm_feed_configure(struct dm_feed *f, const struct dm_config *cfg)
{
	int err = 0, e;

	if (strcmp(f->file.path, cfg->feed_file)) {
		snprintf(f->file.path, sizeof(f->file.path), "%s", cfg->feed_file);
		f->file.next_try_ns = 0;
		f->file.down_logged = false;
		e = file_open(f);
		err = err ? err : e;
	}
	f->to_stdout = cfg->feed_stdout;
	if (strcmp(f->unix_sock.path, cfg->feed_unix_socket)) {
		conn_close(&f->unix_sock);
		snprintf(f->unix_sock.path, sizeof(f->unix_sock.path), "%s", cfg->feed_unix_socket);
		f->unix_sock.backoff_ns = f->unix_sock.next_try_ns = 0;
		f->unix_sock.down_logged = false;
		if (f->unix_sock.path[0]) {
			e = sock_connect(f, &f->unix_sock, SOCK_STREAM, DM_FEED_UNIX);
			err = err ? err : e;
		}
	}
	if (cfg->feed_syslog_facility >= 0 &&
	    (size_t)cfg->feed_syslog_facility < sizeof(facilities) / sizeof(facilities[0]))
		f->facility = facilities[cfg->feed_syslog_facility];
	if (cfg->feed_syslog != f->syslog_on) {
		f->syslog_on = cfg->feed_syslog;
		conn_close(&f->syslog);
		snprintf(f->syslog.path, sizeof(f->syslog.path), "%s",
			 f->syslog_on ? f->syslog_path : "");
		f->syslog.backoff_ns = f->syslog.next_try_ns = 0;
		if (f->syslog_on) {
			e = sock_connect(f, &f->syslog, SOCK_DGRAM, DM_FEED_SYSLOG);
			err = err ? err : e;
		}
	}
	f->rate_count = cfg->alert_rate_count;
	f->rate_s = cfg->alert_rate_s ? cfg->alert_rate_s : 1;
	return err;
}

int dm_feed_reopen(struct dm_feed *f)
{
	int err = 0;

	if (f->file.path[0])
		err = file_open(f);
	if (f->unix_sock.path[0] && f->unix_sock.fd < 0) {
		f->unix_sock.next_try_ns = 0;
		sock_connect(f, &f->unix_sock, SOCK_STREAM, DM_FEED_UNIX);
	}
	return err;
}

bool dm_feed_file_refused(const struct dm_feed *f)
{
	return f->file.path[0] && f->file.fd < 0 && f->file.refused;
}

bool dm_feed_active(const struct dm_feed *f)
{
	return f && (f->file.path[0] || f->to_stdout || f->unix_sock.path[0] || f->syslog_on);
}

bool dm_feed_owns_stdout(const struct dm_feed *f)
{
	return f && f->to_stdout;
}

void dm_feed_tick(struct dm_feed *f)
{
	struct conn *c = &f->unix_sock;
	int r;

	if (c->path[0] && c->fd < 0 && now_ns(f) >= c->next_try_ns)
		sock_connect(f, c, SOCK_STREAM, DM_FEED_UNIX);
	if (c->fd >= 0 && c->pending_len) {
		r = sock_flush(f);
		if (r < 0)
			sock_lost(f, r);
	}
	if (f->file.path[0] && f->file.fd < 0 && now_ns(f) >= f->file.next_try_ns)
		file_open(f);
}

int dm_feed_emit(struct dm_feed *f, json_object *rec, int severity)
{
	size_t n;
	char *line;
	int took = 0;

	if (!dm_feed_active(f))
		return 0;
	line = dm_eve_line(rec, &n);
	if (!line)
		return -ENOMEM;
	if (f->syslog_on)
		took += syslog_emit(f, line, n, severity);
	line[n++] = '\n'; /* dm_eve_line's NUL: the files and streams get lines */
	if (f->file.path[0])
		took += file_emit(f, line, n);
	if (f->unix_sock.path[0])
		took += sock_emit(f, line, n);
	if (f->to_stdout) {
		struct dm_feed_out_stats *s = &f->st.out[DM_FEED_STDOUT];

		if (fwrite(line, 1, n, f->out) != n || fflush(f->out)) {
			s->errors++;
			s->dropped++;
			clearerr(f->out);
		} else {
			s->lines++;
			took++;
		}
	}
	free(line);
	return took;
}

int dm_feed_syslog_severity(int alert_severity)
{
	return alert_severity <= 1 ? LOG_CRIT : alert_severity == 2 ? LOG_ERR : LOG_WARNING;
}

int dm_feed_dicom(struct dm_feed *f, const struct dm_rec *r, const char *ifname)
{
	json_object *o;
	int n;

	if (!dm_feed_active(f))
		return 0;
	o = dm_eve_dicom(r, ifname);
	if (!o)
		return -ENOMEM;
	f->st.records++;
	n = dm_feed_emit(f, o, LOG_INFO);
	json_object_put(o);
	return n;
}

/* ---- alert rate limit ----------------------------------------------------- */

static struct lim *lim_get(struct dm_feed *f, uint32_t sid, const char *key)
{
	struct lim_key k = {.sid = sid};
	struct dm_lru_node *n;
	struct lim *l;

	snprintf(k.key, sizeof(k.key), "%s", key ? key : "");
	n = dm_lru_find(&f->lim, &k);
	if (n) {
		dm_lru_touch(&f->lim, n);
		return dm_container_of(n, struct lim, node);
	}
	/* Full: the least recently alerting (sid, source) goes first (lim_evicted). */
	dm_lru_make_room(&f->lim);
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->sid = sid;
	memcpy(l->key, k.key, sizeof(k.key));
	dm_lru_insert(&f->lim, &l->node, &k);
	return l;
}

bool dm_feed_alert_allowed(struct dm_feed *f, uint32_t sid, const char *src_key, uint64_t now,
			   uint64_t *suppressed)
{
	uint64_t win = (uint64_t)f->rate_s * 1000000000ULL;
	struct lim *l;

	*suppressed = 0;
	if (!f->rate_count)
		return true;
	l = lim_get(f, sid, src_key);
	f->st.limiter_entries = dm_lru_count(&f->lim);
	if (!l)
		return true; /* no memory: let it through rather than lose it */
	/* Fixed windows starting at the first alert of each. */
	if (!l->win_start_ns || now - l->win_start_ns >= win) {
		l->win_start_ns = now ? now : 1;
		l->count = 0;
	}
	if (l->count >= f->rate_count) {
		l->suppressed++;
		f->st.alerts_suppressed++;
		return false;
	}
	l->count++;
	*suppressed = l->suppressed;
	l->suppressed = 0;
	return true;
}

int dm_feed_alert(struct dm_feed *f, const struct dm_rec *r, const char *ifname,
		  const struct dm_alert *a)
{
	json_object *o, *d;
	uint64_t suppressed;
	int n;

	if (!dm_feed_alert_allowed(f, a->sid, a->src_key, now_ns(f), &suppressed)) {
		json_object_put(a->details);
		return 0;
	}
	f->st.alerts++;
	if (!dm_feed_active(f)) {
		json_object_put(a->details);
		return 1;
	}
	o = dm_eve_alert(r, ifname, a);
	if (!o)
		return -ENOMEM;
	if (suppressed && json_object_object_get_ex(o, "dicom", &d))
		json_object_object_add(d, "suppressed", json_object_new_int64(suppressed));
	n = dm_feed_emit(f, o, dm_feed_syslog_severity(a->severity));
	json_object_put(o);
	return n < 0 ? n : 1;
}

const struct dm_feed_stats *dm_feed_stats(const struct dm_feed *f)
{
	return &f->st;
}

void dm_feed_set_syslog_path(struct dm_feed *f, const char *path)
{
	snprintf(f->syslog_path, sizeof(f->syslog_path), "%s", path);
	if (f->syslog_on) {
		conn_close(&f->syslog);
		snprintf(f->syslog.path, sizeof(f->syslog.path), "%s", path);
		f->syslog.next_try_ns = 0;
	}
}

void dm_feed_set_stdout(struct dm_feed *f, FILE *out)
{
	f->out = out;
}

void dm_feed_set_clock(struct dm_feed *f, uint64_t mono_ns)
{
	f->fixed_now_ns = mono_ns;
}
