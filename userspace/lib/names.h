/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_NAMES_H
#define __DM_NAMES_H

#include <stdbool.h>
#include <stdint.h>

/* Names for the enums in include/dicomon.h; "?" for values out of range. */
const char *dm_pdu_name(unsigned int type);
const char *dm_class_name(unsigned int cls);
const char *dm_dir_name(unsigned int dir);
const char *dm_transport_name(unsigned int t);
const char *dm_state_name(unsigned int s);
const char *dm_assoc_counter_name(unsigned int c);
const char *dm_err_name(unsigned int e);
const char *dm_counter_name(unsigned int c);
const char *dm_hook_name(unsigned int h);
const char *dm_end_reason_name(unsigned int r);
const char *dm_anomaly_name(unsigned int a);
const char *dm_event_name(unsigned int type);
/* DIMSE command field (PS3.7 E.1), e.g. 0x8030 -> "C-ECHO-RSP"; NULL if unknown. */
const char *dm_dimse_name(uint16_t command);
/* "TLS1.2" for 0x0303 etc., "unknown" for a version not below; NULL for 0. */
const char *dm_tls_version_name(uint16_t v);
/* SSL3.0 .. TLS1.3: a version dm_tls_version_name() names. */
bool dm_tls_version_known(uint16_t v);

#endif /* __DM_NAMES_H */
