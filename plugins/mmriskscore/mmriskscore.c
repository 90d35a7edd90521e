/* mmriskscore.c — rsyslog message modification module: insider-risk scoring of identity and
 * VPN logs.
 *
 * For each message: parse it with a liblognorm rulebase (or take fields that mmnormalize /
 * mmjsonparse already parsed), turn the fields into a canonical event, score it with the
 * mmriskscore engine (per-user baselines, cross-user indexes, decaying user score) and add
 * the result under $!risk and the canonical fields under $!event. Messages that are not
 * identity events pass through unchanged. All the logic lives in the engine (engine/, no
 * rsyslog headers); this file only adapts it to rsyslog: parameters, doAction, HUP, stats,
 * and the state file's lifecycle.
 *
 * Lifecycle. newActInst checks every parameter and builds a fresh engine and the context
 * (roster, lists, GeoIP) — it also runs for `rsyslogd -N1`, so it touches no state file and
 * starts no thread. activateCnf (a real start only, after privileges are dropped, before any
 * worker runs) restores the state file into the engine (a file that cannot be used is moved
 * aside and the module starts fresh), hands it the context and starts one snapshot thread per
 * action with a statefile. freeInstance (shutdown, after the workers stopped) stops that
 * thread and writes the final snapshot before the engine is freed.
 *
 * Parameters are documented in docs/configuration.md, operations in docs/operations.md.
 *
 * Copyright 2026 the mmriskscore authors. Licensed under the Apache License, Version 2.0.
 */
#include "config.h"
#include "rsyslog.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "syslogd-types.h"
#include "srUtils.h"
#include "template.h"
#include "module-template.h"
#include "errmsg.h"
#include "msg.h"
#include "parserif.h"
#include "statsobj.h"

#include "mmriskscore/context.h"
#include "mmriskscore/engine.h"
#include "mmriskscore/event.h"
#include "mmriskscore/mapping.h"
#include "mmriskscore/parse.h"
#include "mmriskscore/rulebase.h"
#include "mmriskscore/shard.h"
#include "mmriskscore/state.h"

MODULE_TYPE_OUTPUT
MODULE_TYPE_NOKEEP
MODULE_CNFNAME("mmriskscore")

DEF_OMOD_STATIC_DATA
DEFobjCurrIf(statsobj)

typedef enum { INPUT_TAGMSG, INPUT_MSG, INPUT_RAWMSG } parse_input_t;

#define SHARDS_DEFAULT 256
#define STATEFILE_INTERVAL_DEFAULT 300
#define STATEFILE_INTERVAL_MAX 86400

typedef struct _instanceData {
	bool route;             /* mode="route": parse, name the user's shard, keep no state */
	uint32_t nshards;       /* shards (virtual shards, docs/scale-out.md) */
	char *owned_spec;       /* shards.owned as given; NULL: every shard */
	mmr_shard_set *shards;  /* score mode with statedir or shards.owned; else NULL */
	char *rulebase_path;
	char *mappings_path;
	mmr_mappings *maps;     /* swapped on HUP like the rulebase, under rb_lock */
	uchar *container;      /* "!risk": msgAddJSON wants the name without '$' */
	uchar *eventcontainer; /* NULL: canonical fields not added */
	msgPropDescr_t *parsed; /* parsedfields: read fields instead of parsing */
	parse_input_t input;
	char *statefile;        /* absolute path; NULL: state only in memory */
	char *statedir;         /* per-shard state directory (excludes statefile) */
	int64_t snap_interval;  /* seconds between snapshots; 0: only at shutdown */
	bool has_pkey;          /* statefile.pseudonymkey given */
	uint8_t pkey[16];
	char *pkey_path;
	char *statsname;
	char *model_path;
	mmr_context_paths ctx_paths; /* strings owned here; reloaded on HUP */
	unsigned ctx_loaded;         /* parts in the engine's context: 1 roster, 2 city, 4 asn, 8 lists */

	mmr_config cfg;
	mmr_engine *engine;
	mmr_context *start_ctx; /* loaded by newActInst, handed to the engine at activation */

	/* lifecycle (see the comment at the top) */
	struct _instanceData *next; /* the module's list of actions, under inst_lock */
	bool activated;             /* activateCnf ran: the final snapshot may be written */
	bool snap_thread_running;
	pthread_t snap_thread;
	pthread_mutex_t snap_mtx;
	pthread_cond_t snap_cond;   /* CLOCK_MONOTONIC; signalled to stop */
	bool snap_stop;
	bool snap_disabled;         /* the state file could not be restored nor moved aside */
	/* snapshot failures are logged when they start, change or recover, not every interval */
	char snap_last_err[256];
	uint64_t snap_failed_in_row;
	/* The rulebase is swapped on HUP: workers parse under the read lock, the swap takes the
	 * write lock only for the pointer exchange (the new rulebase is loaded before). */
	pthread_rwlock_t rb_lock;
	mmr_rulebase *rb;

	statsobj_t *stats;
	STATSCOUNTER_DEF(ctrSubmitted, mutCtrSubmitted)
	STATSCOUNTER_DEF(ctrScored, mutCtrScored)
	STATSCOUNTER_DEF(ctrUnparsed, mutCtrUnparsed)
	STATSCOUNTER_DEF(ctrNotIdentity, mutCtrNotIdentity)
	STATSCOUNTER_DEF(ctrFailed, mutCtrFailed)
	STATSCOUNTER_DEF(ctrReloads, mutCtrReloads)
	STATSCOUNTER_DEF(ctrReloadFailed, mutCtrReloadFailed)
	STATSCOUNTER_DEF(ctrCtxReloads, mutCtrCtxReloads)
	STATSCOUNTER_DEF(ctrCtxReloadFailed, mutCtrCtxReloadFailed)
	STATSCOUNTER_DEF(ctrParsed, mutCtrParsed)
	STATSCOUNTER_DEF(ctrSnapshots, mutCtrSnapshots)
	STATSCOUNTER_DEF(ctrSnapFailed, mutCtrSnapFailed)
	STATSCOUNTER_DEF(ctrRouted, mutCtrRouted)
	STATSCOUNTER_DEF(ctrMisrouted, mutCtrMisrouted)
	/* gauges and counters owned by the engine, copied in by the read notifier */
	intctr_t users, usersEvicted, ips, ipsEvicted, reasonsDropped, allowlisted, timeClamped;
	intctr_t ruleSlotsEvicted;
	intctr_t level[5], geoipLookups, geoipCacheHits;
	intctr_t stateBytes, snapDurationMs, snapMaxStallMs, snapBytes, snapUsers;
	intctr_t pseudoWaiting, pseudoReattached, snapFiles;
	/* written by the snapshot thread, copied into the gauges above by the read notifier */
	_Atomic uint64_t snap_duration_ms, snap_max_stall_ms, snap_bytes, snap_users, snap_files;
} instanceData;

typedef struct wrkrInstanceData {
	instanceData *pData;
	char *buf; /* parse input scratch, grown as needed, reused across messages */
	size_t cap;
} wrkrInstanceData_t;

struct modConfData_s {
	rsconf_t *pConf;
};
static modConfData_t *loadModConf = NULL;
static modConfData_t *runModConf = NULL;

/* Every action created by newActInst and not freed yet: activateCnf walks it. rsyslog has one
 * configuration at a time, so a static list is enough. */
static pthread_mutex_t inst_lock = PTHREAD_MUTEX_INITIALIZER;
static instanceData *inst_list = NULL;

static struct cnfparamdescr actpdescr[] = {
	{"mode", eCmdHdlrString, 0},
	{"shards", eCmdHdlrInt, 0},
	{"shards.owned", eCmdHdlrString, 0},
	{"rulebase", eCmdHdlrString, 0},
	{"parsedfields", eCmdHdlrString, 0},
	{"container", eCmdHdlrString, 0},
	{"eventcontainer", eCmdHdlrString, 0},
	{"parse.input", eCmdHdlrString, 0},
	{"mappings", eCmdHdlrString, 0},
	{"user.domain", eCmdHdlrString, 0},
	{"user.defaultdomain", eCmdHdlrString, 0},
	{"corporatenetworks", eCmdHdlrArray, 0},
	{"learning.minevents", eCmdHdlrPositiveInt, 0},
	{"learning.mindays", eCmdHdlrNonNegInt, 0},
	{"userscore.halflife", eCmdHdlrPositiveInt, 0},
	{"userscore.scale", eCmdHdlrPositiveInt, 0},
	{"userscore.rulecooldown", eCmdHdlrNonNegInt, 0},
	{"farm.minusers", eCmdHdlrPositiveInt, 0},
	{"farm.window", eCmdHdlrPositiveInt, 0},
	{"failburst.user.count", eCmdHdlrPositiveInt, 0},
	{"failburst.ip.count", eCmdHdlrPositiveInt, 0},
	{"failburst.window", eCmdHdlrPositiveInt, 0},
	{"state.maxusers", eCmdHdlrPositiveInt, 0},
	{"state.maxips", eCmdHdlrPositiveInt, 0},
	{"time.maxfuture", eCmdHdlrNonNegInt, 0},
	{"statefile", eCmdHdlrString, 0},
	{"statefile.interval", eCmdHdlrNonNegInt, 0},
	{"statefile.pseudonymkey", eCmdHdlrString, 0},
	{"statedir", eCmdHdlrString, 0},
	{"statsname", eCmdHdlrString, 0},
	{"model", eCmdHdlrString, 0},
	{"roster", eCmdHdlrString, 0},
	{"geoip.city", eCmdHdlrString, 0},
	{"geoip.asn", eCmdHdlrString, 0},
	{"lists.dir", eCmdHdlrString, 0},
	{"newhire.factor", eCmdHdlrString, 0},
	{"privileged.factor", eCmdHdlrString, 0},
};
static struct cnfparamblk actpblk = {CNFPARAMBLK_VERSION,
				     sizeof(actpdescr) / sizeof(struct cnfparamdescr), actpdescr};

