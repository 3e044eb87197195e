/* metric.c — model-level scores between two fingerprints (DESIGN.md §5). */
#include "metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *NO_COMMON = "no tensors in common";
static const char *NO_FLOAT = "no floating tensors in common";

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

static bool same_shape(const struct mp_tensor_fp *a,
		       const struct mp_tensor_fp *b)
{
	if (a->ndim != b->ndim)
		return false;
	for (int d = 0; d < a->ndim; d++)
		if (a->shape[d] != b->shape[d])
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
		if (tb && same_shape(ta, tb)) {
			if (fn)
				fn(ta, tb, ctx);
			n++;
		}
	}
	return n;
}

/* Distinct names in the union of both fingerprints. */
static size_t union_names(const struct mp_fingerprint *a,
			  const struct mp_fingerprint *b)
{
	size_t *ia = sorted_index(a), *ib = sorted_index(b);
	size_t i = 0, j = 0, n = 0;
	const char *last = NULL;
	while (ia && ib && (i < a->ntensors || j < b->ntensors)) {
		const char *na = i < a->ntensors ? a->tensors[ia[i]].name : NULL;
		const char *nb = j < b->ntensors ? b->tensors[ib[j]].name : NULL;
		const char *next;
		if (!nb || (na && strcmp(na, nb) <= 0))
			next = na, i++;
		else
			next = nb, j++;
		if (!last || strcmp(last, next) != 0)
			n++;
		last = next;
	}
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
	double wsum, cos, pear; /* element-weighted */
	double l1diff, l1sum;
	size_t n;
	bool mismatch;
};

static double vec_cos(const float *x, const float *y, uint32_t n)
{
	double d = 0, xx = 0, yy = 0;
	for (uint32_t i = 0; i < n; i++) {
		d += (double)x[i] * y[i];
		xx += (double)x[i] * x[i];
		yy += (double)y[i] * y[i];
	}
	if (xx == 0 && yy == 0)
		return 1;
	if (xx == 0 || yy == 0)
		return 0;
	return d / sqrt(xx * yy);
}

static double vec_pearson(const float *x, const float *y, uint32_t n)
{
	double mx = 0, my = 0;
	for (uint32_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	double d = 0, xx = 0, yy = 0;
	for (uint32_t i = 0; i < n; i++) {
		double a = x[i] - mx, b = y[i] - my;
		d += a * b;
		xx += a * a;
		yy += b * b;
	}
	if (xx == 0 || yy == 0) {
		bool equal = xx == 0 && yy == 0 && mx == my;
		return equal ? 1 : 0;
	}
	return d / sqrt(xx * yy);
}

static void sk_one(const struct mp_tensor_fp *ta, const struct mp_tensor_fp *tb,
		   void *ctx)
{
	struct sk_acc *s = ctx;
	if (!floating(ta) || !floating(tb))
		return;
	if (ta->nsketch != tb->nsketch || ta->nsketch == 0) {
		s->mismatch = true;
		return;
	}
	double w = (double)ta->numel;
	s->wsum += w;
	s->cos += w * vec_cos(ta->sketch, tb->sketch, ta->nsketch);
	s->pear += w * vec_pearson(ta->sketch, tb->sketch, ta->nsketch);
	for (uint32_t i = 0; i < ta->nsketch; i++) {
		s->l1diff += fabs((double)ta->sketch[i] - tb->sketch[i]);
		s->l1sum += fabs((double)ta->sketch[i]) + fabs((double)tb->sketch[i]);
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
	return (struct mp_score){false, NAN, why};
}

static struct mp_score defined(double v)
{
	return (struct mp_score){true, v, NULL};
}

enum sk_kind { SK_COS, SK_PEARSON, SK_L1 };

static struct mp_score sketch_score(const struct mp_fingerprint *a,
				    const struct mp_fingerprint *b,
				    enum sk_kind kind)
{
	if (!same_sketch_args(a, b))
		return undefined("sketches differ (seed or size)");
	struct sk_acc s = {0};
	if (mp_metric_match(a, b, sk_one, &s) == 0)
		return undefined(NO_COMMON);
	if (s.n == 0)
		return undefined(s.mismatch ? "no sketches to compare" : NO_FLOAT);
	switch (kind) {
	case SK_COS:
		return defined(s.cos / s.wsum);
	case SK_PEARSON:
		return defined(s.pear / s.wsum);
	default:
		return defined(s.l1sum > 0 ? 1 - s.l1diff / s.l1sum : 1);
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
	double sum;
	size_t n, exact, matched;
};

static void st_one(const struct mp_tensor_fp *ta, const struct mp_tensor_fp *tb,
		   void *ctx)
{
	struct st_acc *s = ctx;
	s->matched++;
	if (ta->sha256[0] && strcmp(ta->sha256, tb->sha256) == 0)
		s->exact++;
	if (!ta->has_stats || !tb->has_stats)
		return;
	struct mp_tstats x = ta->stats, y = tb->stats;
	double diff = 0;
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++) {
		double u = *mp_tstats_field(&x, i), v = *mp_tstats_field(&y, i);
		if (isfinite(u) && isfinite(v))
			diff += fabs(u - v);
	}
	s->sum += 1 / (1 + diff);
	s->n++;
}

/* Seed 003's stats score: mean over matched floating tensors of
 * 1/(1 + sum |stat_a - stat_b|), every tensor weighing 1. */
static struct mp_score m_stats(const struct mp_fingerprint *a,
			       const struct mp_fingerprint *b)
{
	struct st_acc s = {0};
	if (mp_metric_match(a, b, st_one, &s) == 0)
		return undefined(NO_COMMON);
	if (s.n == 0)
		return undefined(NO_FLOAT);
	return defined(s.sum / (double)s.n);
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
		return undefined("no tensors in either model");
	return defined((double)mp_metric_match(a, b, NULL, NULL) / (double)u);
}

/* Seed 003's weighted blend. */
static struct mp_score m_final(const struct mp_fingerprint *a,
			       const struct mp_fingerprint *b)
{
	struct mp_score e = m_exact(a, b), s = m_stats(a, b);
	struct mp_score c = m_cosine(a, b), p = m_pearson(a, b);
	if (!c.defined)
		return c;
	if (!e.defined)
		return e;
	double sv = s.defined ? s.value : 0;
	return defined(0.2 * e.value + 0.25 * sv + 0.3 * c.value +
		       0.25 * p.value);
}

static struct mp_score hist_pair(const struct mp_fingerprint *a,
				 const struct mp_fingerprint *b, int kind)
{
	if (!a->has_hist || !b->has_hist)
		return undefined("no spectral histogram");
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
