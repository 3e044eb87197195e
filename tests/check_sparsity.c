/* check_sparsity.c — masks, Hamming distances, k-means and its metrics on
 * hand-worked masks, and every pruning pattern built in the test and
 * recognised. */
#include "check_suites.h"
#include "model.h"
#include "sparsity.h"
#include "sparsity_report.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void set_bits(struct mp_mask *mk, uint64_t f, const int *b, int n)
{
	for (int i = 0; i < n; i++)
		mp_mask_set(mk, f, (uint64_t)b[i]);
}

/* 70 bits: word boundary at 64. f0 {0,1,2,65}, f1 {1,2,3,69},
 * f2 {0,1,2,65,66}: d(0,1) = |{0,3,65,69}| = 4, d(0,2) = 1,
 * d(1,2) = |{0,3,65,66,69}| = 5. */
START_TEST(test_hamming_by_hand)
{
	struct mp_mask mk;
	struct mp_error err;
	ck_assert_int_eq(mp_mask_init(&mk, 3, 70, &err), MP_OK);
	ck_assert_uint_eq(mk.words, 2);
	set_bits(&mk, 0, (int[]){0, 1, 2, 65}, 4);
	set_bits(&mk, 1, (int[]){1, 2, 3, 69}, 4);
	set_bits(&mk, 2, (int[]){0, 1, 2, 65, 66}, 5);
	ck_assert_uint_eq(mp_mask_hamming(&mk, 0, 1), 4);
	ck_assert_uint_eq(mp_mask_hamming(&mk, 0, 2), 1);
	ck_assert_uint_eq(mp_mask_hamming(&mk, 1, 2), 5);
	ck_assert_uint_eq(mp_mask_hamming(&mk, 2, 2), 0);
	ck_assert_uint_eq(mp_mask_count(&mk, 2), 5);
	uint64_t idx[2], dist[2];
	ck_assert_int_eq(mp_mask_nearest(&mk, 0, 2, idx, dist, &err), MP_OK);
	ck_assert_uint_eq(idx[0], 2);
	ck_assert_uint_eq(dist[0], 1);
	ck_assert_uint_eq(idx[1], 1);
	ck_assert_uint_eq(dist[1], 4);
	/* feature 1: f0 and f2... d = 4 and 5 */
	ck_assert_int_eq(mp_mask_nearest(&mk, 1, 2, idx, dist, &err), MP_OK);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 2);
	ck_assert_int_eq(mp_mask_nearest(&mk, 0, 3, idx, dist, &err),
			 MP_EINVAL);
	ck_assert_int_eq(mp_mask_nearest(&mk, 3, 1, idx, dist, &err),
			 MP_EINVAL);
	mp_mask_done(&mk);
}
END_TEST

/* splitmix64 reference outputs for seed 0 (Vigna's splitmix64.c). */
START_TEST(test_rng_reference)
{
	struct mp_rng r;
	mp_rng_init(&r, 0);
	ck_assert_uint_eq(mp_rng_next(&r), UINT64_C(0xe220a8397b1dcdaf));
	ck_assert_uint_eq(mp_rng_next(&r), UINT64_C(0x6e789e6aa1b965f4));
	ck_assert_uint_eq(mp_rng_next(&r), UINT64_C(0x06c45d188009454f));
}
END_TEST

/* a=1100 b=1110 c=0011 d=0001. Best 2-means: {a,b} {c,d}, centres
 * (1,1,.5,0) and (0,0,.5,1): every point at distance .5 (squared .25),
 * inertia 1, within .5, between sqrt(1+1+0+1) = sqrt 3, ratio 2 sqrt 3
 * (excellent), balance 1, size std 0. */
START_TEST(test_kmeans_by_hand)
{
	struct mp_mask mk;
	struct mp_error err;
	ck_assert_int_eq(mp_mask_init(&mk, 4, 4, &err), MP_OK);
	set_bits(&mk, 0, (int[]){0, 1}, 2);
	set_bits(&mk, 1, (int[]){0, 1, 2}, 3);
	set_bits(&mk, 2, (int[]){2, 3}, 2);
	set_bits(&mk, 3, (int[]){3}, 1);
	uint64_t pts[4] = {0, 1, 2, 3};
	struct mp_kmeans km;
	ck_assert_int_eq(mp_kmeans_run(&mk, pts, 4, 2, 42, 10, &km, &err),
			 MP_OK);
	ck_assert_uint_eq(km.label[0], km.label[1]);
	ck_assert_uint_eq(km.label[2], km.label[3]);
	ck_assert_uint_ne(km.label[0], km.label[2]);
	ck_assert_double_eq_tol(km.inertia, 1, 1e-12);
	ck_assert_double_eq_tol(km.within, 0.5, 1e-12);
	ck_assert_double_eq_tol(km.between, sqrt(3), 1e-12);
	ck_assert_double_eq_tol(km.ratio, 2 * sqrt(3), 1e-12);
	ck_assert_str_eq(mp_sparsity_grade(km.ratio), "excellent");
	ck_assert_double_eq_tol(km.balance, 1, 1e-12);
	ck_assert_double_eq_tol(km.size_std, 0, 1e-12);
	size_t c = km.label[0];
	ck_assert_double_eq_tol(km.centre[c * 4 + 2], 0.5, 1e-12);
	mp_kmeans_done(&km);
	/* the same seed gives the same result; bad k and n_init refused */
	ck_assert_int_eq(mp_kmeans_run(&mk, pts, 4, 5, 42, 10, &km, &err),
			 MP_EINVAL);
	ck_assert_int_eq(mp_kmeans_run(&mk, pts, 4, 1, 42, 10, &km, &err),
			 MP_EINVAL);
	ck_assert_int_eq(mp_kmeans_run(&mk, pts, 4, 2, 42, 0, &km, &err),
			 MP_EINVAL);
	/* three clusters of 4 points: sizes 2,1,1 at best -> balance 1/2,
	 * std of (2,1,1) = sqrt(2/9) */
	ck_assert_int_eq(mp_kmeans_run(&mk, pts, 4, 3, 7, 10, &km, &err),
			 MP_OK);
	ck_assert_double_eq_tol(km.balance, 0.5, 1e-12);
	ck_assert_double_eq_tol(km.size_std, sqrt(2.0 / 9), 1e-12);
	mp_kmeans_done(&km);
	mp_mask_done(&mk);
	ck_assert_str_eq(mp_sparsity_grade(2.01), "excellent");
	ck_assert_str_eq(mp_sparsity_grade(2), "good");
	ck_assert_str_eq(mp_sparsity_grade(1), "moderate");
	ck_assert_str_eq(mp_sparsity_grade(0.5), "poor");
	ck_assert_str_eq(mp_sparsity_grade(NAN), "undefined");
}
END_TEST

