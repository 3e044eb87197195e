/* check_safetensors.c — the safetensors reader: every dtype, metadata,
 * shards (index and directory), ordering, and every malformed-file error.
 * Expected values are worked out by hand or from the bytes the test wrote. */
#include "check_suites.h"
#include "model.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Hand-written expectations for every dtype. */
static const struct {
	const char *name;
	enum mp_dtype dt;
	unsigned size;
} dtypes[] = {
	{"F64", MP_F64, 8},	      {"F32", MP_F32, 4},
	{"F16", MP_F16, 2},	      {"BF16", MP_BF16, 2},
	{"F8_E4M3", MP_F8_E4M3, 1}, {"F8_E5M2", MP_F8_E5M2, 1},
	{"I64", MP_I64, 8},	      {"I32", MP_I32, 4},
	{"I16", MP_I16, 2},	      {"I8", MP_I8, 1},
	{"U64", MP_U64, 8},	      {"U32", MP_U32, 4},
	{"U16", MP_U16, 2},	      {"U8", MP_U8, 1},
	{"BOOL", MP_BOOL, 1},
};
#define NDT (sizeof dtypes / sizeof dtypes[0])

/* Write 8-byte length, hdr verbatim, then data_len bytes 0, 1, 2, ... */
static void write_raw(const char *path, const char *hdr, size_t data_len)
{
	size_t n = strlen(hdr);
	uint8_t *b = malloc(8 + n + data_len + 1);
	ck_assert_ptr_nonnull(b);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)n >> (8 * i));
	memcpy(b + 8, hdr, n);
	for (size_t i = 0; i < data_len; i++)
		b[8 + n + i] = (uint8_t)i;
	tu_write(path, b, 8 + n + data_len);
	free(b);
}

/* Header length as stored in the first 8 bytes of a file. */
static uint64_t file_header_len(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	uint8_t b[8];
	ck_assert_uint_eq(fread(b, 1, 8, f), 8);
	fclose(f);
	uint64_t n = 0;
	for (int i = 0; i < 8; i++)
		n |= (uint64_t)b[i] << (8 * i);
	return n;
}

static const char *meta_get(const struct mp_model *m, const char *key)
{
	for (size_t i = 0; i < m->nmeta; i++)
		if (strcmp(m->meta[i].key, key) == 0)
			return m->meta[i].value;
	return NULL;
}

