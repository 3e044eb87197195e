/* check_gguf.c — the GGUF reader and the ggml dequantizers of
 * ggml_quants.c: GGUF files built here byte by byte (every metadata value
 * type, nested arrays, alignment, every malformed-file error), hand-made
 * blocks of each type with values worked out by hand, and the fixtures:
 * each tensor's dequantized float32 SHA-256 against the oracle written by
 * ggml's own to_float (../shared/fixtures/gguf/ *.dequant.jsonl). */
#include "check_suites.h"
#include "fingerprint.h"
#include "ggml_dequant.h"
#include "json.h"
#include "model.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void putn(struct buf *o, uint64_t v, unsigned n)
{
	uint8_t b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(o, b, n);
}

static void p8(struct buf *o, uint64_t v) { putn(o, v, 1); }
static void p16(struct buf *o, uint64_t v) { putn(o, v, 2); }
static void p32(struct buf *o, uint64_t v) { putn(o, v, 4); }
static void p64(struct buf *o, uint64_t v) { putn(o, v, 8); }

static void pstr(struct buf *o, const char *s)
{
	p64(o, strlen(s));
	put(o, s, strlen(s));
}

static void pf32(struct buf *o, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	p32(o, u);
}

static void pad(struct buf *o, size_t align)
{
	while (o->n % align)
		p8(o, 0);
}

static void header(struct buf *o, uint32_t ver, uint64_t nt, uint64_t nkv)
{
	put(o, "GGUF", 4);
	p32(o, ver);
	p64(o, nt);
	p64(o, nkv);
}

/* A tensor info: dims innermost first. */
static void tinfo(struct buf *o, const char *name, int nd,
		  const uint64_t *dims, uint32_t type, uint64_t off)
{
	pstr(o, name);
	p32(o, (uint32_t)nd);
	for (int i = 0; i < nd; i++)
		p64(o, dims[i]);
	p32(o, type);
	p64(o, off);
}

static char *DIR_;

static char *write_buf(const char *name, struct buf *o)
{
	char *p = tu_path(DIR_, name);
	tu_write(p, o->b, o->n);
	free(o->b);
	o->b = NULL;
	o->n = 0;
	return p;
}

static const char *meta(const struct mp_model *m, const char *key)
{
	for (size_t i = 0; i < m->nmeta; i++)
		if (strcmp(m->meta[i].key, key) == 0)
			return m->meta[i].value;
	return NULL;
}

static const char *open_fail(const char *path)
{
	static struct mp_error err;
	struct mp_model *m = NULL;
	mp_status s = mp_model_open(path, &m, &err);
	ck_assert_msg(s != MP_OK, "%s opened", path);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err.msg, path), "no file name in: %s", err.msg);
	return err.msg;
}

#define ck_fails_with(path, what)                                              \
	do {                                                                   \
		const char *msg_ = open_fail(path);                            \
		ck_assert_msg(strstr(msg_, what), "want '%s' in: %s", what,    \
			      msg_);                                           \
	} while (0)

/* Every metadata value type, nested arrays, general.alignment 64, an F32
 * matrix stored [3, 2] innermost first and a Q8_0 vector. */