/* 40 features of 256 bits: even ones set in the first half, odd ones in
 * the second, 5 % of bits flipped; 2-means splits them by parity. */
START_TEST(test_kmeans_two_clusters)
{
	struct mp_mask mk;
	struct mp_error err;
	uint64_t rs = 11;
	ck_assert_int_eq(mp_mask_init(&mk, 40, 256, &err), MP_OK);
	for (uint64_t f = 0; f < 40; f++)
		for (uint64_t j = 0; j < 256; j++) {
			bool on = (f % 2 == 0) == (j < 128);
			if (tu_rand_uniform(&rs) < 0.05)
				on = !on;
			if (on)
				mp_mask_set(&mk, f, j);
		}
	uint64_t pts[40];
	for (int i = 0; i < 40; i++)
		pts[i] = (uint64_t)i;
	struct mp_kmeans a, b;
	ck_assert_int_eq(mp_kmeans_run(&mk, pts, 40, 2, 5, 4, &a, &err), MP_OK);
	for (int i = 0; i < 40; i++)
		ck_assert_uint_eq(a.label[i], a.label[i % 2]);
	ck_assert_uint_ne(a.label[0], a.label[1]);
	ck_assert_uint_eq(a.size[0], 20);
	ck_assert_double_gt(a.ratio, 2);
	ck_assert_double_eq_tol(a.balance, 1, 1e-12);
	/* deterministic for a seed */
	ck_assert_int_eq(mp_kmeans_run(&mk, pts, 40, 2, 5, 4, &b, &err), MP_OK);
	ck_assert_double_eq(a.inertia, b.inertia);
	ck_assert_mem_eq(a.label, b.label, 40 * sizeof *a.label);
	mp_kmeans_done(&a);
	mp_kmeans_done(&b);
	mp_mask_done(&mk);
}
END_TEST

/* Fewer distinct features than clusters: 40 copies of one mask and 20 of
 * another (disjoint halves of 8 bits), k = 4. Two clusters hold the
 * copies, two stay empty, and the run stops at once instead of moving a
 * copy to an empty cluster and back for 300 iterations. By hand: every
 * point on its centre (inertia and within 0), one pair of non-empty
 * centres at distance sqrt(8), balance 0 / 40. */
START_TEST(test_kmeans_duplicates)
{
	struct mp_mask mk;
	struct mp_error err;
	ck_assert_int_eq(mp_mask_init(&mk, 60, 8, &err), MP_OK);
	for (uint64_t f = 0; f < 60; f++)
		for (uint64_t j = 0; j < 8; j++)
			if ((f < 40) == (j < 4))
				mp_mask_set(&mk, f, j);
	uint64_t pts[60];
	for (int i = 0; i < 60; i++)
		pts[i] = (uint64_t)i;
	struct mp_kmeans a;
	ck_assert_int_eq(mp_kmeans_run(&mk, pts, 60, 4, 42, 3, &a, &err), MP_OK);
	ck_assert_int_le(a.iterations, 3);
	size_t n40 = 0, n20 = 0, n0 = 0;
	for (size_t c = 0; c < 4; c++) {
		n40 += a.size[c] == 40;
		n20 += a.size[c] == 20;
		n0 += a.size[c] == 0;
	}
	ck_assert_uint_eq(n40, 1);
	ck_assert_uint_eq(n20, 1);
	ck_assert_uint_eq(n0, 2);
	for (int i = 0; i < 60; i++)
		ck_assert_uint_eq(a.label[i], a.label[i < 40 ? 0 : 40]);
	ck_assert_double_eq(a.inertia, 0);
	ck_assert_double_eq(a.within, 0);
	ck_assert_double_eq_tol(a.between, sqrt(8), 1e-12);
	ck_assert(isnan(a.ratio));
	ck_assert_double_eq(a.balance, 0);
	mp_kmeans_done(&a);
	mp_mask_done(&mk);
}
END_TEST

/* A rows x cols mask with every bit set (dense). */
static void dense(struct mp_mask *mk, uint64_t rows, uint64_t cols)
{
	struct mp_error err;
	ck_assert_int_eq(mp_mask_init(mk, rows, cols, &err), MP_OK);
	mk->rows = rows;
	mk->cols = cols;
	for (uint64_t r = 0; r < rows; r++)
		for (uint64_t j = 0; j < cols; j++)
			mp_mask_set(mk, r, j);
}

static void clear_bit(struct mp_mask *mk, uint64_t r, uint64_t j)
{
	mk->bits[r * mk->words + j / 64] &= ~(UINT64_C(1) << (j % 64));
}

/* Clear k of the n positions pos[0..n) chosen at random. */
static void clear_some(struct mp_mask *mk, uint64_t *rs, uint64_t n,
		       uint64_t k, void (*at)(uint64_t i, uint64_t *r,
					      uint64_t *j, uint64_t ctx),
		       uint64_t ctx)
{
	uint64_t *p = malloc(n * sizeof *p);
	for (uint64_t i = 0; i < n; i++)
		p[i] = i;
	for (uint64_t i = 0; i < k; i++) {
		uint64_t s = i + tu_rand_u64(rs) % (n - i), t = p[i];
		p[i] = p[s];
		p[s] = t;
		uint64_t r, j;
		at(p[i], &r, &j, ctx);
		clear_bit(mk, r, j);
	}
	free(p);
}

