/* fuzz_json.c — libFuzzer harnesses for every JSON input modelprint reads,
 * one binary per kind, chosen at build time with -DFUZZ_KIND=<n>:
 *
 *   1 fuzz_config      experiment config (mp_config_load, with no registry
 *                      and with the demo registry for its model ids)
 *   2 fuzz_registry    a registry's models.json (mp_regdir_read, every id
 *                      found again, model info taken from it)
 *   3 fuzz_fingerprint a fingerprint file (mp_regdir_get_fp: the file
 *                      read as the registry reads it, mp_fp_from_json),
 *                      written back and read again, every metric of its
 *                      method against itself, every tensor found by name
 *   4 fuzz_results     a similarity-matrices file: the streaming reader
 *                      (simmatrix_read.c) and the tree reader must agree
 *                      (except that cJSON takes raw control bytes in
 *                      strings, which the streaming reader refuses);
 *                      each matrix analysed with and without the demo
 *                      model info, the first ones correlated
 *   5 fuzz_modelinfo   a model-info file (mp_model_info_load, every id found
 *                      again), then a fixed matrix analysed with it
 *   6 fuzz_index       model.safetensors.index.json beside two fixed valid
 *                      shards, opened as a file and as a directory and
 *                      fingerprinted
 *
 * Each input is written to a fresh directory. A rejected input must leave
 * one printable error line (fuzz_util.h). FUZZ_TOP is the source tree (for
 * data/demo), set by fuzz/build.sh. */
#include "correlate.h"
#include "experiment.h"
#include "fuzz_util.h"
#include "groups.h"
#include "modelinfo.h"
#include "registry_int.h"

#include <math.h>

#ifndef FUZZ_KIND
#error "build with -DFUZZ_KIND=1..6 (fuzz/build.sh does)"
#endif
#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

static char base[64];

static void save(const char *dir, const char *name, const uint8_t *data,
		 size_t size, char *path, size_t cap)
{
	fuzz_write(dir, name, data, size);
	snprintf(path, cap, "%s/%s", dir, name);
}

#if FUZZ_KIND == 1
static struct mp_registry *demo_reg;

static void run(const char *dir, const uint8_t *data, size_t size)
{
	struct mp_error err;
	if (!demo_reg) {
		mp_status st = mp_registry_load(FUZZ_TOP "/data/demo/registry",
						&demo_reg, &err);
		if (st != MP_OK) {
			fprintf(stderr, "fuzz: %s\n", err.msg);
			abort();
		}
	}
	char p[4096];
	save(dir, "config.json", data, size, p, sizeof p);
	for (int i = 0; i < 2; i++) {
		struct mp_config *c;
		mp_status st = mp_config_load(p, i ? demo_reg : NULL, &c, &err);
		fuzz_check_error(st, &err);
		if (st == MP_OK)
			mp_config_free(c);
	}
}

#elif FUZZ_KIND == 2
static void run(const char *dir, const uint8_t *data, size_t size)
{
	char p[4096];
	save(dir, "models.json", data, size, p, sizeof p);
	struct mp_error err;
	struct mp_registry *r;
	/* the parser the automatic import uses, without building a database
	 * per input */
	mp_status st = mp_regdir_read(dir, &r, &err);
	fuzz_check_error(st, &err);
	if (st != MP_OK)
		return;
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct mp_reg_model *m = mp_registry_find(r, r->models[i].id);
		if (!m || strcmp(m->id, r->models[i].id)) {
			fprintf(stderr, "fuzz: registry id %zu not found\n", i);
			abort();
		}
	}
	struct mp_model_info_set *info;
	st = mp_model_info_from_registry(r, &info, &err);
	fuzz_check_error(st, &err);
	if (st == MP_OK)
		mp_model_info_free(info);
	mp_registry_free(r);
}

#elif FUZZ_KIND == 3
#include "metric.h"

static void run(const char *dir, const uint8_t *data, size_t size)
{
	char fpdir[4096];
	snprintf(fpdir, sizeof fpdir, "%s/fingerprints", dir);
	if (mkdir(fpdir, 0700) != 0)
		abort();
	/* Named for the method the input claims, so get_fp finds it. */
	const char *method = memmem(data, size, "spectral", 8) ? "spectral"
							       : "tensors";
	char name[64], p[4096];
	snprintf(name, sizeof name, "x.%s.json", method);
	save(fpdir, name, data, size, p, sizeof p);
	struct mp_error err;
	struct mp_fingerprint *fp;
	mp_status st = mp_regdir_get_fp(dir, "x", method, &fp, &err);
	fuzz_check_error(st, &err);
	if (st != MP_OK)
		return;
	for (size_t i = 0; i < fp->ntensors; i++) {
		const struct mp_tensor_fp *t = mp_fp_find(fp, fp->tensors[i].name);
		if (!t || strcmp(t->name, fp->tensors[i].name)) {
			fprintf(stderr, "fuzz: tensor %zu not found by name\n", i);
			abort();
		}
	}
	mp_json *j = mp_fp_to_json(fp);
	if (j) {
		struct mp_fingerprint *back;
		st = mp_fp_from_json(j, "round trip", &back, &err);
		if (st != MP_OK) {
			fprintf(stderr, "fuzz: written fingerprint does not "
					"read back: %s\n",
				err.msg);
			abort();
		}
		mp_fp_free(back);
		mp_json_free(j);
	}
	size_t nm;
	const struct mp_metric *ms = mp_metric_all(&nm);
	for (size_t i = 0; i < nm; i++)
		if (fp->method && !strcmp(ms[i].method, fp->method))
			(void)ms[i].score(fp, fp);
	mp_fp_free(fp);
}

