/* check_fingerprint.c — the fingerprint engine, the `tensors` method, sketch
 * positions and the JSON form. Expected hashes are computed here with
 * OpenSSL directly over the bytes the test wrote; statistics by hand or by
 * simple sums; sketch values by indexing the test's own arrays. */
#include "check_suites.h"
#include "fingerprint.h"
#include "json_write.h"
#include "testutil.h"

#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sha_hex(const void *p, size_t n, char hex[MP_SHA256_HEX])
{
	unsigned char md[32];
	unsigned int len = 0;
	ck_assert(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) == 1);
	ck_assert_uint_eq(len, 32);
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = d[md[i] >> 4];
		hex[2 * i + 1] = d[md[i] & 15];
	}
	hex[64] = '\0';
}

static mp_json *parse(const char *text)
{
	mp_json *j = NULL;
	struct mp_error err = {{0}};
	mp_status s = mp_json_parse(text, strlen(text), "test", &j, &err);
	ck_assert_msg(s == MP_OK, "%s", err.msg);
	return j;
}

/* a written as JSON text (pretty or compact), parsed and read back. */
static struct mp_fingerprint *json_roundtrip(const struct mp_fingerprint *a,
					     bool pretty, const char *name)
{
	mp_json *j = mp_fp_to_json(a);
	ck_assert_ptr_nonnull(j);
	char *text = mp_json_print(j, pretty);
	mp_json_free(j);
	j = parse(text);
	free(text);
	struct mp_fingerprint *b = NULL;
	struct mp_error err = {{0}};
	ck_assert_msg(mp_fp_from_json(j, name, &b, &err) == MP_OK, "%s",
		      err.msg);
	mp_json_free(j);
	return b;
}

/* --- in-memory models --------------------------------------------------- */

#define NBIG 1500007u /* > 5 blocks of F32, not a multiple of anything */

struct mem {
	struct mp_model m;
	struct mp_tensor t[6];
	struct mp_seg segv[6][4]; /* the segments of cut tensors */
	float a[8];
	int32_t i[3];
	uint16_t h[5];
	uint8_t q[4];
	float *big;
};

static void add(struct mem *mm, int k, const char *name, enum mp_dtype dt,
		int ndim, const uint64_t *shape, const void *data)
{
	struct mp_tensor *t = &mm->t[k];
	memset(t, 0, sizeof *t);
	t->name = (char *)name;
	t->stored = t->logical = dt;
	t->ndim = ndim;
	t->numel = 1;
	for (int d = 0; d < ndim; d++) {
		t->shape[d] = shape[d];
		t->numel *= shape[d];
	}
	t->nbytes = t->numel * mp_dtype_size(dt);
	t->nseg = 1;
	t->seg1.data = data;
	t->seg1.len = t->nbytes;
}

/* Cut tensor k's single segment at the given byte offsets (ascending). */
static void cut(struct mem *mm, int k, const uint64_t *at, int ncut)
{
	struct mp_tensor *t = &mm->t[k];
	const uint8_t *base = t->seg1.data;
	uint64_t prev = 0;
	ck_assert_int_lt(ncut, 4);
	t->segs = mm->segv[k];
	for (int c = 0; c <= ncut; c++) {
		uint64_t end = c < ncut ? at[c] : t->nbytes;
		t->segs[c].data = base + prev;
		t->segs[c].len = end - prev;
		prev = end;
	}
	t->nseg = ncut + 1;
}

static void mem_init(struct mem *mm)
{
	memset(mm, 0, sizeof *mm);
	for (int k = 0; k < 8; k++)
		mm->a[k] = (float)(k + 1);
	mm->i[0] = 7;
	mm->i[1] = -3;
	mm->i[2] = 100000;
	/* 1, 2, -0.5, 0.25, 65504 as float16 */
	const uint16_t h[5] = {0x3C00, 0x4000, 0xB800, 0x3400, 0x7BFF};
	memcpy(mm->h, h, sizeof h);
	const uint8_t q[4] = {0, 1, 2, 255};
	memcpy(mm->q, q, sizeof q);
	mm->big = malloc(NBIG * sizeof *mm->big);
	ck_assert_ptr_nonnull(mm->big);
	uint64_t rs = 42;
	for (uint32_t k = 0; k < NBIG; k++)
		mm->big[k] = (float)tu_rand_normal(&rs);

	add(mm, 0, "a", MP_F32, 2, (uint64_t[]){2, 4}, mm->a);
	cut(mm, 0, (uint64_t[]){10}, 1); /* value 3 straddles the cut */
	add(mm, 1, "i", MP_I32, 1, (uint64_t[]){3}, mm->i);
	add(mm, 2, "h", MP_F16, 1, (uint64_t[]){5}, mm->h);
	add(mm, 3, "big", MP_F32, 2, (uint64_t[]){NBIG, 1}, mm->big);
	/* segments cutting blocks and values at odd places */
	cut(mm, 3, (uint64_t[]){1, (1u << 20) + 3, 3000001}, 3);
	add(mm, 4, "q", MP_U8, 1, (uint64_t[]){4}, mm->q);
	mm->t[4].logical = MP_F32;
	mm->t[4].quant = (struct mp_quant){MP_QUANT_AFFINE, 0.5, -1.0};
	mm->m.path = "mem";
	mm->m.format = "test";
	mm->m.tensors = mm->t;
	mm->m.ntensors = 5;
}

static void mem_done(struct mem *mm)
{
	free(mm->big);
}

static struct mp_fingerprint *run_tensors(const struct mp_model *m,
					  const char *args, int threads)
{
	mp_json *a = args ? parse(args) : NULL;
	struct mp_fingerprint *fp = NULL;
	struct mp_error err = {{0}};
	mp_status s = mp_fp_compute(m, "tensors", a, threads, NULL, &fp, &err);
	ck_assert_msg(s == MP_OK, "%s", err.msg);
	mp_json_free(a);
	return fp;
}

static bool close_rel(double x, double want, double rel)
{
	return fabs(x - want) <= rel * (fabs(want) > 1 ? fabs(want) : 1);
}