/* ctx = (row << 32 | first column) of a run along a row */
static void along_row(uint64_t i, uint64_t *r, uint64_t *j, uint64_t ctx)
{
	*r = ctx >> 32;
	*j = (ctx & 0xffffffff) + i;
}
static void along_col(uint64_t i, uint64_t *r, uint64_t *j, uint64_t ctx)
{
	*r = (ctx >> 32) + i;
	*j = ctx & 0xffffffff;
}
/* a block of 16 rows x 128 columns starting at column ctx */
static void in_block(uint64_t i, uint64_t *r, uint64_t *j, uint64_t ctx)
{
	*r = i / 128;
	*j = ctx + i % 128;
}

/* the last block of 16 rows x 44 columns starting at column ctx */
static void in_last(uint64_t i, uint64_t *r, uint64_t *j, uint64_t ctx)
{
	*r = i / 44;
	*j = ctx + i % 44;
}

static void detect(const struct mp_mask *mk, struct mp_prune_profile *p)
{
	struct mp_error err;
	ck_assert_int_eq(mp_prune_detect(mk, p, &err), MP_OK);
}

START_TEST(test_patterns)
{
	struct mp_mask mk;
	struct mp_prune_profile p;
	uint64_t rs = 3;
	/* 2:4 along rows: 16 x 64 */
	dense(&mk, 16, 64);
	for (uint64_t r = 0; r < 16; r++)
		for (uint64_t g = 0; g < 64; g += 4)
			clear_some(&mk, &rs, 4, 2, along_row, r << 32 | g);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NM_ROWS);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_uint_eq(p.m, 4);
	ck_assert_uint_eq(p.row_zero_min, 32);
	ck_assert_uint_eq(p.row_zero_max, 32);
	ck_assert_str_eq(p.evidence, "every group of 4 consecutive weights "
				     "along each row has exactly 2 non-zeros");
	mp_mask_done(&mk);
	/* 4:8 along rows */
	dense(&mk, 16, 64);
	for (uint64_t r = 0; r < 16; r++)
		for (uint64_t g = 0; g < 64; g += 8)
			clear_some(&mk, &rs, 8, 4, along_row, r << 32 | g);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NM_ROWS);
	ck_assert_uint_eq(p.n, 4);
	ck_assert_uint_eq(p.m, 8);
	mp_mask_done(&mk);
	/* 2:4 along columns: groups of 4 rows in each column */
	dense(&mk, 32, 24);
	for (uint64_t j = 0; j < 24; j++)
		for (uint64_t g = 0; g < 32; g += 4)
			clear_some(&mk, &rs, 4, 2, along_col, g << 32 | j);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NM_COLS);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_uint_eq(p.m, 4);
	mp_mask_done(&mk);
	/* 5:16 along columns (M = 16, the largest), 64 x 12 */
	dense(&mk, 64, 12);
	for (uint64_t j = 0; j < 12; j++)
		for (uint64_t g = 0; g < 64; g += 16)
			clear_some(&mk, &rs, 16, 11, along_col, g << 32 | j);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NM_COLS);
	ck_assert_uint_eq(p.n, 5);
	ck_assert_uint_eq(p.m, 16);
	mp_mask_done(&mk);
	/* 7:16 along rows, 8 x 64 */
	dense(&mk, 8, 64);
	for (uint64_t r = 0; r < 8; r++)
		for (uint64_t g = 0; g < 64; g += 16)
			clear_some(&mk, &rs, 16, 9, along_row, r << 32 | g);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NM_ROWS);
	ck_assert_uint_eq(p.n, 7);
	ck_assert_uint_eq(p.m, 16);
	mp_mask_done(&mk);
	/* Wanda-like: 100 zeros in each row of 256, anywhere */
	dense(&mk, 16, 256);
	for (uint64_t r = 0; r < 16; r++)
		clear_some(&mk, &rs, 256, 100, along_row, r << 32);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_PER_ROW);
	ck_assert_uint_eq(p.count, 100);
	ck_assert_str_eq(p.evidence, "every row has exactly 100 zeros (of 256)");
	mp_mask_done(&mk);
	/* SparseGPT-like: 1000 zeros in each 16 x 128 block, anywhere */
	dense(&mk, 16, 256);
	clear_some(&mk, &rs, 16 * 128, 1000, in_block, 0);
	clear_some(&mk, &rs, 16 * 128, 1000, in_block, 128);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_PER_BLOCK);
	ck_assert_uint_eq(p.count, 1000);
	ck_assert_uint_lt(p.row_zero_min, p.row_zero_max);
	mp_mask_done(&mk);
	/* 11 stray zeros in each of two blocks (0.5 %, as a quantized
	 * matrix has them): equal by chance, not a pattern */
	dense(&mk, 16, 256);
	clear_some(&mk, &rs, 16 * 128, 11, in_block, 0);
	clear_some(&mk, &rs, 16 * 128, 11, in_block, 128);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NONE);
	mp_mask_done(&mk);
	/* SparseGPT-like on 16 x 300 (2 blocks of 128, then 44 columns):
	 * 1000 zeros per block, 344 (= 1000 * 44 / 128 rounded) in the last */
	dense(&mk, 16, 300);
	clear_some(&mk, &rs, 16 * 128, 1000, in_block, 0);
	clear_some(&mk, &rs, 16 * 128, 1000, in_block, 128);
	clear_some(&mk, &rs, 16 * 44, 344, in_last, 256);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_PER_BLOCK);
	ck_assert_str_eq(p.evidence, "every block of 128 columns has exactly "
				     "1000 zeros (of 2048); the last 44 "
				     "columns 344");
	mp_mask_done(&mk);
	/* the same with 300 in the last block: not the same share */
	dense(&mk, 16, 300);
	clear_some(&mk, &rs, 16 * 128, 1000, in_block, 0);
	clear_some(&mk, &rs, 16 * 128, 1000, in_block, 128);
	clear_some(&mk, &rs, 16 * 44, 300, in_last, 256);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NONE);
	mp_mask_done(&mk);
	/* rows 3 and 7 removed */
	dense(&mk, 10, 20);
	for (uint64_t j = 0; j < 20; j++) {
		clear_bit(&mk, 3, j);
		clear_bit(&mk, 7, j);
	}
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_ROWS);
	ck_assert_uint_eq(p.count, 2);
	ck_assert_str_eq(p.evidence,
			 "2 of 10 rows are all zero, the others have no zeros");
	mp_mask_done(&mk);
	/* column 5 removed */
	dense(&mk, 10, 20);
	for (uint64_t r = 0; r < 10; r++)
		clear_bit(&mk, r, 5);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_COLS);
	ck_assert_uint_eq(p.count, 1);
	ck_assert_uint_eq(p.col_zero_max, 10);
	mp_mask_done(&mk);
	/* random zeros (half) and dense: no pattern */
	dense(&mk, 32, 256);
	for (uint64_t r = 0; r < 32; r++)
		for (uint64_t j = 0; j < 256; j++)
			if (tu_rand_uniform(&rs) < 0.5)
				clear_bit(&mk, r, j);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NONE);
	ck_assert_ptr_nonnull(strstr(p.evidence, "zeros per row range from"));
	mp_mask_done(&mk);
	dense(&mk, 8, 8);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NONE);
	ck_assert_str_eq(p.evidence, "no weight is exactly zero");
	ck_assert_uint_eq(p.row_zero_max, 0);
	mp_mask_done(&mk);
	struct mp_error err;
	ck_assert_int_eq(mp_mask_init(&mk, 8, 8, &err), MP_OK);
	detect(&mk, &p);
	ck_assert_int_eq(p.pattern, MP_PRUNE_NONE);
	ck_assert_str_eq(p.evidence, "every weight is zero");
	ck_assert_uint_eq(p.col_zero_min, 8);
	mp_mask_done(&mk);
	ck_assert_str_eq(mp_prune_name(MP_PRUNE_PER_BLOCK), "per-block");
}
END_TEST