START_TEST(test_header_every_type)
{
	DIR_ = tu_tmpdir();
	struct buf o = {NULL, 0};
	header(&o, 3, 2, 17);
	pstr(&o, "k.u8"), p32(&o, 0), p8(&o, 200);
	pstr(&o, "k.i8"), p32(&o, 1), p8(&o, 0xFE);
	pstr(&o, "k.u16"), p32(&o, 2), p16(&o, 65535);
	pstr(&o, "k.i16"), p32(&o, 3), p16(&o, 0x8000);
	pstr(&o, "k.u32"), p32(&o, 4), p32(&o, 4000000000u);
	pstr(&o, "k.i32"), p32(&o, 5), p32(&o, 0xFFFFFFFF);
	pstr(&o, "k.f32"), p32(&o, 6), pf32(&o, 0.5f);
	pstr(&o, "k.bool"), p32(&o, 7), p8(&o, 1);
	pstr(&o, "general.architecture"), p32(&o, 8), pstr(&o, "llama");
	pstr(&o, "k.u64"), p32(&o, 10), p64(&o, UINT64_MAX);
	pstr(&o, "k.i64"), p32(&o, 11), p64(&o, (uint64_t)-5);
	pstr(&o, "k.f64"), p32(&o, 12), p64(&o, 0x3FF8000000000000ULL);
	pstr(&o, "general.alignment"), p32(&o, 4), p32(&o, 64);
	/* array of u32, of strings, of arrays of i16 */
	pstr(&o, "k.arr"), p32(&o, 9), p32(&o, 4), p64(&o, 3);
	p32(&o, 1), p32(&o, 2), p32(&o, 3);
	pstr(&o, "tokenizer.ggml.tokens"), p32(&o, 9), p32(&o, 8), p64(&o, 2);
	pstr(&o, "<s>"), pstr(&o, "hello");
	pstr(&o, "k.nested"), p32(&o, 9), p32(&o, 9), p64(&o, 2);
	p32(&o, 3), p64(&o, 1), p16(&o, 7);
	p32(&o, 3), p64(&o, 0);
	pstr(&o, "general.name"), p32(&o, 8), pstr(&o, "tiny");
	uint64_t d1[2] = {3, 2}, d2[1] = {32};
	tinfo(&o, "w", 2, d1, 0, 0);
	tinfo(&o, "q", 1, d2, 8, 64);
	pad(&o, 64);
	size_t data = o.n;
	for (int i = 0; i < 6; i++)
		pf32(&o, (float)i);
	pad(&o, 64);
	p16(&o, 0x3800); /* d = 0.5 */
	for (int i = 0; i < 32; i++)
		p8(&o, (uint8_t)(int8_t)(i - 16));
	char *p = write_buf("t.gguf", &o);
	struct mp_model *m = NULL;
	struct mp_error err;
	ck_assert_msg(mp_model_open(p, &m, &err) == MP_OK, "%s", err.msg);
	ck_assert_str_eq(m->format, "gguf");
	ck_assert_str_eq(meta(m, "general.architecture"), "llama");
	ck_assert_str_eq(meta(m, "general.name"), "tiny");
	ck_assert_str_eq(meta(m, "general.alignment"), "64");
	ck_assert_str_eq(meta(m, "tokenizer.ggml.vocab_size"), "2");
	ck_assert_ptr_null(meta(m, "k.u8")); /* not kept */
	ck_assert_uint_eq(m->ntensors, 2);
	const struct mp_tensor *w = mp_model_find(m, "w"),
			       *q = mp_model_find(m, "q");
	ck_assert_int_eq(w->ndim, 2);
	ck_assert_uint_eq(w->shape[0], 2); /* outermost first */
	ck_assert_uint_eq(w->shape[1], 3);
	ck_assert_int_eq(w->stored, MP_F32);
	ck_assert_ptr_null(w->ggml);
	ck_assert_uint_eq(w->offset, data);
	ck_assert_uint_eq(w->nbytes, 24);
	double v[6];
	mp_tensor_decode(w, mp_tensor_segs(w)[0].data, 6, v);
	ck_assert(v[5] == 5.0);
	ck_assert_ptr_nonnull(q->ggml);
	ck_assert_str_eq(q->ggml->name, "Q8_0");
	ck_assert_uint_eq(q->numel, 32);
	ck_assert_uint_eq(q->nbytes, 34);
	ck_assert_uint_eq(q->offset, data + 64);
	float f[32];
	mp_tensor_decode_blocks(q, mp_tensor_segs(q)[0].data, 1, f);
	ck_assert(f[0] == -8.0f && f[31] == 7.5f);
	mp_model_free(m);

	/* the tensors fingerprint: stored bytes hashed, decoded values
	 * summarised, the ggml type in the dtype mix */
	struct mp_fingerprint *fp = NULL;
	ck_assert(mp_model_open(p, &m, &err) == MP_OK);
	ck_assert_msg(mp_fp_compute(m, "tensors", NULL, 1, NULL, &fp, &err) ==
			  MP_OK,
		      "%s", err.msg);
	ck_assert_uint_eq(fp->ggml_params[MP_GGML_Q8_0], 32);
	ck_assert_uint_eq(fp->dtype_params[MP_F32], 6);
	for (size_t i = 0; i < fp->ntensors; i++) {
		const struct mp_tensor_fp *t = &fp->tensors[i];
		if (strcmp(t->name, "q"))
			continue;
		ck_assert_str_eq(mp_fp_stored_name(t), "Q8_0");
		/* values (i - 16) / 2: mean -0.25, min -8, max 7.5 */
		ck_assert(fabs(t->stats->mean - -0.25) < 1e-12);
		ck_assert(t->stats->min == -8.0 && t->stats->max == 7.5);
	}
	mp_fp_free(fp);
	mp_model_free(m);
	free(p);
	tu_rmtree(DIR_);
	free(DIR_);
}
END_TEST

