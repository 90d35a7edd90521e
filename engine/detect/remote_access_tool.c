/* A remote-access tool in an identity event: enrichment found an entry of
 * remote-access-tools.txt (AnyDesk, TeamViewer, RustDesk, Chrome Remote Desktop, ...; matched
 * case-insensitively as a substring) in the user agent, the client/device name, the target or
 * the logging host of the event (x->remote_tool).
 *
 * Why: the laptop-farm facilitators of the research (§6 #7) install remote-desktop software
 * on the company laptops so that the worker abroad can drive them ("both laptops were using
 * AnyDesk", Mandiant IR podcast; GoToRemote, LogMeIn, Chrome Remote Desktop, AnyDesk,
 * TeamViewer, RustDesk per Mandiant; MITRE T1219). Identity logs show it only where the tool
 * leaves its name: a browser launched inside a remote session, a device renamed by the tool,
 * an SSO into the tool's web console.
 *
 * device.remote_access_tool (35) on every non-failed event where the tool is seen; the detail
 * names the tool and the field, so that an analyst can tell "the user agent is AnyDesk's
 * embedded browser" from "an SSO into the company's sanctioned TeamViewer tenant" (put the
 * latter's user or rule into the allow lists, docs/lists.md). Failed events do not fire:
 * anyone can send any user agent with a wrong password. No state, no baseline.
 */
#include <stdio.h>
#include <string.h>

#include "detector.h"

static const char *const rules[] = {"device.remote_access_tool", NULL};

static const mmr_param params[] = {
	{"remote_access_tool.points", 35, 0, 100, "points of device.remote_access_tool"},
	{NULL, 0, 0, 0, NULL},
};

static void score(const mmr_detect_ctx *ctx, mmr_contribs *out)
{
	const mmr_event *ev = ctx->ev;
	const mmr_enriched *x = ctx->x;
	if (x == NULL || x->remote_tool == NULL || ev->outcome == MMR_OUTCOME_FAILURE)
		return;
	/* the same fields, in the same order, as enrichment searched them */
	static const char *const names[] = {"user agent", "device name", "target", "log host"};
	const char *fields[] = {ev->user_agent, ev->device, ev->target, ev->host};
	const char *field = NULL, *value = "";
	for (int i = 0; i < 4 && field == NULL; i++)
		if (x->remote_tool[0] && strcasestr(fields[i], x->remote_tool)) {
			field = names[i];
			value = fields[i];
		}
	int points = (int)(ctx->param ? ctx->param[0] : params[0].def);
	if (field)
		mmr_contrib_add(out, rules[0], points,
				"remote-access tool \"%s\" in the %s (\"%.60s\"), a way to drive this "
				"device from elsewhere",
				x->remote_tool, field, value);
	else
		mmr_contrib_add(out, rules[0], points,
				"remote-access tool \"%s\" seen in this event, a way to drive the "
				"device from elsewhere",
				x->remote_tool);
}

const mmr_detector mmr_detector_remote_access_tool = {
	.name = "remote_access_tool",
	.rules = rules,
	.params = params,
	.score = score,
	.state_version = 1,
};
