/* The canonical event: what every parsed identity/VPN log line becomes.
 *
 * Rulebases (liblognorm) or JSON mappings produce loose fields; canonicalize.c turns them into
 * this fixed-size struct so that detectors never touch JSON and the hot path never allocates.
 * Field names and their ECS equivalents are documented in rulebase/SCHEMA.md.
 */
#ifndef MMRISKSCORE_EVENT_H
#define MMRISKSCORE_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* libfastjson (the JSON library rsyslog and liblognorm use) names its type fjson_object and
 * #defines json_object to it; naming the real tag keeps this header order-independent. */
struct fjson_object;

typedef enum {
	MMR_ACTION_NONE = 0,
	MMR_ACTION_AUTH,        /* authentication (password, key, SSO primary) */
	MMR_ACTION_MFA,         /* MFA challenge / approve / deny */
	MMR_ACTION_VPN_START,   /* VPN session established */
	MMR_ACTION_VPN_END,     /* VPN session ended (duration, bytes) */
	MMR_ACTION_IP_ASSIGNED, /* VPN address assigned to a session */
	MMR_ACTION_SSO,         /* SSO into an application */
	MMR_ACTION_PRIVILEGE,   /* privilege change / elevation */
	MMR_ACTION_ACCOUNT,     /* account created / changed / removed */
	MMR_ACTION_LOGOUT,
	MMR_ACTION_VPN_STATS,   /* periodic statistics (bytes so far) of an established session */
	MMR_ACTION_COUNT_
} mmr_action;

typedef enum {
	MMR_OUTCOME_UNKNOWN = 0,
	MMR_OUTCOME_SUCCESS,
	MMR_OUTCOME_FAILURE
} mmr_outcome;

/* An IPv4 or IPv6 address. IPv4 is kept in its 4 leading bytes (family 4), IPv4-mapped IPv6
 * (::ffff:a.b.c.d) is folded to IPv4 so that one client never counts as two networks. */
typedef struct mmr_ip {
	uint8_t family; /* 0 = absent, 4, 6 */
	uint8_t b[16];
} mmr_ip;

#define MMR_USER_MAX 128    /* longer names are cut; the cut is counted (event.user_truncated) */
#define MMR_FIELD_MAX 128

typedef struct mmr_event {
	mmr_action action;
	mmr_outcome outcome;
	char user[MMR_USER_MAX];     /* normalized entity key */
	char user_raw[MMR_USER_MAX]; /* as logged, when it differs from user; else "" */
	mmr_ip src_ip;
	mmr_ip assigned_ip;
	int32_t src_port;            /* -1 absent */
	char target[MMR_FIELD_MAX];
	char device[MMR_FIELD_MAX];
	char auth_method[64];
	char mfa_factor[64];
	char group[MMR_FIELD_MAX];
	char session_id[MMR_FIELD_MAX];
	char reason[256];
	char host[MMR_FIELD_MAX];    /* the device that logged it (syslog hostname), from the adapter */
	char user_agent[256];
	/* what the source itself says about the client address (Okta securityContext, Entra
	 * location): used when present, so geo works without a GeoIP database */
	char geo_country[64];
	char geo_city[64];
	char as_org[MMR_FIELD_MAX];
	int64_t as_number;           /* -1 absent */
	int8_t is_proxy;             /* -1 absent, 0 no, 1 the source says proxy/VPN/Tor */
	int64_t bytes_in;            /* -1 absent */
	int64_t bytes_out;           /* -1 absent */
	int64_t duration;            /* seconds, -1 absent */
	int64_t time;                /* event time, unix seconds UTC */
	bool time_from_log;          /* true: the log body carried the time */
	bool user_truncated;
} mmr_event;

/* How user names become entity keys (rulebase/SCHEMA.md §4). */
typedef struct mmr_user_norm {
	bool strip_domain;       /* "CORP\bob", "bob@corp.example" -> "bob" (default true); when
				  * false: "CORP\bob" -> "bob@corp", "bob@corp.example" kept */
	char default_domain[64]; /* with strip_domain false: "bob" -> "bob@<default_domain>" */
} mmr_user_norm;

