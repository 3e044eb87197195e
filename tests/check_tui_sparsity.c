/* check_tui_sparsity.c — the cluster explorer on a model file the test
 * writes, rendered into an 80x24 canvas: the profile and pattern of a 2:4
 * matrix, the feature the seed draws, the nearest features of a hand-made
 * mask as bars of known length, the clusters of two obvious groups, the
 * keys that change the clusters, the nearest features, the feature, the
 * seed and the axis, and the errors. Every expected value is worked out
 * by hand (or by the python3 lines quoted) from the masks below. */
#include "check_suites.h"
#include "testutil.h"
#include "tui_sparsity.h"
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a.prune, 4 x 8, 2:4 along every row; every row and every column has
 * 4 and 2 zeros (16 of 32, 50.00%). */
static const char *const prune24[] = {"11001100", "00110011", "10101010",
				      "01010101"};
/* b.hand, 6 x 8: from feature 0, features 1 and 2 are 1 and 2 bits away,
 * 5, 4 and 3 are 6, 7 and 8 away; from feature 1, 0 and 2 are 1 away,
 * 5, 4 and 3 are 5, 6 and 7 away. */
static const char *const hand[] = {"11110000", "11100000", "11000000",
				   "00001111", "00000111", "00000011"};

static float wa[4 * 8], wb[6 * 8];
static char *dir, *path;

static void fill(float *w, const char *const *rows, int n)
{
	for (int r = 0; r < n; r++)
		for (int j = 0; j < 8; j++)
			w[r * 8 + j] = rows[r][j] == '1' ? 1.0f + 0.5f * (float)j
							 : 0.0f;
}

static void write_model(void)
{
	fill(wa, prune24, 4);
	fill(wb, hand, 6);
	float bias[3] = {1, 0, 2};
	struct tu_tensor t[3] = {{"a.prune", "F32", 2, {4, 8}, wa, sizeof wa},
				 {"b.hand", "F32", 2, {6, 8}, wb, sizeof wb},
				 {"c.bias", "F32", 1, {3}, bias, sizeof bias}};
	dir = tu_tmpdir();
	path = tu_path(dir, "sp.safetensors");
	tu_write_safetensors(path, t, 3, NULL);
}

static struct mp_tui_data nodata; /* no models, no matrix */
static struct mp_tui *app;
static struct mp_canvas *canvas;

static void keys(const char *script)
{
	int k[128];
	char bad[32];
	int n = mp_keys_parse(script, k, 128, bad);
	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		mp_tui_key(app, k[i]);
		mp_tui_draw(app, canvas);
	}
}

/* The explorer of the test model after script, 80x24, no colour, ASCII. */
static void show(const char *script)
{
	struct mp_error err;
	write_model();
	app = mp_tui_new(&nodata, (struct mp_caps){0, false, false});
	canvas = mp_canvas_new(80, 24);
	ck_assert(app && canvas);
	mp_tui_draw(app, canvas);
	ck_assert_int_eq(mp_tui_sparsity_file(app, path, &err), MP_OK);
	mp_tui_draw(app, canvas);
	keys(script);
}

static void teardown(void)
{
	mp_tui_free(app);
	mp_canvas_free(canvas);
	app = NULL;
	canvas = NULL;
	tu_rmtree(dir);
	free(dir);
	free(path);
}

static const char *row(int y)
{
	static char buf[512];
	return mp_canvas_row(canvas, y, buf, sizeof buf);
}

/* The right pane of row y: from column 27 (the list is 26 columns wide at
 * 80, its separator in column 25). */
static const char *pane(int y)
{
	const char *r = row(y);
	return strlen(r) > 27 ? r + 27 : "";
}

/* The first row whose right pane starts with want, or -1. */
static int find_pane(const char *want)
{
	for (int y = 1; y < canvas->h - 2; y++)
		if (!strncmp(pane(y), want, strlen(want)))
			return y;
	return -1;
}

static int count_cluster_rows(void)
{
	int y = find_pane("  cluster  size  within"), n = 0;
	ck_assert_int_gt(y, 0);
	while (y + 1 + n < canvas->h - 2 && !strncmp(pane(y + 1 + n), "     ", 5))
		n++;
	return n;
}

/* The list with the shares, the first matrix chosen: its profile and the
 * 2:4 pattern with its evidence. */
