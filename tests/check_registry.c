/* check_registry.c — the registry database: ids, duplicates, filters,
 * fingerprints, import of directory registries (hostile models.json
 * included), export, schema versions and concurrent writers (processes). */
#include "check_suites.h"
#include "atomic_write.h"
#include "registry.h"
#include "testutil.h"

#include <math.h>
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
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "1");
	free(id);
	ck_assert_int_eq(tu_reg_add(dir, &sample, "10", &id, &err), MP_OK);
	free(id);
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "11");
	free(id);
	ck_assert_int_eq(tu_reg_add(dir, &sample, "10", &id, &err), MP_EEXIST);
	ck_assert_int_eq(tu_reg_add(dir, &sample, "a/b", &id, &err), MP_EINVAL);
	ck_assert_int_eq(tu_reg_add(dir, &sample, ".x", &id, &err), MP_EINVAL);
	struct mp_registry *r;
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, 3);
	ck_assert_str_eq(mp_registry_find(r, "10")->family, "F");
	mp_registry_free(r);
	ck_assert_int_eq(tu_reg_remove(dir, "10", &err), MP_OK);
	ck_assert_int_eq(tu_reg_remove(dir, "10", &err), MP_ENOENT);
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, 2);
	ck_assert_ptr_null(mp_registry_find(r, "10"));
	mp_registry_free(r);
	/* ids are never reused: neither 10 (explicit) nor 11 (automatic) */
	ck_assert_int_eq(tu_reg_add(dir, &sample, "10", &id, &err), MP_EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "removed model"));
	ck_assert_int_eq(tu_reg_remove(dir, "11", &err), MP_OK);
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "12");
	free(id);
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
	ck_assert_int_eq(tu_reg_put_fp(dir, "7", &fp, &err), MP_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no model with id '7'"));
	char *id;
	ck_assert_int_eq(tu_reg_add(dir, &sample, "7", &id, &err), MP_OK);
	free(id);
	ck_assert_int_eq(tu_reg_put_fp(dir, "7", &fp, &err), MP_OK);
	struct mp_fingerprint *back;
	ck_assert_int_eq(tu_reg_get_fp(dir, "7", "tensors", &back, &err), MP_OK);
	ck_assert_uint_eq(back->params, 42);
	ck_assert_str_eq(back->format, "tfjs");
	mp_fp_free(back);
	ck_assert_int_eq(tu_reg_get_fp(dir, "7", "spectral", &back, &err),
			 MP_ENOENT);
	ck_assert_int_eq(tu_reg_get_fp(dir, "../7", "tensors", &back, &err),
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
				if (tu_reg_add(dir, &sample, NULL, &id, NULL) != MP_OK)
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
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "1"); /* largest automatic-shaped id is 0 */
	free(id);
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_OK);
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

/* Once the largest automatic id (10^19 - 1) was used, automatic ids run
 * out (they are never reused) and explicit ones still work. */
START_TEST(test_ids_past_19_digits)
{
	static const char *const ids[] = {"9999999999999999999", "1", "3",
					  "x", "02"};
	char *dir = table_with(ids, 5);
	struct mp_error err;
	char *id;
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_EINVAL);
	ck_assert_msg(strstr(err.msg, "no automatic id is left") &&
			      strstr(err.msg, "--id"),
		      "%s", err.msg);
	ck_assert_int_eq(tu_reg_add(dir, &sample, "4", &id, &err), MP_OK);
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
		ck_assert_msg(tu_reg_add(dir, &sample, good[i], &id, &err) ==
				  MP_OK,
			      "refused %s", good[i]);
		ck_assert_str_eq(id, good[i]);
		free(id);
	}
	const char *bad[] = {"", "-x", ".x", "a/b", "a b", "\x1b[2J", long65,
			     "caf\xc3\xa9"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(tu_reg_add(dir, &sample, bad[i], &id, &err) ==
				  MP_EINVAL,
			      "accepted '%s'", bad[i]);
		ck_assert_ptr_nonnull(strstr(err.msg, "invalid model id"));
		ck_assert_ptr_null(strchr(err.msg, '\x1b'));
	}
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A directory registry whose table holds an id twice is not imported:
 * the error says which entries, and nothing is created. */