/* A valid start: version, one F32 tensor info "a" of 4 values. */
static void simple(struct buf *o, uint32_t ver)
{
	header(o, ver, 1, 0);
	uint64_t d[1] = {4};
	tinfo(o, "a", 1, d, 0, 0);
	pad(o, 32);
}

START_TEST(test_header_errors)
{
	DIR_ = tu_tmpdir();
	struct buf o = {NULL, 0};
	char *p;
	uint64_t d4[1] = {4}, d2[1] = {2};

	simple(&o, 1);
	p = write_buf("v1.gguf", &o);
	ck_fails_with(p, "GGUF version 1 is not supported");
	free(p);

	simple(&o, 0x03000000);
	p = write_buf("be.gguf", &o);
	ck_fails_with(p, "big-endian GGUF");
	free(p);

	put(&o, "GGUX", 4), p32(&o, 3), p64(&o, 0), p64(&o, 0);
	p = write_buf("magic.gguf", &o);
	ck_fails_with(p, "not a GGUF file");
	free(p);

	put(&o, "GGUF", 4), p16(&o, 3);
	p = write_buf("short.gguf", &o);
	ck_fails_with(p, "truncated");
	free(p);

	/* a count that lies */
	header(&o, 3, 0, 1000000);
	p = write_buf("count.gguf", &o);
	ck_fails_with(p, "cannot fit in the file");
	free(p);

	/* a huge array of u64 */
	header(&o, 3, 0, 1);
	pstr(&o, "k"), p32(&o, 9), p32(&o, 10), p64(&o, 1ULL << 61);
	p = write_buf("huge.gguf", &o);
	ck_fails_with(p, "array of 2305843009213693952 elements runs past");
	free(p);

	/* a huge array of strings */
	header(&o, 3, 0, 1);
	pstr(&o, "k"), p32(&o, 9), p32(&o, 8), p64(&o, UINT64_MAX);
	p = write_buf("hugestr.gguf", &o);
	ck_fails_with(p, "runs past the end");
	free(p);

	/* a string longer than the file */
	header(&o, 3, 0, 1);
	p64(&o, 1ULL << 40);
	for (int i = 0; i < 8; i++)
		p64(&o, 0);
	p = write_buf("longkey.gguf", &o);
	ck_fails_with(p, "runs past the end of the file");
	free(p);

	header(&o, 3, 0, 1);
	pstr(&o, "k.bad"), p32(&o, 13), p32(&o, 0);
	p = write_buf("vtype.gguf", &o);
	ck_fails_with(p, "metadata 'k.bad': unknown value type 13");
	free(p);

	header(&o, 3, 0, 1);
	pstr(&o, "k.deep"), p32(&o, 9);
	for (int i = 0; i < 6; i++)
		p32(&o, 9), p64(&o, 1);
	p32(&o, 4), p64(&o, 1), p32(&o, 0);
	p = write_buf("deep.gguf", &o);
	ck_fails_with(p, "nested over");
	free(p);

	header(&o, 3, 0, 1);
	pstr(&o, "general.alignment"), p32(&o, 4), p32(&o, 48);
	p = write_buf("align.gguf", &o);
	ck_fails_with(p, "general.alignment 48 is not a power of two");
	free(p);

	header(&o, 3, 1, 0);
	tinfo(&o, "t.unknown", 1, d4, 99, 0);
	p = write_buf("ttype.gguf", &o);
	ck_fails_with(p, "tensor 't.unknown': ggml type 99 (unknown) is not "
			 "supported");
	free(p);

	header(&o, 3, 1, 0);
	uint64_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	tinfo(&o, "t9", 9, d9, 0, 0);
	p = write_buf("ndim.gguf", &o);
	ck_fails_with(p, "tensor 't9' has 9 dimensions");
	free(p);

	/* a huge dimension beside a zero one: no bytes, but a shape JSON
	 * cannot hold (found by the fuzzer) */
	header(&o, 3, 1, 0);
	uint64_t dhuge[2] = {0, (1ULL << 53) + 1};
	tinfo(&o, "z", 2, dhuge, 0, 0);
	p = write_buf("hugedim.gguf", &o);
	ck_fails_with(p, "tensor 'z': dimension 9007199254740993 is over 2^53");
	free(p);

	header(&o, 3, 1, 0);
	uint64_t dbig[2] = {1ULL << 40, 1ULL << 40};
	tinfo(&o, "big", 2, dbig, 0, 0);
	p = write_buf("overflow.gguf", &o);
	ck_fails_with(p, "tensor 'big': shape product overflows");
	free(p);

	header(&o, 3, 1, 0);
	uint64_t d33[1] = {33};
	tinfo(&o, "q", 1, d33, 2, 0);
	p = write_buf("rowblock.gguf", &o);
	ck_fails_with(p, "tensor 'q': row of 33 values is not a multiple of "
			 "the Q4_0 block of 32");
	free(p);

	/* data past the end */
	simple(&o, 3);
	pf32(&o, 1.0f);
	p = write_buf("past.gguf", &o);
	ck_fails_with(p, "tensor 'a': 16 bytes at data offset 0 run past");
	free(p);

	/* overlapping tensors */
	header(&o, 3, 2, 0);
	tinfo(&o, "x", 1, d4, 0, 0);
	tinfo(&o, "y", 1, d2, 0, 0);
	pad(&o, 32);
	for (int i = 0; i < 4; i++)
		pf32(&o, 1.0f);
	p = write_buf("overlap.gguf", &o);
	ck_fails_with(p, "tensors 'x' and 'y' overlap");
	free(p);

	/* misaligned offset */
	header(&o, 3, 2, 0);
	tinfo(&o, "x", 1, d4, 0, 0);
	tinfo(&o, "y", 1, d2, 0, 16);
	pad(&o, 32);
	for (int i = 0; i < 6; i++)
		pf32(&o, 1.0f);
	p = write_buf("misaligned.gguf", &o);
	ck_fails_with(p, "tensor 'y': offset 16 is not a multiple of the "
			 "alignment 32");
	free(p);

	/* duplicate names */
	header(&o, 3, 2, 0);
	tinfo(&o, "x", 1, d4, 0, 0);
	tinfo(&o, "x", 1, d4, 0, 32);
	pad(&o, 32);
	for (int i = 0; i < 16; i++)
		pf32(&o, 1.0f);
	p = write_buf("dup.gguf", &o);
	ck_fails_with(p, "tensor 'x' appears twice");
	free(p);

	/* version 2 reads */
	simple(&o, 2);
	for (int i = 0; i < 4; i++)
		pf32(&o, 1.0f);
	p = write_buf("v2.gguf", &o);
	struct mp_model *m = NULL;
	struct mp_error err;
	ck_assert_msg(mp_model_open(p, &m, &err) == MP_OK, "%s", err.msg);
	mp_model_free(m);
	free(p);
	tu_rmtree(DIR_);
	free(DIR_);
}
END_TEST

