/* metric.c — model-level scores between two fingerprints (DESIGN.md §5). */
#include "metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_COMMON "no tensors in common"
#define NO_FLOAT MP_REASON_NO_FLOAT
#define NO_SKETCHES "no sketches to compare"
#define SKETCH_ARGS "sketches differ (seed or size)"
#define L1_NO_FINITE "no finite sketch values"
#define L1_ZERO "every sketch value is zero"
#define STATS_NONE "no tensor in common has finite values"
#define NO_TENSORS "no tensors in either model"
#define NO_HIST "no spectral histogram"

static const char *const reasons[] = {
	NO_COMMON,	    NO_FLOAT,	     NO_SKETCHES, SKETCH_ARGS,
	MP_REASON_COS_NONE, MP_REASON_PEAR_NONE, L1_NO_FINITE, L1_ZERO,
	STATS_NONE,	    NO_TENSORS,	     NO_HIST,
	MP_REASON_VEC_NONE, MP_REASON_VEC_LEN, MP_REASON_VEC_ZERO,
	MP_REASON_VEC_MEMORY, MP_REASON_NOT_APPLIC};

const char *const *mp_metric_reasons(size_t *n)
{
	*n = sizeof reasons / sizeof reasons[0];
	return reasons;
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
	const struct mp_tensor_fp *t = ctx;
	return strcmp(t[*(const size_t *)a].name, t[*(const size_t *)b].name);
}

static size_t *sorted_index(const struct mp_fingerprint *fp)
{
	size_t *ix = malloc((fp->ntensors ? fp->ntensors : 1) * sizeof *ix);
	if (!ix)
		return NULL;
	for (size_t i = 0; i < fp->ntensors; i++)
		ix[i] = i;
	qsort_r(ix, fp->ntensors, sizeof *ix, cmp_name, fp->tensors);
	return ix;
}

bool mp_metric_shapes_match(int ndim_a, const uint64_t *shape_a,
			    uint64_t numel_a, int ndim_b,
			    const uint64_t *shape_b, uint64_t numel_b)
{
	if (numel_a == 1 && numel_b == 1)
		return true;
	if (ndim_a != ndim_b)
		return false;
	for (int d = 0; d < ndim_a; d++)
		if (shape_a[d] != shape_b[d])
			return false;
	return true;
}

size_t mp_metric_match(const struct mp_fingerprint *a,
		       const struct mp_fingerprint *b,
		       void (*fn)(const struct mp_tensor_fp *ta,
				  const struct mp_tensor_fp *tb, void *ctx),
		       void *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < a->ntensors; i++) {
		const struct mp_tensor_fp *ta = &a->tensors[i];
		const struct mp_tensor_fp *tb = mp_fp_find(b, ta->name);
		if (tb && mp_fp_shapes_match(ta, tb)) {
			if (fn)
				fn(ta, tb, ctx);
			n++;
		}
	}
	return n;
}

/* Distinct names in the union of both fingerprints. */
/* Distinct names of a (sorted index ia) that other (NULL: none) lacks,
 * under either naming convention (mp_fp_find). */
static size_t distinct_names(const struct mp_fingerprint *a, const size_t *ia,
			     const struct mp_fingerprint *other)
{
	size_t n = 0;
	for (size_t i = 0; i < a->ntensors; i++) {
		const char *na = a->tensors[ia[i]].name;
		if (i && !strcmp(a->tensors[ia[i - 1]].name, na))
			continue;
		if (!other || !mp_fp_find(other, na))
			n++;
	}
	return n;
}

/* The distinct names of a and b together: those of a, and those of b that
 * a lacks (a tensor of b under a's other naming convention is a's). */
static size_t union_names(const struct mp_fingerprint *a,
			  const struct mp_fingerprint *b)
{
	size_t *ia = sorted_index(a), *ib = sorted_index(b);
	size_t n = ia && ib ? distinct_names(a, ia, NULL) +
				  distinct_names(b, ib, a)
			    : 0;
	free(ia);
	free(ib);
	return n;
}

static bool floating(const struct mp_tensor_fp *t)
{
	return mp_dtype_is_float(t->dtype);
}

