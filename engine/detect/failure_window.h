/* A sliding window of failure times, exact up to FW_SLOTS failures: the ring keeps the most
 * recent FW_SLOTS event times, so "how many failures in the last W seconds" is exact as long
 * as the threshold is <= FW_SLOTS (the config enforces that). 144 bytes (138 + padding). Used
 * per source IP by auth_failure_burst, and per user by auth_failure_burst and mfa_denial_burst
 * (failure_rings.h keeps those outside the user record). */
#ifndef MMR_FAILURE_WINDOW_H
#define MMR_FAILURE_WINDOW_H

#include <stdint.h>

#define FW_SLOTS 32

typedef struct {
	int64_t last;          /* newest time in the ring */
	uint32_t t[FW_SLOTS];  /* seconds before `last`... stored as absolute low 32 bits */
	uint8_t next, n;
} failure_window;

/* Failures within (now - window, now], not counting the one being scored. */
static inline unsigned fw_count(const failure_window *w, int64_t now, int64_t window)
{
	unsigned c = 0;
	for (unsigned i = 0; i < w->n; i++) {
		int64_t t = (int64_t)w->t[i] + (w->last & ~(int64_t)0xffffffff);
		if (t > w->last) /* the low 32 bits wrapped since this entry (every 136 years) */
			t -= (int64_t)1 << 32;
		if (t > now - window && t <= now)
			c++;
	}
	return c;
}

/* Ring position and count back in range after a restore: a hand-made snapshot must not make
 * fw_count()/fw_add() index past the ring. */
static inline void fw_repair(failure_window *w)
{
	if (w->n > FW_SLOTS)
		w->n = FW_SLOTS;
	if (w->next >= FW_SLOTS)
		w->next = 0;
}

static inline void fw_add(failure_window *w, int64_t now)
{
	w->t[w->next] = (uint32_t)now;
	w->next = (uint8_t)((w->next + 1) % FW_SLOTS);
	if (w->n < FW_SLOTS)
		w->n++;
	if (now > w->last)
		w->last = now;
}

#endif