/* Two shards read as one model. */
START_TEST(test_shards)
{
	DIR_ = tu_tmpdir();
	struct buf o = {NULL, 0};
	uint64_t d[1] = {2};
	const char *names[2] = {"m-00001-of-00002.gguf",
				"m-00002-of-00002.gguf"};
	char *p[2];
	for (int s = 0; s < 2; s++) {
		header(&o, 3, 1, 1);
		pstr(&o, "general.name"), p32(&o, 8), pstr(&o, "sharded");
		tinfo(&o, s ? "b" : "a", 1, d, 0, 0);
		pad(&o, 32);
		pf32(&o, (float)s), pf32(&o, 2.0f);
		p[s] = write_buf(names[s], &o);
	}
	struct mp_model *m = NULL;
	struct mp_error err;
	ck_assert_msg(mp_model_open(p[0], &m, &err) == MP_OK, "%s", err.msg);
	ck_assert_uint_eq(m->nfiles, 2);
	ck_assert_uint_eq(m->ntensors, 2);
	ck_assert_uint_eq(m->nmeta, 1);
	ck_assert_ptr_nonnull(mp_model_find(m, "b"));
	mp_model_free(m);
	/* a shard that is a symlink out of the model's directory (found by
	 * the fuzzer: it was opened) */
	char *out = tu_tmpdir(), *q = tu_path(out, names[1]);
	ck_assert_int_eq(rename(p[1], q), 0);
	ck_assert_int_eq(symlink(q, p[1]), 0);
	ck_fails_with(p[0], "outside the model directory");
	free(q);
	tu_rmtree(out);
	free(out);
	free(p[0]);
	free(p[1]);
	tu_rmtree(DIR_);
	free(DIR_);
}
END_TEST

