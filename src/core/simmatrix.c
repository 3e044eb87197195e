/* simmatrix.c — similarity matrices and the similarity-matrices file. */
#include "simmatrix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mp_simmatrix_free(struct mp_simmatrix *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n && s->ids; i++)
		free(s->ids[i]);
	free(s->ids);
	free(s->value);
	free(s->reason);
	free(s->method);
	free(s->metric);
	free(s);
}

struct mp_simmatrix *mp_simmatrix_new(const char *method, const char *metric,
				      size_t n)
{
	uint64_t nn;
	if (!mp_mul_u64(n, n, &nn) || nn > (1ULL << 40))
		return NULL;
	struct mp_simmatrix *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->n = n;
	s->method = mp_strdup(method);
	s->metric = mp_strdup(metric);
	s->ids = calloc(n + 1, sizeof *s->ids);
	s->value = malloc((size_t)(nn ? nn : 1) * sizeof *s->value);
	s->reason = calloc((size_t)(nn ? nn : 1), sizeof *s->reason);
	if (!s->method || !s->metric || !s->ids || !s->value || !s->reason) {
		mp_simmatrix_free(s);
		return NULL;
	}
	return s;
}

/* Metrics of the tensors method computed from the sketches (metric.c):
 * final takes cosine and pearson from them. */
static bool uses_sketch(const struct mp_metric *m)
{
	static const char *const names[] = {"cosine", "pearson", "l1", "final"};
	if (strcmp(m->method, "tensors") != 0)
		return false;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(m->name, names[i]) == 0)
			return true;
	return false;
}

void mp_simmatrix_estimate_of(const struct mp_metric *metric,
			      struct mp_fingerprint *const *fps, size_t n,
			      enum mp_estimate *estimate,
			      uint32_t *sketch_values)
{
	bool sketch = uses_sketch(metric), partial = false, randomized = false;
	double size = -1;
	for (size_t i = 0; i < n; i++) {
		const struct mp_fingerprint *fp = fps[i];
		if (!fp)
			continue;
		mp_json *k = mp_json_get(fp->args, "sketch_size");
		double v = k ? mp_json_num(k) : MP_SKETCH_DEFAULT;
		size = size < 0 || v == size ? v : 0;
		for (size_t t = 0; t < fp->ntensors; t++) {
			const struct mp_tensor_fp *tf = &fp->tensors[t];
			partial |= tf->nsketch > 0 && tf->nsketch < tf->numel;
			randomized |= tf->spec && !tf->spec->sv_exact;
		}
	}
	*sketch_values = 0;
	if (sketch && partial) {
		*estimate = MP_ESTIMATE_SKETCH;
		if (size >= 1 && size <= UINT32_MAX)
			*sketch_values = (uint32_t)size;
	} else if (strcmp(metric->method, "spectral") == 0 && randomized) {
		*estimate = MP_ESTIMATE_RANDOMIZED;
	} else {
		*estimate = MP_ESTIMATE_EXACT;
	}
}

static const char *const estimate_names[] = {
	[MP_ESTIMATE_UNKNOWN] = "unknown",
	[MP_ESTIMATE_EXACT] = "exact",
	[MP_ESTIMATE_SKETCH] = "sketch",
	[MP_ESTIMATE_RANDOMIZED] = "randomized_svd",
};

const char *mp_estimate_name(enum mp_estimate e)
{
	return (size_t)e < sizeof estimate_names / sizeof estimate_names[0]
		       ? estimate_names[e]
		       : "unknown";
}

mp_status mp_simmatrix_set_estimate(struct mp_simmatrix *s, const char *kind,
				    bool has_values, double values,
				    const char *where, struct mp_error *err)
{
	size_t nk = sizeof estimate_names / sizeof estimate_names[0], k = 0;
	while (kind && k < nk && strcmp(kind, estimate_names[k]) != 0)
		k++;
	char show[MP_NAME_SHOW + 8];
	if (!kind || k == nk)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: %s/%s: estimate kind '%s' is not one "
				    "of exact, sketch, randomized_svd, unknown",
				    where, s->method, s->metric,
				    kind ? mp_printable(kind, show) : "(none)");
	if (has_values && (k != MP_ESTIMATE_SKETCH || !(values >= 1) ||
			   values > UINT32_MAX || values != floor(values)))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: %s/%s: estimate values must be a whole "
				    "number of values per tensor, given only "
				    "for a sketch",
				    where, s->method, s->metric);
	s->estimate = (enum mp_estimate)k;
	s->sketch_values = has_values ? (uint32_t)values : 0;
	return MP_OK;
}