START_TEST(test_every_dtype)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "all.safetensors");
	struct tu_tensor t[NDT];
	uint8_t *data[NDT];
	for (size_t i = 0; i < NDT; i++) {
		size_t nb = 6 * dtypes[i].size;
		data[i] = malloc(nb);
		for (size_t k = 0; k < nb; k++)
			data[i][k] = (uint8_t)(k * 37 + i * 11 + 5);
		t[i] = (struct tu_tensor){dtypes[i].name, dtypes[i].name, 2,
					  {2, 3}, data[i], nb};
	}
	tu_write_safetensors(p, t, (int)NDT, NULL);
	uint64_t hlen = file_header_len(p);

	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(p, &m, &err), MP_OK);
	ck_assert_str_eq(m->format, "safetensors");
	ck_assert_uint_eq(m->nfiles, 1);
	ck_assert_uint_eq(m->ntensors, NDT);
	ck_assert_uint_eq(m->nmeta, 0);
	uint64_t off = 0;
	for (size_t i = 0; i < NDT; i++) {
		const struct mp_tensor *x = &m->tensors[i];
		ck_assert_str_eq(x->name, dtypes[i].name); /* offset order */
		ck_assert_int_eq(x->stored, dtypes[i].dt);
		ck_assert_int_eq(x->logical, dtypes[i].dt);
		ck_assert_int_eq(x->quant.kind, MP_QUANT_NONE);
		ck_assert_int_eq(x->ndim, 2);
		ck_assert_uint_eq(x->shape[0], 2);
		ck_assert_uint_eq(x->shape[1], 3);
		ck_assert_uint_eq(x->numel, 6);
		ck_assert_uint_eq(x->nbytes, 6 * dtypes[i].size);
		ck_assert_int_eq(x->nseg, 1);
		ck_assert_uint_eq(x->seg1.len, x->nbytes);
		ck_assert_int_eq(x->file_index, 0);
		ck_assert_uint_eq(x->offset, 8 + hlen + off);
		ck_assert(!x->output_last);
		ck_assert_ptr_eq(x->seg1.data, m->files[0].data + x->offset);
		ck_assert(memcmp(x->seg1.data, data[i], x->nbytes) == 0);
		ck_assert_ptr_eq(mp_model_find(m, dtypes[i].name), x);
		off += 6 * dtypes[i].size;
	}
	ck_assert_uint_eq(m->files[0].size, 8 + hlen + off);
	mp_model_free(m);
	for (size_t i = 0; i < NDT; i++)
		free(data[i]);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_decoded_values)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "v.safetensors");
	const uint8_t bf16[] = {0x80, 0x3F, 0xA0, 0xC0}; /* 1, -5 */
	const uint8_t f16[] = {0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38}; /* 1,-2,.5 */
	const uint8_t e4m3[] = {0x38, 0xB8, 0x7E}; /* 1, -1, 448 */
	const uint8_t e5m2[] = {0x3C, 0x7B};	   /* 1, 57344 */
	const uint8_t f32[] = {0x00, 0x00, 0xC0, 0xBF}; /* -1.5 */
	const uint8_t f64[] = {0, 0, 0, 0, 0, 0, 0x04, 0x40}; /* 2.5 */
	const uint8_t i16[] = {0x00, 0x80, 0xFF, 0x7F}; /* -32768, 32767 */
	const uint8_t i64[] = {0xFE, 0xFF, 0xFF, 0xFF,
			       0xFF, 0xFF, 0xFF, 0xFF}; /* -2 */
	const uint8_t u8[] = {0xFF, 0x00};		/* 255, 0 */
	const uint8_t i8[] = {0xFF, 0x80};		/* -1, -128 */
	const uint8_t bools[] = {0x00, 0x01};
	struct tu_tensor t[] = {
		{"bf16", "BF16", 1, {2}, bf16, sizeof bf16},
		{"f16", "F16", 1, {3}, f16, sizeof f16},
		{"e4m3", "F8_E4M3", 1, {3}, e4m3, sizeof e4m3},
		{"e5m2", "F8_E5M2", 1, {2}, e5m2, sizeof e5m2},
		{"f32", "F32", 0, {0}, f32, sizeof f32},
		{"f64", "F64", 1, {1}, f64, sizeof f64},
		{"i16", "I16", 1, {2}, i16, sizeof i16},
		{"i64", "I64", 1, {1}, i64, sizeof i64},
		{"u8", "U8", 1, {2}, u8, sizeof u8},
		{"i8", "I8", 1, {2}, i8, sizeof i8},
		{"b", "BOOL", 1, {2}, bools, sizeof bools},
	};
	static const double want[][3] = {
		{1, -5}, {1, -2, 0.5}, {1, -1, 448}, {1, 57344}, {-1.5},
		{2.5},	 {-32768, 32767}, {-2},	   {255, 0},   {-1, -128},
		{0, 1},
	};
	int n = (int)(sizeof t / sizeof t[0]);
	tu_write_safetensors(p, t, n, NULL);
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(p, &m, &err), MP_OK);
	ck_assert_uint_eq(m->ntensors, (size_t)n);
	for (int i = 0; i < n; i++) {
		const struct mp_tensor *x = mp_model_find(m, t[i].name);
		ck_assert_ptr_nonnull(x);
		ck_assert_uint_eq(x->ndim, t[i].ndim);
		double out[3];
		mp_tensor_decode(x, x->seg1.data, (size_t)x->numel, out);
		for (uint64_t k = 0; k < x->numel; k++)
			ck_assert_double_eq(out[k], want[i][k]);
		mp_dtype_to_double(x->stored, x->seg1.data, 1, out);
		ck_assert_double_eq(out[0], want[i][0]);
	}
	/* scalar: shape [] has one element */
	const struct mp_tensor *s = mp_model_find(m, "f32");
	ck_assert_uint_eq(s->numel, 1);
	ck_assert_uint_eq(s->nbytes, 4);
	mp_model_free(m);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_metadata_and_zero_size)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "m.safetensors");
	const float w[2] = {1.0f, 2.0f};
	struct tu_tensor t[] = {
		{"empty", "F32", 2, {0, 4}, NULL, 0},
		{"w", "F32", 1, {2}, w, sizeof w},
		{"empty2", "I8", 1, {0}, NULL, 0},
	};
	tu_write_safetensors(p, t, 3, "\"format\":\"pt\",\"author\":\"x y\"");
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(p, &m, &err), MP_OK);
	ck_assert_uint_eq(m->nmeta, 2);
	ck_assert_str_eq(meta_get(m, "format"), "pt");
	ck_assert_str_eq(meta_get(m, "author"), "x y");
	ck_assert_uint_eq(m->ntensors, 3);
	/* offsets: empty [0,0], w [0,8], empty2 [8,8]; ties keep header order */
	ck_assert_str_eq(m->tensors[0].name, "empty");
	ck_assert_str_eq(m->tensors[1].name, "w");
	ck_assert_str_eq(m->tensors[2].name, "empty2");
	const struct mp_tensor *e = &m->tensors[0];
	ck_assert_int_eq(e->ndim, 2);
	ck_assert_uint_eq(e->shape[0], 0);
	ck_assert_uint_eq(e->shape[1], 4);
	ck_assert_uint_eq(e->numel, 0);
	ck_assert_uint_eq(e->nbytes, 0);
	ck_assert_int_eq(e->nseg, 1);
	ck_assert_uint_eq(e->seg1.len, 0);
	ck_assert_uint_eq(m->tensors[2].offset, m->files[0].size);
	ck_assert(memcmp(m->tensors[1].seg1.data, w, 8) == 0);
	mp_model_free(m);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Header order differs from offset order; gaps are allowed; the file is
 * recognised by its magic without the extension. */
