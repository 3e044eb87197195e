/* check_tfjs.c — the TF.js reader on files written here. */
#include "check_suites.h"
#include "model.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const float F[4] = {1.5f, -2.0f, 0.25f, 3.0f};

/* model.json with one group over two shards cut at an odd byte: a 3-byte
 * uint8-quantized weight, then a float32 [2,2] weight, then int32, bool and
 * a float16-quantized weight. */
static char *write_model(char *dir)
{
	uint8_t bytes[3 + 16 + 4 + 2 + 4];
	size_t n = 0;
	bytes[n++] = 0, bytes[n++] = 1, bytes[n++] = 255; /* q codes */
	memcpy(bytes + n, F, 16), n += 16;
	int32_t i = -7;
	memcpy(bytes + n, &i, 4), n += 4;
	bytes[n++] = 1, bytes[n++] = 0;
	uint16_t h[2] = {0x3C00, 0xC000}; /* 1.0, -2.0 */
	memcpy(bytes + n, h, 4), n += 4;
	char *p1 = tu_path(dir, "g1-shard1of2.bin"), *p2 = tu_path(dir, "g1-shard2of2.bin");
	tu_write(p1, bytes, 5); /* cut inside the float32 weight */
	tu_write(p2, bytes + 5, n - 5);
	char *mj = tu_path(dir, "model.json");
	tu_write_str(mj,
		"{\"format\":\"graph-model\",\"generatedBy\":\"test\",\"modelTopology\":{},"
		"\"weightsManifest\":[{\"paths\":[\"g1-shard1of2.bin\",\"g1-shard2of2.bin\"],"
		"\"weights\":["
		"{\"name\":\"q\",\"shape\":[3],\"dtype\":\"float32\",\"quantization\":"
		"{\"dtype\":\"uint8\",\"scale\":0.5,\"min\":-1}},"
		"{\"name\":\"w\",\"shape\":[2,2],\"dtype\":\"float32\"},"
		"{\"name\":\"i\",\"shape\":[],\"dtype\":\"int32\"},"
		"{\"name\":\"b\",\"shape\":[2],\"dtype\":\"bool\"},"
		"{\"name\":\"h\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":"
		"{\"dtype\":\"float16\",\"original_dtype\":\"float32\"}}]}]}");
	free(p1);
	free(p2);
	return mj;
}

static void decode_all(const struct mp_tensor *t, double *out)
{
	uint8_t scratch[64];
	mp_tensor_decode(t, mp_tensor_bytes(t, 0, t->nbytes, scratch),
			 (size_t)t->numel, out);
}