BEGINbeginCnfLoad
CODESTARTbeginCnfLoad
	loadModConf = pModConf;
	pModConf->pConf = pConf;
ENDbeginCnfLoad

BEGINendCnfLoad
CODESTARTendCnfLoad
ENDendCnfLoad

BEGINcheckCnf
CODESTARTcheckCnf
ENDcheckCnf

static void activate_instance(instanceData *pData);
static void deactivate_instance(instanceData *pData);

/* A real start (never `rsyslogd -N1`), after privileges are dropped and before any worker
 * runs: restore each action's state file and start its snapshot thread. */
BEGINactivateCnf
CODESTARTactivateCnf
	runModConf = pModConf;
	pthread_mutex_lock(&inst_lock);
	for (instanceData *p = inst_list; p != NULL; p = p->next)
		if (!p->activated)
			activate_instance(p);
	pthread_mutex_unlock(&inst_lock);
ENDactivateCnf

BEGINfreeCnf
CODESTARTfreeCnf
ENDfreeCnf

BEGINcreateInstance
CODESTARTcreateInstance
	mmr_config_init(&pData->cfg);
	/* live input: a time more than a day ahead of this box's clock is a forgery or a broken
	 * clock (docs/threat-model.md); the engine's own default is off, for replays and tests */
	pData->cfg.max_future = MMR_LIVE_MAX_FUTURE;
	pData->input = INPUT_TAGMSG;
	/* glibc lets new readers overtake a waiting writer: under steady load a HUP would wait
	 * for ever. Prefer the writer (it holds the lock for two pointer swaps only). */
	pthread_rwlockattr_t rwa;
	pthread_rwlockattr_init(&rwa);
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&pData->rb_lock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
	pData->snap_interval = STATEFILE_INTERVAL_DEFAULT;
	pData->nshards = SHARDS_DEFAULT;
	pthread_mutex_init(&pData->snap_mtx, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pData->snap_cond, &ca);
	pthread_condattr_destroy(&ca);
ENDcreateInstance

BEGINcreateWrkrInstance
CODESTARTcreateWrkrInstance
	pWrkrData->buf = NULL;
	pWrkrData->cap = 0;
ENDcreateWrkrInstance

BEGINisCompatibleWithFeature
CODESTARTisCompatibleWithFeature
ENDisCompatibleWithFeature

BEGINfreeInstance
CODESTARTfreeInstance
	pthread_mutex_lock(&inst_lock);
	for (instanceData **pp = &inst_list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == pData) {
			*pp = pData->next;
			break;
		}
	}
	pthread_mutex_unlock(&inst_lock);
	if (pData->stats != NULL)
		statsobj.Destruct(&pData->stats);
	deactivate_instance(pData); /* stops the snapshot thread, writes the final snapshot */
	mmr_context_free(pData->start_ctx);
	mmr_engine_free(pData->engine);
	mmr_rulebase_free(pData->rb);
	mmr_mappings_free(pData->maps);
	free(pData->mappings_path);
	mmr_config_clear(&pData->cfg);
	pthread_rwlock_destroy(&pData->rb_lock);
	pthread_cond_destroy(&pData->snap_cond);
	pthread_mutex_destroy(&pData->snap_mtx);
	explicit_bzero(pData->pkey, sizeof(pData->pkey));
	free(pData->pkey_path);
	if (pData->parsed != NULL) {
		msgPropDescrDestruct(pData->parsed);
		free(pData->parsed);
	}
	free(pData->rulebase_path);
	free(pData->container);
	free(pData->eventcontainer);
	free(pData->statefile);
	free(pData->statedir);
	free(pData->owned_spec);
	mmr_shard_set_free(pData->shards);
	free(pData->statsname);
	free(pData->model_path);
	free((char *)pData->ctx_paths.roster);
	free((char *)pData->ctx_paths.geoip_city);
	free((char *)pData->ctx_paths.geoip_asn);
	free((char *)pData->ctx_paths.lists_dir);
ENDfreeInstance

BEGINfreeWrkrInstance
CODESTARTfreeWrkrInstance
	free(pWrkrData->buf);
ENDfreeWrkrInstance

BEGINdbgPrintInstInfo
CODESTARTdbgPrintInstInfo
	dbgprintf("mmriskscore: rulebase='%s' container='%s'\n",
		  pData->rulebase_path ? pData->rulebase_path : "(none)", pData->container);
ENDdbgPrintInstInfo

BEGINtryResume
CODESTARTtryResume
ENDtryResume

/* "$!risk" or "!risk" -> "!risk"; message-local ("$.x") allowed, global ("$/x") is not:
 * a risk result belongs to its message. Returns NULL (and complains) when invalid. */
static uchar *container_name(const char *param, char *value)
{
	char *v = value[0] == '$' ? value + 1 : value;
	if ((v[0] != '!' && v[0] != '.') || strchr(v, ' ') != NULL) {
		parser_errmsg("mmriskscore: parameter '%s': invalid value '%s', expected a "
			      "message variable such as \"$!risk\" or \"$.risk\"",
			      param, value);
		return NULL;
	}
	return (uchar *)strdup(v);
}

static rsRetVal setup_stats(instanceData *pData);

static bool any_context(const instanceData *pData)
{
	const mmr_context_paths *p = &pData->ctx_paths;
	return p->roster || p->geoip_city || p->geoip_asn || p->lists_dir;
}

/* Loads roster, GeoIP databases and lists (off the hot path) and hands them to the engine.
 * A part that cannot be loaded is reported; the module runs without it when it was not there
 * before (at start, or after a degraded start), and keeps the whole previous context when it
 * was (a HUP with a typo in a list file must not drop the lists that worked). */
static int load_context(instanceData *pData, const char *when)
{
	char err[1024], warn[1024] = "";
	const bool start = !strcmp(when, "start");
	const mmr_context_paths *all = &pData->ctx_paths;
	const mmr_context_paths one[4] = {{.roster = all->roster},
					  {.geoip_city = all->geoip_city},
					  {.geoip_asn = all->geoip_asn},
					  {.lists_dir = all->lists_dir}};
	unsigned loaded = 0;
	for (unsigned k = 0; k < 4; k++)
		if (one[k].roster || one[k].geoip_city || one[k].geoip_asn || one[k].lists_dir)
			loaded |= 1u << k;
	mmr_context *c = mmr_context_load(all, &pData->cfg.user_norm, err, sizeof(err), warn,
					  sizeof(warn));
	if (c == NULL) {
		/* find the parts that load and name each one that does not */
		mmr_context_paths ok = {0};
		unsigned configured = loaded;
		loaded = 0;
		for (unsigned k = 0; k < 4; k++) {
			if (!(configured & (1u << k)))
				continue;
			mmr_context *t = mmr_context_load(&one[k], &pData->cfg.user_norm, err,
							  sizeof(err), NULL, 0);
			if (t != NULL) {
				mmr_context_free(t);
				loaded |= 1u << k;
				ok.roster = ok.roster ? ok.roster : one[k].roster;
				ok.geoip_city = ok.geoip_city ? ok.geoip_city : one[k].geoip_city;
				ok.geoip_asn = ok.geoip_asn ? ok.geoip_asn : one[k].geoip_asn;
				ok.lists_dir = ok.lists_dir ? ok.lists_dir : one[k].lists_dir;
			} else if (start || !(pData->ctx_loaded & (1u << k))) {
				LogError(0, RS_RET_CONFIG_ERROR, "mmriskscore: %s%s; running without it: "
					 "the detectors that need it stay silent", start ? "" : "HUP: ",
					 err);
			} else {
				STATSCOUNTER_INC(pData->ctrCtxReloadFailed, pData->mutCtrCtxReloadFailed);
				LogError(0, RS_RET_ERR, "mmriskscore: HUP: %s; keeping the previous "
					 "roster, lists and GeoIP databases", err);
				return -1;
			}
		}
		c = mmr_context_load(&ok, &pData->cfg.user_norm, err, sizeof(err), warn,
				     sizeof(warn));
		if (c == NULL) { /* a file changed between the two reads */
			if (!start)
				STATSCOUNTER_INC(pData->ctrCtxReloadFailed, pData->mutCtrCtxReloadFailed);
			LogError(0, RS_RET_ERR, "mmriskscore: %s: %s; keeping what was loaded", when,
				 err);
			return -1;
		}
	}
	if (warn[0])
		LogMsg(0, NO_ERRCODE, LOG_WARNING, "mmriskscore: %s", warn);
	mmr_context_info in;
	mmr_context_describe(c, &in);
	LogMsg(0, NO_ERRCODE, LOG_INFO,
	       "mmriskscore: %s: GeoIP city %s, ASN %s; roster %zu users; lists: corporate %zu, "
	       "hosting %zu, commercial VPN %zu, watch countries %zu, remote tools %zu, allow "
	       "users %zu, networks %zu, rules %zu",
	       when, in.geoip_city ? "loaded" : "none (geo detectors use only what logs say)",
	       in.geoip_asn ? "loaded" : "none", in.roster_users, in.list_entries[0],
	       in.list_entries[1], in.list_entries[2], in.list_entries[3], in.list_entries[4],
	       in.list_entries[5], in.list_entries[6], in.list_entries[7]);
	if (start) { /* handed to the engine at activation (the engine may be replaced then) */
		mmr_context_free(pData->start_ctx);
		pData->start_ctx = c;
	} else {
		mmr_engine_set_context(pData->engine, c);
	}
	pData->ctx_loaded = loaded;
	if (strcmp(when, "start") != 0)
		STATSCOUNTER_INC(pData->ctrCtxReloads, pData->mutCtrCtxReloads);
	return 0;
}