static void dq(uint32_t id, const uint8_t *blk, const float *want, unsigned n)
{
	const struct mp_ggml_type_info *g = mp_ggml_type(id);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(g->block, n);
	float got[32];
	g->dequant(blk, got, 1);
	for (unsigned i = 0; i < n; i++)
		ck_assert_msg(got[i] == want[i], "%s [%u]: %.9g, want %.9g",
			      g->name, i, (double)got[i], (double)want[i]);
}

static void fill(float *v, unsigned n, float x)
{
	for (unsigned i = 0; i < n; i++)
		v[i] = x;
}

/* Blocks worked out by hand from the layouts of ggml-common.h. */
START_TEST(test_dequant_by_hand)
{
	uint8_t b[64];
	float w[32];
	/* Q4_0: d 0.5; (nibble - 8) * d; low nibbles 0..15, high 16..31 */
	memset(b, 0x88, sizeof b);
	b[0] = 0x00, b[1] = 0x38, b[2] = 0xF0, b[3] = 0x19;
	fill(w, 32, 0.0f);
	w[0] = -4.0f, w[16] = 3.5f, w[1] = 0.5f, w[17] = -3.5f;
	dq(MP_GGML_Q4_0, b, w, 32);
	/* Q4_1: d 0.5, m -1; nibble * d + m */
	memset(b, 0, sizeof b);
	b[1] = 0x38, b[3] = 0xBC, b[4] = 0xF0;
	fill(w, 32, -1.0f);
	w[16] = 6.5f;
	dq(MP_GGML_Q4_1, b, w, 32);
	/* Q5_0: d 0.25, qh bits 0 and 16; (code - 16) * d */
	memset(b, 0x88, sizeof b);
	b[0] = 0x00, b[1] = 0x34;
	b[2] = 0x01, b[3] = 0x00, b[4] = 0x01, b[5] = 0x00;
	b[6] = 0x3F;
	fill(w, 32, -2.0f);
	w[0] = 3.75f, w[16] = 0.75f;
	dq(MP_GGML_Q5_0, b, w, 32);
	/* Q5_1: d 0.5, m 1, qh bit 31 (value 31); code * d + m */
	memset(b, 0, sizeof b);
	b[1] = 0x38, b[3] = 0x3C, b[7] = 0x80, b[8 + 15] = 0x10;
	fill(w, 32, 1.0f);
	w[31] = 9.5f;
	dq(MP_GGML_Q5_1, b, w, 32);
	/* Q8_0: d 0.125; q * d */
	memset(b, 0, sizeof b);
	b[1] = 0x30, b[2] = 0x80, b[3] = 0x7F, b[4] = 3;
	b[2 + 13] = 0xFF, b[2 + 17] = 0xFE, b[2 + 31] = 0x41;
	fill(w, 32, 0.0f);
	w[0] = -16.0f, w[1] = 15.875f, w[2] = 0.375f;
	w[13] = -0.125f, w[17] = -0.25f, w[31] = 8.125f;
	dq(MP_GGML_Q8_0, b, w, 32);
	/* Q8_1: d 2, s ignored; q * d */
	memset(b, 0, sizeof b);
	b[1] = 0x40, b[2] = 0x12, b[3] = 0x34, b[4] = 0xFF, b[4 + 31] = 5;
	fill(w, 32, 0.0f);
	w[0] = -2.0f, w[31] = 10.0f;
	dq(MP_GGML_Q8_1, b, w, 32);
	/* one-value types */
	uint8_t h[2] = {0x00, 0xC0}; /* -2 */
	w[0] = -2.0f;
	dq(MP_GGML_F16, h, w, 1);
	uint8_t h2[2] = {0x01, 0x00}; /* smallest subnormal */
	w[0] = 0x1p-24f;
	dq(MP_GGML_F16, h2, w, 1);
	/* a NaN keeps its payload: 0x7E01 -> 0x7FC02000 */
	uint8_t hn[2] = {0x01, 0x7E};
	float fn;
	mp_ggml_type(MP_GGML_F16)->dequant(hn, &fn, 1);
	uint32_t un;
	memcpy(&un, &fn, 4);
	ck_assert_uint_eq(un, 0x7FC02000u);
	uint8_t h3[2] = {0xFF, 0x7B}; /* 65504, the largest */
	w[0] = 65504.0f;
	dq(MP_GGML_F16, h3, w, 1);
	uint8_t bf[2] = {0xA0, 0xC0}; /* -5 */
	w[0] = -5.0f;
	dq(MP_GGML_BF16, bf, w, 1);
	uint8_t f4[4] = {0x00, 0x00, 0xC0, 0x3F}; /* 1.5 */
	w[0] = 1.5f;
	dq(MP_GGML_F32, f4, w, 1);
	uint8_t f8[8] = {0x9A, 0x99, 0x99, 0x99, 0x99, 0x99, 0xB9, 0x3F};
	w[0] = 0.1f; /* 0.1 rounded to float */
	dq(MP_GGML_F64, f8, w, 1);
	uint8_t i1[1] = {0xFF};
	w[0] = -1.0f;
	dq(MP_GGML_I8, i1, w, 1);
	uint8_t i2[2] = {0x00, 0x80};
	w[0] = -32768.0f;
	dq(MP_GGML_I16, i2, w, 1);
	uint8_t i4[4] = {0xFE, 0xFF, 0xFF, 0xFF};
	w[0] = -2.0f;
	dq(MP_GGML_I32, i4, w, 1);
	uint8_t i8[8] = {0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	w[0] = -3.0f;
	dq(MP_GGML_I64, i8, w, 1);
}
END_TEST

/* The fixtures. */
static char FIX[1024];

static mp_json *oracle(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	char line[4096];
	mp_json *arr[4096];
	*n = 0;
	struct mp_error err;
	while (fgets(line, sizeof line, f)) {
		ck_assert(*n < 4096);
		ck_assert_msg(mp_json_parse(line, strlen(line), path,
					    &arr[*n], &err) == MP_OK,
			      "%s", err.msg);
		(*n)++;
	}
	fclose(f);
	mp_json **v = malloc((*n + 1) * sizeof *v);
	memcpy(v, arr, *n * sizeof *v);
	v[*n] = NULL;
	return (mp_json *)v;
}

/* SHA-256 (hex), sum and sum of squares of t's values as float32. */
static void digest(const struct mp_tensor *t, char hex[65], double *sum,
		   double *sumsq)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	*sum = *sumsq = 0;
	unsigned blk = t->ggml ? t->ggml->block : 1;
	unsigned bytes = t->ggml ? t->ggml->bytes : mp_dtype_size(t->stored);
	uint64_t nb = t->numel / blk, per = 4096 / blk;
	float *f = malloc(4096 * sizeof *f);
	double *d = malloc(4096 * sizeof *d);
	uint8_t *scratch = malloc(4096 * 8);
	for (uint64_t b0 = 0; b0 < nb; b0 += per) {
		uint64_t n = nb - b0 < per ? nb - b0 : per;
		const uint8_t *p =
		    mp_tensor_bytes(t, b0 * bytes, n * bytes, scratch);
		if (t->ggml) {
			mp_tensor_decode_blocks(t, p, n, f);
		} else {
			mp_tensor_decode(t, p, n, d);
			for (uint64_t i = 0; i < n; i++)
				f[i] = (float)d[i];
		}
		for (uint64_t i = 0; i < n * blk; i++) {
			*sum += f[i];
			*sumsq += (double)f[i] * f[i];
		}
		EVP_DigestUpdate(md, f, n * blk * sizeof *f);
	}
	unsigned char h[32];
	EVP_DigestFinal_ex(md, h, NULL);
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	free(f);
	free(d);
	free(scratch);
}

