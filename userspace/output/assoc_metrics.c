// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <string.h>
#include "output/assoc_metrics.h"
#include "assoc/integrity.h"
#include "output/metrics.h"
#include "lib/names.h"
#include "decode/pdu.h"

const double dm_am_dur_bounds[DM_AM_DUR_BUCKETS] = {0.01, 0.05, 0.1, 0.5, 1,	5,
						    10,	  30,	60,  300, 1800, 3600};
_Static_assert(DM_AM_CLASSES == DM_SCLASS_MAX + 1, "the status classes, then none");

/* A DIMSE count's status_class label: the status's class, "none" for a request. */
static const char *class_name(int c)
{
	return c < DM_SCLASS_MAX ? dm_sclass_name(c) : "none";
}

/* Anomaly kinds and decode_incomplete reasons, once per association each. */
static void integrity_end(struct dm_assoc_metrics *m, const struct dm_rec *r)
{
	unsigned int codes = r->dir[0].anomaly_codes | r->dir[1].anomaly_codes | r->an_codes[0] |
			     r->an_codes[1];
	unsigned int inc = dm_rec_incomplete(r), i;

	for (i = 1; i < DM_AN_MAX; i++)
		if (codes & (1u << i))
			m->anomalies[i]++;
	for (i = 0; i < DM_INC_MAX; i++)
		if (inc & (1u << i))
			m->incomplete[i]++;
	if (inc)
		m->incomplete_any++;
}

void dm_am_end(struct dm_assoc_metrics *m, const struct dm_rec *r, const char *calling,
	       const char *called)
{
	unsigned int t = r->transport < DM_TRANSPORT_MAX ? r->transport : DM_TRANSPORT_UNKNOWN;
	unsigned int o = r->outcome < DM_OUT_MAX ? r->outcome : DM_OUT_INCOMPLETE;
	double secs = r->end_ns > r->start_ns ? (double)(r->end_ns - r->start_ns) / 1e9 : 0;
	int i;

	m->assoc[t][o]++;
	integrity_end(m, r);
	if (r->rejected) {
		unsigned int src =
		    r->reject.source >= 1 && r->reject.source <= 3 ? r->reject.source : 0;

		m->rj[src][r->reject.reason < 8 ? r->reject.reason : 8]++;
	}
	for (i = 0; i < m->n_vlans && m->vlans[i].vlan != r->key.vlan[0]; i++)
		;
	if (i == m->n_vlans && i < DM_AM_VLANS)
		m->vlans[m->n_vlans++].vlan = r->key.vlan[0];
	if (i < DM_AM_VLANS)
		m->vlans[i].n[t]++;
	else
		m->vlans_other[t]++;
	for (i = 0; i < DM_AM_DUR_BUCKETS; i++)
		if (secs <= dm_am_dur_bounds[i])
			m->dur[t].le[i]++;
	m->dur[t].count++;
	m->dur[t].sum += secs;
	if (t == DM_TRANSPORT_TLS) {
		uint16_t v = dm_tls_version_known(r->tls_selected) ? r->tls_selected : 0;

		for (i = 0; i < m->n_tls && m->tls[i].version != v; i++)
			;
		if (i == m->n_tls && i < DM_AM_TLS)
			m->tls[m->n_tls++].version = v;
		if (i < DM_AM_TLS)
			m->tls[i].n++;
	}
	if (t != DM_TRANSPORT_CLEARTEXT)
		return; /* AE titles are only seen in cleartext */
	for (i = 0; i < m->n_pairs; i++)
		if (!strcmp(m->pairs[i].calling, calling) && !strcmp(m->pairs[i].called, called))
			break;
	if (i == m->n_pairs) {
		if (i == DM_AM_PAIRS) {
			/* full: fold into the other/other pair (kept in the last entry) */
			i = DM_AM_PAIRS - 1;
			strcpy(m->pairs[i].calling, "other");
			strcpy(m->pairs[i].called, "other");
		} else {
			snprintf(m->pairs[i].calling, DM_AE_STR, "%s", calling);
			snprintf(m->pairs[i].called, DM_AE_STR, "%s", called);
			m->n_pairs++;
		}
	}
	m->pairs[i].n++;
}

