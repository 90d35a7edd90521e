/* Accounts seen on one thing (a source address, a device): the slots of the many-to-one
 * detectors (shared_source_ip.c, shared_device.c), and the test that two account names are one
 * person's.
 *
 * One person, several accounts: alice, alice-admin, adm_alice. Two names are one person's when
 * the shorter one (3 bytes or more) occurs in the longer one with no letter or digit on either
 * side; "ann" is neither "joann" nor "anne". Such accounts count once, since an engineer's
 * admin or test account next to the daily one is not a second person.
 *
 * The slots: the last MMR_ACCT_SLOTS distinct accounts seen on the key, each its hash
 * (mmr_user_hash32, 0 = empty), the event time it was last seen and its name cut to 23 bytes
 * for the explanation: 288 bytes. When all slots are taken the least recently seen account is
 * replaced.
 */
#ifndef MMR_ACCOUNT_NAMES_H
#define MMR_ACCOUNT_NAMES_H

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"

#define MMR_ACCT_SLOTS 8
#define MMR_ACCT_NAME 24

typedef struct mmr_accounts {
	uint32_t hash[MMR_ACCT_SLOTS];
	int64_t seen[MMR_ACCT_SLOTS];
	char name[MMR_ACCT_SLOTS][MMR_ACCT_NAME];
} mmr_accounts;

/* alice / alice-admin / adm_alice: one person's accounts. */
static inline bool mmr_same_person(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > lb) {
		const char *t = a;
		a = b;
		b = t;
		la = lb;
	}
	if (la < 3)
		return false;
	for (const char *p = strstr(b, a); p; p = strstr(p + 1, a))
		if ((p == b || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[la]))
			return true;
	return false;
}

/* Records that user was seen at t; returns the user's slot (its own, an empty one, or the
 * least recently seen account's, which it replaces). A late event does not move "seen" back. */
static inline int mmr_accounts_learn(mmr_accounts *a, const char *user, int64_t t)
{
	uint32_t me = mmr_user_hash32(user);
	int slot = -1, oldest = 0;
	for (int i = 0; i < MMR_ACCT_SLOTS && slot < 0; i++) {
		if (a->hash[i] == me || a->hash[i] == 0)
			slot = i;
		else if (a->seen[i] < a->seen[oldest])
			oldest = i;
	}
	if (slot < 0)
		slot = oldest;
	if (a->hash[slot] != me) {
		a->hash[slot] = me;
		a->seen[slot] = t;
		size_t l = strnlen(user, MMR_ACCT_NAME - 1);
		memcpy(a->name[slot], user, l);
		a->name[slot][l] = '\0';
	} else if (t > a->seen[slot]) {
		a->seen[slot] = t;
	}
	return slot;
}

/* The other persons seen after since: sets counted[i] for each slot that is in the window, is
 * not user nor one of user's other accounts, nor another account of a person already counted;
 * lists their names in others (", "-separated, ", ..." when it is full). Returns how many. */
static inline unsigned mmr_accounts_others(const mmr_accounts *a, const char *user, int64_t since,
					   bool counted[MMR_ACCT_SLOTS], char *others, size_t len)
{
	uint32_t me = mmr_user_hash32(user);
	bool in[MMR_ACCT_SLOTS];
	bool cut = false;
	unsigned n = 0;
	others[0] = '\0';
	for (int i = 0; i < MMR_ACCT_SLOTS; i++) {
		counted[i] = false;
		in[i] = a->hash[i] != 0 && a->hash[i] != me && a->seen[i] > since;
		if (!in[i] || mmr_same_person(user, a->name[i]))
			continue;
		bool dup = false;
		for (int k = 0; k < i && !dup; k++)
			dup = in[k] && mmr_same_person(a->name[k], a->name[i]);
		if (dup)
			continue;
		counted[i] = true;
		n++;
		size_t l = strlen(others);
		if (!cut && l + strlen(a->name[i]) + 7 < len) {
			snprintf(others + l, len - l, "%s%s", l ? ", " : "", a->name[i]);
		} else if (!cut) {
			snprintf(others + l, len - l, ", ...");
			cut = true;
		}
	}
	return n;
}

#endif
