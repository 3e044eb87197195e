/* check_experiment.c — experiment configs. */
#include "check_suites.h"
#include "experiment.h"
#include "pair_tiles.h"
#include "shard.h"
#include "testutil.h"

#include "simmatrix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static mp_status load(const char *text, struct mp_config **c,
		      struct mp_error *err)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "cfg.json");
	tu_write_str(p, text);
	mp_status st = mp_config_load(p, NULL, c, err);
	free(p);
	tu_rmtree(dir);
	free(dir);
	return st;
}

START_TEST(test_valid_config)
{
	struct mp_config *c;
	struct mp_error err;
	ck_assert_int_eq(load("{\"models\": [\"27\", 35, \"193\"], \"methods\": "
			      "[\"tensors\", \"spectral\"], \"method_args\": "
			      "{\"tensors\": {\"sketch_size\": 64}}, \"metrics\": "
			      "[\"l1\", \"js\"]}",
			      &c, &err),
			 MP_OK);
	ck_assert_uint_eq(c->nmodels, 3);
	ck_assert_str_eq(c->models[1], "35");
	ck_assert_uint_eq(c->nmethods, 2);
	ck_assert_uint_eq(c->nmetrics, 2);
	ck_assert_ptr_nonnull(c->method_args);
	mp_config_free(c);
}
END_TEST

START_TEST(test_bad_configs)
{
	static const struct {
		const char *text, *phrase;
	} cases[] = {
		{"[1]", "not an object"},
		{"{\"models\": [], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"]}",
		 "non-empty"},
		{"{\"models\": [\"1\", \"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"]}",
		 "twice"},
		{"{\"models\": [\"1\"], \"methods\": [\"io\"], \"metrics\": [\"l1\"]}",
		 "valid: tensors, spectral, weight, input_output"},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"js\"]}",
		 "exact (tensors)"},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"], "
		 "\"method_args\": {\"tensors\": {\"bins\": 3}}}",
		 "valid: sketch_size, seed"},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"], "
		 "\"method_args\": {\"spectral\": {}}}",
		 "not in \"methods\""},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"], "
		 "\"metric\": [\"js\"]}",
		 "unknown field 'metric' (valid: models, methods, method_args, metrics)"},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"], "
		 "\"models\": [\"2\"]}",
		 "duplicate key 'models' in the object at the top level"},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"], "
		 "\"\\u001b[2J\": 1}",
		 "unknown field '\\x1b[2J'"},
		{"{\"models\": [\"3\", \"1\", \"2\", 3], \"methods\": [\"tensors\"], "
		 "\"metrics\": [\"l1\"]}",
		 "lists '3' twice"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mp_config *c = NULL;
		struct mp_error err;
		ck_assert_msg(load(cases[i].text, &c, &err) != MP_OK, "accepted %s",
			      cases[i].text);
		ck_assert_ptr_null(c);
		ck_assert_msg(strstr(err.msg, cases[i].phrase) != NULL,
			      "'%s' lacks '%s'", err.msg, cases[i].phrase);
		ck_assert_ptr_nonnull(strstr(err.msg, "cfg.json"));
	}
}
END_TEST

/* 100,000 model ids, one of them unknown: the duplicate check and the
 * registry lookups were quadratic (over 200 s here); sorted, they take
 * well under a second. */
START_TEST(test_large_config)
{
	size_t n = 100000;
	char *dir = tu_tmpdir(), *reg = tu_path(dir, "reg");
	char *table = tu_path(dir, "reg/models.json");
	char *cfg = tu_path(dir, "cfg.json");
	ck_assert_int_eq(mkdir(reg, 0777), 0);
	size_t cap = 64 + n * 48, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "{\"models\": [");
	for (size_t i = 1; i <= n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"%s{\"id\": \"%zu\", \"path\": \"/m\"}",
					i > 1 ? "," : "", i);
	snprintf(text + len, cap - len, "]}");
	tu_write_str(table, text);
	len = (size_t)snprintf(text, cap, "{\"models\": [");
	for (size_t i = 1; i <= n; i++) /* the 77,777th id is unknown */
		len += (size_t)snprintf(text + len, cap - len, "%s\"%zu\"",
					i > 1 ? "," : "",
					i == 77777 ? n + 5 : i);
	snprintf(text + len, cap - len,
		 "], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"]}");
	tu_write_str(cfg, text);
	free(text);
	struct mp_error err;
	struct mp_registry *r;
	ck_assert_int_eq(mp_registry_load(reg, &r, &err), MP_OK);
	struct mp_config *c = NULL;
	ck_assert_int_eq(mp_config_load(cfg, r, &c, &err), MP_ENOENT);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err.msg, "unknown model id '100005'"), "%s", err.msg);
	mp_registry_free(r);
	free(cfg);
	free(table);
	free(reg);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

