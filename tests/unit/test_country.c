/* Unit tests of engine/enrich/country.c against country.h: alpha-2 (any case), alpha-3, the
 * names identity providers and GeoIP databases write (short, ISO long form, MaxMind's), case,
 * punctuation and accent insensitivity, the KP/KR distinction, unknown and empty input, and
 * the round trip code -> mmr_country_name -> code for every code.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "enrich/country.h"

/* mmr_country_code(s) must give exactly want ("" = not recognized). */
static void expect(const char *s, const char *want)
{
	char code[3] = "zz";
	bool ok = mmr_country_code(s, code);
	if (ok != (want[0] != '\0') || strcmp(code, want) != 0)
		fail_msg("mmr_country_code(\"%s\") = %s \"%s\", want \"%s\"", s ? s : "(null)",
			 ok ? "true" : "false", code, want);
}

static void test_alpha2(void **state)
{
	(void)state;
	expect("US", "US");
	expect("us", "US");
	expect("Us", "US");
	expect("KP", "KP");
	expect("kr", "KR");
	expect("de", "DE");
	expect(" gb ", "GB"); /* surrounding spaces */
	expect("XK", "XK");   /* Kosovo: user-assigned, used by MaxMind */
	expect("UK", "GB");   /* exceptionally reserved for the United Kingdom */
	expect("ZZ", "");
	expect("AA", "");
	expect("U", "");
	expect("U1", "");
	expect("USX", "");
}

static void test_alpha3(void **state)
{
	(void)state;
	expect("USA", "US");
	expect("usa", "US");
	expect("PRK", "KP");
	expect("KOR", "KR");
	expect("GBR", "GB");
	expect("DEU", "DE");
	expect("rus", "RU");
	expect("VNM", "VN");
	expect("XKX", "XK");
	expect("ZZZ", "");
}

static void test_short_names(void **state)
{
	(void)state;
	/* Okta client.geographicalContext.country / MaxMind country.names.en */
	expect("United States", "US");
	expect("United Kingdom", "GB");
	expect("South Korea", "KR");
	expect("North Korea", "KP");
	expect("Russia", "RU");
	expect("Vietnam", "VN");
	expect("Iran", "IR");
	expect("Syria", "SY");
	expect("Taiwan", "TW");
	expect("Hong Kong", "HK");
	expect("Czechia", "CZ");
	expect("Türkiye", "TR");
	expect("Turkey", "TR");
	expect("Germany", "DE");
	expect("China", "CN");
	expect("Laos", "LA");
	expect("DR Congo", "CD");
	expect("Congo Republic", "CG");
	expect("Congo", "CG");
	expect("Hashemite Kingdom of Jordan", "JO");
	expect("Ivory Coast", "CI");
	expect("Côte d'Ivoire", "CI");
	expect("Curaçao", "CW");
	expect("Réunion", "RE");
	expect("Åland", "AX");
	expect("São Tomé and Príncipe", "ST");
	expect("Kosovo", "XK");
	/* similar names stay apart */
	expect("Niger", "NE");
	expect("Nigeria", "NG");
	expect("Guinea", "GN");
	expect("Guinea-Bissau", "GW");
	expect("Equatorial Guinea", "GQ");
	expect("Papua New Guinea", "PG");
	expect("Sudan", "SD");
	expect("South Sudan", "SS");
	expect("Dominica", "DM");
	expect("Dominican Republic", "DO");
	expect("Austria", "AT");
	expect("Australia", "AU");
}

static void test_iso_long_forms(void **state)
{
	(void)state;
	expect("Korea, Democratic People's Republic of", "KP");
	expect("Democratic People's Republic of Korea", "KP");
	expect("Korea, Republic of", "KR");
	expect("Republic of Korea", "KR");
	expect("Russian Federation", "RU");
	expect("Viet Nam", "VN");
	expect("Iran, Islamic Republic of", "IR");
	expect("Syrian Arab Republic", "SY");
	expect("Taiwan, Province of China", "TW");
	expect("United States of America", "US");
	expect("United Kingdom of Great Britain and Northern Ireland", "GB");
	expect("Lao People's Democratic Republic", "LA");
	expect("Congo, The Democratic Republic of the", "CD");
	expect("Bolivia, Plurinational State of", "BO");
	expect("Venezuela, Bolivarian Republic of", "VE");
	expect("Tanzania, United Republic of", "TZ");
	expect("Moldova, Republic of", "MD");
	expect("Holy See (Vatican City State)", "VA");
	expect("Virgin Islands, U.S.", "VI");
	expect("Virgin Islands, British", "VG");
	expect("Czech Republic", "CZ");
	expect("Federal Republic of Germany", "DE"); /* ISO official name */
	expect("People's Republic of China", "CN");
}