/* statefile="..." must be an absolute path (rsyslog applies global(workDirectory) only after
 * the actions are created, so a relative path could not be checked by rsyslogd -N1). The
 * directory must exist; the file need not. Returns a malloc'ed copy, or NULL with the reason
 * in err. */
static char *statefile_path(const char *v, char *err, size_t errlen)
{
	char *path = NULL;
	if (v[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path; give one, e.g. "
			 "\"/var/lib/rsyslog/mmriskscore.state\"", v);
		return NULL;
	}
	path = strdup(v);
	if (path == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	size_t len = strlen(path);
	if (path[len - 1] == '/') {
		snprintf(err, errlen, "'%s' names a directory; name the file, e.g. %smmriskscore.state",
			 path, path);
		free(path);
		return NULL;
	}
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "'%s' is a directory; name the file, e.g. %s/mmriskscore.state",
			 path, path);
		free(path);
		return NULL;
	}
	char *slash = strrchr(path, '/');
	*slash = '\0';
	const char *dir = slash == path ? "/" : path;
	int r = stat(dir, &st);
	int e = errno;
	if (r != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "the directory '%s' of the state file %s", dir,
			 r != 0 ? (e == ENOENT ? "does not exist" : strerror(e)) : "is not a directory");
		free(path);
		return NULL;
	}
	*slash = '/';
	return path;
}

/* statedir="..." (per-shard state): an absolute path of an existing directory, checked like
 * statefile's. A trailing '/' is dropped. Returns a malloc'ed copy, or NULL with the reason. */
static char *statedir_path(const char *v, char *err, size_t errlen)
{
	struct stat st;
	if (v[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path; give one, e.g. "
			 "\"/var/lib/rsyslog/mmriskscore\"", v);
		return NULL;
	}
	char *path = strdup(v);
	if (path == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t len = strlen(path); len > 1 && path[len - 1] == '/'; len--)
		path[len - 1] = '\0';
	int r = stat(path, &st);
	int e = errno;
	if (r != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "the directory '%s' %s", path,
			 r != 0 ? (e == ENOENT ? "does not exist" : strerror(e)) : "is not a directory");
		free(path);
		return NULL;
	}
	return path;
}

static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && !strcmp(a, b);
}

/* Whether another action already has this action's state file or directory: two actions
 * writing one would overwrite each other's snapshots. */
static bool state_taken(const instanceData *pData)
{
	bool dup = false;
	pthread_mutex_lock(&inst_lock);
	for (instanceData *p = inst_list; p != NULL && !dup; p = p->next)
		dup = same(p->statefile, pData->statefile) || same(p->statedir, pData->statedir);
	pthread_mutex_unlock(&inst_lock);
	return dup;
}

/* mode="route" takes only what parsing and naming the user need: the rest configures the
 * scoring and its state, which a relay does not have. */
static bool route_param(const char *name)
{
	static const char *const ok[] = {"mode",	"shards",	   "rulebase",
					 "parsedfields", "mappings",	   "parse.input",
					 "user.domain",	 "user.defaultdomain", "container",
					 "statsname"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(name, ok[i]))
			return true;
	return false;
}

/* statefile.pseudonymkey="FILE": the file holds exactly 32 hexadecimal digits (a 128-bit
 * SipHash key, e.g. from `openssl rand -hex 16`), surrounding white space ignored. The key is
 * never printed. Returns 0, or -1 with the reason in err; *loose is set when group or others
 * may read the file. */