typedef enum {
	MMR_CANON_OK = 0,         /* an identity event: has an action and a user */
	MMR_CANON_NOT_IDENTITY,   /* parsed, but no action or no user */
} mmr_canon_status;

void mmr_event_init(mmr_event *ev);

/* Fill ev from parsed fields (liblognorm output or any JSON object with canonical names).
 * fallback_time is used when the fields carry no parsable event_time. Never allocates. */
mmr_canon_status mmr_event_from_fields(mmr_event *ev, struct fjson_object *fields,
				       const mmr_user_norm *norm, int64_t fallback_time);

/* Sets one canonical field ("user", "src_ip", ..., "action", "outcome") from a JSON value
 * (string or number as the field needs). Returns 0, or -1 when the name is unknown or the
 * value does not fit (the field is then left as it was). */
int mmr_event_set_field(mmr_event *ev, const char *name, struct fjson_object *value,
			const mmr_user_norm *norm);

/* One JSON value as the field setters read it, whichever parser produced it: a libfastjson
 * object (mmr_jvalue_from_json) or the mappings' own scanner (engine/map/json_scan.h). Both
 * must give the same text for the same JSON: strings up to their first NUL, integers as
 * "%" PRId64 of the value saturated at INT64_MIN/INT64_MAX, other numbers as written,
 * booleans as "true"/"false". */
typedef enum {
	MMR_JV_NULL = 0, /* null, or no value at all */
	MMR_JV_BOOL,
	MMR_JV_INT,
	MMR_JV_DOUBLE,
	MMR_JV_STRING,
	MMR_JV_OBJECT,
	MMR_JV_ARRAY,
} mmr_jv_type;

typedef struct mmr_jvalue {
	mmr_jv_type type;
	const char *text; /* STRING, DOUBLE, BOOL: NUL-terminated; read it with mmr_jvalue_text() */
	int64_t i;        /* INT */
	char num[24];     /* INT: i as text, kept in the value so that copies stay valid */
	bool b;           /* BOOL */
} mmr_jvalue;

/* The scalar text of v; NULL for null, objects and arrays. */
static inline const char *mmr_jvalue_text(const mmr_jvalue *v)
{
	return v->type == MMR_JV_INT ? v->num : v->text;
}
/* Sets v->num from v->i. */
void mmr_jvalue_format_int(mmr_jvalue *v);

/* v describes value (NULL: null); its text points into value, valid while value lives. */
void mmr_jvalue_from_json(struct fjson_object *value, mmr_jvalue *v);
/* mmr_event_set_field for a value in either form. */
int mmr_event_set_value(mmr_event *ev, const char *name, const mmr_jvalue *v,
			const mmr_user_norm *norm);
bool mmr_event_field_known(const char *name);
/* MMR_CANON_OK when ev has an action and a user. */
mmr_canon_status mmr_event_status(const mmr_event *ev);

/* Canonical JSON of ev (only present fields); caller owns the result. */
struct fjson_object *mmr_event_to_json(const mmr_event *ev);

const char *mmr_action_name(mmr_action a);
mmr_action mmr_action_from_name(const char *s);
const char *mmr_outcome_name(mmr_outcome o);

/* Helpers shared by canonicalization and tests. Return 0 on success, -1 on bad input. */
int mmr_ip_parse(const char *s, mmr_ip *out);
int mmr_ip_format(const mmr_ip *ip, char *buf, size_t len);
int mmr_duration_parse(const char *s, int64_t *seconds);
int mmr_time_parse(const char *s, int64_t *unix_seconds);
void mmr_time_format(int64_t t, char *buf, size_t len); /* YYYY-MM-DDTHH:MM:SSZ */
/* Unix time of a civil date-time given with its UTC offset in seconds (east positive). */
int64_t mmr_time_from_civil(int year, int mon, int day, int hour, int min, int sec,
			    int utc_offset);
void mmr_user_normalize(const char *raw, const mmr_user_norm *norm, char *out, size_t outlen,
			bool *truncated);
/* Replaces every byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
 * overlongs, no surrogates, <= U+10FFFF) with '?', in place, so that output stays valid JSON
 * whatever an attacker put into a log line. Returns the number of bytes replaced. */
size_t mmr_utf8_sanitize(char *s);

#endif