struct notices {
	int n;
	char last[1024];
};

static void collect(void *ctx, const char *msg)
{
	struct notices *no = ctx;
	no->n++;
	snprintf(no->last, sizeof no->last, "%s", msg);
}

/* Register the one-file safetensors models paths[0..n) as ids 1..n. */
static void add_models(const char *reg, const char *const *paths, int n)
{
	struct mp_error err;
	for (int k = 0; k < n; k++) {
		struct mp_model *m;
		ck_assert_int_eq(mp_model_open(paths[k], &m, &err), MP_OK);
		char hex[MP_SHA256_HEX];
		ck_assert_int_eq(mp_fp_hash_file(&m->files[0], hex, &err), MP_OK);
		char *file = m->files[0].path, *sha = hex;
		struct mp_reg_model rm = {.path = (char *)paths[k],
					  .format = "safetensors", .nfiles = 1,
					  .files = &file, .sha256 = &sha};
		char *id;
		ck_assert_int_eq(tu_reg_add(reg, &rm, NULL, &id, &err), MP_OK);
		free(id);
		mp_model_free(m);
	}
}

/* Write the config text to cfgp and load it against registry reg, opened
 * for writing too. */
static void open_run(const char *reg, const char *cfgp, const char *text,
		     struct mp_registry **r, struct mp_config **c,
		     struct mp_regdb **db)
{
	struct mp_error err;
	tu_write_str(cfgp, text);
	ck_assert_int_eq(mp_registry_load(reg, r, &err), MP_OK);
	ck_assert_int_eq(mp_config_load(cfgp, *r, c, &err), MP_OK);
	ck_assert_int_eq(mp_regdb_open(reg, true, db, &err), MP_OK);
}

static void close_run(struct mp_registry *r, struct mp_config *c,
		      struct mp_regdb *db)
{
	mp_config_free(c);
	mp_registry_free(r);
	mp_regdb_close(db);
}

/* Two models with different bytes; model 1's stored fingerprint is filed
 * as model 2's: the run notices (callback and result count) and
 * recomputes it, so the pair is not identical. */
