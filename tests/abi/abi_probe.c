/* abi_probe.c - test-only rsyslog output module that proves the rsyslog headers a module is
 * compiled against describe the same smsg_t layout as the rsyslogd that loads it.
 *
 * rsyslogd checks only the module interface number, never struct layouts. This probe is
 * compiled against a header tree exactly like mmriskscore.so and, for every message, compares
 * what the headers' layout reads directly out of the message object with what functions
 * compiled INTO the installed rsyslogd binary (getRawMsgLen, getMSG, getHOSTNAME, ...) return
 * for the very same object. Any difference means the tree does not match the binary.
 *
 * Safety with a wrong layout: only integers are compared and pointers are compared for
 * equality; nothing read through the headers' layout is ever dereferenced. The functions of
 * the binary read with the binary's (correct) layout.
 *
 * Output: one line per message, appended with a single write() to the file given as
 *   action(type="abi_probe" file="/abs/path")
 * e.g.  abi-probe verdict=OK hdr_sizeof_smsg=552 hdr_off_iLenRawMsg=68 ... bad=-
 * tests/abi/abi-guard.sh parses these lines. Not installed; not part of the module.
 */
#include "config.h"
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include "rsyslog.h"
#include "conf.h"
#include "syslogd-types.h"
#include "template.h"
#include "module-template.h"
#include "errmsg.h"
#include "msg.h"

MODULE_TYPE_OUTPUT
MODULE_TYPE_NOKEEP
MODULE_CNFNAME("abi_probe")

DEF_OMOD_STATIC_DATA

typedef struct _instanceData {
	char *file;
	int fd;
} instanceData;

typedef struct wrkrInstanceData {
	instanceData *pData;
} wrkrInstanceData_t;

struct modConfData_s {
	rsconf_t *pConf;
};

static struct cnfparamdescr actpdescr[] = {
	{ "file", eCmdHdlrString, CNFPARAM_REQUIRED }
};
static struct cnfparamblk actpblk = {
	CNFPARAMBLK_VERSION, sizeof(actpdescr) / sizeof(struct cnfparamdescr), actpdescr
};

BEGINbeginCnfLoad
CODESTARTbeginCnfLoad
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
ENDactivateCnf

BEGINfreeCnf
CODESTARTfreeCnf
ENDfreeCnf

BEGINcreateInstance
CODESTARTcreateInstance
	pData->file = NULL;
	pData->fd = -1;
ENDcreateInstance

BEGINcreateWrkrInstance
CODESTARTcreateWrkrInstance
ENDcreateWrkrInstance

BEGINisCompatibleWithFeature
CODESTARTisCompatibleWithFeature
ENDisCompatibleWithFeature

BEGINfreeInstance
CODESTARTfreeInstance
	if (pData->fd >= 0)
		close(pData->fd);
	free(pData->file);
ENDfreeInstance

BEGINfreeWrkrInstance
CODESTARTfreeWrkrInstance
ENDfreeWrkrInstance

BEGINdbgPrintInstInfo
CODESTARTdbgPrintInstInfo
ENDdbgPrintInstInfo

BEGINtryResume
CODESTARTtryResume
ENDtryResume

/* Appends " name=hdr/bin" and records name in bad[] when the two differ. */
static void
cmp_int(char *line, size_t cap, char *bad, size_t badcap, const char *name, long hdr, long bin)
{
	size_t n = strlen(line);
	snprintf(line + n, cap - n, " %s=%ld/%ld", name, hdr, bin);
	if (hdr != bin) {
		n = strlen(bad);
		snprintf(bad + n, badcap - n, "%s%s", n ? "," : "", name);
	}
}

static void
cmp_ptr(char *line, size_t cap, char *bad, size_t badcap, const char *name,
	const void *hdr, const void *bin)
{
	size_t n = strlen(line);
	snprintf(line + n, cap - n, " %s=%s", name, hdr == bin ? "same" : "DIFF");
	if (hdr != bin) {
		n = strlen(bad);
		snprintf(bad + n, badcap - n, "%s%s", n ? "," : "", name);
	}
}

BEGINdoAction_NoStrings
	smsg_t **ppMsg = (smsg_t **)pMsgData;
	smsg_t *pMsg = ppMsg[0];
	char line[1024];
	char bad[256] = "";
	uchar *raw = NULL, *tag = NULL, *prog;
	const uchar *hdrTag, *hdrProg;
	int rawLen = 0, tagLen = 0, sev = -1;
	long binOffRaw;
