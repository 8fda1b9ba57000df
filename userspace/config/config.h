/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_CONFIG_H
#define __DM_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dicomon.h"

#define DM_DEFAULT_PORTS	 "104,11112,2762,4242"
#define DM_DEFAULT_WEB_PORTS	 "80,8042,8080"
#define DM_DEFAULT_PIN_ROOT	 "/sys/fs/bpf/dicomon"
#define DM_DEFAULT_STATUS_SOCKET "/run/dicomon/status.sock"
/* Prometheus endpoint: localhost only unless configured */
#define DM_DEFAULT_METRICS_LISTEN "127.0.0.1:9479"
#define DM_DEFAULT_CONFIG	 "/etc/dicomon/dicomon.yaml"
#define DM_PIN_ROOT_MAX		 200 /* leaves room for the pin names below it */
#define DM_SOCKET_PATH_MAX	 108 /* sizeof(sockaddr_un.sun_path) */
#define DM_FEED_PATH_MAX	 256 /* feed.file */
#define DM_LIST_MAX		 1024 /* a LIST key's text: "10.0.0.0/8,fc00::/7" */
/* rules.disabled: dicomon's signature ids (detect/rules.h numbers the rules in it) */
#define DM_SID_MIN		 9100000
#define DM_SID_MAX		 9199999
/* Distinct values a rule counts (detect/policy.h): the limit of rules.*_called, scan_targets */
#define DM_DISTINCT_CAP		 32

enum dm_xdp_mode {
	DM_XDP_AUTO = 0, /* native, falling back to generic with a warning */
	DM_XDP_NATIVE,
	DM_XDP_GENERIC,
	DM_XDP_OFF,
	DM_XDP_MODE_MAX,
};

enum dm_tc_mode {
	DM_TC_AUTO = 0, /* tcx where the kernel has it (6.6+), else a clsact filter */
	DM_TC_TCX,
	DM_TC_CLSACT,
	DM_TC_MODE_MAX,
};

/*
 * One configured interface. The hook fields are -1 where the interface
 * inherits attach.* (the top-level settings); dm_iface_hooks() resolves them.
 */
struct dm_iface_cfg {
	char name[IF_NAMESIZE];
	int8_t xdp_mode; /* enum dm_xdp_mode or -1 */
	int8_t tc_ingress;
	int8_t tc_egress;
	int8_t vlan_meta;
	int line; /* line in the config file, 0 = command line */
};

/* What an interface gets once per-interface and top-level settings are merged. */
struct dm_hooks {
	enum dm_xdp_mode xdp_mode;
	bool tc_ingress;
	bool tc_egress;
	bool vlan_meta;
};

/*
 * Everything the loader and the daemon can be told; one defaults struct.
 * Each field a config key sets is listed in dm_keys[] (config.c) with its
 * YAML name, type and limits; the command line sets the same keys.
 */
