/* experiment.c — experiment configs and the experiment runner. */
#include "experiment.h"
#include "experiment_int.h"
#include "atomic_write.h"
#include "shard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An error when one of v[n] appears twice (sorts a copy: O(n log n)). */
static mp_status no_repeats(char *const *v, size_t n, const char *key,
			    const char *where, struct mp_error *err)
{
	char **s = malloc((n + 1) * sizeof *s);
	if (!s)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_strp);
	mp_status st = MP_OK;
	for (size_t i = 1; i < n && st == MP_OK; i++)
		if (strcmp(s[i - 1], s[i]) == 0) {
			char show[MP_NAME_SHOW + 8];
			st = mp_error_set(err, MP_EINVAL,
					  "%s: \"%s\" lists '%s' twice", where,
					  key, mp_printable(s[i], show));
		}
	free(s);
	return st;
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
		if (!((*out)[(*n)++] = mp_strdup(s)))
			return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	return no_repeats(*out, *n, key, where, err);
}

static mp_status check_config(struct mp_config *c, const mp_json *j,
			      const char *where, const struct mp_registry *reg,
			      struct mp_error *err)
{
	char valid[1024], show[MP_NAME_SHOW + 8];
	for (size_t i = 0; i < c->nmethods; i++)
		if (!mp_method_find(c->methods[i])) {
			valid[0] = '\0';
			for (const char *const *m = mp_method_names(); *m; m++)
				list_append(valid, sizeof valid, *m);
			return mp_error_set(err, MP_EINVAL,
					    "%s: unknown method '%s' (valid: %s)",
					    where, mp_printable(c->methods[i], show),
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
				    where, mp_printable(c->metrics[k], show), valid);
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
					    where, mp_printable(mp_json_key(a), show));
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
					    where, mp_printable(c->models[i], show),
					    reg->dir,
					    reg->nmodels ? valid : "none");
		}
	return MP_OK;
}

/* Every top-level field is known (a field given twice is refused by the
 * JSON layer). */
