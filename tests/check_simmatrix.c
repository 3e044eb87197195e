/* check_simmatrix.c — the streaming similarity-matrices reader agrees with
 * the JSON-tree reader on the demo results, decodes strings, and rejects
 * hostile files with a message naming the file. */
#include "check_suites.h"
#include "fingerprint.h"
#include "json.h"
#include "simmatrix.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MP_SRCDATADIR
#define MP_SRCDATADIR "data"
#endif

START_TEST(test_same_as_tree_reader)
{
	const char *path = MP_SRCDATADIR "/demo/results/similarity_matrices.json";
	mp_json *j;
	struct mp_error err;
	ck_assert_int_eq(mp_json_load(path, 1 << 30, &j, &err), MP_OK);
	struct mp_simmatrix **ms;
	size_t nm;
	ck_assert_int_eq(mp_simmatrix_list_from_json(j, path, &ms, &nm, &err),
			 MP_OK);
	struct mp_simmatrix_file *f;
	ck_assert_int_eq(mp_simmatrix_file_open(path, &f, &err), MP_OK);
	ck_assert_uint_eq(f->n, nm);
	ck_assert_uint_ge(nm, 2);
	for (size_t k = 0; k < nm; k++) {
		ck_assert_str_eq(f->method[k], ms[k]->method);
		ck_assert_str_eq(f->metric[k], ms[k]->metric);
		ck_assert_int_eq(mp_simmatrix_file_find(f, ms[k]->method,
							ms[k]->metric),
				 (long)k);
		struct mp_simmatrix *m;
		ck_assert_int_eq(mp_simmatrix_file_get(f, k, &m, &err), MP_OK);
		ck_assert_uint_eq(m->n, ms[k]->n);
		ck_assert(m->higher_is_more_alike == ms[k]->higher_is_more_alike);
		for (size_t i = 0; i < m->n; i++)
			ck_assert_str_eq(m->ids[i], ms[k]->ids[i]);
		for (size_t i = 0; i < m->n * m->n; i++) {
			double a = m->value[i], b = ms[k]->value[i];
			ck_assert(memcmp(&a, &b, sizeof a) == 0 ||
				  (isnan(a) && isnan(b)));
			ck_assert_ptr_eq(m->reason[i], ms[k]->reason[i]);
		}
		mp_simmatrix_free(m);
		mp_simmatrix_free(ms[k]);
	}
	ck_assert_int_eq(mp_simmatrix_file_find(f, "tensors", "nope"), -1);
	free(ms);
	mp_json_free(j);
	mp_simmatrix_file_close(f);
	mp_simmatrix_file_close(NULL);
}
END_TEST

START_TEST(test_strings_and_reasons)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "m.json");
	tu_write_str(p, "\xef\xbb\xbf{\"other\": [1, {\"x\": [true, false, null]}],"
			" \"matrices\": {\"m\\u00e9th\": {\"js\": {"
			"\"values\": [[0, null, 0.25], [null, 0, -1.5e-3], "
			"[0.25, -0.0015, 0]],"
			"\"undefined\": [{\"i\": 0, \"j\": 1, \"reason\": "
			"\"no tensors in common\"}, {\"i\": 99, \"j\": 0}, 7],"
			"\"models\": [\"a\\\"b\", \"\\u00e9\\ud83d\\ude00\", "
			"\"c\\/\\n\"], \"higher_is_more_alike\": false}},"
			"\"empty\": {}}, \"tail\": 5}\n");
	struct mp_simmatrix_file *f;
	struct mp_error err;
	ck_assert_int_eq(mp_simmatrix_file_open(p, &f, &err), MP_OK);
	ck_assert_uint_eq(f->n, 1);
	ck_assert_str_eq(f->method[0], "m\xc3\xa9th");
	struct mp_simmatrix *m;
	ck_assert_int_eq(mp_simmatrix_file_get(f, 0, &m, &err), MP_OK);
	ck_assert_uint_eq(m->n, 3);
	ck_assert(!m->higher_is_more_alike);
	ck_assert_str_eq(m->ids[0], "a\"b");
	ck_assert_str_eq(m->ids[1], "\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_str_eq(m->ids[2], "c/\n");
	ck_assert(isnan(m->value[1]) && isnan(m->value[3]));
	ck_assert_str_eq(m->reason[1], "no tensors in common");
	ck_assert_str_eq(m->reason[3], "no tensors in common");
	ck_assert_ptr_null(m->reason[2]);
	ck_assert_double_eq(m->value[5], -1.5e-3);
	ck_assert_double_eq(m->value[7], -0.0015);
	mp_simmatrix_free(m);
	mp_simmatrix_file_close(f);
	tu_rmtree(dir);
	free(p);
	free(dir);
}
END_TEST

#define M(vals) "{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\",\"2\"]," \
		"\"values\":" vals "}}}}"

#define EST(e) "{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\",\"2\"]," \
		"\"values\":[[1,0],[0,1]],\"estimate\":" e "}}}}"

