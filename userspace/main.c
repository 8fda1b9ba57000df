// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dicomon: command line and event loop. One epoll set holds the signalfd,
 * a timerfd for periodic counters and the ring buffer; no work happens in
 * signal handlers and nothing sleeps.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <json-c/json.h>
#include <bpf/libbpf.h>
#include "config.h"
#include "events.h"
#include "loader.h"
#include "log.h"
#include "stats.h"

/* Exit codes (documented in the README). */
#define EXIT_USAGE   2 /* bad command line */
#define EXIT_BPF     3 /* cannot load or attach */
#define EXIT_RUNTIME 4 /* event loop failure */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dicomon run -i IFACE [-i IFACE ...] [options]\n"
		"       dicomon version\n"
		"\n"
		"Watch DICOM associations crossing the interfaces: XDP on ingress (native,\n"
		"falling back to generic), optionally TC on ingress and egress.\n"
		"\n"
		"Options of run:\n"
		"  -i, --iface IFACE        interface to attach to (repeatable, up to %d)\n"
		"  -p, --ports LIST         DICOM ports for mid-stream pickup and TLS\n"
		"                           (default %s; ranges like 2000-2010)\n"
		"      --xdp-mode MODE      auto (default), native, generic or off\n"
		"      --tc-ingress         also attach TC on ingress (use with --xdp-mode off\n"
		"                           where XDP is unwanted)\n"
		"      --tc-egress          also attach TC on egress (host's own traffic)\n"
		"      --no-vlan-meta       do not load the device-bound XDP copy that reads\n"
		"                           VLAN tags stripped by the NIC\n"
		"      --flow-slots N       association slots (power of two, default 16384)\n"
		"      --overflow N         LRU overflow entries (default 4096)\n"
		"      --ringbuf-bytes N    ring buffer size (power of two, default 4194304)\n"
		"      --dimse-snap N       bytes of a DIMSE command PDU shipped (64..2048,\n"
		"                           default 512)\n"
		"      --no-midstream       do not pick up associations already in progress\n"
		"      --no-any-port        detect A-ASSOCIATE-RQ on DICOM ports only\n"
		"      --no-vlan-key        VLAN ids are not part of the association key (a\n"
		"                           router between VLANs sees each direction on its own)\n"
		"      --stats-interval S   print counters every S seconds (default: at exit)\n"
		"      --json               events and counters as JSON lines\n"
		"  -v, --verbose            more logging (-vv: debug, libbpf and verifier)\n"
		"  -h, --help               this text\n"
		"\n"
		"Examples:\n"
		"  dicomon run -i eth0 -i eth1\n"
		"  dicomon run -i eth0 --ports 104,11112,2762,4242,8104 --json\n"
		"  dicomon run -i br0 --xdp-mode off --tc-ingress --tc-egress\n"
		"\n"
		"Exit codes: 0 ok, 2 usage, 3 BPF load/attach failed, 4 runtime failure.\n",
		DM_MAX_IFACES - 1, DM_DEFAULT_PORTS);
}

enum {
	OPT_XDP_MODE = 256,
	OPT_TC_INGRESS,
	OPT_TC_EGRESS,
	OPT_NO_VLAN_META,
	OPT_FLOW_SLOTS,
	OPT_OVERFLOW,
	OPT_RINGBUF,
	OPT_DIMSE_SNAP,
	OPT_NO_MIDSTREAM,
	OPT_NO_ANY_PORT,
	OPT_NO_VLAN_KEY,
	OPT_STATS_INTERVAL,
	OPT_JSON,
};

