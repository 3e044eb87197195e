/* simmatrix.c — similarity matrices and the similarity-matrices file. */
#include "simmatrix.h"

#include <math.h>
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
	for (size_t i = 0; i < n; i++)
		if (!(s->ids[i] = mp_strdup(ids[i]))) {
			mp_simmatrix_free(s);
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++) {
			struct mp_score sc = metric->score(fps[i], fps[j]);
			double v = sc.defined ? sc.value : NAN;
			const char *r = sc.defined ? NULL : sc.reason;
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
	static const char *known[] = {
		"no tensors in common", "no floating tensors in common",
		"sketches differ (seed or size)", "no sketches to compare",
		"no spectral histogram", "no tensors in either model"};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
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
	char mb[MP_NAME_SHOW + 8], tb[MP_NAME_SHOW + 8], ib[MP_NAME_SHOW + 8];
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
	struct mp_simmatrix *s = mp_simmatrix_new(method, metric, n);
	if (!s)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", where);
	mp_json *dir = mp_json_get(m, "higher_is_more_alike");
	const struct mp_metric *known = mp_metric_find(method, metric);
	s->higher_is_more_alike = mp_json_is_bool(dir) ? mp_json_true(dir)
				  : known	      ? known->higher_is_more_alike
							      : true;
	mp_status st = MP_OK;
	for (size_t i = 0; i < n && st == MP_OK; i++) {
		const char *id = mp_json_str(mp_json_at(ids, i));
		if (!id) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: %s/%s: model %zu is not a string",
					  where, pm, pt, i);
			break;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(s->ids[k], id) == 0)
				st = mp_error_set(err, MP_EFORMAT,
						  "%s: %s/%s: model id '%s' "
						  "appears twice",
						  where, pm, pt,
						  mp_printable(id, ib));
		if (!(s->ids[i] = mp_strdup(id)))
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && st == MP_OK; i++) {
		mp_json *row = mp_json_at(vals, i);
		if (!mp_json_is_array(row) || mp_json_size(row) != n) {
			st = mp_error_set(err, MP_EFORMAT,
					  "%s: %s/%s: row %zu does not have %zu "
					  "values (the matrix must be square)",
					  where, pm, pt, i, n);
			break;
		}
		size_t j = 0;
		for (mp_json *v = mp_json_child(row); v; v = mp_json_next(v), j++) {
			if (mp_json_is_null(v)) {
				s->value[i * n + j] = NAN;
				s->reason[i * n + j] = "undefined";
			} else if (mp_json_is_number(v) &&
				   isfinite(mp_json_num(v))) {
				s->value[i * n + j] = mp_json_num(v);
			} else if (mp_json_is_number(v)) {
				st = mp_error_set(err, MP_EFORMAT,
						  "%s: %s/%s: value [%zu][%zu] "
						  "is out of range",
						  where, pm, pt, i, j);
				break;
			} else {
				st = mp_error_set(err, MP_EFORMAT,
						  "%s: %s/%s: value [%zu][%zu] "
						  "is neither a number nor null",
						  where, pm, pt, i, j);
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