struct dm_config {
	bool replay; /* not a key: `dicomon replay` (its program only, the capture's clock) */
	struct dm_iface_cfg ifaces[DM_MAX_IFACES - 1];
	int n_ifaces;
	/* attach.* */
	enum dm_xdp_mode xdp_mode;
	enum dm_tc_mode tc_mode;
	bool tc_ingress; /* TC on ingress (instead of or besides XDP) */
	bool tc_egress;	 /* TC on egress */
	bool vlan_meta;	 /* device-bound XDP copy asking the driver for stripped VLAN tags */
	/* detection.* (the BPF side's .rodata) */
	uint64_t port_map[DM_PORT_WORDS];
	uint64_t web_port_map[DM_PORT_WORDS]; /* HTTP (DICOMweb) ports, at most DM_WEB_PORTS */
	uint32_t ctl_max;
	uint32_t dimse_snap;
	uint32_t max_pdu_len;
	uint32_t idle_reclaim_s;
	uint32_t candidate_s; /* candidates held this long; 0: no candidates */
	uint32_t source_rate;  /* new associations/RQ candidates a second per source; 0: none */
	uint32_t source_burst; /* ... and how many at once */
	bool any_port_rq;
	bool midstream;
	bool tls;
	bool dimse;
	bool vlan_key; /* VLAN ids in the association key (off for routers between VLANs) */
	/* maps.* (sizes: fixed once the maps exist) */
	uint32_t flow_slots; /* power of two */
	uint32_t overflow_entries;
	uint32_t ringbuf_bytes; /* power of two, >= page size */
	uint32_t candidate_entries;
	/* state.* */
	char pin_root[DM_PIN_ROOT_MAX]; /* bpffs directory of the pins */
	bool pin_links;			/* attachments outlive the daemon */
	bool detach_on_exit;		/* SIGINT/SIGTERM detach (else leave pinned links) */
	/* output.* */
	bool json;		   /* events and stats as JSON lines on stdout */
	uint32_t stats_interval_s; /* 0 = counters only at exit */
	int log_level;		   /* enum dm_log_level */
	/* table.*: read by the association table and `dicomon status` */
	uint32_t table_max_assoc;
	uint32_t table_keep_finished_s;
	uint32_t table_max_halfopen;   /* per source address; 0 = no limit */
	uint32_t table_idle_timeout_s; /* 0 = never */
	char status_socket[DM_SOCKET_PATH_MAX];
	/* feed.* and alerts.*: the EVE JSON feed (feed.c); all live on SIGHUP */
	char feed_file[DM_FEED_PATH_MAX]; /* "" = no file */
	char evidence_dir[DM_FEED_PATH_MAX]; /* "" = no evidence pcaps */
	uint32_t evidence_packets;	     /* packets kept per DICOM association */
	bool feed_stdout;		  /* EVE lines instead of the native event lines */
	char feed_unix_socket[DM_SOCKET_PATH_MAX]; /* "" = none */
	bool feed_syslog;
	int feed_syslog_facility;  /* index in dm_syslog_facility_names */
	uint32_t alert_rate_count; /* alerts per (signature_id, source) per window; 0 = no limit */
	uint32_t alert_rate_s;
	/* policy.* and rules.*: the detection rules (rules.c); all live on SIGHUP */
	char imaging_networks[DM_LIST_MAX]; /* CIDRs, comma separated */
	char trusted_networks[DM_LIST_MAX];
	bool require_tls;
	uint64_t tls_ports[DM_PORT_WORDS];
	char ae_allowlist[DM_FEED_PATH_MAX]; /* "" = none (learn, or rule 4 off) */
	uint32_t learn_s;
	uint32_t enum_rejects, enum_called_aes, enum_s;
	uint32_t scan_targets, scan_s, scan_silent;
	uint32_t any_ae_called, any_ae_s;
	uint32_t find_results_max, subops_max;
	uint32_t abort_storm, abort_s;
	char rules_disabled[DM_LIST_MAX]; /* signature ids, comma separated */
	/* metrics.*: the Prometheus endpoint (metrics.c) */
	char metrics_listen[DM_LIST_MAX]; /* ADDRESS:PORT list, "" = no endpoint */
	char metrics_web_config[DM_FEED_PATH_MAX]; /* exporter-toolkit web config, "" = none */
	unsigned int metrics_per_address;	   /* connections one client address may hold */
};

enum dm_key_type {
	DM_KT_BOOL,
	DM_KT_U32,
	DM_KT_ENUM,
	DM_KT_PORTS,
	DM_KT_PATH,
	DM_KT_LIST, /* comma-separated text; each item checked by dm_key.check */
};

#define DM_KF_POW2    0x1 /* U32 must be a power of two */
#define DM_KF_RESTART 0x2 /* cannot change on SIGHUP: needs a restart */
#define DM_KF_EMPTY   0x4 /* PATH may be "" (off) */

