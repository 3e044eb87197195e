/* lsh.h — locality-sensitive codes of a `tensors` fingerprint, for picking
 * candidate references among many registered models without loading their
 * fingerprints. Pure: no SQL, no I/O.
 *
 * One record per floating tensor whose sketch holds at least
 * MP_LSH_MIN_SKETCH values and is not constant: a 64-bit hash of its shape,
 * a 64-bit hash of its name, and a 64-bit random-hyperplane code of its
 * centred sketch: of the sketch's n values, m = min(n, MP_LSH_DIM) are
 * used (those at positions k n / m rounded down, k < m: all of them up to
 * MP_LSH_DIM), centred on their mean c = s - mean(s) (non-finite values
 * left out of the mean and set to 0); bit j = 1 when <r_j, c> > 0, r_j the
 * first m of MP_LSH_DIM standard Gaussians drawn from a fixed-seed
 * generator keyed by j. Sketch positions depend only on the shape and the
 * fingerprint's seed and sketch_size, so codes of same-shaped tensors
 * (same n, same positions, same hyperplanes) are comparable across models
 * when those two arguments are equal (codes of different arguments never
 * are; callers compare only equal ones). The hyperplanes are not keyed by
 * the shape: one set serves every
 * tensor, so that coding a model costs 64 m multiply-adds per tensor and
 * 64 MP_LSH_DIM Gaussians in all, whatever its number of shapes; tensors
 * of different shapes are never compared with each other.
 *
 * Estimate (Charikar 2002): for two centred sketches at angle theta (cos
 * theta is their Pearson correlation), each bit differs with probability
 * theta / pi, independently across the 64 hyperplanes; so the Hamming
 * distance h is Binomial(64, theta / pi), cos(pi * h / 64) estimates the
 * Pearson correlation of the sketches, and the estimate of theta has
 * standard deviation pi * sqrt(p (1 - p) / 64), p = theta / pi: at most
 * 0.196 rad (p = 1/2, unrelated tensors), about 0.08 rad at Pearson 0.9
 * (so +-0.035 on the correlation). A model-level mean over n tensors
 * shrinks that by about sqrt(n) (the tensors' directions differ, so their
 * errors are nearly independent though the hyperplanes are shared).
 * Projecting m <= 1024 of the sketch's values adds the sampling error of
 * a correlation over m values, about (1 - rho^2) / sqrt(m): 0.006 at rho
 * 0.9, small beside the 64-bit estimate's.
 *
 * Ownership: an mp_lsh_codes owns its records; free with
 * mp_lsh_codes_free (NULL is fine). */
#ifndef MP_LSH_H
#define MP_LSH_H

#include "fingerprint.h"

#define MP_LSH_BITS 64
#define MP_LSH_MIN_SKETCH 16
#define MP_LSH_DIM 1024 /* sketch values projected at most */
#define MP_LSH_BLOB_VERSION 1

struct mp_lsh_rec {
	uint64_t shape_hash, name_hash, code;
};

struct mp_lsh_codes {
	uint64_t sketch_size, seed; /* the fingerprint's arguments */
	size_t n;
	struct mp_lsh_rec *recs; /* [n] sorted by (shape_hash, name_hash,
				  * code) */
};

/* The sketch_size and seed a `tensors` fingerprint was computed with
 * (defaults MP_SKETCH_DEFAULT and 0 for absent arguments). */
void mp_lsh_fp_args(const struct mp_fingerprint *fp, uint64_t *sketch_size,
		    uint64_t *seed);

/* The codes of fp (method "tensors": MP_EINVAL otherwise); a fingerprint
 * with no eligible tensor gets codes with n == 0. */
mp_status mp_lsh_codes(const struct mp_fingerprint *fp,
		       struct mp_lsh_codes **out, struct mp_error *err);
void mp_lsh_codes_free(struct mp_lsh_codes *c);

/* The blob form, little-endian: version byte (MP_LSH_BLOB_VERSION), 3 zero
 * bytes, u32 record count, u64 sketch_size, u64 seed, then per record u64
 * shape_hash, u64 name_hash, u64 code, in the sorted order: 24 + 24 n
 * bytes. encode gives a malloc'd blob (caller frees). */
mp_status mp_lsh_encode(const struct mp_lsh_codes *c, unsigned char **blob,
			size_t *len, struct mp_error *err);
/* Parse a blob; any other length, version, nonzero padding or unsorted
 * records is MP_EFORMAT naming where. */
mp_status mp_lsh_decode(const void *blob, size_t len, const char *where,
			struct mp_lsh_codes **out, struct mp_error *err);

/* Estimated Pearson correlation of two codes: cos(pi * hamming / 64). */
double mp_lsh_estimate(uint64_t a, uint64_t b);

/* Estimated similarity of unknown to ref: for each record of unknown, the
 * record of ref with the same shape and name, else (renamed tensors) the
 * same-shape record of ref with the highest estimate, 0 when ref has no
 * record of that shape; the mean over unknown's records (0 when it has
 * none). Both must have the same sketch_size and seed. */
double mp_lsh_similarity(const struct mp_lsh_codes *unknown,
			 const struct mp_lsh_codes *ref);

#endif
