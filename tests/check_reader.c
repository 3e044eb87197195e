/* check_reader.c — mapped files, dtype decoding, the JSON layer and the
 * model container helpers. Expected values are worked out by hand. */
#include "check_suites.h"
#include "fingerprint.h"
#include "json.h"
#include "mapguard.h"
#include "metric.h"
#include "model.h"
#include "reader.h"
#include "testutil.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_file_range_checks)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "f.bin");
	tu_write(p, "abcdefgh", 8);
	struct mp_file f;
	struct mp_error err;
	ck_assert_int_eq(mp_file_open(&f, p, &err), MP_OK);
	ck_assert_uint_eq(f.size, 8);
	const uint8_t *b;
	ck_assert_int_eq(mp_file_range(&f, 2, 3, &b, &err), MP_OK);
	ck_assert(memcmp(b, "cde", 3) == 0);
	ck_assert_int_eq(mp_file_range(&f, 8, 0, &b, &err), MP_OK);
	ck_assert_int_eq(mp_file_range(&f, 6, 3, &b, &err), MP_ETRUNC);
	ck_assert_ptr_nonnull(strstr(err.msg, p));
	ck_assert_int_eq(mp_file_range(&f, UINT64_MAX - 1, 4, &b, &err), MP_ETRUNC);
	mp_file_close(&f);
	mp_file_close(&f); /* idempotent */
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Resident pages of this process, from /proc/self/statm. */
static long resident_pages(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	long size = 0, res = -1;
	if (fp) {
		if (fscanf(fp, "%ld %ld", &size, &res) != 2)
			res = -1;
		fclose(fp);
	}
	return res;
}

START_TEST(test_file_prefetch_release)
{
	/* 8 MB mapped but untouched: prefetching 4 MB of it makes at least
	 * 3 MB resident (where the kernel has MADV_POPULATE_READ), releasing
	 * it gives them back; out-of-range requests are no-ops. */
	size_t n = 8u << 20;
	char *dir = tu_tmpdir(), *p = tu_path(dir, "big.bin");
	char *buf = calloc(n, 1);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i += 4096)
		buf[i] = (char)(i >> 12);
	tu_write(p, buf, n);
	free(buf);
	struct mp_file f;
	struct mp_error err;
	ck_assert_int_eq(mp_file_open(&f, p, &err), MP_OK);
	long page = sysconf(_SC_PAGESIZE), r0 = resident_pages();
	ck_assert_int_ge(r0, 0);
	bool populate = false;
#ifdef MADV_POPULATE_READ
	populate = madvise((void *)f.data, (size_t)page,
			   MADV_POPULATE_READ) == 0;