/* Sketch accumulators over matched floating tensors. */
struct sk_acc {
	struct mp_metric_mean cos, pear;
	double l1diff, l1sum;
	uint64_t l1n;
	size_t n;
	bool mismatch;
};

/* Feed both sketches (n values each) to a pair accumulator, one pass. */
static void sk_feed(struct mp_metric_pair *p, const float *x, const float *y,
		    uint32_t n)
{
	double bx[256], by[256];
	for (uint32_t i = 0; i < n;) {
		uint32_t k = 0;
		for (; k < 256 && i < n; k++, i++) {
			bx[k] = x[i];
			by[k] = y[i];
		}
		mp_metric_pair_feed(p, bx, by, k);
	}
}

static void sk_one(const struct mp_tensor_fp *ta, const struct mp_tensor_fp *tb,
		   void *ctx)
{
	struct sk_acc *s = ctx;
	if (!floating(ta) || !floating(tb))
		return;
	if (ta->nsketch != tb->nsketch || ta->nsketch == 0 ||
	    !mp_fp_sketches_aligned(ta, tb)) { /* positions differ */
		s->mismatch = true;
		return;
	}
	struct mp_metric_pair p;
	struct mp_metric_pair_result r;
	mp_metric_pair_init(&p);
	sk_feed(&p, ta->sketch, tb->sketch, ta->nsketch);
	mp_metric_pair_next_pass(&p);
	sk_feed(&p, ta->sketch, tb->sketch, ta->nsketch);
	mp_metric_pair_finish(&p, &r);
	double w = (double)ta->numel;
	mp_metric_mean_add(&s->cos, w, r.cosine, r.cos_why, r.skipped);
	mp_metric_mean_add(&s->pear, w, r.pearson, r.pear_why, r.skipped);
	for (uint32_t i = 0; i < ta->nsketch; i++) {
		double x = ta->sketch[i], y = tb->sketch[i];
		if (!isfinite(x) || !isfinite(y))
			continue;
		s->l1diff += fabs(x - y);
		s->l1sum += fabs(x) + fabs(y);
		s->l1n++;
	}
	s->n++;
}

static bool same_sketch_args(const struct mp_fingerprint *a,
			     const struct mp_fingerprint *b)
{
	static const char *keys[] = {"sketch_size", "seed"};
	for (int k = 0; k < 2; k++) {
		mp_json *x = mp_json_get(a->args, keys[k]);
		mp_json *y = mp_json_get(b->args, keys[k]);
		double dx = x ? mp_json_num(x) : (k ? 0 : MP_SKETCH_DEFAULT);
		double dy = y ? mp_json_num(y) : (k ? 0 : MP_SKETCH_DEFAULT);
		if (dx != dy)
			return false;
	}
	return true;
}

static struct mp_score undefined(const char *why)
{
	return (struct mp_score){.defined = false, .value = NAN, .reason = why};
}

static struct mp_score defined(double v)
{
	return (struct mp_score){.defined = true, .value = v};
}

enum sk_kind { SK_COS, SK_PEARSON, SK_L1 };

static struct mp_score sketch_score(const struct mp_fingerprint *a,
				    const struct mp_fingerprint *b,
				    enum sk_kind kind)
{
	if (!same_sketch_args(a, b))
		return undefined(SKETCH_ARGS);
	struct sk_acc s = {0};
	if (mp_metric_match(a, b, sk_one, &s) == 0)
		return undefined(NO_COMMON);
	if (s.n == 0)
		return undefined(s.mismatch ? NO_SKETCHES : NO_FLOAT);
	switch (kind) {
	case SK_COS:
		return mp_metric_mean_score(&s.cos, NO_FLOAT,
					    MP_REASON_COS_NONE);
	case SK_PEARSON:
		return mp_metric_mean_score(&s.pear, NO_FLOAT,
					    MP_REASON_PEAR_NONE);
	default:
		if (s.l1n == 0)
			return undefined(L1_NO_FINITE);
		if (!(s.l1sum > 0))
			return undefined(L1_ZERO);
		return defined(1 - s.l1diff / s.l1sum);
	}
}