static const struct option run_opts[] = {
    {"iface", required_argument, NULL, 'i'},
    {"ports", required_argument, NULL, 'p'},
    {"xdp-mode", required_argument, NULL, OPT_XDP_MODE},
    {"tc-ingress", no_argument, NULL, OPT_TC_INGRESS},
    {"tc-egress", no_argument, NULL, OPT_TC_EGRESS},
    {"no-vlan-meta", no_argument, NULL, OPT_NO_VLAN_META},
    {"flow-slots", required_argument, NULL, OPT_FLOW_SLOTS},
    {"overflow", required_argument, NULL, OPT_OVERFLOW},
    {"ringbuf-bytes", required_argument, NULL, OPT_RINGBUF},
    {"dimse-snap", required_argument, NULL, OPT_DIMSE_SNAP},
    {"no-midstream", no_argument, NULL, OPT_NO_MIDSTREAM},
    {"no-any-port", no_argument, NULL, OPT_NO_ANY_PORT},
    {"no-vlan-key", no_argument, NULL, OPT_NO_VLAN_KEY},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"json", no_argument, NULL, OPT_JSON},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "dicomon: invalid value '%s' for --%s: %s\n", val, opt, why);
	return -EINVAL;
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static int parse_run(int argc, char **argv, struct dm_config *cfg)
{
	const char *bad;
	int c, verbose = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:p:vh", run_opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (cfg->n_ifaces >= DM_MAX_IFACES - 1)
				return bad_value("iface", optarg, "too many interfaces");
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				return bad_value("iface", optarg, "not an interface name");
			cfg->ifaces[cfg->n_ifaces++] = optarg;
			break;
		case 'p':
			if (dm_parse_ports(optarg, cfg->port_map, &bad))
				return bad_value(
				    "ports", optarg,
				    "expected ports 1-65535 or ranges A-B, comma separated");
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "auto"))
				cfg->xdp_mode = DM_XDP_AUTO;
			else if (!strcmp(optarg, "native"))
				cfg->xdp_mode = DM_XDP_NATIVE;
			else if (!strcmp(optarg, "generic"))
				cfg->xdp_mode = DM_XDP_GENERIC;
			else if (!strcmp(optarg, "off"))
				cfg->xdp_mode = DM_XDP_OFF;
			else
				return bad_value("xdp-mode", optarg,
						 "expected auto, native, generic or off");
			break;
		case OPT_TC_INGRESS:
			cfg->tc_ingress = true;
			break;
		case OPT_TC_EGRESS:
			cfg->tc_egress = true;
			break;
		case OPT_NO_VLAN_META:
			cfg->vlan_meta = false;
			break;
		case OPT_FLOW_SLOTS:
			if (dm_parse_u32(optarg, 64, 1u << 22, &cfg->flow_slots) ||
			    !pow2(cfg->flow_slots))
				return bad_value("flow-slots", optarg,
						 "expected a power of two, 64..4194304");
			break;
		case OPT_OVERFLOW:
			if (dm_parse_u32(optarg, 16, 1u << 22, &cfg->overflow_entries))
				return bad_value("overflow", optarg, "expected 16..4194304");
			break;
		case OPT_RINGBUF:
			if (dm_parse_u32(optarg, 1u << 16, 1u << 30, &cfg->ringbuf_bytes) ||
			    !pow2(cfg->ringbuf_bytes))
				return bad_value("ringbuf-bytes", optarg,
						 "expected a power of two, 65536..1073741824");
			break;
		case OPT_DIMSE_SNAP:
			if (dm_parse_u32(optarg, 64, DM_PIECE_MAX, &cfg->dimse_snap))
				return bad_value("dimse-snap", optarg, "expected 64..2048");
			break;
		case OPT_NO_MIDSTREAM:
			cfg->midstream = false;
			break;
		case OPT_NO_ANY_PORT:
			cfg->any_port_rq = false;
			break;
		case OPT_NO_VLAN_KEY:
			cfg->vlan_key = false;
			break;
		case OPT_STATS_INTERVAL:
			if (dm_parse_u32(optarg, 1, 86400, &cfg->stats_interval_s))
				return bad_value("stats-interval", optarg,
						 "expected 1..86400 seconds");
			break;
		case OPT_JSON:
			cfg->json = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dicomon: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->n_ifaces) {
		fprintf(stderr, "dicomon: run needs at least one -i IFACE\n");
		return -EINVAL;
	}
	if (cfg->xdp_mode == DM_XDP_OFF && !cfg->tc_ingress && !cfg->tc_egress) {
		fprintf(stderr, "dicomon: --xdp-mode off needs --tc-ingress or --tc-egress\n");
		return -EINVAL;
	}
	dm_log_set_level(DM_LOG_WARN + verbose);
	return 0;
}

static void print_ready(const struct dm_loader *l, bool json)
{
	json_object *o, *ifs, *i;
	int n;

	if (!json) {
		for (n = 0; n < l->n_ifaces; n++)
			printf("dicomon: watching %s (xdp %s)\n", l->ifaces[n].name,
			       l->ifaces[n].xdp_mode ? l->ifaces[n].xdp_mode : "off");
		fflush(stdout);
		return;
	}
	o = json_object_new_object();
	ifs = json_object_new_array();
	json_object_object_add(o, "event", json_object_new_string("ready"));
	for (n = 0; n < l->n_ifaces; n++) {
		i = json_object_new_object();
		json_object_object_add(i, "name", json_object_new_string(l->ifaces[n].name));
		json_object_object_add(
		    i, "xdp",
		    l->ifaces[n].xdp_mode ? json_object_new_string(l->ifaces[n].xdp_mode) : NULL);
		json_object_array_add(ifs, i);
	}
	json_object_object_add(o, "interfaces", ifs);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	fflush(stdout);
}