#elif FUZZ_KIND == 4
static struct mp_model_info_set *demo_info;

static bool same_value(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* The tree reader's matrices against the streaming reader's. */
static void compare_readers(const char *p, struct mp_simmatrix_file *sf,
			    mp_status sst, const struct mp_error *serr,
			    bool raw_controls)
{
	struct mp_error err;
	mp_json *j;
	mp_status st = mp_json_load(p, (uint64_t)1 << 30, &j, &err);
	struct mp_simmatrix **ms = NULL;
	size_t n = 0;
	if (st == MP_OK) {
		st = mp_simmatrix_list_from_json(j, p, &ms, &n, &err);
		mp_json_free(j);
	}
	fuzz_check_error(st, &err);
	bool ok_stream = sst == MP_OK;
	struct mp_simmatrix *m = NULL;
	for (size_t i = 0; ok_stream && i < sf->n; i++) {
		struct mp_error e2;
		if (mp_simmatrix_file_get(sf, i, &m, &e2) != MP_OK) {
			ok_stream = false;
			break;
		}
		if (st == MP_OK && i < n &&
		    (m->n != ms[i]->n || strcmp(m->method, ms[i]->method) ||
		     strcmp(m->metric, ms[i]->metric))) {
			fprintf(stderr, "fuzz: readers differ on matrix %zu\n", i);
			abort();
		}
		for (size_t k = 0; st == MP_OK && i < n && k < m->n * m->n; k++)
			if (!same_value(m->value[k], ms[i]->value[k])) {
				fprintf(stderr,
					"fuzz: readers differ on matrix %zu "
					"cell %zu: %.17g vs %.17g\n",
					i, k, m->value[k], ms[i]->value[k]);
				abort();
			}
		mp_simmatrix_free(m);
		m = NULL;
	}
	/* Known: cJSON takes raw control bytes inside strings (a key "l1\0x"
	 * reads as "l1"), which JSON and the streaming reader refuse. */
	bool lenient = !ok_stream && st == MP_OK && raw_controls;
	if (!lenient &&
	    (ok_stream != (st == MP_OK) || (ok_stream && sf->n != n))) {
		fprintf(stderr,
			"fuzz: streaming reader %s (%zu matrices: %s), tree "
			"reader %s (%zu: %s)\n",
			ok_stream ? "accepts" : "rejects", sf ? sf->n : 0,
			sst == MP_OK ? "" : serr->msg,
			st == MP_OK ? "accepts" : "rejects", n,
			st == MP_OK ? "" : err.msg);
		abort();
	}
	for (size_t i = 0; i < n; i++)
		mp_simmatrix_free(ms[i]);
	free(ms);
}

static void run(const char *dir, const uint8_t *data, size_t size)
{
	struct mp_error err;
	if (!demo_info &&
	    mp_model_info_load(FUZZ_TOP "/data/demo/model-info.json",
			       &demo_info, &err) != MP_OK) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
		abort();
	}
	char p[4096];
	save(dir, "similarity_matrices.json", data, size, p, sizeof p);
	struct mp_simmatrix_file *sf = NULL;
	mp_status st = mp_simmatrix_file_open(p, &sf, &err);
	fuzz_check_error(st, &err);
	bool raw_controls = false;
	for (size_t i = 0; i < size && !raw_controls; i++)
		raw_controls = data[i] < 0x20 && data[i] != '\t' &&
			       data[i] != '\n' && data[i] != '\r';
	compare_readers(p, sf, st, &err, raw_controls);
	if (st != MP_OK)
		return;
	size_t pick;
	st = mp_simmatrix_file_pick(sf, NULL, NULL, &pick, &err);
	fuzz_check_error(st, &err);
	struct mp_simmatrix *m[3] = {NULL, NULL, NULL};
	size_t got = 0;
	for (size_t i = 0; i < sf->n && got < 3; i++) {
		st = mp_simmatrix_file_get(sf, i, &m[got], &err);
		fuzz_check_error(st, &err);
		if (st == MP_OK)
			got++;
	}
	for (size_t i = 0; i < got; i++)
		for (int k = 0; k < 2; k++) {
			struct mp_analysis *a;
			st = mp_analysis_compute(m[i], k ? demo_info : NULL, &a,
						 &err);
			fuzz_check_error(st, &err);
			if (st == MP_OK) {
				mp_json_free(mp_analysis_to_json(a));
				mp_analysis_free(a);
			}
		}
	if (got >= 2) {
		struct mp_correlation *co;
		st = mp_correlate((const struct mp_simmatrix *const *)m, got,
				  &co, &err);
		fuzz_check_error(st, &err);
		if (st == MP_OK) {
			mp_json_free(mp_correlation_to_json(co));
			mp_correlation_free(co);
		}
	}
	for (size_t i = 0; i < got; i++)
		mp_simmatrix_free(m[i]);
	mp_simmatrix_file_close(sf);
}

