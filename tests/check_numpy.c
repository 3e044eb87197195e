/* check_numpy.c — the NumPy reader: .npy files of every dtype, versions
 * 1.0/2.0/3.0 and shapes (), (0,), (3, 4); .npz archives with stored and
 * deflated members; and every malformed-file error. The files are written
 * here byte by byte; expected values are worked out by hand. */
#include "check_suites.h"
#include "model.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct buf {
	uint8_t *b;
	size_t n;
};

static void put(struct buf *o, const void *p, size_t n)
{
	o->b = realloc(o->b, o->n + n + 1);
	ck_assert_ptr_nonnull(o->b);
	if (n)
		memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void put16(struct buf *o, unsigned v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(o, b, 2);
}

static void put32(struct buf *o, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			(uint8_t)(v >> 24)};
	put(o, b, 4);
}

/* A .npy of version major.0 with the dict text dict (padded with spaces and
 * a newline to a multiple of 64 bytes when pad, as numpy writes), then
 * data[0..dlen). */
static struct buf npy(int major, const char *dict, const void *data,
		      size_t dlen, bool pad)
{
	struct buf o = {NULL, 0};
	put(&o, "\x93NUMPY", 6);
	uint8_t v[2] = {(uint8_t)major, 0};
	put(&o, v, 2);
	size_t pre = major == 1 ? 10 : 12, hl = strlen(dict) + 1;
	if (pad)
		hl += (64 - (pre + hl) % 64) % 64;
	if (major == 1)
		put16(&o, (unsigned)hl);
	else
		put32(&o, (uint32_t)hl);
	put(&o, dict, strlen(dict));
	for (size_t i = strlen(dict) + 1; i < hl; i++)
		put(&o, " ", 1);
	put(&o, "\n", 1);
	put(&o, data, dlen);
	return o;
}

static void write_buf(const char *path, struct buf *o)
{
	tu_write(path, o->b, o->n);
	free(o->b);
	o->b = NULL;
	o->n = 0;
}

/* Open path expecting failure; returns the message (static). */
static const char *open_fail(const char *path)
{
	static struct mp_error err;
	struct mp_model *m = NULL;
	mp_status s = mp_model_open(path, &m, &err);
	ck_assert_msg(s != MP_OK, "%s opened", path);
	ck_assert_ptr_null(m);
	ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0,
		      "message does not start with the path: %s", err.msg);
	ck_assert_msg(!strchr(err.msg, '\n'), "newline in: %s", err.msg);
	return err.msg;
}

#define ck_fails_with(path, what)                                              \
	do {                                                                   \
		const char *msg_ = open_fail(path);                            \
		ck_assert_msg(strstr(msg_, what), "want '%s' in: %s", what,    \
			      msg_);                                           \
	} while (0)

static struct mp_model *open_ok(const char *path)
{
	struct mp_error err;
	struct mp_model *m = NULL;
	mp_status s = mp_model_open(path, &m, &err);
	ck_assert_msg(s == MP_OK, "%s: %s", path, err.msg);
	ck_assert_str_eq(m->format, "numpy");
	return m;
}

static double value_at(const struct mp_tensor *t, uint64_t i)
{
	unsigned sz = mp_dtype_size(t->stored);
	uint8_t scratch[8];
	double v;
	mp_tensor_decode(t, mp_tensor_bytes(t, i * sz, sz, scratch), 1, &v);
	return v;
}