static int add_fd(int ep, int fd)
{
	struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) ? -errno : 0;
}

/* The BPF side wakes us only for a backlog; between wakeups we drain on this tick. */
#define DRAIN_INTERVAL_NS (100 * 1000 * 1000)

static int timer_fd(long sec, long nsec)
{
	struct itimerspec its = {
	    .it_value = {sec, nsec},
	    .it_interval = {sec, nsec},
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int event_loop(struct dm_loader *l, struct dm_events *ev, const struct dm_config *cfg)
{
	struct ring_buffer *rb = NULL;
	struct signalfd_siginfo si;
	struct epoll_event evs[4];
	int ep = -1, sfd = -1, tfd = -1, dfd = -1, rfd, n, i, err = 0;
	bool stop = false;
	uint64_t ticks;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	rb = ring_buffer__new(dm_loader_events_fd(l), dm_events_handle, ev, NULL);
	dfd = timer_fd(0, DRAIN_INTERVAL_NS);
	if (cfg->stats_interval_s)
		tfd = timer_fd(cfg->stats_interval_s, 0);
	if (sfd < 0 || ep < 0 || !rb || dfd < 0 || (cfg->stats_interval_s && tfd < 0)) {
		err = -errno;
		pr_warn("cannot set up the event loop: %s\n", strerror(errno));
		goto out;
	}
	rfd = ring_buffer__epoll_fd(rb);
	err = add_fd(ep, sfd);
	if (!err)
		err = add_fd(ep, rfd);
	if (!err)
		err = add_fd(ep, dfd);
	if (!err && tfd >= 0)
		err = add_fd(ep, tfd);
	if (err) {
		pr_warn("cannot set up the event loop: %s\n", strerror(-err));
		goto out;
	}
	print_ready(l, cfg->json);
	while (!stop) {
		n = epoll_wait(ep, evs, 4, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_warn("epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == rfd || evs[i].data.fd == dfd) {
				if (evs[i].data.fd == dfd && read(dfd, &ticks, sizeof(ticks)) < 0)
					continue;
				if (ring_buffer__consume(rb) < 0)
					pr_warn("ring buffer dm_events: consume failed\n");
			} else if (evs[i].data.fd == sfd) {
				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						dm_stats_print(l, dm_events_stats(ev), cfg->json,
							       stdout);
					else
						stop = true;
				}
			} else if (evs[i].data.fd == tfd) {
				if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
					dm_stats_print(l, dm_events_stats(ev), cfg->json, stdout);
			}
		}
	}
	/* What is still in the ring belongs to this run. */
	ring_buffer__consume(rb);
out:
	ring_buffer__free(rb);
	if (dfd >= 0)
		close(dfd);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (ep >= 0)
		close(ep);
	return err;
}

static int cmd_run(int argc, char **argv)
{
	struct dm_config cfg;
	struct dm_loader l;
	struct dm_events *ev;
	int err;

	dm_config_defaults(&cfg);
	if (parse_run(argc, argv, &cfg))
		return EXIT_USAGE;
	dm_log_init_libbpf();
	if (dm_loader_load(&l, &cfg))
		return EXIT_BPF;
	if (dm_loader_attach(&l, &cfg)) {
		dm_loader_close(&l);
		return EXIT_BPF;
	}
	ev = dm_events_new(&l, cfg.json, stdout);
	if (!ev) {
		dm_loader_close(&l);
		return EXIT_RUNTIME;
	}
	err = event_loop(&l, ev, &cfg);
	dm_stats_print(&l, dm_events_stats(ev), cfg.json, stdout);
	dm_loader_close(&l);
	dm_events_free(ev);
	return err ? EXIT_RUNTIME : 0;
}

static int cmd_version(void)
{
	struct utsname u;

	uname(&u);
	printf("dicomon %s (libbpf %s, kernel %s)\n", DICOMON_VERSION, libbpf_version_string(),
	       u.release);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version"))
		return cmd_version();
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "dicomon: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
