/* metric.h — model-level scores between two fingerprints of one method
 * (DESIGN.md §5), and the table of metrics. */
#ifndef MP_METRIC_H
#define MP_METRIC_H

#include "fingerprint.h"

/* How scores and their statistics (min, max, mean, variance, quartiles,
 * correlations) are shown as text by every command and report: 6
 * significant digits, printf's %g (so 1e-05 is not "0.0000" and 0.9 is
 * "0.9"). JSON keeps every digit (17 significant). */
#define MP_SCORE_FMT "%.6g"

/* Why a per-tensor score is undefined (MP_WHY_OK: it is defined).
 * Positions where either side is NaN or Inf are left out first; cosine is
 * undefined when either side is all zero over the rest, Pearson when either
 * side is constant over the rest, stats when either side has no finite
 * value. */
enum mp_metric_why {
	MP_WHY_OK,
	MP_WHY_NO_FINITE, /* no position finite on both sides */
	MP_WHY_ZERO,	  /* cosine: a side is all zero */
	MP_WHY_CONSTANT,  /* Pearson: a side is constant */
	MP_WHY_RANGE,	  /* a sum overflows even after scaling */
	MP_WHY_COUNT
};

/* Short text for a reason: "no finite values", "all zero", "constant",
 * "values out of range"; "" for MP_WHY_OK. */
const char *mp_metric_why_text(enum mp_metric_why why);

/* Result of one score: defined (value) or undefined with a static reason.
 * Scores that are means over tensors (tensors cosine, pearson, stats) also
 * say how many tensors were compared, how many of those were left out as
 * undefined (by reason) and how many positions were skipped because a value
 * on either side is not finite; other scores leave these 0. */
struct mp_score {
	bool defined;
	double value;
	const char *reason; /* when !defined, e.g. "no tensors in common" */
	size_t ntensors;
	size_t nundef[MP_WHY_COUNT]; /* [MP_WHY_OK] stays 0 */
	uint64_t nonfinite;
};

/* Reasons shared by the sketch and exact scores. */
#define MP_REASON_NO_FLOAT "no floating tensors in common"
#define MP_REASON_COS_NONE "every tensor in common is all zero or not finite"
#define MP_REASON_PEAR_NONE "every tensor in common is constant or not finite"

/* Reasons of the vector metrics (metric_vec.c). */
#define MP_REASON_VEC_NONE "no fingerprint vector"
#define MP_REASON_VEC_LEN "fingerprint vectors of different lengths"
#define MP_REASON_VEC_ZERO "a fingerprint vector is all zero"
#define MP_REASON_VEC_MEMORY "out of memory"
/* A matrix cell of a model the method does not apply to (no fingerprint). */
#define MP_REASON_NOT_APPLIC "the method does not apply to a model of the pair"

/* Every reason a metric of the table or mp_metric_exact can give, so that a
 * matrix read back from a file keeps it; *n receives the count. */
const char *const *mp_metric_reasons(size_t *n);

/* Tensors left out of a mean: the sum of s->nundef. */
size_t mp_metric_score_undefined(const struct mp_score *s);

struct mp_metric {
	const char *name;
	const char *method;       /* method whose fingerprints it compares */
	bool higher_is_more_alike; /* false for divergences (js) */
	const char *summary;
	struct mp_score (*score)(const struct mp_fingerprint *a,
				 const struct mp_fingerprint *b);
};

/* Scores of vector fingerprints (fp->vec; weight, input_output), higher =
 * more alike; undefined when either has no vector or the lengths differ.
 * l1 = 1 - sum |a_i - b_i| / (sum |a_i| + sum |b_i|) over both vectors
 * sorted ascending (undefined when both are all zero); cosine over the
 * sorted vectors (undefined when either is all zero); exact = 1 when the
 * vectors are equal value for value, else 0. */
struct mp_score mp_metric_vec_l1(const struct mp_fingerprint *a,
				 const struct mp_fingerprint *b);
struct mp_score mp_metric_vec_cosine(const struct mp_fingerprint *a,
				     const struct mp_fingerprint *b);
struct mp_score mp_metric_vec_exact(const struct mp_fingerprint *a,
				    const struct mp_fingerprint *b);

/* Lookup by method and name; NULL when unknown. */
const struct mp_metric *mp_metric_find(const char *method, const char *name);
/* All metrics in table order; *n receives the count. */
const struct mp_metric *mp_metric_all(size_t *n);

/* Whether two tensors of one name are the same tensor for comparison: equal
 * shapes, or one element on each side whatever the shapes ([], [1] and
 * [1,1] all match one another). */
bool mp_metric_shapes_match(int ndim_a, const uint64_t *shape_a,
			    uint64_t numel_a, int ndim_b,
			    const uint64_t *shape_b, uint64_t numel_b);