#elif FUZZ_KIND == 5
static struct mp_simmatrix *fixed;

static const char fixed_matrix[] =
    "{\"matrices\":{\"tensors\":{\"cosine\":{\"models\":[\"1\",\"2\",\"3\","
    "\"4\",\"x\"],\"values\":[[1,0.9,0.1,0.2,null],[0.9,1,0.3,0.1,0.5],"
    "[0.1,0.3,1,0.8,0.4],[0.2,0.1,0.8,1,null],[null,0.5,0.4,null,1]]}}}}";

static void run(const char *dir, const uint8_t *data, size_t size)
{
	struct mp_error err;
	char p[4096];
	if (!fixed) {
		struct mp_simmatrix_file *sf;
		save(base, "fixed.json", (const uint8_t *)fixed_matrix,
		     sizeof fixed_matrix - 1, p, sizeof p);
		if (mp_simmatrix_file_open(p, &sf, &err) != MP_OK ||
		    mp_simmatrix_file_get(sf, 0, &fixed, &err) != MP_OK) {
			fprintf(stderr, "fuzz: %s\n", err.msg);
			abort();
		}
		mp_simmatrix_file_close(sf);
	}
	save(dir, "model-info.json", data, size, p, sizeof p);
	struct mp_model_info_set *info;
	mp_status st = mp_model_info_load(p, &info, &err);
	fuzz_check_error(st, &err);
	if (st != MP_OK)
		return;
	for (size_t i = 0; i < info->n; i++) {
		const struct mp_model_info *e =
		    mp_model_info_find(info, info->v[i].id);
		if (e != &info->v[i]) {
			fprintf(stderr, "fuzz: model info %zu not found\n", i);
			abort();
		}
	}
	struct mp_analysis *a;
	st = mp_analysis_compute(fixed, info, &a, &err);
	fuzz_check_error(st, &err);
	if (st == MP_OK) {
		mp_json_free(mp_analysis_to_json(a));
		mp_analysis_free(a);
	}
	mp_model_info_free(info);
}

#elif FUZZ_KIND == 6
/* A safetensors file of F32 tensors named names[i] of 2x2 (a copy of the
 * 16-byte payload each). */
static void shard(const char *dir, const char *file, const char *const *names,
		  size_t n)
{
	char hdr[512];
	size_t k = 0;
	k += (size_t)snprintf(hdr + k, sizeof hdr - k, "{");
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(hdr + k, sizeof hdr - k,
				      "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[2,"
				      "2],\"data_offsets\":[%zu,%zu]}",
				      i ? "," : "", names[i], 16 * i,
				      16 * i + 16);
	k += (size_t)snprintf(hdr + k, sizeof hdr - k, "}");
	uint8_t buf[1024];
	uint64_t hl = k;
	for (int b = 0; b < 8; b++)
		buf[b] = (uint8_t)(hl >> (8 * b));
	memcpy(buf + 8, hdr, k);
	static const float v[4] = {1.0f, -2.5f, 0.25f, 3.0f};
	for (size_t i = 0; i < n; i++)
		memcpy(buf + 8 + k + 16 * i, v, 16);
	fuzz_write(dir, file, buf, 8 + k + 16 * n);
}

static void run(const char *dir, const uint8_t *data, size_t size)
{
	static const char *const s1[] = {"a", "b"}, *const s2[] = {"c"};
	shard(dir, "model-00001-of-00002.safetensors", s1, 2);
	shard(dir, "model-00002-of-00002.safetensors", s2, 1);
	char p[4096];
	save(dir, "model.safetensors.index.json", data, size, p, sizeof p);
	for (int i = 0; i < 2; i++) {
		struct mp_model *m;
		struct mp_error err;
		mp_status st = mp_model_open(i ? dir : p, &m, &err);
		fuzz_check_error(st, &err);
		if (st != MP_OK)
			continue;
		struct mp_fingerprint *fp;
		st = mp_fp_compute(m, "tensors", NULL, 1, NULL, &fp, &err);
		fuzz_check_error(st, &err);
		if (st == MP_OK)
			mp_fp_free(fp);
		mp_model_free(m);
	}
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base[0])
		fuzz_mkdtemp(base, sizeof base, "mpfuzzj");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/d", base);
	if (mkdir(dir, 0700) != 0)
		abort();
	run(dir, data, size);
	fuzz_rm_rf(dir);
	return 0;
}