/* Every dtype, with hand-worked values of its first two elements. */
static const struct {
	const char *descr;
	enum mp_dtype dt;
	unsigned size;
	uint8_t b[16]; /* two elements, little-endian */
	double v0, v1;
} dtypes[] = {
    {"<f2", MP_F16, 2, {0x00, 0x3c, 0x00, 0xc0}, 1.0, -2.0},
    {"<f4", MP_F32, 4, {0, 0, 0xc0, 0x3f, 0, 0, 0x10, 0xc0}, 1.5, -2.25},
    {"<f8",
     MP_F64,
     8,
     {0, 0, 0, 0, 0, 0, 0x0a, 0x40, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf},
     3.25,
     -1.0},
    {"|i1", MP_I8, 1, {0xff, 0x7f}, -1, 127},
    {"<i2", MP_I16, 2, {0xfe, 0xff, 0x00, 0x01}, -2, 256},
    {"<i4", MP_I32, 4, {0xfd, 0xff, 0xff, 0xff, 1, 0, 0, 0}, -3, 1},
    {"<i8",
     MP_I64,
     8,
     {0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0},
     -4,
     4294967296.0},
    {"|u1", MP_U8, 1, {0xff, 0x02}, 255, 2},
    {"<u2", MP_U16, 2, {0xff, 0xff, 0x34, 0x12}, 65535, 0x1234},
    {"<u4", MP_U32, 4, {0xfe, 0xff, 0xff, 0xff, 7, 0, 0, 0}, 4294967294.0, 7},
    {"<u8",
     MP_U64,
     8,
     {0, 0, 0, 0, 0, 0, 0, 0x80, 9, 0, 0, 0, 0, 0, 0, 0},
     9223372036854775808.0,
     9},
    {"|b1", MP_BOOL, 1, {1, 0}, 1, 0},
};
#define NDT (sizeof dtypes / sizeof dtypes[0])

START_TEST(test_every_dtype)
{
	char *dir = tu_tmpdir();
	for (size_t i = 0; i < NDT; i++) {
		char dict[128], file[32];
		snprintf(dict, sizeof dict,
			 "{'descr': '%s', 'fortran_order': False, 'shape': "
			 "(2,), }",
			 dtypes[i].descr);
		snprintf(file, sizeof file, "a%zu.npy", i);
		char *p = tu_path(dir, file);
		struct buf o =
		    npy(1, dict, dtypes[i].b, 2 * dtypes[i].size, true);
		write_buf(p, &o);
		struct mp_model *m = open_ok(p);
		ck_assert_uint_eq(m->ntensors, 1);
		const struct mp_tensor *t = &m->tensors[0];
		char want[32];
		snprintf(want, sizeof want, "a%zu", i);
		ck_assert_str_eq(t->name, want);
		ck_assert_int_eq(t->stored, dtypes[i].dt);
		ck_assert_int_eq(t->logical, dtypes[i].dt);
		ck_assert_int_eq(t->ndim, 1);
		ck_assert_uint_eq(t->shape[0], 2);
		ck_assert_uint_eq(t->nbytes, 2 * dtypes[i].size);
		ck_assert_msg(value_at(t, 0) == dtypes[i].v0, "%s[0] = %g",
			      dtypes[i].descr, value_at(t, 0));
		ck_assert_msg(value_at(t, 1) == dtypes[i].v1, "%s[1] = %g",
			      dtypes[i].descr, value_at(t, 1));
		mp_model_free(m);
		free(p);
	}
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_versions_and_shapes)
{
	static const struct {
		int major;
		bool pad;
		const char *shape;
		int ndim;
		uint64_t d0, d1, numel;
	} cases[] = {
	    {1, true, "()", 0, 0, 0, 1},
	    {2, true, "(0,)", 1, 0, 0, 0},
	    {3, true, "(3, 4)", 2, 3, 4, 12},
	    {1, false, "(3,4,)", 2, 3, 4, 12},
	    {2, false, "( 3 , 4 )", 2, 3, 4, 12},
	};
	char *dir = tu_tmpdir(), *p = tu_path(dir, "w.npy");
	float data[12];
	for (int i = 0; i < 12; i++)
		data[i] = (float)i * 0.5f;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char dict[128];
		snprintf(dict, sizeof dict,
			 "{\"descr\": \"<f4\", \"fortran_order\": False, "
			 "\"shape\": %s}",
			 cases[c].shape);
		struct buf o = npy(cases[c].major, dict, data,
				   (size_t)cases[c].numel * 4, cases[c].pad);
		write_buf(p, &o);
		struct mp_model *m = open_ok(p);
		const struct mp_tensor *t = &m->tensors[0];
		ck_assert_str_eq(t->name, "w");
		ck_assert_int_eq(t->ndim, cases[c].ndim);
		ck_assert_uint_eq(t->numel, cases[c].numel);
		ck_assert_uint_eq(t->nbytes, cases[c].numel * 4);
		if (cases[c].ndim == 2) {
			ck_assert_uint_eq(t->shape[0], cases[c].d0);
			ck_assert_uint_eq(t->shape[1], cases[c].d1);
			ck_assert(value_at(t, 11) == 5.5); /* 11 * 0.5 */
		}
		if (cases[c].ndim == 0)
			ck_assert(value_at(t, 0) == 0.0);
		mp_model_free(m);
	}
	/* Fortran order is accepted where it is the same bytes */
	struct buf o = npy(1,
			   "{'descr': '<f4', 'fortran_order': True, 'shape': "
			   "(1, 5)}",
			   data, 20, true);
	write_buf(p, &o);
	struct mp_model *m = open_ok(p);
	ck_assert(value_at(&m->tensors[0], 4) == 2.0);
	mp_model_free(m);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Big-endian elements and Fortran order, alone and together, read as
 * little-endian C order: C[i][j][k] = 100 i + 10 j + k, written with the
 * first axis fastest for Fortran order. */
