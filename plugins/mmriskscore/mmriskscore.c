/* mmriskscore.c — rsyslog message modification module: insider-risk scoring of identity and
 * VPN logs.
 *
 * For each message: parse it with a liblognorm rulebase (or take fields that mmnormalize /
 * mmjsonparse already parsed), turn the fields into a canonical event, score it with the
 * mmriskscore engine (per-user baselines, cross-user indexes, decaying user score) and add
 * the result under $!risk and the canonical fields under $!event. Messages that are not
 * identity events pass through unchanged. All the logic lives in the engine (engine/, no
 * rsyslog headers); this file only adapts it to rsyslog: parameters, doAction, HUP, stats.
 *
 * Parameters are documented in docs/configuration.md.
 *
 * Copyright 2026 the mmriskscore authors. Licensed under the Apache License, Version 2.0.
 */
#include "config.h"
#include "rsyslog.h"
#include <errno.h>
#include <json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

MODULE_TYPE_OUTPUT
MODULE_TYPE_NOKEEP
MODULE_CNFNAME("mmriskscore")

DEF_OMOD_STATIC_DATA
DEFobjCurrIf(statsobj)

typedef enum { INPUT_TAGMSG, INPUT_MSG, INPUT_RAWMSG } parse_input_t;

typedef struct _instanceData {
	char *rulebase_path;
	char *mappings_path;
	mmr_mappings *maps;     /* swapped on HUP like the rulebase, under rb_lock */
	uchar *container;      /* "!risk": msgAddJSON wants the name without '$' */
	uchar *eventcontainer; /* NULL: canonical fields not added */
	msgPropDescr_t *parsed; /* parsedfields: read fields instead of parsing */
	parse_input_t input;
	char *statefile;
	char *statsname;
	char *model_path;
	mmr_context_paths ctx_paths; /* strings owned here; reloaded on HUP */
	unsigned ctx_loaded;         /* parts in the engine's context: 1 roster, 2 city, 4 asn, 8 lists */

	mmr_config cfg;
	mmr_engine *engine;
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
	/* gauges and counters owned by the engine, copied in by the read notifier */
	intctr_t users, usersEvicted, ips, ipsEvicted, reasonsDropped, allowlisted;
	intctr_t level[5], geoipLookups, geoipCacheHits;
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

static struct cnfparamdescr actpdescr[] = {
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
	{"statefile", eCmdHdlrString, 0},
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

BEGINactivateCnf
CODESTARTactivateCnf
	runModConf = pModConf;
ENDactivateCnf

BEGINfreeCnf
CODESTARTfreeCnf
ENDfreeCnf

BEGINcreateInstance
CODESTARTcreateInstance
	mmr_config_init(&pData->cfg);
	pData->input = INPUT_TAGMSG;
	/* glibc lets new readers overtake a waiting writer: under steady load a HUP would wait
	 * for ever. Prefer the writer (it holds the lock for two pointer swaps only). */
	pthread_rwlockattr_t rwa;
	pthread_rwlockattr_init(&rwa);
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&pData->rb_lock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
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
	if (pData->stats != NULL)
		statsobj.Destruct(&pData->stats);
	mmr_engine_free(pData->engine);
	mmr_rulebase_free(pData->rb);
	mmr_mappings_free(pData->maps);
	free(pData->mappings_path);
	mmr_config_clear(&pData->cfg);
	pthread_rwlock_destroy(&pData->rb_lock);
	if (pData->parsed != NULL) {
		msgPropDescrDestruct(pData->parsed);
		free(pData->parsed);
	}
	free(pData->rulebase_path);
	free(pData->container);
	free(pData->eventcontainer);
	free(pData->statefile);
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
	mmr_engine_set_context(pData->engine, c);
	pData->ctx_loaded = loaded;
	if (strcmp(when, "start") != 0)
		STATSCOUNTER_INC(pData->ctrCtxReloads, pData->mutCtrCtxReloads);
	return 0;
}

BEGINnewActInst
	struct cnfparamvals *pvals;
	char err[1024];
	int i;
CODESTARTnewActInst
	if ((pvals = nvlstGetParams(lst, &actpblk, NULL)) == NULL)
		ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);

	CODE_STD_STRING_REQUESTnewActInst(1)
	CHKiRet(OMSRsetEntry(*ppOMSR, 0, NULL, OMSR_TPL_AS_MSG));
	CHKiRet(createInstance(&pData));

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
		if (!strcmp(name, "rulebase")) {
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
		} else if (!strcmp(name, "statefile")) {
			pData->statefile = es_str2cstr(pvals[i].val.d.estr, NULL);
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
		CHKmalloc(pData->container = (uchar *)strdup("!risk"));
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
	if ((pData->engine = mmr_engine_new(&pData->cfg, err, sizeof(err))) == NULL) {
		parser_errmsg("mmriskscore: %s", err);
		ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
	}
	load_context(pData, "start");
	if (pData->statefile != NULL)
		parser_warnmsg("mmriskscore: parameter 'statefile' (%s) is accepted but not active "
			       "yet: this version keeps all state in memory and starts fresh at "
			       "every restart", pData->statefile);
	CHKiRet(setup_stats(pData));

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
	mmr_stats st;
	mmr_engine_stats(pData->engine, &st);
	pData->users = st.users;
	pData->usersEvicted = st.users_evicted;
	pData->ips = st.ips;
	pData->ipsEvicted = st.ips_evicted;
	pData->reasonsDropped = st.reasons_dropped;
	pData->allowlisted = st.allowlisted;
	for (int i = 0; i < 5; i++)
		pData->level[i] = st.level[i];
	pData->geoipLookups = st.geoip_lookups;
	pData->geoipCacheHits = st.geoip_cache_hits;
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
	ADD_CTR("scored", ctrScored, mutCtrScored)
	ADD_CTR("unparsed", ctrUnparsed, mutCtrUnparsed)
	ADD_CTR("not_identity", ctrNotIdentity, mutCtrNotIdentity)
	ADD_CTR("failed", ctrFailed, mutCtrFailed)
	ADD_CTR("rulebase.reloads", ctrReloads, mutCtrReloads)
	ADD_CTR("rulebase.reload_failed", ctrReloadFailed, mutCtrReloadFailed)
	ADD_CTR("context.reloads", ctrCtxReloads, mutCtrCtxReloads)
	ADD_CTR("context.reload_failed", ctrCtxReloadFailed, mutCtrCtxReloadFailed)
#undef ADD_CTR
#define ADD_GAUGE(name, field)                                                                 \
	CHKiRet(statsobj.AddCounter(pData->stats, (uchar *)name, ctrType_IntCtr, CTR_FLAG_NONE, \
				    &pData->field));
	ADD_GAUGE("users", users)
	ADD_GAUGE("users.evicted", usersEvicted)
	ADD_GAUGE("ips", ips)
	ADD_GAUGE("ips.evicted", ipsEvicted)
	ADD_GAUGE("reasons.dropped", reasonsDropped)
	ADD_GAUGE("reasons.allowlisted", allowlisted)
	ADD_GAUGE("events.unknown", level[0])
	ADD_GAUGE("events.low", level[1])
	ADD_GAUGE("events.moderate", level[2])
	ADD_GAUGE("events.high", level[3])
	ADD_GAUGE("events.critical", level[4])
	ADD_GAUGE("geoip.lookups", geoipLookups)
	ADD_GAUGE("geoip.cache_hits", geoipCacheHits)
#undef ADD_GAUGE
	CHKiRet(statsobj.SetReadNotifier(pData->stats, stats_read, pData));
	CHKiRet(statsobj.ConstructFinalize(pData->stats));
finalize_it:
	RETiRet;
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
		STATSCOUNTER_INC(pData->ctrNotIdentity, pData->mutCtrNotIdentity);
		FINALIZE;
	case MMR_PARSE_OK:
		break;
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