static bool known_name(const char *lower)
{
	char up[32];
	size_t i = 0;
	for (; lower[i] && i < sizeof up - 1; i++)
		up[i] = (char)(lower[i] >= 'a' && lower[i] <= 'z'
				   ? lower[i] - 32
				   : lower[i]);
	up[i] = 0;
	for (uint32_t id = 0; id < 64; id++)
		if (mp_ggml_type(id) && strcmp(mp_ggml_type(id)->name, up) == 0)
			return true;
	return false;
}

static int check_file(const char *gguf, const char *jsonl)
{
	size_t n;
	mp_json **o = (mp_json **)oracle(jsonl, &n);
	bool all_known = true;
	for (size_t i = 0; i < n; i++)
		all_known &= known_name(mp_json_str(mp_json_get(o[i], "type")));
	struct mp_model *m = NULL;
	struct mp_error err;
	mp_status s = mp_model_open(gguf, &m, &err);
	int checked = 0;
	if (!all_known) {
		/* a type no ggml_*.c knows yet: one clear error */
		ck_assert_msg(s == MP_EDTYPE, "%s: %s", gguf, err.msg);
		ck_assert_msg(strstr(err.msg, gguf) &&
				  strstr(err.msg, "is not supported") &&
				  (strstr(err.msg, "_K)") ||
				   strstr(err.msg, "(IQ")),
			      "%s", err.msg);
	} else {
		ck_assert_msg(s == MP_OK, "%s", err.msg);
		ck_assert_uint_eq(m->ntensors, n);
		for (size_t i = 0; i < n; i++) {
			const char *name = mp_json_str(mp_json_get(o[i], "name"));
			const struct mp_tensor *t = mp_model_find(m, name);
			ck_assert_msg(t != NULL, "%s: no %s", gguf, name);
			ck_assert_uint_eq(t->numel,
					  (uint64_t)mp_json_num(
					      mp_json_get(o[i], "n")));
			char hex[65];
			double sum, sq;
			digest(t, hex, &sum, &sq);
			ck_assert_msg(
			    strcmp(hex, mp_json_str(mp_json_get(
					    o[i], "sha256_f32"))) == 0,
			    "%s: %s: SHA-256 of the values differs", gguf,
			    name);
			double ws = mp_json_num(mp_json_get(o[i], "sum"));
			double wq = mp_json_num(mp_json_get(o[i], "sumsq"));
			ck_assert(fabs(sum - ws) <= 1e-9 * (1 + fabs(ws)) * 1e3);
			ck_assert(fabs(sq - wq) <= 1e-9 * (1 + wq) * 1e3);
			checked++;
		}
		mp_model_free(m);
	}
	for (size_t i = 0; i < n; i++)
		mp_json_free(o[i]);
	free(o);
	return checked;
}

