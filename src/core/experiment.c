/* experiment.c — experiment configs and the experiment runner. */
#include "experiment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFIG (16ULL << 20)

void mp_config_free(struct mp_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nmodels; i++)
		free(c->models[i]);
	for (size_t i = 0; i < c->nmethods; i++)
		free(c->methods[i]);
	for (size_t i = 0; i < c->nmetrics; i++)
		free(c->metrics[i]);
	free(c->models);
	free(c->methods);
	free(c->metrics);
	mp_json_free(c->method_args);
	free(c);
}

/* Append "a, b, c" to buf. */
static void list_append(char *buf, size_t cap, const char *item)
{
	size_t l = strlen(buf);
	snprintf(buf + l, cap - l, "%s%s", l ? ", " : "", item);
}

/* Read an array of strings (or integers, for models) into *out. */
static mp_status str_list(const mp_json *a, const char *key, bool ints,
			  const char *where, char ***out, size_t *n,
			  struct mp_error *err)
{
	if (!mp_json_is_array(a) || mp_json_size(a) == 0)
		return mp_error_set(err, MP_EINVAL,
				    "%s: \"%s\" must be a non-empty array",
				    where, key);
	*out = calloc(mp_json_size(a), sizeof **out);
	if (!*out)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	for (mp_json *e = mp_json_child(a); e; e = mp_json_next(e)) {
		char num[32];
		const char *s = mp_json_str(e);
		uint64_t u;
		if (!s && ints && mp_json_uint(e, &u)) {
			snprintf(num, sizeof num, "%llu", (unsigned long long)u);
			s = num;
		}
		if (!s)
			return mp_error_set(err, MP_EINVAL,
					    "%s: \"%s\" entries must be strings",
					    where, key);
		for (size_t i = 0; i < *n; i++)
			if (strcmp((*out)[i], s) == 0) {
				char nb[MP_NAME_SHOW + 8];
				return mp_error_set(err, MP_EINVAL,
						    "%s: \"%s\" lists '%s' twice",
						    where, key,
						    mp_printable(s, nb));
			}
		if (!((*out)[(*n)++] = mp_strdup(s)))
			return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	return MP_OK;
}

static mp_status check_config(struct mp_config *c, const mp_json *j,
			      const char *where, const struct mp_registry *reg,
			      struct mp_error *err)
{
	char valid[1024], nb[MP_NAME_SHOW + 8];
	for (size_t i = 0; i < c->nmethods; i++)
		if (!mp_method_find(c->methods[i])) {
			valid[0] = '\0';
			for (const char *const *m = mp_method_names(); *m; m++)
				list_append(valid, sizeof valid, *m);
			return mp_error_set(err, MP_EINVAL,
					    "%s: unknown method '%s' (valid: %s)",
					    where,
					    mp_printable(c->methods[i], nb),
					    valid);
		}
	size_t nall;
	const struct mp_metric *all = mp_metric_all(&nall);
	for (size_t k = 0; k < c->nmetrics; k++) {
		bool found = false;
		for (size_t i = 0; i < c->nmethods; i++)
			found |= mp_metric_find(c->methods[i], c->metrics[k]) != NULL;
		if (found)
			continue;
		valid[0] = '\0';
		for (size_t i = 0; i < c->nmethods; i++)
			for (size_t m = 0; m < nall; m++)
				if (strcmp(all[m].method, c->methods[i]) == 0) {
					char item[96];
					snprintf(item, sizeof item, "%s (%s)",
						 all[m].name, all[m].method);
					list_append(valid, sizeof valid, item);
				}
		return mp_error_set(err, MP_EINVAL,
				    "%s: unknown metric '%s' for methods in "
				    "this config (valid: %s)",
				    where, mp_printable(c->metrics[k], nb),
				    valid);
	}
	mp_json *args = mp_json_get(j, "method_args");
	if (args && !mp_json_is_object(args))
		return mp_error_set(err, MP_EINVAL,
				    "%s: \"method_args\" must be an object", where);
	for (mp_json *a = mp_json_child(args); a; a = mp_json_next(a)) {
		const struct mp_method *me = mp_method_find(mp_json_key(a));
		bool requested = false;
		for (size_t i = 0; i < c->nmethods; i++)
			requested |= strcmp(c->methods[i], mp_json_key(a)) == 0;
		if (!me || !requested)
			return mp_error_set(err, MP_EINVAL,
					    "%s: method_args for '%s', which is "
					    "not in \"methods\"",
					    where,
					    mp_printable(mp_json_key(a), nb));
		mp_status st = mp_method_check_args(me, a, err);
		if (st != MP_OK) {
			char msg[MP_ERRMSG_MAX];
			snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
			return mp_error_set(err, st, "%s: %s", where, msg);
		}
	}
	c->method_args = args ? mp_json_dup(args) : NULL;
	for (size_t i = 0; reg && i < c->nmodels; i++)
		if (!mp_registry_find(reg, c->models[i])) {
			valid[0] = '\0';
			for (size_t k = 0; k < reg->nmodels && k < 10; k++)
				list_append(valid, sizeof valid, reg->models[k].id);
			if (reg->nmodels > 10)
				list_append(valid, sizeof valid, "...");
			return mp_error_set(err, MP_ENOENT,
					    "%s: unknown model id '%s' in "
					    "registry %s (valid: %s)",
					    where,
					    mp_printable(c->models[i], nb),
					    reg->dir,
					    reg->nmodels ? valid : "none");
		}
	return MP_OK;
}

mp_status mp_config_load(const char *path, const struct mp_registry *reg,
			 struct mp_config **out, struct mp_error *err)
{
	*out = NULL;
	mp_json *j;
	mp_status st = mp_json_load(path, MAX_CONFIG, &j, err);
	if (st != MP_OK)
		return st;
	struct mp_config *c = calloc(1, sizeof *c);
	if (!c) {
		mp_json_free(j);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	if (!mp_json_is_object(j))
		st = mp_error_set(err, MP_EINVAL, "%s: config is not an object",
				  path);
	if (st == MP_OK)
		st = str_list(mp_json_get(j, "models"), "models", true, path,
			      &c->models, &c->nmodels, err);
	if (st == MP_OK)
		st = str_list(mp_json_get(j, "methods"), "methods", false, path,
			      &c->methods, &c->nmethods, err);
	if (st == MP_OK)
		st = str_list(mp_json_get(j, "metrics"), "metrics", false, path,
			      &c->metrics, &c->nmetrics, err);
	if (st == MP_OK)
		st = check_config(c, j, path, reg, err);
	mp_json_free(j);
	if (st != MP_OK) {
		mp_config_free(c);
		return st;
	}
	*out = c;
	return MP_OK;
}

void mp_run_result_done(struct mp_run_result *res)
{
	free(res->fingerprints_path);
	free(res->matrices_path);
	memset(res, 0, sizeof *res);
}

/* Canonical equality of two argument objects (missing = empty). */
static bool same_args(const mp_json *a, const mp_json *b)
{
	size_t na = mp_json_size(a), nb = mp_json_size(b);
	if (na != nb)
		return false;
	for (mp_json *x = mp_json_child(a); x; x = mp_json_next(x)) {
		mp_json *y = mp_json_get(b, mp_json_key(x));
		if (!y || mp_json_num(x) != mp_json_num(y))
			return false;
	}
	return true;
}

static mp_status write_json(const char *dir, const char *name, mp_json *j,
			    char **path_out, struct mp_error *err)
{
	char *path = mp_path_join(dir, name);
	char *text = j ? mp_json_print(j, false) : NULL;
	mp_status st = path && text ? mp_atomic_write(path, text, err)
				    : mp_error_set(err, MP_ENOMEM, "out of memory");
	free(text);
	if (st == MP_OK)
		*path_out = path;
	else
		free(path);
	return st;
}

/* Exact cosine/pearson matrices from the files. */
static mp_status exact_matrices(const struct mp_registry *reg,
				const struct mp_config *c,
				struct mp_simmatrix *cos, struct mp_simmatrix *pea,
				struct mp_error *err)
{
	size_t n = c->nmodels;
	for (size_t i = 0; i < n; i++) {
		struct mp_model *a;
		mp_status st = mp_model_open(mp_registry_find(reg, c->models[i])->path,
					     &a, err);
		if (st != MP_OK)
			return st;
		for (size_t j = i; j < n; j++) {
			struct mp_model *b;
			st = mp_model_open(mp_registry_find(reg, c->models[j])->path,
					   &b, err);
			if (st != MP_OK) {
				mp_model_free(a);
				return st;
			}
			struct mp_exact_pair *p;
			size_t np;
			struct mp_score sc, sp;
			st = mp_metric_exact(a, b, &p, &np, &sc, &sp, err);
			free(p);
			mp_model_free(b);
			if (st != MP_OK) {
				mp_model_free(a);
				return st;
			}
			struct mp_simmatrix *m[2] = {cos, pea};
			struct mp_score s[2] = {sc, sp};
			for (int k = 0; k < 2; k++) {
				if (!m[k])
					continue;
				double v = s[k].defined ? s[k].value : NAN;
				m[k]->value[i * n + j] = m[k]->value[j * n + i] = v;
				m[k]->reason[i * n + j] = m[k]->reason[j * n + i] =
					s[k].reason;
			}
		}
		mp_model_free(a);
	}
	return MP_OK;
}

mp_status mp_experiment_run(const struct mp_config *c,
			    const struct mp_run_opts *o,
			    struct mp_run_result *res, struct mp_error *err)
{
	memset(res, 0, sizeof *res);
	struct mp_registry *reg;
	mp_status st = mp_registry_load(o->registry_dir, &reg, err);
	if (st != MP_OK)
		return st;
	for (size_t i = 0; i < c->nmodels; i++)
		if (!mp_registry_find(reg, c->models[i])) {
			mp_registry_free(reg);
			return mp_error_set(err, MP_ENOENT,
					    "%s: unknown model id '%s'",
					    o->registry_dir, c->models[i]);
		}
	size_t n = c->nmodels, nm = c->nmethods;
	struct mp_fingerprint **fps = calloc(n * nm + 1, sizeof *fps);
	struct mp_simmatrix **mats = calloc(nm * c->nmetrics + 1, sizeof *mats);
	size_t nmats = 0;
	mp_json *fpfile = mp_json_object();
	mp_json *fproot = mp_json_add_obj(fpfile, "fingerprints");
	if (!fps || !mats || !fproot)
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	for (size_t m = 0; st == MP_OK && m < nm; m++) {
		const char *method = c->methods[m];
		mp_json *args = mp_json_get(c->method_args, method);
		mp_json *byid = mp_json_add_obj(fproot, method);
		for (size_t i = 0; st == MP_OK && i < n; i++) {
			struct mp_fingerprint **slot = &fps[m * n + i];
			const struct mp_reg_model *rm = mp_registry_find(reg, c->models[i]);
			if (o->use_existing &&
			    mp_registry_get_fp(o->registry_dir, rm->id, method, slot,
					       NULL) == MP_OK) {
				if (same_args((*slot)->args, args)) {
					res->reused++;
				} else {
					mp_fp_free(*slot);
					*slot = NULL;
				}
			}
			if (!*slot) {
				struct mp_model *model;
				st = mp_model_open(rm->path, &model, err);
				if (st == MP_OK) {
					st = mp_fp_compute(model, method, args,
							   o->threads, o->progress,
							   slot, err);
					mp_model_free(model);
				}
				if (st != MP_OK)
					break;
				res->computed++;
				free((*slot)->model_id);
				(*slot)->model_id = mp_strdup(rm->id);
				if (o->write_to_registry)
					st = mp_registry_put_fp(o->registry_dir,
								rm->id, *slot, err);
			}
			if (st == MP_OK)
				mp_json_set(byid, rm->id, mp_fp_to_json(*slot));
		}
		for (size_t k = 0; st == MP_OK && k < c->nmetrics; k++) {
			const struct mp_metric *me = mp_metric_find(method, c->metrics[k]);
			if (!me)
				continue;
			st = mp_simmatrix_compute(me, &fps[m * n], c->models, n,
						  &mats[nmats], err);
			if (st == MP_OK)
				nmats++;
		}
	}
	if (st == MP_OK && o->exact) {
		struct mp_simmatrix *cos = NULL, *pea = NULL;
		for (size_t k = 0; k < nmats; k++)
			if (strcmp(mats[k]->method, "tensors") == 0) {
				if (strcmp(mats[k]->metric, "cosine") == 0)
					cos = mats[k];
				if (strcmp(mats[k]->metric, "pearson") == 0)
					pea = mats[k];
			}
		if (cos || pea)
			st = exact_matrices(reg, c, cos, pea, err);
	}
	if (st == MP_OK && o->output_dir) {
		st = mp_registry_check_writable(o->output_dir, err);
		if (st == MP_OK)
			st = write_json(o->output_dir, "fingerprints.json", fpfile,
					&res->fingerprints_path, err);
		mp_json *mj = st == MP_OK ? mp_simmatrix_list_to_json(mats, nmats)
					  : NULL;
		if (st == MP_OK)
			st = write_json(o->output_dir, "similarity_matrices.json",
					mj, &res->matrices_path, err);
		mp_json_free(mj);
	}
	mp_json_free(fpfile);
	for (size_t i = 0; fps && i < n * nm; i++)
		mp_fp_free(fps[i]);
	free(fps);
	for (size_t k = 0; k < nmats; k++)
		mp_simmatrix_free(mats[k]);
	free(mats);
	mp_registry_free(reg);
	if (st != MP_OK)
		mp_run_result_done(res);
	return st;
}