START_TEST(test_hostile_files)
{
	static const char *const bad[][2] = {
		{"{\"matrices\":{", "invalid JSON"},
		{"", "invalid JSON"},
		{"[]", "invalid JSON"},
		{"{\"matrices\":{}} x", "invalid JSON near byte 16"},
		{"{\"matrix\":{}}", "no \"matrices\" object"},
		{"{\"matrices\":{\"t\":[]}}", "method 't' is not an object"},
		{"{\"matrices\":{\"t\":{\"l1\":[1]}}}", "t/l1: needs \"models\""},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\"]}}}}",
		 "t/l1: needs \"models\" and \"values\""},
		{M("[[1,0]]"), "2 models but 1 rows"},
		{M("[[1,0],[0]]"), "row 1 does not have 2 values"},
		{M("[[1,0,0],[0,1,0],[0,0,1]]"), "row 0 does not have 2 values"},
		{M("[[1,0.5],[0.6,1]]"), "value [0][1] differs from [1][0]"},
		{M("[[1,null],[0.6,1]]"), "must be symmetric"},
		{M("[[1,1e999],[1e999,1]]"), "value [0][1] is out of range"},
		{M("[[1,-1e400],[-1e400,1]]"), "out of range"},
		{M("[[1,[0.5]],[[0.5],1]]"), "value [0][1] is neither"},
		{M("[[1,\"0.5\"],[\"0.5\",1]]"), "value [0][1] is neither"},
		{M("[[1,true],[true,1]]"), "value [0][1] is neither"},
		{M("[[1,NaN],[NaN,1]]"), "invalid JSON near byte 56"},
		{M("[[1,01],[01,1]]"), "invalid JSON"},
		{M("[[1,1.],[1.,1]]"), "invalid JSON"},
		{M("[[1,-],[-,1]]"), "invalid JSON"},
		{M("[[1,0],[0,1]"), "invalid JSON"},
		{M("[1,0]"), "a row of \"values\" is not an array"},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\",\"1\"],"
		 "\"values\":[[1,0],[0,1]]}}}}",
		 "model id '1' appears twice"},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\",2],"
		 "\"values\":[[1,0],[0,1]]}}}}",
		 "model 1 is not a string"},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\\x\",\"2\"],"
		 "\"values\":[[1,0],[0,1]]}}}}",
		 "invalid JSON"},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\\u12\",\"2\"],"
		 "\"values\":[[1,0],[0,1]]}}}}",
		 "invalid JSON"},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\n\",\"2\"],"
		 "\"values\":[[1,0],[0,1]]}}}}",
		 "invalid JSON"},
		{EST("[]"), "t/l1: estimate must be an object"},
		{EST("{\"kind\":\"guess\"}"), "estimate kind 'guess' is not one"},
		{EST("{\"kind\":5}"), "estimate kind '(none)' is not one"},
		{EST("{\"values\":64}"), "estimate kind '(none)'"},
		{EST("{\"kind\":\"sketch\",\"values\":\"64\"}"),
		 "t/l1: estimate must be an object"},
		{EST("{\"kind\":\"sketch\",\"values\":0}"),
		 "estimate values must be a whole number"},
		{EST("{\"kind\":\"sketch\",\"values\":6.5}"),
		 "estimate values must be a whole number"},
		{EST("{\"kind\":\"sketch\",\"values\":1e300}"),
		 "estimate values must be a whole number"},
		{EST("{\"kind\":\"exact\",\"values\":64}"),
		 "given only for a sketch"},
		/* a key twice: other readers take the last one, never pick */
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[\"1\",\"2\"],"
		 "\"values\":[[1,0],[0,1]],\"values\":[[1,0.5],[0.5,1]]}}}}",
		 "duplicate key 'values' at byte 66"},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[],\"values\":[]},"
		 "\"l1\":{\"models\":[],\"values\":[]}}}}",
		 "duplicate key 'l1' at byte 49"},
		{"{\"matrices\":{\"t\":{},\"u\":{},\"t\":{}}}",
		 "duplicate key 't' at byte 27"},
		{"{\"matrices\":{},\"matrices\":{\"t\":{}}}",
		 "duplicate key 'matrices' at byte 15"},
		{"{\"x\":{\"a\":1,\"a\":2},\"matrices\":{}}",
		 "duplicate key 'a' at byte 12"},
		{"{\"matrices\":{\"t\":{\"l1\":{\"models\":[],\"values\":[],"
		 "\"undefined\":[{\"i\":0,\"i\":1}]}}}}",
		 "duplicate key 'i'"},
		/* names from the file escaped (found by fuzz_results) */
		{"{\"matrices\":{\"t\\u001b\":[]}}", "method 't\\x1b' is not"},
		{"{\"matrices\":{\"t\\u001b\":{\"l\\u00071\":[1]}}}",
		 "t\\x1b/l\\x071: needs \"models\""},
		{"{\"matrices\":{\"t\\u001b\":{\"l1\":{\"models\":[\"1\",\"2\"],"
		 "\"values\":[[1,0.5],[0.6,1]]}}}}",
		 "t\\x1b/l1: value [0][1] differs"},
		{"{\"matrices\":{\"t\":{\"l\\u00071\":{\"models\":[\"1\"],"
		 "\"values\":[1]}}}}",
		 "t/l\\x071: a row of"},
	};
	char *dir = tu_tmpdir(), *p = tu_path(dir, "bad.json");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tu_write_str(p, bad[i][0]);
		struct mp_simmatrix_file *f;
		struct mp_error err = {{0}};
		mp_status st = mp_simmatrix_file_open(p, &f, &err);
		bool opened = st == MP_OK;
		for (size_t k = 0; st == MP_OK && k < f->n; k++) {
			struct mp_simmatrix *m;
			st = mp_simmatrix_file_get(f, k, &m, &err);
			if (st == MP_OK)
				mp_simmatrix_free(m);
		}
		if (opened)
			mp_simmatrix_file_close(f);
		ck_assert_msg(st != MP_OK, "case %zu accepted", i);
		ck_assert_msg(strstr(err.msg, p) && strstr(err.msg, bad[i][1]),
			      "case %zu: %s", i, err.msg);
	}
	/* 65,536 model ids and no room for their values: an error before
	   anything is allocated for the 2^32 values (32 GiB) */
	size_t nid = 65536, cap = nid * 12 + 256, len = 0;
	char *big = malloc(cap);
	len += (size_t)snprintf(big, cap,
				"{\"matrices\":{\"t\":{\"l1\":{\"models\":[");
	for (size_t i = 0; i < nid; i++)
		len += (size_t)snprintf(big + len, cap - len, "%s\"%zu\"",
					i ? "," : "", i);
	len += (size_t)snprintf(big + len, cap - len, "],\"values\":[");
	for (size_t i = 0; i < nid; i++)
		len += (size_t)snprintf(big + len, cap - len, "%s[]",
					i ? "," : "");
	snprintf(big + len, cap - len, "]}}}}");
	tu_write_str(p, big);
	{
		struct mp_simmatrix_file *f;
		struct mp_error err = {{0}};
		ck_assert_int_eq(mp_simmatrix_file_open(p, &f, &err), MP_OK);
		struct mp_simmatrix *m = NULL;
		ck_assert_int_eq(mp_simmatrix_file_get(f, 0, &m, &err),
				 MP_EFORMAT);
		ck_assert_msg(strstr(err.msg, "65536 models need 65536 x 65536 "
					      "values but only 196612 bytes"),
			      "%s", err.msg);
		mp_simmatrix_file_close(f);
		/* the tree reader checks the rows before allocating too */
		mp_json *j;
		ck_assert_int_eq(mp_json_load(p, 1 << 30, &j, &err), MP_OK);
		struct mp_simmatrix **ms;
		size_t nm;
		ck_assert_int_eq(mp_simmatrix_list_from_json(j, p, &ms, &nm, &err),
				 MP_EFORMAT);
		ck_assert_msg(strstr(err.msg, "row 0 does not have 65536 values"),
			      "%s", err.msg);
		mp_json_free(j);
	}
	free(big);

	/* nesting deeper than 256 in an ignored member */
	size_t depth = 100000;
	char *deep = malloc(2 * depth + 64);
	strcpy(deep, "{\"x\":");
	memset(deep + 5, '[', depth);
	memset(deep + 5 + depth, ']', depth);
	strcpy(deep + 5 + 2 * depth, ",\"matrices\":{}}");
	tu_write_str(p, deep);
	struct mp_simmatrix_file *f;
	struct mp_error err;
	ck_assert_int_eq(mp_simmatrix_file_open(p, &f, &err), MP_EJSON);
	free(deep);
	ck_assert_int_ne(mp_simmatrix_file_open("/nonexistent/m.json", &f, &err),
			 MP_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/m.json"));
	tu_rmtree(dir);
	free(p);
	free(dir);
}
END_TEST