static void test_case_and_punctuation(void **state)
{
	(void)state;
	expect("UNITED STATES", "US");
	expect("united states", "US");
	expect("UnitedStates", "US");
	expect("  United   States  ", "US");
	expect("U.S.", "US");
	expect("U.S.A.", "US");
	expect("korea (republic of)", "KR");
	expect("KOREA, DEMOCRATIC PEOPLE'S REPUBLIC OF", "KP");
	expect("Korea, Democratic People’s Republic of", "KP"); /* typographic apostrophe */
	expect("north-korea", "KP");
	expect("north_korea", "KP");
	expect("TURKIYE", "TR");
	expect("TÜRKIYE", "TR");
	expect("Bosnia & Herzegovina", "BA");
	expect("Trinidad & Tobago", "TT");
	expect("The Bahamas", "BS");
	expect("the Netherlands", "NL");
	expect("The Gambia", "GM");
	expect("St Kitts and Nevis", "KN");
	expect("Cote d’Ivoire", "CI");
	expect("United\xc2\xa0States", "US"); /* no-break space */
}

static void test_unknown_and_empty(void **state)
{
	(void)state;
	expect(NULL, "");
	expect("", "");
	expect("   ", "");
	expect(".", "");
	expect("Atlantis", "");
	expect("United", "");
	expect("Korea", ""); /* ambiguous between KP and KR: deliberately unknown */
	expect("Россия", ""); /* non-Latin script */
	expect("Thailandia", "");
	expect("Theland", "");
	expect("Thailand", "TH"); /* "the" is only dropped as a separate word */
	/* longer than any key */
	expect("United Kingdom of Great Britain and Northern Ireland and some more words", "");
	char big[4096];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect(big, "");
	expect("\xff\xfe", "");
	expect("US\n", "US"); /* a trailing newline is ignored like a space */
	/* NULL code buffer is tolerated */
	assert_true(mmr_country_code("US", NULL));
}

static void test_kp_kr(void **state)
{
	(void)state;
	const char *kp[] = {"KP", "PRK", "North Korea", "DPRK", "Korea, North",
			    "Korea, Democratic People's Republic of", "DPR Korea", NULL};
	const char *kr[] = {"KR", "KOR", "South Korea", "Korea, South", "Korea, Republic of",
			    "Republic of Korea", NULL};
	for (int i = 0; kp[i]; i++)
		expect(kp[i], "KP");
	for (int i = 0; kr[i]; i++)
		expect(kr[i], "KR");
	assert_string_equal(mmr_country_name("KP"), "North Korea");
	assert_string_equal(mmr_country_name("KR"), "South Korea");
}

static void test_names_round_trip(void **state)
{
	(void)state;
	int n = 0;
	for (char a = 'A'; a <= 'Z'; a++) {
		for (char b = 'A'; b <= 'Z'; b++) {
			char code[3] = {a, b, 0}, lower[3] = {(char)(a + 32), (char)(b + 32), 0};
			const char *name = mmr_country_name(code);
			const char *name2 = mmr_country_name(lower);
			if (name == NULL) {
				assert_null(name2);
				continue;
			}
			n++;
			assert_non_null(name2);
			assert_string_equal(name, name2);
			char back[3];
			if (!mmr_country_code(name, back) || strcmp(back, code) != 0)
				fail_msg("%s -> \"%s\" -> %s", code, name, back);
		}
	}
	assert_int_equal(n, 250); /* 249 ISO 3166-1 countries + Kosovo */
	assert_string_equal(mmr_country_name("US"), "United States");
	assert_string_equal(mmr_country_name("gb"), "United Kingdom");
	assert_string_equal(mmr_country_name("RU"), "Russia");
	assert_string_equal(mmr_country_name("TR"), "Türkiye");
	assert_null(mmr_country_name(NULL));
	assert_null(mmr_country_name(""));
	assert_null(mmr_country_name("U"));
	assert_null(mmr_country_name("USA"));
	assert_null(mmr_country_name("ZZ"));
	assert_null(mmr_country_name("U1"));
}

/* First use from several threads at once: pthread_once builds the table exactly once. */
static void *race(void *arg)
{
	int *bad = arg;
	for (int i = 0; i < 2000; i++) {
		char code[3];
		if (!mmr_country_code("Korea, Republic of", code) || strcmp(code, "KR") != 0)
			(*bad)++;
		if (!mmr_country_code("North Korea", code) || strcmp(code, "KP") != 0)
			(*bad)++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	int bad[4] = {0};
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race, &bad[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(bad[i], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: the table is built by concurrent first calls */
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_alpha2),
		cmocka_unit_test(test_alpha3),
		cmocka_unit_test(test_short_names),
		cmocka_unit_test(test_iso_long_forms),
		cmocka_unit_test(test_case_and_punctuation),
		cmocka_unit_test(test_unknown_and_empty),
		cmocka_unit_test(test_kp_kr),
		cmocka_unit_test(test_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