START_TEST(test_byte_order_and_fortran)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "x.npy");
	for (int c = 0; c < 4; c++) {
		bool be = c & 1, fo = c & 2;
		uint8_t raw[24 * 4];
		int n = 0;
		for (int a = 0; a < 24; a++) {
			/* element a of the file: its C index */
			int i, j, k;
			if (fo) {
				i = a % 2, j = a / 2 % 3, k = a / 6;
			} else {
				i = a / 12, j = a / 4 % 3, k = a % 4;
			}
			int32_t v =
			    100 * i + 10 * j + k - 50; /* some negative */
			uint32_t u = (uint32_t)v;
			for (int b = 0; b < 4; b++)
				raw[n++] =
				    (uint8_t)(u >> (be ? 24 - 8 * b : 8 * b));
		}
		char dict[128];
		snprintf(dict, sizeof dict,
			 "{'descr': '%s', 'fortran_order': %s, 'shape': (2, 3, "
			 "4), }",
			 be ? ">i4" : "<i4", fo ? "True" : "False");
		struct buf o = npy(1, dict, raw, sizeof raw, true);
		write_buf(p, &o);
		struct mp_model *m = open_ok(p);
		const struct mp_tensor *t = &m->tensors[0];
		ck_assert_int_eq(t->stored, MP_I32);
		ck_assert_int_eq(t->ndim, 3);
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < 3; j++)
				for (int k = 0; k < 4; k++)
					ck_assert_msg(
					    value_at(t,
						     (uint64_t)(12 * i + 4 * j +
								k)) ==
						100 * i + 10 * j + k - 50,
					    "case %d [%d][%d][%d] = %g", c, i,
					    j, k,
					    value_at(t, (uint64_t)(12 * i +
								   4 * j + k)));
		mp_model_free(m);
	}
	/* big-endian half and double floats */
	struct buf o = npy(1,
			   "{'descr': '>f8', 'fortran_order': False, 'shape': "
			   "(1,), }",
			   "\xc0\x09\x00\x00\x00\x00\x00\x00", 8, true);
	write_buf(p, &o);
	struct mp_model *m = open_ok(p);
	ck_assert(value_at(&m->tensors[0], 0) == -3.125);
	mp_model_free(m);
	o = npy(1, "{'descr': '>f2', 'fortran_order': True, 'shape': (2, 2), }",
		"\x3c\x00\x40\x00\xc0\x00\x44\x00", 8, true);
	write_buf(p, &o);
	m = open_ok(p);
	/* Fortran [1, 2, -2, 4] is C [[1, -2], [2, 4]] */
	ck_assert(value_at(&m->tensors[0], 0) == 1.0);
	ck_assert(value_at(&m->tensors[0], 1) == -2.0);
	ck_assert(value_at(&m->tensors[0], 2) == 2.0);
	ck_assert(value_at(&m->tensors[0], 3) == 4.0);
	mp_model_free(m);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* --- zip writing ---------------------------------------------------- */

struct member {
	const char *name;
	struct buf data;  /* the .npy bytes */
	int method;	  /* 0 stored, 8 deflate */
	bool zip64_local; /* sizes 0xffffffff + ZIP64 extra, as numpy writes */
};

