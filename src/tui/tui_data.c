/* tui_data.c — loading the registry, fingerprints and matrices the
 * interface shows. */
#include "tui_data.h"

#include "ggml_dequant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool progress(const struct mp_tui_progress *p, const char *what,
		     size_t done, size_t total)
{
	return !p || !p->fn || p->fn(p->ctx, what, done, total);
}

static mp_status interrupted(struct mp_error *err)
{
	return mp_error_set(err, MP_EINVAL, "interrupted");
}

const char *mp_tui_fmt_count(uint64_t v, char buf[16])
{
	static const char unit[] = " kMBT";
	double x = (double)v;
	int u = 0;
	while (x >= 999.5 && u < 4) {
		x /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, 16, "%llu", (unsigned long long)v);
	else
		snprintf(buf, 16, x < 9.95 ? "%.1f%c" : "%.0f%c", x, unit[u]);
	return buf;
}

size_t mp_tui_stored_types(const struct mp_fingerprint *fp,
			   struct mp_tui_stored out[MP_TUI_STORED_MAX])
{
	size_t n = 0;
	for (int d = 0; d < MP_DTYPE_COUNT; d++)
		if (fp->dtype_params[d])
			out[n++] = (struct mp_tui_stored){
			    mp_dtype_name((enum mp_dtype)d), fp->dtype_params[d]};
	for (uint32_t g = 0; g < MP_FP_GGML_IDS; g++)
		if (fp->ggml_params[g] && mp_ggml_type(g))
			out[n++] = (struct mp_tui_stored){mp_ggml_type(g)->name,
							  fp->ggml_params[g]};
	for (size_t i = 1; i < n; i++) { /* stable insertion sort, few */
		struct mp_tui_stored x = out[i];
		size_t j = i;
		for (; j > 0 && out[j - 1].params < x.params; j--)
			out[j] = out[j - 1];
		out[j] = x;
	}
	return n;
}

void mp_tui_dtype_mix(const struct mp_fingerprint *fp, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	struct mp_tui_stored st[MP_TUI_STORED_MAX];
	size_t k = fp->params ? mp_tui_stored_types(fp, st) : 0;
	for (size_t i = 0; i < k; i++) {
		int pct = (int)(100.0 * (double)st[i].params /
				    (double)fp->params +
				0.5);
		int w = snprintf(buf + n, size - n, "%s%s %s%d%%", n ? " " : "",
				 st[i].name, pct ? "" : "<", pct ? pct : 1);
		if (w < 0 || (size_t)w >= size - n) {
			buf[n] = '\0';
			break;
		}
		n += (size_t)w;
	}
}

static mp_status add_model(struct mp_tui_data *d, size_t *cap,
			   const char *id, const char *name,
			   const char *family, const char *type,
			   const char *format, struct mp_error *err)
{
	if (d->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *p = realloc(d->models, nc * sizeof *d->models);
		if (!p)
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		d->models = p;
		*cap = nc;
	}
	struct mp_tui_model *m = &d->models[d->n];
	memset(m, 0, sizeof *m);
	m->id = mp_strdup(id);
	m->name = mp_strdup(name && *name ? name : id);
	m->family = mp_strdup(family ? family : "");
	m->type = mp_strdup(type ? type : "");
	m->format = mp_strdup(format ? format : "");
	d->n++;
	if (!m->id || !m->name || !m->family || !m->type || !m->format)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	return MP_OK;
}