#endif
	mp_file_prefetch(&f, 1u << 20, 4u << 20);
	long r1 = resident_pages();
	if (populate)
		ck_assert_int_ge((r1 - r0) * page, 3 << 20);
	mp_file_release(&f, 0, n);
	ck_assert_int_lt((resident_pages() - r0) * page, 1 << 20);
	mp_file_prefetch(&f, n, 1);
	mp_file_prefetch(&f, n - 10, UINT64_MAX);
	mp_file_prefetch(&f, UINT64_MAX, UINT64_MAX);
	mp_file_release(&f, 0, n);
	ck_assert_uint_eq(f.data[n - 4096], (uint8_t)((n - 4096) >> 12));
	mp_file_close(&f);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_file_open_errors)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "missing");
	struct mp_file f;
	struct mp_error err;
	ck_assert_int_eq(mp_file_open(&f, p, &err), MP_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, p));
	ck_assert_int_eq(mp_file_open(&f, dir, &err), MP_EINVAL);
	char *e = tu_path(dir, "empty");
	tu_write(e, "", 0);
	ck_assert_int_eq(mp_file_open(&f, e, &err), MP_OK);
	ck_assert_uint_eq(f.size, 0);
	const uint8_t *b;
	ck_assert_int_eq(mp_file_range(&f, 0, 1, &b, &err), MP_ETRUNC);
	mp_file_close(&f);
	free(p);
	free(e);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_dtype_decoding)
{
	/* F16: 0x3C00 = 1, 0xC000 = -2, 0x0001 = 2^-24, 0x7BFF = 65504 */
	ck_assert_double_eq(mp_dtype_decode16(MP_F16, 0x3C00), 1.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_F16, 0xC000), -2.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_F16, 0x0001), ldexp(1, -24));
	ck_assert_double_eq(mp_dtype_decode16(MP_F16, 0x7BFF), 65504.0);
	ck_assert(isinf(mp_dtype_decode16(MP_F16, 0x7C00)));
	ck_assert(isnan(mp_dtype_decode16(MP_F16, 0x7E00)));
	/* BF16: upper half of a float32 */
	ck_assert_double_eq(mp_dtype_decode16(MP_BF16, 0x3F80), 1.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_BF16, 0xC0A0), -5.0);
	/* E4M3fn: 0x38 = 1, 0x7E = 448 (max), 0x01 = 2^-9, 0x7F NaN, 0xB8 = -1 */
	ck_assert_double_eq(mp_dtype_decode16(MP_F8_E4M3, 0x38), 1.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_F8_E4M3, 0x7E), 448.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_F8_E4M3, 0x01), ldexp(1, -9));
	ck_assert(isnan(mp_dtype_decode16(MP_F8_E4M3, 0x7F)));
	ck_assert_double_eq(mp_dtype_decode16(MP_F8_E4M3, 0xB8), -1.0);
	/* E5M2: 0x3C = 1, 0x7B = 57344 (max), 0x7C inf, 0x01 = 2^-16 */
	ck_assert_double_eq(mp_dtype_decode16(MP_F8_E5M2, 0x3C), 1.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_F8_E5M2, 0x7B), 57344.0);
	ck_assert(isinf(mp_dtype_decode16(MP_F8_E5M2, 0x7C)));
	ck_assert_double_eq(mp_dtype_decode16(MP_F8_E5M2, 0x01), ldexp(1, -16));
	ck_assert_double_eq(mp_dtype_decode16(MP_I8, 0xFF), -1.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_U8, 0xFF), 255.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_I16, 0x8000), -32768.0);
	ck_assert_double_eq(mp_dtype_decode16(MP_BOOL, 0x02), 1.0);

	/* wide types, unaligned source */
	uint8_t buf[1 + 8] = {0};
	const uint8_t f32_m1_5[4] = {0x00, 0x00, 0xC0, 0xBF}; /* -1.5f */
	memcpy(buf + 1, f32_m1_5, 4);
	double out[1];
	mp_dtype_to_double(MP_F32, buf + 1, 1, out);
	ck_assert_double_eq(out[0], -1.5);
	const uint8_t i64_m2[8] = {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	memcpy(buf + 1, i64_m2, 8);
	mp_dtype_to_double(MP_I64, buf + 1, 1, out);
	ck_assert_double_eq(out[0], -2.0);
	const uint8_t f64_pi[8] = {0x18, 0x2D, 0x44, 0x54, 0xFB, 0x21, 0x09, 0x40};
	memcpy(buf + 1, f64_pi, 8);
	mp_dtype_to_double(MP_F64, buf + 1, 1, out);
	ck_assert_double_eq(out[0], 3.141592653589793);

	ck_assert_int_eq(mp_dtype_parse("BF16"), MP_BF16);
	ck_assert_int_eq(mp_dtype_parse("bf16"), -1);
	ck_assert_uint_eq(mp_dtype_size(MP_F8_E5M2), 1);
	ck_assert(mp_dtype_is_float(MP_F8_E4M3));
	ck_assert(!mp_dtype_is_float(MP_BOOL));
}
END_TEST

