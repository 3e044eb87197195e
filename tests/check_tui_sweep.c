/* check_tui_sweep.c — the sweep view on a synthesised sweep the test
 * writes (P = 7, widths 1, 2, 3, 5, noise 0.05), rendered into an 80x24
 * canvas without colour: the d labels of rows and columns, the value under
 * the cursor against the matrix entry of a separate mp_sweep_compute, the
 * metric keys changing the title, the accuracy marks in the rows worked
 * out from mp_sweep_accuracy, the Pearson correlations against the
 * formula evaluated here over the upper triangle, the profile, small and
 * large screens, and the errors. */
#include "check_suites.h"
#include "testutil.h"
#include "tui_sweep.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NM 4
static const uint32_t dims[NM] = {1, 2, 3, 5};
static const uint32_t P = 7;

static char *dir;
static double acc[NM];
static struct mp_sweep_result res; /* computed apart from the view */

static void write_sweep(void)
{
	struct mp_error err;
	uint32_t freq[P / 2 + 1];
	double amp[P / 2 + 1];
	struct mp_sweep *s = mp_sweep_new("tsw", P, NM, dims);
	ck_assert_ptr_nonnull(s);
	size_t nf = mp_sweep_synth_freqs(P, 2, freq);
	for (size_t k = 0; k < nf; k++)
		amp[k] = 1.0 / (double)(k + 1);
	for (size_t i = 0; i < NM; i++) {
		ck_assert_int_eq(mp_sweep_synth_model(s, i, freq, amp, nf, 0.05,
						      2, &err),
				 MP_OK);
		ck_assert_int_eq(mp_sweep_accuracy(s, i, &acc[i], &err), MP_OK);
	}
	dir = tu_tmpdir();
	ck_assert_int_eq(mp_sweep_synth_write(s, dir, acc, freq, nf, &err),
			 MP_OK);
	ck_assert_int_eq(mp_sweep_compute(s, MP_TUI_SW_EVECS, &res, &err),
			 MP_OK);
	mp_sweep_free(s);
}

static struct mp_tui_data nodata;
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

/* The sweep view after script at w x h, no colour, ASCII. */
static void show_at(const char *script, int w, int h)
{
	struct mp_error err;
	write_sweep();
	app = mp_tui_new(&nodata, (struct mp_caps){0, false, false});
	canvas = mp_canvas_new(w, h);
	ck_assert(app && canvas);
	mp_tui_draw(app, canvas);
	ck_assert_int_eq(mp_tui_sweep_file(app, dir, &err), MP_OK);
	mp_tui_draw(app, canvas);
	keys(script);
}

static void show(const char *script)
{
	show_at(script, 80, 24);
}

static void teardown(void)
{
	mp_tui_free(app);
	mp_canvas_free(canvas);
	mp_sweep_result_done(&res);
	app = NULL;
	canvas = NULL;
	if (dir)
		tu_rmtree(dir);
	free(dir);
	dir = NULL;
}

static const char *row(int y)
{
	static char buf[512];
	return mp_canvas_row(canvas, y, buf, sizeof buf);
}

/* Row y right of the separator (the heatmap pane is 24 columns at 4
 * models: at least 24, 7 + 3 * 4 = 19; the pane text from column 26). */
static const char *pane(int y)
{
	const char *r = row(y);
	return strlen(r) > 26 ? r + 26 : "";
}

static int find_pane(const char *want)
{
	for (int y = 1; y < canvas->h - 2; y++)
		if (!strncmp(pane(y), want, strlen(want)))
			return y;
	return -1;
}

static char cell(int x, int y)
{
	const struct mp_cell *c = mp_canvas_at(canvas, x, y);
	ck_assert_ptr_nonnull(c);
	return (char)c->ch;
}

static void fmt4(double x, char *buf)
{
	snprintf(buf, 32, "%.4f", x);
}