CODESTARTdoAction
	/* Values from the binary's own code first (this also makes it compute lazy fields such
	 * as PROGNAME), then the same values through the headers' layout. */
	const int binRawLen = getRawMsgLen(pMsg);
	getRawMsg(pMsg, &raw, &rawLen);
	const int binMsgLen = getMSGLen(pMsg);
	const uchar *binMsg = getMSG(pMsg);
	const int binHostLen = getHOSTNAMELen(pMsg);
	const char *binHost = getHOSTNAME(pMsg);
	const int binPri = getPRIi(pMsg);
	MsgGetSeverity(pMsg, &sev);
	getTAG(pMsg, &tag, &tagLen, LOCK_MUTEX);
	prog = getProgramName(pMsg, LOCK_MUTEX);

	/* The binary keeps a raw message shorter than CONF_RAWMSG_BUFSIZE inside the object
	 * (MsgSetRawMsg), at ITS offsetof(smsg_t, szRawMsg); a longer one is malloc'ed. */
	binOffRaw = -1;
	if (binRawLen < CONF_RAWMSG_BUFSIZE) {
		binOffRaw = (long)((const char *)raw - (const char *)pMsg);
		if (binOffRaw < 0 || binOffRaw > 65536)
			binOffRaw = -1;
	}

	snprintf(line, sizeof(line),
		"abi-probe hdr_sizeof_smsg=%zu hdr_off_iLenRawMsg=%zu hdr_off_szRawMsg=%zu"
		" bin_off_rawbuf=%ld",
		sizeof(smsg_t), offsetof(smsg_t, iLenRawMsg), offsetof(smsg_t, szRawMsg), binOffRaw);
	cmp_int(line, sizeof(line), bad, sizeof(bad), "rawlen", pMsg->iLenRawMsg, binRawLen);
	cmp_int(line, sizeof(line), bad, sizeof(bad), "rawlen2", pMsg->iLenRawMsg, rawLen);
	cmp_ptr(line, sizeof(line), bad, sizeof(bad), "rawptr", pMsg->pszRawMsg, raw);
	if (binOffRaw >= 0) /* the binary stores it inline: the headers must agree where */
		cmp_int(line, sizeof(line), bad, sizeof(bad), "rawbuf_off",
			(long)offsetof(smsg_t, szRawMsg), binOffRaw);
	cmp_int(line, sizeof(line), bad, sizeof(bad), "msglen", pMsg->iLenMSG, binMsgLen);
	/* pointer arithmetic only; getMSG() returns a constant "" when the MSG part is empty */
	if (binMsgLen > 0)
		cmp_ptr(line, sizeof(line), bad, sizeof(bad), "msgptr",
			pMsg->pszRawMsg + pMsg->offMSG, binMsg);
	/* Without a HOSTNAME the binary answers with the sender's name instead: nothing to
	 * compare then (messages sent by the guard all carry one). */
	if (pMsg->pszHOSTNAME != NULL) {
		cmp_ptr(line, sizeof(line), bad, sizeof(bad), "hostptr", pMsg->pszHOSTNAME, binHost);
		cmp_int(line, sizeof(line), bad, sizeof(bad), "hostlen", pMsg->iLenHOSTNAME,
			binHostLen);
	}
	cmp_int(line, sizeof(line), bad, sizeof(bad), "pri",
		((long)pMsg->iFacility << 3) + pMsg->iSeverity, binPri);
	cmp_int(line, sizeof(line), bad, sizeof(bad), "severity", pMsg->iSeverity, sev);
	cmp_int(line, sizeof(line), bad, sizeof(bad), "taglen", pMsg->iLenTAG, tagLen);
	if (tagLen > 0) {
		hdrTag = pMsg->iLenTAG < CONF_TAG_BUFSIZE ? pMsg->TAG.szBuf : pMsg->TAG.pszTAG;
		cmp_ptr(line, sizeof(line), bad, sizeof(bad), "tagptr", hdrTag, tag);
	}
	if (pMsg->iLenPROGNAME >= 0 && pMsg->iLenPROGNAME < 4096) {
		hdrProg = pMsg->iLenPROGNAME < CONF_PROGNAME_BUFSIZE ? pMsg->PROGNAME.szBuf
								     : pMsg->PROGNAME.ptr;
		cmp_ptr(line, sizeof(line), bad, sizeof(bad), "progptr", hdrProg, prog);
	} else {
		cmp_int(line, sizeof(line), bad, sizeof(bad), "proglen_sane", pMsg->iLenPROGNAME, 0);
	}

	{
		char out[1400];
		int n = snprintf(out, sizeof(out), "%s verdict=%s bad=%s\n", line,
				 bad[0] ? "MISMATCH" : "OK", bad[0] ? bad : "-");
		if (n > (int)sizeof(out) - 1)
			n = (int)sizeof(out) - 1;
		if (pWrkrData->pData->fd < 0 || write(pWrkrData->pData->fd, out, (size_t)n) != n)
			LogError(0, RS_RET_IO_ERROR, "abi_probe: cannot write verdict to %s",
				 pWrkrData->pData->file);
	}
ENDdoAction

BEGINnewActInst
	struct cnfparamvals *pvals;
	int i;
CODESTARTnewActInst
	if ((pvals = nvlstGetParams(lst, &actpblk, NULL)) == NULL)
		ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);
	CODE_STD_STRING_REQUESTnewActInst(1)
	CHKiRet(OMSRsetEntry(*ppOMSR, 0, NULL, OMSR_TPL_AS_MSG));
	CHKiRet(createInstance(&pData));
	for (i = 0; i < actpblk.nParams; ++i) {
		if (!pvals[i].bUsed)
			continue;
		if (!strcmp(actpblk.descr[i].name, "file"))
			pData->file = es_str2cstr(pvals[i].val.d.estr, NULL);
	}
	if (pData->file == NULL)
		ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);
	pData->fd = open(pData->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (pData->fd < 0) {
		LogError(errno, RS_RET_IO_ERROR, "abi_probe: cannot open %s", pData->file);
		ABORT_FINALIZE(RS_RET_IO_ERROR);
	}
CODE_STD_FINALIZERnewActInst
	cnfparamvalsDestruct(pvals, &actpblk);
ENDnewActInst

NO_LEGACY_CONF_parseSelectorAct

BEGINmodExit
CODESTARTmodExit
ENDmodExit

BEGINqueryEtryPt
CODESTARTqueryEtryPt
CODEqueryEtryPt_STD_OMOD_QUERIES
CODEqueryEtryPt_STD_OMOD8_QUERIES
CODEqueryEtryPt_STD_CONF2_OMOD_QUERIES
CODEqueryEtryPt_STD_CONF2_QUERIES
ENDqueryEtryPt

BEGINmodInit()
CODESTARTmodInit
	*ipIFVersProvided = CURR_MOD_IF_VERSION;
CODEmodInit_QueryRegCFSLineHdlr
ENDmodInit