START_TEST(test_foreign_fingerprint)
{
	char *dir = tu_tmpdir(), *reg = tu_path(dir, "reg");
	char *pa = tu_path(dir, "a.safetensors"), *pb = tu_path(dir, "b.safetensors");
	float va[4] = {1, 2, 3, 4}, vb[4] = {4, 3, -1, 1};
	struct tu_tensor ta = {"w", "F32", 1, {4}, va, sizeof va};
	struct tu_tensor tb = {"w", "F32", 1, {4}, vb, sizeof vb};
	tu_write_safetensors(pa, &ta, 1, NULL);
	tu_write_safetensors(pb, &tb, 1, NULL);
	struct mp_error err;
	const char *paths[2] = {pa, pb};
	add_models(reg, paths, 2);
	char *cfgp = tu_path(dir, "cfg.json");
	struct mp_registry *r;
	struct mp_config *c;
	struct mp_regdb *db;
	open_run(reg, cfgp,
		 "{\"models\": [\"1\", \"2\"], \"methods\": [\"tensors\"], "
		 "\"metrics\": [\"exact\"]}",
		 &r, &c, &db);
	struct notices no = {0};
	struct mp_run_opts o = {.registry = db, .write_to_registry = true,
				.threads = 1, .notice = collect,
				.notice_ctx = &no};
	struct mp_run_result res;
	ck_assert_int_eq(mp_experiment_run(c, &o, &res, &err), MP_OK);
	mp_run_result_done(&res);
	struct mp_fingerprint *fp;
	ck_assert_int_eq(tu_reg_get_fp(reg, "1", "tensors", &fp, &err), MP_OK);
	free(fp->model_id);
	fp->model_id = mp_strdup("2");
	ck_assert_int_eq(tu_reg_put_fp(reg, "2", fp, &err), MP_OK);
	mp_fp_free(fp);
	o.use_existing = true;
	o.write_to_registry = false;
	ck_assert_int_eq(mp_experiment_run(c, &o, &res, &err), MP_OK);
	ck_assert_uint_eq(res.reused, 1);
	ck_assert_uint_eq(res.computed, 1);
	ck_assert_uint_eq(res.stale, 1);
	ck_assert_int_eq(no.n, 1);
	ck_assert_msg(strstr(no.last, "fingerprint of model 2 (tensors) is stale: "
				      "recomputing (its files' SHA-256s"),
		      "%s", no.last);
	mp_run_result_done(&res);
	close_run(r, c, db);
	free(cfgp);
	free(pa);
	free(pb);
	free(reg);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A method that does not apply to a model (input_output to a model that
 * is no language model, weight to one with no matrix) is recorded, not an
 * error: the run goes on, says so once per (model, method), stores
 * nothing for it, and every matrix cell of that model is undefined with
 * the reason "the method does not apply to a model of the pair", in the
 * matrices file too. Model 1 holds a 2 x 2 matrix (weight applies), model
 * 2 only a vector. */
START_TEST(test_not_applicable)
{
	char *dir = tu_tmpdir(), *reg = tu_path(dir, "reg");
	char *pa = tu_path(dir, "a.safetensors"), *pb = tu_path(dir, "b.safetensors");
	float va[4] = {1, 2, 3, 4}, vb[4] = {4, 3, -1, 1};
	struct tu_tensor ta = {"w", "F32", 2, {2, 2}, va, sizeof va};
	struct tu_tensor tb = {"w", "F32", 1, {4}, vb, sizeof vb};
	tu_write_safetensors(pa, &ta, 1, NULL);
	tu_write_safetensors(pb, &tb, 1, NULL);
	const char *paths[2] = {pa, pb};
	add_models(reg, paths, 2);
	char *cfgp = tu_path(dir, "cfg.json"), *out = tu_path(dir, "out");
	struct mp_registry *r;
	struct mp_config *c;
	struct mp_regdb *db;
	open_run(reg, cfgp,
		 "{\"models\": [\"1\", \"2\"], \"methods\": "
		 "[\"tensors\", \"input_output\", \"weight\"], "
		 "\"metrics\": [\"l1\"]}",
		 &r, &c, &db);
	struct mp_error err;
	struct notices no = {0};
	struct mp_run_opts o = {.registry = db, .write_to_registry = true,
				.threads = 1, .notice = collect,
				.notice_ctx = &no, .output_dir = out};
	struct mp_run_result res;
	ck_assert_msg(mp_experiment_run(c, &o, &res, &err) == MP_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(res.computed, 3);
	ck_assert_uint_eq(res.not_applicable, 3);
	ck_assert_int_eq(no.n, 3);
	ck_assert_msg(strstr(no.last, "model 2 (weight): not applicable: ") &&
			  strstr(no.last, "no floating tensor with at least "
					  "two dimensions"),
		      "%s", no.last);
	struct mp_fingerprint *fp;
	ck_assert_int_eq(tu_reg_get_fp(reg, "1", "input_output", &fp, &err),
			 MP_ENOENT);
	ck_assert_int_eq(tu_reg_get_fp(reg, "1", "weight", &fp, &err), MP_OK);
	mp_fp_free(fp);
	mp_json *j;
	ck_assert_int_eq(mp_json_load(res.matrices_path, 1 << 20, &j, &err),
			 MP_OK);
	struct mp_simmatrix **ms;
	size_t nm;
	ck_assert_int_eq(mp_simmatrix_list_from_json(j, "m", &ms, &nm, &err),
			 MP_OK);
	ck_assert_uint_eq(nm, 3);
	/* which cells are defined (-1: not asserted, tensors' pair has no
	 * tensor of the same shape): weight [1][1] only */
	static const char *const order[3] = {"tensors", "input_output",
					     "weight"};
	static const int defined[3][4] = {
	    {1, -1, -1, 1}, {0, 0, 0, 0}, {1, 0, 0, 0}};
	for (int k = 0; k < 3; k++) {
		struct mp_simmatrix *s = NULL;
		for (size_t q = 0; q < nm; q++)
			if (strcmp(ms[q]->method, order[k]) == 0)
				s = ms[q];
		ck_assert_ptr_nonnull(s);
		for (int x = 0; x < 4; x++) {
			if (defined[k][x] >= 0)
				ck_assert_int_eq(!isnan(s->value[x]),
						 defined[k][x]);
			if (!defined[k][x])
				ck_assert_str_eq(s->reason[x],
						 "the method does not apply to "
						 "a model of the pair");
		}
		if (k == 2)
			ck_assert_double_eq_tol(s->value[0], 1.0, 1e-12);
	}
	for (size_t q = 0; q < nm; q++)
		mp_simmatrix_free(ms[q]);
	free(ms);
	mp_json_free(j);
	mp_run_result_done(&res);
	close_run(r, c, db);
	free(cfgp);
	free(out);
	free(pa);
	free(pb);
	free(reg);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A method that never applies to a model's format (input_output to a
 * TF.js model) is not applicable without opening the model: a run that
 * reuses the registry's fingerprints needs no file then (the demo's). */
START_TEST(test_not_applicable_unopened)
{
	char *dir = tu_tmpdir(), *reg = tu_path(dir, "reg");
	char *gone = tu_path(dir, "gone/model.json");
	char *file = tu_path(dir, "gone/group1-shard1of1.bin");
	char *sha = "0000000000000000000000000000000000000000000000000000000000000000";
	struct mp_reg_model rm = {.path = gone, .format = "tfjs", .nfiles = 1,
				  .files = &file, .sha256 = &sha};
	struct mp_error err;
	char *id;
	ck_assert_int_eq(tu_reg_add(reg, &rm, NULL, &id, &err), MP_OK);
	free(id);
	char *cfgp = tu_path(dir, "cfg.json");
	struct mp_registry *r;
	struct mp_config *c;
	struct mp_regdb *db;
	open_run(reg, cfgp,
		 "{\"models\": [\"1\"], \"methods\": [\"input_output\"], "
		 "\"metrics\": [\"l1\"]}",
		 &r, &c, &db);
	struct notices no = {0};
	struct mp_run_opts o = {.registry = db, .use_existing = true,
				.threads = 1, .notice = collect,
				.notice_ctx = &no};
	struct mp_run_result res;
	ck_assert_msg(mp_experiment_run(c, &o, &res, &err) == MP_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(res.not_applicable, 1);
	ck_assert_uint_eq(res.computed, 0);
	ck_assert_str_eq(no.last, "model 1 (input_output): not applicable: "
				  "input_output does not apply to a tfjs model");
	mp_run_result_done(&res);
	close_run(r, c, db);
	free(cfgp);
	free(gone);
	free(file);
	free(reg);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Names from the config reach error messages escaped (found by
 * fuzz_config): no control byte, the escape shown as \x1b. */
START_TEST(test_names_escaped)
{
	static const char *const cases[] = {
		"{\"models\": [\"\\u001b[2J\", \"\\u001b[2J\"], \"methods\": "
		"[\"tensors\"], \"metrics\": [\"l1\"]}",
		"{\"models\": [\"1\"], \"methods\": [\"\\u001b[2J\"], "
		"\"metrics\": [\"l1\"]}",
		"{\"models\": [\"1\"], \"methods\": [\"tensors\"], "
		"\"metrics\": [\"cos\\u001bine\"]}",
		"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": "
		"[\"l1\"], \"method_args\": {\"\\u001b[2J\": {}}}",
		"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": "
		"[\"l1\"], \"method_args\": {\"tensors\": {\"\\u001b[2J\": 3}}}",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mp_config *c = NULL;
		struct mp_error err;
		ck_assert_msg(load(cases[i], &c, &err) != MP_OK, "accepted %s",
			      cases[i]);
		for (const char *m = err.msg; *m; m++)
			ck_assert_msg((unsigned char)*m >= 0x20,
				      "control byte in '%s'", err.msg);
		ck_assert_msg(strstr(err.msg, "\\x1b") != NULL,
			      "'%s' lacks \\x1b", err.msg);
	}
}
END_TEST

/* Shards: "K/N" with 1 <= K <= N; the split is SHA-256(id)[0..8] as a
 * big-endian integer mod N, plus 1 (expected values from python3's
 * hashlib); --shard auto from the Slurm array variables. */
START_TEST(test_shard)
{
	struct mp_error err;
	unsigned k = 0, n = 0;
	ck_assert_int_eq(mp_shard_parse("3/4", &k, &n, &err), MP_OK);
	ck_assert_uint_eq(k, 3);
	ck_assert_uint_eq(n, 4);
	static const char *const bad[] = {"0/4", "5/4", "1/0", "4", "/4",
					  "1/", "a/b", "1/4x", " 1/4", "-1/4",
					  "1/1000001", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(mp_shard_parse(bad[i], &k, &n, &err), MP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "expected K/N or auto"));
	ck_assert_uint_eq(mp_shard_of("1", 4), 2);
	ck_assert_uint_eq(mp_shard_of("1", 7), 3);
	ck_assert_uint_eq(mp_shard_of("model-x", 4), 1);
	ck_assert_uint_eq(mp_shard_of("model-x", 7), 5);
	ck_assert_uint_eq(mp_shard_of("42", 7), 3);
	ck_assert_uint_eq(mp_shard_of("42", 1), 1);

	struct mp_shard_env one = {"3", "1", "4", "4", "1"};
	ck_assert_int_eq(mp_shard_from_env(&one, &k, &n, &err), MP_OK);
	ck_assert_uint_eq(k, 3);
	ck_assert_uint_eq(n, 4);
	struct mp_shard_env zero = {"0", "0", "3", NULL, NULL};
	ck_assert_int_eq(mp_shard_from_env(&zero, &k, &n, &err), MP_OK);
	ck_assert_uint_eq(k, 1);
	ck_assert_uint_eq(n, 4);
	struct mp_shard_env count = {"2", NULL, NULL, "5", NULL};
	ck_assert_int_eq(mp_shard_from_env(&count, &k, &n, &err), MP_OK);
	ck_assert_uint_eq(k, 2);
	ck_assert_uint_eq(n, 5);
	static const struct {
		struct mp_shard_env e;
		const char *msg;
	} no[] = {
		{{NULL, "1", "4", "4", NULL}, "SLURM_ARRAY_TASK_ID is not set"},
		{{"1", "1", NULL, NULL, NULL}, "nor SLURM_ARRAY_TASK_COUNT"},
		{{"1", "1", "5", "3", NULL}, "an array with gaps"},
		{{"1", "1", "7", "4", "2"}, "STEP=2"},
		{{"9", "1", "4", NULL, NULL}, "ID=9 is outside 1..4"},
		{{"x", "1", "4", NULL, NULL}, "ID='x' is not a task number"},
		{{"3", "4", "2", NULL, NULL}, "MAX=2 is below"},
		{{"1", NULL, NULL, "0", NULL}, "COUNT=0"},
	};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		ck_assert_int_eq(mp_shard_from_env(&no[i].e, &k, &n, &err),
				 MP_EINVAL);
		ck_assert_msg(strstr(err.msg, no[i].msg), "%zu: %s", i, err.msg);
	}
}
END_TEST

/* The pair tiles of `mpirun ... run` (pair_tiles.h): 4 models over 2
 * ranks by hand (side 4, ten one-pair tiles: the first five to rank 0),
 * then for n up to 40 and 1..5 ranks every pair (i <= j) in exactly one
 * tile, every model owned by exactly one rank that needs it, and each
 * rank's pairs within the largest tile of the fair share. */
START_TEST(test_pair_tiles)
{
	struct mp_tile_plan p;
	struct mp_error err;
	ck_assert_int_eq(mp_tiles_plan(4, 2, &p, &err), MP_OK);
	ck_assert_uint_eq(p.side, 4);
	ck_assert_uint_eq(p.ntiles, 10);
	static const size_t r0[] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 3};
	static const size_t c0[] = {0, 1, 2, 3, 1, 2, 3, 2, 3, 3};
	for (size_t t = 0; t < 10; t++) {
		ck_assert_uint_eq(p.tile[t].r0, r0[t]);
		ck_assert_uint_eq(p.tile[t].c0, c0[t]);
		ck_assert_uint_eq(p.tile[t].pairs, 1);
		ck_assert_int_eq(p.tile[t].rank, t < 5 ? 0 : 1);
	}
	bool need[4] = {0}, own[4] = {0};
	mp_tiles_models(&p, 1, need, own);
	ck_assert(!need[0] && need[1] && need[2] && need[3]);
	ck_assert(!own[0] && !own[1] && own[2] && own[3]);
	ck_assert_uint_eq(mp_tiles_rank_pairs(&p, 0), 5);
	mp_tiles_free(&p);
	ck_assert_int_eq(mp_tiles_plan(0, 2, &p, &err), MP_EINVAL);
	for (size_t n = 1; n <= 40; n++)
		for (int ranks = 1; ranks <= 5; ranks++) {
			ck_assert_int_eq(mp_tiles_plan(n, ranks, &p, &err), MP_OK);
			unsigned char *hit = calloc(n * n, 1);
			int *owner = malloc(n * sizeof *owner);
			uint64_t biggest = 0, sum = 0;
			for (size_t i = 0; i < n; i++)
				owner[i] = -1;
			for (size_t t = 0; t < p.ntiles; t++) {
				const struct mp_tile *x = &p.tile[t];
				uint64_t c = 0;
				for (size_t i = x->r0; i < x->r1; i++)
					for (size_t j = x->c0 > i ? x->c0 : i;
					     j < x->c1; j++, c++)
						hit[i * n + j]++;
				ck_assert_uint_eq(c, x->pairs);
				biggest = x->pairs > biggest ? x->pairs : biggest;
			}
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < n; j++)
					ck_assert_int_eq(hit[i * n + j], j >= i);
			for (int r = 0; r < ranks; r++) {
				bool *nd = calloc(n, 1), *ow = calloc(n, 1);
				mp_tiles_models(&p, r, nd, ow);
				for (size_t i = 0; i < n; i++)
					if (ow[i]) {
						ck_assert_int_eq(owner[i], -1);
						ck_assert(nd[i]);
						owner[i] = r;
					}
				uint64_t mine = mp_tiles_rank_pairs(&p, r);
				double fair = (double)n * (n + 1) / 2 / ranks;
				ck_assert_msg(mine <= fair + biggest + 1,
					      "n %zu ranks %d rank %d: %llu "
					      "pairs, fair %g",
					      n, ranks, r,
					      (unsigned long long)mine, fair);
				sum += mine;
				free(nd);
				free(ow);
			}
			for (size_t i = 0; i < n; i++)
				ck_assert_int_ge(owner[i], 0);
			ck_assert_uint_eq(sum, (uint64_t)n * (n + 1) / 2);
			free(hit);
			free(owner);
			mp_tiles_free(&p);
		}
}
END_TEST

Suite *suite_experiment(void)
{
	Suite *s = suite_create("experiment");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_valid_config);
	tcase_add_test(tc, test_bad_configs);
	tcase_add_test(tc, test_foreign_fingerprint);
	tcase_add_test(tc, test_not_applicable);
	tcase_add_test(tc, test_not_applicable_unopened);
	tcase_add_test(tc, test_names_escaped);
	tcase_add_test(tc, test_shard);
	tcase_add_test(tc, test_pair_tiles);
	suite_add_tcase(s, tc);
	TCase *big = tcase_create("large");
	tcase_set_timeout(big, 20);
	tcase_add_test(big, test_large_config);
	suite_add_tcase(s, big);
	return s;
}
