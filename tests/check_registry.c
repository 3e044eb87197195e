/* check_registry.c — registry tables, ids, fingerprint files, hostile
 * models.json and concurrent writers (processes). */
#include "check_suites.h"
#include "atomic_write.h"
#include "registry.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* A registry directory whose models.json holds exactly these ids. */
static char *table_with(const char *const *ids, size_t n)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "models.json");
	size_t cap = 64 + n * 128, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "{\"models\": [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"%s{\"id\": \"%s\", \"path\": \"/m\"}",
					i ? ", " : "", ids[i]);
	snprintf(text + len, cap - len, "]}");
	tu_write_str(p, text);
	free(text);
	free(p);
	return dir;
}

/* 2^64-1 and a 20-digit id used to saturate strtoull, so the next id
 * wrapped to 0 and then to a duplicate; they are not automatic ids. */
START_TEST(test_ids_do_not_wrap)
{
	static const char *const ids[] = {"0", "18446744073709551615",
					  "99999999999999999999"};
	char *dir = table_with(ids, 3);
	struct mp_error err;
	char *id;
	ck_assert_int_eq(mp_registry_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "1"); /* largest automatic-shaped id is 0 */
	free(id);
	ck_assert_int_eq(mp_registry_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "2");
	free(id);
	struct mp_registry *r;
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, 5);
	ck_assert_ptr_nonnull(mp_registry_find(r, "18446744073709551615"));
	ck_assert_ptr_nonnull(mp_registry_find(r, "99999999999999999999"));
	mp_registry_free(r);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The contents of a small file ("" when missing). */
static void slurp(const char *path, char *buf, size_t n)
{
	FILE *fp = fopen(path, "r");
	size_t r = fp ? fread(buf, 1, n - 1, fp) : 0;
	buf[r] = '\0';
	if (fp)
		fclose(fp);
}

/* A pid that is certainly not running: a child that has exited and been
 * reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* A symlink planted at the old temporary name <file>.tmp.<pid> is never
 * followed; stale temporaries of dead processes (files or symlinks) are
 * removed without touching their targets, a live process's are kept; the
 * result has mode 0644 whatever the umask; abort leaves nothing. */