/* The "estimate" of each matrix, as both readers see it, and its line. */
START_TEST(test_estimate)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "m.json");
#define V "\"models\":[\"a\"],\"values\":[[1]]"
	tu_write_str(p, "{\"matrices\":{\"tensors\":{"
			"\"cosine\":{" V ",\"estimate\":{\"kind\":\"sketch\","
			"\"values\":1024,\"later\":[1]}},"
			"\"pearson\":{\"estimate\":{\"kind\":\"exact\"}," V "},"
			"\"l1\":{" V "},"
			"\"final\":{" V ",\"estimate\":{\"kind\":\"sketch\"}}},"
			"\"spectral\":{\"js\":{" V ",\"estimate\":{\"kind\":"
			"\"randomized_svd\"}}}}}");
#undef V
	static const struct {
		enum mp_estimate kind;
		uint32_t values;
		const char *text;
	} want[] = {
		{MP_ESTIMATE_SKETCH, 1024,
		 "cosine: sketch estimate from 1024 values per tensor"},
		{MP_ESTIMATE_EXACT, 0, "pearson: exact values"},
		{MP_ESTIMATE_UNKNOWN, 0,
		 "l1: unknown whether exact or a sketch estimate"},
		{MP_ESTIMATE_SKETCH, 0,
		 "final: sketch estimate (size not recorded)"},
		{MP_ESTIMATE_RANDOMIZED, 0,
		 "js: estimate (randomized SVD of large tensors)"},
	};
	struct mp_error err;
	struct mp_simmatrix_file *f;
	ck_assert_int_eq(mp_simmatrix_file_open(p, &f, &err), MP_OK);
	ck_assert_uint_eq(f->n, 5);
	mp_json *j;
	ck_assert_int_eq(mp_json_load(p, 1 << 20, &j, &err), MP_OK);
	struct mp_simmatrix **ms;
	size_t nm;
	ck_assert_int_eq(mp_simmatrix_list_from_json(j, p, &ms, &nm, &err),
			 MP_OK);
	ck_assert_uint_eq(nm, 5);
	for (size_t k = 0; k < 5; k++) {
		struct mp_simmatrix *m;
		ck_assert_int_eq(mp_simmatrix_file_get(f, k, &m, &err), MP_OK);
		const struct mp_simmatrix *both[2] = {m, ms[k]};
		for (int r = 0; r < 2; r++) {
			char buf[160];
			ck_assert_msg(both[r]->estimate == want[k].kind,
				      "matrix %zu reader %d: %d", k, r,
				      (int)both[r]->estimate);
			ck_assert_uint_eq(both[r]->sketch_values, want[k].values);
			ck_assert_str_eq(mp_simmatrix_estimate_text(both[r], buf,
								    sizeof buf),
					 want[k].text);
		}
		mp_simmatrix_free(m);
		mp_simmatrix_free(ms[k]);
	}
	free(ms);
	/* the writer gives the same object back */
	struct mp_simmatrix *s = mp_simmatrix_new("tensors", "cosine", 0);
	s->estimate = MP_ESTIMATE_SKETCH;
	s->sketch_values = 4096;
	mp_json *out = mp_simmatrix_list_to_json(&s, 1);
	char *text = mp_json_print(out, false);
	ck_assert_ptr_nonnull(strstr(text, "\"estimate\":{\"kind\":\"sketch\","
					   "\"values\":4096}"));
	free(text);
	mp_json_free(out);
	mp_simmatrix_free(s);
	mp_json_free(j);
	mp_simmatrix_file_close(f);
	tu_rmtree(dir);
	free(p);
	free(dir);
}
END_TEST

