// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <stddef.h>
#include "dicomon.h"
#include "lib/names.h"

#define NAME_FN(fn, table)                                                                         \
	const char *fn(unsigned int v)                                                             \
	{                                                                                          \
		_Static_assert(sizeof(table) > 0, #table);                                         \
		if (v >= sizeof(table) / sizeof(table[0]) || !table[v])                            \
			return "?";                                                                \
		return table[v];                                                                   \
	}

static const char *const pdu_names[DM_PDU_MAX] = {
    [DM_PDU_INVALID] = "invalid",	  [DM_PDU_ASSOC_RQ] = "A-ASSOCIATE-RQ",
    [DM_PDU_ASSOC_AC] = "A-ASSOCIATE-AC", [DM_PDU_ASSOC_RJ] = "A-ASSOCIATE-RJ",
    [DM_PDU_P_DATA] = "P-DATA-TF",	  [DM_PDU_RELEASE_RQ] = "A-RELEASE-RQ",
    [DM_PDU_RELEASE_RP] = "A-RELEASE-RP", [DM_PDU_ABORT] = "A-ABORT",
};

static const char *const class_names[DM_CLASS_MAX] = {
    [DM_CLASS_DICOM] = "dicom",		[DM_CLASS_DICOM_TLS] = "dicom_tls",
    [DM_CLASS_TCP_OTHER] = "tcp_other", [DM_CLASS_IP_OTHER] = "ip_other",
    [DM_CLASS_NON_IP] = "non_ip",
};

static const char *const dir_names[DM_DIR_MAX] = {
    [DM_DIR_ORIG] = "orig",
    [DM_DIR_REPLY] = "reply",
};

static const char *const transport_names[DM_TRANSPORT_MAX] = {
    [DM_TRANSPORT_UNKNOWN] = "unknown",
    [DM_TRANSPORT_CLEARTEXT] = "cleartext",
    [DM_TRANSPORT_TLS] = "tls",
};

static const char *const state_names[DM_STATE_MAX] = {
    [DM_STATE_UNKNOWN] = "unknown",
    [DM_STATE_REQUESTED] = "requested",
    [DM_STATE_ACCEPTED] = "accepted",
    [DM_STATE_REJECTED] = "rejected",
    [DM_STATE_RELEASING] = "releasing",
    [DM_STATE_RELEASED] = "released",
    [DM_STATE_ABORTED] = "aborted",
    [DM_STATE_TLS_HELLO] = "tls_hello",
    [DM_STATE_TLS_ESTABLISHED] = "tls_established",
};

static const char *const assoc_counter_names[DM_ASSOC_MAX] = {
    [DM_ASSOC_NEW_CLEARTEXT] = "new_cleartext",
    [DM_ASSOC_NEW_TLS] = "new_tls",
    [DM_ASSOC_NEW_MIDSTREAM] = "new_midstream",
    [DM_ASSOC_ACCEPTED] = "accepted",
    [DM_ASSOC_REJECTED] = "rejected",
    [DM_ASSOC_RELEASED] = "released",
    [DM_ASSOC_ABORTED] = "aborted",
    [DM_ASSOC_ENDED] = "ended",
    [DM_ASSOC_EVICTED] = "evicted",
};

static const char *const err_names[DM_ERR_MAX] = {
    [DM_ERR_ETH_TRUNC] = "eth_truncated",
    [DM_ERR_VLAN_TRUNC] = "vlan_truncated",
    [DM_ERR_VLAN_TOO_MANY] = "vlan_too_many_tags",
    [DM_ERR_IP4_TRUNC] = "ipv4_truncated",
    [DM_ERR_IP4_BAD_HDR] = "ipv4_bad_header",
    [DM_ERR_IP6_TRUNC] = "ipv6_truncated",
    [DM_ERR_IP6_EXT_LIMIT] = "ipv6_ext_limit",
    [DM_ERR_TCP_TRUNC] = "tcp_truncated",
    [DM_ERR_TCP_BAD_DOFF] = "tcp_bad_data_offset",
    [DM_ERR_PDU_BAD_TYPE] = "pdu_bad_type",
    [DM_ERR_PDU_BAD_LEN] = "pdu_bad_length",
    [DM_ERR_PDV_BAD] = "pdv_bad",
    [DM_ERR_TLS_BAD] = "tls_bad_hello",
};

static const char *const counter_names[DM_CNT_MAX] = {
    [DM_CNT_IP_FRAGMENT] = "ip_fragments",
    [DM_CNT_VLAN_OFFLOAD] = "vlan_offload_tags",
    [DM_CNT_MIDSTREAM] = "midstream_pickups",
    [DM_CNT_RESYNC] = "resyncs",
    [DM_CNT_DESYNC] = "desyncs",
    [DM_CNT_GAP] = "gaps",
    [DM_CNT_RETRANSMIT] = "retransmits",
    [DM_CNT_PARTIAL_RETRANSMIT] = "partial_retransmits",
    [DM_CNT_FLOW_INSERT] = "flow_inserts",
    [DM_CNT_FLOW_INSERT_FAIL] = "flow_insert_failures",
    [DM_CNT_FLOW_OVERFLOW] = "flow_overflow_inserts",
    [DM_CNT_FLOW_EVICT] = "flow_evictions",
    [DM_CNT_RINGBUF_FAIL] = "ringbuf_reserve_failures",
    [DM_CNT_EVENTS] = "events",
    [DM_CNT_CTL_TRUNCATED] = "control_pdus_truncated",
    [DM_CNT_WALK_LIMIT] = "pdu_walk_limit",
    [DM_CNT_RQ_NOT_PRINTABLE] = "rq_not_printable",
    [DM_CNT_DIMSE_COMMANDS] = "dimse_commands",
    [DM_CNT_TLS_HELLO] = "tls_hellos",
    [DM_CNT_HTTP_REQUESTS] = "http_requests",
    [DM_CNT_EVIDENCE] = "evidence_packets",
    [DM_CNT_EVIDENCE_YIELD] = "evidence_yielded",
    [DM_CNT_CAND_NEW] = "candidates",
    [DM_CNT_CAND_SEGMENTS] = "candidate_segments",
    [DM_CNT_CAND_PROMOTED] = "candidates_promoted",
    [DM_CNT_CAND_HTTP] = "candidates_http",
    [DM_CNT_CAND_DROPPED] = "candidates_dropped",
    [DM_CNT_CAND_EXPIRED] = "candidates_expired",
    [DM_CNT_CAND_FAIL] = "candidate_failures",
    [DM_CNT_CAND_REMOVED] = "candidates_removed",
    [DM_CNT_OVERLAP_CONFLICT] = "overlap_conflicts",
    [DM_CNT_IP_FRAG_FIRST] = "ip_first_fragments",
    [DM_CNT_IP_FRAG_PLACED] = "ip_fragments_placed",
    [DM_CNT_ANOMALIES] = "anomalies",
    [DM_CNT_HTTP_CONT] = "http_continuations",
    [DM_CNT_OOO_SHIPPED] = "out_of_order_bytes_shipped",
    [DM_CNT_OVERFLOW_REMOVED] = "overflow_entries_removed",
    [DM_CNT_FRAG_NEW] = "fragment_entries",
    [DM_CNT_FRAG_REMOVED] = "fragment_entries_removed",
    [DM_CNT_SRC_NEW] = "source_entries",
    [DM_CNT_SRC_UNTRACKED] = "source_untracked",
    [DM_CNT_SRC_LIMITED] = "source_limited",
    [DM_CNT_SRC_REFUNDED] = "source_refunded",
};

static const char *const anomaly_names[DM_AN_MAX] = {
    [DM_AN_PDU_TYPE] = "pdu_type",
    [DM_AN_PDU_LENGTH] = "pdu_length",
    [DM_AN_PDV_LENGTH] = "pdv_length",
    [DM_AN_PDV_HEADER] = "pdv_header",
    [DM_AN_GAP] = "gap",
    [DM_AN_HEADER_LOST] = "header_lost",
    [DM_AN_RESYNC] = "resync",
    [DM_AN_WALK_LIMIT] = "walk_limit",
    [DM_AN_CTL_TRUNCATED] = "control_pdu_truncated",
    [DM_AN_IP_FRAGMENT] = "ip_fragments",
    [DM_AN_OVERLAP] = "overlap_conflict",
    [DM_AN_RING_LOST] = "ring_buffer_lost",
};

static const char *const hook_names[DM_HOOK_MAX] = {
    [DM_HOOK_XDP] = "xdp",
    [DM_HOOK_TC_INGRESS] = "tc_ingress",
    [DM_HOOK_TC_EGRESS] = "tc_egress",
};

/*
 * The type label of dicomon_events_consumed_total and the "event" of --json lines
 * (but the line of a DICOMweb request, once parsed, is "dicomweb").
 */
static const char *const event_names[DM_EV_MAX] = {
    [DM_EV_PDU] = "pdu",	   [DM_EV_DIMSE] = "dimse", [DM_EV_TLS] = "tls",
    [DM_EV_FLOW_END] = "flow_end", [DM_EV_HTTP] = "http",   [DM_EV_PACKET] = "packet",
    [DM_EV_ANOMALY] = "anomaly",
};

static const char *const end_reason_names[DM_END_MAX] = {
    [DM_END_FIN] = "fin",
    [DM_END_RST] = "rst",
    [DM_END_EVICT] = "evict",
    [DM_END_CAPTURE] = "capture_end",
    [DM_END_TABLE_EVICT] = "evicted",
    [DM_END_IDLE] = "idle",
};

NAME_FN(dm_pdu_name, pdu_names)
NAME_FN(dm_class_name, class_names)
NAME_FN(dm_dir_name, dir_names)
NAME_FN(dm_transport_name, transport_names)
NAME_FN(dm_state_name, state_names)
NAME_FN(dm_assoc_counter_name, assoc_counter_names)
NAME_FN(dm_err_name, err_names)
NAME_FN(dm_counter_name, counter_names)
NAME_FN(dm_hook_name, hook_names)
NAME_FN(dm_end_reason_name, end_reason_names)
NAME_FN(dm_event_name, event_names)
NAME_FN(dm_anomaly_name, anomaly_names)

const char *dm_dimse_name(uint16_t command)
{
	static const struct {
		uint16_t rq;
		const char *rq_name, *rsp_name;
	} cmds[] = {
	    {0x0001, "C-STORE-RQ", "C-STORE-RSP"},
	    {0x0010, "C-GET-RQ", "C-GET-RSP"},
	    {0x0020, "C-FIND-RQ", "C-FIND-RSP"},
	    {0x0021, "C-MOVE-RQ", "C-MOVE-RSP"},
	    {0x0030, "C-ECHO-RQ", "C-ECHO-RSP"},
	    {0x0100, "N-EVENT-REPORT-RQ", "N-EVENT-REPORT-RSP"},
	    {0x0110, "N-GET-RQ", "N-GET-RSP"},
	    {0x0120, "N-SET-RQ", "N-SET-RSP"},
	    {0x0130, "N-ACTION-RQ", "N-ACTION-RSP"},
	    {0x0140, "N-CREATE-RQ", "N-CREATE-RSP"},
	    {0x0150, "N-DELETE-RQ", "N-DELETE-RSP"},
	    {0x0FFF, "C-CANCEL-RQ", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i].rq == command)
			return cmds[i].rq_name;
		if ((cmds[i].rq | 0x8000) == command)
			return cmds[i].rsp_name;
	}
	return NULL;
}

/* 0x0300 + i; the EVE tls_version field, the metrics label and rule 9100101 spell them so. */
static const char *const tls_names[] = {"SSL3.0", "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"};

bool dm_tls_version_known(uint16_t v)
{
	return v >= 0x0300 && v - 0x0300u < sizeof(tls_names) / sizeof(tls_names[0]);
}

const char *dm_tls_version_name(uint16_t v)
{
	if (dm_tls_version_known(v))
		return tls_names[v - 0x0300];
	return v ? "unknown" : NULL;
}