START_TEST(test_json_layer)
{
	mp_json *j;
	struct mp_error err;
	ck_assert_int_eq(mp_json_parse("{\"a\": [1, 2", 11, "x.json", &j, &err), MP_EJSON);
	ck_assert_ptr_nonnull(strstr(err.msg, "x.json"));
	const char *txt = "{\"a\":[1,2.5,\"s\"],\"n\":9007199254740993}";
	ck_assert_int_eq(mp_json_parse(txt, strlen(txt), "t", &j, &err), MP_OK);
	mp_json *a = mp_json_get(j, "a");
	ck_assert_uint_eq(mp_json_size(a), 3);
	ck_assert_double_eq(mp_json_num(mp_json_at(a, 1)), 2.5);
	ck_assert_str_eq(mp_json_str(mp_json_at(a, 2)), "s");
	uint64_t u;
	ck_assert(mp_json_uint(mp_json_at(a, 0), &u) && u == 1);
	ck_assert(!mp_json_uint(mp_json_at(a, 1), &u));
	ck_assert(!mp_json_uint(mp_json_get(j, "n"), &u)); /* beyond 2^53 */
	ck_assert_ptr_null(mp_json_get(a, "x"));
	mp_json_free(j);

	/* numbers survive a round trip bit for bit; non-finite become null */
	mp_json *o = mp_json_object();
	mp_json_add_num(o, "third", 1.0 / 3.0);
	mp_json_add_num(o, "nan", NAN);
	char *s = mp_json_print(o, false);
	mp_json_free(o);
	ck_assert_int_eq(mp_json_parse(s, strlen(s), "t", &j, &err), MP_OK);
	ck_assert_double_eq(mp_json_num(mp_json_get(j, "third")), 1.0 / 3.0);
	ck_assert(mp_json_is_null(mp_json_get(j, "nan")));
	ck_assert_ptr_nonnull(strstr(s, "\"nan\":null"));
	free(s);
	mp_json_free(j);
}
END_TEST

/* A key twice in one object is an error naming the key and the object,
 * however deep and however large the object (sorted, not quadratic). */
