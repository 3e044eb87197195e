/* tstats.h — exact statistics of one floating tensor (DESIGN.md §5),
 * computed in double precision from a stream of its stored bytes, in one or
 * more passes, with memory bounded independently of the tensor size.
 *
 * Usage (the caller owns the byte stream and may hash it in pass 0):
 *   acc = mp_tstats_new(stored, &quant, numel);
 *   do {
 *     for each block in order: mp_tstats_feed(acc, bytes, nvalues);
 *   } while (mp_tstats_next_pass(acc));
 *   mp_tstats_finish(acc, &out); mp_tstats_free(acc);
 * Blocks must hold whole values and cover the tensor in order each pass. */
#ifndef MP_TSTATS_H
#define MP_TSTATS_H

#include "affine_sums.h"
#include "model.h"

struct mp_tstats {
	uint64_t n;
	double mean, std, min, max;
	double median, q25, q75, iqr, mad;
	double skew, kurtosis;
	double l1_norm, l2_norm, linf_norm;
	double sparsity, energy_concentration;
	uint64_t nonfinite; /* NaN/Inf values, excluded from all the above */
};

/* Field names in JSON order, and accessors by index, so serialisers and the
 * `stats` metric iterate one list. */
#define MP_TSTATS_FIELDS(X)                                                   \
	X(mean) X(std) X(min) X(max) X(median) X(q25) X(q75) X(iqr) X(mad)   \
	X(skew) X(kurtosis) X(l1_norm) X(l2_norm) X(linf_norm) X(sparsity)   \
	X(energy_concentration)
#define MP_TSTATS_NFIELDS 16
const char *mp_tstats_field_name(int i);
double *mp_tstats_field(struct mp_tstats *s, int i);

struct mp_tstats_acc;

/* Start accumulating numel values stored as `stored` and dequantised by
 * quant (may be NULL). Returns NULL when out of memory. */
struct mp_tstats_acc *mp_tstats_new(enum mp_dtype stored,
				    const struct mp_quant *quant,
				    uint64_t numel);
/* Feed the next nvalues stored values (raw little-endian bytes). */
void mp_tstats_feed(struct mp_tstats_acc *acc, const uint8_t *bytes,
		    uint64_t nvalues);
/* Feed, in place of F32 values, nruns runs of MP_TSTATS_RUN pairs: c[i]
 * values equal to v[i], run[j] telling of pairs MP_TSTATS_RUN * j on
 * (affine_sums.h; the pairs hooks of ggml_dequant.h give them; only pass
 * 0 reads them, run may be NULL in the others). Only for
 * accumulators of stored MP_F32 without quant; each pass must give the
 * same values, in any order, and may mix runs and mp_tstats_feed. Sums
 * then run in another order than over the values one by one (their last
 * bits may differ); order statistics, min, max and sparsity are the
 * same. */
#define MP_TSTATS_RUN 16
void mp_tstats_feed_runs(struct mp_tstats_acc *acc, const float *v,
			 const uint32_t *c, const struct mp_affine_run *run,
			 size_t nruns);
/* End a pass; true when another full pass over the bytes is needed. */
bool mp_tstats_next_pass(struct mp_tstats_acc *acc);
/* Final values (call after next_pass returned false). */
mp_status mp_tstats_finish(struct mp_tstats_acc *acc, struct mp_tstats *out);
void mp_tstats_free(struct mp_tstats_acc *acc);

/* Convenience for tests and small arrays: statistics of x[0..n). */
mp_status mp_tstats_of_doubles(const double *x, uint64_t n,
			       struct mp_tstats *out);

#endif
