/* check_experiment.c — experiment configs. */
#include "check_suites.h"
#include "experiment.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

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
		{"{\"models\": [\"1\"], \"methods\": [\"input_output\"], \"metrics\": [\"l1\"]}",
		 "valid: tensors, spectral"},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"js\"]}",
		 "exact (tensors)"},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"], "
		 "\"method_args\": {\"tensors\": {\"bins\": 3}}}",
		 "valid: sketch_size, seed"},
		{"{\"models\": [\"1\"], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"], "
		 "\"method_args\": {\"spectral\": {}}}",
		 "not in \"methods\""},
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

Suite *suite_experiment(void)
{
	Suite *s = suite_create("experiment");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_valid_config);
	tcase_add_test(tc, test_bad_configs);
	tcase_add_test(tc, test_names_escaped);
	suite_add_tcase(s, tc);
	return s;
}