static int read_pseudonym_key(const char *path, uint8_t key[16], bool *loose, char *err,
			      size_t errlen)
{
	char buf[130];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "'%s' is not a regular file", path);
		close(fd);
		return -1;
	}
	*loose = (st.st_mode & 077) != 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	const char *b = buf, *e = buf + n;
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	bool hex = e - b == 32 && (size_t)n < sizeof(buf) - 1;
	for (const char *q = b; hex && q < e; q++)
		hex = isxdigit((unsigned char)*q) != 0;
	if (!hex) {
		char found[64];
		if ((size_t)n >= sizeof(buf) - 1)
			snprintf(found, sizeof(found), "more than %zu bytes", sizeof(buf) - 2);
		else if (e - b != 32)
			snprintf(found, sizeof(found), "%td characters", e - b);
		else
			snprintf(found, sizeof(found), "a character that is not a hex digit");
		explicit_bzero(buf, sizeof(buf));
		snprintf(err, errlen, "'%s' must hold exactly 32 hexadecimal digits (a 128-bit key, "
			 "e.g. made by `openssl rand -hex 16 > %s`), found %s", path, path, found);
		return -1;
	}
	for (int i = 0; i < 16; i++) {
		char two[3] = {b[2 * i], b[2 * i + 1], '\0'};
		key[i] = (uint8_t)strtoul(two, NULL, 16);
		explicit_bzero(two, sizeof(two));
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

BEGINnewActInst
	struct cnfparamvals *pvals;
	bool interval_set = false, shards_set = false;
	char err[1024];
	int i;
CODESTARTnewActInst
	if ((pvals = nvlstGetParams(lst, &actpblk, NULL)) == NULL)
		ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);

	CODE_STD_STRING_REQUESTnewActInst(1)
	CHKiRet(OMSRsetEntry(*ppOMSR, 0, NULL, OMSR_TPL_AS_MSG));
	CHKiRet(createInstance(&pData));

	/* The mode first: it decides which parameters mean something. */
	for (i = 0; i < actpblk.nParams; ++i) {
		if (!pvals[i].bUsed || strcmp(actpblk.descr[i].name, "mode") != 0)
			continue;
		char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
		if (strcmp(v, "score") != 0 && strcmp(v, "route") != 0) {
			parser_errmsg("mmriskscore: parameter 'mode': invalid value '%s', expected "
				      "\"score\" (the default) or \"route\"", v);
			free(v);
			ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
		}
		pData->route = !strcmp(v, "route");
		free(v);
	}
	for (i = 0; i < actpblk.nParams; ++i) {
		if (pvals[i].bUsed && pData->route && !route_param(actpblk.descr[i].name)) {
			parser_errmsg("mmriskscore: parameter '%s' has no meaning with mode=\"route\": "
				      "a relay parses and names the user's shard, it scores nothing "
				      "and keeps no state; give it to the scorers", actpblk.descr[i].name);
			ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
		}
	}

	/* The model file first, so that parameters given in rsyslog.conf override it. */
	for (i = 0; i < actpblk.nParams; ++i) {
		if (!pvals[i].bUsed || strcmp(actpblk.descr[i].name, "model") != 0)
			continue;
		pData->model_path = es_str2cstr(pvals[i].val.d.estr, NULL);
		if (mmr_config_load_model(&pData->cfg, pData->model_path, err, sizeof(err)) != 0) {
			parser_errmsg("mmriskscore: parameter 'model': %s", err);
			ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
		}
	}

	for (i = 0; i < actpblk.nParams; ++i) {
		const char *name = actpblk.descr[i].name;
		if (!pvals[i].bUsed)
			continue;
		if (!strcmp(name, "mode")) {
			/* read before the loop */
		} else if (!strcmp(name, "shards")) {
			long long v = (long long)pvals[i].val.d.n;
			if (v < 1 || v > MMR_SHARDS_MAX) {
				parser_errmsg("mmriskscore: parameter 'shards': %lld is out of range: the "
					      "number of virtual shards, 1-%d", v, MMR_SHARDS_MAX);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
			pData->nshards = (uint32_t)v;
			shards_set = true;
		} else if (!strcmp(name, "shards.owned")) {
			free(pData->owned_spec);
			pData->owned_spec = es_str2cstr(pvals[i].val.d.estr, NULL);
		} else if (!strcmp(name, "statedir")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			free(pData->statedir);
			pData->statedir = statedir_path(v, err, sizeof(err));
			free(v);
			if (pData->statedir == NULL) {
				parser_errmsg("mmriskscore: parameter 'statedir': %s", err);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
		} else if (!strcmp(name, "rulebase")) {
			pData->rulebase_path = es_str2cstr(pvals[i].val.d.estr, NULL);
		} else if (!strcmp(name, "parsedfields")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			if (v[0] != '$' || (v[1] != '!' && v[1] != '.')) {
				parser_errmsg("mmriskscore: parameter 'parsedfields': invalid value "
					      "'%s', expected a message variable such as \"$!\" or "
					      "\"$!parsed\"", v);
				free(v);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
			CHKmalloc(pData->parsed = calloc(1, sizeof(msgPropDescr_t)));
			iRet = msgPropDescrFill(pData->parsed, (uchar *)v, (int)strlen(v));
			free(v);
			CHKiRet(iRet);
		} else if (!strcmp(name, "container") || !strcmp(name, "eventcontainer")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			uchar **dst = !strcmp(name, "container") ? &pData->container
								  : &pData->eventcontainer;
			free(*dst);
			*dst = NULL;
			if (v[0] == '\0' && dst == &pData->eventcontainer) {
				pData->eventcontainer = (uchar *)strdup(""); /* disabled */
			} else if ((*dst = container_name(name, v)) == NULL) {
				free(v);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
			free(v);
		} else if (!strcmp(name, "parse.input")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			if (!strcmp(v, "tagmsg"))
				pData->input = INPUT_TAGMSG;
			else if (!strcmp(v, "msg"))
				pData->input = INPUT_MSG;
			else if (!strcmp(v, "rawmsg"))
				pData->input = INPUT_RAWMSG;
			else {
				parser_errmsg("mmriskscore: parameter 'parse.input': invalid value "
					      "'%s', expected \"tagmsg\", \"msg\" or \"rawmsg\"", v);
				free(v);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
			free(v);
		} else if (!strcmp(name, "mappings")) {
			pData->mappings_path = es_str2cstr(pvals[i].val.d.estr, NULL);
		} else if (!strcmp(name, "user.domain")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			if (!strcmp(v, "strip") || !strcmp(v, "keep")) {
				pData->cfg.user_norm.strip_domain = !strcmp(v, "strip");
			} else {
				parser_errmsg("mmriskscore: parameter 'user.domain': invalid value '%s', "
					      "expected \"strip\" or \"keep\"", v);
				free(v);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
			free(v);
		} else if (!strcmp(name, "user.defaultdomain")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			size_t cap = sizeof(pData->cfg.user_norm.default_domain);
			if (strlen(v) >= cap || strchr(v, '@') != NULL || strchr(v, ' ') != NULL) {
				parser_errmsg("mmriskscore: parameter 'user.defaultdomain': invalid value "
					      "'%s' (a domain such as corp.example, at most %zu characters)",
					      v, cap - 1);
				free(v);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
			memcpy(pData->cfg.user_norm.default_domain, v, strlen(v) + 1);
			free(v);
		} else if (!strcmp(name, "corporatenetworks")) {
			for (int j = 0; j < pvals[i].val.d.ar->nmemb; ++j) {
				char *net = es_str2cstr(pvals[i].val.d.ar->arr[j], NULL);
				int r = mmr_config_add_corporate_network(&pData->cfg, net, err,
									 sizeof(err));
				free(net);
				if (r != 0) {
					parser_errmsg("mmriskscore: parameter 'corporatenetworks': %s",
						      err);
					ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
				}
			}
		} else if (!strcmp(name, "learning.minevents")) {
			pData->cfg.learning_min_events = (uint32_t)pvals[i].val.d.n;
		} else if (!strcmp(name, "learning.mindays")) {
			pData->cfg.learning_min_days = (uint32_t)pvals[i].val.d.n;
		} else if (!strcmp(name, "userscore.halflife")) {
			pData->cfg.user_score_halflife = pvals[i].val.d.n;
		} else if (!strcmp(name, "userscore.scale")) {
			pData->cfg.user_score_scale = (double)pvals[i].val.d.n;
		} else if (!strcmp(name, "userscore.rulecooldown")) {
			pData->cfg.rule_cooldown = pvals[i].val.d.n;
		} else if (!strcmp(name, "farm.minusers")) {
			pData->cfg.farm_min_users = (uint32_t)pvals[i].val.d.n;
		} else if (!strcmp(name, "farm.window")) {
			pData->cfg.farm_window = pvals[i].val.d.n;
		} else if (!strcmp(name, "failburst.user.count")) {
			pData->cfg.failburst_user_count = (uint32_t)pvals[i].val.d.n;
		} else if (!strcmp(name, "failburst.ip.count")) {
			pData->cfg.failburst_ip_count = (uint32_t)pvals[i].val.d.n;
		} else if (!strcmp(name, "failburst.window")) {
			pData->cfg.failburst_window = pvals[i].val.d.n;
		} else if (!strcmp(name, "state.maxusers")) {
			pData->cfg.max_users = (uint32_t)pvals[i].val.d.n;
		} else if (!strcmp(name, "state.maxips")) {
			pData->cfg.max_ips = (uint32_t)pvals[i].val.d.n;
		} else if (!strcmp(name, "time.maxfuture")) {
			pData->cfg.max_future = pvals[i].val.d.n;
		} else if (!strcmp(name, "statefile")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			free(pData->statefile);
			pData->statefile = statefile_path(v, err, sizeof(err));
			free(v);
			if (pData->statefile == NULL) {
				parser_errmsg("mmriskscore: parameter 'statefile': %s", err);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
		} else if (!strcmp(name, "statefile.interval")) {
			long long v = (long long)pvals[i].val.d.n;
			if (v < 0 || v > STATEFILE_INTERVAL_MAX) {
				parser_errmsg("mmriskscore: parameter 'statefile.interval': %lld is out of "
					      "range: seconds between snapshots, 1-%d, or 0 for a snapshot "
					      "only at shutdown", v, STATEFILE_INTERVAL_MAX);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
			pData->snap_interval = v;
			interval_set = true;
		} else if (!strcmp(name, "statefile.pseudonymkey")) {
			bool loose = false;
			free(pData->pkey_path);
			pData->pkey_path = es_str2cstr(pvals[i].val.d.estr, NULL);
			if (read_pseudonym_key(pData->pkey_path, pData->pkey, &loose, err,
					       sizeof(err)) != 0) {
				parser_errmsg("mmriskscore: parameter 'statefile.pseudonymkey': %s", err);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
			if (loose)
				parser_warnmsg("mmriskscore: parameter 'statefile.pseudonymkey': '%s' may "
					       "be read by group or others (chmod 600 it): whoever has the "
					       "key can test user names against the state file",
					       pData->pkey_path);
			pData->has_pkey = true;
		} else if (!strcmp(name, "statsname")) {
			pData->statsname = es_str2cstr(pvals[i].val.d.estr, NULL);
		} else if (!strcmp(name, "model")) {
			/* read before the loop */
		} else if (!strcmp(name, "roster") || !strcmp(name, "geoip.city") ||
			   !strcmp(name, "geoip.asn") || !strcmp(name, "lists.dir")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			const char **dst = !strcmp(name, "roster")       ? &pData->ctx_paths.roster
					   : !strcmp(name, "geoip.city") ? &pData->ctx_paths.geoip_city
					   : !strcmp(name, "geoip.asn")  ? &pData->ctx_paths.geoip_asn
									 : &pData->ctx_paths.lists_dir;
			if (v[0] == '\0') {
				free(v);
				v = NULL;
			}
			free((char *)*dst);
			*dst = v;
		} else if (!strcmp(name, "newhire.factor") || !strcmp(name, "privileged.factor")) {
			char *v = es_str2cstr(pvals[i].val.d.estr, NULL);
			int r = mmr_config_set(&pData->cfg, name, v, err, sizeof(err));
			free(v);
			if (r != 0) {
				parser_errmsg("mmriskscore: parameter '%s': %s", name, err);
				ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
			}
		} else {
			dbgprintf("mmriskscore: program error, non-handled param '%s'\n", name);
		}
	}

	if (pData->rulebase_path != NULL && pData->parsed != NULL) {
		parser_errmsg("mmriskscore: the parameters 'rulebase' (parse with a liblognorm "
			      "rulebase) and 'parsedfields' (use fields parsed by mmnormalize or "
			      "mmjsonparse) exclude each other");
		ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
	}
	if (pData->rulebase_path == NULL && pData->parsed == NULL && pData->mappings_path == NULL) {
		parser_errmsg("mmriskscore: nothing to parse with: give 'rulebase' (text logs), "
			      "'mappings' (JSON and key=value logs), both, or 'parsedfields'");
		ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
	}
	if (pData->mappings_path != NULL &&
	    (pData->maps = mmr_mappings_load(pData->mappings_path, err, sizeof(err))) == NULL) {
		parser_errmsg("mmriskscore: parameter 'mappings': %s", err);
		ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
	}
	if (pData->container == NULL)
		CHKmalloc(pData->container = (uchar *)strdup(pData->route ? "!route" : "!risk"));
	if (pData->eventcontainer == NULL)
		CHKmalloc(pData->eventcontainer = (uchar *)strdup("!event"));
	if (pData->rulebase_path != NULL &&
	    (pData->rb = mmr_rulebase_load(pData->rulebase_path, err, sizeof(err))) == NULL) {
		parser_errmsg("mmriskscore: parameter 'rulebase': cannot load '%s': %s",
			      pData->rulebase_path, err);
		ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
	}
	if (pData->rb != NULL && mmr_rulebase_warning(pData->rb) != NULL)
		parser_warnmsg("mmriskscore: parameter 'rulebase': %s", mmr_rulebase_warning(pData->rb));
	if (pData->route)
		goto registered; /* no engine, no context, no state: see route_param */
	if ((pData->engine = mmr_engine_new(&pData->cfg, err, sizeof(err))) == NULL) {
		parser_errmsg("mmriskscore: %s", err);
		ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
	}
	if (pData->statefile != NULL && pData->statedir != NULL) {
		parser_errmsg("mmriskscore: the parameters 'statefile' (one snapshot file) and "
			      "'statedir' (a directory of per-shard snapshot files) exclude each other");
		ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
	}
	if (pData->statedir != NULL || pData->owned_spec != NULL) {
		pData->shards = mmr_shard_set_new(pData->nshards, pData->owned_spec, err, sizeof(err));
		if (pData->shards == NULL) {
			parser_errmsg("mmriskscore: parameter 'shards.owned': '%s': %s (shards=%u)",
				      pData->owned_spec, err, pData->nshards);
			ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
		}
	} else if (shards_set) {
		parser_warnmsg("mmriskscore: parameter 'shards' has no effect in mode=\"score\" "
			       "without 'statedir' or 'shards.owned'");
	}
	if (pData->statefile == NULL && pData->statedir == NULL && (pData->has_pkey || interval_set))
		parser_warnmsg("mmriskscore: parameter '%s' has no effect without 'statefile' or "
			       "'statedir' (state is kept in memory only)",
			       pData->has_pkey ? "statefile.pseudonymkey" : "statefile.interval");
	if (state_taken(pData)) {
		const bool dir = pData->statedir != NULL;
		parser_errmsg("mmriskscore: parameter '%s': '%s' is already the state %s of another "
			      "mmriskscore action; give each action its own", dir ? "statedir" : "statefile",
			      dir ? pData->statedir : pData->statefile, dir ? "directory" : "file");
		ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
	}
	load_context(pData, "start");
registered:
	CHKiRet(setup_stats(pData));
	pthread_mutex_lock(&inst_lock);
	pData->next = inst_list;
	inst_list = pData;
	pthread_mutex_unlock(&inst_lock);

CODE_STD_FINALIZERnewActInst
	/* rsyslog names unknown parameters only for actions that were created: when we fail,
	 * name them ourselves, or a typo ("rulebsae") hides behind the error it causes. */
	if (iRet != RS_RET_OK && lst != NULL)
		nvlstChkUnused(lst);
	cnfparamvalsDestruct(pvals, &actpblk);
ENDnewActInst

static void stats_read(statsobj_t __attribute__((unused)) *s, void *ctx)
{
	instanceData *pData = ctx;
	if (pData->engine == NULL)
		return; /* mode="route": the gauges stay 0 */
	mmr_stats st;
	mmr_engine_stats(pData->engine, &st);
	pData->users = st.users;
	pData->usersEvicted = st.users_evicted;
	pData->ips = st.ips;
	pData->ipsEvicted = st.ips_evicted;
	pData->ruleSlotsEvicted = st.rule_slots_evicted;
	pData->reasonsDropped = st.reasons_dropped;
	pData->allowlisted = st.allowlisted;
	pData->timeClamped = st.time_clamped;
	for (int i = 0; i < 5; i++)
		pData->level[i] = st.level[i];
	pData->geoipLookups = st.geoip_lookups;
	pData->geoipCacheHits = st.geoip_cache_hits;
	pData->stateBytes = mmr_engine_state_bytes(pData->engine);
	uint64_t waiting = 0, reattached = 0;
	mmr_engine_pseudonym_counts(pData->engine, &waiting, &reattached);
	pData->pseudoWaiting = waiting;
	pData->pseudoReattached = reattached;
	pData->snapDurationMs = atomic_load(&pData->snap_duration_ms);
	pData->snapMaxStallMs = atomic_load(&pData->snap_max_stall_ms);
	pData->snapBytes = atomic_load(&pData->snap_bytes);
	pData->snapUsers = atomic_load(&pData->snap_users);
	pData->snapFiles = atomic_load(&pData->snap_files);
}

static rsRetVal setup_stats(instanceData *pData)
{
	DEFiRet;
	CHKiRet(statsobj.Construct(&pData->stats));
	CHKiRet(statsobj.SetName(pData->stats,
				 (uchar *)(pData->statsname ? pData->statsname : "mmriskscore")));
	CHKiRet(statsobj.SetOrigin(pData->stats, (uchar *)"mmriskscore"));
#define ADD_CTR(name, ctr, mut)                                                                \
	STATSCOUNTER_INIT(pData->ctr, pData->mut);                                             \
	CHKiRet(statsobj.AddCounter(pData->stats, (uchar *)name, ctrType_IntCtr,               \
				    CTR_FLAG_RESETTABLE, &pData->ctr));
	ADD_CTR("submitted", ctrSubmitted, mutCtrSubmitted)
	ADD_CTR("parsed", ctrParsed, mutCtrParsed)
	ADD_CTR("scored", ctrScored, mutCtrScored)
	ADD_CTR("unparsed", ctrUnparsed, mutCtrUnparsed)
	ADD_CTR("not_identity", ctrNotIdentity, mutCtrNotIdentity)
	ADD_CTR("failed", ctrFailed, mutCtrFailed)
	ADD_CTR("rulebase.reloads", ctrReloads, mutCtrReloads)
	ADD_CTR("rulebase.reload_failed", ctrReloadFailed, mutCtrReloadFailed)
	ADD_CTR("context.reloads", ctrCtxReloads, mutCtrCtxReloads)
	ADD_CTR("context.reload_failed", ctrCtxReloadFailed, mutCtrCtxReloadFailed)
	ADD_CTR("snapshots", ctrSnapshots, mutCtrSnapshots)
	ADD_CTR("snapshot.failed", ctrSnapFailed, mutCtrSnapFailed)
	ADD_CTR("routed", ctrRouted, mutCtrRouted)
	ADD_CTR("misrouted", ctrMisrouted, mutCtrMisrouted)
#undef ADD_CTR
#define ADD_GAUGE(name, field)                                                                 \
	CHKiRet(statsobj.AddCounter(pData->stats, (uchar *)name, ctrType_IntCtr, CTR_FLAG_NONE, \
				    &pData->field));
	ADD_GAUGE("users", users)
	ADD_GAUGE("users.evicted", usersEvicted)
	ADD_GAUGE("ips", ips)
	ADD_GAUGE("ips.evicted", ipsEvicted)
	ADD_GAUGE("rules.slots_evicted", ruleSlotsEvicted)
	ADD_GAUGE("reasons.dropped", reasonsDropped)
	ADD_GAUGE("reasons.allowlisted", allowlisted)
	ADD_GAUGE("events.time_clamped", timeClamped)
	ADD_GAUGE("events.unknown", level[0])
	ADD_GAUGE("events.low", level[1])
	ADD_GAUGE("events.moderate", level[2])
	ADD_GAUGE("events.high", level[3])
	ADD_GAUGE("events.critical", level[4])
	ADD_GAUGE("geoip.lookups", geoipLookups)
	ADD_GAUGE("geoip.cache_hits", geoipCacheHits)
	ADD_GAUGE("state.bytes", stateBytes)
	ADD_GAUGE("snapshot.duration_ms", snapDurationMs)
	ADD_GAUGE("snapshot.max_stall_ms", snapMaxStallMs)
	ADD_GAUGE("snapshot.bytes", snapBytes)
	ADD_GAUGE("snapshot.users", snapUsers)
	ADD_GAUGE("snapshot.files", snapFiles)
	ADD_GAUGE("pseudonyms.waiting", pseudoWaiting)
	ADD_GAUGE("pseudonyms.reattached", pseudoReattached)
#undef ADD_GAUGE
	CHKiRet(statsobj.SetReadNotifier(pData->stats, stats_read, pData));
	CHKiRet(statsobj.ConstructFinalize(pData->stats));
finalize_it:
	RETiRet;
}

/* ---- the state file: restore at activation, snapshots on a thread, the last one at shutdown */

static double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void utc_format(int64_t t, const char *fmt, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
		snprintf(buf, len, "?");
}

/* Where the state lives, for messages: the state file or the state directory (NULL: none). */
static const char *state_where(const instanceData *pData)
{
	return pData->statefile != NULL ? pData->statefile : pData->statedir;
}

static mmr_snapshot_opts snapshot_opts(const instanceData *pData)
{
	mmr_snapshot_opts o = {.pseudonym_key = pData->has_pkey ? pData->pkey : NULL};
	return o;
}

/* Moves an unusable state file aside to "<statefile>.corrupt-YYYYmmddTHHMMSS" (UTC; "-2",
 * "-3", ... when that name is taken), where it stays for a post-mortem. Returns 0 with the new
 * name in dst, or -1 with the reason in dst. */
static int move_aside(const char *path, char *dst, size_t dlen)
{
	char stamp[32];
	utc_format((int64_t)time(NULL), "%Y%m%dT%H%M%S", stamp, sizeof(stamp));
	for (int k = 1; k < 1000; k++) {
		struct stat st;
		if (k == 1)
			snprintf(dst, dlen, "%s.corrupt-%s", path, stamp);
		else
			snprintf(dst, dlen, "%s.corrupt-%s-%d", path, stamp, k);
		if (lstat(dst, &st) == 0)
			continue;
		if (rename(path, dst) == 0)
			return 0;
		snprintf(dst, dlen, "%s", strerror(errno));
		return -1;
	}
	snprintf(dst, dlen, "too many files named %s.corrupt-%s*", path, stamp);
	return -1;
}

/* A file of the state directory that cannot be used goes aside like a state file: its shard
 * starts fresh, the others are restored. */
static void unusable_shard_file(void *arg, const char *path, const char *why)
{
	char aside[4096];
	size_t plen = strlen(path);
	(void)arg;
	if (!strncmp(why, path, plen) && why[plen] == ':' && why[plen + 1] == ' ')
		why += plen + 2;
	if (move_aside(path, aside, sizeof(aside)) == 0)
		LogError(0, RS_RET_ERR, "mmriskscore: the state file '%s' cannot be used: %s; moved "
			 "aside to '%s', what it held starts fresh", path, why, aside);
	else
		LogError(0, RS_RET_ERR, "mmriskscore: the state file '%s' cannot be used: %s; it "
			 "cannot be moved aside either (%s) and will be replaced by the next snapshot; "
			 "what it held starts fresh", path, why, aside);
}

/* Complains now, not at the first snapshot, when a directory is not writable (after rsyslog
 * dropped privileges). */
static void check_writable(const char *dir, const char *what)
{
	if (access(dir, W_OK | X_OK) != 0)
		LogError(0, RS_RET_ERR, "mmriskscore: cannot write to the directory '%s' %s (%s, uid "
			 "%u): snapshots will fail", dir, what, strerror(errno), (unsigned)geteuid());
}

/* statedir: restores every shard file of the owned shards, and the global file. */
static void restore_shards_state(instanceData *pData)
{
	char err[1024] = "";
	mmr_snapshot_info info;
	mmr_snapshot_opts opts = snapshot_opts(pData);
	int status = -1;
	memset(&info, 0, sizeof(info));
	mmr_engine *e = mmr_engine_restore_shards(&pData->cfg, pData->statedir, pData->shards,
						  &opts, unusable_shard_file, pData, &status, &info,
						  err, sizeof(err));
	if (e == NULL) {
		pData->snap_disabled = true;
		LogError(0, RS_RET_ERR, "mmriskscore: cannot restore the state directory '%s': %s; "
			 "running with fresh state and writing no snapshot in this run, so that its "
			 "files are kept", pData->statedir, err);
		return;
	}
	mmr_engine_free(pData->engine);
	pData->engine = e;
	char owned[64];
	snprintf(owned, sizeof(owned), "owning %u of %u shards",
		 mmr_shard_set_owned(pData->shards), mmr_shard_set_count(pData->shards));
	if (status == 0)
		LogMsg(0, NO_ERRCODE,
		       info.files_failed || info.files_ignored || info.sections_dropped ? LOG_WARNING
											: LOG_INFO,
		       "mmriskscore: state restored (%s, format %u, %llu bytes, read in %.3f s): %s",
		       owned, (unsigned)info.format_version, (unsigned long long)info.bytes,
		       info.seconds, info.message);
	else if (status == 1)
		LogMsg(0, NO_ERRCODE, LOG_INFO, "mmriskscore: no state files in '%s', starting fresh "
		       "(%s)", pData->statedir, owned);
	else
		LogError(0, RS_RET_ERR, "mmriskscore: %s; starting with fresh state", err);
	check_writable(pData->statedir, "of the state");
}

/* Restores pData->statefile into a new engine that replaces the fresh one newActInst made.
 * Whatever the file holds, the module runs afterwards: with the restored state, or fresh. */
static void restore_state(instanceData *pData)
{
	if (pData->statedir != NULL) {
		restore_shards_state(pData);
		return;
	}
	char err[1024] = "", aside[4096], tmp[4096];
	mmr_snapshot_info info;
	mmr_snapshot_opts opts = snapshot_opts(pData);
	int status = -1;

	/* a crash during a snapshot leaves the unfinished "<statefile>.tmp" behind (the previous
	 * snapshot is intact): it is never read, only removed */
	snprintf(tmp, sizeof(tmp), "%s.tmp", pData->statefile);
	if (unlink(tmp) == 0)
		LogMsg(0, NO_ERRCODE, LOG_INFO, "mmriskscore: removed '%s', an unfinished snapshot "
		       "left by a crash; the last complete snapshot is '%s'", tmp, pData->statefile);

	memset(&info, 0, sizeof(info));
	mmr_engine *e = mmr_engine_restore(&pData->cfg, pData->statefile, &opts, &status, &info,
					   err, sizeof(err));
	if (e == NULL) {
		/* no engine at all (out of memory): keep the fresh one, and never overwrite a file
		 * that was not read */
		pData->snap_disabled = true;
		LogError(0, RS_RET_ERR, "mmriskscore: cannot restore the state file '%s': %s; running "
			 "with fresh state and writing no snapshot in this run, so that the file is "
			 "kept", pData->statefile, err);
		return;
	}
	mmr_engine_free(pData->engine);
	pData->engine = e;
	/* the engine's reasons may start with the path, which the messages below name anyway */
	const char *why = err;
	size_t plen = strlen(pData->statefile);
	if (!strncmp(why, pData->statefile, plen) && why[plen] == ':' && why[plen + 1] == ' ')
		why += plen + 2;

	if (status == 0) {
		/* the engine's message says what was restored and what was not (relearning
		 * detectors, users beyond state.maxusers); a warning when something was dropped */
		char what[640];
		if (info.message[0] != '\0') {
			snprintf(what, sizeof(what), "%s", info.message);
		} else {
			char when[40];
			utc_format(info.created, "%Y-%m-%dT%H:%M:%SZ", when, sizeof(when));
			snprintf(what, sizeof(what), "restored %llu users and %llu table entries "
				 "(written %s)", (unsigned long long)info.users,
				 (unsigned long long)info.entries, when);
		}
		LogMsg(0, NO_ERRCODE, info.sections_dropped ? LOG_WARNING : LOG_INFO,
		       "mmriskscore: state restored from '%s' (format %u, %llu bytes, read in %.3f "
		       "s): %s", pData->statefile, (unsigned)info.format_version,
		       (unsigned long long)info.bytes, info.seconds, what);
	} else if (status == 1) {
		LogMsg(0, NO_ERRCODE, LOG_INFO, "mmriskscore: no state file '%s', starting fresh%s",
		       pData->statefile,
		       pData->snap_interval > 0 ? "" : " (snapshot at shutdown only)");
	} else if (move_aside(pData->statefile, aside, sizeof(aside)) == 0) {
		LogError(0, RS_RET_ERR, "mmriskscore: the state file '%s' cannot be used: %s; moved "
			 "aside to '%s', starting with fresh state", pData->statefile, why, aside);
	} else {
		LogError(0, RS_RET_ERR, "mmriskscore: the state file '%s' cannot be used: %s; it "
			 "cannot be moved aside either (%s) and will be replaced by the next snapshot; "
			 "starting with fresh state", pData->statefile, why, aside);
	}

	char *dir = strdup(pData->statefile);
	if (dir != NULL) {
		char *slash = strrchr(dir, '/');
		if (slash != NULL) {
			*slash = '\0';
			check_writable(slash == dir ? "/" : dir, "of the state file");
		}
		free(dir);
	}
}

/* Writes one snapshot and accounts for it. Failures are logged when they start, when the
 * reason changes and when snapshots work again, not once per interval. */
static int take_snapshot(instanceData *pData, const char *why)
{
	char err[1024] = "";
	mmr_snapshot_info info;
	mmr_snapshot_opts opts = snapshot_opts(pData);

	memset(&info, 0, sizeof(info));
	double t0 = mono_seconds();
	int r = pData->statedir != NULL
			? mmr_engine_save_shards(pData->engine, pData->statedir, pData->shards, &opts,
						 &info, err, sizeof(err))
			: mmr_engine_save(pData->engine, pData->statefile, &opts, &info, err,
					  sizeof(err));
	double ms = (mono_seconds() - t0) * 1000.0;
	if (r == 0) {
		STATSCOUNTER_INC(pData->ctrSnapshots, pData->mutCtrSnapshots);
		atomic_store(&pData->snap_duration_ms, (uint64_t)(ms + 0.5));
		uint64_t stall = (uint64_t)(info.max_stall_ms + 0.5);
		if (stall > atomic_load(&pData->snap_max_stall_ms))
			atomic_store(&pData->snap_max_stall_ms, stall);
		atomic_store(&pData->snap_bytes, info.bytes);
		atomic_store(&pData->snap_users, info.users);
		atomic_store(&pData->snap_files, pData->statedir != NULL ? info.files : 1);
		if (pData->snap_failed_in_row > 0)
			LogMsg(0, NO_ERRCODE, LOG_INFO, "mmriskscore: snapshots to '%s' work again "
			       "after %llu failed", state_where(pData),
			       (unsigned long long)pData->snap_failed_in_row);
		pData->snap_failed_in_row = 0;
		pData->snap_last_err[0] = '\0';
		return 0;
	}
	STATSCOUNTER_INC(pData->ctrSnapFailed, pData->mutCtrSnapFailed);
	if (pData->snap_failed_in_row == 0 ||
	    strncmp(err, pData->snap_last_err, sizeof(pData->snap_last_err) - 1) != 0)
		LogError(0, RS_RET_ERR, "mmriskscore: %s snapshot to '%s' failed: %s; the previous "
			 "snapshot is kept", why, state_where(pData), err);
	snprintf(pData->snap_last_err, sizeof(pData->snap_last_err), "%s", err);
	pData->snap_failed_in_row++;
	return -1;
}

/* One per action with a statefile and an interval: sleeps on a condition variable (so that
 * shutdown does not wait for the interval), then saves while the workers go on scoring. */
static void *snapshot_thread(void *arg)
{
	instanceData *pData = arg;
	pthread_mutex_lock(&pData->snap_mtx);
	while (!pData->snap_stop) {
		struct timespec deadline;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += (time_t)pData->snap_interval;
		while (!pData->snap_stop &&
		       pthread_cond_timedwait(&pData->snap_cond, &pData->snap_mtx, &deadline) !=
			       ETIMEDOUT)
			;
		if (pData->snap_stop)
			break;
		pthread_mutex_unlock(&pData->snap_mtx);
		take_snapshot(pData, "periodic");
		pthread_mutex_lock(&pData->snap_mtx);
	}
	pthread_mutex_unlock(&pData->snap_mtx);
	return NULL;
}

/* Called by activateCnf (inst_lock held): restore, hand over the context, start the thread. */
static void activate_instance(instanceData *pData)
{
	pData->activated = true;
	if (pData->route)
		return; /* no engine */
	if (state_where(pData) != NULL)
		restore_state(pData);
	mmr_engine_set_context(pData->engine, pData->start_ctx);
	pData->start_ctx = NULL;
	if (state_where(pData) == NULL || pData->snap_interval == 0 || pData->snap_disabled)
		return;
	/* rsyslog's signals (HUP, TERM) belong to its main thread */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&pData->snap_thread, NULL, snapshot_thread, pData);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		LogError(0, RS_RET_ERR, "mmriskscore: cannot start the snapshot thread for '%s': %s; "
			 "the state is saved at shutdown only", state_where(pData), strerror(r));
		return;
	}
	pthread_setname_np(pData->snap_thread, "mmrisk-snap");
	pData->snap_thread_running = true;
}

/* freeInstance, after the workers stopped: stop the snapshot thread (at once, even in the
 * middle of an interval; a snapshot being written is finished first), then the final one. */
static void deactivate_instance(instanceData *pData)
{
	if (!pData->activated)
		return; /* rsyslogd -N1, or a failed newActInst: no state file is touched */
	if (pData->snap_thread_running) {
		pthread_mutex_lock(&pData->snap_mtx);
		pData->snap_stop = true;
		pthread_cond_signal(&pData->snap_cond);
		pthread_mutex_unlock(&pData->snap_mtx);
		pthread_join(pData->snap_thread, NULL);
		pData->snap_thread_running = false;
	}
	if (state_where(pData) != NULL && !pData->snap_disabled) {
		double t0 = mono_seconds();
		if (take_snapshot(pData, "final") == 0)
			LogMsg(0, NO_ERRCODE, LOG_INFO, "mmriskscore: final snapshot written to '%s': "
			       "%llu users, %llu bytes in %.3f s", state_where(pData),
			       (unsigned long long)atomic_load(&pData->snap_users),
			       (unsigned long long)atomic_load(&pData->snap_bytes),
			       mono_seconds() - t0);
	}
	pData->activated = false;
}

/* The event time when the log body has none: the message's own (reported) timestamp. */
static int64_t reported_time(smsg_t *pMsg)
{
	const struct syslogTime *t = &pMsg->tTIMESTAMP;
	int off = (t->OffsetHour * 3600 + t->OffsetMinute * 60) * (t->OffsetMode == '-' ? -1 : 1);
	return mmr_time_from_civil(t->year, t->month, t->day, t->hour, t->minute, t->second, off);
}

static int scratch_reserve(wrkrInstanceData_t *w, size_t need)
{
	if (need <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap : 512;
	while (cap < need)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (b == NULL)
		return -1;
	w->buf = b;
	w->cap = cap;
	return 0;
}

/* Builds the parse input for rulebases: by default the syslog tag followed by the message,
 * exactly as the line reads after the hostname ("sshd[42]: Accepted ..."). */
static const char *parse_input(wrkrInstanceData_t *w, smsg_t *pMsg, size_t *len)
{
	uchar *msg, *tag;
	int mlen, tlen;

	if (w->pData->input == INPUT_RAWMSG) {
		getRawMsg(pMsg, &msg, &mlen);
		*len = (size_t)mlen;
		return (const char *)msg;
	}
	msg = getMSG(pMsg);
	mlen = getMSGLen(pMsg);
	if (w->pData->input == INPUT_MSG) {
		while (mlen > 0 && *msg == ' ') {
			msg++;
			mlen--;
		}
		*len = (size_t)mlen;
		return (const char *)msg;
	}
	getTAG(pMsg, &tag, &tlen, LOCK_MUTEX);
	if (scratch_reserve(w, (size_t)tlen + (size_t)mlen + 2) != 0)
		return NULL;
	memcpy(w->buf, tag, (size_t)tlen);
	size_t n = (size_t)tlen;
	/* TCP-received BSD syslog keeps the space after the tag in msg; UDP may not. */
	if (n > 0 && mlen > 0 && msg[0] != ' ')
		w->buf[n++] = ' ';
	memcpy(w->buf + n, msg, (size_t)mlen);
	n += (size_t)mlen;
	w->buf[n] = '\0';
	*len = n;
	return w->buf;
}

/* Message -> canonical event, by the engine's one parse path (engine/parse/parse_event.c):
 * JSON messages through the mappings, text through the rulebase. */
static mmr_parse_status parse_message(wrkrInstanceData_t *w, smsg_t *pMsg, mmr_event *ev)
{
	instanceData *pData = w->pData;
	int64_t fallback = reported_time(pMsg);

	if (pData->parsed != NULL) {
		struct json_object *fields = NULL;
		if (msgGetJSONPropJSON(pMsg, pData->parsed, &fields) != RS_RET_OK || fields == NULL)
			return MMR_PARSE_UNPARSED;
		pthread_rwlock_rdlock(&pData->rb_lock);
		mmr_parse_status st =
			mmr_parse_fields(fields, pData->maps, &pData->cfg.user_norm, fallback, ev, NULL);
		pthread_rwlock_unlock(&pData->rb_lock);
		json_object_put(fields);
		return st;
	}
	mmr_parse_input in = {.fallback_time = fallback};
	in.msg = (const char *)getMSG(pMsg);
	in.msg_len = (size_t)getMSGLen(pMsg);
	if (pData->rulebase_path != NULL && (in.text = parse_input(w, pMsg, &in.text_len)) == NULL)
		return MMR_PARSE_UNPARSED;
	pthread_rwlock_rdlock(&pData->rb_lock);
	mmr_parse_status st = mmr_parse_event(pData->rb, pData->maps, &in, &pData->cfg.user_norm,
					      ev, NULL);
	pthread_rwlock_unlock(&pData->rb_lock);
	return st;
}

/* mode="route": <container>!shard and <container>!user, for the relay's routing. */
static void route_message(instanceData *pData, smsg_t *pMsg, const mmr_event *ev)
{
	size_t len = strlen(ev->user);
	struct json_object *o = json_object_new_object();
	struct json_object *shard = json_object_new_int(
		(int32_t)mmr_user_shard(ev->user, len, pData->nshards));
	struct json_object *user = json_object_new_string_len(ev->user, (int)len);
	if (o == NULL || shard == NULL || user == NULL) {
		json_object_put(o);
		json_object_put(shard);
		json_object_put(user);
		STATSCOUNTER_INC(pData->ctrFailed, pData->mutCtrFailed);
		return;
	}
	json_object_object_add(o, "shard", shard);
	json_object_object_add(o, "user", user);
	msgAddJSON(pMsg, pData->container, o, 1, 0);
	STATSCOUNTER_INC(pData->ctrRouted, pData->mutCtrRouted);
}

BEGINdoAction_NoStrings
	smsg_t **ppMsg = (smsg_t **)pMsgData;
	smsg_t *pMsg = ppMsg[0];
	instanceData *pData;
	mmr_event ev;
	mmr_result res;
CODESTARTdoAction
	pData = pWrkrData->pData;
	STATSCOUNTER_INC(pData->ctrSubmitted, pData->mutCtrSubmitted);
	switch (parse_message(pWrkrData, pMsg, &ev)) {
	case MMR_PARSE_UNPARSED:
		STATSCOUNTER_INC(pData->ctrUnparsed, pData->mutCtrUnparsed);
		FINALIZE;
	case MMR_PARSE_NOT_IDENTITY:
		STATSCOUNTER_INC(pData->ctrParsed, pData->mutCtrParsed);
		STATSCOUNTER_INC(pData->ctrNotIdentity, pData->mutCtrNotIdentity);
		FINALIZE;
	case MMR_PARSE_OK:
		STATSCOUNTER_INC(pData->ctrParsed, pData->mutCtrParsed);
		break;
	}
	if (pData->route) {
		route_message(pData, pMsg, &ev);
		FINALIZE;
	}
	if (pData->owned_spec != NULL &&
	    !mmr_shard_set_owns_user(pData->shards, ev.user, strlen(ev.user))) {
		/* the relay sent a user of another scorer's shard: scoring it here would split
		 * the user's state over two scorers */
		STATSCOUNTER_INC(pData->ctrMisrouted, pData->mutCtrMisrouted);
		FINALIZE;
	}
	if (ev.host[0] == '\0') { /* a rule or mapping may name the device behind a relay */
		snprintf(ev.host, sizeof(ev.host), "%s", getHOSTNAME(pMsg));
		mmr_utf8_sanitize(ev.host);
	}
	if (mmr_engine_process(pData->engine, &ev, &res) != 0) {
		STATSCOUNTER_INC(pData->ctrFailed, pData->mutCtrFailed);
		FINALIZE;
	}
	struct json_object *risk = mmr_result_to_json(&res);
	if (risk == NULL) {
		STATSCOUNTER_INC(pData->ctrFailed, pData->mutCtrFailed);
		FINALIZE;
	}
	/* force_reset: replace whatever the container held, never merge into it */
	msgAddJSON(pMsg, pData->container, risk, 1, 0);
	if (pData->eventcontainer[0] != '\0') {
		struct json_object *evj = mmr_event_to_json(&ev);
		if (evj != NULL)
			msgAddJSON(pMsg, pData->eventcontainer, evj, 1, 0);
	}
	STATSCOUNTER_INC(pData->ctrScored, pData->mutCtrScored);
finalize_it:
	/* a message we cannot score still goes on, unchanged */
	iRet = RS_RET_OK;
ENDdoAction

/* HUP: reload the rulebase and the mappings. What fails to load is reported and the previous
 * version stays, so a typo during an edit never stops scoring. New files are loaded before the
 * write lock is taken: workers wait only for two pointer swaps. */
BEGINdoHUP
	char err[1024];
	mmr_rulebase *fresh_rb = NULL, *old_rb = NULL;
	mmr_mappings *fresh_maps = NULL, *old_maps = NULL;
CODESTARTdoHUP
	if (pData->rulebase_path != NULL) {
		fresh_rb = mmr_rulebase_load(pData->rulebase_path, err, sizeof(err));
		if (fresh_rb == NULL) {
			STATSCOUNTER_INC(pData->ctrReloadFailed, pData->mutCtrReloadFailed);
			LogError(0, RS_RET_ERR, "mmriskscore: HUP: cannot reload rulebase '%s', "
				 "keeping the previous one: %s", pData->rulebase_path, err);
		} else if (mmr_rulebase_warning(fresh_rb) != NULL) {
			LogMsg(0, NO_ERRCODE, LOG_WARNING, "mmriskscore: %s",
			       mmr_rulebase_warning(fresh_rb));
		}
	}
	if (pData->mappings_path != NULL) {
		fresh_maps = mmr_mappings_load(pData->mappings_path, err, sizeof(err));
		if (fresh_maps == NULL) {
			STATSCOUNTER_INC(pData->ctrReloadFailed, pData->mutCtrReloadFailed);
			LogError(0, RS_RET_ERR, "mmriskscore: HUP: cannot reload mappings, keeping the "
				 "previous ones: %s", err);
		}
	}
	if (fresh_rb != NULL || fresh_maps != NULL) {
		pthread_rwlock_wrlock(&pData->rb_lock);
		if (fresh_rb != NULL) {
			old_rb = pData->rb;
			pData->rb = fresh_rb;
		}
		if (fresh_maps != NULL) {
			old_maps = pData->maps;
			pData->maps = fresh_maps;
		}
		pthread_rwlock_unlock(&pData->rb_lock);
		mmr_rulebase_free(old_rb);
		mmr_mappings_free(old_maps);
		STATSCOUNTER_INC(pData->ctrReloads, pData->mutCtrReloads);
		if (fresh_rb != NULL)
			LogMsg(0, NO_ERRCODE, LOG_INFO, "mmriskscore: HUP: rulebase '%s' reloaded",
			       pData->rulebase_path);
		if (fresh_maps != NULL)
			LogMsg(0, NO_ERRCODE, LOG_INFO, "mmriskscore: HUP: mappings '%s' reloaded",
			       pData->mappings_path);
	}
	if (any_context(pData))
		load_context(pData, "HUP");
ENDdoHUP

NO_LEGACY_CONF_parseSelectorAct

BEGINmodExit
CODESTARTmodExit
	objRelease(statsobj, CORE_COMPONENT);
ENDmodExit

BEGINqueryEtryPt
CODESTARTqueryEtryPt
CODEqueryEtryPt_STD_OMOD_QUERIES
CODEqueryEtryPt_STD_OMOD8_QUERIES
CODEqueryEtryPt_STD_CONF2_OMOD_QUERIES
CODEqueryEtryPt_STD_CONF2_QUERIES
CODEqueryEtryPt_doHUP
ENDqueryEtryPt

BEGINmodInit()
	rsRetVal localRet;
	rsRetVal (*pomsrGetSupportedTplOpts)(unsigned long *pOpts);
	unsigned long opts;
	int bMsgPassingSupported;
CODESTARTmodInit
	*ipIFVersProvided = CURR_MOD_IF_VERSION;
CODEmodInit_QueryRegCFSLineHdlr
	CHKiRet(objUse(statsobj, CORE_COMPONENT));
	bMsgPassingSupported = 0;
	localRet = pHostQueryEtryPt((uchar *)"OMSRgetSupportedTplOpts", &pomsrGetSupportedTplOpts);
	if (localRet == RS_RET_OK) {
		CHKiRet((*pomsrGetSupportedTplOpts)(&opts));
		if (opts & OMSR_TPL_AS_MSG)
			bMsgPassingSupported = 1;
	} else if (localRet != RS_RET_ENTRY_POINT_NOT_FOUND) {
		ABORT_FINALIZE(localRet);
	}
	if (!bMsgPassingSupported) {
		LogError(0, RS_RET_NO_MSG_PASSING, "mmriskscore: this rsyslog core cannot pass "
			 "messages to modules; mmriskscore cannot run");
		ABORT_FINALIZE(RS_RET_NO_MSG_PASSING);
	}
ENDmodInit
