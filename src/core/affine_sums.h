/* affine_sums.h — a run of (value, count) pairs of a block-quantized
 * tensor whose values are affine in their integer codes, so that
 * statistics can take its sums from the counts' power sums in closed form
 * rather than pair by pair (tstats.h's mp_tstats_feed_runs, ggml_dequant.h's
 * pairs hooks). */
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

#endif