static struct mp_score m_cosine(const struct mp_fingerprint *a,
				const struct mp_fingerprint *b)
{
	return sketch_score(a, b, SK_COS);
}

static struct mp_score m_pearson(const struct mp_fingerprint *a,
				 const struct mp_fingerprint *b)
{
	return sketch_score(a, b, SK_PEARSON);
}

static struct mp_score m_l1(const struct mp_fingerprint *a,
			    const struct mp_fingerprint *b)
{
	return sketch_score(a, b, SK_L1);
}

struct st_acc {
	struct mp_metric_mean mean;
	size_t exact, matched;
};

static void st_one(const struct mp_tensor_fp *ta, const struct mp_tensor_fp *tb,
		   void *ctx)
{
	struct st_acc *s = ctx;
	s->matched++;
	if (ta->sha256[0] && strcmp(ta->sha256, tb->sha256) == 0)
		s->exact++;
	if (!ta->stats || !tb->stats)
		return;
	struct mp_tstats x = *ta->stats, y = *tb->stats;
	uint64_t nf = x.nonfinite > y.nonfinite ? x.nonfinite : y.nonfinite;
	if (x.n == 0 || y.n == 0) {
		mp_metric_mean_add(&s->mean, 1, NAN, MP_WHY_NO_FINITE, nf);
		return;
	}
	double diff = 0;
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++) {
		double u = *mp_tstats_field(&x, i), v = *mp_tstats_field(&y, i);
		if (isfinite(u) && isfinite(v))
			diff += fabs(u - v);
	}
	mp_metric_mean_add(&s->mean, 1, 1 / (1 + diff), MP_WHY_OK, nf);
}

/* Seed 003's stats score: mean over matched floating tensors of
 * 1/(1 + sum |stat_a - stat_b|), every tensor weighing 1; a tensor with no
 * finite value on either side is left out. */
static struct mp_score m_stats(const struct mp_fingerprint *a,
			       const struct mp_fingerprint *b)
{
	struct st_acc s = {0};
	if (mp_metric_match(a, b, st_one, &s) == 0)
		return undefined(NO_COMMON);
	return mp_metric_mean_score(&s.mean, NO_FLOAT, STATS_NONE);
}

/* Fraction of matched tensors whose stored bytes are identical. */
static struct mp_score m_exact(const struct mp_fingerprint *a,
			       const struct mp_fingerprint *b)
{
	struct st_acc s = {0};
	if (mp_metric_match(a, b, st_one, &s) == 0)
		return undefined(NO_COMMON);
	return defined((double)s.exact / (double)s.matched);
}

/* Tensors with the same name and shape over the distinct names of both. */
static struct mp_score m_shape(const struct mp_fingerprint *a,
			       const struct mp_fingerprint *b)
{
	size_t u = union_names(a, b);
	if (u == 0)
		return undefined(NO_TENSORS);
	return defined((double)mp_metric_match(a, b, NULL, NULL) / (double)u);
}

/* Seed 003's weighted blend of exact, stats, cosine and pearson, over the
 * parts that are defined (their weights renormalised). Undefined, with
 * cosine's reason, when cosine has no tensors to compare (none in common,
 * no floating ones, sketches that differ) or when cosine, stats and pearson
 * are all undefined. */
static struct mp_score m_final(const struct mp_fingerprint *a,
			       const struct mp_fingerprint *b)
{
	static const double w[4] = {0.2, 0.25, 0.3, 0.25};
	struct mp_score part[4] = {m_exact(a, b), m_stats(a, b), m_cosine(a, b),
				   m_pearson(a, b)};
	if (!part[2].defined &&
	    (part[2].ntensors == 0 || (!part[1].defined && !part[3].defined)))
		return part[2];
	double num = 0, den = 0;
	for (int i = 0; i < 4; i++)
		if (part[i].defined) {
			num += w[i] * part[i].value;
			den += w[i];
		}
	return defined(num / den);
}