/* A TF.js-like output-last tensor and a safetensors one, through the
 * reader: rows are the output axis; --axis cols transposes. */
START_TEST(test_mask_from_file)
{
	char *dir = tu_tmpdir(), *path = tu_path(dir, "m.safetensors");
	/* 2 x 3, row-major: [[0, 1, 2], [3, 0, 0]] */
	float w[6] = {0, 1, 2, 3, 0, 0}, v[3] = {0, 1e-7f, 1};
	struct tu_tensor t[2] = {{"w", "F32", 2, {2, 3}, w, sizeof w},
				 {"v", "F32", 1, {3}, v, sizeof v}};
	tu_write_safetensors(path, t, 2, NULL);
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(path, &m, &err), MP_OK);
	const struct mp_tensor *tw = mp_model_find(m, "w"),
			       *tv = mp_model_find(m, "v");
	struct mp_mask mk;
	ck_assert_int_eq(mp_mask_from_tensor(m, tw, MP_SPARSITY_ROWS, false,
					     &mk, &err),
			 MP_OK);
	ck_assert_uint_eq(mk.nfeat, 2);
	ck_assert_uint_eq(mk.width, 3);
	ck_assert_uint_eq(mk.nzero, 3);
	ck_assert_uint_eq(mk.bits[0], 6); /* 0b110 */
	ck_assert_uint_eq(mk.bits[1], 1);
	mp_mask_done(&mk);
	ck_assert_int_eq(mp_mask_from_tensor(m, tw, MP_SPARSITY_COLS, false,
					     &mk, &err),
			 MP_OK);
	ck_assert_uint_eq(mk.nfeat, 3);
	ck_assert_uint_eq(mk.bits[0], 2); /* column 0: (0, 3) */
	ck_assert_uint_eq(mk.bits[1], 1);
	ck_assert_uint_eq(mk.bits[2], 1);
	mp_mask_done(&mk);
	ck_assert_int_eq(mp_mask_from_tensor(m, tv, MP_SPARSITY_ROWS, false,
					     &mk, &err),
			 MP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "tensor v has 1 dimension"));
	ck_assert_int_eq(mp_mask_from_tensor(m, tv, MP_SPARSITY_ROWS, true,
					     &mk, &err),
			 MP_OK);
	ck_assert_uint_eq(mk.nzero, 1);
	ck_assert_uint_eq(mk.ntiny, 2);
	mp_mask_done(&mk);
	/* the output axis last (as TF.js stores kernels): the stored 2 x 3
	 * is a 3 x 2 matrix whose row i is stored column i */
	struct mp_tensor *tm = (struct mp_tensor *)tw;
	tm->output_last = true;
	ck_assert_int_eq(mp_mask_from_tensor(m, tw, MP_SPARSITY_ROWS, false,
					     &mk, &err),
			 MP_OK);
	ck_assert_uint_eq(mk.rows, 3);
	ck_assert_uint_eq(mk.cols, 2);
	ck_assert_uint_eq(mk.bits[0], 2); /* (0, 3) */
	ck_assert_uint_eq(mk.bits[1], 1); /* (1, 0) */
	ck_assert_uint_eq(mk.bits[2], 1); /* (2, 0) */
	mp_mask_done(&mk);
	mp_model_free(m);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* F16 of 65536 values or more goes through the table of codes: every
 * 7th value +0 or -0, every 7th + 1 the smallest subnormal (2^-24, not
 * zero but below 1e-6), the others 1 or -2. */