START_TEST(test_fixtures)
{
	const char *d = getenv("MP_FIXTURES");
	snprintf(FIX, sizeof FIX, "%s/gguf", d && *d ? d : MP_SRCDIR_FIXTURES);
	DIR *dir = opendir(FIX);
	ck_assert_msg(dir != NULL, "%s", FIX);
	struct dirent *e;
	int files = 0, tensors = 0;
	while ((e = readdir(dir))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".gguf"))
			continue;
		char g[2048], j[2048];
		snprintf(g, sizeof g, "%s/%s", FIX, e->d_name);
		snprintf(j, sizeof j, "%s/%.*s.dequant.jsonl", FIX,
			 (int)(l - 5), e->d_name);
		tensors += check_file(g, j);
		files++;
	}
	closedir(dir);
	/* f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1: 21 tensors each; llama-2
	 * tiny: 12 */
	ck_assert_int_ge(files, 16);
	ck_assert_int_ge(tensors, 8 * 21 + 12);
}
END_TEST

/* A GGUF with an IQ2_XXS matrix [2, 256] (two blocks, 66 bytes each)
 * opens and fingerprints. Block 0: d = 2, all else zero: every sub-block
 * has ls = 0, db = 2 * 0.5 * 0.25 = 0.25, grid entry 0 (eight 0x08), no
 * signs: 256 values 2. Block 1: d = 2, every sub-block ls = 15 (db 7.75):
 * 256 values 7.75 * 8 = 62. */