/* Tensors of a and b matched by name and mp_metric_shapes_match: calls fn
 * for each pair in a's order; returns the number of matches. */
size_t mp_metric_match(const struct mp_fingerprint *a,
		       const struct mp_fingerprint *b,
		       void (*fn)(const struct mp_tensor_fp *ta,
				  const struct mp_tensor_fp *tb, void *ctx),
		       void *ctx);

/* Cosine and Pearson of one pair of equal-length value sequences, over the
 * positions where both values are finite, in two passes over the same
 * values in the same order:
 *   mp_metric_pair_init(&p); feed every value; mp_metric_pair_next_pass(&p);
 *   feed every value again; mp_metric_pair_finish(&p, &r);
 * Bitwise identical inputs give exactly 1 for both. Results are clamped to
 * [-1, 1]; sums are scaled by powers of two so that they cannot overflow. */
struct mp_metric_pair {
	int pass;
	uint64_t n, skipped;
	double sx, sy, minx, maxx, miny, maxy; /* pass 0 */
	double mx, my, kx, ky;		       /* means, power-of-two scales */
	double dot, xx, yy, cxy, cxx, cyy;     /* pass 1 */
};
struct mp_metric_pair_result {
	double cosine, pearson; /* NAN when undefined */
	enum mp_metric_why cos_why, pear_why;
	uint64_t used, skipped; /* positions used, positions not finite */
};
void mp_metric_pair_init(struct mp_metric_pair *p);
/* Feed the next n values of each side (x, y: [n]). */
void mp_metric_pair_feed(struct mp_metric_pair *p, const double *x,
			 const double *y, size_t n);
void mp_metric_pair_next_pass(struct mp_metric_pair *p);
void mp_metric_pair_finish(const struct mp_metric_pair *p,
			   struct mp_metric_pair_result *r);

/* A weighted mean of per-tensor values that leaves undefined tensors out
 * and counts them: zero-initialise, add each tensor, then take the score
 * (undefined with `none` as the reason when no tensor was defined, with
 * `empty` when none was added at all). */
struct mp_metric_mean {
	double wsum, sum;
	struct mp_score s;
};
void mp_metric_mean_add(struct mp_metric_mean *m, double weight, double value,
			enum mp_metric_why why, uint64_t nonfinite);
struct mp_score mp_metric_mean_score(const struct mp_metric_mean *m,
				     const char *empty, const char *none);

/* Exact per-tensor cosine and Pearson from two open models (the files at
 * hand), for floating tensors matched as by mp_metric_match;
 * element-weighted means over the tensors where each is defined, as for the
 * sketch estimates. Tensors pair across GGUF and Hugging Face names
 * (mp_model_find); a GGUF Q/K is compared with llama.cpp's row permutation
 * undone (mp_metric_qk_heads), head counts from mp_gguf_heads of a, else
 * of b. */
struct mp_exact_pair {
	const char *name; /* borrowed from model a */
	uint64_t numel;
	struct mp_metric_pair_result r;
	bool identical_bytes;
	/* a GGUF attn_q/attn_k paired with a Hugging Face q_proj/k_proj:
	 * the head count whose llama.cpp row permutation was undone (0: none
	 * undone, the rows compared as stored), and whether that count was
	 * inferred (the one giving the highest cosine) rather than read from
	 * the metadata or config.json (mp_gguf_heads) */
	uint64_t unpermuted_heads;
	bool heads_inferred;
	/* B holds the tensor as the transpose of A's (a GGUF matrix
	 * llama.cpp's converter transposed, GPT-2's Conv1D weights), and
	 * the scores compare A's element (i, j) with B's (j, i) */
	bool transposed;
};
/* For a GGUF attn_q/attn_k tensor paired with a Hugging Face q_proj/k_proj
 * (either order) that the converter of GGUF architecture arch permutes
 * (any such pair when the mapping does not know arch, or arch is NULL;
 * none for an architecture it knows without permute_qk): the head count whose llama.cpp row permutation, undone,
 * gives the highest exact cosine (hq for Q, hkv for K when known, else
 * every count that splits the rows into even heads, *inferred then true);
 * 0 when the rows as stored do best or the pair is not such a pair (or out
 * of memory). Reads both tensors whole, several times: the caller guards
 * the mapping. */
uint64_t mp_metric_qk_heads(const struct mp_tensor *a,
			    const struct mp_tensor *b, uint64_t hq,
			    uint64_t hkv, const char *arch, bool *inferred);
mp_status mp_metric_exact(const struct mp_model *a, const struct mp_model *b,
			  struct mp_exact_pair **pairs, size_t *npairs,
			  struct mp_score *cosine, struct mp_score *pearson,
			  struct mp_error *err);

#endif