START_TEST(test_mask_f16_table)
{
	enum { R = 300, C = 256 };
	char *dir = tu_tmpdir(), *path = tu_path(dir, "h.safetensors");
	uint16_t *h = malloc(R * C * sizeof *h);
	uint64_t zeros = 0, tiny = 0;
	for (int i = 0; i < R * C; i++) {
		int k = i % 7;
		h[i] = k == 0 ? (i % 2 ? 0x8000 : 0) : k == 1 ? 0x0001
			   : i % 2 ? 0x3c00 : 0xc000;
		zeros += k == 0;
		tiny += k <= 1;
	}
	struct tu_tensor t = {"h", "F16", 2, {R, C}, h, R * C * sizeof *h};
	tu_write_safetensors(path, &t, 1, NULL);
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(path, &m, &err), MP_OK);
	struct mp_mask mk;
	ck_assert_int_eq(mp_mask_from_tensor(m, &m->tensors[0],
					     MP_SPARSITY_ROWS, false, &mk, &err),
			 MP_OK);
	ck_assert_uint_eq(mk.nzero, zeros);
	ck_assert_uint_eq(mk.ntiny, tiny);
	for (int i = 0; i < R * C; i += 97)
		ck_assert_int_eq(mp_mask_get(&mk, (uint64_t)(i / C),
					     (uint64_t)(i % C)),
				 i % 7 != 0);
	mp_mask_done(&mk);
	mp_model_free(m);
	free(h);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* Rows of 1000, 4096 and 5000 values against the 4096-value blocks the
 * reader decodes in: every bit of both orientations against the formula
 * that made it. */
START_TEST(test_mask_rows_across_blocks)
{
	static const int shape[3][2] = {{100, 1000}, {9, 4096}, {7, 5000}};
	const int R = shape[_i][0], C = shape[_i][1];
	char *dir = tu_tmpdir(), *path = tu_path(dir, "r.safetensors");
	float *w = malloc((size_t)(R * C) * sizeof *w);
	uint64_t zeros = 0;
	for (int i = 0; i < R; i++)
		for (int j = 0; j < C; j++) {
			bool z = (i * 7 + j * 3) % 5 == 0;
			w[i * C + j] = z ? 0.0f : 1.5f;
			zeros += z;
		}
	struct tu_tensor t = {"w",
			      "F32",
			      2,
			      {(uint64_t)R, (uint64_t)C},
			      w,
			      (size_t)(R * C) * sizeof *w};
	tu_write_safetensors(path, &t, 1, NULL);
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(path, &m, &err), MP_OK);
	struct mp_mask a, b;
	ck_assert_int_eq(mp_mask_from_tensor(m, &m->tensors[0],
					     MP_SPARSITY_ROWS, false, &a, &err),
			 MP_OK);
	ck_assert_int_eq(mp_mask_from_tensor(m, &m->tensors[0],
					     MP_SPARSITY_COLS, false, &b, &err),
			 MP_OK);
	ck_assert_uint_eq(a.nzero, zeros);
	ck_assert_uint_eq(b.nzero, zeros);
	ck_assert_uint_eq(a.ntiny, zeros);
	for (int i = 0; i < R; i++)
		for (int j = 0; j < C; j++) {
			bool nz = (i * 7 + j * 3) % 5 != 0;
			ck_assert_int_eq(mp_mask_get(&a, (uint64_t)i,
						     (uint64_t)j), nz);
			ck_assert_int_eq(mp_mask_get(&b, (uint64_t)j,
						     (uint64_t)i), nz);
		}
	/* the unused high bits of each row's last word stay 0 */
	for (int i = 0; C % 64 && i < R; i++)
		ck_assert_uint_eq(a.bits[(uint64_t)i * a.words + a.words - 1] >>
				      (C % 64),
				  0);
	mp_mask_done(&a);
	mp_mask_done(&b);
	mp_model_free(m);
	free(w);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* 2 x 1024 weights w[i] = +-(i + 1) / 2048 (exact in F32), pruned as
 * zero[i] says, written and opened; the model in *m, the tensor "w". */
enum { MW = 2048 };
static float mag_w(int i)
{
	return (float)((i % 2 ? -1 : 1) * (i + 1)) / 2048.0f;
}
static const struct mp_tensor *write_w(const char *dir, const char *name,
				       const float *w, uint64_t r, uint64_t c,
				       struct mp_model **m)
{
	char *path = tu_path(dir, name);
	struct tu_tensor t = {"w", "F32", 2, {r, c}, w, MW * sizeof *w};
	tu_write_safetensors(path, &t, 1, NULL);
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(path, m, &err), MP_OK);
	free(path);
	return mp_model_find(*m, "w");
}