START_TEST(test_sparsity_profile)
{
	show("");
	ck_assert_str_eq(row(0) + strlen(row(0)) - 13, "?:help q:quit");
	ck_assert_ptr_nonnull(strstr(row(0), "| sparsity |"));
	ck_assert_str_eq(row(1), "Matrices (2)             | a.prune");
	ck_assert_str_eq(row(2), "*a.prune            50.0%| 4x8 (4 x 8), rows: 4 "
				 "features of 8");
	/* b.hand: 6 + 5 + 4 + 4 + 5 + 6 = 30 zeros of 48 = 62.5% */
	ck_assert_str_eq(row(3), " b.hand             62.5%| zeros 50.00% (16 of "
				 "32), below 1e-6 50.00%");
	ck_assert_str_eq(pane(4), "zeros per row 4..4, per column 2..2");
	ck_assert_str_eq(pane(5), "pattern 2:4 rows: every group of 4 consecutive");
	ck_assert_ptr_nonnull(strstr(pane(6), "along each row"));
	/* the list's cursor is reversed, the chosen row marked */
	ck_assert(mp_canvas_at(canvas, 3, 2)->st.attr & MP_ATTR_REVERSE);
	ck_assert_ptr_nonnull(strstr(row(23), "1/2"));
	teardown();
}
END_TEST

/* b.hand: the seed 42 draws feature 1 (python3: splitmix64(42) % 6 = 1),
 * whose 5 nearest are 0 and 2 (1), 5 (5), 4 (6), 3 (7); then feature 0
 * typed: 1 (1), 2 (2), 5 (6), 4 (7), 3 (8), as bars of round(d / 8 * 46)
 * cells: 6, 12, 35, 40, 46 ('#' without Unicode). */
START_TEST(test_sparsity_nearest)
{
	show("j<Enter>");
	ck_assert_str_eq(pane(1), "b.hand");
	ck_assert_str_eq(pane(2), "6x8 (6 x 8), rows: 6 features of 8");
	ck_assert_str_eq(pane(3), "zeros 62.50% (30 of 48), below 1e-6 62.50%");
	ck_assert_str_eq(pane(4), "zeros per row 4..6, per column 3..5");
	int y = find_pane("Feature 1 (3 non-zeros): 5 nearest");
	ck_assert_int_gt(y, 0);
	ck_assert_str_eq(pane(y + 1), "Hamming distance 1..7 (range 6)");
	keys("f0<Enter>K2<Enter>");
	y = find_pane("Feature 0 (4 non-zeros): 5 nearest");
	ck_assert_int_gt(y, 0);
	ck_assert_str_eq(pane(y + 1), "Hamming distance 1..8 (range 7)");
	/* scroll to the bars: the last five rows of the pane */
	keys("<PgDn>");
	static const struct {
		int feature, dist, cells;
	} bars[] = {{1, 1, 6}, {2, 2, 12}, {5, 6, 35}, {4, 7, 40}, {3, 8, 46}};
	y = find_pane("Nearest: feature, distance, cluster");
	ck_assert_int_gt(y, 0);
	char c12 = 0, c345 = 0;
	for (int i = 0; i < 5; i++) {
		const char *p = pane(y + 1 + i);
		char want[64];
		snprintf(want, sizeof want, "%d %d c", bars[i].feature,
			 bars[i].dist);
		ck_assert_msg(!strncmp(p, want, strlen(want)), "bar %d: '%s'",
			      i, p);
		ck_assert_int_eq((int)strlen(p), 7 + bars[i].cells);
		ck_assert_int_eq((int)strspn(p + 7, "#"), bars[i].cells);
		/* 1 and 2 in one cluster, 5, 4 and 3 in the other */
		char *c = i < 2 ? &c12 : &c345;
		if (!*c)
			*c = p[5];
		ck_assert_int_eq(p[5], *c);
	}
	ck_assert_int_ne(c12, c345);
	teardown();
}
END_TEST

/* Two obvious clusters of feature 0's nearest: {1, 2} and {5, 4, 3}.
 * By hand (python3 with the centres [1,1,.5,0,0,0,0,0] and
 * [0,0,0,0,1/3,2/3,1,1]): within 0.5 and sqrt(5/9)*2/3 + sqrt(2/9)/3 =
 * 0.654, overall within 0.592, between 2.192, ratio 3.700 (excellent),
 * inertia 0.5 + 12/9 = 1.833, balance 2/3, size std 0.5. */