START_TEST(test_iq2_xxs_file)
{
	DIR_ = tu_tmpdir();
	struct buf o = {NULL, 0};
	header(&o, 3, 1, 1);
	pstr(&o, "general.architecture"), p32(&o, 8), pstr(&o, "llama");
	uint64_t dims[2] = {256, 2};
	tinfo(&o, "blk.0.ffn_up.weight", 2, dims, 16, 0);
	pad(&o, 32);
	for (int blk = 0; blk < 2; blk++) {
		p16(&o, 0x4000);
		for (int ib = 0; ib < 8; ib++)
			p32(&o, 0), p32(&o, blk ? 15u << 28 : 0);
	}
	char *p = write_buf("iq2.gguf", &o);
	struct mp_model *m = NULL;
	struct mp_error err;
	ck_assert_msg(mp_model_open(p, &m, &err) == MP_OK, "%s", err.msg);
	const struct mp_tensor *t = mp_model_find(m, "blk.0.ffn_up.weight");
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(t->ggml);
	ck_assert_str_eq(t->ggml->name, "IQ2_XXS");
	ck_assert_uint_eq(t->numel, 512);
	ck_assert_uint_eq(t->nbytes, 132);
	float f[512];
	mp_tensor_decode_blocks(t, mp_tensor_segs(t)[0].data, 2, f);
	ck_assert(f[0] == 2.0f && f[255] == 2.0f);
	ck_assert(f[256] == 62.0f && f[511] == 62.0f);
	mp_model_free(m);

	struct mp_fingerprint *fp = NULL;
	ck_assert(mp_model_open(p, &m, &err) == MP_OK);
	ck_assert_msg(mp_fp_compute(m, "tensors", NULL, 1, NULL, &fp, &err) ==
			  MP_OK,
		      "%s", err.msg);
	ck_assert_uint_eq(fp->ggml_params[MP_GGML_IQ2_XXS], 512);
	ck_assert_uint_eq(fp->ntensors, 1);
	const struct mp_tensor_fp *tf = &fp->tensors[0];
	ck_assert_str_eq(mp_fp_stored_name(tf), "IQ2_XXS");
	/* mean (2 + 62) / 2 = 32, min 2, max 62 */
	ck_assert(fabs(tf->stats->mean - 32.0) < 1e-12);
	ck_assert(tf->stats->min == 2.0 && tf->stats->max == 62.0);
	mp_fp_free(fp);
	mp_model_free(m);
	free(p);
	tu_rmtree(DIR_);
	free(DIR_);
}
END_TEST

Suite *suite_gguf(void)
{
	Suite *s = suite_create("gguf");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_header_every_type);
	tcase_add_test(tc, test_header_errors);
	tcase_add_test(tc, test_shards);
	tcase_add_test(tc, test_dequant_by_hand);
	tcase_add_test(tc, test_fixtures);
	tcase_add_test(tc, test_iq2_xxs_file);
	suite_add_tcase(s, tc);
	return s;
}