/*
 * One config key: "section.name" in YAML, a field of struct dm_config, and
 * what the docs say of it (keys.c has the table; keydoc.c renders it).
 */
struct dm_key {
	const char *name;
	enum dm_key_type type;
	size_t off;
	size_t size; /* PATH, LIST: buffer size */
	uint32_t min, max; /* U32: limits; PORTS: max = most ports (0: no limit) */
	unsigned int flags;
	const char *const *names; /* ENUM: value names, NULL-terminated */
	int (*check)(const char *item, char *why, size_t whylen); /* LIST: one item */
	const char *def;  /* the default, as dm_key_set() takes it */
	const char *what; /* LIST: what an item is ("CIDRs") */
	const char *note; /* how a reload applies a live key ("re-attach"), or NULL */
	const char *help; /* what it does: `code` and [text](link) as in markdown */
};

extern const struct dm_key dm_keys[];
extern const size_t dm_n_keys;
/* Section names of dm_keys[], NULL-terminated (plus "interfaces", a list). */
extern const char *const dm_sections[];

void dm_config_defaults(struct dm_config *cfg);
const struct dm_key *dm_key_find(const char *name);
/*
 * Set key k from its text form ("true", "512", "104,2762", "native"). Returns
 * 0, or -EINVAL with a reason in why ("expected a power of two, 64..4194304").
 */
int dm_key_set(struct dm_config *cfg, const struct dm_key *k, const char *val, char *why,
	       size_t whylen);
/* The value of k in cfg as text (the form dm_key_set takes). */
void dm_key_format(const struct dm_config *cfg, const struct dm_key *k, char *buf, size_t len);
bool dm_key_equal(const struct dm_config *a, const struct dm_config *b, const struct dm_key *k);
void dm_key_copy(struct dm_config *dst, const struct dm_config *src, const struct dm_key *k);
/* "yes"/"true"/"on"/"no"/"false"/"off"; returns 0/1, or -EINVAL. */
int dm_parse_bool(const char *s);
/* Index of s in a NULL-terminated name table, or -EINVAL. */
int dm_parse_enum(const char *s, const char *const *names);

/* Append an interface (no per-interface settings); -EEXIST, -E2BIG or -EINVAL. */
int dm_config_add_iface(struct dm_config *cfg, const char *name, int line);
/* Hooks of cfg->ifaces[i] after inheritance from attach.*. */
void dm_iface_hooks(const struct dm_config *cfg, int i, struct dm_hooks *out);
/*
 * Checks across keys (at least one interface, each with a hook). Returns 0 or
 * -EINVAL with the message in err (naming the key and, if known, the line).
 */
int dm_config_check(const struct dm_config *cfg, const char *file, char *err, size_t errlen);

/* "104,11112,2000-2010": returns 0 or -EINVAL, with *bad pointing at the offending text. */
int dm_parse_ports(const char *list, uint64_t map[DM_PORT_WORDS], const char **bad);
/* The port map as "104,2000-2010,11112" (truncated with "..." if len is short). */
void dm_format_ports(const uint64_t map[DM_PORT_WORDS], char *buf, size_t len);
/* Strict decimal u32 in [min, max]; returns 0 or -EINVAL / -ERANGE. */
int dm_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Fill the BPF side's read-only block from cfg (hash_seed: a fresh random one). */
void dm_config_to_bpf(const struct dm_config *cfg, struct dm_bpf_config *bpf);
/* Ports set in a port bitmap (detection.web_ports holds at most DM_WEB_PORTS). */
unsigned int dm_ports_count(const uint64_t map[DM_PORT_WORDS]);

extern const char *const dm_xdp_mode_names[];
extern const char *const dm_tc_mode_names[];
/* feed.syslog_facility: local0..local7, user, daemon (feed.c maps them to LOG_*). */
extern const char *const dm_syslog_facility_names[];

#endif /* __DM_CONFIG_H */