START_TEST(test_sparsity_clusters)
{
	show("jl");
	/* 5 nearest, the default 8 clusters narrowed to 5 */
	ck_assert_int_gt(find_pane("Clusters: k-means, k 5, seed 42, 10 "
				   "restarts"), 0);
	ck_assert_int_eq(count_cluster_rows(), 5);
	keys("f0<Enter>K2<Enter>");
	ck_assert_int_gt(find_pane("Clusters: k-means, k 2, seed 42, 10 "
				   "restarts"), 0);
	ck_assert_int_eq(count_cluster_rows(), 2);
	int y = find_pane("  cluster  size  within");
	bool small_first = strstr(pane(y + 1), "     2   0.500") != NULL;
	ck_assert_str_eq(pane(y + 1), small_first ? "        1     2   0.500"
						  : "        1     3   0.654");
	ck_assert_str_eq(pane(y + 2), small_first ? "        2     3   0.654"
						  : "        2     2   0.500");
	ck_assert_str_eq(pane(y + 3), "between 2.192, within 0.592, separation "
				      "3.700");
	ck_assert_str_eq(pane(y + 4), "(excellent)");
	ck_assert_str_eq(pane(y + 5), "inertia 1.833, balance 0.667 (size std "
				      "0.500)");
	ck_assert_ptr_nonnull(strstr(row(22), "rows, n-features 128, "
					      "clusters 2, seed 42"));
	/* + and - change the table; fewer than 2 is refused */
	keys("+");
	ck_assert_int_eq(count_cluster_rows(), 3);
	ck_assert_int_gt(find_pane("Clusters: k-means, k 3,"), 0);
	keys("--");
	ck_assert_int_eq(count_cluster_rows(), 2);
	ck_assert_ptr_eq(strstr(row(23), "k-means needs 2 clusters or more"),
			 row(23));
	teardown();
}
END_TEST

/* The other keys: ] and [ step the feature (wrapping), F and < narrow the
 * nearest features, R and r change the seed (and the feature drawn:
 * splitmix64(43) % 6 = 4), a the axis, bad answers and Esc. */
START_TEST(test_sparsity_keys)
{
	show("j<Enter>f0<Enter>[");
	ck_assert_int_gt(find_pane("Feature 5 (2 non-zeros): 5 nearest"), 0);
	keys("]]");
	ck_assert_int_gt(find_pane("Feature 1 (3 non-zeros)"), 0);
	keys("F2<Enter>");
	ck_assert_int_gt(find_pane("Feature 1 (3 non-zeros): 2 nearest"), 0);
	ck_assert_int_gt(find_pane("Clusters: k-means, k 2,"), 0);
	keys("<");
	ck_assert_int_gt(find_pane("Feature 1 (3 non-zeros): 1 nearest"), 0);
	ck_assert_int_gt(find_pane("1 feature: k-means needs 2 or more"), 0);
	ck_assert_int_lt(find_pane("Clusters:"), 0);
	keys(">>>");
	ck_assert_int_gt(find_pane("n-features 8: there are only 5 other"), 0);
	keys("r");
	ck_assert_int_gt(find_pane("Feature 4 (3 non-zeros)"), 0);
	ck_assert_ptr_nonnull(strstr(row(22), "seed 43"));
	keys("R42<Enter>");
	ck_assert_int_gt(find_pane("Feature 1 (3 non-zeros)"), 0);
	/* columns: 8 features of 6; column 0 = 111000 has 3 non-zeros */
	keys("af0<Enter>");
	ck_assert_str_eq(pane(2), "6x8 (6 x 8), cols: 8 features of 6");
	ck_assert_int_gt(find_pane("Feature 0 (3 non-zeros): 7 nearest"), 0);
	/* the prompt shows its question; a bad answer is one message */
	keys("f");
	ck_assert_ptr_eq(strstr(row(23), "feature index: "), row(23));
	keys("x<Enter>");
	ck_assert_ptr_nonnull(strstr(row(23), "not a number in range: x"));
	keys("f9<Enter>");
	ck_assert_ptr_nonnull(strstr(row(23), "feature 9: there are 8 "
					      "features along cols (0 to 7)"));
	keys("K1<Esc>");
	ck_assert_ptr_nonnull(strstr(row(22), "clusters 8"));
	keys("<Esc>");
	ck_assert_str_eq(app->stack[app->depth - 1]->ops->name, "models");
	teardown();
}
END_TEST

