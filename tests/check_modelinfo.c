/* check_modelinfo.c — model-info files and the registry's family/type. */
#include "check_suites.h"
#include "modelinfo.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_load_and_find)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "info.json");
	tu_write_str(p, "[{\"model_id\":\"27\",\"family\":\"Llama\","
			"\"model_type\":\"Base\",\"display_name\":\"llama-7b\"},"
			"{\"model_id\":\"3\"},"
			"{\"model_id\":\"10\",\"family\":\"Phi\",\"display_name\":\"\","
			"\"extra\":[1,2]}]");
	struct mp_model_info_set *s;
	struct mp_error err;
	ck_assert_int_eq(mp_model_info_load(p, &s, &err), MP_OK);
	ck_assert_uint_eq(s->n, 3);
	const struct mp_model_info *m = mp_model_info_find(s, "27");
	ck_assert_ptr_eq(m, &s->v[0]);
	ck_assert_str_eq(m->name, "llama-7b");
	ck_assert_str_eq(m->family, "Llama");
	ck_assert_str_eq(m->type, "Base");
	/* no name: the id; no family or type: "" */
	m = mp_model_info_find(s, "3");
	ck_assert_str_eq(m->name, "3");
	ck_assert_str_eq(m->family, "");
	ck_assert_str_eq(m->type, "");
	ck_assert_str_eq(mp_model_info_find(s, "10")->name, "10");
	ck_assert_ptr_null(mp_model_info_find(s, "1"));
	ck_assert_ptr_null(mp_model_info_find(s, "270"));
	ck_assert_ptr_null(mp_model_info_find(NULL, "27"));
	mp_model_info_free(s);
	mp_model_info_free(NULL);
	tu_rmtree(dir);
	free(p);
	free(dir);
}
END_TEST

START_TEST(test_bad_files)
{
	const char *bad[][2] = {
		{"{\"model_id\":\"1\"}", "array"},
		{"[{\"model_id\":\"1\"}, 7]", "entry 1 is not an object"},
		{"[{\"family\":\"A\"}]", "entry 0: \"model_id\""},
		{"[{\"model_id\":1}]", "entry 0: \"model_id\""},
		{"[{\"model_id\":\"\"}]", "entry 0: \"model_id\""},
		{"[{\"model_id\":\"1\"},{\"model_id\":\"2\"},{\"model_id\":\"1\"}]",
		 "entry 2: model_id '1' appears twice (first in entry 0)"},
		{"[{\"model_id\":\"1\",\"family\":[\"A\"]}]",
		 "entry 0: \"family\" is not a string"},
		{"[{\"model_id\":\"1\",\"model_type\":3}]",
		 "entry 0: \"model_type\" is not a string"},
		{"[{\"model_id\":\"1\"", "invalid JSON"},
		{"", "invalid JSON"},
	};
	char *dir = tu_tmpdir(), *p = tu_path(dir, "info.json");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tu_write_str(p, bad[i][0]);
		struct mp_model_info_set *s = (void *)1;
		struct mp_error err;
		ck_assert_int_ne(mp_model_info_load(p, &s, &err), MP_OK);
		ck_assert_ptr_null(s);
		ck_assert_msg(strstr(err.msg, p) && strstr(err.msg, bad[i][1]),
			      "case %zu: %s", i, err.msg);
	}
	struct mp_model_info_set *s;
	struct mp_error err;
	char *missing = tu_path(dir, "nope.json");
	ck_assert_int_ne(mp_model_info_load(missing, &s, &err), MP_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "nope.json"));
	tu_rmtree(dir);
	free(missing);
	free(p);
	free(dir);
}
END_TEST

START_TEST(test_from_registry)
{
	struct mp_reg_model ms[2] = {
		{.id = "5", .name = "blazeface", .family = "BlazeFace",
		 .type = "Base"},
		{.id = "6", .name = "", .family = "", .type = ""},
	};
	struct mp_registry r = {.dir = "reg", .nmodels = 2, .models = ms};
	struct mp_model_info_set *s;
	ck_assert_int_eq(mp_model_info_from_registry(&r, &s, NULL), MP_OK);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_str_eq(mp_model_info_find(s, "5")->family, "BlazeFace");
	ck_assert_str_eq(mp_model_info_find(s, "5")->type, "Base");
	ck_assert_str_eq(mp_model_info_find(s, "5")->name, "blazeface");
	ck_assert_str_eq(mp_model_info_find(s, "6")->name, "6");
	mp_model_info_free(s);
}
END_TEST

Suite *suite_modelinfo(void)
{
	Suite *s = suite_create("modelinfo");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_load_and_find);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_from_registry);
	suite_add_tcase(s, tc);
	return s;
}
