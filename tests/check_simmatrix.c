/* check_simmatrix.c — the streaming similarity-matrices reader agrees with
 * the JSON-tree reader on the demo results, decodes strings, and rejects
 * hostile files with a message naming the file. */
#include "check_suites.h"
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

Suite *suite_simmatrix(void)
{
	Suite *s = suite_create("simmatrix");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_same_as_tree_reader);
	tcase_add_test(tc, test_strings_and_reasons);
	tcase_add_test(tc, test_hostile_files);
	tcase_add_test(tc, test_pick);
	tcase_add_test(tc, test_estimate);
	suite_add_tcase(s, tc);
	return s;
}