bool mp_simmatrix_estimate_to_json(const struct mp_simmatrix *s,
				   mp_json *parent)
{
	mp_json *e = mp_json_add_obj(parent, "estimate");
	return e && mp_json_add_str(e, "kind", mp_estimate_name(s->estimate)) &&
	       (s->estimate != MP_ESTIMATE_SKETCH || !s->sketch_values ||
		mp_json_add_num(e, "values", s->sketch_values));
}

char *mp_simmatrix_estimate_phrase(const struct mp_simmatrix *s, char *buf,
				   size_t cap)
{
	switch (s->estimate) {
	case MP_ESTIMATE_SKETCH:
		if (s->sketch_values)
			snprintf(buf, cap,
				 "sketch estimate from %u value%s per tensor",
				 (unsigned)s->sketch_values,
				 s->sketch_values == 1 ? "" : "s");
		else
			snprintf(buf, cap,
				 "sketch estimate (size not recorded)");
		break;
	case MP_ESTIMATE_EXACT:
		snprintf(buf, cap, "exact values");
		break;
	case MP_ESTIMATE_RANDOMIZED:
		snprintf(buf, cap, "estimate (randomized SVD of large tensors)");
		break;
	default:
		snprintf(buf, cap, "unknown whether exact or a sketch estimate");
	}
	return buf;
}

char *mp_simmatrix_estimate_text(const struct mp_simmatrix *s, char *buf,
				 size_t cap)
{
	char show[MP_NAME_SHOW + 8], phrase[96];
	snprintf(buf, cap, "%s: %s", mp_printable(s->metric, show),
		 mp_simmatrix_estimate_phrase(s, phrase, sizeof phrase));
	return buf;
}

double mp_simmatrix_pair(const struct mp_metric *metric,
			 const struct mp_fingerprint *a,
			 const struct mp_fingerprint *b, const char **reason)
{
	if (!a || !b) {
		*reason = MP_REASON_NOT_APPLIC;
		return NAN;
	}
	struct mp_score sc = metric->score(a, b);
	*reason = sc.defined ? NULL : sc.reason;
	return sc.defined ? sc.value : NAN;
}

mp_status mp_simmatrix_compute(const struct mp_metric *metric,
			       struct mp_fingerprint *const *fps,
			       char *const *ids, size_t n,
			       struct mp_simmatrix **out, struct mp_error *err)
{
	*out = NULL;
	struct mp_simmatrix *s = mp_simmatrix_new(metric->method, metric->name, n);
	if (!s)
		return mp_error_set(err, MP_ENOMEM, "out of memory for a %zu x "
						    "%zu matrix", n, n);
	s->higher_is_more_alike = metric->higher_is_more_alike;
	mp_simmatrix_estimate_of(metric, fps, n, &s->estimate,
				 &s->sketch_values);
	for (size_t i = 0; i < n; i++)
		if (!(s->ids[i] = mp_strdup(ids[i]))) {
			mp_simmatrix_free(s);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++) {
			const char *r;
			double v = mp_simmatrix_pair(metric, fps[i], fps[j], &r);
			s->value[i * n + j] = s->value[j * n + i] = v;
			s->reason[i * n + j] = s->reason[j * n + i] = r;
		}
	*out = s;
	return MP_OK;
}

static int cmp_id(const void *x, const void *y, void *ctx)
{
	char *const *ids = ctx;
	return strcmp(ids[*(const size_t *)x], ids[*(const size_t *)y]);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(**(char *const *const *)x, **(char *const *const *)y);
}

long mp_simmatrix_dup_id(char *const *ids, size_t n)
{
	char *const **p = malloc((n ? n : 1) * sizeof *p);
	if (!p)
		return -2;
	for (size_t i = 0; i < n; i++)
		p[i] = &ids[i];
	qsort(p, n, sizeof *p, cmp_str);
	long dup = -1;
	for (size_t i = 1; i < n && dup < 0; i++)
		if (!strcmp(*p[i - 1], *p[i]))
			dup = (long)(p[i] - ids);
	free(p);
	return dup;
}

size_t *mp_simmatrix_id_index(const struct mp_simmatrix *s)
{
	size_t *by = malloc((s->n ? s->n : 1) * sizeof *by);
	if (!by)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		by[i] = i;
	qsort_r(by, s->n, sizeof *by, cmp_id, s->ids);
	return by;
}