START_TEST(test_magnitude_by_hand)
{
	char *dir = tu_tmpdir();
	static float w[MW];
	struct mp_model *m;
	struct mp_magnitude g;
	struct mp_error err;
	/* magnitude: i < 512 zero; survivors (513..2048) / 2048, 1536 of
	 * them: min 513/2048, median (1280 + 1281) / 2 / 2048 */
	for (int i = 0; i < MW; i++)
		w[i] = i < 512 ? 0 : mag_w(i);
	const struct mp_tensor *t = write_w(dir, "a.safetensors", w, 2, 1024, &m);
	ck_assert_int_eq(mp_magnitude_of(m, t, &g, &err), MP_OK);
	ck_assert_uint_eq(g.zeros, 512);
	ck_assert_uint_eq(g.kept, 1536);
	ck_assert(g.pruned && g.magnitude);
	ck_assert_double_eq(g.min_kept, 513.0 / 2048);
	ck_assert_double_eq(g.median_kept, 1280.5 / 2048);
	ck_assert_double_eq_tol(g.ratio, 513 / 1280.5, 1e-15);
	ck_assert_str_eq(g.evidence, "smallest surviving |w| 0.2505 is 0.401 "
				     "x the median 0.6252 (>= 0.05): a "
				     "magnitude threshold");
	mp_model_free(m);
	/* the same share of zeros at every 4th weight: 2/2048 survives */
	for (int i = 0; i < MW; i++)
		w[i] = i % 4 == 0 ? 0 : mag_w(i);
	t = write_w(dir, "b.safetensors", w, 2, 1024, &m);
	ck_assert_int_eq(mp_magnitude_of(m, t, &g, &err), MP_OK);
	ck_assert_uint_eq(g.zeros, 512);
	ck_assert_double_eq(g.min_kept, 2.0 / 2048);
	ck_assert(g.pruned && !g.magnitude);
	mp_model_free(m);
	/* many equal values, in random order: the median of a sorted copy
	 * (odd and even numbers of survivors) */
	uint64_t rs = 99;
	for (int odd = 0; odd < 2; odd++) {
		static double sorted[MW];
		size_t ns = 0;
		for (int i = 0; i < MW; i++) {
			w[i] = i < 512 + odd ? 0
					     : (float)(1 + tu_rand_u64(&rs) % 7);
			if (w[i] != 0)
				sorted[ns++] = w[i];
		}
		for (size_t i = 1; i < ns; i++) /* insertion sort */
			for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
				double x = sorted[j];
				sorted[j] = sorted[j - 1];
				sorted[j - 1] = x;
			}
		double want = ns % 2 ? sorted[ns / 2]
				     : (sorted[ns / 2 - 1] + sorted[ns / 2]) / 2;
		t = write_w(dir, odd ? "e.safetensors" : "d.safetensors", w, 2,
			    1024, &m);
		ck_assert_int_eq(mp_magnitude_of(m, t, &g, &err), MP_OK);
		ck_assert_double_eq(g.median_kept, want);
		ck_assert_double_eq(g.min_kept, sorted[0]);
		mp_model_free(m);
	}
	/* 4 % zeros: too few to call */
	for (int i = 0; i < MW; i++)
		w[i] = i < 81 ? 0 : mag_w(i);
	t = write_w(dir, "c.safetensors", w, 2, 1024, &m);
	ck_assert_int_eq(mp_magnitude_of(m, t, &g, &err), MP_OK);
	ck_assert(!g.pruned && !g.magnitude);
	mp_model_free(m);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_magnitude_model)
{
	struct mp_magnitude v[4] = {{0}};
	for (int i = 0; i < 4; i++) {
		v[i].numel = 1000;
		v[i].zeros = 500;
		v[i].pruned = v[i].magnitude = true;
	}
	v[3].pruned = v[3].magnitude = false; /* not counted */
	v[3].min_kept = 99;
	v[0].min_kept = 0.5;
	v[1].min_kept = 0.505;
	v[2].min_kept = 0.509; /* within 2 % of 0.5 */
	struct mp_mag_model mm;
	mp_magnitude_model(v, 4, &mm);
	ck_assert_int_eq(mm.verdict, MP_MAG_GLOBAL);
	ck_assert_uint_eq(mm.pruned, 3);
	ck_assert_double_eq(mm.t_min, 0.5);
	ck_assert_str_eq(mm.evidence, "no surviving |w| below 0.5 in any of 3 "
				      "tensors (smallest survivors within 2 "
				      "%); 50.0 % zeros");
	v[2].min_kept = 0.511; /* 2.2 % above */
	mp_magnitude_model(v, 4, &mm);
	ck_assert_int_eq(mm.verdict, MP_MAG_PER_TENSOR);
	ck_assert_double_eq(mm.t_max, 0.511);
	v[1].magnitude = false;
	mp_magnitude_model(v, 4, &mm);
	ck_assert_int_eq(mm.verdict, MP_MAG_MIXED);
	ck_assert_uint_eq(mm.magnitude, 2);
	v[0].magnitude = v[2].magnitude = false;
	mp_magnitude_model(v, 4, &mm);
	ck_assert_int_eq(mm.verdict, MP_MAG_NONE);
	mp_magnitude_model(v + 3, 1, &mm);
	ck_assert_int_eq(mm.verdict, MP_MAG_NONE);
	ck_assert_uint_eq(mm.pruned, 0);
	ck_assert_str_eq(mp_mag_verdict_name(MP_MAG_PER_TENSOR), "per-tensor");
	/* equal zero counts per row: magnitude within rows, kept out of the
	 * threshold test (a tensor-wide threshold leaves unequal counts) */
	struct mp_prune_profile row = {.pattern = MP_PRUNE_PER_ROW},
				none = {.pattern = MP_PRUNE_NONE};
	for (int i = 0; i < 3; i++) {
		v[i].magnitude = true;
		v[i].median_kept = 1;
		v[i].ratio = v[i].min_kept;
		mp_magnitude_grouped(&v[i], &row);
		ck_assert(v[i].grouped);
	}
	ck_assert_str_eq(v[0].evidence,
			 "smallest surviving |w| 0.5 is 0.5 x the median 1: "
			 "magnitude pruning within each row (equal zero "
			 "counts), not one threshold");
	mp_magnitude_model(v, 4, &mm);
	ck_assert_int_eq(mm.verdict, MP_MAG_GROUPED);
	ck_assert_uint_eq(mm.grouped, 3);
	ck_assert_double_eq(mm.t_min, 0.5);
	ck_assert_str_eq(mp_mag_verdict_name(MP_MAG_GROUPED), "within-groups");
	v[1].grouped = false; /* one by a threshold: mixed */
	mp_magnitude_model(v, 4, &mm);
	ck_assert_int_eq(mm.verdict, MP_MAG_MIXED);
	ck_assert_str_eq(mm.evidence, "1 of 3 pruned tensors by a threshold, 2 "
				      "by magnitude within rows, N:M groups or "
				      "blocks (smallest survivors 0.5 to 0.511)");
	/* no pattern: not grouped */
	v[3].magnitude = true;
	mp_magnitude_grouped(&v[3], &none);
	ck_assert(!v[3].grouped);
}
END_TEST