/* Raw deflate of b[0..n). */
static struct buf deflate_raw(const uint8_t *b, size_t n)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(
	    deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
	    Z_OK);
	struct buf o = {malloc(deflateBound(&z, n) + 1), 0};
	z.next_in = (Bytef *)(uintptr_t)b;
	z.avail_in = (uInt)n;
	z.next_out = o.b;
	z.avail_out = (uInt)deflateBound(&z, n);
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	o.n = z.total_out;
	deflateEnd(&z);
	return o;
}

/* The archive of members; *cd_at is where the central directory starts. */
static struct buf zip(const struct member *mem, int n, size_t *cd_at)
{
	struct buf o = {NULL, 0}, cd = {NULL, 0};
	for (int i = 0; i < n; i++) {
		const struct buf *d = &mem[i].data;
		struct buf z = mem[i].method == 8 ? deflate_raw(d->b, d->n)
						  : (struct buf){NULL, 0};
		const struct buf *body = mem[i].method == 8 ? &z : d;
		uint32_t crc = (uint32_t)crc32(0, d->b, (uInt)d->n);
		size_t nl = strlen(mem[i].name), off = o.n;
		put32(&o, 0x04034b50);
		put16(&o, 20);
		put16(&o, 0);
		put16(&o, (unsigned)mem[i].method);
		put16(&o, 0);
		put16(&o, 0);
		put32(&o, crc);
		put32(&o, mem[i].zip64_local ? 0xffffffffu : (uint32_t)body->n);
		put32(&o, mem[i].zip64_local ? 0xffffffffu : (uint32_t)d->n);
		put16(&o, (unsigned)nl);
		put16(&o, mem[i].zip64_local ? 20 : 0);
		put(&o, mem[i].name, nl);
		if (mem[i].zip64_local) {
			put16(&o, 1);
			put16(&o, 16);
			put32(&o, (uint32_t)d->n);
			put32(&o, 0);
			put32(&o, (uint32_t)body->n);
			put32(&o, 0);
		}
		put(&o, body->b, body->n);
		put32(&cd, 0x02014b50);
		put16(&cd, 20);
		put16(&cd, 20);
		put16(&cd, 0);
		put16(&cd, (unsigned)mem[i].method);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, crc);
		put32(&cd, (uint32_t)body->n);
		put32(&cd, (uint32_t)d->n);
		put16(&cd, (unsigned)nl);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, 0);
		put32(&cd, (uint32_t)off);
		put(&cd, mem[i].name, nl);
		free(z.b);
	}
	*cd_at = o.n;
	put(&o, cd.b, cd.n);
	put32(&o, 0x06054b50);
	put16(&o, 0);
	put16(&o, 0);
	put16(&o, (unsigned)n);
	put16(&o, (unsigned)n);
	put32(&o, (uint32_t)cd.n);
	put32(&o, (uint32_t)*cd_at);
	put16(&o, 0);
	free(cd.b);
	return o;
}

static void free_members(struct member *mem, int n)
{
	for (int i = 0; i < n; i++)
		free(mem[i].data.b);
}

static void set32(struct buf *o, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		o->b[at + i] = (uint8_t)(v >> (8 * i));
}

static struct buf sample_npy(int k)
{
	float v[6];
	for (int i = 0; i < 6; i++)
		v[i] = (float)(k * 10 + i);
	return npy(
	    1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", v,
	    sizeof v, true);
}

