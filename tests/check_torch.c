/* check_torch.c — the PyTorch reader: every fixture of tests/torch (made by
 * make_fixtures.py with torch) compared with the oracle torch wrote; the
 * public scanner's real files (a zip and a legacy torch.save, their names,
 * shapes and values established with python's zipfile, struct and a stub
 * unpickler, not torch.load); every malicious file refused naming its
 * global; the hostile corners one clear error each; a truncated archive at
 * many lengths. */
#include "check_suites.h"
#include "json.h"
#include "model.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char FIX[1024];

static void fix_dir(void)
{
	const char *d = getenv("MP_FIXTURES");
	snprintf(FIX, sizeof FIX, "%s/pickle/",
		 d && *d ? d : MP_SRCDIR_FIXTURES);
}

static char *tpath(const char *name)
{
	return tu_path(MP_SRCDIR_TORCH, name);
}

static struct mp_model *open_ok(const char *path)
{
	struct mp_error err;
	struct mp_model *m = NULL;
	mp_status s = mp_model_open(path, &m, &err);
	ck_assert_msg(s == MP_OK, "%s: %s", path, err.msg);
	ck_assert_str_eq(m->format, "pytorch");
	return m;
}

static char msg[MP_ERRMSG_MAX];

static const char *open_fail(const char *path)
{
	struct mp_error err;
	struct mp_model *m = NULL;
	mp_status s = mp_model_open(path, &m, &err);
	ck_assert_msg(s != MP_OK, "%s: opened", path);
	ck_assert_ptr_null(m);
	ck_assert_msg(!strchr(err.msg, '\n'), "two lines: %s", err.msg);
	snprintf(msg, sizeof msg, "%s", err.msg);
	return msg;
}

#define ck_fails_with(path, what)                                              \
	do {                                                                   \
		const char *msg_ = open_fail(path);                            \
		ck_assert_msg(strstr(msg_, what), "want '%s' in: %s", what,    \
			      msg_);                                           \
	} while (0)

/* Sum and first values of t, decoded. */
static double tensor_sum(const struct mp_tensor *t, double *first, int nf)
{
	unsigned es = mp_dtype_size(t->stored);
	double s = 0;
	for (uint64_t i = 0; i < t->numel; i++) {
		uint8_t scratch[8];
		const uint8_t *b = mp_tensor_bytes(t, i * es, es, scratch);
		double v;
		mp_tensor_decode(t, b, 1, &v);
		if ((int)i < nf)
			first[i] = v;
		s += v;
	}
	return s;
}

/* Every file of oracle.json: the same tensors, dtypes, shapes, sums and
 * first values. */
START_TEST(test_oracle)
{
	char *op = tpath("oracle.json");
	mp_json *o;
	struct mp_error err;
	ck_assert_msg(mp_json_load(op, 1 << 20, &o, &err) == MP_OK, "%s",
		      err.msg);
	int files = 0;
	for (mp_json *f = mp_json_child(o); f; f = mp_json_next(f), files++) {
		char *p = tpath(mp_json_key(f));
		struct mp_model *m = open_ok(p);
		ck_assert_msg(m->ntensors == mp_json_size(f), "%s: %zu tensors",
			      p, m->ntensors);
		for (mp_json *e = mp_json_child(f); e; e = mp_json_next(e)) {
			const char *name = mp_json_key(e);
			const struct mp_tensor *t = mp_model_find(m, name);
			ck_assert_msg(t != NULL, "%s: no tensor '%s'", p, name);
			ck_assert_str_eq(mp_dtype_name(t->stored),
					 mp_json_str(mp_json_get(e, "dtype")));
			const mp_json *sh = mp_json_get(e, "shape");
			ck_assert_int_eq(t->ndim, (int)mp_json_size(sh));
			for (int k = 0; k < t->ndim; k++)
				ck_assert_uint_eq(
				    t->shape[k],
				    (uint64_t)mp_json_num(mp_json_at(sh, k)));
			double first[4];
			double s = tensor_sum(t, first, 4);
			double want = mp_json_num(mp_json_get(e, "sum"));
			ck_assert_msg(fabs(s - want) <= 1e-9 * (1 + fabs(want)),
				      "%s %s: sum %.17g want %.17g", p, name, s,
				      want);
			const mp_json *fv = mp_json_get(e, "first");
			for (size_t k = 0; k < mp_json_size(fv); k++)
				ck_assert_msg(
				    first[k] == mp_json_num(mp_json_at(fv, k)),
				    "%s %s[%zu]: %.17g", p, name, k, first[k]);
		}
		mp_model_free(m);
		free(p);
	}
	ck_assert_int_ge(files, 13);
	mp_json_free(o);
	free(op);
}
END_TEST

