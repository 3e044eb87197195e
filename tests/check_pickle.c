/* check_pickle.c — the restricted pickle reader: pickles written here
 * opcode by opcode, the public scanner's fixtures (benign ones read,
 * every malicious one refused naming its global, broken ones an error),
 * truncation at every length, cycles and nesting bombs. */
#include "check_suites.h"
#include "pickle.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The fixtures: $MP_FIXTURES, else ../shared/fixtures beside the
 * source tree. */
static char FIX[1024];

static void fix_dir(void)
{
	const char *d = getenv("MP_FIXTURES");
	snprintf(FIX, sizeof FIX, "%s/pickle/", d && *d ? d : MP_SRCDIR_FIXTURES);
}

static const char *const allow[] = {"collections.OrderedDict",
				    "torch._utils._rebuild_tensor_v2",
				    "torch.FloatStorage", NULL};

static mp_status parse(const void *d, size_t n, struct mp_pk **v,
		       struct mp_error *err)
{
	return mp_pickle_parse(d, n, "t.pkl", allow, v, err);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	uint8_t *b = malloc(1 << 20);
	*n = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

/* {'a': 1, 'b': [1.5, None, True], 'c': (b'xy', -2)} in protocol 2 */
START_TEST(test_values)
{
	static const uint8_t d[] = {
	    0x80, 2, '}', 'q', 0, '(', 'X', 1, 0, 0, 0, 'a', 'K', 1, 'X', 1, 0,
	    0, 0, 'b', ']', '(', 'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 'N', 0x88,
	    'e', 'X', 1, 0, 0, 0, 'c', 'C', 2, 'x', 'y', 'J', 0xfe, 0xff, 0xff,
	    0xff, 0x86, 'u', '.'};
	struct mp_pk *v;
	struct mp_error err;
	ck_assert_msg(parse(d, sizeof d, &v, &err) == MP_OK, "%s", err.msg);
	ck_assert_int_eq(v->kind, MP_PK_DICT);
	ck_assert_uint_eq(v->n, 6);
	const struct mp_pk *a = mp_pk_get(v, "a"), *b = mp_pk_get(v, "b"),
			   *c = mp_pk_get(v, "c");
	ck_assert(a && a->kind == MP_PK_INT && a->i == 1);
	ck_assert(b && b->kind == MP_PK_LIST && b->n == 3);
	ck_assert(b->items[0]->kind == MP_PK_FLOAT && b->items[0]->f == 1.5);
	ck_assert_int_eq(b->items[1]->kind, MP_PK_NONE);
	ck_assert(b->items[2]->kind == MP_PK_BOOL && b->items[2]->i == 1);
	ck_assert(c && c->kind == MP_PK_TUPLE && c->n == 2);
	ck_assert(c->items[0]->kind == MP_PK_BYTES && c->items[0]->len == 2 &&
		  !memcmp(c->items[0]->s, "xy", 2));
	ck_assert(c->items[1]->kind == MP_PK_INT && c->items[1]->i == -2);
	mp_pk_free(v);
}
END_TEST

/* OrderedDict() then SETITEMS and BUILD on the call; a persistent id. */
START_TEST(test_call_and_persid)
{
	static const char d[] = "\x80\x02"
				"ccollections\nOrderedDict\nq\x00)R"
				"(X\x01\x00\x00\x00w(X\x07\x00\x00\x00storageK\x05"
				"tQu}b.";
	struct mp_pk *v;
	struct mp_error err;
	ck_assert_msg(parse(d, sizeof d - 1, &v, &err) == MP_OK, "%s", err.msg);
	ck_assert_int_eq(v->kind, MP_PK_CALL);
	ck_assert_str_eq(v->fn->s, "collections.OrderedDict");
	ck_assert_int_eq(v->args->kind, MP_PK_TUPLE);
	ck_assert_uint_eq(v->n, 2);
	ck_assert_str_eq(v->items[0]->s, "w");
	const struct mp_pk *pid = v->items[1];
	ck_assert_int_eq(pid->kind, MP_PK_PERSID);
	ck_assert(pid->args->kind == MP_PK_TUPLE && pid->args->n == 2);
	ck_assert_str_eq(pid->args->items[0]->s, "storage");
	ck_assert_int_eq(pid->args->items[1]->i, 5);
	ck_assert(v->state && v->state->kind == MP_PK_DICT);
	mp_pk_free(v);
}
END_TEST

START_TEST(test_fixtures_benign)
{
	static const char *const f[] = {"benign0_v0.pkl", "benign0_v3.pkl",
					"benign0_v4.pkl"};
	for (int i = 0; i < 3; i++) {
		char path[1200];
		snprintf(path, sizeof path, "%s%s", FIX, f[i]);
		size_t n;
		uint8_t *d = slurp(path, &n);
		struct mp_pk *v;
		struct mp_error err;
		ck_assert_msg(mp_pickle_parse(d, n, path, allow, &v, &err) ==
				  MP_OK,
			      "%s", err.msg);
		/* ['a', 'b', 'c'] */
		ck_assert_int_eq(v->kind, MP_PK_LIST);
		ck_assert_uint_eq(v->n, 3);
		ck_assert_str_eq(v->items[0]->s, "a");
		ck_assert_str_eq(v->items[2]->s, "c");
		mp_pk_free(v);
		free(d);
	}
}
END_TEST

/* Every malicious pickle is refused naming the global it asks for (read
 * in the files with xxd: the test does not trust the reader for it), and
 * broken_model.pkl's payload, which would append to my_file.txt, leaves
 * no such file. */
START_TEST(test_fixtures_malicious)
{
	static const char *const f[][2] = {
	    {"malicious0.pkl", "__builtin__.globals"},
	    {"malicious1_v0.pkl", "__builtin__.eval"},
	    {"malicious1_v3.pkl", "builtins.eval"},
	    {"malicious1_v4.pkl", "builtins.eval"},
	    {"malicious2_v0.pkl", "posix.system"},
	    {"malicious2_v3.pkl", "posix.system"},
	    {"malicious2_v4.pkl", "posix.system"},
	    {"malicious3.pkl", "httplib.HTTPSConnection"},
	    {"malicious4.pickle", "requests.api.get"},
	    {"malicious5.pickle", "aiohttp.client.ClientSession"},
	    {"broken_model.pkl", "builtins.exec"}};
	char *dir = tu_tmpdir(), cwd[4096];
	ck_assert(getcwd(cwd, sizeof cwd) && chdir(dir) == 0);
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		char path[1200], want[128];
		snprintf(path, sizeof path, "%s%s", FIX, f[i][0]);
		size_t n;
		uint8_t *d = slurp(path, &n);
		struct mp_pk *v = NULL;
		struct mp_error err;
		ck_assert_int_eq(mp_pickle_parse(d, n, path, allow, &v, &err),
				 MP_EPERM);
		ck_assert_ptr_null(v);
		snprintf(want, sizeof want, "refused global '%s'", f[i][1]);
		ck_assert_msg(strstr(err.msg, want) && strstr(err.msg, f[i][0]),
			      "%s: %s", f[i][0], err.msg);
		free(d);
	}
	ck_assert(access("my_file.txt", F_OK) != 0);
	ck_assert(chdir(cwd) == 0);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_fixtures_broken)
{
	static const char *const f[] = {"not_a_pickle.bin", "bad_pytorch.pt"};
	for (int i = 0; i < 2; i++) {
		char path[1200];
		snprintf(path, sizeof path, "%s%s", FIX, f[i]);
		size_t n;
		uint8_t *d = slurp(path, &n);
		struct mp_pk *v = NULL;
		struct mp_error err;
		ck_assert(mp_pickle_parse(d, n, path, allow, &v, &err) !=
			  MP_OK);
		ck_assert_ptr_null(v);
		ck_assert(strstr(err.msg, f[i]) != NULL);
		free(d);
	}
}
END_TEST

