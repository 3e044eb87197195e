/* simmatrix_topk.c — the k most alike models of each model: the sparse
 * form of a similarity matrix (its file is in simmatrix_bin.c). */
#include "lsh.h"
#include "simmatrix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mp_simtopk_free(struct mp_simtopk *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->ids && i < t->n; i++)
		free(t->ids[i]);
	free(t->ids);
	free(t->index);
	free(t->score);
	free(t->method);
	free(t->metric);
	free(t);
}

struct mp_simtopk *mp_simtopk_new(const char *method, const char *metric,
				  size_t n, size_t k)
{
	uint64_t cells;
	if (!mp_mul_u64(n, k, &cells) || n > UINT32_MAX || cells > SIZE_MAX / 8)
		return NULL;
	struct mp_simtopk *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->n = n;
	t->k = k;
	t->method = mp_strdup(method);
	t->metric = mp_strdup(metric);
	t->ids = calloc(n + 1, sizeof *t->ids);
	t->index = malloc((cells ? cells : 1) * sizeof *t->index);
	t->score = malloc((cells ? cells : 1) * sizeof *t->score);
	if (!t->method || !t->metric || !t->ids || !t->index || !t->score) {
		mp_simtopk_free(t);
		return NULL;
	}
	for (size_t c = 0; c < cells; c++) {
		t->index[c] = MP_TOPK_NONE;
		t->score[c] = NAN;
	}
	return t;
}

/* Whether (v, j) comes before (w, l): more alike, then the lower index. */
static bool before(const struct mp_simtopk *t, double v, uint32_t j, double w,
		   uint32_t l)
{
	if (l == MP_TOPK_NONE)
		return true;
	if (v != w)
		return t->higher_is_more_alike ? v > w : v < w;
	return j < l;
}

void mp_simtopk_offer(struct mp_simtopk *t, size_t i, uint32_t j, double v)
{
	if (isnan(v) || j == i || !t->k)
		return;
	uint32_t *ix = t->index + i * t->k;
	double *sc = t->score + i * t->k;
	size_t p = t->k - 1;
	if (!before(t, v, j, sc[p], ix[p]))
		return;
	for (; p > 0 && before(t, v, j, sc[p - 1], ix[p - 1]); p--) {
		ix[p] = ix[p - 1];
		sc[p] = sc[p - 1];
	}
	ix[p] = j;
	sc[p] = v;
}

mp_status mp_simtopk_from_matrix(const struct mp_simmatrix *m, size_t k,
				 struct mp_simtopk **out, struct mp_error *err)
{
	*out = NULL;
	if (k == 0 || k >= m->n)
		return mp_error_set(
		    err, MP_EINVAL,
		    "k = %zu neighbours of %zu models (1 to %zu)", k, m->n,
		    m->n ? m->n - 1 : 0);
	struct mp_simtopk *t = mp_simtopk_new(m->method, m->metric, m->n, k);
	if (!t)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	t->higher_is_more_alike = m->higher_is_more_alike;
	t->estimate = m->estimate;
	t->sketch_values = m->sketch_values;
	for (size_t i = 0; i < m->n; i++) {
		if (!(t->ids[i] = mp_strdup(m->ids[i]))) {
			mp_simtopk_free(t);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
		for (size_t j = 0; j < m->n; j++)
			mp_simtopk_offer(t, i, (uint32_t)j,
					 m->value[i * m->n + j]);
	}
	*out = t;
	return MP_OK;
}

mp_status mp_simtopk_lsh(const struct mp_metric *metric,
			 struct mp_fingerprint *const *fps, char *const *ids,
			 size_t n, size_t k, size_t cand,
			 struct mp_simtopk **out, struct mp_error *err)
{
	*out = NULL;
	if (strcmp(metric->method, "tensors"))
		return mp_error_set(err, MP_EINVAL,
				    "the locality-sensitive index holds codes "
				    "of tensors fingerprints, not %s",
				    metric->method);
	if (k == 0 || k >= n)
		return mp_error_set(
		    err, MP_EINVAL,
		    "k = %zu neighbours of %zu models (1 to %zu)", k, n,
		    n ? n - 1 : 0);
	if (cand < k)
		cand = k;
	if (cand >= n)
		cand = n - 1;
	mp_status st = MP_OK;
	struct mp_lsh_codes **codes = calloc(n, sizeof *codes);
	struct mp_simtopk *c = mp_simtopk_new("lsh", "estimate", n, cand);
	struct mp_simtopk *t = mp_simtopk_new("tensors", metric->name, n, k);
	if (!codes || !c || !t) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	c->higher_is_more_alike = true;
	t->higher_is_more_alike = metric->higher_is_more_alike;
	mp_simmatrix_estimate_of(metric, fps, n, &t->estimate,
				 &t->sketch_values);
	for (size_t i = 0; i < n && st == MP_OK; i++) {
		if (!(t->ids[i] = mp_strdup(ids[i])))
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
		else
			st = mp_lsh_codes(fps[i], &codes[i], err);
	}
	/* candidates: the highest estimates among comparable codes */
	for (size_t i = 0; i < n && st == MP_OK; i++)
		for (size_t j = 0; j < n; j++)
			if (j != i &&
			    codes[j]->sketch_size == codes[i]->sketch_size &&
			    codes[j]->seed == codes[i]->seed)
				mp_simtopk_offer(
				    c, i, (uint32_t)j,
				    mp_lsh_similarity(codes[i], codes[j]));
	for (size_t i = 0; i < n && st == MP_OK; i++)
		for (size_t p = 0; p < cand; p++) {
			uint32_t j = c->index[i * cand + p];
			if (j == MP_TOPK_NONE)
				break;
			/* the whole matrix scores (lower, higher) index */
			struct mp_score s = i < j
						? metric->score(fps[i], fps[j])
						: metric->score(fps[j], fps[i]);
			mp_simtopk_offer(t, i, j, s.defined ? s.value : NAN);
		}
out:
	for (size_t i = 0; codes && i < n; i++)
		mp_lsh_codes_free(codes[i]);
	free(codes);
	mp_simtopk_free(c);
	if (st != MP_OK)
		mp_simtopk_free(t);
	else
		*out = t;
	return st;
}
