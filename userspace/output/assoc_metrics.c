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

void dm_am_write(FILE *out, const struct dm_assoc_metrics *m,
		 const uint64_t active[DM_TRANSPORT_MAX])
{
	int t, o, i, c;

	dm_metrics_head(
	    out, "associations_total", "counter",
	    "Associations ended (or dropped from the table), by transport and outcome.");
	for (t = 0; t < DM_TRANSPORT_MAX; t++)
		for (o = 0; o < DM_OUT_MAX; o++)
			fprintf(
			    out,
			    "dicomon_associations_total{transport=\"%s\",outcome=\"%s\"} %llu\n",
			    dm_transport_name(t), dm_outcome_name(o),
			    (unsigned long long)m->assoc[t][o]);
	dm_metrics_head(out, "association_rejects_total", "counter",
			"A-ASSOCIATE-RJ by source and reason (PS3.8 Table 9-21).");
	for (i = 0; i < 4; i++)
		for (c = 0; c < 9; c++) {
			const char *rn = i && c < 8 ? dm_reject_reason_name(i, c) : NULL;

			if (!m->rj[i][c])
				continue;
			fprintf(out, "dicomon_association_rejects_total{source=\"%s\",",
				i ? dm_reject_source_name(i) : "other");
			if (c < 8)
				fprintf(out, "reason=\"%d\",", c);
			else
				fputs("reason=\"other\",", out);
			fprintf(out, "reason_name=\"%s\"} %llu\n", rn ? rn : "other",
				(unsigned long long)m->rj[i][c]);
		}
	dm_metrics_head(out, "vlan_associations_total", "counter",
			"Associations ended, by outer VLAN id (none: untagged) and transport.");
	for (i = 0; i < m->n_vlans; i++)
		for (t = 0; t < DM_TRANSPORT_MAX; t++) {
			if (!m->vlans[i].n[t])
				continue;
			if (m->vlans[i].vlan)
				fprintf(out,
					"dicomon_vlan_associations_total{vlan=\"%u\",transport=\"%"
					"s\"} %llu\n",
					m->vlans[i].vlan, dm_transport_name(t),
					(unsigned long long)m->vlans[i].n[t]);
			else
				fprintf(out,
					"dicomon_vlan_associations_total{vlan=\"none\",transport="
					"\"%s\"} %llu\n",
					dm_transport_name(t), (unsigned long long)m->vlans[i].n[t]);
		}
	for (t = 0; t < DM_TRANSPORT_MAX; t++)
		if (m->vlans_other[t])
			fprintf(out,
				"dicomon_vlan_associations_total{vlan=\"other\",transport=\"%s\"} "
				"%llu\n",
				dm_transport_name(t), (unsigned long long)m->vlans_other[t]);
	dm_metrics_head(out, "active_associations", "gauge",
			"Associations going on in the userspace table, by transport.");
	for (t = 0; t < DM_TRANSPORT_MAX; t++)
		fprintf(out, "dicomon_active_associations{transport=\"%s\"} %llu\n",
			dm_transport_name(t), (unsigned long long)active[t]);
	dm_metrics_head(out, "association_duration_seconds", "histogram",
			"Duration of ended associations, first to last packet, by transport.");
	for (t = 0; t < DM_TRANSPORT_MAX; t++) {
		for (i = 0; i < DM_AM_DUR_BUCKETS; i++)
			fprintf(out,
				"dicomon_association_duration_seconds_bucket{transport=\"%s\",le="
				"\"%g\"} "
				"%llu\n",
				dm_transport_name(t), dm_am_dur_bounds[i],
				(unsigned long long)m->dur[t].le[i]);
		fprintf(out,
			"dicomon_association_duration_seconds_bucket{transport=\"%s\",le=\"+Inf\"} "
			"%llu\n",
			dm_transport_name(t), (unsigned long long)m->dur[t].count);
		fprintf(out, "dicomon_association_duration_seconds_sum{transport=\"%s\"} %.6f\n",
			dm_transport_name(t), m->dur[t].sum);
		fprintf(out, "dicomon_association_duration_seconds_count{transport=\"%s\"} %llu\n",
			dm_transport_name(t), (unsigned long long)m->dur[t].count);
	}
	dm_metrics_head(out, "tls_associations_total", "counter",
			"TLS associations ended, by the version the server selected.");
	for (i = 0; i < m->n_tls; i++)
		fprintf(out, "dicomon_tls_associations_total{version=\"%s\"} %llu\n",
			m->tls[i].version ? dm_tls_version_name(m->tls[i].version) : "unknown",
			(unsigned long long)m->tls[i].n);
	dm_metrics_head(
	    out, "dimse_messages_total", "counter",
	    "DIMSE messages decoded from their command heads, by command and status class (none: "
	    "a request).");
	for (i = 0; i < m->n_cmds; i++)
		for (c = 0; c < DM_AM_CLASSES; c++)
			if (m->cmds[i].n[c])
				fprintf(out,
					"dicomon_dimse_messages_total{command=\"%s\",status_class="
					"\"%s\"} "
					"%llu\n",
					dm_dimse_name(m->cmds[i].field), class_name(c),
					(unsigned long long)m->cmds[i].n[c]);
	for (c = 0; c < DM_AM_CLASSES; c++)
		if (m->cmds_other[c])
			fprintf(
			    out,
			    "dicomon_dimse_messages_total{command=\"other\",status_class=\"%s\"} "
			    "%llu\n",
			    class_name(c), (unsigned long long)m->cmds_other[c]);
	dm_metrics_head(out, "association_anomalies_total", "counter",
			"Associations ended whose stream the datapath found this anomaly in (either "
			"direction), once per association and kind.");
	for (i = 1; i < DM_AN_MAX; i++)
		fprintf(out, "dicomon_association_anomalies_total{anomaly=\"%s\"} %llu\n",
			dm_anomaly_name(i), (unsigned long long)m->anomalies[i]);
	dm_metrics_head(out, "association_decode_incomplete_total", "counter",
			"Associations ended whose set-up (RQ, AC/RJ) was not decoded whole, by reason "
			"(one association may have several; reason=\"any\": at least one).");
	for (i = 0; i < DM_INC_MAX; i++)
		fprintf(out, "dicomon_association_decode_incomplete_total{reason=\"%s\"} %llu\n",
			dm_incomplete_name(i), (unsigned long long)m->incomplete[i]);
	fprintf(out, "dicomon_association_decode_incomplete_total{reason=\"any\"} %llu\n",
		(unsigned long long)m->incomplete_any);
	dm_metrics_head(
	    out, "ae_pair_associations_total", "counter",
	    "Cleartext associations ended, by calling and called AE title; titles that are "
	    "neither allow-listed nor learned are \"other\".");
	for (i = 0; i < m->n_pairs; i++) {
		fputs("dicomon_ae_pair_associations_total{calling_ae=\"", out);
		dm_metrics_label(out, m->pairs[i].calling);
		fputs("\",called_ae=\"", out);
		dm_metrics_label(out, m->pairs[i].called);
		fprintf(out, "\"} %llu\n", (unsigned long long)m->pairs[i].n);
	}
}