static mp_status check_fields(const mp_json *j, const char *where,
			      struct mp_error *err)
{
	static const char *const fields[] = {"models", "methods", "method_args",
					     "metrics"};
	enum { NFIELDS = sizeof fields / sizeof fields[0] };
	for (mp_json *e = mp_json_child(j); e; e = mp_json_next(e)) {
		size_t k = 0;
		while (k < NFIELDS && strcmp(fields[k], mp_json_key(e)) != 0)
			k++;
		char show[MP_NAME_SHOW + 8];
		if (k == NFIELDS)
			return mp_error_set(err, MP_EINVAL,
					    "%s: unknown field '%s' (valid: "
					    "models, methods, method_args, "
					    "metrics)",
					    where,
					    mp_printable(mp_json_key(e), show));
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
		st = check_fields(j, path, err);
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

/* Canonical equality of two argument objects (missing = empty): numbers,
 * strings (spectral's output_axis) and booleans by value. */
static bool same_args(const mp_json *a, const mp_json *b)
{
	size_t na = mp_json_size(a), nb = mp_json_size(b);
	if (na != nb)
		return false;
	for (mp_json *x = mp_json_child(a); x; x = mp_json_next(x)) {
		mp_json *y = mp_json_get(b, mp_json_key(x));
		if (!y || !mp_json_equal(x, y))
			return false;
	}
	return true;
}

static int cmp_hex(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the files recorded in fp are those of the registry entry: the
 * same multiset of SHA-256s. */
static mp_status same_files(const struct mp_fingerprint *fp,
			    const struct mp_reg_model *rm, bool *same,
			    struct mp_error *err)
{
	size_t n = rm->nfiles;
	*same = fp->nfiles == n;
	if (!*same || n == 0)
		return MP_OK;
	const char **a = malloc(n * sizeof *a), **b = malloc(n * sizeof *b);
	if (!a || !b) {
		free(a);
		free(b);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		a[i] = rm->sha256[i];
		b[i] = fp->files[i].sha256;
	}
	qsort(a, n, sizeof *a, cmp_hex);
	qsort(b, n, sizeof *b, cmp_hex);
	for (size_t i = 0; i < n && *same; i++)
		*same = strcmp(a[i], b[i]) == 0;
	free(a);
	free(b);
	return MP_OK;
}

/* Why the stored fingerprint fp does not stand for model rm under method
 * and args; why[0] is '\0' when it does. */
static mp_status stale_reason(const struct mp_fingerprint *fp,
			      const struct mp_reg_model *rm, const char *method,
			      const mp_json *args, char *why, size_t cap,
			      struct mp_error *err)
{
	char show[MP_NAME_SHOW + 8];
	bool same;
	why[0] = '\0';
	if (strcmp(fp->method, method) != 0)
		snprintf(why, cap, "it is of method '%s'",
			 mp_printable(fp->method, show));
	else if (!fp->model_id)
		snprintf(why, cap, "it names no model");
	else if (strcmp(fp->model_id, rm->id) != 0)
		snprintf(why, cap, "it belongs to model '%s'",
			 mp_printable(fp->model_id, show));
	else if (same_files(fp, rm, &same, err) != MP_OK)
		return MP_ENOMEM;
	else if (!same)
		snprintf(why, cap, "its files' SHA-256s are not those of the "
				   "registry entry");
	else if (!same_args(fp->args, args))
		snprintf(why, cap, "its method arguments are not the config's");
	return MP_OK;
}

/* The stored fingerprint of (rm, method) into *slot when it fits, else
 * *slot stays NULL and why says what was wrong with it ("" when there is
 * none). */
static mp_status take_existing(struct mp_regdb *db, const struct mp_reg_model *rm,
			       const char *method, const mp_json *args,
			       struct mp_fingerprint **slot, char *why,
			       size_t cap, struct mp_error *err)
{
	struct mp_error e2;
	why[0] = '\0';
	mp_status g = mp_regdb_get_fp(db, rm->id, method, slot, &e2);
	if (g == MP_ENOENT)
		return MP_OK;
	if (g == MP_ENOMEM)
		return mp_error_set(err, g, "%s", e2.msg);
	if (g != MP_OK) {
		snprintf(why, cap, "%s", e2.msg);
		return MP_OK;
	}
	mp_status st = stale_reason(*slot, rm, method, args, why, cap, err);
	if (st != MP_OK || why[0]) {
		mp_fp_free(*slot);
		*slot = NULL;
	}
	return st;
}

/* Open the model to compute its fingerprint; when a stale stored one is
 * the reason (why non-empty), say so, or fail naming its file. */
static mp_status open_for_compute(const struct mp_run_opts *o,
				  const struct mp_reg_model *rm,
				  const char *method, const char *why,
				  struct mp_model **model, struct mp_error *err)
{
	struct mp_error e2;
	mp_status st = mp_model_open(rm->path, model, &e2);
	if (st == MP_OK && why[0] && o->notice) {
		char msg[MP_ERRMSG_MAX + 256];
		snprintf(msg, sizeof msg,
			 "fingerprint of model %s (%s) is stale: recomputing "
			 "(%s)",
			 rm->id, method, why);
		o->notice(o->notice_ctx, msg);
	}
	if (st == MP_OK || !why[0])
		return st == MP_OK ? MP_OK : mp_error_set(err, st, "%s", e2.msg);
	return mp_error_set(err, MP_EFORMAT,
			    "%s: fingerprint of model %s (%s) is stale (%s), and "
			    "the model cannot be opened to recompute it: %s",
			    mp_regdb_name(o->registry), rm->id, method, why,
			    e2.msg);
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
	struct mp_simmatrix *done[2] = {cos, pea};
	for (int k = 0; k < 2; k++)
		if (done[k]) {
			done[k]->estimate = MP_ESTIMATE_EXACT;
			done[k]->sketch_values = 0;
		}
	return MP_OK;
}

/* The notice that method does not apply to model rm (err says why); its
 * fingerprint slot stays NULL. */
static mp_status not_applicable(const struct mp_run_opts *o,
				const struct mp_reg_model *rm,
				const char *method, struct mp_error *err)
{
	if (o->notice) {
		char msg[MP_ERRMSG_MAX + 256];
		snprintf(msg, sizeof msg, "model %s (%s): not applicable: %s",
			 rm->id, method, err ? err->msg : "");
		o->notice(o->notice_ctx, msg);
	}
	return MP_OK;
}

/* Bytes of the files the registry lists for rm (those that stat). */
static uint64_t model_bytes(const struct mp_reg_model *rm)
{
	uint64_t b = 0;
	struct stat st;
	for (size_t i = 0; i < rm->nfiles; i++)
		if (stat(rm->files[i], &st) == 0 && st.st_size > 0)
			b += (uint64_t)st.st_size;
	return b;
}

mp_status mp_exp_fingerprints(const struct mp_config *c,
			      const struct mp_run_opts *o,
			      const struct mp_registry *reg, const bool *mine,
			      const bool *counted, bool keep,
			      struct mp_fingerprint **fps,
			      struct mp_run_result *res, struct mp_error *err)
{
	size_t n = c->nmodels, nm = c->nmethods;
	const struct mp_fingerprint **fresh = calloc(nm + 1, sizeof *fresh);
	uint64_t *bytes = calloc(n + 1, sizeof *bytes);
	mp_status st = fresh && bytes ? MP_OK
				      : mp_error_set(err, MP_ENOMEM,
						     "out of memory");
	bool use_existing = o->use_existing || o->shard_n > 0;
	bool store = o->write_to_registry || o->shard_n > 0;
	struct mp_run_step step = {0};
	for (size_t i = 0; st == MP_OK && i < n; i++) {
		if (!mine[i])
			continue;
		bytes[i] = model_bytes(mp_registry_find(reg, c->models[i]));
		step.total += bytes[i] * nm;
		step.steps += nm;
	}
	/* a model only some other rank counts says nothing */
	struct mp_run_opts quiet = *o;
	quiet.notice = NULL;
	/* Model by model, so that each model's new fingerprints are stored in
	 * one transaction. */
	for (size_t i = 0; st == MP_OK && i < n; i++) {
		if (!mine[i])
			continue;
		bool count = !counted || counted[i];
		const struct mp_run_opts *oi = count ? o : &quiet;
		const struct mp_reg_model *rm = mp_registry_find(reg, c->models[i]);
		size_t nfresh = 0;
		for (size_t m = 0; st == MP_OK && m < nm; m++) {
			const char *method = c->methods[m];
			mp_json *args = mp_json_get(c->method_args, method);
			struct mp_fingerprint **slot = &fps[m * n + i];
			char why[MP_ERRMSG_MAX] = "";
			step.step++;
			step.id = rm->id;
			step.name = rm->name && *rm->name ? rm->name : rm->id;
			step.method = method;
			step.size = bytes[i];
			if (o->step)
				o->step(o->step_ctx, &step);
			step.done += bytes[i];
			if (use_existing) {
				st = take_existing(o->registry, rm, method, args,
						   slot, why, sizeof why, err);
				if (st != MP_OK)
					break;
				if (*slot)
					res->reused += count;
			}
			if (*slot)
				continue;
			if (mp_method_never_applies(mp_method_find(method),
						    rm->format)) {
				struct mp_error na;
				mp_error_set(&na, MP_ENOTAPPLIC,
					     "%s does not apply to a %s model",
					     method, rm->format);
				st = not_applicable(oi, rm, method, &na);
				res->not_applicable += count;
				continue;
			}
			struct mp_model *model;
			st = open_for_compute(oi, rm, method, why, &model, err);
			res->stale += count && why[0] != '\0';
			if (st == MP_OK) {
				st = mp_fp_compute(model, method, args, o->threads,
						   o->progress, slot, err);
				mp_model_free(model);
			}
			if (st == MP_ENOTAPPLIC) {
				st = not_applicable(oi, rm, method, err);
				res->not_applicable += count;
				continue;
			}
			if (st != MP_OK)
				break;
			res->computed += count;
			free((*slot)->model_id);
			if (!((*slot)->model_id = mp_strdup(rm->id)))
				st = mp_error_set(err, MP_ENOMEM, "out of memory");
			fresh[nfresh++] = *slot;
		}
		if (st == MP_OK && store && nfresh)
			st = mp_regdb_put_fps(o->registry, rm->id, fresh, nfresh,
					      err);
		if (st == MP_OK && nfresh)
			res->models_done += count;
		else if (st == MP_OK)
			res->models_skipped += count;
		/* a shard keeps no fingerprint: memory stays one model's */
		for (size_t m = 0; !keep && m < nm; m++) {
			mp_fp_free(fps[m * n + i]);
			fps[m * n + i] = NULL;
		}
	}
	free(fresh);
	free(bytes);
	return st;
}

mp_status mp_exp_write(const struct mp_config *c, const struct mp_run_opts *o,
		       const struct mp_registry *reg, mp_json *fpfile,
		       struct mp_simmatrix **mats, size_t nmats,
		       struct mp_run_result *res, struct mp_error *err)
{
	mp_status st = MP_OK;
	if (o->exact) {
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
		st = mp_dir_prepare(o->output_dir, "output directory", err);
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
	return st;
}

mp_status mp_experiment_run(const struct mp_config *c,
			    const struct mp_run_opts *o,
			    struct mp_run_result *res, struct mp_error *err)
{
	memset(res, 0, sizeof *res);
	if (o->mpi_size > 1)
		return mp_experiment_run_mpi(c, o, res, err);
	struct mp_registry *reg;
	mp_status st = mp_regdb_list(o->registry, NULL, &reg, err);
	if (st != MP_OK)
		return st;
	for (size_t i = 0; i < c->nmodels; i++)
		if (!mp_registry_find(reg, c->models[i])) {
			mp_registry_free(reg);
			return mp_error_set(err, MP_ENOENT,
					    "%s: unknown model id '%s'",
					    mp_regdb_name(o->registry),
					    c->models[i]);
		}
	size_t n = c->nmodels, nm = c->nmethods;
	struct mp_fingerprint **fps = calloc(n * nm + 1, sizeof *fps);
	struct mp_simmatrix **mats = calloc(nm * c->nmetrics + 1, sizeof *mats);
	size_t nmats = 0;
	mp_json *fpfile = mp_json_object();
	mp_json *fproot = mp_json_add_obj(fpfile, "fingerprints");
	bool *mine = calloc(n + 1, sizeof *mine);
	if (!fps || !mats || !fproot || !mine)
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
	bool sharded = o->shard_n > 0;
	for (size_t i = 0; st == MP_OK && i < n; i++) {
		mine[i] = !sharded ||
			  mp_shard_of(c->models[i], o->shard_n) == o->shard_k;
		res->models_other += !mine[i];
	}
	if (st == MP_OK)
		st = mp_exp_fingerprints(c, o, reg, mine, NULL, !sharded, fps,
					 res, err);
	for (size_t m = 0; st == MP_OK && !sharded && m < nm; m++) {
		const char *method = c->methods[m];
		mp_json *byid = mp_json_add_obj(fproot, method);
		for (size_t i = 0; i < n; i++)
			if (fps[m * n + i])
				mp_json_set(byid, c->models[i],
					    mp_fp_to_json(fps[m * n + i]));
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
	if (st == MP_OK && !sharded)
		st = mp_exp_write(c, o, reg, fpfile, mats, nmats, res, err);
	mp_json_free(fpfile);
	for (size_t i = 0; fps && i < n * nm; i++)
		mp_fp_free(fps[i]);
	free(fps);
	free(mine);
	for (size_t k = 0; k < nmats; k++)
		mp_simmatrix_free(mats[k]);
	free(mats);
	mp_registry_free(reg);
	if (st != MP_OK)
		mp_run_result_done(res);
	return st;
}
