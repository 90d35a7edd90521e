/* IANA time zones without touching the process's TZ: a reader of the compiled zone files
 * (TZif, RFC 8536) in $TZDIR or /usr/share/zoneinfo, so that the UTC offset of an employee's
 * declared zone at an event's time is known on any thread, DST included. setenv("TZ") +
 * localtime_r would race with every other thread of rsyslogd. */
#ifndef MMR_TZ_H
#define MMR_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct mmr_tz mmr_tz;

/* name: an IANA name ("America/Chicago", "UTC", "Etc/GMT-9"). Rejects names with "..", a
 * leading '/', or characters outside [A-Za-z0-9_+-/]. NULL with a reason in err otherwise. */
mmr_tz *mmr_tz_load(const char *name, char *err, size_t errlen);
void mmr_tz_free(mmr_tz *tz);
const char *mmr_tz_name(const mmr_tz *tz);
/* Seconds east of UTC in force at unix time t (the POSIX footer rule beyond the last
 * transition). */
int32_t mmr_tz_offset(const mmr_tz *tz, int64_t t);

#endif
