// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Toolkit and scanner fingerprints from a decoded A-ASSOCIATE-RQ/AC
 * (shared/dicom-wire.md sections 17-19). The longest matching UID root wins;
 * the version comes from the UID suffix (DCMTK, pynetdicom) or the version
 * name (dcm4che, fo-dicom, ruby-dicom, DVTk), and the two are compared when
 * both say one. Reasons are fixed sentences with numbers and the parsed
 * version (restricted to [0-9A-Za-z._+-]): no other wire text is quoted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "dicomon.h"
#include "decode/fingerprint.h"

#define UID_DCMTK_362 "1.2.276.0.7230010.3.0.3.6.2"
#define VER_DCMTK_362 "OFFIS_DCMTK_362"
#define UID_VERIFY    "1.2.840.10008.1.1"
#define UID_IMPLICIT  "1.2.840.10008.1.2"

enum ver_src { VER_NONE, VER_UID_DCMTK, VER_UID, VER_NAME };

static const struct root {
	const char *root;
	const char *name;
	uint8_t kind;
	uint8_t ver;		 /* enum ver_src */
	uint8_t confidence;	 /* for a root match alone */
	const char *name_prefix; /* the version name it sends, NULL: unknown */
} roots[] = {
    {"1.2.276.0.7230010.3", "DCMTK (or Orthanc)", DM_FP_TOOLKIT, VER_UID_DCMTK, 80, "OFFIS_DCMTK_"},
    {"1.2.826.0.1.3680043.9.3811", "pynetdicom", DM_FP_TOOLKIT, VER_UID, 85, "PYNETDICOM"},
    {"1.2.826.0.1.3680043.9.381", "pynetdicom (0.9 era)", DM_FP_TOOLKIT, VER_UID, 80, NULL},
    {"1.2.40.0.13.1.3", "dcm4che 3 (or dcm4chee-arc)", DM_FP_TOOLKIT, VER_NAME, 85, "dcm4che-"},
    {"1.2.40.0.13.1.1", "dcm4che 2", DM_FP_TOOLKIT, VER_NAME, 85, "dcm4che-"},
    {"1.3.6.1.4.1.30071.8", "fo-dicom", DM_FP_TOOLKIT, VER_NAME, 85, "fo-dicom"},
    {"1.2.826.0.1.3680043.8.641", "ruby-dicom", DM_FP_TOOLKIT, VER_NAME, 85, "RUBY"},
    {"1.2.826.0.1.3680043.2.1545.1", "DVTk", DM_FP_TOOLKIT, VER_NAME, 85, "DVT"},
    {"1.2.826.0.1.3680043.8.1057", "OsiriX/Horos", DM_FP_TOOLKIT, VER_NONE, 60, NULL},
    {"1.2.826.0.1.3680043.2.135.1066.101", "ConQuest", DM_FP_TOOLKIT, VER_NONE, 60, NULL},
    {"1.3.6.1.4.1.25403", "ClearCanvas", DM_FP_TOOLKIT, VER_NONE, 60, NULL},
    {"1.2.826.0.1.3680043.8.427.10", "Wireshark export UID (replayed?)", DM_FP_SCANNER, VER_NONE,
     60, NULL},
    {"1.2.840.113619", "GE Healthcare (vendor UID root)", DM_FP_VENDOR, VER_NONE, 50, NULL},
    {"1.3.12.2.1107", "Siemens Healthineers (vendor UID root)", DM_FP_VENDOR, VER_NONE, 50, NULL},
    {"1.2.840.113704", "Philips (vendor UID root)", DM_FP_VENDOR, VER_NONE, 40, NULL},
    {"1.3.46.670589", "Philips (vendor UID root)", DM_FP_VENDOR, VER_NONE, 40, NULL},
    {"1.2.840.114257", "Agfa (vendor UID root)", DM_FP_VENDOR, VER_NONE, 40, NULL},
    {"1.2.840.113564", "Carestream (vendor UID root)", DM_FP_VENDOR, VER_NONE, 40, NULL},
    {"1.2.392.200036", "Fujifilm (vendor UID root)", DM_FP_VENDOR, VER_NONE, 40, NULL},
    {"1.2.840.113669", "Merge Healthcare (vendor UID root)", DM_FP_VENDOR, VER_NONE, 40, NULL},
};