static mp_status load_registry(struct mp_tui_data *d, const char *dir,
			       const struct mp_tui_progress *prog,
			       size_t *cap, struct mp_error *err)
{
	struct mp_registry *r;
	mp_status st = mp_regdb_open(dir, false, &d->registry, err);
	if (st != MP_OK)
		return st;
	if ((st = mp_regdb_list(d->registry, NULL, &r, err)) != MP_OK)
		return st;
	for (size_t i = 0; i < r->nmodels && st == MP_OK; i++) {
		const struct mp_reg_model *rm = &r->models[i];
		if (!progress(prog, "fingerprints", i, r->nmodels)) {
			st = interrupted(err);
			break;
		}
		st = add_model(d, cap, rm->id, rm->name, rm->family, rm->type,
			       rm->format, err);
		if (st != MP_OK)
			break;
		struct mp_tui_model *m = &d->models[d->n - 1];
		m->in_registry = true;
		struct mp_fingerprint *fp;
		struct mp_error e2;
		if (mp_regdb_get_fp(d->registry, rm->id, "tensors", &fp,
				    &e2) == MP_OK) {
			m->has_fp = true;
			m->params = fp->params;
			mp_tui_dtype_mix(fp, m->dtypes, sizeof m->dtypes);
			mp_fp_free(fp);
		}
	}
	progress(prog, "fingerprints", r->nmodels, r->nmodels);
	mp_registry_free(r);
	return st;
}

long mp_tui_data_find(const struct mp_tui_data *d, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->models[i].id, id))
			return (long)i;
	return -1;
}

long mp_tui_data_row(const struct mp_tui_data *d, size_t mi)
{
	for (size_t r = 0; d->m && r < d->m->n; r++)
		if (d->row_model[r] == mi)
			return (long)r;
	return -1;
}

/* The model-info set of the whole list, for the analysis: built through
 * a registry table that borrows the list's strings. */
static mp_status build_info(struct mp_tui_data *d, struct mp_error *err)
{
	mp_model_info_free(d->info);
	d->info = NULL;
	struct mp_registry r = {.dir = "models", .nmodels = d->n};
	r.models = calloc(d->n ? d->n : 1, sizeof *r.models);
	if (!r.models)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->n; i++) {
		r.models[i].id = d->models[i].id;
		r.models[i].name = d->models[i].name;
		r.models[i].family = d->models[i].family;
		r.models[i].type = d->models[i].type;
	}
	mp_status st = mp_model_info_from_registry(&r, &d->info, err);
	free(r.models);
	return st;
}

mp_status mp_tui_data_select(struct mp_tui_data *d, size_t k,
			     const struct mp_tui_progress *prog,
			     struct mp_error *err)
{
	if (!d->file || k >= d->nmats)
		return mp_error_set(err, MP_EINVAL, "no matrix %zu", k);
	if (!progress(prog, "matrix", 0, 1))
		return interrupted(err);
	struct mp_simmatrix *m;
	mp_status st = mp_simmatrix_file_get(d->file, k, &m, err);
	if (st != MP_OK)
		return st;
	size_t *rm = malloc((m->n ? m->n : 1) * sizeof *rm);
	if (!rm) {
		mp_simmatrix_free(m);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	size_t n0 = d->n, cap = d->n;
	for (size_t r = 0; r < m->n && st == MP_OK; r++) {
		long mi = mp_tui_data_find(d, m->ids[r]);
		if (mi < 0) {
			st = add_model(d, &cap, m->ids[r], NULL, NULL, NULL,
				       NULL, err);
			mi = (long)d->n - 1;
		}
		rm[r] = (size_t)mi;
	}
	if (st == MP_OK && d->n != n0)
		st = build_info(d, err);
	if (st != MP_OK) {
		free(rm);
		mp_simmatrix_free(m);
		return st;
	}
	mp_analysis_free(d->an);
	d->an = NULL;
	mp_simmatrix_free(d->m);
	free(d->row_model);
	d->m = m;
	d->row_model = rm;
	d->cur = k;
	progress(prog, "matrix", 1, 1);
	return MP_OK;
}

const struct mp_analysis *mp_tui_data_analysis(struct mp_tui_data *d,
					       struct mp_error *err)
{
	if (!d->m) {
		mp_error_set(err, MP_ENOENT, "no similarity matrix: give --results");
		return NULL;
	}
	if (!d->an && mp_analysis_compute(d->m, d->info, &d->an, err) != MP_OK)
		d->an = NULL;
	return d->an;
}

static mp_status apply_info(struct mp_tui_data *d, const char *path,
			    struct mp_error *err)
{
	struct mp_model_info_set *s;
	mp_status st = mp_model_info_load(path, &s, err);
	if (st != MP_OK)
		return st;
	for (size_t i = 0; i < d->n && st == MP_OK; i++) {
		const struct mp_model_info *v = mp_model_info_find(s, d->models[i].id);
		if (!v)
			continue;
		struct mp_tui_model *m = &d->models[i];
		char *name = mp_strdup(v->name), *fam = mp_strdup(v->family),
		     *type = mp_strdup(v->type);
		if (!name || !fam || !type) {
			free(name);
			free(fam);
			free(type);
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
			break;
		}
		free(m->name);
		free(m->family);
		free(m->type);
		m->name = name;
		m->family = fam;
		m->type = type;
	}
	mp_model_info_free(s);
	return st;
}

/* The matrix to open on: fewest nulls, a spectral one on a tie, the first
 * in file order on a further tie. Spectral matrices are read first and a
 * spectral one without nulls ends the search. */
static mp_status densest(const struct mp_simmatrix_file *f, size_t *out,
			 struct mp_error *err)
{
	size_t best = 0, best_nulls = SIZE_MAX;
	if (f->n == 1)
		goto done; /* nothing to choose from: read it once */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < f->n; k++) {
			bool spec = !strcmp(f->method[k], "spectral");
			if (spec != (pass == 0))
				continue;
			struct mp_simmatrix *m;
			mp_status st = mp_simmatrix_file_get(f, k, &m, err);
			if (st != MP_OK)
				return st;
			size_t nulls = 0;
			for (size_t i = 0; i < m->n * m->n; i++)
				nulls += isnan(m->value[i]);
			mp_simmatrix_free(m);
			if (nulls < best_nulls) { /* strict: earlier wins ties */
				best = k;
				best_nulls = nulls;
			}
			if (spec && nulls == 0)
				goto done;
		}
done:
	*out = best;
	return MP_OK;
}