/* The help screen has a section for every scope of the key table: the
 * explorer's keys, the detail view's z and the clusters view's keys. */
START_TEST(test_sparsity_help)
{
	app = mp_tui_new(&nodata, (struct mp_caps){0, false, false});
	canvas = mp_canvas_new(80, 200);
	ck_assert(app && canvas);
	mp_tui_draw(app, canvas);
	keys("?");
	static const char *const want[] = {
		"Clusters", "Model detail", "Cluster explorer",
		"  z                  cluster explorer: the sparsity of the "
		"model's matrices",
		"  ]                  next feature",
		"  +, =               one cluster more",
		"  a                  features along rows or columns",
		"  >                  move the cut one merge up: fewer, larger "
		"clusters"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		int y = 0;
		while (y < canvas->h && strcmp(row(y), want[i]))
			y++;
		ck_assert_msg(y < canvas->h, "help lacks '%s'", want[i]);
	}
	mp_tui_free(app);
	mp_canvas_free(canvas);
	app = NULL;
	canvas = NULL;
}
END_TEST

/* z on a model the registry does not hold: a message, no view. */
START_TEST(test_sparsity_no_files)
{
	struct mp_tui_model mm = {.id = "r1", .name = "loose", .family = "",
				  .type = "", .format = ""};
	struct mp_tui_data d = {.n = 1, .models = &mm};
	app = mp_tui_new(&d, (struct mp_caps){0, false, false});
	canvas = mp_canvas_new(80, 24);
	ck_assert(app && canvas);
	mp_tui_draw(app, canvas);
	keys("<Enter>z");
	ck_assert_str_eq(app->stack[app->depth - 1]->ops->name, "detail");
	ck_assert_ptr_eq(strstr(row(23), "loose is not in the registry: its "
					 "files are not known"),
			 row(23));
	mp_tui_free(app);
	mp_canvas_free(canvas);
	app = NULL;
	canvas = NULL;
}
END_TEST

/* Errors name the file: a missing file, a file without a matrix, a
 * dense and an all-zero matrix say why there is nothing to cluster. */
START_TEST(test_sparsity_errors)
{
	struct mp_error err;
	struct mp_tui_sp *sp;
	char *d = tu_tmpdir(), *p = tu_path(d, "none.safetensors");
	ck_assert_int_ne(mp_tui_sp_open(p, &sp, &err), MP_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "none.safetensors"));
	float v[4] = {1, 2, 3, 4}, z[4] = {0, 0, 0, 0};
	struct tu_tensor t[2] = {{"v", "F32", 1, {4}, v, sizeof v},
				 {"z", "F32", 2, {2, 2}, z, sizeof z}};
	tu_write_safetensors(p, t, 1, NULL);
	ck_assert_int_eq(mp_tui_sp_open(p, &sp, &err), MP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "none.safetensors: no floating "
					      "tensor of 2 or more dimensions"));
	t[0] = (struct tu_tensor){"dense", "F32", 2, {2, 2}, v, sizeof v};
	tu_write_safetensors(p, t, 2, NULL);
	ck_assert_int_eq(mp_tui_sp_open(p, &sp, &err), MP_OK);
	ck_assert_int_eq(mp_tui_sp_choose(sp, 0, &err), MP_OK);
	ck_assert_str_eq(sp->note, "no weight is zero: every feature has the "
				   "same mask");
	ck_assert_ptr_null(sp->idx);
	ck_assert_int_eq(mp_tui_sp_choose(sp, 1, &err), MP_OK);
	ck_assert_str_eq(sp->note, "every weight is zero: there is no mask to "
				   "cluster");
	ck_assert_int_eq(mp_tui_sp_feature(sp, 2, &err), MP_EINVAL);
	mp_tui_sp_free(sp);
	tu_rmtree(d);
	free(d);
	free(p);
}
END_TEST

Suite *suite_tui_sparsity(void)
{
	Suite *s = suite_create("tui_sparsity");
	TCase *tc = tcase_create("view");
	tcase_add_test(tc, test_sparsity_profile);
	tcase_add_test(tc, test_sparsity_nearest);
	tcase_add_test(tc, test_sparsity_clusters);
	tcase_add_test(tc, test_sparsity_keys);
	tcase_add_test(tc, test_sparsity_errors);
	tcase_add_test(tc, test_sparsity_help);
	tcase_add_test(tc, test_sparsity_no_files);
	suite_add_tcase(s, tc);
	return s;
}