START_TEST(test_parent_compare)
{
	char *dir = tu_tmpdir();
	static float p[MW], w[MW];
	struct mp_model *pm, *m;
	struct mp_parent_cmp c;
	struct mp_error err;
	for (int i = 0; i < MW; i++)
		p[i] = i == 5 ? 0 : mag_w(i);
	const struct mp_tensor *pt = write_w(dir, "p.safetensors", p, 2, 1024, &pm);
	/* mask only, the 512 smallest: 511 new zeros and p[5] */
	for (int i = 0; i < MW; i++)
		w[i] = i < 512 ? 0 : p[i];
	const struct mp_tensor *t = write_w(dir, "a.safetensors", w, 2, 1024, &m);
	ck_assert_int_eq(mp_parent_compare(m, t, pm, pt, &c, &err), MP_OK);
	ck_assert(c.mask_only);
	ck_assert_uint_eq(c.pruned, 511);
	ck_assert_uint_eq(c.both_zero, 1);
	ck_assert_uint_eq(c.kept, 1536);
	ck_assert_int_eq(c.select, MP_SEL_THRESHOLD);
	ck_assert_double_eq(c.max_pruned, 512.0 / 2048);
	ck_assert_double_eq(c.min_kept, 513.0 / 2048);
	mp_model_free(m);
	/* survivors at even i doubled (SparseGPT-like update): 768 changed,
	 * relative change sqrt(sum of their p^2 / sum of all kept p^2) */
	double d2 = 0, p2 = 0;
	for (int i = 512; i < MW; i++) {
		w[i] = i % 2 ? p[i] : 2 * p[i];
		p2 += (double)p[i] * p[i];
		d2 += i % 2 ? 0 : (double)p[i] * p[i];
	}
	t = write_w(dir, "b.safetensors", w, 2, 1024, &m);
	ck_assert_int_eq(mp_parent_compare(m, t, pm, pt, &c, &err), MP_OK);
	ck_assert(!c.mask_only);
	ck_assert_uint_eq(c.changed, 768);
	ck_assert_double_eq_tol(c.rel_change, sqrt(d2 / p2), 1e-12);
	ck_assert_ptr_nonnull(strstr(c.evidence, "survivors updated: 50.0 % "
						 "changed"));
	mp_model_free(m);
	/* per row: row 1 scaled by 8, the 256 smallest of each row zero:
	 * row 1's largest zero (8 * 512/2048) is above row 0's smallest
	 * survivor (513/2048) */
	for (int i = 0; i < MW; i++) {
		p[i] = mag_w(i % 1024) * (i < 1024 ? 1 : 8);
		w[i] = i % 1024 < 256 ? 0 : p[i];
	}
	mp_model_free(pm);
	pt = write_w(dir, "q.safetensors", p, 2, 1024, &pm);
	t = write_w(dir, "c.safetensors", w, 2, 1024, &m);
	ck_assert_int_eq(mp_parent_compare(m, t, pm, pt, &c, &err), MP_OK);
	ck_assert_int_eq(c.select, MP_SEL_PER_ROW);
	ck_assert(c.mask_only);
	mp_model_free(m);
	/* every 4th weight zero: neither */
	for (int i = 0; i < MW; i++)
		w[i] = i % 4 == 0 ? 0 : p[i];
	t = write_w(dir, "d.safetensors", w, 2, 1024, &m);
	ck_assert_int_eq(mp_parent_compare(m, t, pm, pt, &c, &err), MP_OK);
	ck_assert_int_eq(c.select, MP_SEL_OTHER);
	mp_model_free(m);
	/* another shape */
	t = write_w(dir, "e.safetensors", w, 1024, 2, &m);
	ck_assert_int_eq(mp_parent_compare(m, t, pm, pt, &c, &err), MP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "tensor w is 1024x2, but 2x1024 "
					      "in the parent"));
	mp_model_free(m);
	mp_model_free(pm);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_report_names)
{
	char me[64], pr[64];
	mp_spr_parse_name("res/wanda_down_proj.json", me, sizeof me, pr,
			  sizeof pr);
	ck_assert_str_eq(me, "wanda");
	ck_assert_str_eq(pr, "down_proj");
	mp_spr_parse_name("a/clustering/sparsegpt/layer1-mlp.up_proj.pt", me,
			  sizeof me, pr, sizeof pr);
	ck_assert_str_eq(me, "sparsegpt");
	ck_assert_str_eq(pr, "up_proj");
	mp_spr_parse_name("down_proj.json", me, sizeof me, pr, sizeof pr);
	ck_assert_str_eq(me, "");
	ck_assert_str_eq(pr, "down_proj");
	mp_spr_parse_name("x/results.json", me, sizeof me, pr, sizeof pr);
	ck_assert_str_eq(pr, "");
	struct mp_spr_group g[3] = {{"down_proj", 2, 1.5, 1, 1.5},
				    {"up_proj", 2, 1.2, 1, 1.2},
				    {"q_proj", 1, NAN, 0, 0}};
	char buf[320];
	mp_spr_insight(g, 3, "projection", buf, sizeof buf);
	ck_assert_str_eq(buf, "down_proj separates best, up_proj worst: mean "
			      "separation ratio 1.5000 vs 1.2000 (25.0 % "
			      "higher; 2 projections compared)");
	mp_spr_insight(g, 1, "method", buf, sizeof buf);
	ck_assert_str_eq(buf, "only 1 method with a defined separation "
			      "ratio: nothing to compare");
}
END_TEST

/* A float16 matrix of 1100 x 1000 (above the size read on threads; rows
 * not a multiple of 64 bits, so runs of a row start inside a word): six
 * kinds of value, each with its known flags; both orientations and the
 * output axis last, on 1, 2, 3 and 8 threads, every bit against the plan
 * and nzero/ntiny against its counts. */