static mp_status load_results(struct mp_tui_data *d, const char *path,
			      const struct mp_tui_progress *prog,
			      struct mp_error *err)
{
	if (!progress(prog, "results", 0, 1))
		return interrupted(err);
	mp_status st = mp_simmatrix_file_open(path, &d->file, err);
	if (st != MP_OK)
		return st;
	d->nmats = d->file->n;
	if (d->nmats == 0)
		return mp_error_set(err, MP_EFORMAT, "%s: no matrices", path);
	size_t k;
	st = densest(d->file, &k, err);
	return st == MP_OK ? mp_tui_data_select(d, k, prog, err) : st;
}

mp_status mp_tui_data_load(const struct mp_tui_paths *p,
			   const struct mp_tui_progress *prog,
			   struct mp_tui_data **out, struct mp_error *err)
{
	struct mp_tui_data *d = calloc(1, sizeof *d);
	if (!d)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	size_t cap = 0;
	mp_status st = MP_OK;
	if (p->registry)
		st = load_registry(d, p->registry, prog, &cap, err);
	if (st == MP_OK && p->results)
		st = load_results(d, p->results, prog, err);
	if (st == MP_OK && p->model_info)
		st = apply_info(d, p->model_info, err);
	if (st == MP_OK && p->fingerprints &&
	    !(d->fp_file = mp_strdup(p->fingerprints)))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK && p->origin && !(d->origin = mp_strdup(p->origin)))
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK)
		st = build_info(d, err);
	if (st == MP_OK && d->n == 0)
		st = mp_error_set(err, MP_ENOENT,
				  "%s: no models to show",
				  p->registry ? p->registry
					      : p->results ? p->results : "tui");
	if (st != MP_OK) {
		mp_tui_data_free(d);
		return st;
	}
	*out = d;
	return MP_OK;
}

void mp_tui_data_free(struct mp_tui_data *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct mp_tui_model *m = &d->models[i];
		free(m->id);
		free(m->name);
		free(m->family);
		free(m->type);
		free(m->format);
	}
	free(d->models);
	mp_analysis_free(d->an);
	mp_simmatrix_free(d->m);
	free(d->row_model);
	mp_simmatrix_file_close(d->file);
	mp_model_info_free(d->info);
	mp_regdb_close(d->registry);
	free(d->fp_file);
	free(d->origin);
	free(d);
}