/* Every prefix of a valid pickle is an error, never a crash or a leak. */
START_TEST(test_truncated)
{
	char path[1200];
	snprintf(path, sizeof path, "%sbenign0_v4.pkl", FIX);
	size_t n;
	uint8_t *d = slurp(path, &n);
	for (size_t k = 0; k < n; k++) {
		uint8_t *c = malloc(k ? k : 1);
		memcpy(c, d, k);
		struct mp_pk *v = NULL;
		struct mp_error err;
		ck_assert_msg(parse(c, k, &v, &err) != MP_OK, "prefix %zu", k);
		ck_assert_ptr_null(v);
		free(c);
	}
	free(d);
}
END_TEST

/* A list appended to itself, a list changed after it was used, a
 * nesting bomb, INST and OBJ, an unknown opcode. */
START_TEST(test_hostile)
{
	struct mp_pk *v = NULL;
	struct mp_error err;
	static const char self[] = "]q\x00h\x00" "a.";
	ck_assert_int_eq(parse(self, sizeof self - 1, &v, &err), MP_EFORMAT);
	/* [] memo0; []; append memo0 into the second; then append 1 to
	 * memo0, which is sealed */
	static const char later[] = "]q\x00]h\x00" "a0h\x00K\x01" "a.";
	ck_assert_int_eq(parse(later, sizeof later - 1, &v, &err),
			 MP_EFORMAT);
	size_t n = 2 * (MP_PK_MAX_DEPTH + 10) + 1;
	char *bomb = malloc(n + 1);
	size_t w = 0;
	for (int i = 0; i < MP_PK_MAX_DEPTH + 10; i++)
		bomb[w++] = ']';
	for (int i = 0; i < MP_PK_MAX_DEPTH + 9; i++)
		bomb[w++] = 'a';
	bomb[w++] = '.';
	ck_assert_int_eq(parse(bomb, w, &v, &err), MP_EFORMAT);
	free(bomb);
	static const char inst[] = "(ios\nsystem\n.";
	ck_assert_int_eq(parse(inst, sizeof inst - 1, &v, &err), MP_EPERM);
	ck_assert(strstr(err.msg, "INST") != NULL);
	static const char obj[] = "(ccollections\nOrderedDict\no.";
	ck_assert_int_eq(parse(obj, sizeof obj - 1, &v, &err), MP_EPERM);
	static const char unk[] = "\xff.";
	ck_assert_int_eq(parse(unk, sizeof unk - 1, &v, &err), MP_EFORMAT);
	ck_assert(strstr(err.msg, "0xff") != NULL);
	static const char two[] = "K\x01K\x02.";
	ck_assert_int_eq(parse(two, sizeof two - 1, &v, &err), MP_EFORMAT);
	static const char getbad[] = "h\x07.";
	ck_assert_int_eq(parse(getbad, sizeof getbad - 1, &v, &err),
			 MP_EFORMAT);
	/* a REDUCE of something that is not a global */
	static const char red[] = "K\x01)R.";
	ck_assert_int_eq(parse(red, sizeof red - 1, &v, &err), MP_EPERM);
	ck_assert_ptr_null(v);
}
END_TEST

Suite *suite_pickle(void)
{
	Suite *s = suite_create("pickle");
	TCase *tc = tcase_create("pickle");
	fix_dir();
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_call_and_persid);
	tcase_add_test(tc, test_fixtures_benign);
	tcase_add_test(tc, test_fixtures_malicious);
	tcase_add_test(tc, test_fixtures_broken);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return s;
}