START_TEST(test_json_duplicate_keys)
{
	mp_json *j = NULL;
	struct mp_error err;
	const char *top = "{\"a\":1,\"b\":2,\"a\":3}";
	ck_assert_int_eq(mp_json_parse(top, strlen(top), "x.json", &j, &err),
			 MP_EJSON);
	ck_assert_ptr_null(j);
	ck_assert_str_eq(err.msg, "x.json: duplicate key 'a' in the object at "
				  "the top level");
	const char *deep = "{\"m\":[{\"paths\":[\"a\"]},{\"paths\":[\"a\"],"
			   "\"w\":[],\"paths\":[\"b\"]}]}";
	ck_assert_int_eq(mp_json_parse(deep, strlen(deep), "y.json", &j, &err),
			 MP_EJSON);
	ck_assert_str_eq(err.msg, "y.json: duplicate key 'paths' in the object "
				  "at m[1]");
	/* same keys in sibling objects, and equal strings as values: fine */
	const char *ok = "{\"p\":{\"a\":\"a\"},\"q\":{\"a\":\"a\"}}";
	ck_assert_int_eq(mp_json_parse(ok, strlen(ok), "z", &j, &err), MP_OK);
	mp_json_free(j);
	/* 100,000 distinct keys, then one of them again */
	size_t n = 100000, cap = n * 12 + 32, len = 0;
	char *big = malloc(cap);
	ck_assert_ptr_nonnull(big);
	big[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(big + len, cap - len, "\"k%zu\":0,", i);
	len += (size_t)snprintf(big + len, cap - len, "\"k77\":1}");
	ck_assert_int_eq(mp_json_parse(big, len, "big", &j, &err), MP_EJSON);
	ck_assert_str_eq(err.msg, "big: duplicate key 'k77' in the object at "
				  "the top level");
	big[len - 9] = '}'; /* drop the repeat: the ',' before it ends it */
	ck_assert_int_eq(mp_json_parse(big, len - 8, "big", &j, &err), MP_OK);
	ck_assert_uint_eq(mp_json_size(j), n);
	mp_json_free(j);
	free(big);
}
END_TEST

START_TEST(test_tensor_shape_and_segments)
{
	struct mp_tensor t;
	memset(&t, 0, sizeof t);
	t.name = "w";
	t.stored = MP_F32;
	struct mp_error err;
	uint64_t ok[2] = {3, 5};
	ck_assert_int_eq(mp_tensor_set_shape(&t, 2, ok, "f", &err), MP_OK);
	ck_assert_uint_eq(t.numel, 15);
	ck_assert_uint_eq(t.nbytes, 60);
	uint64_t huge[3] = {1ULL << 32, 1ULL << 32, 2};
	ck_assert_int_eq(mp_tensor_set_shape(&t, 3, huge, "f", &err), MP_ERANGE);
	uint64_t bytes_overflow[1] = {1ULL << 63};
	ck_assert_int_eq(mp_tensor_set_shape(&t, 1, bytes_overflow, "f", &err), MP_ERANGE);
	ck_assert_int_eq(mp_tensor_set_shape(&t, 9, ok, "f", &err), MP_ERANGE);

	/* three segments: "ab" "cde" "f" */
	uint8_t s0[] = "ab", s1[] = "cde", s2[] = "f", scratch[8];
	const struct mp_seg three[3] = {{s0, 2}, {s1, 3}, {s2, 1}};
	ck_assert_int_eq(mp_tensor_set_segs(&t, three, 3, "f", &err), MP_OK);
	ck_assert_ptr_ne(mp_tensor_segs(&t), three); /* a copy */
	ck_assert_int_eq(mp_tensor_set_segs(&t, three, 0, "f", &err), MP_ERANGE);
	ck_assert_int_eq(mp_tensor_set_segs(&t, three, 3, "f", &err), MP_OK);
	const uint8_t *p = mp_tensor_bytes(&t, 2, 3, scratch);
	ck_assert_ptr_eq(p, s1); /* inside one segment: borrowed */
	p = mp_tensor_bytes(&t, 1, 5, scratch);
	ck_assert_ptr_eq(p, scratch);
	ck_assert(memcmp(p, "bcdef", 5) == 0);
	p = mp_tensor_bytes(&t, 0, 6, scratch);
	ck_assert(memcmp(p, "abcdef", 6) == 0);
	/* one segment is kept inline */
	ck_assert_int_eq(mp_tensor_set_segs(&t, three + 1, 1, "f", &err), MP_OK);
	ck_assert_ptr_eq(mp_tensor_segs(&t), &t.seg1);
	ck_assert_ptr_null(t.segs);
	ck_assert_ptr_eq(mp_tensor_bytes(&t, 1, 2, scratch), s1 + 1);
	mp_tensor_done(&t);
}
END_TEST

START_TEST(test_affine_dequantisation_rounds_to_float32)
{
	struct mp_tensor t;
	memset(&t, 0, sizeof t);
	t.stored = MP_U8;
	t.logical = MP_F32;
	t.quant = (struct mp_quant){MP_QUANT_AFFINE, 0.1, 0.3};
	uint8_t codes[3] = {0, 3, 255};
	double v[3];
	mp_tensor_decode(&t, codes, 3, v);
	/* TF.js: Float32Array element = fround(code * scale + min) */
	ck_assert_double_eq(v[0], (double)(float)0.3);
	ck_assert_double_eq(v[1], (double)(float)(3 * 0.1 + 0.3));
	ck_assert_double_eq(v[2], (double)(float)(255 * 0.1 + 0.3));
	ck_assert(v[1] != 3 * 0.1 + 0.3); /* the rounding is really applied */
	t.logical = MP_I32;
	t.quant = (struct mp_quant){MP_QUANT_AFFINE, 0.5, -1};
	mp_tensor_decode(&t, codes, 3, v);
	ck_assert_double_eq(v[0], -1.0);
	ck_assert_double_eq(v[1], 1.0); /* Math.round(0.5) = 1 */
	ck_assert_double_eq(v[2], 127.0); /* Math.round(126.5) = 127 */
	t.quant = (struct mp_quant){MP_QUANT_AFFINE, 1.0, -3.5};
	mp_tensor_decode(&t, codes, 1, v);
	ck_assert_double_eq(v[0], -3.0); /* Math.round(-3.5) = -3, not -4 */
}
END_TEST

/* A TF.js model whose shard is a symlink to a file outside its directory,
 * a safetensors directory whose shard is one, and an index naming one: each
 * is refused, naming the model file, the shard, its target and the model
 * directory. A symlink that stays inside is followed. */
START_TEST(test_named_files_stay_inside)
{
	char *dir = tu_tmpdir(), *md = tu_path(dir, "m");
	char *secret = tu_path(dir, "secret.bin");
	ck_assert_int_eq(mkdir(md, 0777), 0);
	tu_write(secret, "\x00\x00\x80\x3f", 4); /* float32 1.0 */
	char *real_secret = realpath(secret, NULL), *real_md = realpath(md, NULL);
	char *json = tu_path(md, "model.json"), *x = tu_path(md, "x.bin");
	tu_write_str(json, "{\"weightsManifest\":[{\"paths\":[\"x.bin\"],"
			   "\"weights\":[{\"name\":\"w\",\"shape\":[1],"
			   "\"dtype\":\"float32\"}]}]}");
	ck_assert_int_eq(symlink("../secret.bin", x), 0);
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(json, &m, &err), MP_EPERM);
	char want[4096];
	snprintf(want, sizeof want,
		 "%s: shard 'x.bin' resolves to '%s', outside the model "
		 "directory '%s'",
		 json, real_secret, real_md);
	ck_assert_str_eq(err.msg, want);
	/* the same model through its directory */
	ck_assert_int_eq(mp_model_open(md, &m, &err), MP_EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "outside the model directory"));
	/* a symlink inside the directory is fine */
	char *y = tu_path(md, "y.bin");
	tu_write(y, "\x00\x00\x80\x3f", 4);
	ck_assert_int_eq(unlink(x), 0);
	ck_assert_int_eq(symlink("y.bin", x), 0);
	ck_assert_int_eq(mp_model_open(json, &m, &err), MP_OK);
	ck_assert_uint_eq(m->ntensors, 1);
	mp_model_free(m);

	/* a directory of safetensors shards, one a symlink outside */
	char *sd = tu_path(dir, "s"), *s1 = tu_path(sd, "a.safetensors");
	char *s2 = tu_path(sd, "b.safetensors"), *out = tu_path(dir, "o.safetensors");
	ck_assert_int_eq(mkdir(sd, 0777), 0);
	float one = 1;
	struct tu_tensor ta = {"a", "F32", 1, {1}, &one, 4};
	struct tu_tensor tb = {"b", "F32", 1, {1}, &one, 4};
	tu_write_safetensors(s1, &ta, 1, NULL);
	tu_write_safetensors(out, &tb, 1, NULL);
	ck_assert_int_eq(symlink(out, s2), 0);
	ck_assert_int_eq(mp_model_open(sd, &m, &err), MP_EPERM);
	char *real_out = realpath(out, NULL), *real_sd = realpath(sd, NULL);
	snprintf(want, sizeof want,
		 "%s: shard 'b.safetensors' resolves to '%s', outside the model "
		 "directory '%s'",
		 sd, real_out, real_sd);
	ck_assert_str_eq(err.msg, want);
	/* the user may name the outside file directly, or through the link */
	ck_assert_int_eq(mp_model_open(s2, &m, &err), MP_OK);
	mp_model_free(m);

	/* an index whose weight_map names the outside shard */
	ck_assert_int_eq(unlink(s1), 0);
	char *idx = tu_path(sd, "model.safetensors.index.json");
	tu_write_str(idx, "{\"weight_map\":{\"b\":\"b.safetensors\"}}");
	ck_assert_int_eq(mp_model_open(idx, &m, &err), MP_EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "shard 'b.safetensors' resolves to"));
	ck_assert_ptr_nonnull(strstr(err.msg, idx));
	free(real_out), free(real_sd), free(idx), free(sd), free(s1), free(s2);
	free(out), free(y), free(x), free(json), free(real_secret);
	free(real_md), free(secret), free(md);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Named pipes are refused at once, never opened for a blocking read: as a
 * mapped file, a text file, a model file, a shard and a directory's
 * model.json. (A regression blocks in open(): the test times out.) */
