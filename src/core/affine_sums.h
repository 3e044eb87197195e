/* affine_sums.h — stretches of a block-quantized tensor whose values are
 * affine in integer codes, so that statistics can take their sums from the
 * codes' power sums in closed form rather than value by value: runs of
 * (value, count) pairs (tstats.h's mp_tstats_feed_runs, ggml_dequant.h's
 * pairs hooks) and runs of values (mp_tstats_feed_vruns, the sums
 * hooks). */
#ifndef MP_AFFINE_SUMS_H
#define MP_AFFINE_SUMS_H

#include <stdbool.h>

/* A run of n pairs (v[i], c[i]). When exact: every v[i] is exactly
 * a * (i - n / 2) + c in double, with a >= 0 and a, c finite (so the run
 * ascends), and the counts sum to less than 4096 (so that float lanes sum
 * c[i] * (i - n / 2)^4 exactly). Otherwise nothing is promised, not even
 * finiteness or order. */
struct mp_affine_run {
	double a, c;
	bool exact;
};

/* A run of values x[i]. When exact: every x[i] is exactly a * u[i] + c in
 * double for integers u[i] whose sums of u^k are p[k], k = 0..4 (p[0] the
 * number of values; each an integer that float holds exactly), a and c
 * finite. Otherwise nothing is promised. */
struct mp_affine_vals {
	double a, c;
	float p[5];
	bool exact;
};

#endif