long mp_simmatrix_find_row(const struct mp_simmatrix *s, const size_t *index,
			   const char *id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->ids[index[mid]], id);
		if (c == 0)
			return (long)index[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

mp_json *mp_simmatrix_list_to_json(struct mp_simmatrix *const *ms, size_t n)
{
	mp_json *root = mp_json_object();
	mp_json *mats = mp_json_add_obj(root, "matrices");
	if (!mats) {
		mp_json_free(root);
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		const struct mp_simmatrix *s = ms[k];
		mp_json *meth = mp_json_get(mats, s->method);
		if (!meth)
			meth = mp_json_add_obj(mats, s->method);
		mp_json *m = mp_json_add_obj(meth, s->metric);
		mp_json *ids = mp_json_add_arr(m, "models");
		for (size_t i = 0; i < s->n; i++)
			mp_json_push_str(ids, s->ids[i]);
		mp_json_add_bool(m, "higher_is_more_alike",
				 s->higher_is_more_alike);
		if (s->estimate != MP_ESTIMATE_UNKNOWN)
			mp_simmatrix_estimate_to_json(s, m);
		mp_json *vals = mp_json_add_arr(m, "values");
		mp_json *und = mp_json_add_arr(m, "undefined");
		for (size_t i = 0; i < s->n; i++) {
			mp_json *row = mp_json_array();
			for (size_t j = 0; j < s->n; j++) {
				double v = s->value[i * s->n + j];
				if (isnan(v))
					mp_json_push_null(row);
				else
					mp_json_push_num(row, v);
				if (isnan(v) && j >= i) {
					mp_json *u = mp_json_object();
					mp_json_add_num(u, "i", (double)i);
					mp_json_add_num(u, "j", (double)j);
					const char *r = s->reason[i * s->n + j];
					mp_json_add_str(u, "reason",
							r ? r : "undefined");
					mp_json_push(und, u);
				}
			}
			mp_json_push(vals, row);
		}
	}
	return root;
}

const char *mp_simmatrix_intern_reason(const char *r)
{
	size_t n;
	const char *const *known = mp_metric_reasons(&n);
	for (size_t i = 0; i < n; i++)
		if (r && strcmp(r, known[i]) == 0)
			return known[i];
	return "undefined";
}

mp_status mp_simmatrix_check_symmetric(const struct mp_simmatrix *s,
				       const char *where, struct mp_error *err)
{
	size_t n = s->n;
	char mb[MP_NAME_SHOW + 8], tb[MP_NAME_SHOW + 8];
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double a = s->value[i * n + j], b = s->value[j * n + i];
			if (isnan(a) && isnan(b))
				continue;
			double tol = 1e-9 * fmax(1, fmax(fabs(a), fabs(b)));
			if (isnan(a) || isnan(b) || fabs(a - b) > tol)
				return mp_error_set(
					err, MP_EFORMAT,
					"%s: %s/%s: value [%zu][%zu] differs from "
					"[%zu][%zu] (the matrix must be "
					"symmetric)",
					where, mp_printable(s->method, mb),
					mp_printable(s->metric, tb), i, j, j,
					i);
		}
	return MP_OK;
}