START_TEST(test_pick)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "m.json");
#define E "{\"models\":[],\"values\":[]}"
	tu_write_str(p, "{\"matrices\":{\"tensors\":{\"cosine\":" E ",\"l1\":" E
			"},\"input_output\":{\"cosine\":" E ",\"js\":" E
			"},\"spectral\":{\"js\":" E "}}}");
#undef E
	struct mp_simmatrix_file *f;
	struct mp_error err;
	ck_assert_int_eq(mp_simmatrix_file_open(p, &f, &err), MP_OK);
	ck_assert_uint_eq(f->n, 5);
	static const struct {
		const char *method, *metric;
		size_t want;
	} ok[] = {
		{NULL, NULL, 2},       /* input_output, no l1: its first */
		{NULL, "l1", 1},       /* input_output lacks l1: tensors */
		{NULL, "js", 3},       /* input_output/js */
		{"spectral", NULL, 4}, /* no l1: the first */
		{"tensors", NULL, 1},  /* l1 */
		{"tensors", "cosine", 0},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		size_t idx = 99;
		ck_assert_int_eq(mp_simmatrix_file_pick(f, ok[i].method,
							ok[i].metric, &idx, &err),
				 MP_OK);
		ck_assert_msg(idx == ok[i].want, "case %zu: %zu", i, idx);
	}
	size_t idx;
	ck_assert_int_eq(mp_simmatrix_file_pick(f, "nope", NULL, &idx, &err),
			 MP_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, p));
	ck_assert_ptr_nonnull(strstr(err.msg, "no method 'nope' (the file has: "
					      "tensors, input_output, spectral)"));
	ck_assert_int_eq(mp_simmatrix_file_pick(f, "tensors", "js", &idx, &err),
			 MP_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "method 'tensors' has no metric "
					      "'js' (it has: cosine, l1)"));
	mp_simmatrix_file_close(f);
	tu_write_str(p, "{\"matrices\":{}}");
	ck_assert_int_eq(mp_simmatrix_file_open(p, &f, &err), MP_OK);
	ck_assert_int_eq(mp_simmatrix_file_pick(f, NULL, NULL, &idx, &err),
			 MP_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no matrices"));
	mp_simmatrix_file_close(f);
	tu_rmtree(dir);
	free(p);
	free(dir);
}
END_TEST

/* Bytes of the file at path (*len), malloc'd. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	long sz = ftell(fp);
	rewind(fp);
	uint8_t *b = malloc((size_t)sz + 1);
	ck_assert_uint_eq(fread(b, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	*len = (size_t)sz;
	return b;
}

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* Every matrix of the demo results, written as float64 and float32 and
 * read back: float64 gives the JSON values bit for bit, float32 the JSON
 * values rounded to float32; names, ids, direction and estimate kept. */
