/* correlate.c — Pearson correlation between the metrics of one set of
 * models, and each metric's summary statistics. */
#include "correlate.h"
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mp_correlation_free(struct mp_correlation *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->k && c->row; i++)
		free(c->row[i]);
	free(c->row);
	free(c->m);
	free(c->r);
	free(c->summary);
	free(c);
}

/* Models common to every matrix, in the order of the first; false when
 * out of memory. */
static bool match_models(struct mp_correlation *c)
{
	size_t n0 = c->m[0]->n;
	for (size_t i = 0; i < c->k; i++)
		if (!(c->row[i] = malloc((n0 ? n0 : 1) * sizeof **c->row)))
			return false;
	size_t **by = calloc(c->k, sizeof *by);
	bool ok = by != NULL;
	for (size_t i = 1; i < c->k && ok; i++)
		ok = (by[i] = mp_simmatrix_id_index(c->m[i])) != NULL;
	for (size_t t = 0; t < n0 && ok; t++) {
		bool all = true;
		for (size_t i = 1; i < c->k && all; i++) {
			long r = mp_simmatrix_find_row(c->m[i], by[i],
						       c->m[0]->ids[t]);
			if (r < 0)
				all = false;
			else
				c->row[i][c->n] = (size_t)r;
		}
		if (all)
			c->row[0][c->n++] = t;
	}
	for (size_t i = 0; i < c->k && by; i++)
		free(by[i]);
	free(by);
	return ok;
}

static double value(const struct mp_correlation *c, size_t i, size_t t,
		    size_t u)
{
	const struct mp_simmatrix *m = c->m[i];
	return m->value[c->row[i][t] * m->n + c->row[i][u]];
}

/* Load the k values of pair (t, u) into v; false when one is null. */
static bool pair_values(const struct mp_correlation *c, size_t t, size_t u,
			double *v)
{
	for (size_t i = 0; i < c->k; i++) {
		v[i] = value(c, i, t, u);
		if (isnan(v[i]))
			return false;
	}
	return true;
}

static mp_status fail(struct mp_correlation *c, double *v, mp_status st,
		      struct mp_error *err, const char *what)
{
	char names[256] = "";
	for (size_t i = 0; i < c->k && strlen(names) < 200; i++) {
		strcat(names, i ? ", " : "");
		strncat(names, c->m[i]->metric, 40);
	}
	mp_error_set(err, st, "correlating %s: %s", names, what);
	free(v);
	mp_correlation_free(c);
	return st;
}

mp_status mp_correlate(const struct mp_simmatrix *const *ms, size_t k,
		       struct mp_correlation **out, struct mp_error *err)
{
	*out = NULL;
	if (k < 2)
		return mp_error_set(err, MP_EINVAL,
				    "correlation needs at least two metrics");
	struct mp_correlation *c = calloc(1, sizeof *c);
	if (!c)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	c->k = k;
	c->m = calloc(k, sizeof *c->m);
	c->row = calloc(k, sizeof *c->row);
	c->r = malloc(k * k * sizeof *c->r);
	c->summary = calloc(k, sizeof *c->summary);
	double *v = calloc(3 * k + k * k, sizeof *v);
	if (!c->m || !c->row || !c->r || !c->summary || !v)
		return fail(c, v, MP_ENOMEM, err, "out of memory");
	memcpy(c->m, ms, k * sizeof *ms);
	if (!match_models(c))
		return fail(c, v, MP_ENOMEM, err, "out of memory");
	if (c->n < 2)
		return fail(c, v, MP_EINVAL, err,
			    "fewer than two models in common");
	double *sum = v + k, *mean = v + 2 * k, *cross = v + 3 * k;
	for (size_t i = 0; i < k; i++) {
		c->summary[i].min = INFINITY;
		c->summary[i].max = -INFINITY;
	}
	for (size_t t = 0; t < c->n; t++)
		for (size_t u = t + 1; u < c->n; u++) {
			if (!pair_values(c, t, u, v)) {
				c->n_excluded++;
				continue;
			}
			c->npairs++;
			for (size_t i = 0; i < k; i++) {
				struct mp_metric_summary *s = &c->summary[i];
				sum[i] += v[i];
				s->min = v[i] < s->min ? v[i] : s->min;
				s->max = v[i] > s->max ? v[i] : s->max;
			}
		}
	if (c->npairs < 2)
		return fail(c, v, MP_EINVAL, err,
			    "fewer than two pairs where every metric is "
			    "defined");
	for (size_t i = 0; i < k; i++)
		mean[i] = c->summary[i].mean = sum[i] / (double)c->npairs;
	/* second pass: centred cross products (two-pass for accuracy) */
	for (size_t t = 0; t < c->n; t++)
		for (size_t u = t + 1; u < c->n; u++) {
			if (!pair_values(c, t, u, v))
				continue;
			for (size_t i = 0; i < k; i++)
				v[i] -= mean[i];
			for (size_t i = 0; i < k; i++)
				for (size_t l = i; l < k; l++)
					cross[i * k + l] += v[i] * v[l];
		}
	for (size_t i = 0; i < k; i++) {
		c->summary[i].std = sqrt(cross[i * k + i] / (double)c->npairs);
		for (size_t l = i; l < k; l++) {
			double den = sqrt(cross[i * k + i] * cross[l * k + l]);
			double r = den > 0 ? cross[i * k + l] / den : NAN;
			if (r > 1)
				r = 1;
			else if (r < -1)
				r = -1;
			if (c->m[i]->higher_is_more_alike !=
			    c->m[l]->higher_is_more_alike)
				r = -r;
			c->r[i * k + l] = c->r[l * k + i] = r;
		}
	}
	free(v);
	*out = c;
	return MP_OK;
}

mp_json *mp_correlation_to_json(const struct mp_correlation *c)
{
	mp_json *root = mp_json_object();
	mp_json *metrics = root ? mp_json_add_arr(root, "metrics") : NULL;
	bool ok = metrics != NULL;
	for (size_t i = 0; i < c->k && ok; i++) {
		mp_json *o = mp_json_object();
		const struct mp_metric_summary *s = &c->summary[i];
		char est[160];
		ok = mp_json_push(metrics, o) &&
		     mp_json_add_str(o, "method", c->m[i]->method) &&
		     mp_json_add_str(o, "metric", c->m[i]->metric) &&
		     mp_json_add_bool(o, "higher_is_more_alike",
				      c->m[i]->higher_is_more_alike) &&
		     mp_simmatrix_estimate_to_json(c->m[i], o) &&
		     mp_json_add_str(o, "estimate_text",
				     mp_simmatrix_estimate_text(c->m[i], est,
								sizeof est)) &&
		     mp_json_add_num(o, "mean", s->mean) &&
		     mp_json_add_num(o, "std", s->std) &&
		     mp_json_add_num(o, "min", s->min) &&
		     mp_json_add_num(o, "max", s->max);
	}
	ok = ok && mp_json_add_num(root, "models", (double)c->n) &&
	     mp_json_add_num(root, "pairs_used", (double)c->npairs) &&
	     mp_json_add_num(root, "pairs_excluded", (double)c->n_excluded);
	mp_json *r = ok ? mp_json_add_arr(root, "r") : NULL;
	ok = r != NULL;
	for (size_t i = 0; i < c->k && ok; i++) {
		mp_json *row = mp_json_array();
		ok = mp_json_push(r, row);
		for (size_t l = 0; l < c->k && ok; l++)
			ok = mp_json_push_num(row, c->r[i * c->k + l]) != NULL;
	}
	if (!ok) {
		mp_json_free(root);
		return NULL;
	}
	return root;
}