static mp_status one_from_json(const mp_json *m, const char *method,
			       const char *metric, const char *where,
			       struct mp_simmatrix **out, struct mp_error *err)
{
	*out = NULL;
	/* pm, pt: the names as messages show them (the matrix keeps them). */
	char mb[MP_NAME_SHOW + 8], tb[MP_NAME_SHOW + 8];
	const char *pm = mp_printable(method, mb);
	const char *pt = mp_printable(metric, tb);
	mp_json *ids = mp_json_get(m, "models"), *vals = mp_json_get(m, "values");
	if (!mp_json_is_array(ids) || !mp_json_is_array(vals))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: %s/%s: needs \"models\" and \"values\" "
				    "arrays",
				    where, pm, pt);
	size_t n = mp_json_size(ids);
	if (mp_json_size(vals) != n)
		return mp_error_set(err, MP_EFORMAT,
				    "%s: %s/%s: %zu models but %zu rows (the "
				    "matrix must be square)",
				    where, pm, pt, n, mp_json_size(vals));
	/* every row is checked before n * n values are allocated: the
	   declared size alone must not decide the allocation */
	size_t ri = 0;
	for (mp_json *row = mp_json_child(vals); row;
	     row = mp_json_next(row), ri++)
		if (!mp_json_is_array(row) || mp_json_size(row) != n)
			return mp_error_set(err, MP_EFORMAT,
					    "%s: %s/%s: row %zu does not have "
					    "%zu values (the matrix must be "
					    "square)",
					    where, pm, pt, ri, n);
	struct mp_simmatrix *s = mp_simmatrix_new(method, metric, n);
	if (!s)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	mp_json *dir = mp_json_get(m, "higher_is_more_alike");
	const struct mp_metric *known = mp_metric_find(method, metric);
	s->higher_is_more_alike = mp_json_is_bool(dir) ? mp_json_true(dir)
				  : known	      ? known->higher_is_more_alike
							      : true;
	mp_status st = MP_OK;
	mp_json *est = mp_json_get(m, "estimate");
	if (est) {
		mp_json *kind = mp_json_get(est, "kind");
		mp_json *count = mp_json_get(est, "values");
		if (!mp_json_is_object(est) ||
		    (count && !mp_json_is_number(count)))
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: %s/%s: estimate must be an "
					  "object {\"kind\": string, "
					  "\"values\": number}",
					  where, pm, pt);
		else
			st = mp_simmatrix_set_estimate(s, mp_json_str(kind),
						       count != NULL,
						       mp_json_num(count),
						       where, err);
	}
	size_t ni = 0;
	for (mp_json *idj = mp_json_child(ids); idj && st == MP_OK;
	     idj = mp_json_next(idj), ni++) {
		const char *id = mp_json_str(idj);
		if (!id)
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: %s/%s: model %zu is not a string",
					  where, pm, pt, ni);
		else if (!(s->ids[ni] = mp_strdup(id)))
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	size_t *by = st == MP_OK ? mp_simmatrix_id_index(s) : NULL;
	if (st == MP_OK && !by)
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t k = 1; k < n && st == MP_OK; k++)
		if (strcmp(s->ids[by[k - 1]], s->ids[by[k]]) == 0) {
			char show[MP_NAME_SHOW + 8];
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: %s/%s: model id '%s' appears "
					  "twice",
					  where, pm, pt,
					  mp_printable(s->ids[by[k]], show));
		}
	free(by);
	ri = 0;
	for (mp_json *row = mp_json_child(vals); row && st == MP_OK;
	     row = mp_json_next(row), ri++) {
		size_t j = 0;
		for (mp_json *v = mp_json_child(row); v; v = mp_json_next(v), j++) {
			if (mp_json_is_null(v)) {
				s->value[ri * n + j] = NAN;
				s->reason[ri * n + j] = "undefined";
			} else if (mp_json_is_number(v) &&
				   isfinite(mp_json_num(v))) {
				s->value[ri * n + j] = mp_json_num(v);
			} else if (mp_json_is_number(v)) {
				st = mp_error_set(err, MP_EFORMAT,
						  "%s: %s/%s: value [%zu][%zu] "
						  "is out of range",
						  where, pm, pt, ri, j);
				break;
			} else {
				st = mp_error_set(err, MP_EFORMAT,
						  "%s: %s/%s: value [%zu][%zu] "
						  "is neither a number nor null",
						  where, pm, pt, ri, j);
				break;
			}
		}
	}
	if (st == MP_OK)
		st = mp_simmatrix_check_symmetric(s, where, err);
	mp_json *und = mp_json_get(m, "undefined");
	for (mp_json *u = mp_json_child(und); u && st == MP_OK; u = mp_json_next(u)) {
		uint64_t i, j;
		if (mp_json_uint(mp_json_get(u, "i"), &i) &&
		    mp_json_uint(mp_json_get(u, "j"), &j) && i < n && j < n) {
			const char *r = mp_simmatrix_intern_reason(mp_json_str(mp_json_get(u, "reason")));
			s->reason[i * n + j] = s->reason[j * n + i] = r;
		}
	}
	if (st != MP_OK) {
		mp_simmatrix_free(s);
		return st;
	}
	*out = s;
	return MP_OK;
}

mp_status mp_simmatrix_list_from_json(const mp_json *j, const char *where,
				      struct mp_simmatrix ***out, size_t *n,
				      struct mp_error *err)
{
	*out = NULL;
	*n = 0;
	mp_json *mats = mp_json_get(j, "matrices");
	if (!mp_json_is_object(mats))
		return mp_error_set(err, MP_EFORMAT,
				    "%s: no \"matrices\" object", where);
	size_t cap = 0;
	for (mp_json *me = mp_json_child(mats); me; me = mp_json_next(me))
		cap += mp_json_size(me);
	struct mp_simmatrix **list = calloc(cap + 1, sizeof *list);
	if (!list)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	mp_status st = MP_OK;
	size_t k = 0;
	for (mp_json *me = mp_json_child(mats); me && st == MP_OK;
	     me = mp_json_next(me)) {
		if (!mp_json_is_object(me)) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: method '%s' is not an object",
					  where, mp_json_key(me));
			break;
		}
		for (mp_json *mt = mp_json_child(me); mt && st == MP_OK;
		     mt = mp_json_next(mt)) {
			st = one_from_json(mt, mp_json_key(me), mp_json_key(mt),
					   where, &list[k], err);
			if (st == MP_OK)
				k++;
		}
	}
	if (st != MP_OK) {
		for (size_t i = 0; i < k; i++)
			mp_simmatrix_free(list[i]);
		free(list);
		return st;
	}
	*out = list;
	*n = k;
	return MP_OK;
}