START_TEST(test_bin_round_trip)
{
	const char *path = MP_SRCDATADIR "/demo/results/similarity_matrices.json";
	mp_json *j;
	struct mp_error err;
	ck_assert_int_eq(mp_json_load(path, 1 << 30, &j, &err), MP_OK);
	struct mp_simmatrix **ms;
	size_t nm;
	ck_assert_int_eq(mp_simmatrix_list_from_json(j, path, &ms, &nm, &err),
			 MP_OK);
	ck_assert_uint_ge(nm, 2);
	char *dir = tu_tmpdir(), *p = tu_path(dir, "m.mpsim");
	for (size_t k = 0; k < nm; k++)
		for (unsigned vs = 4; vs <= 8; vs += 4) {
			const struct mp_simmatrix *a = ms[k];
			ck_assert_int_eq(mp_simmatrix_bin_write(a, p, vs, &err),
					 MP_OK);
			size_t len, n = a->n;
			uint8_t *b = slurp(p, &len);
			uint64_t hlen = le(b + 24, 8);
			ck_assert_uint_eq(le(b + 16, 8), n);
			ck_assert_uint_eq(hlen % 64, 0);
			ck_assert_uint_eq(len, hlen + n * n * vs);
			free(b);
			struct mp_simmatrix_file *f;
			struct mp_simmatrix *m;
			ck_assert_int_eq(mp_simmatrix_file_open(p, &f, &err),
					 MP_OK);
			ck_assert_uint_eq(f->n, 1);
			ck_assert_uint_eq(f->binary, vs);
			ck_assert_str_eq(f->method[0], a->method);
			ck_assert_str_eq(f->metric[0], a->metric);
			ck_assert_int_eq(mp_simmatrix_file_get(f, 0, &m, &err),
					 MP_OK);
			mp_simmatrix_file_close(f);
			ck_assert_uint_eq(m->n, n);
			ck_assert_int_eq(m->higher_is_more_alike,
					 a->higher_is_more_alike);
			ck_assert_int_eq(m->estimate, a->estimate);
			ck_assert_uint_eq(m->sketch_values, a->sketch_values);
			for (size_t i = 0; i < n; i++)
				ck_assert_str_eq(m->ids[i], a->ids[i]);
			for (size_t c = 0; c < n * n; c++) {
				double want = vs == 8 ? a->value[c]
						      : (double)(float)a->value[c];
				if (isnan(want))
					ck_assert(isnan(m->value[c]));
				else
					ck_assert(memcmp(&want, &m->value[c],
							 sizeof want) == 0);
			}
			mp_simmatrix_free(m);
		}
	for (size_t k = 0; k < nm; k++)
		mp_simmatrix_free(ms[k]);
	free(ms);
	mp_json_free(j);
	tu_rmtree(dir);
	free(p);
	free(dir);
}
END_TEST

/* A 2-model matrix with an undefined pair, byte by byte as
 * modelprint-files(5) lays it out. */
static struct mp_simmatrix *two(void)
{
	struct mp_simmatrix *s = mp_simmatrix_new("t", "js", 2);
	s->ids[0] = mp_strdup("a");
	s->ids[1] = mp_strdup("\xc3\xa9");
	s->higher_is_more_alike = false;
	s->estimate = MP_ESTIMATE_SKETCH;
	s->sketch_values = 4096;
	s->value[0] = s->value[3] = 0;
	s->value[1] = s->value[2] = NAN;
	s->reason[0] = s->reason[3] = NULL;
	s->reason[1] = s->reason[2] = "no tensors in common";
	return s;
}

START_TEST(test_bin_layout)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "two.bin");
	struct mp_simmatrix *s = two();
	struct mp_error err;
	ck_assert_int_eq(mp_simmatrix_bin_write(s, p, 8, &err), MP_OK);
	size_t len;
	uint8_t *b = slurp(p, &len);
	ck_assert(memcmp(b, "MPSIM1\0\0", 8) == 0);
	ck_assert_uint_eq(le(b + 8, 4), 1);     /* version */
	ck_assert_uint_eq(le(b + 12, 4), 8);    /* float64 */
	ck_assert_uint_eq(le(b + 16, 8), 2);    /* n */
	ck_assert_uint_eq(le(b + 32, 4), 0);    /* lower is more alike */
	ck_assert_uint_eq(le(b + 36, 4), 2);    /* sketch */
	ck_assert_uint_eq(le(b + 40, 4), 4096); /* its size */
	ck_assert_uint_eq(le(b + 44, 4), 0);
	/* 48: "t", 53: "js", 59: "a", 64: "é" (2 bytes), 70: reasons */
	ck_assert_uint_eq(le(b + 48, 4), 1);
	ck_assert(b[52] == 't');
	ck_assert_uint_eq(le(b + 53, 4), 2);
	ck_assert(memcmp(b + 57, "js", 2) == 0);
	ck_assert_uint_eq(le(b + 59, 4), 1);
	ck_assert_uint_eq(le(b + 64, 4), 2);
	ck_assert(memcmp(b + 68, "\xc3\xa9", 2) == 0);
	size_t nr = le(b + 70, 4), at = 74;
	long which = -1;
	for (size_t r = 0; r < nr; r++) {
		size_t l = le(b + at, 4);
		if (l == 20 && !memcmp(b + at + 4, "no tensors in common", 20))
			which = (long)r;
		at += 4 + l;
	}
	ck_assert_int_ge(which, 0);
	ck_assert_uint_eq(le(b + at, 8), 1); /* one undefined pair: (0, 1) */
	ck_assert_uint_eq(le(b + at + 8, 4), 0);
	ck_assert_uint_eq(le(b + at + 12, 4), 1);
	ck_assert_uint_eq(le(b + at + 16, 4), (uint64_t)which);
	uint64_t hlen = le(b + 24, 8);
	ck_assert_uint_eq(hlen, (at + 20 + 63) / 64 * 64);
	ck_assert_uint_eq(len, hlen + 32);
	for (size_t k = at + 20; k < hlen; k++)
		ck_assert_uint_eq(b[k], 0);
	/* 0.0, NaN, NaN, 0.0 */
	ck_assert_uint_eq(le(b + hlen, 8), 0);
	ck_assert_uint_eq((le(b + hlen + 8, 8) >> 52) & 0x7ff, 0x7ff);
	ck_assert_uint_eq(le(b + hlen + 24, 8), 0);
	free(b);
	struct mp_simmatrix_file *f;
	struct mp_simmatrix *m;
	ck_assert_int_eq(mp_simmatrix_file_open(p, &f, &err), MP_OK);
	ck_assert_int_eq(mp_simmatrix_file_get(f, 0, &m, &err), MP_OK);
	ck_assert_str_eq(m->reason[1], "no tensors in common");
	ck_assert_str_eq(m->reason[2], "no tensors in common");
	ck_assert_ptr_null(m->reason[0]);
	ck_assert_str_eq(m->ids[1], "\xc3\xa9");
	ck_assert(!m->higher_is_more_alike);
	mp_simmatrix_free(m);
	mp_simmatrix_file_close(f);
	mp_simmatrix_free(s);
	tu_rmtree(dir);
	free(p);
	free(dir);
}
END_TEST

