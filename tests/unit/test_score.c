/* Unit tests of engine/score/score.c against its header comment and DESIGN.md §3.3:
 *   event score  = 100 * (1 - prod(1 - p_i/100)), rounded, 0-100
 *   risk decay   = risk * 2^(-(to - from)/halflife), none backwards in time
 *   user score   = 100 * (1 - exp(-risk/scale)), rounded
 *   levels       unknown <20, low <40, moderate <70, high <90, critical
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "score/score.h"

static mmr_reason R(int points)
{
	mmr_reason r;
	memset(&r, 0, sizeof(r));
	r.rule = "test.rule";
	r.points = points;
	return r;
}

static void test_combine_empty_and_single(void **state)
{
	(void)state;
	assert_int_equal(mmr_score_combine(NULL, 0), 0);
	for (int p = 0; p <= 100; p++) {
		mmr_reason r = R(p);
		assert_int_equal(mmr_score_combine(&r, 1), p); /* one reason = its points */
	}
}

static void test_combine_documented_examples(void **state)
{
	(void)state;
	mmr_reason two40[2] = {R(40), R(40)};
	assert_int_equal(mmr_score_combine(two40, 2), 64); /* 100*(1-.6*.6) */
	mmr_reason three[3] = {R(40), R(30), R(20)};
	assert_int_equal(mmr_score_combine(three, 3), 66); /* 100*(1-.6*.7*.8) = 66.4 */
	mmr_reason with_zero[3] = {R(0), R(25), R(0)};
	assert_int_equal(mmr_score_combine(with_zero, 3), 25); /* 0 points change nothing */
	mmr_reason halves[2] = {R(50), R(50)};
	assert_int_equal(mmr_score_combine(halves, 2), 75);
	mmr_reason rounding[2] = {R(30), R(30)}; /* 51.0 */
	assert_int_equal(mmr_score_combine(rounding, 2), 51);
	mmr_reason up[2] = {R(10), R(17)}; /* 25.3 -> 25 */
	assert_int_equal(mmr_score_combine(up, 2), 25);
	mmr_reason up2[2] = {R(20), R(22)}; /* 37.6 -> 38 */
	assert_int_equal(mmr_score_combine(up2, 2), 38);
}

static void test_combine_order_independent(void **state)
{
	(void)state;
	mmr_reason a[4] = {R(70), R(10), R(35), R(5)};
	mmr_reason b[4] = {R(5), R(35), R(10), R(70)};
	assert_int_equal(mmr_score_combine(a, 4), mmr_score_combine(b, 4));
}

static void test_combine_saturates(void **state)
{
	(void)state;
	mmr_reason many[MMR_MAX_REASONS];
	for (int i = 0; i < MMR_MAX_REASONS; i++)
		many[i] = R(90);
	int s = mmr_score_combine(many, MMR_MAX_REASONS);
	assert_int_equal(s, 100);
	mmr_reason hundred[3] = {R(100), R(100), R(60)};
	assert_int_equal(mmr_score_combine(hundred, 3), 100);

	/* diminishing returns, monotone, never above 100: adding a reason never lowers the score
	 * and never raises it by more than its own points */
	for (int p = 1; p <= 100; p += 7) {
		mmr_reason acc[MMR_MAX_REASONS];
		int prev = 0;
		for (int n = 1; n <= MMR_MAX_REASONS; n++) {
			acc[n - 1] = R(p);
			int cur = mmr_score_combine(acc, n);
			assert_in_range(cur, prev, 100);
			assert_true(cur - prev <= p + 1); /* +1: rounding of two values */
			prev = cur;
		}
	}
}