/* Stored members are read in place; views share the storage; the
 * transposed view is a copy. */
START_TEST(test_zero_copy)
{
	char *p = tpath("views.pt");
	struct mp_model *m = open_ok(p);
	const struct mp_tensor *base = mp_model_find(m, "base"),
			       *sl = mp_model_find(m, "slice"),
			       *t = mp_model_find(m, "t");
	const struct mp_file *f = &m->files[0];
	const uint8_t *bd = mp_tensor_segs(base)[0].data;
	ck_assert(bd >= f->data && bd < f->data + f->size);
	ck_assert_ptr_eq(mp_tensor_segs(sl)[0].data, bd + 4 * 4);
	const uint8_t *td = mp_tensor_segs(t)[0].data;
	ck_assert(td < f->data || td >= f->data + f->size);
	mp_model_free(m);
	free(p);
}
END_TEST

/* The scanner's zip torch.save: one tensor, 3x4, values of data/0 read
 * with struct.unpack: 1 2 3 4 5 6 7 8 122 13 14 15 (sum 200). Its legacy
 * pytorch_model.bin: 38 tensors, 59114 parameters (the stub unpickler's
 * listing). */
START_TEST(test_scanner_files)
{
	fix_dir();
	char p[1200];
	snprintf(p, sizeof p, "%snew_pytorch_model.bin", FIX);
	struct mp_model *m = open_ok(p);
	ck_assert_uint_eq(m->ntensors, 1);
	const struct mp_tensor *t = &m->tensors[0];
	ck_assert_str_eq(t->name, "new_pytorch_model");
	ck_assert(t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 4);
	double first[4];
	ck_assert(tensor_sum(t, first, 4) == 200.0);
	ck_assert(first[0] == 1 && first[3] == 4);
	mp_model_free(m);

	snprintf(p, sizeof p, "%spytorch_model.bin", FIX);
	m = open_ok(p);
	ck_assert_uint_eq(m->ntensors, 38);
	uint64_t params = 0;
	for (size_t i = 0; i < m->ntensors; i++)
		params += m->tensors[i].numel;
	ck_assert_uint_eq(params, 59114);
	t = mp_model_find(m, "distilbert.embeddings.word_embeddings.weight");
	ck_assert(t && t->ndim == 2 && t->shape[0] == 28996 &&
		  t->shape[1] == 2 && t->stored == MP_F32);
	t = mp_model_find(m,
			  "distilbert.embeddings.position_embeddings.weight");
	ck_assert(t && t->shape[0] == 512 && t->shape[1] == 2);
	t = mp_model_find(m, "qa_outputs.bias");
	ck_assert(t && t->ndim == 1 && t->shape[0] == 2);
	t = mp_model_find(m, "distilbert.transformer.layer.1.ffn.lin2.weight");
	ck_assert(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 2);
	mp_model_free(m);
}
END_TEST

/* Every malicious file refused naming its global (read with pickletools);
 * the broken ones a clear error. */
START_TEST(test_scanner_refused)
{
	fix_dir();
	static const char *const f[][2] = {
	    {"malicious0.pkl", "'__builtin__.globals'"},
	    {"malicious1.zip", "'builtins.eval'"},
	    {"malicious1_v0.pkl", "'__builtin__.eval'"},
	    {"malicious1_v3.pkl", "'builtins.eval'"},
	    {"malicious1_v4.pkl", "'builtins.eval'"},
	    {"malicious2_v0.pkl", "'posix.system'"},
	    {"malicious2_v3.pkl", "'posix.system'"},
	    {"malicious2_v4.pkl", "'posix.system'"},
	    {"malicious3.pkl", "'httplib.HTTPSConnection'"},
	    {"malicious4.pickle", "'requests.api.get'"},
	    {"malicious5.pickle", "'aiohttp.client.ClientSession'"},
	    {"broken_model.pkl", "'builtins.exec'"},
	    {"bad_pytorch.pt", "unknown pickle opcode"},
	    {"not_a_pickle.bin", "not a model file of a known format"}};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		char p[1200];
		snprintf(p, sizeof p, "%s%s", FIX, f[i][0]);
		ck_fails_with(p, f[i][1]);
		ck_fails_with(p, p);
	}
	/* benign pickles without tensors: an empty model, not an error */
	char p[1200];
	snprintf(p, sizeof p, "%sbenign0_v4.pkl", FIX);
	struct mp_model *m = open_ok(p);
	ck_assert_uint_eq(m->ntensors, 0);
	mp_model_free(m);
}
END_TEST