START_TEST(test_offset_order_and_magic)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "weights.bin");
	const char *hdr = "{\"c\":{\"dtype\":\"U8\",\"shape\":[2],"
			  "\"data_offsets\":[10,12]},"
			  "\"a\":{\"dtype\":\"U8\",\"shape\":[4],"
			  "\"data_offsets\":[4,8]},"
			  "\"b\":{\"dtype\":\"U16\",\"shape\":[2],"
			  "\"data_offsets\":[0,4]}}";
	write_raw(p, hdr, 12);
	ck_assert(mp_fmt_safetensors.probe(p));
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(p, &m, &err), MP_OK);
	ck_assert_uint_eq(m->ntensors, 3);
	ck_assert_str_eq(m->tensors[0].name, "b");
	ck_assert_str_eq(m->tensors[1].name, "a");
	ck_assert_str_eq(m->tensors[2].name, "c");
	uint64_t base = 8 + strlen(hdr);
	ck_assert_uint_eq(m->tensors[2].offset, base + 10);
	/* data byte k is k: c holds bytes 10, 11 */
	ck_assert_uint_eq(m->tensors[2].seg1.data[0], 10);
	ck_assert_uint_eq(m->tensors[2].seg1.data[1], 11);
	double v[2];
	mp_tensor_decode(&m->tensors[0], m->tensors[0].seg1.data, 2, v);
	ck_assert_double_eq(v[0], 0x0100); /* bytes 00 01 */
	ck_assert_double_eq(v[1], 0x0302); /* bytes 02 03 */
	mp_model_free(m);

	char *q = tu_path(dir, "plain.bin");
	tu_write_str(q, "hello world, not a model");
	ck_assert(!mp_fmt_safetensors.probe(q));
	char *sub = tu_path(dir, "nothing");
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert(!mp_fmt_safetensors.probe(sub));
	ck_assert_int_eq(mp_model_open(sub, &m, &err), MP_EFORMAT);
	free(sub);
	free(q);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Two shards: a holds x (F32[2]) and y (I8[3]), b holds z (BF16[1]). */