START_TEST(test_sweep_labels)
{
	show("");
	ck_assert_ptr_nonnull(strstr(row(0), " sweep "));
	ck_assert_str_eq(pane(1), "Sweep tsw, P = 7, 4 models");
	ck_assert(!strncmp(row(2), "d        1  2  3  5", 19));
	for (int i = 0; i < NM; i++) {
		char want[16];
		snprintf(want, sizeof want, "d=%u ", dims[i]);
		ck_assert_msg(!strncmp(row(3 + i), want, strlen(want)), "%s",
			      row(3 + i));
	}
	/* the cursor starts on (d=1, d=1), framed, a diagonal TN of 1 */
	ck_assert_int_eq(cell(7, 3), '[');
	ck_assert_int_eq(cell(9, 3), ']');
	ck_assert_str_eq(pane(2), "TN(d=1, d=1) = 1.0000 (higher: more alike)");
	ck_assert(!strncmp(row(1), "TN similarity ", 14));
}
END_TEST

START_TEST(test_sweep_cursor_value)
{
	char want[160], v[32];
	show("jjjll"); /* row d=5, column d=3 */
	fmt4(res.tn[3 * NM + 2], v);
	snprintf(want, sizeof want, "TN(d=5, d=3) = %s (higher: more alike)",
		 v);
	ck_assert_str_eq(pane(2), want);
	ck_assert_int_eq(cell(7 + 2 * 3, 6), '[');
	ck_assert_int_eq(cell(7 + 2 * 3 + 2, 6), ']');
	ck_assert_int_eq(cell(7, 3), '@'); /* the diagonal: most alike */
	keys("m");
	fmt4(res.logit[3 * NM + 2], v);
	snprintf(want, sizeof want, "logit(d=5, d=3) = %s (higher: more "
				    "alike)", v);
	ck_assert_str_eq(pane(2), want);
	keys("m");
	fmt4(res.js[3 * NM + 2], v);
	snprintf(want, sizeof want, "JS(d=5, d=3) = %s (lower: more alike)", v);
	ck_assert_str_eq(pane(2), want);
	/* the JS diagonal is 0, the most alike, drawn as '@' too */
	ck_assert_int_eq(cell(7, 3), '@');
	char acc_want[128];
	fmt4(acc[3], v);
	snprintf(acc_want, sizeof acc_want, "accuracy of d=5: %s, val_acc %s",
		 v, v);
	ck_assert_str_eq(pane(3), acc_want);
}
END_TEST

START_TEST(test_sweep_metric_keys)
{
	show("m");
	ck_assert(!strncmp(row(1), "logit cosine ", 13));
	keys("m");
	ck_assert(!strncmp(row(1), "frequency JS ", 13));
	keys("m");
	ck_assert(!strncmp(row(1), "TN similarity ", 14));
	keys("p");
	ck_assert(!strncmp(row(1), "frequency JS ", 13));
	keys("<Tab>");
	ck_assert(!strncmp(row(1), "TN similarity ", 14));
	ck_assert(!strncmp(row(canvas->h - 2), "TN  m/p: metric", 15));
}
END_TEST

/* Rows: title 1, labels 2, heatmap 3..6, blank 7, plot title 8, plot
 * rows 9..15 (7: 21 - 8 - 1 = 12 capped to 8, made odd), widths 16; a
 * model of accuracy a has its '*' on row 9 + round((1 - a) * 6) in the
 * last column of its cell. */
START_TEST(test_sweep_accuracy_plot)
{
	show("");
	ck_assert(!strncmp(row(8), "Accuracy by width d     |", 25));
	ck_assert(!strncmp(row(9), "1.00 |", 6));
	ck_assert(!strncmp(row(12), "0.50 |", 6));
	ck_assert(!strncmp(row(15), "0.00 |", 6));
	ck_assert(!strncmp(row(16), "         1  2  3  5", 19));
	for (int i = 0; i < NM; i++) {
		int x = 7 + 3 * i + 2, want = 9 + (int)lround((1 - acc[i]) * 6);
		for (int y = 9; y <= 15; y++)
			ck_assert_msg(cell(x, y) == (y == want ? '*' : ' '),
				      "model %d (acc %g) row %d", i, acc[i], y);
	}
}
END_TEST

/* Pearson r of x and y over k values, the formula written out. */
static double pearson(const double *x, const double *y, int k)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	for (int i = 0; i < k; i++) {
		mx += x[i] / k;
		my += y[i] / k;
	}
	for (int i = 0; i < k; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxy / sqrt(sxx * syy);
}