static void test_decay_half_life(void **state)
{
	(void)state;
	const int64_t hl = 72 * 3600, t0 = 1795773600;
	assert_float_equal(mmr_risk_decay(80.0, t0, t0 + hl, hl), 40.0, 1e-9);
	assert_float_equal(mmr_risk_decay(80.0, t0, t0 + 2 * hl, hl), 20.0, 1e-9);
	assert_float_equal(mmr_risk_decay(80.0, t0, t0 + hl / 2, hl), 80.0 / sqrt(2.0), 1e-9);
	/* composition: decaying in two steps equals one step */
	double two = mmr_risk_decay(mmr_risk_decay(50.0, t0, t0 + 1000, hl), t0 + 1000,
				    t0 + 9000, hl);
	assert_float_equal(two, mmr_risk_decay(50.0, t0, t0 + 9000, hl), 1e-9);
	/* after many half-lives it is practically gone, never negative */
	double gone = mmr_risk_decay(100.0, t0, t0 + 100 * hl, hl);
	assert_true(gone >= 0.0 && gone < 1e-20);
}

static void test_decay_never_backwards(void **state)
{
	(void)state;
	const int64_t hl = 3600, t0 = 1795773600;
	assert_float_equal(mmr_risk_decay(80.0, t0, t0, hl), 80.0, 0.0);
	assert_float_equal(mmr_risk_decay(80.0, t0, t0 - 5 * hl, hl), 80.0, 0.0); /* late event */
	assert_float_equal(mmr_risk_decay(0.0, t0, t0 + hl, hl), 0.0, 0.0);
}

static void test_user_score_formula(void **state)
{
	(void)state;
	assert_int_equal(mmr_user_score(0.0, 60.0), 0);
	assert_int_equal(mmr_user_score(-5.0, 60.0), 0);
	/* the examples of score.c's header: 50 -> 57, 100 -> 81, 150 -> 92 (scale 60) */
	assert_int_equal(mmr_user_score(50.0, 60.0), 57);
	assert_int_equal(mmr_user_score(100.0, 60.0), 81);
	assert_int_equal(mmr_user_score(150.0, 60.0), 92);
	/* risk = scale -> 1 - 1/e */
	assert_int_equal(mmr_user_score(60.0, 60.0), 63);
	assert_int_equal(mmr_user_score(10.0, 10.0), 63);
	for (double r = 0.5; r < 400; r += 3.7) {
		long want = lround(100.0 * (1.0 - exp(-r / 60.0)));
		assert_int_equal(mmr_user_score(r, 60.0), want);
	}
}

static void test_user_score_monotone_and_bounded(void **state)
{
	(void)state;
	int prev = 0;
	for (double r = 0.0; r < 2000.0; r += 0.25) {
		int s = mmr_user_score(r, 60.0);
		assert_in_range(s, prev, 100);
		prev = s;
	}
	/* below 100 while 100*(1-exp(-r/60)) < 99.5; reaches 100 only by rounding */
	assert_int_equal(mmr_user_score(60.0 * log(200.0) - 0.01, 60.0), 99);
	assert_int_equal(mmr_user_score(60.0 * log(200.0) + 0.01, 60.0), 100);
	assert_int_equal(mmr_user_score(1e9, 60.0), 100);
	assert_int_equal(mmr_user_score(INFINITY, 60.0), 100);
}

static void test_level_band_edges(void **state)
{
	(void)state;
	assert_string_equal(mmr_level_name(0), "unknown");
	assert_string_equal(mmr_level_name(19), "unknown");
	assert_string_equal(mmr_level_name(20), "low");
	assert_string_equal(mmr_level_name(39), "low");
	assert_string_equal(mmr_level_name(40), "moderate");
	assert_string_equal(mmr_level_name(69), "moderate");
	assert_string_equal(mmr_level_name(70), "high");
	assert_string_equal(mmr_level_name(89), "high");
	assert_string_equal(mmr_level_name(90), "critical");
	assert_string_equal(mmr_level_name(100), "critical");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_combine_empty_and_single),
		cmocka_unit_test(test_combine_documented_examples),
		cmocka_unit_test(test_combine_order_independent),
		cmocka_unit_test(test_combine_saturates),
		cmocka_unit_test(test_decay_half_life),
		cmocka_unit_test(test_decay_never_backwards),
		cmocka_unit_test(test_user_score_formula),
		cmocka_unit_test(test_user_score_monotone_and_bounded),
		cmocka_unit_test(test_level_band_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