START_TEST(test_tensors_method)
{
	struct mem mm;
	mem_init(&mm);
	struct mp_fingerprint *fp = run_tensors(&mm.m, NULL, 3);
	ck_assert_str_eq(fp->method, "tensors");
	ck_assert_str_eq(fp->format, "test");
	ck_assert_uint_eq(fp->ntensors, 5);
	ck_assert_uint_eq(fp->params, 8 + 3 + 5 + NBIG + 4);
	ck_assert_uint_eq(fp->dtype_params[MP_F32], 8 + NBIG + 4);
	ck_assert_uint_eq(fp->dtype_params[MP_I32], 3);
	ck_assert_uint_eq(fp->dtype_params[MP_F16], 5);
	ck_assert_uint_eq(fp->dtype_params[MP_U8], 0);
	ck_assert(fp->seconds >= 0);

	/* hashes of the stored bytes */
	char hex[MP_SHA256_HEX];
	const void *data[5] = {mm.a, mm.i, mm.h, mm.big, mm.q};
	for (int k = 0; k < 5; k++) {
		const struct mp_tensor_fp *t = mp_fp_find(fp, mm.t[k].name);
		ck_assert_ptr_eq(t, &fp->tensors[k]);
		sha_hex(data[k], mm.t[k].nbytes, hex);
		ck_assert_str_eq(t->sha256, hex);
		ck_assert_uint_eq(t->numel, mm.t[k].numel);
		ck_assert_int_eq(t->ndim, mm.t[k].ndim);
	}
	ck_assert_ptr_null(mp_fp_find(fp, "nope"));

	/* a: values 1..8 */
	const struct mp_tensor_fp *a = &fp->tensors[0];
	ck_assert_ptr_nonnull(a->stats);
	ck_assert_uint_eq(a->stats->n, 8);
	ck_assert(a->stats->mean == 4.5);
	ck_assert(close_rel(a->stats->std, sqrt(5.25), 1e-15));
	ck_assert(a->stats->min == 1 && a->stats->max == 8);
	ck_assert(a->stats->median == 4.5);
	ck_assert(a->stats->l1_norm == 36);
	ck_assert_uint_eq(a->nsketch, 8); /* numel <= 512: every value */
	for (int k = 0; k < 8; k++)
		ck_assert(a->sketch[k] == (float)(k + 1));

	/* i: integers get a hash only */
	const struct mp_tensor_fp *ti = &fp->tensors[1];
	ck_assert_ptr_null(ti->stats);
	ck_assert_uint_eq(ti->nsketch, 0);
	ck_assert_ptr_null(ti->sketch);
	ck_assert_int_eq(ti->dtype, MP_I32);

	/* h: float16 */
	const struct mp_tensor_fp *th = &fp->tensors[2];
	const float hv[5] = {1, 2, -0.5f, 0.25f, 65504};
	ck_assert_ptr_nonnull(th->stats);
	ck_assert(
	    close_rel(th->stats->mean, (1 + 2 - 0.5 + 0.25 + 65504) / 5, 1e-15));
	ck_assert(th->stats->max == 65504 && th->stats->min == -0.5);
	ck_assert_uint_eq(th->nsketch, 5);
	for (int k = 0; k < 5; k++)
		ck_assert(th->sketch[k] == hv[k]);

	/* q: affine-dequantised bytes, logical F32 */
	const struct mp_tensor_fp *tq = &fp->tensors[4];
	ck_assert_int_eq(tq->dtype, MP_F32);
	ck_assert_int_eq(tq->stored, MP_U8);
	ck_assert_ptr_nonnull(tq->stats);
	ck_assert(tq->stats->mean == (-1 - 0.5 + 0 + 126.5) / 4);
	const float qv[4] = {-1, -0.5f, 0, 126.5f};
	for (int k = 0; k < 4; k++)
		ck_assert(tq->sketch[k] == qv[k]);

	/* big: sums in the test, sketch values at their positions */
	const struct mp_tensor_fp *tb = &fp->tensors[3];
	double sum = 0, sq = 0, mx = -INFINITY;
	for (uint32_t k = 0; k < NBIG; k++) {
		sum += mm.big[k];
		sq += (double)mm.big[k] * mm.big[k];
		if (mm.big[k] > mx)
			mx = mm.big[k];
	}
	ck_assert(close_rel(tb->stats->mean, sum / NBIG, 1e-9));
	ck_assert(close_rel(tb->stats->l2_norm, sqrt(sq), 1e-12));
	ck_assert(tb->stats->max == mx);
	ck_assert_uint_eq(tb->nsketch, MP_SKETCH_DEFAULT);
	static uint64_t pos[MP_SKETCH_DEFAULT];
	ck_assert_uint_eq(mp_sketch_positions(tb->shape, 2, NBIG, 0,
					      MP_SKETCH_DEFAULT, pos),
			  MP_SKETCH_DEFAULT);
	for (int k = 0; k < MP_SKETCH_DEFAULT; k++)
		ck_assert(tb->sketch[k] == mm.big[pos[k]]);
	mp_fp_free(fp);
	mem_done(&mm);
}
END_TEST

/* Same tensor results; statistics bit-exact, or to rel (a JSON trip). */
static void same_fp_tol(const struct mp_fingerprint *x,
			const struct mp_fingerprint *y, double rel)
{
	ck_assert_uint_eq(x->ntensors, y->ntensors);
	ck_assert_uint_eq(x->params, y->params);
	for (size_t i = 0; i < x->ntensors; i++) {
		const struct mp_tensor_fp *a = &x->tensors[i],
					  *b = &y->tensors[i];
		ck_assert_str_eq(a->name, b->name);
		ck_assert_str_eq(a->sha256, b->sha256);
		ck_assert_int_eq((a->stats != NULL), (b->stats != NULL));
		if (rel == 0) {
			ck_assert(!a->stats || memcmp(a->stats, b->stats,
						      sizeof *a->stats) == 0);
		} else {
			if (!a->stats)
				continue;
			struct mp_tstats sa = *a->stats, sb = *b->stats;
			for (int f = 0; f < MP_TSTATS_NFIELDS; f++) {
				double u = *mp_tstats_field(&sa, f);
				double v = *mp_tstats_field(&sb, f);
				ck_assert_msg((isnan(u) && isnan(v)) ||
						  close_rel(v, u, rel),
					      "%s.%s: %.17g vs %.17g", a->name,
					      mp_tstats_field_name(f), u, v);
			}
			ck_assert_uint_eq(sa.n, sb.n);
			ck_assert_uint_eq(sa.nonfinite, sb.nonfinite);
		}
		ck_assert_uint_eq(a->nsketch, b->nsketch);
		if (a->nsketch)
			ck_assert(memcmp(a->sketch, b->sketch,
					 a->nsketch * sizeof(float)) == 0);
	}
}

static void same_fp(const struct mp_fingerprint *x,
		    const struct mp_fingerprint *y)
{
	same_fp_tol(x, y, 0);
}

START_TEST(test_threads_identical)
{
	struct mem mm;
	mem_init(&mm);
	struct mp_fingerprint *f1 = run_tensors(&mm.m, NULL, 1);
	struct mp_fingerprint *f4 = run_tensors(&mm.m, NULL, 4);
	struct mp_fingerprint *f0 = run_tensors(&mm.m, NULL, 0);
	same_fp(f1, f4);
	same_fp(f1, f0);
	mp_fp_free(f1);
	mp_fp_free(f4);
	mp_fp_free(f0);
	mem_done(&mm);
}
END_TEST