START_TEST(test_duplicate_repair)
{
	static const char *const ids[] = {"1", "2", "3", "2"};
	char *dir = table_with(ids, 4);
	struct mp_error err;
	struct mp_registry *r = NULL;
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "'2' appears twice (models[1] and "
				      "models[3])"),
		      "%s", err.msg);
	char *id;
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_EFORMAT);
	char *db = tu_path(dir, "registry.db");
	ck_assert_int_ne(access(db, F_OK), 0);
	free(db);
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
		ck_assert_uint_eq((size_t)(m - r->models), v - 1); /* id order */
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
	struct mp_regdb *db;
	ck_assert_int_eq(mp_regdb_open(sub, true, &db, &err), MP_EPERM);
	snprintf(want, sizeof want,
		 "%s: cannot write the registry: Not a directory", sub);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(mp_dir_prepare(dir, "output directory", &err), MP_OK);
	free(sub), free(file);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A model with one or more files, their SHA-256s given. */
static struct mp_reg_model with_files(char **paths, char **shas, size_t n)
{
	struct mp_reg_model m = sample;
	m.nfiles = n;
	m.files = paths;
	m.sha256 = shas;
	return m;
}

static mp_status add_plain(const char *dir, const struct mp_reg_model *m,
			   unsigned flags, char **id, struct mp_error *err)
{
	struct mp_regdb *db;
	mp_status st = mp_regdb_open(dir, true, &db, err);
	if (st == MP_OK)
		st = mp_regdb_add(db, m, NULL, flags, id, err);
	mp_regdb_close(db);
	return st;
}

/* The same files (same multiset of SHA-256s) are refused unless forced;
 * a model sharing only some of them is another model. */
