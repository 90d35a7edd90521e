/* Country names as identity providers log them ("United States", "Korea, Republic of",
 * "Türkiye") to ISO 3166-1 alpha-2 codes, so that a country from Okta's geographicalContext
 * compares equal to one from a GeoIP database or the HR roster. */
#ifndef MMR_COUNTRY_H
#define MMR_COUNTRY_H

#include <stdbool.h>

/* Writes the upper-case alpha-2 code of s into code[3] and returns true when s is an alpha-2
 * code (any case), an alpha-3 code, or a known English short name (case- and
 * punctuation-insensitive); returns false and writes "" otherwise. */
bool mmr_country_code(const char *s, char code[3]);
/* English short name of an alpha-2 code, or NULL. */
const char *mmr_country_name(const char *code);

#endif
