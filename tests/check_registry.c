/* check_registry.c — registry tables, ids, fingerprint files, hostile
 * models.json and concurrent writers (processes). */
#include "check_suites.h"
#include "registry.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct mp_reg_model sample = {.name = "n", .family = "F", .type = "T",
				     .path = "/m", .format = "safetensors"};

START_TEST(test_add_find_remove)
{
	char *dir = tu_tmpdir();
	struct mp_error err;
	char *id;
	ck_assert_int_eq(mp_registry_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "1");
	free(id);
	ck_assert_int_eq(mp_registry_add(dir, &sample, "10", &id, &err), MP_OK);
	free(id);
	ck_assert_int_eq(mp_registry_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "11");
	free(id);
	ck_assert_int_eq(mp_registry_add(dir, &sample, "10", &id, &err), MP_EINVAL);
	ck_assert_int_eq(mp_registry_add(dir, &sample, "a/b", &id, &err), MP_EINVAL);
	ck_assert_int_eq(mp_registry_add(dir, &sample, ".x", &id, &err), MP_EINVAL);
	struct mp_registry *r;
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, 3);
	ck_assert_str_eq(mp_registry_find(r, "10")->family, "F");
	mp_registry_free(r);
	ck_assert_int_eq(mp_registry_remove(dir, "10", &err), MP_OK);
	ck_assert_int_eq(mp_registry_remove(dir, "10", &err), MP_ENOENT);
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, 2);
	ck_assert_ptr_null(mp_registry_find(r, "10"));
	mp_registry_free(r);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_fingerprint_files)
{
	char *dir = tu_tmpdir();
	struct mp_error err;
	struct mp_fingerprint fp = {0};
	fp.method = "tensors";
	fp.format = "tfjs";
	fp.params = 42;
	fp.seconds = 0.5;
	ck_assert_int_eq(mp_registry_put_fp(dir, "7", &fp, &err), MP_OK);
	struct mp_fingerprint *back;
	ck_assert_int_eq(mp_registry_get_fp(dir, "7", "tensors", &back, &err), MP_OK);
	ck_assert_uint_eq(back->params, 42);
	ck_assert_str_eq(back->format, "tfjs");
	mp_fp_free(back);
	ck_assert_int_eq(mp_registry_get_fp(dir, "7", "spectral", &back, &err),
			 MP_ENOENT);
	ck_assert_int_eq(mp_registry_get_fp(dir, "../7", "tensors", &back, &err),
			 MP_EINVAL);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_hostile_tables)
{
	const char *bad[] = {
		"not json",
		"{\"models\": 3}",
		"{\"models\": [{\"id\": 5, \"path\": \"/m\"}]}",
		"{\"models\": [{\"id\": \"1\", \"path\": \"/m\"}, {\"id\": \"1\", \"path\": \"/n\"}]}",
		"{\"models\": [{\"id\": \"1\"}]}",
		"{\"models\": [{\"id\": \"../1\", \"path\": \"/m\"}]}",
		"{\"models\": [{\"id\": \"1\", \"path\": \"/m\", \"files\": [{\"path\": 1}]}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *dir = tu_tmpdir(), *p = tu_path(dir, "models.json");
		tu_write_str(p, bad[i]);
		struct mp_registry *r = NULL;
		struct mp_error err;
		ck_assert_msg(mp_registry_load(dir, &r, &err) != MP_OK, "accepted %s", bad[i]);
		ck_assert_ptr_null(r);
		ck_assert_msg(strstr(err.msg, "models.json") != NULL, "%s", err.msg);
		free(p);
		tu_rmtree(dir);
		free(dir);
	}
}
END_TEST

START_TEST(test_concurrent_processes)
{
	char *dir = tu_tmpdir();
	pid_t kids[8];
	for (int k = 0; k < 8; k++) {
		kids[k] = fork();
		ck_assert(kids[k] >= 0);
		if (kids[k] == 0) {
			for (int i = 0; i < 25; i++) {
				char *id;
				if (mp_registry_add(dir, &sample, NULL, &id, NULL) != MP_OK)
					_exit(1);
				free(id);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < 8; k++) {
		int status;
		ck_assert(waitpid(kids[k], &status, 0) == kids[k]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	struct mp_registry *r;
	ck_assert(mp_registry_load(dir, &r, NULL) == MP_OK);
	ck_assert_uint_eq(r->nmodels, 200);
	for (int v = 1; v <= 200; v++) {
		char id[8];
		snprintf(id, sizeof id, "%d", v);
		ck_assert_ptr_nonnull(mp_registry_find(r, id));
	}
	mp_registry_free(r);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *suite_registry(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_add_find_remove);
	tcase_add_test(tc, test_fingerprint_files);
	tcase_add_test(tc, test_hostile_tables);
	tcase_add_test(tc, test_concurrent_processes);
	suite_add_tcase(s, tc);
	return s;
}