START_TEST(test_atomic_write_hostile_names)
{
	char *dir = tu_tmpdir(), *victim = tu_path(dir, "victim");
	char *out = tu_path(dir, "out.json");
	tu_write_str(victim, "precious");
	char name[4096], buf[64];
	snprintf(name, sizeof name, "%s.tmp.%ld", out, (long)getpid());
	ck_assert_int_eq(symlink(victim, name), 0);
	pid_t dead = dead_pid();
	char st1[4096], st2[4096], live[4096];
	snprintf(st1, sizeof st1, "%s.tmp.%ld.0123456789abcdef", out, (long)dead);
	snprintf(st2, sizeof st2, "%s.tmp.%ld.fedcba9876543210", out, (long)dead);
	snprintf(live, sizeof live, "%s.tmp.1.00000000000000ff", out);
	tu_write_str(st1, "stale");
	ck_assert_int_eq(symlink(victim, st2), 0);
	tu_write_str(live, "pid 1 is alive");
	mode_t old = umask(0);
	struct mp_error err;
	ck_assert_int_eq(mp_atomic_write(out, "new", &err), MP_OK);
	umask(old);
	slurp(victim, buf, sizeof buf);
	ck_assert_str_eq(buf, "precious");
	slurp(out, buf, sizeof buf);
	ck_assert_str_eq(buf, "new");
	struct stat sb;
	ck_assert_int_eq(lstat(out, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0644);
	ck_assert_int_ne(lstat(st1, &sb), 0);
	ck_assert_int_ne(lstat(st2, &sb), 0);
	ck_assert_int_eq(lstat(live, &sb), 0);
	ck_assert_int_eq(lstat(victim, &sb), 0);
	/* a symlink at the target itself is replaced, not written through */
	char *link = tu_path(dir, "link.json");
	ck_assert_int_eq(symlink(victim, link), 0);
	ck_assert_int_eq(mp_atomic_write(link, "x", &err), MP_OK);
	ck_assert_int_eq(lstat(link, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	slurp(victim, buf, sizeof buf);
	ck_assert_str_eq(buf, "precious");
	/* streamed: abort leaves neither target nor temporary */
	char *s = tu_path(dir, "s.txt");
	struct mp_atomic a;
	ck_assert_int_eq(mp_atomic_open(&a, s, &err), MP_OK);
	fputs("partial", a.fp);
	mp_atomic_abort(&a);
	ck_assert_int_ne(lstat(s, &sb), 0);
	ck_assert_int_eq(mp_atomic_open(&a, s, &err), MP_OK);
	fputs("whole", a.fp);
	ck_assert_int_eq(mp_atomic_commit(&a, &err), MP_OK);
	slurp(s, buf, sizeof buf);
	ck_assert_str_eq(buf, "whole");
	free(s), free(link), free(out), free(victim);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* When max+1 would take 20 digits, the smallest free number is used. */
START_TEST(test_ids_past_19_digits)
{
	static const char *const ids[] = {"9999999999999999999", "1", "3",
					  "x", "02"};
	char *dir = table_with(ids, 5);
	struct mp_error err;
	char *id;
	ck_assert_int_eq(mp_registry_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "4"); /* "02" counts as 2: the free ones are 4.. */
	free(id);
	ck_assert_int_eq(mp_registry_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "5");
	free(id);
	ck_assert_int_eq(mp_registry_remove(dir, "3", &err), MP_OK);
	ck_assert_int_eq(mp_registry_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "3");
	free(id);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_explicit_ids)
{
	char *dir = tu_tmpdir();
	struct mp_error err;
	char *id;
	char long64[65], long65[66];
	memset(long64, 'a', 64);
	long64[64] = '\0';
	memset(long65, 'a', 65);
	long65[65] = '\0';
	const char *good[] = {"a", "A.b_c-9", long64, "0", "18446744073709551616"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		ck_assert_msg(mp_registry_add(dir, &sample, good[i], &id, &err) ==
				  MP_OK,
			      "refused %s", good[i]);
		ck_assert_str_eq(id, good[i]);
		free(id);
	}
	const char *bad[] = {"", "-x", ".x", "a/b", "a b", "\x1b[2J", long65,
			     "caf\xc3\xa9"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(mp_registry_add(dir, &sample, bad[i], &id, &err) ==
				  MP_EINVAL,
			      "accepted '%s'", bad[i]);
		ck_assert_ptr_nonnull(strstr(err.msg, "invalid model id"));
		ck_assert_ptr_null(strchr(err.msg, '\x1b'));
	}
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A duplicate id read from disk is an error that says how to repair, and
 * rm removes every entry with that id. */
START_TEST(test_duplicate_repair)
{
	static const char *const ids[] = {"1", "2", "3", "2"};
	char *dir = table_with(ids, 4);
	struct mp_error err;
	struct mp_registry *r = NULL;
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "'2' appears twice (models[1] and "
				      "models[3])") &&
			  strstr(err.msg, "registry rm 2"),
		      "%s", err.msg);
	char *id;
	ck_assert_int_eq(mp_registry_add(dir, &sample, NULL, &id, &err), MP_EFORMAT);
	ck_assert_int_eq(mp_registry_remove(dir, "2", &err), MP_OK);
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, 2);
	ck_assert_str_eq(r->models[0].id, "1");
	ck_assert_str_eq(r->models[1].id, "3");
	mp_registry_free(r);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Loading 100,000 models used to check each id against all before it. */
START_TEST(test_large_table)
{
	size_t n = 100000;
	char *dir = tu_tmpdir(), *p = tu_path(dir, "models.json");
	size_t cap = 64 + n * 48, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "{\"models\": [");
	for (size_t i = 0; i < n; i++) /* ids n, n-1, ..., 1 */
		len += (size_t)snprintf(text + len, cap - len,
					"%s{\"id\": \"%zu\", \"path\": \"/m\"}",
					i ? "," : "", n - i);
	snprintf(text + len, cap - len, "]}");
	tu_write_str(p, text);
	free(text);
	struct mp_error err;
	struct mp_registry *r;
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, n);
	for (size_t v = 1; v <= n; v += 997) {
		char id[24];
		snprintf(id, sizeof id, "%zu", v);
		const struct mp_reg_model *m = mp_registry_find(r, id);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq((size_t)(m - r->models), n - v);
	}
	ck_assert_ptr_null(mp_registry_find(r, "0"));
	ck_assert_ptr_null(mp_registry_find(r, "100001"));
	mp_registry_free(r);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* An output directory that cannot be created is named as such (not as a
 * registry); provoked with a path below a regular file, which fails for
 * root too. */
START_TEST(test_output_dir_not_writable)
{
	char *dir = tu_tmpdir(), *file = tu_path(dir, "file");
	tu_write_str(file, "x");
	char *sub = tu_path(file, "out");
	struct mp_error err;
	ck_assert_int_eq(mp_dir_prepare(sub, "output directory", &err), MP_EPERM);
	char want[4096];
	snprintf(want, sizeof want,
		 "%s: cannot write the output directory: Not a directory", sub);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(mp_registry_check_writable(sub, &err), MP_EPERM);
	snprintf(want, sizeof want,
		 "%s: cannot write the registry: Not a directory", sub);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(mp_dir_prepare(dir, "output directory", &err), MP_OK);
	free(sub), free(file);
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
	tcase_add_test(tc, test_ids_do_not_wrap);
	tcase_add_test(tc, test_ids_past_19_digits);
	tcase_add_test(tc, test_explicit_ids);
	tcase_add_test(tc, test_duplicate_repair);
	tcase_add_test(tc, test_atomic_write_hostile_names);
	tcase_add_test(tc, test_output_dir_not_writable);
	suite_add_tcase(s, tc);
	/* quadratic id checks took about 50 s here; indexed, well under 1 s */
	TCase *big = tcase_create("large");
	tcase_set_timeout(big, 20);
	tcase_add_test(big, test_large_table);
	suite_add_tcase(s, big);
	return s;
}