static void write_shards(const char *dir, const char *na, const char *nb)
{
	static const float x[2] = {0.5f, -0.25f};
	static const int8_t y[3] = {-3, 0, 7};
	static const uint8_t z[2] = {0x80, 0x3F};
	struct tu_tensor ta[] = {{"x", "F32", 1, {2}, x, sizeof x},
				 {"y", "I8", 1, {3}, y, sizeof y}};
	struct tu_tensor tb[] = {{"z", "BF16", 1, {1}, z, sizeof z}};
	char *pa = tu_path(dir, na), *pb = tu_path(dir, nb);
	tu_write_safetensors(pa, ta, 2, "\"format\":\"pt\"");
	tu_write_safetensors(pb, tb, 1, "\"format\":\"pt\"");
	free(pa);
	free(pb);
}

static void check_sharded(const struct mp_model *m, const char *dir,
			  const char *first, const char *second)
{
	ck_assert_uint_eq(m->nfiles, 2);
	ck_assert_uint_eq(m->ntensors, 3);
	char *pa = tu_path(dir, first), *pb = tu_path(dir, second);
	ck_assert_str_eq(m->files[0].path, pa);
	ck_assert_str_eq(m->files[1].path, pb);
	ck_assert_str_eq(m->tensors[0].name, "x");
	ck_assert_str_eq(m->tensors[1].name, "y");
	ck_assert_str_eq(m->tensors[2].name, "z");
	ck_assert_int_eq(m->tensors[0].file_index, 0);
	ck_assert_int_eq(m->tensors[1].file_index, 0);
	ck_assert_int_eq(m->tensors[2].file_index, 1);
	double v[3];
	mp_tensor_decode(&m->tensors[0], m->tensors[0].seg1.data, 2, v);
	ck_assert_double_eq(v[0], 0.5);
	ck_assert_double_eq(v[1], -0.25);
	mp_tensor_decode(&m->tensors[1], m->tensors[1].seg1.data, 3, v);
	ck_assert_double_eq(v[0], -3);
	ck_assert_double_eq(v[2], 7);
	mp_tensor_decode(&m->tensors[2], m->tensors[2].seg1.data, 1, v);
	ck_assert_double_eq(v[0], 1.0);
	ck_assert_uint_eq(m->tensors[2].offset,
			  8 + file_header_len(pb));
	ck_assert_str_eq(meta_get(m, "format"), "pt");
	free(pa);
	free(pb);
}

START_TEST(test_sharded_index)
{
	char *dir = tu_tmpdir();
	write_shards(dir, "model-00001-of-00002.safetensors",
		     "model-00002-of-00002.safetensors");
	char *idx = tu_path(dir, "model.safetensors.index.json");
	/* weight_map lists shard 2 first; shards are still read sorted */
	tu_write_str(idx,
		     "{\"metadata\":{\"total_size\":19},\"weight_map\":{"
		     "\"z\":\"model-00002-of-00002.safetensors\","
		     "\"x\":\"model-00001-of-00002.safetensors\","
		     "\"y\":\"model-00001-of-00002.safetensors\"}}");
	struct mp_model *m;
	struct mp_error err;
	ck_assert(mp_fmt_safetensors.probe(idx));
	ck_assert(mp_fmt_safetensors.probe(dir));
	ck_assert_int_eq(mp_model_open(idx, &m, &err), MP_OK);
	check_sharded(m, dir, "model-00001-of-00002.safetensors",
		      "model-00002-of-00002.safetensors");
	ck_assert_str_eq(meta_get(m, "total_size"), "19");
	ck_assert_uint_eq(m->nmeta, 2); /* total_size, format (once) */
	mp_model_free(m);
	/* the directory holding the index opens the same model */
	ck_assert_int_eq(mp_model_open(dir, &m, &err), MP_OK);
	check_sharded(m, dir, "model-00001-of-00002.safetensors",
		      "model-00002-of-00002.safetensors");
	mp_model_free(m);
	free(idx);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_sharded_directory)
{
	char *dir = tu_tmpdir();
	/* readdir order is arbitrary; the reader sorts by name */
	write_shards(dir, "a.safetensors", "b.safetensors");
	char *junk = tu_path(dir, "README.md");
	tu_write_str(junk, "not a shard");
	struct mp_model *m;
	struct mp_error err;
	ck_assert(mp_fmt_safetensors.probe(dir));
	ck_assert_int_eq(mp_model_open(dir, &m, &err), MP_OK);
	ck_assert_str_eq(m->format, "safetensors");
	check_sharded(m, dir, "a.safetensors", "b.safetensors");
	ck_assert_uint_eq(m->nmeta, 1);
	mp_model_free(m);
	free(junk);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Open path and expect status st with a one-line message naming want (the
 * file) and containing word. */
static void expect_error(const char *path, mp_status st, const char *want,
			 const char *word)
{
	struct mp_model *m = (struct mp_model *)1;
	struct mp_error err = {{0}};
	mp_status s = mp_model_open(path, &m, &err);
	ck_assert_msg(s == st, "%s: status %d, want %d (%s)", path, s, st,
		      err.msg);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err.msg, want) != NULL, "'%s' lacks '%s'",
		      err.msg, want);
	ck_assert_msg(strstr(err.msg, word) != NULL, "'%s' lacks '%s'",
		      err.msg, word);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
}