/* Version names alone, when the UID root is unknown. */
static const struct {
	const char *prefix;
	const char *name;
} name_only[] = {
    {"OFFIS_DCMTK_", "DCMTK (or Orthanc)"},
    {"OFFIS-DCMTK-", "DCMTK (or Orthanc)"},
    {"PYNETDICOM", "pynetdicom"},
    {"dcm4che-", "dcm4che"},
    {"fo-dicom", "fo-dicom"},
    {"RUBY", "ruby-dicom"},
    {"DVT", "DVTk"},
};

static const char *const default_calling[] = {"ECHOSCU",  "FINDSCU", "GETSCU",	"MOVESCU",
					      "STORESCU", "DCMSEND", "TERMSCU", "PYNETDICOM"};

static void reason(struct dm_fingerprint *fp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reason(struct dm_fingerprint *fp, const char *fmt, ...)
{
	va_list ap;

	if (fp->n_reasons >= DM_FP_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(fp->reasons[fp->n_reasons++], DM_FP_REASON, fmt, ap);
	va_end(ap);
}

/* A UID is under root when it equals it or continues it with a dot. */
static const char *under(const char *uid, const char *root)
{
	size_t n = strlen(root);

	if (strncmp(uid, root, n))
		return NULL;
	return uid[n] == 0 || uid[n] == '.' ? uid + n : NULL;
}

static void set_version(struct dm_fingerprint *fp, const char *v)
{
	size_t i;

	for (i = 0; v[i] && i < DM_FP_VERSION - 1; i++) {
		char c = v[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '.' || c == '_' || c == '+' || c == '-'))
			break;
		fp->version[i] = c;
	}
	fp->version[i] = 0;
}

/* "362" -> "3.6.2", "3610" -> "3.6.10": DCMTK's and pynetdicom's digit-only names. */
static int digits_version(const char *d, char *out, size_t len)
{
	size_t n = strspn(d, "0123456789");

	if (n < 3 || d[n])
		return 0;
	snprintf(out, len, "%c.%c.%.*s", d[0], d[1], (int)(n - 2), d + 2);
	return 1;
}

static int same_digits(const char *a, const char *b)
{
	for (;; a++, b++) {
		while (*a == '.')
			a++;
		while (*b == '.')
			b++;
		if (*a != *b)
			return 0;
		if (!*a)
			return 1;
	}
}

static void toolkit(const struct dm_assoc_info *a, struct dm_fingerprint *fp, const char *uid,
		    const char *ver)
{
	const struct root *best = NULL;
	const char *rest = NULL, *r, *nv = NULL;
	char from_name[DM_FP_VERSION] = "";
	size_t i;

	(void)a;
	for (i = 0; uid && i < sizeof(roots) / sizeof(roots[0]); i++)
		if ((r = under(uid, roots[i].root)) &&
		    (!best || strlen(roots[i].root) > strlen(best->root))) {
			best = &roots[i];
			rest = r;
		}
	if (!best) {
		for (i = 0; ver && i < sizeof(name_only) / sizeof(name_only[0]); i++) {
			if (strncmp(ver, name_only[i].prefix, strlen(name_only[i].prefix)))
				continue;
			snprintf(fp->name, sizeof(fp->name), "%s", name_only[i].name);
			fp->kind = DM_FP_TOOLKIT;
			fp->confidence = 50;
			fp->traits |= DM_FPT_NAME_ONLY;
			reason(fp,
			       "version name has %s's form, implementation class UID root unknown",
			       name_only[i].name);
			return;
		}
		snprintf(fp->name, sizeof(fp->name), "unknown");
		if (uid)
			reason(fp, "implementation class UID root not in the table");
		return;
	}
	snprintf(fp->name, sizeof(fp->name), "%s", best->name);
	fp->kind = best->kind;
	fp->confidence = best->confidence;
	reason(fp, "implementation class UID under %s's root %s", best->name, best->root);
	if (best->kind == DM_FP_SCANNER)
		fp->traits |= DM_FPT_WIRESHARK_UID;
	if (best->ver == VER_UID_DCMTK && rest && !strncmp(rest, ".0.", 3))
		set_version(fp, rest + 3);
	else if (best->ver == VER_UID && rest && *rest == '.')
		set_version(fp, rest + 1);
	if (!best->name_prefix || !ver)
		return;
	if (strncmp(ver, best->name_prefix, strlen(best->name_prefix))) {
		reason(fp, "version name is not %s's usual form", best->name);
		if (fp->confidence > 10)
			fp->confidence -= 10;
		return;
	}
	/* "dcm4che-5.29.2", "fo-dicom 4.0.7", "RUBY-DCM_0.9.8", "DVT2.6": the version starts at a
	 * digit. */
	nv = ver + strlen(best->name_prefix);
	nv += strcspn(nv, "0123456789");
	if (fp->confidence <= 90)
		fp->confidence += 5;
	if (best->ver == VER_NAME) {
		set_version(fp, nv);
		return;
	}
	/* DCMTK and pynetdicom say their version twice: compare. */
	if (digits_version(nv, from_name, sizeof(from_name))) {
		if (!fp->version[0])
			set_version(fp, from_name);
		else if (!same_digits(fp->version, nv)) {
			fp->traits |= DM_FPT_VERSION_MISMATCH;
			reason(fp, "UID says version %s, the version name another", fp->version);
		}
	}
}

static int str_is(const struct dm_assoc_info *a, dm_str_t s, const char *want)
{
	const char *v = dm_assoc_str(a, s);

	return v && !strcmp(v, want);
}

/* The RQ-only traits of scanners. */
static void rq_traits(const struct dm_assoc_info *a, struct dm_fingerprint *fp, const char *uid,
		      const char *ver)
{
	unsigned int i, zero = 0, ff = 0;
	const struct dm_assoc_pc *pc = a->pcs;

	for (i = 0; i < a->n_pcs; i++) {
		zero += a->pcs[i].rsv[1] == 0x00;
		ff += a->pcs[i].rsv[1] == 0xff;
	}
	if (a->n_pcs && zero == a->n_pcs)
		fp->traits |= DM_FPT_RSV_ZERO;
	if (a->n_pcs && ff == a->n_pcs)
		fp->traits |= DM_FPT_RSV_FF;
	if (uid && under(uid, "1.2.276.0.7230010.3"))
		fp->traits |= DM_FPT_CLAIMS_DCMTK;
	if (uid && ver && !strcmp(uid, UID_DCMTK_362) && !strcmp(ver, VER_DCMTK_362))
		fp->traits |= DM_FPT_CLAIMS_DCMTK_362;
	if (a->n_pcs_seen == 1 && a->n_pcs == 1 && pc->id == 1 &&
	    str_is(a, pc->abstract, UID_VERIFY) && pc->n_ts_seen == 1 && pc->n_ts == 1 &&
	    str_is(a, pc->ts[0], UID_IMPLICIT))
		fp->traits |= DM_FPT_SINGLE_ECHO;
	if ((a->ui.has & DM_UI_MAX_LENGTH) && a->ui.max_length == 16384)
		fp->traits |= DM_FPT_MAX_PDU_16384;
	if (!strcmp(a->called.str, "ANY-SCP"))
		fp->traits |= DM_FPT_DEFAULT_AE;
	for (i = 0; i < sizeof(default_calling) / sizeof(default_calling[0]); i++)
		if (!strcmp(a->calling.str, default_calling[i]))
			fp->traits |= DM_FPT_DEFAULT_AE;
	if (fp->traits & DM_FPT_DEFAULT_AE)
		reason(fp, "a tool's default AE title (calling or called)");
	if ((fp->traits & DM_FPT_RSV_FF) && (fp->traits & DM_FPT_CLAIMS_DCMTK))
		reason(fp, "presentation contexts carry 0xFF in the third byte, as DCMTK does");

	if (!(fp->traits & DM_FPT_CLAIMS_DCMTK) || !(fp->traits & DM_FPT_RSV_ZERO))
		return;
	/* DCMTK always writes 0xFF there (ASC_P_NOTYETNEGOTIATED): this is not DCMTK. */
	reason(fp,
	       "claims DCMTK but its %u presentation contexts carry 0x00 where DCMTK sends 0xFF",
	       a->n_pcs);
	fp->kind = DM_FP_SCANNER;
	if ((fp->traits & (DM_FPT_CLAIMS_DCMTK_362 | DM_FPT_SINGLE_ECHO | DM_FPT_MAX_PDU_16384)) ==
	    (DM_FPT_CLAIMS_DCMTK_362 | DM_FPT_SINGLE_ECHO | DM_FPT_MAX_PDU_16384)) {
		snprintf(fp->name, sizeof(fp->name), "nmap (DICOM NSE scripts)");
		fp->confidence = 90;
		reason(fp, "DCMTK 3.6.2 claim, one Verification/Implicit LE context, max length "
			   "16384: nmap's dicom.lua");
	} else {
		snprintf(fp->name, sizeof(fp->name), "DCMTK impersonator (unknown tool)");
		fp->confidence = 70;
	}
}

void dm_fingerprint_pdu(const struct dm_assoc_info *a, struct dm_fingerprint *fp)
{
	const char *uid = dm_assoc_str(a, a->ui.impl_uid);
	const char *ver = dm_assoc_str(a, a->ui.impl_version);

	memset(fp, 0, sizeof(*fp));
	if (uid && !*uid)
		uid = NULL;
	toolkit(a, fp, uid, ver);
	if (a->type == DM_PDU_ASSOC_RQ)
		rq_traits(a, fp, uid, ver);
}

void dm_fingerprint_assoc(const struct dm_assoc_info *rq, const struct dm_assoc_end *end,
			  struct dm_fingerprint *fp)
{
	int nmap;

	dm_fingerprint_pdu(rq, fp);
	nmap = fp->kind == DM_FP_SCANNER && (fp->traits & DM_FPT_RSV_ZERO) &&
	       (fp->traits & DM_FPT_CLAIMS_DCMTK);
	if (!end->accepted) {
		if (nmap)
			reason(fp, "not accepted: whether it would send a command is unknown");
		return;
	}
	if (!end->dimse_commands)
		fp->traits |= DM_FPT_NO_DIMSE;
	if (!end->released)
		fp->traits |= DM_FPT_NO_RELEASE;
	if ((fp->traits & (DM_FPT_NO_DIMSE | DM_FPT_NO_RELEASE)) ==
	    (DM_FPT_NO_DIMSE | DM_FPT_NO_RELEASE)) {
		reason(fp, "accepted, then closed without a DIMSE command or an A-RELEASE%s",
		       end->aborted ? " (aborted)" : "");
		if (nmap) {
			fp->confidence = !strncmp(fp->name, "nmap", 4) ? 98 : 85;
		} else if (fp->kind != DM_FP_SCANNER) {
			/* Scanner-like behaviour, toolkit unchanged: a probe built on it. */
			if (fp->confidence > 20)
				fp->confidence -= 20;
		}
		return;
	}
	if (nmap) {
		reason(fp, "sent %u DIMSE commands%s: not nmap's library", end->dimse_commands,
		       end->released ? " and a release" : "");
		snprintf(fp->name, sizeof(fp->name), "DCMTK impersonator (unknown tool)");
		fp->confidence = 60;
	}
}

const char *dm_fp_kind_name(unsigned int kind)
{
	static const char *const names[DM_FP_KIND_MAX] = {
	    [DM_FP_UNKNOWN] = "unknown",
	    [DM_FP_TOOLKIT] = "toolkit",
	    [DM_FP_VENDOR] = "vendor",
	    [DM_FP_SCANNER] = "scanner",
	};

	return kind < DM_FP_KIND_MAX ? names[kind] : "unknown";
}