static void put(uint8_t *b, size_t at, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[at + i] = (uint8_t)(v >> (8 * i));
}

/* The file of two() with one change each: one clear error naming it. */
START_TEST(test_bin_hostile)
{
	char *dir = tu_tmpdir(), *good = tu_path(dir, "good.bin"),
	     *p = tu_path(dir, "bad.bin");
	struct mp_simmatrix *s = two();
	struct mp_error err;
	ck_assert_int_eq(mp_simmatrix_bin_write(s, good, 8, &err), MP_OK);
	mp_simmatrix_free(s);
	size_t len;
	uint8_t *orig = slurp(good, &len);
	size_t hlen = le(orig + 24, 8);
	enum { TRUNC_HDR, TRUNC_VAL, LYING_N, HUGE_N, HLEN_PAST, HLEN_ODD,
	       MAGIC, VERSION, VSIZE, NAN_ID_LEN, NAN_ID, PAD, INF, ASYM,
	       DUP, PAIR, FLAGS, NCASES };
	static const char *const want[NCASES] = {
		[TRUNC_HDR] = "truncated: the header needs 48 bytes",
		[TRUNC_VAL] = "2 models of 8-byte values do not match the 24",
		[LYING_N] = "3 models of 8-byte values do not match the 32",
		[HUGE_N] = "1099511627776 models of 8-byte values do not match",
		[HLEN_PAST] = "is past the end of the file",
		[HLEN_ODD] = "header length 72 is not a multiple of 64",
		[MAGIC] = "invalid JSON near byte 0",
		[VERSION] = "version 2 (this build reads 1)",
		[VSIZE] = "value size 2 (not 4 or 8)",
		[NAN_ID_LEN] = "model id at byte 64 runs past the header's end",
		[NAN_ID] = "model id at byte 64 is not valid UTF-8",
		[PAD] = "nonzero byte",
		[INF] = "value [1][1] is infinite",
		[ASYM] = "differs from",
		[DUP] = "model id 'a' appears twice",
		[PAIR] = "undefined pair 0 names a cell or reason out of range",
		[FLAGS] = "unknown flags 0x2",
	};
	for (int c = 0; c < NCASES; c++) {
		uint8_t *b = malloc(len);
		memcpy(b, orig, len);
		size_t n = len;
		switch (c) {
		case TRUNC_HDR: n = 30; break;
		case TRUNC_VAL: n = len - 8; break;
		case LYING_N: put(b, 16, 3, 8); break;
		case HUGE_N: put(b, 16, 1ULL << 40, 8); break;
		case HLEN_PAST: put(b, 24, (len / 64 + 1) * 64, 8); break;
		case HLEN_ODD: put(b, 24, 72, 8); break;
		case MAGIC: b[5] = '2'; break;
		case VERSION: put(b, 8, 2, 4); break;
		case VSIZE: put(b, 12, 2, 4); break;
		/* a float32 NaN (0x7fc00000) over the second id's length */
		case NAN_ID_LEN: put(b, 64, 0x7fc00000u, 4); break;
		/* the first bytes of a float64 NaN as the id's text */
		case NAN_ID: b[68] = 0xf8; b[69] = 0x7f; break;
		case PAD: b[hlen - 1] = 1; break;
		case INF: put(b, hlen + 24, 0x7ff0000000000000ULL, 8); break;
		case ASYM: put(b, hlen + 8, 0x3fe0000000000000ULL, 8); break;
		case DUP: /* the second id made "a": 1 byte, the rest
			   * of the header moved down */
			  b[68] = 'a';
			  put(b, 64, 1, 4);
			  memmove(b + 69, b + 70, hlen - 70);
			  b[hlen - 1] = 0;
			  break;
		case PAIR: break;
		case FLAGS: put(b, 32, 2, 4); break;
		}
		if (c == PAIR) { /* the pair (0, 1) made (0, 2) */
			size_t at = 74, nr = le(b + 70, 4);
			for (size_t r = 0; r < nr; r++)
				at += 4 + le(b + at, 4);
			put(b, at + 12, 2, 4);
		}
		tu_write(p, b, n);
		free(b);
		struct mp_simmatrix_file *f;
		struct mp_simmatrix *m = NULL;
		mp_status st = mp_simmatrix_file_open(p, &f, &err);
		if (st == MP_OK) {
			st = mp_simmatrix_file_get(f, 0, &m, &err);
			mp_simmatrix_file_close(f);
		}
		ck_assert_msg(st != MP_OK, "case %d accepted", c);
		ck_assert_ptr_null(m);
		ck_assert_msg(strstr(err.msg, p) && strstr(err.msg, want[c]),
			      "case %d: '%s' wants '%s'", c, err.msg, want[c]);
	}
	free(orig);
	tu_rmtree(dir);
	free(good);
	free(p);
	free(dir);
}
END_TEST