START_TEST(test_args)
{
	struct mem mm;
	mem_init(&mm);
	struct mp_fingerprint *fp =
	    run_tensors(&mm.m, "{\"sketch_size\":4}", 2);
	ck_assert_uint_eq(fp->tensors[3].nsketch, 4);
	ck_assert_uint_eq(fp->tensors[0].nsketch, 4);
	/* numel 8 > 4: one value per stratum of width 2 */
	for (int k = 0; k < 4; k++) {
		float v = fp->tensors[0].sketch[k];
		ck_assert(v == (float)(2 * k + 1) || v == (float)(2 * k + 2));
	}
	struct mp_fingerprint *s1 = run_tensors(&mm.m, "{\"seed\":1}", 2);
	struct mp_fingerprint *s0 = run_tensors(&mm.m, "{\"seed\":0}", 2);
	ck_assert(memcmp(s1->tensors[3].sketch, s0->tensors[3].sketch,
			 512 * sizeof(float)) != 0);
	ck_assert_str_eq(s1->tensors[3].sha256, s0->tensors[3].sha256);
	struct mp_fingerprint *z = run_tensors(&mm.m, "{\"sketch_size\":0}", 2);
	ck_assert_uint_eq(z->tensors[3].nsketch, 0);
	ck_assert_ptr_nonnull(z->tensors[3].stats);
	mp_fp_free(fp);
	mp_fp_free(s1);
	mp_fp_free(s0);
	mp_fp_free(z);

	static const struct {
		const char *args, *want1, *want2;
	} bad[] = {
	    {"{\"foo\":1}", "foo", "sketch_size, seed"},
	    {"{\"sketch_size\":\"x\"}", "sketch_size", "number"},
	    {"{\"sketch_size\":65537}", "sketch_size", "0..65536"},
	    {"{\"sketch_size\":-1}", "sketch_size", "integer"},
	    {"{\"seed\":0.5}", "seed", "integer"},
	    {"[1]", "tensors", "object"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		mp_json *a = parse(bad[k].args);
		struct mp_error err = {{0}};
		struct mp_fingerprint *out = (void *)1;
		mp_status s =
		    mp_fp_compute(&mm.m, "tensors", a, 1, NULL, &out, &err);
		ck_assert_int_eq(s, MP_EINVAL);
		ck_assert_ptr_null(out);
		ck_assert_msg(strstr(err.msg, bad[k].want1) &&
				  strstr(err.msg, bad[k].want2),
			      "%s: %s", bad[k].args, err.msg);
		mp_json_free(a);
	}
	struct mp_error err = {{0}};
	struct mp_fingerprint *out;
	ck_assert_int_eq(
	    mp_fp_compute(&mm.m, "nope", NULL, 1, NULL, &out, &err), MP_EINVAL);
	ck_assert(strstr(err.msg, "tensors") && strstr(err.msg, "spectral"));
	mem_done(&mm);
}
END_TEST

struct prog_rec {
	pthread_mutex_t lock;
	int calls;
	uint64_t max_done, total;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct prog_rec *r = ctx;
	pthread_mutex_lock(&r->lock);
	r->calls++;
	if (done > r->max_done)
		r->max_done = done;
	r->total = total;
	pthread_mutex_unlock(&r->lock);
}

START_TEST(test_progress)
{
	struct mem mm;
	mem_init(&mm);
	struct prog_rec r = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
	struct mp_progress p = {on_progress, &r};
	struct mp_fingerprint *fp = NULL;
	struct mp_error err = {{0}};
	ck_assert_int_eq(
	    mp_fp_compute(&mm.m, "tensors", NULL, 3, &p, &fp, &err), MP_OK);
	uint64_t total = 32 + 12 + 10 + 4ull * NBIG + 4;
	ck_assert_uint_eq(r.total, total);
	ck_assert_uint_eq(r.max_done, total);
	/* throttled: about one call per 4 MiB, not one per block */
	ck_assert_int_ge(r.calls, 1);
	ck_assert_int_le(r.calls, (int)(total >> 22) + 2);
	mp_fp_free(fp);
	mem_done(&mm);
}
END_TEST

START_TEST(test_bad_segments)
{
	struct mem mm;
	mem_init(&mm);
	mm.t[0].segs[1].len -= 4; /* segments no longer cover nbytes */
	struct mp_fingerprint *fp = NULL;
	struct mp_error err = {{0}};
	ck_assert_int_eq(
	    mp_fp_compute(&mm.m, "tensors", NULL, 2, NULL, &fp, &err),
	    MP_EFORMAT);
	ck_assert_ptr_null(fp);
	ck_assert_msg(strstr(err.msg, "'a'"), "%s", err.msg);
	mem_done(&mm);
}
END_TEST

/* --- through a real file ------------------------------------------------ */

START_TEST(test_safetensors_file)
{
	char *dir = tu_tmpdir();
	char *path = tu_path(dir, "m.safetensors");
	float w[6] = {0.5f, -1, 2, 0, 3, 1e-7f};
	int32_t ids[2] = {1, 2};
	uint16_t bf[3] = {0x3F80, 0x4000, 0xC040}; /* 1, 2, -3 in bfloat16 */
	struct tu_tensor t[3] = {
	    {"w", "F32", 2, {2, 3}, w, sizeof w},
	    {"ids", "I32", 1, {2}, ids, sizeof ids},
	    {"b", "BF16", 1, {3}, bf, sizeof bf},
	};
	tu_write_safetensors(path, t, 3, NULL);
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	static uint8_t buf[4096];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	char want[MP_SHA256_HEX];
	sha_hex(buf, n, want);

	struct mp_model *m = NULL;
	struct mp_error err = {{0}};
	ck_assert_msg(mp_model_open(path, &m, &err) == MP_OK, "%s", err.msg);
	struct mp_fingerprint *fp = run_tensors(m, NULL, 2);
	ck_assert_str_eq(fp->format, "safetensors");
	ck_assert_uint_eq(fp->nfiles, 1);
	ck_assert_uint_eq(fp->files[0].size, n);
	ck_assert_str_eq(fp->files[0].sha256, want);
	ck_assert_uint_eq(fp->params, 11);
	ck_assert_uint_eq(fp->dtype_params[MP_F32], 6);
	ck_assert_uint_eq(fp->dtype_params[MP_I32], 2);
	ck_assert_uint_eq(fp->dtype_params[MP_BF16], 3);
	const struct mp_tensor_fp *tw = mp_fp_find(fp, "w");
	const struct mp_tensor_fp *tid = mp_fp_find(fp, "ids");
	const struct mp_tensor_fp *tb = mp_fp_find(fp, "b");
	ck_assert(tw && tid && tb);
	sha_hex(w, sizeof w, want);
	ck_assert_str_eq(tw->sha256, want);
	sha_hex(ids, sizeof ids, want);
	ck_assert_str_eq(tid->sha256, want);
	sha_hex(bf, sizeof bf, want);
	ck_assert_str_eq(tb->sha256, want);
	ck_assert_ptr_null(tid->stats);
	ck_assert((tb->stats != NULL) && tb->stats->mean == 0);
	ck_assert(tw->stats->max == 3 && tw->stats->min == -1);
	ck_assert(tw->stats->sparsity == 2.0 / 6); /* 0 and 1e-7 */
	mp_fp_free(fp);
	mp_model_free(m);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* --- sketch positions --------------------------------------------------- */

START_TEST(test_sketch_positions)
{
	static uint64_t p[1000], q[1000], r[1000];
	const uint64_t shape[2] = {999, 1001};
	uint64_t numel = 999 * 1001;
	uint32_t k = 1000;
	ck_assert_uint_eq(mp_sketch_positions(shape, 2, numel, 7, k, p), k);
	for (uint32_t i = 0; i < k; i++) {
		uint64_t lo = (uint64_t)i * numel / k;
		uint64_t hi = (uint64_t)(i + 1) * numel / k;
		ck_assert_uint_ge(p[i], lo);
		ck_assert_uint_lt(p[i], hi);
		if (i)
			ck_assert_uint_gt(p[i], p[i - 1]);
	}
	ck_assert_uint_lt(p[k - 1], numel);
	/* depends only on shape and seed */
	const uint64_t shape2[2] = {999, 1001};
	mp_sketch_positions(shape2, 2, numel, 7, k, q);
	ck_assert(memcmp(p, q, sizeof p) == 0);
	mp_sketch_positions(shape, 2, numel, 8, k, r);
	ck_assert(memcmp(p, r, sizeof p) != 0);
	const uint64_t shape3[2] = {1001, 999};
	mp_sketch_positions(shape3, 2, numel, 7, k, r);
	ck_assert(memcmp(p, r, sizeof p) != 0);
	/* positions spread: not all at the start of their stratum */
	int at_lo = 0;
	for (uint32_t i = 0; i < k; i++)
		at_lo += p[i] == (uint64_t)i * numel / k;
	ck_assert_int_lt(at_lo, 50);

	/* numel <= k: every position */
	const uint64_t s5[1] = {5};
	ck_assert_uint_eq(mp_sketch_positions(s5, 1, 5, 3, 10, p), 5);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(p[i], (uint64_t)i);
	ck_assert_uint_eq(mp_sketch_positions(s5, 1, 5, 3, 5, p), 5);
	ck_assert_uint_eq(p[4], 4);
	/* numel = k + 1: distinct and in range */
	const uint64_t s11[1] = {11};
	ck_assert_uint_eq(mp_sketch_positions(s11, 1, 11, 3, 10, p), 10);
	for (int i = 1; i < 10; i++)
		ck_assert_uint_gt(p[i], p[i - 1]);
	ck_assert_uint_lt(p[9], 11);
	/* huge numel: no overflow in the strata */
	const uint64_t sh[2] = {1ull << 32, 1ull << 31};
	ck_assert_uint_eq(mp_sketch_positions(sh, 2, 1ull << 63, 1, 1000, p),
			  1000);
	for (uint32_t i = 0; i < 1000; i++) {
		unsigned __int128 lo =
		    (unsigned __int128)i * (1ull << 63) / 1000;
		unsigned __int128 hi =
		    (unsigned __int128)(i + 1) * (1ull << 63) / 1000;
		ck_assert(p[i] >= lo && p[i] < hi);
	}
	ck_assert_uint_eq(mp_sketch_positions(s5, 1, 0, 3, 10, p), 0);
}
END_TEST

/* --- find --------------------------------------------------------------- */

START_TEST(test_find)
{
	struct mp_fingerprint fp;
	memset(&fp, 0, sizeof fp);
	static char *names[] = {"z", "a", "m", "a", "b", "y"};
	struct mp_tensor_fp t[6];
	memset(t, 0, sizeof t);
	for (int i = 0; i < 6; i++)
		t[i].name = names[i];
	fp.tensors = t;
	fp.ntensors = 6;
	ck_assert_ptr_eq(mp_fp_find(&fp, "a"), &t[1]); /* linear */
	ck_assert_int_eq(mp_fp_index(&fp, NULL), MP_OK);
	for (int i = 0; i < 6; i++)
		ck_assert_ptr_eq(mp_fp_find(&fp, names[i]),
				 &t[i == 3 ? 1 : i]); /* first "a" */
	ck_assert_ptr_null(mp_fp_find(&fp, ""));
	ck_assert_ptr_null(mp_fp_find(&fp, "c"));
	ck_assert_ptr_null(mp_fp_find(&fp, "zz"));
	free(fp.by_name);
}
END_TEST

/* --- JSON --------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* A fingerprint with every field set, including awkward float bits. */
static struct mp_fingerprint *full_fp(void)
{
	struct mp_fingerprint *fp = calloc(1, sizeof *fp);
	ck_assert_ptr_nonnull(fp);
	fp->method = xstrdup("tensors");
	fp->model_id = xstrdup("org/model-1");
	fp->format = xstrdup("safetensors");
	fp->args = parse("{\"sketch_size\":3,\"seed\":9}");
	fp->params = 123456789012345ull;
	fp->seconds = 0.125;
	fp->dtype_params[MP_F32] = 24;
	fp->dtype_params[MP_I8] = 5;
	fp->nfiles = 2;
	fp->files = calloc(2, sizeof *fp->files);
	fp->files[0].path = xstrdup("/x/a.bin");
	fp->files[0].size = 123456789;
	memset(fp->files[0].sha256, 'a', 64);
	fp->files[1].path = xstrdup("b \"quoted\".bin");
	fp->files[1].size = 0;
	memcpy(
	    fp->files[1].sha256,
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    65);
	fp->ntensors = 3;
	fp->tensors = calloc(3, sizeof *fp->tensors);
	struct mp_tensor_fp *t = fp->tensors;
	ck_assert_int_eq(mp_tensor_fp_init(&t[0], "layer.0.weight", 3,
					   (const uint64_t[]){2, 3, 4}),
			 MP_OK);
	t[0].dtype = MP_F32;
	t[0].stored = MP_BF16;
	t[0].numel = 24;
	memset(t[0].sha256, 'f', 64);
	t[0].stats = calloc(1, sizeof *t[0].stats);
	for (int i = 0; i < MP_TSTATS_NFIELDS; i++)
		*mp_tstats_field(t[0].stats, i) = (i + 1) / 8.0 - 1;
	t[0].stats->kurtosis = NAN;
	t[0].stats->n = 23;
	t[0].stats->nonfinite = 1;
	t[0].nsketch = 5;
	t[0].sketch = malloc(5 * sizeof(float));
	const uint32_t bits[5] = {0x7FC00001, 0x80000000, 0x00000001,
				  0x7F800000, 0x3DCCCCCD};
	memcpy(t[0].sketch, bits, sizeof bits);
	ck_assert_ptr_nonnull(mp_tensor_fp_spec(&t[0], 3));
	t[0].spec->sv[0] = 3.5;
	t[0].spec->sv[1] = 0.1;
	t[0].spec->sv[2] = 0;
	t[0].spec->rows = 2;
	t[0].spec->cols = 12;
	t[0].spec->sigma1 = 3.5;
	t[0].spec->stable_rank = 1.0009;
	t[0].spec->effective_rank = 1.2;
	t[0].spec->sv_exact = true;
	ck_assert_int_eq(
	    mp_tensor_fp_init(&t[1], "ids", 1, (const uint64_t[]){5}), MP_OK);
	t[1].dtype = t[1].stored = MP_I8;
	t[1].numel = 5;
	memset(t[1].sha256, '0', 64);
	ck_assert_int_eq(mp_tensor_fp_init(&t[2], "scalar", 0, NULL), MP_OK);
	t[2].dtype = t[2].stored = MP_F64;
	t[2].numel = 1;
	fp->has_hist = true;
	for (int i = 0; i < MP_SPECTRAL_BINS; i++)
		fp->hist[i] = i / 64.0;
	return fp;
}

static bool same_num(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* Written as it is produced, a fingerprint is the text of its tree as
 * mp_json_print prints it (the tree read back in test_json_roundtrip), as
 * a member of an object too. */
START_TEST(test_json_streamed)
{
	struct mp_fingerprint *a = full_fp();
	for (int pretty = 0; pretty < 2; pretty++) {
		mp_json *doc = mp_json_object();
		mp_json_set(doc, "fp", mp_fp_to_json(a));
		char *want = mp_json_print(doc, pretty);
		mp_json_free(doc);
		char *got = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&got, &len);
		struct mp_jw *w = mp_jw_new(f, pretty);
		mp_jw_obj(w, NULL);
		ck_assert(mp_fp_write_json(w, "fp", a));
		mp_jw_end(w);
		ck_assert(mp_jw_free(w));
		fclose(f);
		ck_assert_str_eq(got, want);
		free(got);
		free(want);
	}
	mp_fp_free(a);
}
END_TEST

START_TEST(test_json_roundtrip)
{
	struct mp_fingerprint *a = full_fp();
	struct mp_fingerprint *b = json_roundtrip(a, true, "rt.json");
	ck_assert_str_eq(b->method, "tensors");
	ck_assert_str_eq(b->model_id, "org/model-1");
	ck_assert_str_eq(b->format, "safetensors");
	ck_assert(mp_json_num(mp_json_get(b->args, "sketch_size")) == 3);
	ck_assert(mp_json_num(mp_json_get(b->args, "seed")) == 9);
	ck_assert_uint_eq(mp_json_size(b->args), 2);
	ck_assert_uint_eq(b->params, 123456789012345ull);
	ck_assert(b->seconds == 0.125);
	for (int d = 0; d < MP_DTYPE_COUNT; d++)
		ck_assert_uint_eq(b->dtype_params[d], a->dtype_params[d]);
	ck_assert_uint_eq(b->nfiles, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_str_eq(b->files[i].path, a->files[i].path);
		ck_assert_uint_eq(b->files[i].size, a->files[i].size);
		ck_assert_str_eq(b->files[i].sha256, a->files[i].sha256);
	}
	ck_assert_uint_eq(b->ntensors, 3);
	for (int i = 0; i < 3; i++) {
		const struct mp_tensor_fp *x = &a->tensors[i],
					  *y = &b->tensors[i];
		ck_assert_str_eq(y->name, x->name);
		ck_assert_int_eq(y->dtype, x->dtype);
		ck_assert_int_eq(y->stored, x->stored);
		ck_assert_int_eq(y->ndim, x->ndim);
		for (int d = 0; d < x->ndim; d++)
			ck_assert_uint_eq(y->shape[d], x->shape[d]);
		ck_assert_uint_eq(y->numel, x->numel);
		ck_assert_str_eq(y->sha256, x->sha256);
		ck_assert_int_eq((y->stats != NULL), (x->stats != NULL));
		struct mp_tstats none = {0};
		struct mp_tstats sx = x->stats ? *x->stats : none,
				 sy = y->stats ? *y->stats : none;
		for (int f = 0; f < MP_TSTATS_NFIELDS; f++)
			ck_assert_msg(same_num(*mp_tstats_field(&sx, f),
					       *mp_tstats_field(&sy, f)),
				      "%s", mp_tstats_field_name(f));
		ck_assert_uint_eq(sy.n, sx.n);
		ck_assert_uint_eq(sy.nonfinite, sx.nonfinite);
		ck_assert_uint_eq(y->nsketch, x->nsketch);
		if (x->nsketch)
			ck_assert(memcmp(y->sketch, x->sketch,
					 x->nsketch * sizeof(float)) == 0);
		ck_assert_uint_eq(NSV(*y), NSV(*x));
		for (uint32_t k = 0; k < NSV(*x); k++)
			ck_assert(y->spec->sv[k] == x->spec->sv[k]);
		ck_assert_int_eq(y->spec != NULL, x->spec != NULL);
		if (!x->spec)
			continue;
		ck_assert_uint_eq(y->spec->rows, x->spec->rows);
		ck_assert_uint_eq(y->spec->cols, x->spec->cols);
		ck_assert(same_num(y->spec->sigma1, x->spec->sigma1));
		ck_assert(same_num(y->spec->stable_rank, x->spec->stable_rank));
		ck_assert(
		    same_num(y->spec->effective_rank, x->spec->effective_rank));
		ck_assert_int_eq(y->spec->sv_exact, x->spec->sv_exact);
	}
	ck_assert(isnan(b->tensors[0].stats->kurtosis));
	ck_assert_str_eq(b->tensors[2].sha256, ""); /* unset stays unset */
	ck_assert(b->has_hist);
	for (int i = 0; i < MP_SPECTRAL_BINS; i++)
		ck_assert(b->hist[i] == a->hist[i]);
	ck_assert_ptr_eq(mp_fp_find(b, "ids"), &b->tensors[1]);
	mp_fp_free(a);
	mp_fp_free(b);
}
END_TEST

/* Numbers must survive print + parse bit-exactly (needs 17 significant
 * digits where 15 do not round-trip). */
/* A vector fingerprint (weight, input_output) keeps every digit of its
 * vector and its note; a fingerprint without one reads back without. */
START_TEST(test_json_vector_roundtrip)
{
	struct mp_fingerprint *a = full_fp();
	static const double v[4] = {0.1, 1.0 / 3, 2e-300, 0};
	a->vec = malloc(sizeof v);
	memcpy(a->vec, v, sizeof v);
	a->nvec = 4;
	a->vec_note = strdup("(a (b c))");
	struct mp_fingerprint *b = json_roundtrip(a, true, "v.json");
	ck_assert_uint_eq(b->nvec, 4);
	for (int i = 0; i < 4; i++)
		ck_assert(b->vec[i] == v[i]);
	ck_assert_str_eq(b->vec_note, "(a (b c))");
	mp_fp_free(b);
	free(a->vec);
	free(a->vec_note);
	a->vec = NULL;
	a->vec_note = NULL;
	a->nvec = 0;
	mp_json *j = mp_fp_to_json(a);
	ck_assert_ptr_null(mp_json_get(j, "vector"));
	mp_json_free(j);
	b = json_roundtrip(a, true, "v.json");
	ck_assert_uint_eq(b->nvec, 0);
	ck_assert_ptr_null(b->vec);
	mp_fp_free(b);
	mp_fp_free(a);
}
END_TEST

START_TEST(test_json_precision)
{
	struct mp_fingerprint *a = full_fp();
	a->params = 9007199254740991ull; /* 2^53 - 1 */
	a->tensors[0].stats->mean = 0.1 + 0.2;
	a->tensors[0].spec->sv[1] = 1.0 / 3;
	a->seconds = 2.0 / 3;
	struct mp_fingerprint *b = json_roundtrip(a, false, "p.json");
	ck_assert_uint_eq(b->params, 9007199254740991ull);
	ck_assert_msg(b->tensors[0].stats->mean == 0.1 + 0.2, "%.17g",
		      b->tensors[0].stats->mean);
	ck_assert(b->tensors[0].spec->sv[1] == 1.0 / 3);
	ck_assert(b->seconds == 2.0 / 3);
	mp_fp_free(a);
	mp_fp_free(b);
}
END_TEST

START_TEST(test_json_computed_roundtrip)
{
	struct mem mm;
	mem_init(&mm);
	struct mp_fingerprint *a = run_tensors(&mm.m, NULL, 2);
	struct mp_fingerprint *b = json_roundtrip(a, false, "c.json");
	/* bit-exactness of numbers through JSON is test_json_precision's */
	same_fp_tol(a, b, 1e-14);
	mp_fp_free(a);
	mp_fp_free(b);
	mem_done(&mm);
}
END_TEST

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define GOOD_FILES "[{\"path\":\"a\",\"size\":4,\"sha256\":\"" SHA_A "\"}]"
#define GOOD_TENSOR                                                            \
	"{\"name\":\"w\",\"dtype\":\"F32\",\"stored_dtype\":\"F16\","          \
	"\"shape\":[2,2],\"numel\":4,\"sha256\":\"" SHA_A "\","                \
	"\"sketch\":\"AACAPwAAAEA=\"}"

/* Fingerprint text with the given files, tensor and trailing members; the
 * default top-level members are added unless the tail sets them. */
static char *fp_text(const char *top, const char *files, const char *tensor,
		     const char *tail)
{
	static const char *const defs[][2] = {
	    {"\"format\"", ",\"format\":\"x\""},
	    {"\"args\"", ",\"args\":{}"},
	    {"\"params\"", ",\"params\":4"},
	    {"\"seconds\"", ",\"seconds\":1"},
	    {"\"dtype_params\"", ",\"dtype_params\":{\"F32\":4}"},
	};
	size_t n =
	    strlen(top) + strlen(files) + strlen(tensor) + strlen(tail) + 200;
	char *s = malloc(n);
	ck_assert_ptr_nonnull(s);
	snprintf(s, n, "{%s\"files\":%s,\"tensors\":[%s]%s", top, files, tensor,
		 tail);
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		if (!strstr(tail, defs[i][0]))
			strcat(s, defs[i][1]);
	strcat(s, "}");
	return s;
}

static mp_status load(const char *text, struct mp_error *err)
{
	mp_json *j = parse(text);
	struct mp_fingerprint *fp = (void *)1;
	mp_status s = mp_fp_from_json(j, "bad.json", &fp, err);
	if (s == MP_OK)
		mp_fp_free(fp);
	else
		ck_assert_ptr_null(fp);
	mp_json_free(j);
	return s;
}

#define M "\"method\":\"tensors\","
#define STATS_OK                                                               \
	"\"mean\":1,\"std\":1,\"min\":1,\"max\":1,\"median\":1,\"q25\":1,"     \
	"\"q75\":1,\"iqr\":1,\"mad\":1,\"skew\":null,\"kurtosis\":1,"          \
	"\"l1_norm\":1,\"l2_norm\":1,\"linf_norm\":1,\"sparsity\":0,"          \
	"\"energy_concentration\":1"
#define T(x)                                                                   \
	"{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":[2,2],\"numel\":4," x "}"

/* Tensor names reach the errors of a fingerprint file escaped (found by
 * fuzz_fingerprint): a control byte in the name of a tensor whose shape,
 * sketch or singular values are wrong. */
START_TEST(test_json_names_escaped)
{
	static const char *const tensors[] = {
		"{\"name\":\"a\\u0001b\",\"dtype\":\"F32\",\"shape\":3}",
		"{\"name\":\"a\\u0001b\",\"dtype\":\"F32\",\"shape\":[2],"
		"\"numel\":2,\"sketch\":7}",
		"{\"name\":\"a\\u0001b\",\"dtype\":\"F32\",\"shape\":[2],"
		"\"numel\":2,\"sv\":7}",
	};
	for (size_t i = 0; i < 3; i++) {
		struct mp_error err = {{0}};
		char *s = fp_text(M, GOOD_FILES, tensors[i], "");
		ck_assert_int_eq(load(s, &err), MP_EFORMAT);
		ck_assert_msg(strstr(err.msg, "tensor 'a\\x01b'") &&
				      !strchr(err.msg, '\x01'),
			      "case %zu: %s", i, err.msg);
		free(s);
	}
}
END_TEST

START_TEST(test_json_good_base)
{
	struct mp_error err = {{0}};
	char *s = fp_text(M, GOOD_FILES, GOOD_TENSOR, "");
	ck_assert_msg(load(s, &err) == MP_OK, "%s", err.msg);
	free(s);
	/* decoded sketch: 1.0f, 2.0f */
	s = fp_text(M, GOOD_FILES, GOOD_TENSOR, "");
	mp_json *j = parse(s);
	struct mp_fingerprint *fp;
	ck_assert_int_eq(mp_fp_from_json(j, "g", &fp, &err), MP_OK);
	ck_assert_uint_eq(fp->tensors[0].nsketch, 2);
	ck_assert(fp->tensors[0].sketch[0] == 1.0f);
	ck_assert(fp->tensors[0].sketch[1] == 2.0f);
	ck_assert_int_eq(fp->tensors[0].stored, MP_F16);
	mp_fp_free(fp);
	mp_json_free(j);
	free(s);
	s = fp_text(M, GOOD_FILES,
		    T("\"stats\":{" STATS_OK ",\"n\":4,"
		      "\"nonfinite\":0}"),
		    "");
	j = parse(s);
	ck_assert_msg(mp_fp_from_json(j, "g", &fp, &err) == MP_OK, "%s",
		      err.msg);
	ck_assert(isnan(fp->tensors[0].stats->skew));
	ck_assert(fp->tensors[0].stats->kurtosis == 1);
	mp_fp_free(fp);
	mp_json_free(j);
	free(s);
}
END_TEST

/* sketch_qk_heads: read back, written back, and the sketch order of a
 * GGUF Q/K matrix without it (a fingerprint written before modelprint
 * undid llama.cpp's permutation in sketches) marked as stored. */
#define QK_TENSOR(name, x)                                                     \
	"{\"name\":\"" name "\",\"dtype\":\"F32\",\"shape\":[4,2],"           \
	"\"numel\":8,\"sketch\":\"AACAPwAAAEA=\"" x "}"
#define LLAMA ",\"meta\":{\"general.architecture\":\"llama\"}"
#define QWEN2 ",\"meta\":{\"general.architecture\":\"qwen2\"}"

static struct mp_fingerprint *qk_load(const char *tensor, const char *tail)
{
	char *s = fp_text(M, GOOD_FILES, tensor, tail);
	mp_json *j = parse(s);
	struct mp_fingerprint *fp;
	struct mp_error err = {{0}};
	ck_assert_msg(mp_fp_from_json(j, "g", &fp, &err) == MP_OK, "%s",
		      err.msg);
	mp_json_free(j);
	free(s);
	return fp;
}

START_TEST(test_json_qk_heads)
{
	static const struct {
		const char *tensor, *tail;
		uint32_t heads;
		bool permuted;
	} c[] = {
	    {QK_TENSOR("blk.0.attn_q.weight", ",\"sketch_qk_heads\":2"), LLAMA,
	     2, false},
	    {QK_TENSOR("blk.0.attn_k.weight", ",\"sketch_qk_heads\":1"), LLAMA,
	     1, false},
	    {QK_TENSOR("blk.0.attn_q.weight", ""), LLAMA, 0, true},
	    {QK_TENSOR("blk.3.attn_k.weight", ""), LLAMA, 0, true},
	    /* Qwen2's converter does not permute; V is never permuted */
	    {QK_TENSOR("blk.0.attn_q.weight", ""), QWEN2, 0, false},
	    {QK_TENSOR("blk.0.attn_v.weight", ""), LLAMA, 0, false},
	    {QK_TENSOR("model.layers.0.self_attn.q_proj.weight", ""), LLAMA, 0,
	     false},
	    {QK_TENSOR("blk.0.attn_q.weight", ""), "", 0, false},
	};
	for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
		struct mp_fingerprint *fp = qk_load(c[k].tensor, c[k].tail);
		const struct mp_tensor_fp *t = &fp->tensors[0];
		ck_assert_msg(t->sketch_heads == c[k].heads &&
				  t->sketch_permuted == c[k].permuted,
			      "case %zu: heads %u permuted %d", k,
			      t->sketch_heads, t->sketch_permuted);
		mp_json *tree = mp_fp_to_json(fp);
		ck_assert_ptr_nonnull(tree);
		char *out = mp_json_print(tree, false);
		mp_json_free(tree);
		ck_assert_ptr_nonnull(out);
		ck_assert_msg(!strstr(out, "\"sketch_qk_heads\"") == !c[k].heads,
			      "case %zu: %s", k, out);
		free(out);
		mp_fp_free(fp);
	}
	/* a stored-order sketch and a Hugging Face-order one do not align */
	struct mp_fingerprint *a = qk_load(
	    QK_TENSOR("blk.0.attn_q.weight", ",\"sketch_qk_heads\":2"), LLAMA);
	struct mp_fingerprint *b =
	    qk_load(QK_TENSOR("blk.0.attn_q.weight", ""), LLAMA);
	struct mp_fingerprint *h = qk_load(
	    QK_TENSOR("model.layers.0.self_attn.q_proj.weight", ""), "");
	ck_assert(mp_fp_sketches_aligned(&a->tensors[0], &h->tensors[0]));
	ck_assert(!mp_fp_sketches_aligned(&b->tensors[0], &h->tensors[0]));
	ck_assert(!mp_fp_sketches_aligned(&a->tensors[0], &b->tensors[0]));
	mp_fp_free(a);
	mp_fp_free(b);
	mp_fp_free(h);
	/* hostile values: one error naming the file, the tensor and field */
	static const char *const bad[] = {
	    QK_TENSOR("blk.0.attn_q.weight", ",\"sketch_qk_heads\":0"),
	    QK_TENSOR("blk.0.attn_q.weight", ",\"sketch_qk_heads\":3"),
	    QK_TENSOR("blk.0.attn_q.weight", ",\"sketch_qk_heads\":4"),
	    QK_TENSOR("blk.0.attn_q.weight", ",\"sketch_qk_heads\":-2"),
	    QK_TENSOR("blk.0.attn_q.weight", ",\"sketch_qk_heads\":1.5"),
	    QK_TENSOR("blk.0.attn_q.weight", ",\"sketch_qk_heads\":\"2\""),
	    QK_TENSOR("blk.0.attn_q.weight",
		      ",\"sketch_qk_heads\":99999999999999999999"),
	    "{\"name\":\"blk.0.attn_q.weight\",\"dtype\":\"F32\",\"shape\":[8],"
	    "\"numel\":8,\"sketch\":\"AACAPwAAAEA=\",\"sketch_qk_heads\":1}",
	    "{\"name\":\"blk.0.attn_q.weight\",\"dtype\":\"F32\",\"shape\":[4,"
	    "2],\"numel\":8,\"sketch_qk_heads\":1}",
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		char *s = fp_text(M, GOOD_FILES, bad[k], LLAMA);
		struct mp_error err = {{0}};
		ck_assert_msg(load(s, &err) == MP_EFORMAT, "case %zu: %s", k, s);
		ck_assert_msg(strstr(err.msg, "bad.json: tensor "
					      "'blk.0.attn_q.weight': "
					      "sketch_qk_heads"),
			      "case %zu: %s", k, err.msg);
		free(s);
	}
}
END_TEST

/* sketch_offset and transposed: a Gemma norm's sketch without the
 * member (written before modelprint took the converter's 1 off) has it
 * taken off once, and a fingerprint written back and read again keeps
 * it; a GPT-2 Conv1D matrix without "transposed" is marked transposed
 * with its sketch in the stored layout; hostile values are errors. */
#define NORM_TENSOR(x)                                                         \
	"{\"name\":\"output_norm.weight\",\"dtype\":\"F32\",\"shape\":[8],"   \
	"\"numel\":8,\"sketch\":\"AACAPwAAAEA=\"" x "}"
#define GEMMA ",\"meta\":{\"general.architecture\":\"gemma\"}"
#define GPT2 ",\"meta\":{\"general.architecture\":\"gpt2\"}"

START_TEST(test_json_layout)
{
	struct mp_fingerprint *fp = qk_load(NORM_TENSOR(""), GEMMA);
	ck_assert(fp->tensors[0].sketch_offset == 1);
	ck_assert(fp->tensors[0].sketch[0] == 0.0f);
	ck_assert(fp->tensors[0].sketch[1] == 1.0f);
	mp_json *tree = mp_fp_to_json(fp);
	struct mp_fingerprint *again;
	struct mp_error err = {{0}};
	ck_assert_int_eq(mp_fp_from_json(tree, "g", &again, &err), MP_OK);
	ck_assert(again->tensors[0].sketch_offset == 1);
	ck_assert(again->tensors[0].sketch[0] == 0.0f);
	ck_assert(again->tensors[0].sketch[1] == 1.0f);
	mp_json_free(tree);
	mp_fp_free(again);
	mp_fp_free(fp);
	fp = qk_load(NORM_TENSOR(",\"sketch_offset\":1"), GEMMA);
	ck_assert(fp->tensors[0].sketch[0] == 1.0f);
	mp_fp_free(fp);
	fp = qk_load(NORM_TENSOR(""), LLAMA); /* LLaMA's norms are as stored */
	ck_assert(fp->tensors[0].sketch_offset == 0);
	ck_assert(fp->tensors[0].sketch[0] == 1.0f);
	mp_fp_free(fp);

	fp = qk_load(QK_TENSOR("blk.0.attn_qkv.weight", ""), GPT2);
	ck_assert(fp->tensors[0].transposed && fp->tensors[0].sketch_permuted);
	mp_fp_free(fp);
	fp = qk_load(QK_TENSOR("blk.0.attn_qkv.weight", ",\"transposed\":true"),
		     GPT2);
	ck_assert(fp->tensors[0].transposed && !fp->tensors[0].sketch_permuted);
	mp_fp_free(fp);

	static const char *const bad[] = {
	    NORM_TENSOR(",\"sketch_offset\":\"1\""),
	    NORM_TENSOR(",\"sketch_offset\":0"),
	    NORM_TENSOR(",\"transposed\":true"),
	    QK_TENSOR("output_norm.weight", ",\"transposed\":1"),
	    "{\"name\":\"output_norm.weight\",\"dtype\":\"F32\",\"shape\":[8],"
	    "\"numel\":8,\"sketch_offset\":1}",
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		char *s = fp_text(M, GOOD_FILES, bad[k], GEMMA);
		ck_assert_msg(load(s, &err) == MP_EFORMAT, "case %zu: %s", k, s);
		ck_assert_msg(strstr(err.msg, "bad.json: tensor "
					      "'output_norm.weight': "),
			      "case %zu: %s", k, err.msg);
		ck_assert_msg(strstr(err.msg, k < 2 || k == 4 ? "sketch_offset"
							     : "transposed"),
			      "case %zu: %s", k, err.msg);
		free(s);
	}
}
END_TEST

static char *repeat(const char *unit, size_t n, const char *pre,
		    const char *post)
{
	size_t u = strlen(unit);
	char *s = malloc(strlen(pre) + u * n + strlen(post) + 1);
	ck_assert_ptr_nonnull(s);
	strcpy(s, pre);
	char *w = s + strlen(pre);
	for (size_t i = 0; i < n; i++, w += u)
		memcpy(w, unit, u);
	strcpy(w, post);
	return s;
}

START_TEST(test_json_reject)
{
	static const struct {
		const char *top, *files, *tensor, *tail, *want;
	} bad[] = {
	    {"", GOOD_FILES, GOOD_TENSOR, "", "method"},
	    {"\"method\":\"nope\",", GOOD_FILES, GOOD_TENSOR, "", "method"},
	    {"\"method\":3,", GOOD_FILES, GOOD_TENSOR, "", "method"},
	    {M "\"model_id\":5,", GOOD_FILES, GOOD_TENSOR, "", "model_id"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"args\":[1]", "args"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"params\":-1", "params"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"params\":1.5", "params"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"seconds\":\"1\"", "seconds"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"dtype_params\":{\"Q4\":1}",
	     "dtype_params"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"dtype_params\":{\"F32\":-4}",
	     "dtype_params.F32"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"dtype_params\":[]",
	     "dtype_params"},
	    {M, "{}", GOOD_TENSOR, "", "files"},
	    {M, "[1]", GOOD_TENSOR, "", "files[0]"},
	    {M, "[{\"size\":4,\"sha256\":\"" SHA_A "\"}]", GOOD_TENSOR, "",
	     "files[0].path"},
	    {M, "[{\"path\":\"a\",\"size\":\"4\",\"sha256\":\"" SHA_A "\"}]",
	     GOOD_TENSOR, "", "files[0].size"},
	    {M, "[{\"path\":\"a\",\"size\":4,\"sha256\":\"AA\"}]", GOOD_TENSOR,
	     "", "files[0].sha256"},
	    {M, GOOD_FILES, "7", "", "tensors[0]"},
	    {M, GOOD_FILES,
	     "{\"name\":1,\"dtype\":\"F32\",\"shape\":[],"
	     "\"numel\":1}",
	     "", "tensors[0]: name"},
	    {M, GOOD_FILES,
	     "{\"name\":\"w\",\"dtype\":\"F33\",\"shape\":[],"
	     "\"numel\":1}",
	     "", "'w': dtype"},
	    {M, GOOD_FILES, "{\"name\":\"w\",\"shape\":[],\"numel\":1}", "",
	     "'w': dtype"},
	    {M, GOOD_FILES, T("\"stored_dtype\":5"), "", "'w': stored_dtype"},
	    {M, GOOD_FILES,
	     "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":"
	     "[1,1,1,1,1,1,1,1,1],\"numel\":1}",
	     "", "'w': shape"},
	    {M, GOOD_FILES,
	     "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":"
	     "[2,-2],\"numel\":4}",
	     "", "'w': shape[1]"},
	    {M, GOOD_FILES,
	     "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":"
	     "[1.5],\"numel\":1}",
	     "", "'w': shape[0]"},
	    {M, GOOD_FILES,
	     "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":"
	     "4,\"numel\":4}",
	     "", "'w': shape"},
	    {M, GOOD_FILES,
	     "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":"
	     "[1099511627776,1099511627776],\"numel\":0}",
	     "", "'w': shape product overflows"},
	    {M, GOOD_FILES,
	     "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":"
	     "[2,2],\"numel\":5}",
	     "", "'w': numel"},
	    {M, GOOD_FILES,
	     "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":"
	     "[2,2]}",
	     "", "'w': numel"},
	    {M, GOOD_FILES,
	     T("\"sha256\":\""
	       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	       "\""),
	     "", "'w': sha256"},
	    {M, GOOD_FILES, T("\"sha256\":\"abc\""), "", "'w': sha256"},
	    {M, GOOD_FILES, T("\"sha256\":1"), "", "'w': sha256"},
	    {M, GOOD_FILES, T("\"stats\":[]"), "", "'w': stats"},
	    {M, GOOD_FILES, T("\"stats\":{\"mean\":\"1\"}"), "",
	     "'w': stats.mean"},
	    {M, GOOD_FILES, T("\"stats\":{" STATS_OK ",\"nonfinite\":0}"), "",
	     "'w': stats.n"},
	    {M, GOOD_FILES, T("\"stats\":{" STATS_OK ",\"n\":4}"), "",
	     "'w': stats.nonfinite"},
	    {M, GOOD_FILES, T("\"sketch\":\"AAA\""), "", "'w': sketch"},
	    {M, GOOD_FILES, T("\"sketch\":\"AA==\""), "", "'w': sketch"},
	    {M, GOOD_FILES, T("\"sketch\":\"AAAAAAA=\""), "", "'w': sketch"},
	    {M, GOOD_FILES, T("\"sketch\":\"!!!!\""), "", "'w': sketch"},
	    {M, GOOD_FILES, T("\"sketch\":\"A=AA\""), "", "'w': sketch"},
	    {M, GOOD_FILES, T("\"sketch\":12"), "", "'w': sketch"},
	    /* 5 values for 4 elements */
	    {M, GOOD_FILES, T("\"sketch\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\""),
	     "", "'w': sketch"},
	    {M, GOOD_FILES, T("\"sv\":[]"), "", "'w': sv"},
	    {M, GOOD_FILES, T("\"sv\":3"), "", "'w': sv"},
	    {M, GOOD_FILES, T("\"sv\":[1,\"a\"]"), "", "'w': sv[1]"},
	    {M, GOOD_FILES, T("\"sv\":[1,-1]"), "", "'w': sv[1]"},
	    {M, GOOD_FILES,
	     T("\"sv\":[1],\"cols\":2,\"sigma1\":1,"
	       "\"stable_rank\":1,\"effective_rank\":1"),
	     "", "'w': rows"},
	    {M, GOOD_FILES,
	     T("\"sv\":[1],\"rows\":2,\"cols\":2,"
	       "\"stable_rank\":1,\"effective_rank\":1"),
	     "", "'w': sigma1"},
	    {M, GOOD_FILES,
	     T("\"sv\":[1],\"rows\":2,\"cols\":2,\"sigma1\":1,"
	       "\"stable_rank\":1,\"effective_rank\":1,"
	       "\"sv_exact\":1"),
	     "", "'w': sv_exact"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"spectral_histogram\":[1,2]",
	     "spectral_histogram"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"spectral_histogram\":{}",
	     "spectral_histogram"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"vector\":[]", "\"vector\""},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"vector\":{}", "\"vector\""},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"vector\":[1,\"a\"]",
	     "vector[1]"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"vector\":[1,null]", "vector[1]"},
	    {M, GOOD_FILES, GOOD_TENSOR, ",\"vector_note\":3",
	     "\"vector_note\""},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char *s = fp_text(bad[k].top, bad[k].files, bad[k].tensor,
				  bad[k].tail);
		struct mp_error err = {{0}};
		mp_status st = load(s, &err);
		ck_assert_msg(st == MP_EFORMAT, "case %zu accepted: %s", k, s);
		ck_assert_msg(strstr(err.msg, "bad.json") &&
				  strstr(err.msg, bad[k].want),
			      "case %zu: '%s' does not name '%s'", k, err.msg,
			      bad[k].want);
		free(s);
	}
	/* not an object at all */
	struct mp_error err = {{0}};
	ck_assert_int_eq(load("[1]", &err), MP_EFORMAT);
	ck_assert(strstr(err.msg, "bad.json"));
	/* "tensors" twice: which list is meant is not for us to guess */
	char *s = fp_text(M "\"tensors\":{},", GOOD_FILES, GOOD_TENSOR, "");
	mp_json *j = NULL;
	ck_assert_int_eq(mp_json_parse(s, strlen(s), "bad.json", &j, &err),
			 MP_EJSON);
	ck_assert_msg(strstr(err.msg, "bad.json: duplicate key 'tensors' in "
				      "the object at the top level"),
		      "%s", err.msg);
	free(s);
}
END_TEST