START_TEST(test_fifo_refused)
{
	char *dir = tu_tmpdir(), *fifo = tu_path(dir, "p.safetensors");
	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	struct mp_file f;
	struct mp_error err;
	char want[4096];
	snprintf(want, sizeof want, "%s: not a regular file (a FIFO)", fifo);
	ck_assert_int_eq(mp_file_open(&f, fifo, &err), MP_EINVAL);
	ck_assert_str_eq(err.msg, want);
	char *text;
	ck_assert_int_eq(mp_read_text(fifo, 100, &text, NULL, &err), MP_EINVAL);
	ck_assert_str_eq(err.msg, want);
	struct mp_model *m;
	ck_assert_int_eq(mp_model_open(fifo, &m, &err), MP_EINVAL);
	ck_assert_str_eq(err.msg, want);
	/* a directory whose model.json is a FIFO */
	char *md = tu_path(dir, "m"), *json = tu_path(md, "model.json");
	ck_assert_int_eq(mkdir(md, 0777), 0);
	ck_assert_int_eq(mkfifo(json, 0666), 0);
	ck_assert_int_eq(mp_model_open(md, &m, &err), MP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file (a FIFO)"));
	/* a TF.js shard that is a FIFO */
	char *x = tu_path(md, "x.bin");
	ck_assert_int_eq(unlink(json), 0);
	tu_write_str(json, "{\"weightsManifest\":[{\"paths\":[\"x.bin\"],"
			   "\"weights\":[]}]}");
	ck_assert_int_eq(mkfifo(x, 0666), 0);
	ck_assert_int_eq(mp_model_open(json, &m, &err), MP_EINVAL);
	snprintf(want, sizeof want, "%s: not a regular file (a FIFO)", x);
	ck_assert_str_eq(err.msg, want);
	free(x), free(json), free(md), free(fifo);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A model whose file is truncated after it was mapped: every reader of
 * its bytes fails with MP_EIO naming the file instead of dying of SIGBUS
 * (a regression kills the forked test). */
START_TEST(test_truncated_while_mapped)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "m.safetensors");
	char *q = tu_path(dir, "n.safetensors");
	enum { N = 512 * 512 };
	float *v = malloc(N * sizeof *v);
	ck_assert_ptr_nonnull(v);
	for (int i = 0; i < N; i++)
		v[i] = (float)(i % 97) - 48;
	struct tu_tensor t = {"w", "F32", 2, {512, 512}, v, N * sizeof *v};
	tu_write_safetensors(p, &t, 1, NULL);
	tu_write_safetensors(q, &t, 1, NULL);
	struct mp_model *m, *n;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(p, &m, &err), MP_OK);
	ck_assert_int_eq(mp_model_open(q, &n, &err), MP_OK);
	ck_assert_int_eq(truncate(p, 0), 0);
	char want[4096];
	snprintf(want, sizeof want, "%s changed size while being read", p);
	static const char *const methods[] = {"tensors", "spectral"};
	for (int k = 0; k < 2; k++)
		for (int threads = 1; threads <= 2; threads++) {
			struct mp_fingerprint *fp;
			ck_assert_int_eq(mp_fp_compute(m, methods[k], NULL, threads,
						       NULL, &fp, &err),
					 MP_EIO);
			ck_assert_ptr_nonnull(strstr(err.msg, want));
		}
	char hex[MP_SHA256_HEX];
	ck_assert_int_eq(mp_fp_hash_file(&m->files[0], hex, &err), MP_EIO);
	ck_assert_str_eq(err.msg, want);
	struct mp_exact_pair *pairs;
	size_t np;
	struct mp_score c, r;
	ck_assert_int_eq(mp_metric_exact(n, m, &pairs, &np, &c, &r, &err), MP_EIO);
	ck_assert_str_eq(err.msg, want);
	uint8_t b[16];
	const void *fault;
	ck_assert(!mp_mapguard_copy(b, m->files[0].data + 4096, 16, &fault));
	ck_assert_ptr_eq(fault, m->files[0].data + 4096);
	ck_assert_str_eq(mp_mapguard_file(fault, m->files, m->nfiles), p);
	/* outside a guard the fault goes to the previous handler: the default
	 * action (death by SIGBUS), or a sanitizer's report and exit */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2); /* no sanitizer report in the log */
		volatile uint8_t x = m->files[0].data[8192];
		(void)x;
		_exit(0);
	}
	int ws;
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	ck_assert((WIFSIGNALED(ws) && WTERMSIG(ws) == SIGBUS) ||
		  (WIFEXITED(ws) && WEXITSTATUS(ws) != 0));
	mp_model_free(m);
	mp_model_free(n);
	free(v), free(p), free(q);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *suite_reader(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_file_range_checks);
	tcase_add_test(tc, test_file_open_errors);
	tcase_add_test(tc, test_file_prefetch_release);
	tcase_add_test(tc, test_dtype_decoding);
	tcase_add_test(tc, test_json_layer);
	tcase_add_test(tc, test_json_duplicate_keys);
	tcase_add_test(tc, test_tensor_shape_and_segments);
	tcase_add_test(tc, test_affine_dequantisation_rounds_to_float32);
	tcase_add_test(tc, test_named_files_stay_inside);
	tcase_add_test(tc, test_fifo_refused);
	tcase_add_test(tc, test_truncated_while_mapped);
	suite_add_tcase(s, tc);
	return s;
}