START_TEST(test_duplicate_files)
{
	char *dir = tu_tmpdir(), *id;
	struct mp_error err;
	char *p2[] = {"/m/a.bin", "/m/b.bin"}, *h2[] = {"aa", "bb"};
	char *q2[] = {"/n/b.bin", "/n/a.bin"}, *g2[] = {"bb", "aa"};
	char *p1[] = {"/o/a.bin"}, *h1[] = {"aa"};
	struct mp_reg_model a = with_files(p2, h2, 2), b = with_files(q2, g2, 2);
	struct mp_reg_model c = with_files(p1, h1, 1);
	a.name = "first";
	a.path = "/m";
	b.path = "/n";
	ck_assert_int_eq(add_plain(dir, &a, 0, &id, &err), MP_OK);
	free(id);
	ck_assert_int_eq(add_plain(dir, &b, 0, &id, &err), MP_EEXIST);
	ck_assert_msg(strstr(err.msg, "/n has the same SHA-256 as model 1 "
				      "(first)") &&
			  strstr(err.msg, "--force"),
		      "%s", err.msg);
	ck_assert_int_eq(add_plain(dir, &c, 0, &id, &err), MP_OK);
	ck_assert_str_eq(id, "2");
	free(id);
	ck_assert_int_eq(add_plain(dir, &b, MP_REG_FORCE, &id, &err), MP_OK);
	ck_assert_str_eq(id, "3");
	free(id);
	/* once removed, the files may be registered again */
	ck_assert_int_eq(tu_reg_remove(dir, "2", &err), MP_OK);
	ck_assert_int_eq(add_plain(dir, &c, 0, &id, &err), MP_OK);
	ck_assert_str_eq(id, "4");
	free(id);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* list filters by family, type, format and a name glob, in id order:
 * numbers by value, then the other ids. */
START_TEST(test_list_filters)
{
	char *dir = tu_tmpdir(), *id;
	struct mp_error err;
	struct {
		const char *id, *name, *family, *type, *format;
	} ms[] = {{"b", "bert-large", "BERT", "Text", "safetensors"},
		  {"10", "bert-base", "BERT", "Text", "tfjs"},
		  {"2", "vit-b16", "ViT", "Image", "safetensors"},
		  {"a", "llama", "LLaMA", "Text", "safetensors"}};
	for (size_t i = 0; i < 4; i++) {
		struct mp_reg_model m = sample;
		m.name = (char *)ms[i].name;
		m.family = (char *)ms[i].family;
		m.type = (char *)ms[i].type;
		m.format = (char *)ms[i].format;
		ck_assert_int_eq(tu_reg_add(dir, &m, ms[i].id, &id, &err), MP_OK);
		free(id);
	}
	struct {
		struct mp_reg_filter f;
		const char *want;
	} cases[] = {{{0}, "2 10 a b"},
		     {{.family = "BERT"}, "10 b"},
		     {{.type = "Text"}, "10 a b"},
		     {{.format = "safetensors"}, "2 a b"},
		     {{.name_glob = "bert-*"}, "10 b"},
		     {{.name_glob = "*-b*"}, "2 10"},
		     {{.family = "BERT", .format = "tfjs"}, "10"},
		     {{.family = "GPT"}, ""}};
	struct mp_regdb *db;
	ck_assert_int_eq(mp_regdb_open(dir, false, &db, &err), MP_OK);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct mp_registry *r;
		ck_assert_int_eq(mp_regdb_list(db, &cases[k].f, &r, &err), MP_OK);
		char got[64] = "";
		for (size_t i = 0; i < r->nmodels; i++)
			snprintf(got + strlen(got), sizeof got - strlen(got),
				 "%s%s", i ? " " : "", r->models[i].id);
		ck_assert_msg(!strcmp(got, cases[k].want), "case %zu: '%s'", k, got);
		mp_registry_free(r);
	}
	mp_regdb_close(db);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Reading a registry that does not exist creates nothing. */
START_TEST(test_read_creates_nothing)
{
	char *dir = tu_tmpdir(), *sub = tu_path(dir, "none");
	struct mp_error err;
	struct mp_registry *r;
	ck_assert_int_eq(mp_registry_load(sub, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, 0);
	mp_registry_free(r);
	ck_assert_int_ne(access(sub, F_OK), 0);
	struct mp_fingerprint *fp;
	ck_assert_int_eq(tu_reg_get_fp(sub, "1", "tensors", &fp, &err), MP_ENOENT);
	free(sub);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static char *file_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strdup(buf);
}

#include "sql.h"

/* Change the database behind a registry directly. */
static void raw_sql(const char *path, const char *sql)
{
	struct mp_sql *db;
	struct mp_error err;
	ck_assert_int_eq(mp_sql_open(MP_SQL_SQLITE, path, 0, &db, &err), MP_OK);
	ck_assert_msg(mp_sql_script(db, sql, &err) == MP_OK, "%s", err.msg);
	mp_sql_close(db);
}

/* A writer killed while building a new registry.db leaves its temporary
 * (and SQLite's side files of it); the next creation removes them, and
 * keeps those of a live process. */
START_TEST(test_stale_build_removed)
{
	char *dir = tu_tmpdir(), *id;
	char dead[4096], live[4096];
	snprintf(dead, sizeof dead, "%s/registry.db.tmp.%ld.0123456789abcdef",
		 dir, (long)dead_pid());
	snprintf(live, sizeof live, "%s/registry.db.tmp.%ld.0123456789abcdef",
		 dir, (long)getppid());
	char deadwal[4200];
	snprintf(deadwal, sizeof deadwal, "%s-wal", dead);
	tu_write_str(dead, "");
	tu_write_str(deadwal, "x");
	tu_write_str(live, "");
	struct mp_error err;
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_OK);
	free(id);
	ck_assert_int_ne(access(dead, F_OK), 0);
	ck_assert_int_ne(access(deadwal, F_OK), 0);
	ck_assert_int_eq(access(live, F_OK), 0);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A directory registry is imported on first open without changing its
 * files; export writes it back with the fields modelprint does not know;
 * import merges, skips what is there, and refuses conflicts whole. */
START_TEST(test_import_export)
{
	char *dir = tu_tmpdir(), *old = tu_path(dir, "old");
	char *fps = tu_path(old, "fingerprints");
	ck_assert_int_eq(mkdir(old, 0755), 0);
	ck_assert_int_eq(mkdir(fps, 0755), 0);
	char *table = tu_path(old, "models.json");
	tu_write_str(table,
		     "{\"version\": 1, \"models\": [{\"id\": \"3\", \"name\": "
		     "\"m3\", \"family\": \"F\", \"path\": \"/m3\", \"note\": "
		     "\"keep me\", \"files\": [{\"path\": \"/m3/w\", \"sha256\": "
		     "\"ab\"}]}, {\"id\": \"x\", \"path\": \"/mx\"}]}");
	char *fpf = tu_path(fps, "3.tensors.json");
	tu_write_str(fpf, "{\"method\": \"tensors\", \"model_id\": \"3\", "
			  "\"format\": \"safetensors\", \"params\": 77, "
			  "\"files\": [], \"tensors\": []}");
	char *before = file_text(table);
	struct mp_error err;
	struct mp_registry *r;
	ck_assert_int_eq(mp_registry_load(old, &r, &err), MP_OK);
	ck_assert_uint_eq(r->nmodels, 2);
	ck_assert_str_eq(mp_registry_find(r, "3")->name, "m3");
	ck_assert_str_eq(mp_registry_find(r, "3")->sha256[0], "ab");
	mp_registry_free(r);
	char *after = file_text(table);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	struct mp_fingerprint *fp;
	ck_assert_int_eq(tu_reg_get_fp(old, "3", "tensors", &fp, &err), MP_OK);
	ck_assert_uint_eq(fp->params, 77);
	mp_fp_free(fp);
	/* the automatic id continues after the imported ones */
	char *id;
	ck_assert_int_eq(tu_reg_add(old, &sample, NULL, &id, &err), MP_OK);
	ck_assert_str_eq(id, "4");
	free(id);

	char *out = tu_path(dir, "out");
	struct mp_regdb *db;
	ck_assert_int_eq(mp_regdb_open(old, false, &db, &err), MP_OK);
	ck_assert_int_eq(mp_regdb_export(db, out, &err), MP_OK);
	ck_assert_int_eq(mp_regdb_export(db, out, &err), MP_EEXIST);
	mp_regdb_close(db);
	char *otable = tu_path(out, "models.json");
	char *text = file_text(otable);
	ck_assert_ptr_nonnull(strstr(text, "\"note\":\t\"keep me\""));
	free(text);
	char *ofp = tu_path(out, "fingerprints/3.tensors.json");
	text = file_text(ofp);
	ck_assert_ptr_nonnull(strstr(text, "\"params\":77"));
	free(text);

	char *fresh = tu_path(dir, "fresh.db");
	size_t added, skipped;
	ck_assert_int_eq(mp_regdb_open(fresh, true, &db, &err), MP_OK);
	ck_assert_int_eq(mp_regdb_import(db, out, &added, &skipped, &err), MP_OK);
	ck_assert_uint_eq(added, 3);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_int_eq(mp_regdb_import(db, old, &added, &skipped, &err), MP_OK);
	ck_assert_uint_eq(added, 0);
	ck_assert_uint_eq(skipped, 3);
	ck_assert_int_eq(mp_regdb_get_fp(db, "3", "tensors", &fp, &err), MP_OK);
	ck_assert_uint_eq(fp->params, 77);
	mp_fp_free(fp);
	/* a conflicting registry: id 3 with other files, id 9 new */
	char *other = tu_path(dir, "other");
	ck_assert_int_eq(mkdir(other, 0755), 0);
	char *ot = tu_path(other, "models.json");
	tu_write_str(ot, "{\"models\": [{\"id\": \"9\", \"path\": \"/9\"}, "
			 "{\"id\": \"3\", \"path\": \"/3\", \"files\": "
			 "[{\"path\": \"/3/w\", \"sha256\": \"cd\"}]}]}");
	ck_assert_int_eq(mp_regdb_import(db, other, &added, &skipped, &err),
			 MP_EEXIST);
	ck_assert_msg(strstr(err.msg, "model id '3'") &&
			  strstr(err.msg, "nothing was imported"),
		      "%s", err.msg);
	struct mp_reg_model *m;
	ck_assert_int_eq(mp_regdb_get(db, "9", &m, &err), MP_ENOENT);
	/* a forged source database: an id that is no file name */
	char *forged = tu_path(dir, "forged.db");
	ck_assert_int_eq(tu_reg_add(forged, &sample, "77", &id, &err), MP_OK);
	free(id);
	raw_sql(forged, "UPDATE models SET id = '../\x1b' WHERE id = '77'");
	ck_assert_int_eq(mp_regdb_import(db, forged, &added, &skipped, &err),
			 MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "model id '../\\x1b' is not letters"),
		      "%s", err.msg);
	free(forged);
	mp_regdb_close(db);
	free(ot), free(other), free(fresh), free(ofp), free(otable), free(out);
	free(fpf), free(table), free(fps), free(old);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static void raw_sql_create(const char *path, const char *sql)
{
	struct mp_sql *db;
	struct mp_error err;
	ck_assert_int_eq(mp_sql_open(MP_SQL_SQLITE, path, MP_SQL_CREATE, &db, &err),
			 MP_OK);
	ck_assert_msg(mp_sql_script(db, sql, &err) == MP_OK, "%s", err.msg);
	mp_sql_close(db);
}

/* A newer schema is refused naming both versions; a stored fingerprint
 * that does not decompress is an error naming the model and method. */
START_TEST(test_schema_and_corruption)
{
	char *dir = tu_tmpdir(), *id;
	struct mp_error err;
	ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_OK);
	free(id);
	struct mp_fingerprint fp = {.method = "tensors", .format = "tfjs",
				    .params = 5};
	ck_assert_int_eq(tu_reg_put_fp(dir, "1", &fp, &err), MP_OK);
	char *path = tu_path(dir, "registry.db");
	raw_sql(path, "UPDATE fingerprints SET data = X'789c00'");
	struct mp_fingerprint *back;
	ck_assert_int_eq(tu_reg_get_fp(dir, "1", "tensors", &back, &err),
			 MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "fingerprint of model 1 (tensors)") &&
			  strstr(err.msg, "does not decompress"),
		      "%s", err.msg);
	raw_sql(path, "UPDATE schema_version SET version = 99");
	struct mp_registry *r;
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "schema version 99 is newer"), "%s",
		      err.msg);
	raw_sql(path, "UPDATE schema_version SET version = 0");
	ck_assert_int_eq(mp_registry_load(dir, &r, &err), MP_EFORMAT);
	free(path);
	/* another program's database is neither read nor written */
	char *other = tu_path(dir, "other.db");
	raw_sql_create(other, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	ck_assert_int_eq(mp_registry_load(other, &r, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "not a modelprint registry"), "%s", err.msg);
	ck_assert_int_eq(tu_reg_add(other, &sample, NULL, &id, &err), MP_EFORMAT);
	free(other);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The count of rows of a query's first column (one text cell). */
static char *raw_cell(const char *path, const char *sql)
{
	struct mp_sql *db;
	struct mp_error err;
	struct mp_sql_res *r;
	ck_assert_int_eq(mp_sql_open(MP_SQL_SQLITE, path, 0, &db, &err), MP_OK);
	ck_assert_msg(mp_sql_exec(db, sql, NULL, 0, &r, &err) == MP_OK, "%s",
		      err.msg);
	const char *v = mp_sql_res_text(r, 0, 0);
	char *out = strdup(v ? v : "(null)");
	mp_sql_res_free(r);
	mp_sql_close(db);
	return out;
}

static void assert_cell(const char *path, const char *sql, const char *want)
{
	char *got = raw_cell(path, sql);
	ck_assert_msg(!strcmp(got, want), "%s: '%s', expected '%s'", sql, got,
		      want);
	free(got);
}

#define NT 16
#define KS 256

/* The `tensors` fingerprint of model variant rho: NT tensors "t<i>" of
 * shape [i + 1, 256] whose sketches are rho b + sqrt(1 - rho^2) z_seed, b
 * the base's (seed 0), z fresh noise; *exact gets the mean exact Pearson
 * correlation to the base over the tensors (numpy-style formula). */
static struct mp_fingerprint *variant(double rho, uint64_t seed, double *exact)
{
	static float base[NT][KS], v[NT][KS];
	uint64_t s0 = 12345, s = seed;
	char names[NT][8];
	const char *np[NT];
	uint64_t rows[NT], cols[NT];
	float *sk[NT];
	*exact = 0;
	for (int i = 0; i < NT; i++) {
		double sxy = 0, sxx = 0, syy = 0, mx = 0, my = 0;
		for (int j = 0; j < KS; j++) {
			base[i][j] = (float)tu_rand_normal(&s0);
			v[i][j] = (float)(rho * base[i][j] +
					  sqrt(1 - rho * rho) * tu_rand_normal(&s));
			mx += base[i][j] / KS;
			my += v[i][j] / KS;
		}
		for (int j = 0; j < KS; j++) {
			sxy += (base[i][j] - mx) * (v[i][j] - my);
			sxx += (base[i][j] - mx) * (base[i][j] - mx);
			syy += (v[i][j] - my) * (v[i][j] - my);
		}
		*exact += sxy / sqrt(sxx * syy) / NT;
		snprintf(names[i], sizeof names[i], "t%d", i);
		np[i] = names[i];
		rows[i] = (uint64_t)i + 1;
		cols[i] = 256;
		sk[i] = v[i];
	}
	return tu_sketch_fp(NT, np, rows, cols, sk, KS);
}

static void candidates(const char *loc, bool write,
		       const struct mp_fingerprint *u, size_t k,
		       struct mp_lsh_hit **hits, size_t *n)
{
	struct mp_regdb *db;
	struct mp_error err;
	ck_assert_msg(mp_regdb_open(loc, write, &db, &err) == MP_OK, "%s",
		      err.msg);
	ck_assert_msg(mp_regdb_lsh_candidates(db, u, k, hits, n, &err) ==
			  MP_OK,
		      "%s", err.msg);
	mp_regdb_close(db);
}

/* Models 1..4 at correlations 1, 0.9, 0.5, 0 to the base, model 5 at 1
 * but with another seed (not comparable): ranked 1, 2, 3, 4 with
 * estimates within 0.1 of the exact mean correlations; codes stored on
 * put_fp, removed with the model; a version-1 registry (no lsh_codes)
 * gives the same ranking read-only and is migrated (codes computed, none
 * for a fingerprint that does not decode) when opened for writing; a
 * hostile blob is an error naming the model. */
START_TEST(test_lsh_candidates)
{
	char *dir = tu_tmpdir(), *id, *path = tu_path(dir, "registry.db");
	struct mp_error err;
	const double rho[] = {1, 0.9, 0.5, 0};
	double exact[5];
	for (int m = 0; m < 5; m++) {
		ck_assert_int_eq(tu_reg_add(dir, &sample, NULL, &id, &err), MP_OK);
		struct mp_fingerprint *fp =
		    variant(m < 4 ? rho[m] : 1, 100 + (uint64_t)m, &exact[m]);
		if (m == 4)
			ck_assert_int_eq(mp_json_parse("{\"seed\": 3}", 11, "t",
						       &fp->args, &err),
					 MP_OK);
		ck_assert_msg(tu_reg_put_fp(dir, id, fp, &err) == MP_OK, "%s",
			      err.msg);
		mp_fp_free(fp);
		free(id);
	}
	assert_cell(path, "SELECT CAST(count(*) AS TEXT) FROM lsh_codes", "5");
	assert_cell(path, "SELECT CAST(seed AS TEXT) FROM lsh_codes WHERE "
			  "model_id = '5'", "3");
	assert_cell(path, "SELECT CAST(length(codes) AS TEXT) FROM lsh_codes "
			  "WHERE model_id = '1'", "408"); /* 24 + 16 * 24 */
	double ex;
	struct mp_fingerprint *u = variant(1, 0, &ex);
	struct mp_lsh_hit *h;
	size_t n;
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1) { /* a version-1 registry, read-only */
			raw_sql(path, "DROP TABLE lsh_codes; UPDATE "
				      "schema_version SET version = 1");
		}
		if (pass == 2) /* an unreadable fingerprint: no codes */
			raw_sql(path, "UPDATE fingerprints SET data = X'789c00' "
				      "WHERE model_id = '4'");
		candidates(dir, pass == 2, u, 3, &h, &n);
		ck_assert_uint_eq(n, 3);
		for (size_t i = 0; i < n; i++) {
			char want[24];
			snprintf(want, sizeof want, "%zu", i + 1);
			ck_assert_str_eq(h[i].id, want);
			ck_assert_msg(fabs(h[i].similarity - exact[i]) < 0.1,
				      "model %zu: %g, exact %g", i + 1,
				      h[i].similarity, exact[i]);
		}
		ck_assert(h[0].similarity == 1.0);
		mp_lsh_hits_free(h, n);
	}
	/* opened for writing: migrated, codes of every live model back */
	assert_cell(path, "SELECT CAST(max(version) AS TEXT) FROM "
			  "schema_version", "2");
	assert_cell(path, "SELECT group_concat(model_id) FROM (SELECT model_id "
			  "FROM lsh_codes ORDER BY model_id)", "1,2,3,5");
	candidates(dir, false, u, 10, &h, &n);
	ck_assert_uint_eq(n, 3); /* 5 has other arguments, 4 no codes */
	mp_lsh_hits_free(h, n);
	ck_assert_int_eq(tu_reg_remove(dir, "1", &err), MP_OK);
	assert_cell(path, "SELECT CAST(count(*) AS TEXT) FROM lsh_codes WHERE "
			  "model_id = '1'", "0");
	candidates(dir, false, u, 10, &h, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(h[0].id, "2");
	mp_lsh_hits_free(h, n);
	/* hostile blob */
	raw_sql(path, "UPDATE lsh_codes SET codes = X'0100000009' WHERE "
		      "model_id = '3'");
	struct mp_regdb *db;
	ck_assert_int_eq(mp_regdb_open(dir, false, &db, &err), MP_OK);
	ck_assert_int_eq(mp_regdb_lsh_candidates(db, u, 3, &h, &n, &err),
			 MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "codes of model 3: tensor codes of 5 "
				      "bytes"),
		      "%s", err.msg);
	ck_assert_ptr_null(h);
	/* an unknown with nothing to compare by */
	struct mp_fingerprint *none = tu_sketch_fp(0, NULL, NULL, NULL, NULL, 0);
	ck_assert_int_eq(mp_regdb_lsh_candidates(db, none, 3, &h, &n, &err),
			 MP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "no floating tensor"));
	mp_fp_free(none);
	mp_regdb_close(db);
	mp_fp_free(u);
	free(path);
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
	tcase_add_test(tc, test_duplicate_files);
	tcase_add_test(tc, test_list_filters);
	tcase_add_test(tc, test_read_creates_nothing);
	tcase_add_test(tc, test_import_export);
	tcase_add_test(tc, test_stale_build_removed);
	tcase_add_test(tc, test_schema_and_corruption);
	tcase_add_test(tc, test_atomic_write_hostile_names);
	tcase_add_test(tc, test_output_dir_not_writable);
	tcase_add_test(tc, test_lsh_candidates);
	suite_add_tcase(s, tc);
	/* quadratic id checks took about 50 s here; indexed, well under 1 s */
	TCase *big = tcase_create("large");
	tcase_set_timeout(big, 20);
	tcase_add_test(big, test_large_table);
	suite_add_tcase(s, big);
	return s;
}