/* Four models by hand: a-b .9, a-c .5, a-d undefined, b-c .5, b-d .2,
 * c-d .7. */
static struct mp_simmatrix *four(bool higher)
{
	static const double v[16] = {1, .9, .5, NAN, .9, 1, .5, .2,
				     .5, .5, 1, .7, NAN, .2, .7, 1};
	struct mp_simmatrix *s = mp_simmatrix_new("t", higher ? "l1" : "js", 4);
	for (size_t i = 0; i < 4; i++) {
		char id[2] = {(char)('a' + i), 0};
		s->ids[i] = mp_strdup(id);
	}
	for (size_t c = 0; c < 16; c++) {
		s->value[c] = v[c];
		s->reason[c] = isnan(v[c]) ? "undefined" : NULL;
	}
	s->higher_is_more_alike = higher;
	return s;
}

START_TEST(test_topk_by_hand)
{
	/* most alike first, ties by the lower index, undefined left out */
	static const uint32_t N = MP_TOPK_NONE;
	static const uint32_t hi[8] = {1, 2, 0, 2, 3, 0, 2, 1};
	static const double hs[8] = {.9, .5, .9, .5, .7, .5, .7, .2};
	static const uint32_t lo[8] = {2, 1, 3, 2, 0, 1, 1, 2};
	static const double ls[8] = {.5, .9, .2, .5, .5, .5, .2, .7};
	char *dir = tu_tmpdir(), *p = tu_path(dir, "t.topk");
	struct mp_error err;
	for (int higher = 0; higher < 2; higher++) {
		struct mp_simmatrix *m = four(higher);
		struct mp_simtopk *t;
		ck_assert_int_eq(mp_simtopk_from_matrix(m, 2, &t, &err), MP_OK);
		for (size_t c = 0; c < 8; c++) {
			ck_assert_uint_eq(t->index[c], higher ? hi[c] : lo[c]);
			ck_assert_double_eq(t->score[c], higher ? hs[c] : ls[c]);
		}
		for (unsigned vs = 4; vs <= 8; vs += 4) {
			ck_assert_int_eq(mp_simtopk_write(t, p, vs, &err), MP_OK);
			ck_assert(mp_simtopk_is_file(p));
			struct mp_simtopk *b;
			ck_assert_int_eq(mp_simtopk_read(p, &b, &err), MP_OK);
			ck_assert_uint_eq(b->n, 4);
			ck_assert_uint_eq(b->k, 2);
			ck_assert_int_eq(b->higher_is_more_alike, higher);
			ck_assert_str_eq(b->ids[3], "d");
			for (size_t c = 0; c < 8; c++) {
				ck_assert_uint_eq(b->index[c], t->index[c]);
				double w = vs == 8 ? t->score[c]
						   : (double)(float)t->score[c];
				ck_assert(w == b->score[c]);
			}
			mp_simtopk_free(b);
			struct mp_simmatrix_file *f;
			ck_assert_int_ne(mp_simmatrix_file_open(p, &f, &err), MP_OK);
			ck_assert(strstr(err.msg, "a top-k neighbour file"));
		}
		mp_simtopk_free(t);
		mp_simmatrix_free(m);
	}
	/* k 3 of a row with two defined neighbours: the third is absent */
	struct mp_simmatrix *m = four(true);
	struct mp_simtopk *t;
	ck_assert_int_eq(mp_simtopk_from_matrix(m, 3, &t, &err), MP_OK);
	ck_assert_uint_eq(t->index[2], N);
	ck_assert(isnan(t->score[2]));
	mp_simtopk_free(t);
	ck_assert_int_eq(mp_simtopk_from_matrix(m, 4, &t, &err), MP_EINVAL);
	ck_assert_int_eq(mp_simtopk_from_matrix(m, 2, &t, &err), MP_OK);
	ck_assert_int_eq(mp_simtopk_write(t, p, 8, &err), MP_OK);
	mp_simtopk_free(t);
	mp_simmatrix_free(m);
	/* hostile: each change one clear error naming the file */
	size_t len;
	uint8_t *orig = slurp(p, &len);
	size_t hlen = le(orig + 24, 8);
	static const char *const want[] = {
		"index out of range or the model itself",
		"index out of range or the model itself",
		"neighbours out of order", "k = 4 neighbours for 4 models",
		"4 models of 8-byte values do not match",
		"an absent neighbour has a score"};
	for (size_t c = 0; c < sizeof want / sizeof want[0]; c++) {
		uint8_t *b = malloc(len);
		memcpy(b, orig, len);
		size_t n = len;
		switch (c) {
		case 0: put(b, hlen, 9, 4); break;  /* a's first: 9 */
		case 1: put(b, hlen, 0, 4); break;  /* a's first: a */
		case 2: /* a's scores .9, .5 swapped (8 indices take 64
			 * bytes) */
			put(b, hlen + 64, 0x3fe0000000000000ULL, 8);
			put(b, hlen + 72, 0x3feccccccccccccdULL, 8);
			break;
		case 3: put(b, 44, 4, 4); break;
		case 4: n = len - 8; break;
		case 5: put(b, hlen + 4, N, 4); break; /* a's second */
		}
		tu_write(p, b, n);
		free(b);
		struct mp_simtopk *r = NULL;
		ck_assert_int_ne(mp_simtopk_read(p, &r, &err), MP_OK);
		ck_assert_ptr_null(r);
		ck_assert_msg(strstr(err.msg, p) && strstr(err.msg, want[c]),
			      "case %zu: '%s'", c, err.msg);
	}
	free(orig);
	tu_rmtree(dir);
	free(p);
	free(dir);
}
END_TEST