START_TEST(test_hostile)
{
	static const char *const f[][2] = {
	    {"hostile-past-storage.pt", "tensor 'w': offset 2 and shape/stride "
					"reach past its storage"},
	    {"hostile-big-stride.pt", "tensor 'w': offset 0 and shape/stride "
				      "reach past its storage"},
	    {"hostile-missing-key.pt",
	     "storage '7' is missing from the archive"},
	    {"hostile-huge-shape.pt", "overflows 64 bits"},
	    {"hostile-deep.pt", "beyond the limits"},
	    {"hostile-complex.pt", "torch.ComplexFloatStorage"},
	    {"hostile-truncated.pt", "not a zip archive"},
	    {"hostile-truncated-legacy.pt", "truncated"}};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		char *p = tpath(f[i][0]);
		ck_fails_with(p, f[i][1]);
		free(p);
	}
}
END_TEST

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	uint8_t *b = malloc(1 << 16);
	*n = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

/* Built here: a legacy file whose system info says big-endian (its
 * little_endian NEWTRUE turned NEWFALSE), an index naming a tensor no
 * shard holds, one naming a shard outside its directory, one naming a
 * missing shard. */
START_TEST(test_hostile_built)
{
	char *dir = tu_tmpdir();
	char *p = tpath("legacy.pt"), *q = tu_path(dir, "be.pt");
	size_t n;
	uint8_t *b = slurp(p, &n);
	uint8_t *k = memmem(b, n, "little_endian", 13);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k[15], 0x88); /* after BINPUT q, idx */
	k[15] = 0x89;
	tu_write(q, b, n);
	ck_fails_with(q, "big-endian");
	free(b);
	free(p);
	free(q);
	static const char *const shard1 = "pytorch_model-00001-of-00002.bin";
	char *s1 = tpath("sharded/pytorch_model-00001-of-00002.bin");
	b = slurp(s1, &n);
	q = tu_path(dir, shard1);
	tu_write(q, b, n);
	free(q);
	free(b);
	free(s1);
	char *idx = tu_path(dir, "pytorch_model.bin.index.json");
	tu_write_str(idx, "{\"weight_map\": {\"a.weight\": "
			  "\"pytorch_model-00001-of-00002.bin\", \"zz\": "
			  "\"pytorch_model-00001-of-00002.bin\"}}");
	ck_fails_with(idx, "weight_map tensor 'zz' is in none of the shards");
	tu_write_str(idx, "{\"weight_map\": {\"a.weight\": \"../x.bin\"}}");
	ck_fails_with(idx, "must be relative without '..' components");
	tu_write_str(idx, "{\"weight_map\": {\"a.weight\": \"gone.bin\"}}");
	ck_fails_with(idx, "shard 'gone.bin' listed in weight_map is missing");
	free(idx);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The legacy file cut at every length, the zip archive at every tenth:
 * an error (never a crash), or, cut in the trailing bytes the reader does
 * not need, the full model. */
START_TEST(test_truncation)
{
	char *dir = tu_tmpdir();
	char *cut = tu_path(dir, "cut.pt");
	static const char *const src[] = {"legacy.pt", "dtypes.pt"};
	for (int k = 0; k < 2; k++) {
		char *p = tpath(src[k]);
		FILE *in = fopen(p, "rb");
		ck_assert_ptr_nonnull(in);
		uint8_t buf[8192];
		size_t n = fread(buf, 1, sizeof buf, in);
		fclose(in);
		for (size_t len = 0; len < n; len += k ? 10 : 1) {
			tu_write(cut, buf, len);
			struct mp_error err;
			struct mp_model *m = NULL;
			if (mp_model_open(cut, &m, &err) == MP_OK)
				mp_model_free(m);
			else
				ck_assert_msg(err.msg[0] &&
						  strstr(err.msg, cut),
					      "len %zu: %s", len, err.msg);
		}
		free(p);
	}
	free(cut);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *suite_torch(void)
{
	Suite *s = suite_create("torch");
	TCase *tc = tcase_create("torch");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_oracle);
	tcase_add_test(tc, test_zero_copy);
	tcase_add_test(tc, test_scanner_files);
	tcase_add_test(tc, test_scanner_refused);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_hostile_built);
	tcase_add_test(tc, test_truncation);
	suite_add_tcase(s, tc);
	return s;
}