START_TEST(test_json_reject_sizes)
{
	struct mp_error err = {{0}};
	/* 257 singular values */
	char *list = repeat("1,", MP_SPECTRAL_MAX_SV, "", "1");
	size_t n = strlen(list) + 200;
	char *t = malloc(n);
	snprintf(
	    t, n,
	    "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":[2,2],\"numel\":4,"
	    "\"sv\":[%s],\"rows\":2,\"cols\":2,\"sigma1\":1,"
	    "\"stable_rank\":1,\"effective_rank\":1}",
	    list);
	char *s = fp_text(M, GOOD_FILES, t, "");
	ck_assert_int_eq(load(s, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "'w': sv"), "%s", err.msg);
	free(s);
	free(t);
	free(list);

	/* histogram: 64 good numbers pass, 63 or 65 fail, inf fails */
	char *h64 =
	    repeat("0.015625,", 63, ",\"spectral_histogram\":[", "0.015625]");
	s = fp_text(M, GOOD_FILES, GOOD_TENSOR, h64);
	ck_assert_msg(load(s, &err) == MP_OK, "%s", err.msg);
	free(s);
	free(h64);
	char *h63 = repeat("0.1,", 62, ",\"spectral_histogram\":[", "0.1]");
	s = fp_text(M, GOOD_FILES, GOOD_TENSOR, h63);
	ck_assert_int_eq(load(s, &err), MP_EFORMAT);
	ck_assert(strstr(err.msg, "spectral_histogram"));
	free(s);
	free(h63);
	char *h65 = repeat("0.1,", 64, ",\"spectral_histogram\":[", "0.1]");
	s = fp_text(M, GOOD_FILES, GOOD_TENSOR, h65);
	ck_assert_int_eq(load(s, &err), MP_EFORMAT);
	free(s);
	free(h65);
	char *hinf = repeat("0.1,", 63, ",\"spectral_histogram\":[", "1e999]");
	s = fp_text(M, GOOD_FILES, GOOD_TENSOR, hinf);
	ck_assert_int_eq(load(s, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "spectral_histogram[63]"), "%s", err.msg);
	free(s);
	free(hinf);
	char *hnull = repeat("0.1,", 63, ",\"spectral_histogram\":[", "null]");
	s = fp_text(M, GOOD_FILES, GOOD_TENSOR, hnull);
	ck_assert_int_eq(load(s, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "spectral_histogram[63]"), "%s", err.msg);
	free(s);
	free(hnull);

	/* sketch of (1 << 20) + 1 values on a large enough tensor */
	uint32_t nv = (1u << 20) + 1;
	size_t bytes = (size_t)nv * 4;
	size_t chars = (bytes + 2) / 3 * 4;
	char *b = malloc(chars + 1);
	for (size_t i = 0; i < chars; i++)
		b[i] = 'A';
	if (bytes % 3 == 1)
		b[chars - 1] = b[chars - 2] = '=';
	else if (bytes % 3 == 2)
		b[chars - 1] = '=';
	b[chars] = '\0';
	n = chars + 200;
	t = malloc(n);
	snprintf(t, n,
		 "{\"name\":\"w\",\"dtype\":\"F32\",\"shape\":[4000000],"
		 "\"numel\":4000000,\"sketch\":\"%s\"}",
		 b);
	s = fp_text(M, GOOD_FILES, t, "");
	ck_assert_int_eq(load(s, &err), MP_EFORMAT);
	ck_assert_msg(strstr(err.msg, "'w': sketch"), "%s", err.msg);
	free(s);
	free(t);
	free(b);
}
END_TEST

Suite *suite_fingerprint(void)
{
	Suite *s = suite_create("fingerprint");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tensors_method);
	tcase_add_test(tc, test_threads_identical);
	tcase_add_test(tc, test_args);
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_bad_segments);
	tcase_add_test(tc, test_safetensors_file);
	tcase_add_test(tc, test_sketch_positions);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_json_names_escaped);
	tcase_add_test(tc, test_json_roundtrip);
	tcase_add_test(tc, test_json_vector_roundtrip);
	tcase_add_test(tc, test_json_streamed);
	tcase_add_test(tc, test_json_precision);
	tcase_add_test(tc, test_json_computed_roundtrip);
	tcase_add_test(tc, test_json_good_base);
	tcase_add_test(tc, test_json_qk_heads);
	tcase_add_test(tc, test_json_layout);
	tcase_add_test(tc, test_json_reject);
	tcase_add_test(tc, test_json_reject_sizes);
	suite_add_tcase(s, tc);
	return s;
}