static void expect_header_error(const char *dir, const char *hdr,
				size_t data_len, mp_status st,
				const char *word)
{
	char *p = tu_path(dir, "bad.safetensors");
	write_raw(p, hdr, data_len);
	expect_error(p, st, p, word);
	free(p);
}

#define ENTRY(dt, shape, offs)                                                \
	"{\"t\":{\"dtype\":\"" dt "\",\"shape\":" shape                       \
	",\"data_offsets\":" offs "}}"

START_TEST(test_file_errors)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "bad.safetensors");
	tu_write(p, "\x05\0\0\0\0", 5);
	expect_error(p, MP_ETRUNC, p, "too short");
	tu_write(p, "", 0);
	expect_error(p, MP_ETRUNC, p, "too short");
	/* N = 1000 in a 20-byte file */
	tu_write(p, "\xE8\x03\0\0\0\0\0\0{\"a\":1}    ", 19);
	expect_error(p, MP_ETRUNC, p, "exceeds file size");
	/* N = 2^64-1: no wrap-around in N + 8 */
	tu_write(p, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF{}", 10);
	expect_error(p, MP_ETRUNC, p, "exceeds file size");

	/* N = 100 MiB + 1 in a sparse file big enough to hold it */
	FILE *f = fopen(p, "wb");
	const uint64_t big = 100ull * 1024 * 1024 + 1;
	uint8_t le[9];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(big >> (8 * i));
	le[8] = '{';
	ck_assert_uint_eq(fwrite(le, 1, 9, f), 9);
	fclose(f);
	ck_assert_int_eq(truncate(p, (off_t)(8 + big)), 0);
	expect_error(p, MP_ERANGE, p, "limit");

	expect_header_error(dir, "{\"t\":{\"dtype\":", 0, MP_EJSON,
			    "invalid JSON");
	expect_header_error(dir, "", 0, MP_EJSON, "invalid JSON");
	expect_header_error(dir, "[1,2]", 0, MP_EFORMAT, "not a JSON object");
	expect_header_error(dir, "{\"t\":5}", 0, MP_EFORMAT, "not an object");
	expect_header_error(dir, ENTRY("F128", "[1]", "[0,16]"), 16,
			    MP_EDTYPE, "F128");
	expect_header_error(dir, ENTRY("F128", "[1]", "[0,16]"), 16,
			    MP_EDTYPE, "BF16, F8_E4M3"); /* lists valid ones */
	expect_header_error(dir, "{\"t\":{\"shape\":[1],\"data_offsets\":[0,1]}}",
			    1, MP_EFORMAT, "dtype");
	expect_header_error(dir, ENTRY("U8", "3", "[0,3]"), 3, MP_EFORMAT,
			    "shape");
	expect_header_error(dir, ENTRY("U8", "[-1]", "[0,0]"), 0, MP_EFORMAT,
			    "non-negative");
	expect_header_error(dir, ENTRY("U8", "[1.5]", "[0,1]"), 1, MP_EFORMAT,
			    "non-negative");
	expect_header_error(dir, ENTRY("U8", "[\"2\"]", "[0,2]"), 2,
			    MP_EFORMAT, "non-negative");
	expect_header_error(dir, ENTRY("U8", "[9007199254740992]", "[0,1]"), 1,
			    MP_EFORMAT, "2^53");
	expect_header_error(dir, ENTRY("U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]"),
			    1, MP_ERANGE, "9 dimensions");
	/* 2^32 * 2^32 overflows 64 bits */
	expect_header_error(dir, ENTRY("U8", "[4294967296,4294967296]", "[0,1]"),
			    1, MP_ERANGE, "overflow");
	/* 2^62 elements fit, 2^63 bytes of F32 do not */
	expect_header_error(dir, ENTRY("F32", "[4194304,4194304,262144]",
				       "[0,1]"),
			    1, MP_ERANGE, "overflow");
	expect_header_error(dir, ENTRY("U8", "[2]", "[2,0]"), 2, MP_EFORMAT,
			    "data_offsets");
	expect_header_error(dir, ENTRY("U8", "[2]", "[0]"), 2, MP_EFORMAT,
			    "data_offsets");
	expect_header_error(dir, ENTRY("U8", "[2]", "[0,-2]"), 2, MP_EFORMAT,
			    "data_offsets");
	expect_header_error(dir, "{\"t\":{\"dtype\":\"U8\",\"shape\":[2]}}", 2,
			    MP_EFORMAT, "data_offsets");
	expect_header_error(dir, ENTRY("U8", "[4]", "[0,4]"), 3, MP_ETRUNC,
			    "beyond the data area");
	expect_header_error(dir, ENTRY("F32", "[2]", "[0,4]"), 8, MP_EFORMAT,
			    "2 F32 values need 8");
	expect_header_error(dir,
			    "{\"t\":{\"dtype\":\"U8\",\"shape\":[4],"
			    "\"data_offsets\":[0,4]},"
			    "\"u\":{\"dtype\":\"U8\",\"shape\":[4],"
			    "\"data_offsets\":[3,7]}}",
			    8, MP_EFORMAT, "'t' and 'u' overlap");
	/* one tensor covering two others */
	expect_header_error(dir,
			    "{\"a\":{\"dtype\":\"U8\",\"shape\":[10],"
			    "\"data_offsets\":[0,10]},"
			    "\"b\":{\"dtype\":\"U8\",\"shape\":[2],"
			    "\"data_offsets\":[2,4]},"
			    "\"c\":{\"dtype\":\"U8\",\"shape\":[2],"
			    "\"data_offsets\":[6,8]}}",
			    10, MP_EFORMAT, "overlap");
	expect_header_error(dir,
			    "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],"
			    "\"data_offsets\":[0,1]},"
			    "\"t\":{\"dtype\":\"U8\",\"shape\":[1],"
			    "\"data_offsets\":[1,2]}}",
			    2, MP_EJSON,
			    "header: duplicate key 't' in the object at the top "
			    "level");
	expect_header_error(dir,
			    "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],"
			    "\"data_offsets\":[0,1],\"data_offsets\":[1,2]}}",
			    2, MP_EJSON, "duplicate key 'data_offsets' in the "
					 "object at t");
	expect_header_error(dir, "{\"__metadata__\":[1]}", 0, MP_EFORMAT,
			    "__metadata__");
	expect_header_error(dir, "{\"__metadata__\":{\"a\":1}}", 0, MP_EFORMAT,
			    "not a string");
	/* a name with a newline is escaped: the message stays on one line */
	expect_header_error(dir, "{\"a\\nb\":7}", 0, MP_EFORMAT, "a\\x0ab");
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_shard_errors)
{
	char *dir = tu_tmpdir();
	write_shards(dir, "s1.safetensors", "s2.safetensors");
	char *idx = tu_path(dir, "model.safetensors.index.json");

	tu_write_str(idx, "{\"weight_map\":{\"x\":\"s1.safetensors\","
			  "\"z\":\"gone.safetensors\"}}");
	expect_error(idx, MP_ENOENT, idx, "'gone.safetensors'");
	expect_error(dir, MP_ENOENT, idx, "'gone.safetensors'");

	tu_write_str(idx, "{\"weight_map\":{\"x\":\"s1.safetensors\","
			  "\"w\":\"s2.safetensors\"}}");
	expect_error(idx, MP_EFORMAT, idx, "'w' is not in shard "
					   "'s2.safetensors'");

	tu_write_str(idx, "{\"weight_map\":{\"x\":\"/etc/s1.safetensors\"}}");
	expect_error(idx, MP_EFORMAT, idx, "relative");
	tu_write_str(idx, "{\"weight_map\":{\"x\":\"sub/../s1.safetensors\"}}");
	expect_error(idx, MP_EFORMAT, idx, "'..'");
	tu_write_str(idx, "{\"weight_map\":{\"x\":3}}");
	expect_error(idx, MP_EFORMAT, idx, "not a string");
	tu_write_str(idx, "{\"weight_map\":{}}");
	expect_error(idx, MP_EFORMAT, idx, "weight_map");
	tu_write_str(idx, "{\"metadata\":[],\"weight_map\":"
			  "{\"x\":\"s1.safetensors\"}}");
	expect_error(idx, MP_EFORMAT, idx, "metadata");
	tu_write_str(idx, "{\"weight_map\":");
	expect_error(idx, MP_EJSON, idx, "invalid JSON");

	/* an error inside a shard names the shard */
	char *s2 = tu_path(dir, "s2.safetensors");
	tu_write(s2, "\x01\0\0", 3);
	tu_write_str(idx, "{\"weight_map\":{\"x\":\"s1.safetensors\","
			  "\"z\":\"s2.safetensors\"}}");
	expect_error(idx, MP_ETRUNC, s2, "too short");
	unlink(idx);
	expect_error(dir, MP_ETRUNC, s2, "too short");

	/* the same tensor in two files of a directory without an index:
	 * separate models, not the shards of one */
	write_shards(dir, "s1.safetensors", "s2.safetensors");
	char *s3 = tu_path(dir, "s3.safetensors");
	static const uint8_t one = 1;
	struct tu_tensor t = {"y", "U8", 1, {1}, &one, 1};
	tu_write_safetensors(s3, &t, 1, NULL);
	expect_error(dir, MP_EMANY, dir, "several models, not one in shards: "
					  "tensor 'y' is in both");
	free(s3);
	free(s2);
	free(idx);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A missing shard's name is escaped both where it is quoted and in the
 * path joined from it (found by fuzz_index). */
START_TEST(test_missing_shard_name_escaped)
{
	char *dir = tu_tmpdir();
	char *idx = tu_path(dir, "model.safetensors.index.json");
	tu_write_str(idx, "{\"weight_map\":{\"x\":\"a\\u001b[2J.safetensors\"}}");
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(idx, &m, &err), MP_ENOENT);
	for (const char *c = err.msg; *c; c++)
		ck_assert_msg((unsigned char)*c >= 0x20, "control byte in '%s'",
			      err.msg);
	ck_assert_msg(strstr(err.msg, "'a\\x1b[2J.safetensors'") != NULL,
		      "'%s' lacks the escaped name", err.msg);
	free(idx);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *suite_safetensors(void)
{
	Suite *s = suite_create("safetensors");
	TCase *tc = tcase_create("reader");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_every_dtype);
	tcase_add_test(tc, test_decoded_values);
	tcase_add_test(tc, test_metadata_and_zero_size);
	tcase_add_test(tc, test_offset_order_and_magic);
	tcase_add_test(tc, test_sharded_index);
	tcase_add_test(tc, test_sharded_directory);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_shard_errors);
	tcase_add_test(tc, test_missing_shard_name_escaped);
	suite_add_tcase(s, tc);
	return s;
}