START_TEST(test_npz)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "w.npz");
	struct member mem[3] = {
	    {"stored.npy", sample_npy(1), 0, false},
	    {"deflated.npy", sample_npy(2), 8, false},
	    {"layer/w.npy", sample_npy(3), 8, true},
	};
	size_t cd;
	struct buf z = zip(mem, 3, &cd);
	write_buf(p, &z);
	struct mp_model *m = open_ok(p);
	ck_assert_uint_eq(m->ntensors, 3);
	const struct mp_tensor *t = mp_model_find(m, "stored");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->shape[0], 2);
	ck_assert_uint_eq(t->shape[1], 3);
	ck_assert(value_at(t, 5) == 15.0);
	t = mp_model_find(m, "deflated");
	ck_assert_ptr_nonnull(t);
	ck_assert(value_at(t, 0) == 20.0 && value_at(t, 4) == 24.0);
	t = mp_model_find(m, "layer/w");
	ck_assert_ptr_nonnull(t);
	ck_assert(value_at(t, 5) == 35.0);
	mp_model_free(m);
	free_members(mem, 3);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_npy_errors)
{
	static const struct {
		const char *dict;
		size_t dlen;
		const char *what;
	} cases[] = {
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 8,
	     "truncated: the array needs 12 bytes"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 8,
	     "4 bytes after the array data"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': "
	     "(4294967296, 4294967296)}",
	     0, "overflows 64 bits"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': "
	     "(4611686018427387904,)}",
	     0, "byte size overflows"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': "
	     "(99999999999999999999,)}",
	     0, "entry 0 overflows 64 bits"},
	    {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", 8,
	     "unsupported dtype '<c8'"},
	    {"{'descr': 'f4', 'fortran_order': False, 'shape': (1,)}", 4,
	     "no explicit byte order"},
	    {"{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", 8,
	     "object array (dtype '|O') refused"},
	    {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': "
	     "(1,)}",
	     4, "structured dtypes"},
	    {"{'descr': '<f4', 'shape': (1,)}", 4, "lacks 'fortran_order'"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
	     "'x': 1}",
	     4, "unknown key 'x'"},
	    {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
	     "'shape': (1,)}",
	     4, "key 'descr' repeated"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", 12,
	     "is not a tuple (want (n,))"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}", 12,
	     "not a non-negative integer"},
	    {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", 4,
	     "not True or False"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", 4,
	     "text after the dict"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': "
	     "(1,1,1,1,1,1,1,1,1)}",
	     4, "more than 8 dimensions"},
	    {"['descr']", 4, "not a dict"},
	};
	char *dir = tu_tmpdir(), *p = tu_path(dir, "bad.npy");
	uint8_t zero[32] = {0};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct buf o = npy(1, cases[c].dict, zero, cases[c].dlen, true);
		write_buf(p, &o);
		ck_fails_with(p, cases[c].what);
	}
	/* a header length that lies */
	struct buf o = npy(1,
			   "{'descr': '<f4', 'fortran_order': False, "
			   "'shape': (1,)}",
			   zero, 4, true);
	o.b[8] = 0xff;
	o.b[9] = 0x7f;
	write_buf(p, &o);
	ck_fails_with(p, "truncated: the .npy header needs 32777 bytes");
	o = npy(2, "{}", zero, 0, false);
	o.b[8] = o.b[9] = o.b[10] = o.b[11] = 0xff;
	write_buf(p, &o);
	ck_fails_with(p, "header length 4294967295 over the limit");
	o = npy(4, "{}", zero, 0, false);
	write_buf(p, &o);
	ck_fails_with(p, "unsupported .npy version 4.0");
	tu_write(p, "\x93NUMPX\x01\x00\x02\x00{}", 12);
	ck_fails_with(p, "no \\x93NUMPY magic");
	tu_write(p, "\x93NUMPY\x01", 7);
	ck_fails_with(p, "not a .npy array");
	tu_write(p, "", 0);
	ck_fails_with(p, "empty file");
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_npz_errors)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "bad.npz");
	size_t cd;
	/* central directory offset out of range */
	struct member one[1] = {{"w.npy", sample_npy(1), 0, false}};
	struct buf z = zip(one, 1, &cd);
	set32(&z, z.n - 6, (uint32_t)z.n);
	write_buf(p, &z);
	ck_fails_with(p, "central directory (bytes");
	/* local header offset out of range */
	z = zip(one, 1, &cd);
	set32(&z, cd + 42, 0x7fffffff);
	write_buf(p, &z);
	ck_fails_with(p, "member 'w.npy': local header offset 2147483647");
	/* member data past the member area */
	z = zip(one, 1, &cd);
	set32(&z, cd + 20, 100000);
	set32(&z, cd + 24, 100000);
	write_buf(p, &z);
	ck_fails_with(p, "runs past the member area");
	/* stored sizes that disagree */
	z = zip(one, 1, &cd);
	set32(&z, cd + 24, 3);
	write_buf(p, &z);
	ck_fails_with(p, "claims 3 uncompressed");
	/* unknown compression method */
	z = zip(one, 1, &cd);
	z.b[cd + 10] = 12;
	write_buf(p, &z);
	ck_fails_with(p, "compression method 12 is not supported");
	/* encrypted */
	z = zip(one, 1, &cd);
	z.b[cd + 8] = 1;
	write_buf(p, &z);
	ck_fails_with(p, "encrypted members");
	/* ZIP64 sizes in the central directory */
	z = zip(one, 1, &cd);
	set32(&z, cd + 24, 0xffffffffu);
	write_buf(p, &z);
	ck_fails_with(p, "ZIP64 members are not supported");
	/* local name differs from the central one */
	z = zip(one, 1, &cd);
	z.b[30] = 'x';
	write_buf(p, &z);
	ck_fails_with(p, "local header disagrees");
	/* no end record, too short */
	z = zip(one, 1, &cd);
	z.n -= 1;
	write_buf(p, &z);
	ck_fails_with(p, "no end-of-central-directory record");
	tu_write(p, "PK", 2);
	ck_fails_with(p, "too short");
	/* a member that is no .npy */
	free_members(one, 1);
	struct member txt[1] = {{"notes.txt", sample_npy(1), 0, false}};
	z = zip(txt, 1, &cd);
	write_buf(p, &z);
	ck_fails_with(p, "member 'notes.txt': not a .npy array");
	free_members(txt, 1);
	/* a deflated member whose CRC is wrong, or whose stream is cut */
	struct member d[1] = {{"w.npy", sample_npy(1), 8, false}};
	z = zip(d, 1, &cd);
	z.b[cd + 16] ^= 1;
	write_buf(p, &z);
	ck_fails_with(p, "CRC-32 mismatch");
	z = zip(d, 1, &cd);
	set32(&z, cd + 24, 1000);
	write_buf(p, &z);
	ck_fails_with(p, "not the size the directory gives");
	z = zip(d, 1, &cd);
	set32(&z, cd + 24, 10);
	write_buf(p, &z);
	ck_fails_with(p, "not the size the directory gives");
	z = zip(d, 1, &cd);
	memset(z.b + 30 + 5, 0xff, 8); /* garbage deflate data */
	write_buf(p, &z);
	ck_fails_with(p, "member 'w.npy': corrupt deflate data");
	free_members(d, 1);
	/* the same name twice; an empty archive; a bad member .npy */
	struct member two[2] = {{"w.npy", sample_npy(1), 0, false},
				{"w.npy", sample_npy(2), 8, false}};
	z = zip(two, 2, &cd);
	write_buf(p, &z);
	ck_fails_with(p, "array 'w' is stored twice");
	z = zip(two, 0, &cd);
	write_buf(p, &z);
	ck_fails_with(p, "the archive is empty");
	free_members(two, 2);
	struct member obj[1] = {
	    {"o.npy",
	     npy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,)}",
		 "\x80\x02N.", 4, true),
	     8, false}};
	z = zip(obj, 1, &cd);
	write_buf(p, &z);
	ck_fails_with(p, "member 'o.npy': object array");
	free_members(obj, 1);
	/* ZIP64 end-of-central-directory locator */
	struct member w[1] = {{"w.npy", sample_npy(1), 0, false}};
	z = zip(w, 1, &cd);
	struct buf y = {NULL, 0};
	put(&y, z.b, z.n - 22);
	put32(&y, 0x07064b50);
	put(&y, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	put(&y, z.b + z.n - 22, 22);
	free(z.b);
	write_buf(p, &y);
	ck_fails_with(p, "ZIP64 archives are not supported");
	free_members(w, 1);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *suite_numpy(void)
{
	Suite *s = suite_create("numpy");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_every_dtype);
	tcase_add_test(tc, test_versions_and_shapes);
	tcase_add_test(tc, test_byte_order_and_fortran);
	tcase_add_test(tc, test_npz);
	tcase_add_test(tc, test_npy_errors);
	tcase_add_test(tc, test_npz_errors);
	suite_add_tcase(s, tc);
	return s;
}