static struct mp_score hist_pair(const struct mp_fingerprint *a,
				 const struct mp_fingerprint *b, int kind)
{
	if (!a->has_hist || !b->has_hist)
		return undefined(NO_HIST);
	const double *p = a->hist, *q = b->hist;
	double r = 0, x = 0, y = 0, dif = 0, sum = 0;
	for (int i = 0; i < MP_SPECTRAL_BINS; i++) {
		switch (kind) {
		case 0: /* l1 */
			dif += fabs(p[i] - q[i]);
			sum += fabs(p[i]) + fabs(q[i]);
			break;
		case 1: /* cosine */
			r += p[i] * q[i];
			x += p[i] * p[i];
			y += q[i] * q[i];
			break;
		default: { /* Jensen-Shannon, natural log */
			double m = (p[i] + q[i]) / 2;
			if (p[i] > 0)
				r += 0.5 * p[i] * log(p[i] / m);
			if (q[i] > 0)
				r += 0.5 * q[i] * log(q[i] / m);
		}
		}
	}
	if (kind == 0)
		return defined(sum > 0 ? 1 - dif / sum : 1);
	if (kind == 1)
		return defined(x > 0 && y > 0 ? r / sqrt(x * y) : 0);
	return defined(r < 0 ? 0 : r);
}

static struct mp_score s_l1(const struct mp_fingerprint *a,
			    const struct mp_fingerprint *b)
{
	return hist_pair(a, b, 0);
}
static struct mp_score s_cosine(const struct mp_fingerprint *a,
				const struct mp_fingerprint *b)
{
	return hist_pair(a, b, 1);
}
static struct mp_score s_js(const struct mp_fingerprint *a,
			    const struct mp_fingerprint *b)
{
	return hist_pair(a, b, 2);
}

static const struct mp_metric metrics[] = {
	{"cosine", "tensors", true,
	 "element-weighted mean per-tensor cosine, from the sketches", m_cosine},
	{"pearson", "tensors", true,
	 "element-weighted mean per-tensor Pearson, from the sketches",
	 m_pearson},
	{"l1", "tensors", true, "1 - |u-v|_1 / (|u|_1 + |v|_1) over the sketches",
	 m_l1},
	{"stats", "tensors", true, "mean of 1/(1 + sum |stat differences|)",
	 m_stats},
	{"exact", "tensors", true, "fraction of matched tensors byte-identical",
	 m_exact},
	{"shape", "tensors", true, "matched tensors over all distinct names",
	 m_shape},
	{"final", "tensors", true,
	 "0.2 exact + 0.25 stats + 0.3 cosine + 0.25 pearson", m_final},
	{"l1", "spectral", true, "1 - L1 distance of the spectral histograms",
	 s_l1},
	{"cosine", "spectral", true, "cosine of the spectral histograms",
	 s_cosine},
	{"js", "spectral", false,
	 "Jensen-Shannon divergence of the spectral histograms (nats)", s_js},
	{"l1", "weight", true,
	 "1 - |u-v|_1 / (|u|_1 + |v|_1) over the sorted singular values",
	 mp_metric_vec_l1},
	{"cosine", "weight", true, "cosine of the sorted singular values",
	 mp_metric_vec_cosine},
	{"exact", "weight", true, "1 when the fingerprints are identical, else 0",
	 mp_metric_vec_exact},
	{"l1", "input_output", true,
	 "1 - |u-v|_1 / (|u|_1 + |v|_1) over the sorted |eigenvalues|",
	 mp_metric_vec_l1},
	{"cosine", "input_output", true, "cosine of the sorted |eigenvalues|",
	 mp_metric_vec_cosine},
	{"exact", "input_output", true,
	 "1 when the fingerprints are identical, else 0", mp_metric_vec_exact},
};

const struct mp_metric *mp_metric_find(const char *method, const char *name)
{
	for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
		if (strcmp(metrics[i].method, method) == 0 &&
		    strcmp(metrics[i].name, name) == 0)
			return &metrics[i];
	return NULL;
}

const struct mp_metric *mp_metric_all(size_t *n)
{
	*n = sizeof metrics / sizeof metrics[0];
	return metrics;
}