START_TEST(test_model_json)
{
	char *dir = tu_tmpdir(), *mj = write_model(dir);
	struct mp_model *m;
	struct mp_error err;
	ck_assert_msg(mp_model_open(mj, &m, &err) == MP_OK, "%s", err.msg);
	ck_assert_str_eq(m->format, "tfjs");
	ck_assert_uint_eq(m->ntensors, 5);
	ck_assert_uint_eq(m->nfiles, 2);
	double v[4];
	const struct mp_tensor *q = mp_model_find(m, "q");
	ck_assert_int_eq(q->stored, MP_U8);
	ck_assert_int_eq(q->logical, MP_F32);
	decode_all(q, v); /* code*0.5 - 1 */
	ck_assert_double_eq(v[0], -1.0);
	ck_assert_double_eq(v[1], -0.5);
	ck_assert_double_eq(v[2], 126.5);
	const struct mp_tensor *w = mp_model_find(m, "w");
	ck_assert_int_eq(w->nseg, 2); /* straddles the shards */
	ck_assert(w->output_last);
	ck_assert_uint_eq(w->shape[0], 2);
	decode_all(w, v);
	for (int k = 0; k < 4; k++)
		ck_assert_double_eq(v[k], F[k]);
	decode_all(mp_model_find(m, "i"), v);
	ck_assert_double_eq(v[0], -7.0);
	ck_assert_uint_eq(mp_model_find(m, "i")->ndim, 0);
	decode_all(mp_model_find(m, "b"), v);
	ck_assert(v[0] == 1.0 && v[1] == 0.0);
	decode_all(mp_model_find(m, "h"), v);
	ck_assert(v[0] == 1.0 && v[1] == -2.0);
	ck_assert_int_eq(m->nmeta, 2);
	mp_model_free(m);
	/* the directory holding model.json opens the same model */
	ck_assert(mp_model_open(dir, &m, &err) == MP_OK);
	ck_assert_uint_eq(m->ntensors, 5);
	mp_model_free(m);
	free(mj);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_bare_manifest)
{
	char *dir = tu_tmpdir(), *bin = tu_path(dir, "x.bin");
	tu_write(bin, F, 16);
	char *man = tu_path(dir, "x-weights_manifest.json");
	tu_write_str(man, "[{\"paths\":[\"x.bin\"],\"weights\":[{\"name\":\"a\","
			  "\"shape\":[4],\"dtype\":\"float32\"}]}]");
	struct mp_model *m;
	struct mp_error err;
	ck_assert_msg(mp_model_open(man, &m, &err) == MP_OK, "%s", err.msg);
	ck_assert_uint_eq(m->ntensors, 1);
	ck_assert_uint_eq(m->tensors[0].numel, 4);
	mp_model_free(m);
	free(bin);
	free(man);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Each broken manifest gives its status and names the file. */
static void expect(const char *json, const void *bin, size_t nbin,
		   mp_status want, const char *phrase)
{
	char *dir = tu_tmpdir(), *mj = tu_path(dir, "model.json");
	tu_write_str(mj, json);
	if (bin) {
		char *b = tu_path(dir, "w.bin");
		tu_write(b, bin, nbin);
		free(b);
	}
	struct mp_model *m = NULL;
	struct mp_error err;
	mp_status st = mp_model_open(mj, &m, &err);
	ck_assert_msg(st == want, "%s: got %d (%s), want %d", json, st,
		      st ? err.msg : "ok", want);
	ck_assert_msg(strstr(err.msg, mj) && strstr(err.msg, phrase),
		      "message '%s' lacks '%s'", err.msg, phrase);
	ck_assert_ptr_null(m);
	free(mj);
	tu_rmtree(dir);
	free(dir);
}

#define HEAD "{\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":["

START_TEST(test_errors)
{
	expect("{\"weightsManifest\": [", NULL, 0, MP_EJSON, "invalid JSON");
	expect(HEAD "{\"name\":\"a\",\"shape\":[4],\"dtype\":\"float32\"}]}]}",
	       NULL, 0, MP_ENOENT, "missing");
	expect(HEAD "{\"name\":\"a\",\"shape\":[4],\"dtype\":\"float32\"}]}]}",
	       F, 15, MP_ETRUNC, "truncated");
	expect(HEAD "{\"name\":\"a\",\"shape\":[3],\"dtype\":\"float32\"}]}]}",
	       F, 16, MP_EFORMAT, "4 unused");
	expect(HEAD "{\"name\":\"a\",\"shape\":[4],\"dtype\":\"string\"}]}]}",
	       F, 16, MP_EDTYPE, "string");
	expect(HEAD "{\"name\":\"a\",\"shape\":[4],\"dtype\":\"float32\","
		    "\"quantization\":{\"dtype\":\"int4\"}}]}]}",
	       F, 16, MP_EDTYPE, "int4");
	expect(HEAD "{\"name\":\"a\",\"shape\":[4294967296,4294967296,2],"
		    "\"dtype\":\"float32\"}]}]}",
	       F, 16, MP_ERANGE, "overflow");
	expect(HEAD "{\"name\":\"a\",\"shape\":[1],\"dtype\":\"float32\"},"
		    "{\"name\":\"a\",\"shape\":[3],\"dtype\":\"float32\"}]}]}",
	       F, 16, MP_EFORMAT, "twice");
	expect("{\"weightsManifest\":[{\"paths\":[\"../w.bin\"],\"weights\":[]}]}",
	       NULL, 0, MP_EFORMAT, "relative");
	expect("{\"weightsManifest\": 3}", NULL, 0, MP_EFORMAT, "weightsManifest");
	/* TF.js takes the last of two "paths": never pick one silently */
	expect("{\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":[{"
	       "\"name\":\"a\",\"shape\":[4],\"dtype\":\"float32\"}],"
	       "\"paths\":[\"x.bin\"]}]}",
	       F, 16, MP_EJSON,
	       "duplicate key 'paths' in the object at weightsManifest[0]");
	expect(HEAD "{\"name\":\"a\",\"shape\":[4],\"name\":\"b\","
		    "\"dtype\":\"float32\"}]}]}",
	       F, 16, MP_EJSON, "duplicate key 'name'");
	/* dtypes from the file are escaped (found by fuzz_tfjs) */
	expect(HEAD "{\"name\":\"a\",\"shape\":[4],\"dtype\":\"flo\\u001bat\"}]}]}",
	       F, 16, MP_EDTYPE, "dtype 'flo\\x1bat'");
	expect(HEAD "{\"name\":\"a\",\"shape\":[4],\"dtype\":\"float32\","
		    "\"quantization\":{\"dtype\":\"u\\u0016int8\"}}]}]}",
	       F, 16, MP_EDTYPE, "dtype 'u\\x16int8'");
}
END_TEST

Suite *suite_tfjs(void)
{
	Suite *s = suite_create("tfjs");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_model_json);
	tcase_add_test(tc, test_bare_manifest);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