START_TEST(test_sweep_correlation)
{
	double v[3][NM * NM];
	int k = 0;
	show("");
	for (int i = 0; i < NM; i++)
		for (int j = i + 1; j < NM; j++, k++) {
			v[0][k] = res.tn[i * NM + j];
			v[1][k] = res.logit[i * NM + j];
			v[2][k] = -res.js[i * NM + j];
		}
	int y = find_pane("Correlation, 6 pairs (JS negated)");
	ck_assert_int_gt(y, 0);
	ck_assert_str_eq(pane(y + 1), "Metrics          Pearson");
	const char *lb[3] = {"TN vs logit", "TN vs -JS", "logit vs -JS"};
	const int a[3] = {0, 0, 1}, b[3] = {1, 2, 2};
	for (int p = 0; p < 3; p++) {
		char want[64];
		snprintf(want, sizeof want, "%-14s %9.4f", lb[p],
			 pearson(v[a[p]], v[b[p]], k));
		ck_assert_str_eq(pane(y + 2 + p), want);
	}
}
END_TEST

START_TEST(test_sweep_profile)
{
	char want[160], x[32], y[32], z[32];
	show("jl"); /* row d=2, column d=2 */
	int at = find_pane("Profile of d=2 by width");
	ck_assert_int_gt(at, 0);
	for (int j = 0; j < NM; j++) {
		fmt4(res.tn[1 * NM + j], x);
		fmt4(res.logit[1 * NM + j], y);
		fmt4(res.js[1 * NM + j], z);
		char d[16];
		snprintf(d, sizeof d, "d=%u", dims[j]);
		snprintf(want, sizeof want, "%-7s %7s %7s %7s", d, x, y, z);
		ck_assert_str_eq(pane(at + 2 + j), want);
	}
	/* h at the first column goes back; here to the models view */
	keys("hh");
	ck_assert_ptr_null(strstr(row(0), " sweep "));
}
END_TEST

/* Every key at sizes from 20x6 to 203x61 keeps the view drawable and
 * the cursor within the sweep; a long profile scrolls. */
START_TEST(test_sweep_sizes)
{
	static const int sz[][2] = {{20, 6}, {21, 7}, {33, 9}, {203, 61}};
	for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
		show_at("GGGllllll<PgDn><PgDn>mpm<PgUp>kkkkkkhhhhh", sz[i][0],
			sz[i][1]);
		ck_assert_int_eq(canvas->w, sz[i][0]);
		teardown();
	}
	show_at("<PgDn>", 80, 12);
	ck_assert_int_eq(find_pane("Sweep tsw"), -1); /* scrolled away */
	keys("<PgUp>");
	ck_assert_int_eq(find_pane("Sweep tsw"), 1);
}
END_TEST

START_TEST(test_sweep_errors)
{
	struct mp_error err;
	struct mp_tui_sw *sw;
	char *d = tu_tmpdir(), *p = tu_path(d, "manifest.json");
	ck_assert_int_ne(mp_tui_sw_open(d, &sw, &err), MP_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "manifest.json"));
	tu_write_str(p, "{\"P\": 5, \"models\": [{\"d\": 1, \"file\": "
			"\"gone.safetensors\"}]}");
	ck_assert_int_ne(mp_tui_sw_open(p, &sw, &err), MP_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "gone.safetensors"));
	tu_rmtree(d);
	free(d);
	free(p);
}
END_TEST

Suite *suite_tui_sweep(void)
{
	Suite *s = suite_create("tui_sweep");
	TCase *tc = tcase_create("view");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_sweep_labels);
	tcase_add_test(tc, test_sweep_cursor_value);
	tcase_add_test(tc, test_sweep_metric_keys);
	tcase_add_test(tc, test_sweep_accuracy_plot);
	tcase_add_test(tc, test_sweep_correlation);
	tcase_add_test(tc, test_sweep_profile);
	tcase_add_test(tc, test_sweep_sizes);
	tcase_add_test(tc, test_sweep_errors);
	suite_add_tcase(s, tc);
	return s;
}
