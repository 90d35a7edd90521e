/* Unit tests for enrich/needles.c: several words in one pass, ASCII case ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enrich/needles.h"

static const char *first(const mmr_needles *m, const char *text)
{
	const mmr_needle *d = mmr_needles_first(m, text);
	return d ? d->s : NULL;
}

static void test_first_match(void **state)
{
	(void)state;
	mmr_needle v[] = {{"desk", 0, 0}, {"any", 0, 0}, {"anydesk", 0, 0}, {"\xc3\xbc" "ber", 0, 0}};
	mmr_needles m;
	mmr_needles_index(&m, v, 4);
	assert_int_equal(m.n, 4);
	assert_int_equal(v[0].len, 3); /* sorted, lengths set */
	assert_string_equal(v[0].s, "any");
	/* earliest position wins; at one position the shorter of two prefixes */
	assert_string_equal(first(&m, "my AnyDesk"), "any");
	assert_string_equal(first(&m, "DESK any"), "desk");
	assert_string_equal(first(&m, "xDeSk"), "desk");
	/* a needle's prefix at the end of the text is no match */
	assert_null(first(&m, "the an"));
	assert_null(first(&m, "des"));
	assert_null(first(&m, ""));
	assert_null(first(&m, NULL));
	assert_null(first(NULL, "any"));
	/* bytes outside ASCII compare as they are: \xc3\x9c (capital U umlaut) is not
	 * \xc3\xbc */
	assert_string_equal(first(&m, "\xc3\xbc" "BER"), "\xc3\xbc" "ber");
	assert_null(first(&m, "\xc3\x9c" "ber"));
	/* letters only: '@' (0x40) and '[' (0x5b) are not folded onto '`' and '{' */
	mmr_needle w[] = {{"`x{", 0, 0}};
	mmr_needles_index(&m, w, 1);
	assert_null(first(&m, "@x["));
	assert_string_equal(first(&m, "`X{"), "`x{");
	/* one-byte needles match whatever follows, the text's last byte too; mixed case in
	 * the first two bytes of a needle */
	mmr_needle u[] = {{"q", 0, 0}, {"9z", 0, 0}, {"ab", 0, 0}};
	mmr_needles_index(&m, u, 3);
	assert_string_equal(first(&m, "xxQ"), "q");
	assert_string_equal(first(&m, "q"), "q");
	assert_string_equal(first(&m, "x9Z"), "9z");
	assert_null(first(&m, "x9"));
	assert_string_equal(first(&m, "aB"), "ab");
	assert_string_equal(first(&m, "Ab"), "ab");
	assert_null(first(&m, "a b"));
	/* no needles */
	mmr_needles_index(&m, w, 0);
	assert_null(first(&m, "anything"));
}

static void test_tags(void **state)
{
	(void)state;
	mmr_needle v[] = {{"wireless", 0, 1}, {"mobil", 0, 1}, {"gogo", 0, 2},
			  {"starlink", 0, 2}, {"net", 0, 4}};
	mmr_needles m;
	mmr_needles_index(&m, v, 5);
	assert_int_equal(mmr_needles_tags(&m, "Horizon WIRELESS", 7), 1);
	assert_int_equal(mmr_needles_tags(&m, "Gogo Mobile Network", 7), 7);
	assert_int_equal(mmr_needles_tags(&m, "Starlink", 7), 2);
	assert_int_equal(mmr_needles_tags(&m, "Riverstone Cable", 7), 0);
	assert_int_equal(mmr_needles_tags(&m, "", 7), 0);
	/* the scan stops once the wanted bits are found: "net" after "gogo" is not reached */
	assert_int_equal(mmr_needles_tags(&m, "gogo net", 2), 2);
	assert_int_equal(mmr_needles_tags(&m, "gogo net", 6), 6);
	/* all = 0: every tag found */
	assert_int_equal(mmr_needles_tags(&m, "mobil gogo net", 0), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_match),
		cmocka_unit_test(test_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