START_TEST(test_mask_threads)
{
	enum { R = 1100, C = 1000 };
	/* +0, -0, 2^-24 (tiny), -2^-20 (tiny), 2^-14 (6.1e-5: not tiny),
	 * 1, NaN, -inf */
	static const uint16_t code[8] = {0x0000, 0x8000, 0x0001, 0x8010,
					 0x0400, 0x3c00, 0x7e00, 0xfc00};
	static const bool nonzero[8] = {0, 0, 1, 1, 1, 1, 1, 1},
			  tiny[8] = {1, 1, 1, 1, 0, 0, 0, 0};
	char *dir = tu_tmpdir(), *path = tu_path(dir, "t.safetensors");
	uint16_t *h = malloc((size_t)R * C * sizeof *h);
	uint8_t *kind = malloc((size_t)R * C);
	uint64_t rs = 3, zeros = 0, ntiny = 0;
	for (size_t i = 0; i < (size_t)R * C; i++) {
		/* half zeros, the rest spread over the other kinds */
		kind[i] = (uint8_t)(tu_rand_uniform(&rs) < 0.5
					? tu_rand_u64(&rs) % 2
					: 2 + tu_rand_u64(&rs) % 6);
		h[i] = code[kind[i]];
		zeros += !nonzero[kind[i]];
		ntiny += tiny[kind[i]];
	}
	struct tu_tensor t = {"h", "F16", 2, {R, C}, h,
			      (size_t)R * C * sizeof *h};
	tu_write_safetensors(path, &t, 1, NULL);
	struct mp_model *m;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(path, &m, &err), MP_OK);
	struct mp_tensor *tm = &m->tensors[0];
	static const int nthreads[4] = {1, 2, 3, 8};
	for (int last = 0; last < 2; last++) {
		tm->output_last = last;
		for (int ax = 0; ax < 2; ax++)
			for (int k = 0; k < 4; k++) {
				struct mp_mask mk;
				ck_assert_int_eq(
				    mp_mask_from_tensor_mt(
					m, tm, ax ? MP_SPARSITY_COLS
						  : MP_SPARSITY_ROWS,
					false, nthreads[k], &mk, &err),
				    MP_OK);
				ck_assert_uint_eq(mk.nzero, zeros);
				ck_assert_uint_eq(mk.ntiny, ntiny);
				/* stored (i, j) is matrix (i, j), or (j, i)
				 * with the output axis last */
				uint64_t wrong = 0;
				for (uint64_t i = 0; i < R; i++)
					for (uint64_t j = 0; j < C; j++) {
						uint64_t r = last ? j : i,
							 c = last ? i : j;
						wrong += mp_mask_get(
							     &mk, ax ? c : r,
							     ax ? r : c) !=
							 nonzero[kind[i * C + j]];
					}
				ck_assert_uint_eq(wrong, 0);
				mp_mask_done(&mk);
			}
	}
	mp_model_free(m);
	free(h);
	free(kind);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* k-means on 1, 2, 3, 10 and 16 threads: 150 noisy features of 300 bits
 * around 5 patterns, so the 10 restarts end differently; every result
 * bit-equal to the one-thread run, whose restarts draw from one
 * sequence in turn. */
START_TEST(test_kmeans_threads)
{
	struct mp_mask mk;
	struct mp_error err;
	uint64_t rs = 21;
	ck_assert_int_eq(mp_mask_init(&mk, 150, 300, &err), MP_OK);
	for (uint64_t f = 0; f < 150; f++)
		for (uint64_t j = 0; j < 300; j++)
			if (((j / 60 == f % 5) ^ (tu_rand_uniform(&rs) < 0.3)))
				mp_mask_set(&mk, f, j);
	uint64_t pts[150];
	for (int i = 0; i < 150; i++)
		pts[i] = (uint64_t)i;
	struct mp_kmeans one, km;
	ck_assert_int_eq(
	    mp_kmeans_run_mt(&mk, pts, 150, 6, 9, 10, 1, &one, &err), MP_OK);
	static const int nthreads[4] = {2, 3, 10, 16};
	for (int k = 0; k < 4; k++) {
		ck_assert_int_eq(mp_kmeans_run_mt(&mk, pts, 150, 6, 9, 10,
						  nthreads[k], &km, &err),
				 MP_OK);
		ck_assert_mem_eq(km.label, one.label, 150 * sizeof *km.label);
		ck_assert_mem_eq(km.size, one.size, 6 * sizeof *km.size);
		ck_assert_mem_eq(km.centre, one.centre,
				 6 * 300 * sizeof *km.centre);
		ck_assert_double_eq(km.inertia, one.inertia);
		ck_assert_double_eq(km.within, one.within);
		ck_assert_double_eq(km.between, one.between);
		ck_assert_int_eq(km.iterations, one.iterations);
		mp_kmeans_done(&km);
	}
	mp_kmeans_done(&one);
	/* skipping n numbers is n draws */
	struct mp_rng a, b;
	mp_rng_init(&a, 5);
	mp_rng_init(&b, 5);
	for (int i = 0; i < 37; i++)
		mp_rng_next(&a);
	mp_rng_skip(&b, 37);
	ck_assert_uint_eq(mp_rng_next(&a), mp_rng_next(&b));
	mp_mask_done(&mk);
}
END_TEST

Suite *suite_sparsity(void)
{
	Suite *s = suite_create("sparsity");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hamming_by_hand);
	tcase_add_test(tc, test_rng_reference);
	tcase_add_test(tc, test_kmeans_by_hand);
	tcase_add_test(tc, test_kmeans_two_clusters);
	tcase_add_test(tc, test_kmeans_duplicates);
	tcase_add_test(tc, test_patterns);
	tcase_add_test(tc, test_mask_from_file);
	tcase_add_test(tc, test_mask_f16_table);
	tcase_add_test(tc, test_mask_threads);
	tcase_add_test(tc, test_kmeans_threads);
	tcase_add_loop_test(tc, test_mask_rows_across_blocks, 0, 3);
	tcase_add_test(tc, test_magnitude_by_hand);
	tcase_add_test(tc, test_magnitude_model);
	tcase_add_test(tc, test_parent_compare);
	tcase_add_test(tc, test_report_names);
	suite_add_tcase(s, tc);
	return s;
}