void dm_am_dimse(struct dm_assoc_metrics *m, uint16_t field, bool has_status, uint16_t status)
{
	int c = has_status ? (int)dm_sclass_of(status) : DM_AM_CLASSES - 1, i;

	if (!dm_dimse_name(field))
		field = 0xffff; /* not a command PS3.7 defines: "other" */
	for (i = 0; i < m->n_cmds && m->cmds[i].field != field; i++)
		;
	if (i == m->n_cmds && i < DM_AM_CMDS && field != 0xffff)
		m->cmds[m->n_cmds++].field = field;
	if (i < DM_AM_CMDS && field != 0xffff)
		m->cmds[i].n[c]++;
	else
		m->cmds_other[c]++;
}

void dm_am_outcomes(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[2];
	int t, o;

	for (t = 0; t < DM_TRANSPORT_MAX; t++)
		for (o = 0; o < DM_OUT_MAX; o++) {
			lv[0] = dm_transport_name(t);
			lv[1] = dm_outcome_name(o);
			dm_expo_u64(e, lv, m->assoc[t][o]);
		}
}

void dm_am_rejects(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[3];
	char reason[8];
	int i, c;

	for (i = 0; i < 4; i++)
		for (c = 0; c < 9; c++) {
			if (!m->rj[i][c])
				continue;
			snprintf(reason, sizeof(reason), "%d", c);
			lv[0] = i ? dm_reject_source_name(i) : "other";
			lv[1] = c < 8 ? reason : "other";
			lv[2] = i && c < 8 ? dm_reject_reason_name(i, c) : NULL;
			if (!lv[2])
				lv[2] = "other";
			dm_expo_u64(e, lv, m->rj[i][c]);
		}
}

void dm_am_vlans(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[2];
	char vlan[8];
	int i, t;

	for (i = 0; i < m->n_vlans; i++)
		for (t = 0; t < DM_TRANSPORT_MAX; t++) {
			if (!m->vlans[i].n[t])
				continue;
			snprintf(vlan, sizeof(vlan), "%u", m->vlans[i].vlan);
			lv[0] = m->vlans[i].vlan ? vlan : "none";
			lv[1] = dm_transport_name(t);
			dm_expo_u64(e, lv, m->vlans[i].n[t]);
		}
	for (t = 0; t < DM_TRANSPORT_MAX; t++) {
		lv[0] = "other";
		lv[1] = dm_transport_name(t);
		if (m->vlans_other[t])
			dm_expo_u64(e, lv, m->vlans_other[t]);
	}
}

void dm_am_durations(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[1];
	int t;

	for (t = 0; t < DM_TRANSPORT_MAX; t++) {
		lv[0] = dm_transport_name(t);
		dm_expo_hist(e, lv, m->dur[t].le, dm_am_dur_bounds, DM_AM_DUR_BUCKETS,
			     m->dur[t].count, m->dur[t].sum);
	}
}

void dm_am_tls(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[1];
	int i;

	for (i = 0; i < m->n_tls; i++) {
		lv[0] = m->tls[i].version ? dm_tls_version_name(m->tls[i].version) : "unknown";
		dm_expo_u64(e, lv, m->tls[i].n);
	}
}

void dm_am_commands(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[2];
	int i, c;

	for (i = 0; i < m->n_cmds; i++)
		for (c = 0; c < DM_AM_CLASSES; c++) {
			lv[0] = dm_dimse_name(m->cmds[i].field);
			lv[1] = class_name(c);
			if (m->cmds[i].n[c])
				dm_expo_u64(e, lv, m->cmds[i].n[c]);
		}
	for (c = 0; c < DM_AM_CLASSES; c++) {
		lv[0] = "other";
		lv[1] = class_name(c);
		if (m->cmds_other[c])
			dm_expo_u64(e, lv, m->cmds_other[c]);
	}
}

void dm_am_anomalies(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[1];
	int i;

	for (i = 1; i < DM_AN_MAX; i++) {
		lv[0] = dm_anomaly_name(i);
		dm_expo_u64(e, lv, m->anomalies[i]);
	}
}

void dm_am_incomplete(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[1];
	int i;

	for (i = 0; i < DM_INC_MAX; i++) {
		lv[0] = dm_incomplete_name(i);
		dm_expo_u64(e, lv, m->incomplete[i]);
	}
	lv[0] = "any";
	dm_expo_u64(e, lv, m->incomplete_any);
}

void dm_am_pairs(struct dm_expo *e, const struct dm_assoc_metrics *m)
{
	const char *lv[2];
	int i;

	for (i = 0; i < m->n_pairs; i++) {
		lv[0] = m->pairs[i].calling;
		lv[1] = m->pairs[i].called;
		dm_expo_u64(e, lv, m->pairs[i].n);
	}
}