/* F families of M models: a family's tensors are one base sketch plus
 * independent noise of standard deviation sigma (Pearson about
 * 1 / (1 + sigma^2) within a family, 0 across). */
static struct mp_fingerprint **families(size_t F, size_t M, double sigma,
					char ***ids)
{
	enum { T = 4, K = 256 };
	const char *names[T] = {"w0", "w1", "w2", "w3"};
	uint64_t rows[T] = {64, 64, 32, 16}, cols[T] = {64, 64, 32, 16};
	struct mp_fingerprint **fps = calloc(F * M, sizeof *fps);
	*ids = calloc(F * M, sizeof **ids);
	uint64_t st = 42;
	float *base[T], *sk[T];
	for (size_t t = 0; t < T; t++) {
		base[t] = malloc(K * sizeof **base);
		sk[t] = malloc(K * sizeof **sk);
	}
	for (size_t f = 0; f < F; f++) {
		for (size_t t = 0; t < T; t++)
			for (size_t j = 0; j < K; j++)
				base[t][j] = (float)tu_rand_normal(&st);
		for (size_t m = 0; m < M; m++) {
			for (size_t t = 0; t < T; t++)
				for (size_t j = 0; j < K; j++)
					sk[t][j] = base[t][j] +
						   (float)(sigma *
							   tu_rand_normal(&st));
			fps[f * M + m] = tu_sketch_fp(T, names, rows, cols, sk, K);
			char id[32];
			snprintf(id, sizeof id, "f%zu-m%zu", f, m);
			(*ids)[f * M + m] = mp_strdup(id);
		}
	}
	for (size_t t = 0; t < T; t++) {
		free(base[t]);
		free(sk[t]);
	}
	return fps;
}

/* Through the LSH codes, on families where every true neighbour is among
 * the candidates (recall 1): the exact top-k of the whole matrix, index
 * for index and bit for bit. */
START_TEST(test_topk_lsh_equals_exact)
{
	const size_t F = 10, M = 4, n = F * M, k = M - 1;
	char **ids;
	struct mp_fingerprint **fps = families(F, M, 0.5, &ids);
	const struct mp_metric *cos = mp_metric_find("tensors", "cosine");
	struct mp_simmatrix *m;
	struct mp_simtopk *ex, *lsh;
	struct mp_error err;
	ck_assert_int_eq(mp_simmatrix_compute(cos, fps, ids, n, &m, &err),
			 MP_OK);
	ck_assert_int_eq(mp_simtopk_from_matrix(m, k, &ex, &err), MP_OK);
	ck_assert_int_eq(mp_simtopk_lsh(cos, fps, ids, n, k, 4 * k, &lsh,
					&err),
			 MP_OK);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(lsh->ids[i], ids[i]);
		for (size_t p = 0; p < k; p++) {
			size_t c = i * k + p;
			/* the neighbours are the model's family */
			ck_assert_uint_eq(ex->index[c] / M, i / M);
			ck_assert_uint_eq(lsh->index[c], ex->index[c]);
			ck_assert(memcmp(&lsh->score[c], &ex->score[c],
					 sizeof(double)) == 0);
		}
	}
	ck_assert_int_eq(lsh->estimate, m->estimate);
	ck_assert_uint_eq(lsh->sketch_values, m->sketch_values);
	mp_simtopk_free(lsh);
	ck_assert_int_eq(mp_simtopk_lsh(mp_metric_find("spectral", "js"), fps,
					ids, n, k, 4 * k, &lsh, &err),
			 MP_EINVAL);
	mp_simtopk_free(ex);
	mp_simmatrix_free(m);
	for (size_t i = 0; i < n; i++) {
		mp_fp_free(fps[i]);
		free(ids[i]);
	}
	free(fps);
	free(ids);
}
END_TEST

Suite *suite_simmatrix(void)
{
	Suite *s = suite_create("simmatrix");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_same_as_tree_reader);
	tcase_add_test(tc, test_strings_and_reasons);
	tcase_add_test(tc, test_hostile_files);
	tcase_add_test(tc, test_pick);
	tcase_add_test(tc, test_estimate);
	tcase_add_test(tc, test_bin_round_trip);
	tcase_add_test(tc, test_bin_layout);
	tcase_add_test(tc, test_bin_hostile);
	tcase_add_test(tc, test_topk_by_hand);
	tcase_add_test(tc, test_topk_lsh_equals_exact);
	suite_add_tcase(s, tc);
	return s;
}
