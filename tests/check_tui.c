/* check_tui.c — the interface without a terminal: canvas, key table and
 * every view rendered into an 80x24 canvas, on a registry and results file
 * the tests write (three models, two matrices, values chosen so every
 * expected character can be worked out by hand). */
#include "check_suites.h"
#include "fingerprint.h"
#include "heat_cells.h"
#include "model.h"
#include "namecut.h"
#include "registry.h"
#include "testutil.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- canvas and keys --------------------------------------------------- */

START_TEST(test_canvas_text)
{
	struct mp_canvas *c = mp_canvas_new(10, 2);
	char row[64];
	ck_assert_int_eq(mp_canvas_text(c, 2, 0, 100, MP_STYLE_PLAIN, "abcdefghijk"), 8);
	ck_assert_str_eq(mp_canvas_row(c, 0, row, sizeof row), "  abcdefgh");
	/* control byte, invalid UTF-8, a wide character: one '?' each */
	mp_canvas_text(c, 0, 1, 10, MP_STYLE_PLAIN, "a\tb\xff" "c\xe4\xb8\xad" "d\xe2\x96\x80");
	ck_assert_str_eq(mp_canvas_row(c, 1, row, sizeof row), "a?b?c?d\xe2\x96\x80");
	/* ESC, the C1 control U+009B, bidi overrides U+202E and U+2066: '?' */
	mp_canvas_text(c, 0, 0, 10, MP_STYLE_PLAIN,
		       "\x1b"
		       "a\xc2\x9b"
		       "b\xe2\x80\xae"
		       "c\xe2\x81\xa6"
		       "d  ");
	ck_assert_str_eq(mp_canvas_row(c, 0, row, sizeof row), "?a?b?c?d");
	mp_canvas_text(c, 0, 0, 10, MP_STYLE_PLAIN, "  abcdefgh");
	mp_canvas_put(c, -1, 0, 'x', MP_STYLE_PLAIN); /* ignored */
	mp_canvas_put(c, 10, 0, 'x', MP_STYLE_PLAIN);
	ck_assert_ptr_null(mp_canvas_at(c, 10, 0));
	char *t = mp_canvas_to_text(c);
	ck_assert_str_eq(t, "  abcdefgh\na?b?c?d\xe2\x96\x80\n");
	free(t);
	ck_assert(mp_canvas_resize(c, 3, 1));
	ck_assert(!mp_canvas_resize(c, 0, 1));
	t = mp_canvas_to_text(c);
	ck_assert_str_eq(t, "\n");
	free(t);
	mp_canvas_free(c);
	mp_canvas_free(NULL);
}
END_TEST

/* Names cut in the middle keep both ends: 26 letters in 9 columns are
 * 4 + "…" + 4 (UTF-8) or 3 + "..." + 3 (ASCII); what fits is drawn whole;
 * multi-byte characters count one column each. */
START_TEST(test_canvas_fit_middle)
{
	struct mp_canvas *c = mp_canvas_new(12, 1);
	struct mp_caps u = {0, false, true}, a = {0, false, false};
	char row[64];
	const char *abc = "abcdefghijklmnopqrstuvwxyz";
	ck_assert_int_eq(mp_tui_text_width(abc), 26);
	ck_assert_int_eq(mp_tui_text_width("\xc3\xa9t\xc3\xa9"), 3);
	ck_assert_int_eq(mp_canvas_fit_middle(c, 1, 0, 9, MP_STYLE_PLAIN, &u, abc), 9);
	ck_assert_str_eq(mp_canvas_row(c, 0, row, sizeof row), " abcd\xe2\x80\xa6wxyz");
	mp_canvas_clear(c);
	ck_assert_int_eq(mp_canvas_fit_middle(c, 0, 0, 9, MP_STYLE_PLAIN, &a, abc), 9);
	ck_assert_str_eq(mp_canvas_row(c, 0, row, sizeof row), "abc...xyz");
	mp_canvas_clear(c);
	ck_assert_int_eq(mp_canvas_fit_middle(c, 0, 0, 10, MP_STYLE_PLAIN, &u, "abcdefghij"), 10);
	ck_assert_str_eq(mp_canvas_row(c, 0, row, sizeof row), "abcdefghij");
	mp_canvas_clear(c);
	/* 7 columns of "\xc3\xa9" x 10: 3 + "…" + 3, cut between characters */
	mp_canvas_fit_middle(c, 0, 0, 7, MP_STYLE_PLAIN, &u,
			     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	ck_assert_str_eq(mp_canvas_row(c, 0, row, sizeof row),
			 "\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6\xc3\xa9\xc3\xa9\xc3\xa9");
	mp_canvas_free(c);
}
END_TEST

START_TEST(test_keys)
{
	int k[16];
	char bad[32];
	ck_assert_int_eq(mp_keys_parse("j<Enter>/x<Esc><Up>", k, 16, bad), 6);
	ck_assert_int_eq(k[0], 'j');
	ck_assert_int_eq(k[1], MP_KEY_ENTER);
	ck_assert_int_eq(k[2], '/');
	ck_assert_int_eq(k[4], MP_KEY_ESC);
	ck_assert_int_eq(k[5], MP_KEY_UP);
	ck_assert_int_eq(mp_keys_parse("a<Nope>", k, 16, bad), -1);
	ck_assert_str_eq(bad, "Nope");
	ck_assert_int_eq(mp_keys_parse("<>", k, 16, bad), 2); /* literal */
	ck_assert_int_eq(mp_action_for('+', "heatmap"), MP_ACT_ZOOM_IN);
	ck_assert_int_eq(mp_action_for('+', "models"), MP_ACT_NONE);
	ck_assert_int_eq(mp_action_for('s', "models"), MP_ACT_SORT);
	ck_assert_int_eq(mp_action_for(MP_KEY_DOWN, "heatmap"), MP_ACT_DOWN);
	char buf[8];
	ck_assert_str_eq(mp_key_name(MP_KEY_CTRL('l'), buf), "C-l");
	ck_assert_str_eq(mp_key_name('Z', buf), "Z");
	/* every key of the table is unique within its scope */
	size_t n;
	const struct mp_keydef *km = mp_keymap(&n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			ck_assert(km[i].key != km[j].key ||
				  strcmp(km[i].scope, km[j].scope));
}
END_TEST

START_TEST(test_ramps)
{
	struct mp_caps mono = {0, false, false}, c256 = {256, false, true},
		       tc = {256, true, true};
	ck_assert_int_eq(mp_tui_plain_ramp(0), ' ');
	ck_assert_int_eq(mp_tui_plain_ramp(1), '@');
	ck_assert_int_eq(mp_tui_plain_ramp(NAN), ' ');
	ck_assert_uint_eq(mp_tui_ramp_color(&mono, 0.5), MP_COLOR_DEFAULT);
	/* viridis ends: (68,1,84) -> cube (1,0,1) = 16+36+1 = 53;
	   (253,231,37) -> cube (5,4,0) = 16+180+24 = 220 (231 is nearer 215
	   than 255) */
	ck_assert_uint_eq(mp_tui_ramp_color(&c256, 0), 53);
	ck_assert_uint_eq(mp_tui_ramp_color(&c256, 1), 220);
	ck_assert_uint_eq(mp_tui_ramp_color(&tc, 1), MP_RGB(253, 231, 37));
	ck_assert_uint_eq(mp_tui_bar_char(&c256, 1), 0x2588);
	ck_assert_uint_eq(mp_tui_bar_char(&c256, 0.01), 0x2581);
	ck_assert_uint_eq(mp_tui_bar_char(&mono, 1), '@');
}
END_TEST

START_TEST(test_namecut)
{
	char b[64];
	/* fits: unchanged */
	ck_assert_str_eq(mp_tui_cut_middle("facemesh", 8, true, b, sizeof b),
			 "facemesh");
	/* 23 characters into 10: 9 kept, 5 before and 4 after the "…" */
	ck_assert_str_eq(mp_tui_cut_middle("facemesh-detection-full", 10, true,
					   b, sizeof b),
			 "facem\xe2\x80\xa6" "full");
	ck_assert_str_eq(mp_tui_cut_middle("facemesh-detection-short", 10, true,
					   b, sizeof b),
			 "facem\xe2\x80\xa6" "hort");
	/* ASCII: "..." takes three, 4 before and 3 after */
	ck_assert_str_eq(mp_tui_cut_middle("facemesh-detection-full", 10, false,
					   b, sizeof b),
			 "face...ull");
	ck_assert_str_eq(mp_tui_cut_middle("abcdef", 2, false, b, sizeof b), "ab");
	ck_assert_str_eq(mp_tui_cut_middle("abcdef", 0, true, b, sizeof b), "");
	/* multi-byte characters count as one column and are never split */
	ck_assert_int_eq(mp_tui_text_width("\xc3\xa9t\xc3\xa9"), 3);
	ck_assert_str_eq(mp_tui_cut_middle("\xc3\xa9" "abcd" "\xc3\xa9", 3, true,
					   b, sizeof b),
			 "\xc3\xa9\xe2\x80\xa6\xc3\xa9");
}
END_TEST

/* 8 models, pair (i, j), i < j, the k-th in row order: 0.1 + 0.03 k; the
   pair (0, 7) null. Expected values from python3 statistics.quantiles(
   method="inclusive"), which is numpy's linear percentile. */
START_TEST(test_heat_cells)
{
	struct mp_simmatrix *m = mp_simmatrix_new("spectral", "cosine", 8);
	ck_assert_ptr_nonnull(m);
	m->higher_is_more_alike = true;
	int k = 0;
	for (int i = 0; i < 8; i++) {
		m->value[i * 8 + i] = 1;
		for (int j = i + 1; j < 8; j++, k++)
			m->value[i * 8 + j] = m->value[j * 8 + i] = 0.1 + 0.03 * k;
	}
	m->value[7] = m->value[7 * 8] = NAN;
	struct mp_heat_scale sc;
	struct mp_error err;
	ck_assert_int_eq(mp_heat_scale_compute(m, &sc, &err), MP_OK);
	ck_assert_double_eq_tol(sc.vmin, 0.1, 1e-12);
	ck_assert_double_eq_tol(sc.vmax, 1, 1e-12); /* the diagonal */
	ck_assert_double_eq_tol(sc.q02, 0.1018, 1e-12);
	ck_assert_double_eq_tol(sc.q98, 0.9082, 1e-12);
	double x[] = {1, 2, 4};
	ck_assert_double_eq_tol(mp_heat_quantile(x, 3, 0.75), 3, 1e-12);
	ck_assert_double_eq_tol(mp_heat_quantile(x, 1, 0.98), 1, 1e-12);
	size_t ord[8] = {0, 1, 2, 3, 4, 5, 6, 7}, nd;
	/* rows 0-1 x columns 6-7: 0.25, null, 0.43, 0.46 */
	ck_assert_double_eq_tol(mp_heat_block(m, ord, 0, 6, 2, false, &nd),
				(0.25 + 0.43 + 0.46) / 3, 1e-12);
	ck_assert_uint_eq(nd, 3);
	ck_assert_double_eq_tol(mp_heat_block(m, ord, 0, 6, 2, true, &nd), 0.46,
				1e-12);
	/* on the diagonal the self pairs are left out: 0.91 twice */
	ck_assert_double_eq_tol(mp_heat_block(m, ord, 6, 6, 2, false, &nd), 0.91,
				1e-12);
	ck_assert_uint_eq(nd, 2);
	/* a block of one self pair is that pair */
	ck_assert_double_eq_tol(mp_heat_block(m, ord, 3, 3, 1, false, &nd), 1,
				1e-12);
	/* a block cut by the edge: rows 6-7 (b = 3 from 6) x columns 0-2:
	   0.25, 0.43, 0.58, (7,0) null, 0.46, 0.61 */
	ck_assert_double_eq_tol(mp_heat_block(m, ord, 6, 0, 3, false, &nd),
				(0.25 + 0.43 + 0.58 + 0.46 + 0.61) / 5, 1e-12);
	ck_assert_uint_eq(nd, 5);
	/* a divergence: the most alike is the smallest */
	m->higher_is_more_alike = false;
	ck_assert_double_eq_tol(mp_heat_block(m, ord, 0, 6, 2, true, &nd), 0.25,
				1e-12);
	m->value[0 * 8 + 6] = m->value[1 * 8 + 6] = m->value[1 * 8 + 7] = NAN;
	ck_assert(isnan(mp_heat_block(m, ord, 0, 6, 2, false, &nd)));
	ck_assert_uint_eq(nd, 0);
	mp_simmatrix_free(m);
}
END_TEST

/* ---- a small world ----------------------------------------------------- */

static char *dir;
static struct mp_tui_data *data;

static const char results[] =
	"{\"matrices\":{\"tensors\":{\"cosine\":{\"models\":[\"1\",\"2\",\"3\"],"
	"\"higher_is_more_alike\":true,\"estimate\":{\"kind\":\"sketch\","
	"\"values\":1024},\"values\":[[1,0.5,null],[0.5,1,0.2],"
	"[null,0.2,1]],\"undefined\":[{\"i\":0,\"j\":2,\"reason\":"
	"\"no tensors in common\"}]}},"
	"\"spectral\":{\"js\":{\"models\":[\"1\",\"2\",\"3\"],"
	"\"higher_is_more_alike\":false,\"values\":[[0,0.1,0.6],[0.1,0,0.3],"
	"[0.6,0.3,0]]}}}}";

static void world(void)
{
	dir = tu_tmpdir();
	struct mp_error err;
	const char *names[3] = {"alpha", "beta", "gamma"};
	const char *fam[3] = {"F1", "F1", "F2"}, *type[3] = {"T1", "T2", "T1"};
	for (int i = 0; i < 3; i++) {
		struct mp_reg_model rm = {.name = (char *)names[i],
					  .family = (char *)fam[i],
					  .type = (char *)type[i], .path = "/m",
					  .format = "safetensors"};
		char id[4], *got;
		snprintf(id, sizeof id, "%d", i + 1);
		ck_assert_int_eq(tu_reg_add(dir, &rm, id, &got, &err), MP_OK);
		free(got);
	}
	/* alpha: one tensor w (2x3, F32), sketch {0,0,0,1}; 1000 F32 and 500
	   F16 parameters; spectral histogram 0.25 in bin 0, 0.75 in bin 63 */
	float sketch[4] = {0, 0, 0, 1};
	uint64_t shape[2] = {2, 3};
	struct mp_tstats stats = {.n = 6, .mean = 0.25, .std = 0.5,
				  .min = -1, .max = 2, .sparsity = 0.5};
	struct mp_tensor_fp tf = {.name = "w", .dtype = MP_F32, .stored = MP_F32,
				  .ndim = 2, .shape = shape, .numel = 6,
				  .stats = &stats, .nsketch = 4,
				  .sketch = sketch};
	struct mp_fingerprint fp = {.method = "tensors", .format = "safetensors",
				    .params = 1500, .ntensors = 1, .tensors = &tf};
	fp.dtype_params[MP_F32] = 1000;
	fp.dtype_params[MP_F16] = 500;
	ck_assert_int_eq(tu_reg_put_fp(dir, "1", &fp, &err), MP_OK);
	struct mp_fingerprint sp = {.method = "spectral", .format = "safetensors",
				    .params = 1500, .has_hist = true};
	sp.hist[0] = 0.25;
	sp.hist[63] = 0.75;
	ck_assert_int_eq(tu_reg_put_fp(dir, "1", &sp, &err), MP_OK);
	struct mp_fingerprint fb = {.method = "tensors", .format = "safetensors",
				    .params = 20};
	fb.dtype_params[MP_F32] = 20;
	ck_assert_int_eq(tu_reg_put_fp(dir, "2", &fb, &err), MP_OK);
	char *res = tu_path(dir, "sim.json");
	tu_write_str(res, results);
	struct mp_tui_paths p = {.registry = dir, .results = res};
	ck_assert_msg(mp_tui_data_load(&p, NULL, &data, &err) == MP_OK, "%s",
		      err.msg);
	free(res);
}

static void unworld(void)
{
	mp_tui_data_free(data);
	tu_rmtree(dir);
	free(dir);
}

static struct mp_tui *last; /* the app of the last screen() */

/* Run keys on a fresh app and return the 80x24 screen (static). */
static struct mp_canvas *screen(struct mp_caps caps, const char *keys)
{
	static struct mp_canvas *c;
	static struct mp_tui *t;
	mp_tui_free(t);
	mp_canvas_free(c);
	struct mp_error err;
	ck_assert_int_eq(mp_tui_data_select(data, 0, NULL, &err), MP_OK);
	t = last = mp_tui_new(data, caps);
	c = mp_canvas_new(80, 24);
	mp_tui_draw(t, c);
	int k[256];
	char bad[32];
	int n = mp_keys_parse(keys, k, 256, bad);
	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n && !t->quit; i++) {
		mp_tui_key(t, k[i]);
		mp_tui_draw(t, c);
	}
	return c;
}

static const char *row(struct mp_canvas *c, int y)
{
	static char buf[512];
	return mp_canvas_row(c, y, buf, sizeof buf);
}

static bool has_row(struct mp_canvas *c, const char *want)
{
	for (int y = 0; y < c->h; y++)
		if (!strcmp(row(c, y), want))
			return true;
	return false;
}

/* The bottom row of an 80-column screen: msg at the left, the list
 * position pos at the right. */
static const char *bottom(const char *msg, const char *pos)
{
	static char buf[128];
	snprintf(buf, sizeof buf, "%-*s%s", 80 - (int)strlen(pos), msg, pos);
	return buf;
}

static const struct mp_caps mono = {0, false, false};
static const struct mp_caps color = {256, false, true};

START_TEST(test_data)
{
	ck_assert_uint_eq(data->n, 3);
	ck_assert_uint_eq(data->nmats, 2);
	ck_assert_uint_eq(data->cur, 1); /* spectral/js: no nulls */
	ck_assert_str_eq(data->models[0].dtypes, "F32 67% F16 33%");
	ck_assert_uint_eq(data->models[1].params, 20);
	ck_assert(!data->models[2].has_fp);
	char b[16];
	ck_assert_str_eq(mp_tui_fmt_count(999, b), "999");
	ck_assert_str_eq(mp_tui_fmt_count(1500, b), "1.5k");
	ck_assert_str_eq(mp_tui_fmt_count(13900000, b), "14M");
	ck_assert_str_eq(mp_tui_fmt_count(7000000000ULL, b), "7.0B");
}
END_TEST

START_TEST(test_models_view)
{
	struct mp_canvas *c = screen(mono, "");
	ck_assert_str_eq(row(c, 0), " modelprint | models | tensors/cosine (1/2)"
				    "                       ?:help q:quit");
	ck_assert_str_eq(row(c, 1), "id^  name                 family       type"
				    "       format      params  dtypes");
	ck_assert_str_eq(row(c, 2), "1    alpha                F1           T1"
				    "         safetensors    1.5k F32 67% F");
	ck_assert_str_eq(row(c, 3), "2    beta                 F1           T2"
				    "         safetensors      20 F32 100%");
	ck_assert_str_eq(row(c, 4), "3    gamma                F2           T1"
				    "         safetensors       -");
	/* five presses of s: sort by params, largest first */
	c = screen(mono, "sssss");
	ck_assert_str_eq(row(c, 1), "id   name                 family       type"
				    "       format      paramsv dtypes");
	ck_assert(!strncmp(row(c, 2), "1    alpha", 10));
	ck_assert(!strncmp(row(c, 3), "2    beta", 9));
	ck_assert(!strncmp(row(c, 4), "3    gamma", 10));
	c = screen(mono, "sssssS");
	ck_assert(!strncmp(row(c, 2), "3    gamma", 10));
	/* the selected row is drawn in reverse */
	c = screen(mono, "j");
	ck_assert(mp_canvas_at(c, 0, 3)->st.attr & MP_ATTR_REVERSE);
	ck_assert(!(mp_canvas_at(c, 0, 2)->st.attr & MP_ATTR_REVERSE));
	/* search: by family, then the next match */
	c = screen(mono, "/f2<Enter>");
	ck_assert(mp_canvas_at(c, 0, 4)->st.attr & MP_ATTR_REVERSE);
	c = screen(mono, "/f1<Enter>n");
	ck_assert(mp_canvas_at(c, 0, 3)->st.attr & MP_ATTR_REVERSE);
	c = screen(mono, "/zzz<Enter>");
	ck_assert_str_eq(row(c, 23), bottom("not found: zzz", "1/3"));
	c = screen(mono, "/be");
	ck_assert_str_eq(row(c, 23), bottom("/be", "1/3"));
	c = screen(mono, "x");
	ck_assert_str_eq(row(c, 23), bottom("key x does nothing here; ? shows "
					    "the keys", "1/3"));
}
END_TEST

START_TEST(test_detail_view)
{
	struct mp_canvas *c = screen(color, "<Enter>");
	ck_assert_str_eq(row(c, 0), " modelprint | detail | tensors/cosine (1/2)"
				    "                       ?:help q:quit");
	ck_assert_str_eq(row(c, 1), "alpha");
	ck_assert_str_eq(row(c, 2), "id 1 | family F1 | type T1 | format safetensors");
	ck_assert_str_eq(row(c, 3), "1.5k parameters in 1 tensors | F32 67% F16 33%");
	ck_assert_str_eq(row(c, 4), "stored types: F32 1000 (66.7%), F16 500 (33.3%)");
	ck_assert_str_eq(row(c, 6), "Nearest models by tensors/cosine");
	/* gamma's score is null: only beta */
	ck_assert_str_eq(row(c, 7), "         0.5  beta (F1/T2)");
	ck_assert_str_eq(row(c, 9), "Spectral histogram (sigma_i / sigma_1, 64 log bins)");
	/* bin 0 holds 1/3 of the largest bin: 8/3 rows of eighths, so two full
	   rows and 2/3 of a row (rounded up to six eighths, U+2586); bin 63 is
	   full in all eight rows (column 2 + 63) */
	char want[128];
	snprintf(want, sizeof want, "%*s\xe2\x96\x88  75.0%%", 65, "");
	ck_assert_str_eq(row(c, 10), want);
	snprintf(want, sizeof want, "  \xe2\x96\x86%*s\xe2\x96\x88", 62, "");
	ck_assert_str_eq(row(c, 15), want);
	snprintf(want, sizeof want, "  \xe2\x96\x88%*s\xe2\x96\x88", 62, "");
	ck_assert_str_eq(row(c, 16), want);
	ck_assert_str_eq(row(c, 17), want);
	ck_assert_str_eq(row(c, 18), "  1e-4                          1e-2"
				     "                             1");
	ck_assert_str_eq(row(c, 20), "Tensors (1)");
	/* w: sketch {0,0,0,1} in 10 bins: 3 in the first (full block), 1 in
	   the last (1/3: three eighths, U+2583); the name column is as wide
	   as the longest name, here the heading "name" */
	c = screen(color, "<Enter>G");
	ck_assert_str_eq(row(c, 20), "w    2x3          F32"
				     "        0.25       0.5  50.0% "
				     "\xe2\x96\x88        \xe2\x96\x83");
	/* the cursor on the tensor shows its full name and other statistics */
	ck_assert_str_eq(row(c, 21), "w");
	ck_assert(!strncmp(row(c, 22), "min -1 max 2 med 0 ", 19));
	/* Enter on the nearest model opens it; Esc comes back */
	c = screen(color, "<Enter>jjjjjj<Enter>");
	ck_assert_str_eq(row(c, 1), "beta");
	ck_assert_str_eq(row(c, 7), "         0.5  alpha (F1/T1)");
	ck_assert_str_eq(row(c, 8), "         0.2  gamma (F2/T1)");
	c = screen(color, "<Enter>jjjjjj<Enter><Esc>");
	ck_assert_str_eq(row(c, 1), "alpha");
	/* a model without fingerprints says so */
	c = screen(color, "G<Enter>");
	ck_assert_str_eq(row(c, 1), "gamma");
	ck_assert_str_eq(row(c, 8), "  no spectral fingerprint in the registry");
	ck_assert_str_eq(row(c, 10), "Tensors");
	ck_assert_str_eq(row(c, 11), "  no tensors fingerprint in the registry");
	/* m: nearest by the divergence, lowest first */
	c = screen(color, "<Enter>m");
	ck_assert_str_eq(row(c, 6), "Nearest models by spectral/js");
	ck_assert_str_eq(row(c, 7), "         0.1  beta (F1/T2)");
	ck_assert_str_eq(row(c, 8), "         0.6  gamma (F2/T1)");
	/* search finds the nearest-model line, then the tensor */
	c = screen(color, "<Enter>/beta<Enter>");
	ck_assert(mp_canvas_at(c, 0, 7)->st.attr & MP_ATTR_REVERSE);
	c = screen(color, "<Enter>/w<Enter>"); /* scrolled by one line */
	ck_assert(mp_canvas_at(c, 0, 20)->st.attr & MP_ATTR_REVERSE);
	ck_assert_str_eq(row(c, 21), "w");
	/* h goes back to the list */
	c = screen(color, "<Enter>h");
	ck_assert_str_eq(row(c, 1), "id\xe2\x96\xb2  name                 family"
				    "       type       format      params  dtypes");
}
END_TEST

/* A quantized GGUF fixture in the list and the detail view: the dtype mix
 * and the parameter count per stored type name the ggml types. Counts
 * from the oracle (model-q4_k_m.dequant.jsonl, element counts summed per
 * type): Q4_K 2097152, F32 1280, of 2098432. */
static bool has_row_with(struct mp_canvas *c, const char *a, const char *b)
{
	for (int y = 0; y < c->h; y++)
		if (strstr(row(c, y), a) && strstr(row(c, y), b))
			return true;
	return false;
}

/* A registry in a fresh temporary directory (*reg) holding one model
 * "name" of format gguf with the fingerprint fp, loaded for the interface. */
static struct mp_tui_data *one_model(const char *name,
				     const struct mp_fingerprint *fp,
				     char **reg)
{
	struct mp_error err;
	char *got;
	*reg = tu_tmpdir();
	struct mp_reg_model rm = {.name = (char *)name, .family = "Fx",
				  .type = "Q", .path = "/m", .format = "gguf"};
	ck_assert_int_eq(tu_reg_add(*reg, &rm, "1", &got, &err), MP_OK);
	free(got);
	ck_assert_int_eq(tu_reg_put_fp(*reg, "1", fp, &err), MP_OK);
	struct mp_tui_paths p = {.registry = *reg};
	struct mp_tui_data *d;
	ck_assert_msg(mp_tui_data_load(&p, NULL, &d, &err) == MP_OK, "%s",
		      err.msg);
	return d;
}

static void free_one(struct mp_tui *t, struct mp_canvas *c,
		     struct mp_tui_data *d, char *reg)
{
	mp_tui_free(t);
	mp_canvas_free(c);
	mp_tui_data_free(d);
	tu_rmtree(reg);
	free(reg);
}

START_TEST(test_detail_gguf)
{
	const char *fx = getenv("MP_FIXTURES");
	char path[1024];
	snprintf(path, sizeof path, "%s/gguf/model-q4_k_m.gguf",
		 fx && *fx ? fx : MP_SRCDIR_FIXTURES);
	struct mp_error err;
	struct mp_model *m;
	struct mp_fingerprint *fp;
	ck_assert_msg(mp_model_open(path, &m, &err) == MP_OK, "%s", err.msg);
	ck_assert_msg(mp_fp_compute(m, "tensors", NULL, 1, NULL, &fp, &err) ==
			  MP_OK,
		      "%s", err.msg);
	mp_model_free(m);
	char *reg;
	struct mp_tui_data *d = one_model("q4km", fp, &reg);
	mp_fp_free(fp);
	ck_assert_uint_eq(d->models[0].params, 2098432);
	ck_assert_str_eq(d->models[0].dtypes, "Q4_K 100% F32 <1%");
	struct mp_tui *t = mp_tui_new(d, mono);
	struct mp_canvas *c = mp_canvas_new(80, 24);
	mp_tui_draw(t, c);
	ck_assert_msg(has_row_with(c, "q4km", " 2.1M Q4_K 100%"), "%s",
		      row(c, 2));
	int k[64];
	char bad[32];
	int n = mp_keys_parse("<Enter>/attn_q<Enter>", k, 64, bad);
	for (int i = 0; i < n; i++) {
		mp_tui_key(t, k[i]);
		mp_tui_draw(t, c);
		if (i == 0) {
			ck_assert_str_eq(row(c, 3), "2.1M parameters in 21 "
						    "tensors | Q4_K 100% F32 <1%");
			ck_assert_str_eq(row(c, 4), "stored types: Q4_K 2097152 "
						    "(99.9%), F32 1280 (0.1%)");
		}
	}
	/* the tensor rows name the stored ggml type */
	ck_assert_msg(has_row_with(c, "attn_q", " Q4_K "), "%s", row(c, 22));
	free_one(t, c, d, reg);
}
END_TEST

/* A lattice-quantized tensor: the type column widens to IQ2_XXS (7
 * letters, more than "dtype") and the mean stays under its header: in
 * "w  2x256  IQ2_XXS  0.125" the header's "mean" ends where 0.125 ends. */
START_TEST(test_detail_long_type)
{
	uint64_t shape[2] = {2, 256};
	struct mp_tstats stats = {.n = 512, .mean = 0.125, .std = 0.5};
	struct mp_tensor_fp tf = {.name = "w", .dtype = MP_F32, .stored = MP_F32,
				  .ggml = mp_fp_ggml_named("IQ2_XXS"),
				  .ndim = 2, .shape = shape, .numel = 512,
				  .stats = &stats};
	ck_assert_ptr_nonnull(tf.ggml);
	struct mp_fingerprint fp = {.method = "tensors", .format = "gguf",
				    .params = 512, .ntensors = 1, .tensors = &tf};
	fp.ggml_params[tf.ggml->id] = 512;
	char *reg;
	struct mp_tui_data *d = one_model("iq2", &fp, &reg);
	struct mp_tui *t = mp_tui_new(d, mono);
	struct mp_canvas *c = mp_canvas_new(80, 24);
	int k[8];
	char bad[32];
	int n = mp_keys_parse("<Enter>", k, 8, bad);
	for (int i = 0; i < n; i++)
		mp_tui_key(t, k[i]);
	mp_tui_draw(t, c);
	int hy = -1, ty = -1;
	for (int y = 0; y < c->h; y++) {
		if (strstr(row(c, y), "dtype") && strstr(row(c, y), "mean"))
			hy = y;
		if (strstr(row(c, y), " IQ2_XXS "))
			ty = y;
	}
	ck_assert_msg(hy >= 0 && ty > hy, "header %d, tensor row %d", hy, ty);
	char head[512], line[512];
	snprintf(head, sizeof head, "%s", row(c, hy));
	snprintf(line, sizeof line, "%s", row(c, ty));
	/* the type in full, one blank, then the mean 10 wide */
	ck_assert_str_eq(strstr(line, " IQ2_XXS"),
			 " IQ2_XXS     0.125       0.5   0.0%");
	ck_assert_int_eq((int)(strstr(head, "mean") - head) + 4,
			 (int)(strstr(line, "0.125") - line) + 5);
	free_one(t, c, d, reg);
}
END_TEST

static bool row_is(struct mp_canvas *c, int y, const char *a, const char *b,
		   const char *d)
{
	char want[512];
	snprintf(want, sizeof want, "%s%s%s", a, b, d);
	if (!strcmp(row(c, y), want))
		return true;
	fprintf(stderr, "row %d: [%s]\n  want: [%s]\n", y, row(c, y), want);
	return false;
}

START_TEST(test_heatmap_view)
{
	/* fitted to 80x24: 18 rows for 3 models, 6 rows and 12 columns an
	   entry; labels 16 wide, grid from column 17. cosine off the
	   diagonal: 0.5, 0.5, 0.2, 0.2: 2nd..98th percentile 0.2..0.5
	   (positions 0.06 and 2.94 of 4), t = (v - 0.2)/0.3: 1 and 0.5 ->
	   '@', 0.2 -> ' ', null -> '?' */
	const char *lab = "            "; /* 12 blanks after a 5-letter name */
	struct mp_canvas *c = screen(mono, "2");
	ck_assert_str_eq(row(c, 1), "family 6:1       v");
	ck_assert(row_is(c, 2, "alpha", lab, "@@@@@@@@@@@@@@@@@@@@@@@@????????????"));
	ck_assert(row_is(c, 7, "     ", lab, "@@@@@@@@@@@@@@@@@@@@@@@@????????????"));
	ck_assert(row_is(c, 8, "beta ", lab, "@@@@@@@@@@@@@@@@@@@@@@@@"));
	ck_assert(row_is(c, 14, "gamma", lab, "????????????            @@@@@@@@@@@@"));
	ck_assert(row_is(c, 19, "     ", lab, "????????????            @@@@@@@@@@@@"));
	/* the cursor's whole cell in reverse video, the next one not */
	ck_assert(mp_canvas_at(c, 17, 2)->st.attr & MP_ATTR_REVERSE);
	ck_assert(mp_canvas_at(c, 28, 7)->st.attr & MP_ATTR_REVERSE);
	ck_assert(!(mp_canvas_at(c, 29, 2)->st.attr & MP_ATTR_REVERSE));
	ck_assert_str_eq(row(c, 20), "?=null  less  .:-=+*#%@ more alike  "
				     "2-98% 0.2..0.5");
	/* the status line says how the values were obtained */
	ck_assert_str_eq(row(c, 21), "cosine = 1  sketch estimate from 1024 "
				     "values per tensor");
	ck_assert_str_eq(row(c, 22), "row 1 alpha (F1) x col 1 alpha (F1)");
	/* r: min..max 0.2..1, t(0.5) = 0.375 -> ramp[round(3.375)] = '-' */
	c = screen(mono, "2r");
	ck_assert(row_is(c, 2, "alpha", lab, "@@@@@@@@@@@@------------????????????"));
	ck_assert_str_eq(row(c, 20), "?=null  less  .:-=+*#%@ more alike  "
				     "min-max 0.2..1");
	c = screen(mono, "2l");
	ck_assert_str_eq(row(c, 21), "cosine = 0.5  sketch estimate from 1024 "
				     "values per tensor");
	ck_assert_str_eq(row(c, 1), "family 6:1                   v");
	c = screen(mono, "2ll");
	ck_assert(!strncmp(row(c, 21), "cosine = null (no tensors in common)  "
				       "sketch estimate", 53));
	c = screen(mono, "2jll");
	ck_assert(!strncmp(row(c, 21), "cosine = 0.2  sketch", 20));
	ck_assert_str_eq(row(c, 22), "row 2 beta (F1) x col 3 gamma (F2)");
	/* zoom in from the fit: 7 rows and 14 columns an entry; out: 5 */
	c = screen(mono, "2+");
	ck_assert_str_eq(row(c, 1), "family 7:1       v");
	ck_assert(row_is(c, 2, "alpha", lab, "@@@@@@@@@@@@@@@@@@@@@@@@@@@@??????????????"));
	ck_assert(row_is(c, 9, "beta ", lab, "@@@@@@@@@@@@@@@@@@@@@@@@@@@@"));
	c = screen(mono, "2-");
	ck_assert_str_eq(row(c, 1), "family 5:1       v");
	/* 0 fits again */
	c = screen(mono, "2++0");
	ck_assert_str_eq(row(c, 1), "family 6:1       v");
	/* js is a divergence: off the diagonal 0.1, 0.1, 0.3, 0.3, 0.6, 0.6:
	   percentiles 0.1..0.6, t = (0.6 - v)/0.5: 0, 0.1 -> '@', 0.3 ->
	   0.6 -> ramp[round(5.4)] = '+', 0.6 -> ' ' */
	c = screen(mono, "2m");
	ck_assert_str_eq(row(c, 0), " modelprint | heatmap | spectral/js (2/2)"
				    "                         ?:help q:quit");
	ck_assert(row_is(c, 2, "alpha", lab, "@@@@@@@@@@@@@@@@@@@@@@@@"));
	ck_assert(row_is(c, 8, "beta ", lab, "@@@@@@@@@@@@@@@@@@@@@@@@++++++++++++"));
	ck_assert(row_is(c, 14, "gamma", lab, "            ++++++++++++@@@@@@@@@@@@"));
	/* no "estimate" in the file: said to be unknown */
	ck_assert_str_eq(row(c, 21), "js = 0  unknown whether exact or a sketch "
				     "estimate");
	ck_assert_str_eq(row(c, 20), "?=null  less  .:-=+*#%@ more alike  "
				     "2-98% 0.6..0.1 (lower = more alike)");
	/* min..max 0.6..0: t(0.1) = 0.833 -> ramp[round(7.5)] = '%' */
	c = screen(mono, "2mr");
	ck_assert(row_is(c, 2, "alpha", lab, "@@@@@@@@@@@@%%%%%%%%%%%%"));
	/* clustering on 1 - t over min..max: alpha-beta 1/6, beta-gamma 1/2,
	   alpha-gamma 1: alpha and beta first, then gamma: leaves gamma,
	   alpha, beta */
	c = screen(mono, "2mo");
	ck_assert_str_eq(row(c, 1), "cluster 6:1                  v");
	ck_assert(row_is(c, 2, "gamma", lab, "@@@@@@@@@@@@            ++++++++++++"));
	ck_assert(row_is(c, 8, "alpha", lab, "            @@@@@@@@@@@@@@@@@@@@@@@@"));
	ck_assert(row_is(c, 14, "beta ", lab, "++++++++++++@@@@@@@@@@@@@@@@@@@@@@@@"));
	/* the cursor stayed on alpha x alpha */
	ck_assert_str_eq(row(c, 22), "row 1 alpha (F1) x col 1 alpha (F1)");
	/* search moves the row */
	c = screen(mono, "2/gam<Enter>");
	ck_assert_str_eq(row(c, 22), "row 3 gamma (F2) x col 1 alpha (F1)");
	/* h at the left edge goes back */
	c = screen(mono, "2h");
	ck_assert_str_eq(row(c, 1), "id^  name                 family       type"
				    "       format      params  dtypes");
	/* with colour: cells are coloured blanks, nulls a '·' on the
	   terminal's own background, the cursor a frame [ ] in its cell that
	   keeps the cell's colour */
	c = screen(color, "2l");
	const struct mp_cell *aa = mp_canvas_at(c, 17, 2);
	ck_assert_uint_eq(aa->ch, ' ');
	ck_assert_uint_eq(aa->st.bg, mp_tui_ramp_color(&color, 1)); /* alpha,alpha */
	const struct mp_cell *l = mp_canvas_at(c, 29, 2), *r = mp_canvas_at(c, 40, 7);
	ck_assert_uint_eq(l->ch, '[');
	ck_assert_uint_eq(r->ch, ']');
	ck_assert_uint_eq(l->st.bg, mp_tui_ramp_color(&color, 1)); /* alpha,beta */
	ck_assert_uint_eq(mp_canvas_at(c, 30, 2)->st.bg, mp_tui_ramp_color(&color, 1));
	const struct mp_cell *nl = mp_canvas_at(c, 41, 2); /* alpha,gamma */
	ck_assert_uint_eq(nl->ch, 0xb7);
	ck_assert_uint_eq(nl->st.bg, MP_COLOR_DEFAULT);
	ck_assert_uint_eq(mp_canvas_at(c, 0, 20)->ch, 0xb7); /* the legend */
	/* beta,gamma: 0.2, the low end */
	ck_assert_uint_eq(mp_canvas_at(c, 41, 8)->st.bg, mp_tui_ramp_color(&color, 0));
	ck_assert_str_eq(row(c, 1), "family 6:1                   \xe2\x96\xbc");
	/* narrow: the two names without ids and families, then cut */
	struct mp_tui *t = mp_tui_new(data, mono);
	mp_tui_key(t, '2');
	mp_tui_key(t, 'l');
	struct mp_canvas *n = mp_canvas_new(30, 24);
	mp_tui_draw(t, n);
	ck_assert_str_eq(row(n, 22), "row alpha x col beta");
	ck_assert(mp_canvas_resize(n, 19, 24));
	mp_tui_draw(t, n);
	ck_assert_str_eq(row(n, 22), "row a... x col beta");
	mp_canvas_free(n);
	mp_tui_free(t);
}
END_TEST

/* Four models, more than fit in 80x9 (3 rows): fitted to 1:2 blocks.
   cosine off the diagonal .9 .1 .3 .2 .8 (twice each), b-d null:
   percentiles 0.1..0.9. Blocks (diagonal left out): ab x ab mean .9 ->
   t 1 '@'; ab x cd mean (.1 + .3 + .2)/3 = .2 -> t .125 -> '.', max .3;
   cd x cd .8 -> t .875 -> '%'. js has the same values, lower more alike:
   the most alike of ab x cd is .1. */
START_TEST(test_heatmap_blocks)
{
	char *res = tu_path(dir, "four.json");
	const char *vals = "\"models\":[\"a\",\"b\",\"c\",\"d\"],\"values\":"
			   "[[1,0.9,0.1,0.3],[0.9,1,0.2,null],[0.1,0.2,1,0.8],"
			   "[0.3,null,0.8,1]]";
	char json[1024];
	snprintf(json, sizeof json,
		 "{\"matrices\":{\"spectral\":{\"cosine\":{\"higher_is_more_alike\":"
		 "true,%s},\"js\":{\"higher_is_more_alike\":false,%s}}}}",
		 vals, vals);
	tu_write_str(res, json);
	struct mp_tui_paths p = {.results = res};
	struct mp_tui_data *d;
	struct mp_error err;
	ck_assert_msg(mp_tui_data_load(&p, NULL, &d, &err) == MP_OK, "%s", err.msg);
	struct mp_tui *t = mp_tui_new(d, mono);
	struct mp_canvas *c = mp_canvas_new(80, 9);
	const char *sp16 = "                ";
	const char *keys = "2";
	int k[16];
	char bad[32];
	int n = mp_keys_parse(keys, k, 16, bad);
	for (int i = 0; i < n; i++)
		mp_tui_key(t, k[i]);
	mp_tui_draw(t, c);
	ck_assert_str_eq(row(c, 1), "family 1:2 mean  v");
	ck_assert(row_is(c, 2, "a", sp16, "@@.."));
	ck_assert(row_is(c, 3, "c", sp16, "..%%"));
	ck_assert_str_eq(row(c, 4), "");
	ck_assert_str_eq(row(c, 5), "?=null  less  .:-=+*#%@ more alike  "
				    "2-98% 0.1..0.9");
	ck_assert_str_eq(row(c, 6), "cosine = 1  block mean 0.9 of 2  unknown "
				    "whether exact or a sketch estimate");
	mp_tui_key(t, 'l'); /* one block right: a x c */
	mp_tui_draw(t, c);
	ck_assert(!strncmp(row(c, 6), "cosine = 0.1  block mean 0.2 of 3  ", 35));
	ck_assert_str_eq(row(c, 7), "row a a () x col c c ()");
	mp_tui_key(t, 'a');
	mp_tui_draw(t, c);
	ck_assert_str_eq(row(c, 1), "family 1:2 max     v");
	ck_assert(!strncmp(row(c, 6), "cosine = 0.1  block max 0.3 of 3  ", 34));
	/* max over .1 .3 .2 on 0.1..0.9: t(.3) = .25 -> ramp[round(2.25)] */
	ck_assert(row_is(c, 2, "a", sp16, "@@::"));
	mp_tui_key(t, 'm');
	mp_tui_draw(t, c);
	ck_assert(!strncmp(row(c, 6), "js = 0.1  block max 0.1 of 3  ", 30));
	/* zoom in: 1:1, the fit is left */
	mp_tui_key(t, '+');
	mp_tui_draw(t, c);
	ck_assert_str_eq(row(c, 1), "family 1:1           v");
	ck_assert(!strncmp(row(c, 6), "js = 0.1  unknown", 17));
	mp_tui_key(t, '0');
	mp_tui_draw(t, c);
	ck_assert_str_eq(row(c, 1), "family 1:2 max     v");
	mp_tui_free(t);
	mp_canvas_free(c);
	mp_tui_data_free(d);
	free(res);
}
END_TEST

/* The matrix opened first: fewest nulls, spectral on a tie. */
START_TEST(test_densest)
{
	char *res = tu_path(dir, "dense.json");
	struct mp_tui_paths p = {.results = res};
	struct mp_tui_data *d;
	struct mp_error err;
	static const char *const files[][2] = {
		{"{\"matrices\":{\"tensors\":{\"cosine\":{\"models\":[\"x\",\"y\"],"
		 "\"values\":[[1,null],[null,1]]},\"l1\":{\"models\":[\"x\",\"y\"],"
		 "\"values\":[[0,1],[1,0]]}},\"spectral\":{\"js\":{\"models\":"
		 "[\"x\",\"y\"],\"values\":[[0,1],[1,0]]}}}}", "spectral/js"},
		{"{\"matrices\":{\"tensors\":{\"cosine\":{\"models\":[\"x\",\"y\"],"
		 "\"values\":[[1,null],[null,1]]},\"shape\":{\"models\":[\"x\",\"y\"],"
		 "\"values\":[[1,0],[0,1]]}},\"spectral\":{\"js\":{\"models\":"
		 "[\"x\",\"y\"],\"values\":[[0,null],[null,0]]}}}}", "tensors/shape"},
		{"{\"matrices\":{\"tensors\":{\"cosine\":{\"models\":[\"x\",\"y\"],"
		 "\"values\":[[1,0],[0,1]]},\"l1\":{\"models\":[\"x\",\"y\"],"
		 "\"values\":[[0,1],[1,0]]}}}}", "tensors/cosine"},
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		tu_write_str(res, files[i][0]);
		ck_assert_msg(mp_tui_data_load(&p, NULL, &d, &err) == MP_OK, "%s",
			      err.msg);
		char name[64];
		snprintf(name, sizeof name, "%s/%s", d->m->method, d->m->metric);
		ck_assert_str_eq(name, files[i][1]);
		mp_tui_data_free(d);
	}
	free(res);
}
END_TEST

START_TEST(test_click)
{
	struct mp_tui *t = mp_tui_new(data, mono);
	struct mp_canvas *c = mp_canvas_new(80, 24);
	mp_tui_draw(t, c);
	mp_tui_click(t, 5, 4); /* the gamma row */
	mp_tui_draw(t, c);
	ck_assert(mp_canvas_at(c, 0, 4)->st.attr & MP_ATTR_REVERSE);
	mp_tui_click(t, 5, 4); /* again: open it */
	mp_tui_draw(t, c);
	ck_assert_str_eq(row(c, 1), "gamma");
	mp_tui_key(t, '2');
	mp_tui_draw(t, c);
	mp_tui_click(t, 30, 9); /* beta x beta: row 8-13, column 29-40 */
	mp_tui_draw(t, c);
	ck_assert_str_eq(row(c, 22), "row 2 beta (F1) x col 2 beta (F1)");
	mp_tui_free(t);
	mp_canvas_free(c);
}
END_TEST

START_TEST(test_help_view)
{
	struct mp_canvas *c = screen(mono, "?");
	ck_assert_str_eq(row(c, 1), "Everywhere");
	ck_assert_str_eq(row(c, 2), "  q                  close the view; quit "
				    "from the last one");
	ck_assert(has_row(c, "  k, Up, WheelUp     up"));
	c = screen(mono, "?<PgDn>");
	ck_assert(has_row(c, "  +, =               zoom in"));
	ck_assert(has_row(c, "Heatmap"));
	c = screen(mono, "?G"); /* the last section: the cluster explorer */
	ck_assert(has_row(c, "  a                  features along rows or "
			     "columns"));
	c = screen(mono, "?q");
	/* q closes the help (the app would have stopped on the help screen
	   before) */
	ck_assert(!strncmp(row(c, 0), " modelprint | models |", 22));
}
END_TEST

/* The view named in the title of c is name. */
static bool shows(struct mp_canvas *c, const char *name)
{
	char want[64];
	snprintf(want, sizeof want, " modelprint | %s |", name);
	return !strncmp(row(c, 0), want, strlen(want));
}

START_TEST(test_quit_keys)
{
	struct mp_canvas *c = screen(mono, "q");
	ck_assert(last->quit); /* q from the first view quits */
	c = screen(mono, "2q");
	ck_assert(!last->quit); /* elsewhere it closes the view */
	ck_assert(shows(c, "models"));
	c = screen(mono, "2<Enter>q"); /* heatmap, then a detail view */
	ck_assert(!last->quit);
	ck_assert(shows(c, "heatmap"));
	c = screen(mono, "?q");
	ck_assert(!last->quit);
	ck_assert(shows(c, "models"));
	screen(mono, "24Q");
	ck_assert(last->quit);
	screen(mono, "3<F10>");
	ck_assert(last->quit);
	c = screen(mono, "<F1>");
	ck_assert(shows(c, "help"));
	ck_assert_str_eq(row(c, 1), "Everywhere");
}
END_TEST

/* Esc walks back through the views visited, 1-4 included. */
START_TEST(test_history)
{
	struct mp_canvas *c = screen(mono, "231<Esc>");
	ck_assert(shows(c, "stats"));
	c = screen(mono, "231<Esc><Esc>");
	ck_assert(shows(c, "heatmap"));
	c = screen(mono, "231<Esc><Esc><Esc>");
	ck_assert(shows(c, "models"));
	c = screen(mono, "22<Esc>"); /* 2 on the heatmap keeps it once */
	ck_assert(shows(c, "models"));
	/* more views than the stack holds: the oldest are forgotten, the
	   last 16 remain */
	c = screen(mono, "1212121212121212121213<Esc>");
	ck_assert(shows(c, "models"));
	c = screen(mono, "121212121212121212121<Esc><Esc><Esc><Esc><Esc><Esc><Esc>"
			 "<Esc><Esc><Esc><Esc><Esc><Esc><Esc><Esc><Esc><Esc>");
	ck_assert(!last->quit);
	ck_assert_int_eq(last->depth, 1);
}
END_TEST

/* Models: alpha (F1), beta (F1), gamma (F2) in rows 2-4. */
START_TEST(test_search_keys)
{
	/* f1 matches alpha and beta: N from alpha wraps back to beta */
	struct mp_canvas *c = screen(mono, "/f1<Enter>N");
	ck_assert(mp_canvas_at(c, 0, 3)->st.attr & MP_ATTR_REVERSE);
	ck_assert(!(mp_canvas_at(c, 0, 2)->st.attr & MP_ATTR_REVERSE));
	c = screen(mono, "/f1<Enter>nN");
	ck_assert(mp_canvas_at(c, 0, 2)->st.attr & MP_ATTR_REVERSE);
	/* a matches all three: N from gamma goes to beta, then alpha */
	c = screen(mono, "G/a<Enter>NN");
	ck_assert(mp_canvas_at(c, 0, 2)->st.attr & MP_ATTR_REVERSE);
	/* the matches are highlighted: "ET" in beta (columns 6-7 of row 3)
	   and nowhere else; case does not matter */
	c = screen(mono, "/ET<Enter>");
	for (int x = 5; x < 9; x++)
		ck_assert_int_eq(!!(mp_canvas_at(c, x, 3)->st.attr &
				    MP_ATTR_UNDERLINE),
				 x == 6 || x == 7);
	ck_assert(!(mp_canvas_at(c, 6, 2)->st.attr & MP_ATTR_UNDERLINE));
	c = screen(color, "/ET<Enter>");
	ck_assert_uint_eq(mp_canvas_at(c, 6, 3)->st.bg, 3);
	/* while typing, too */
	c = screen(mono, "/gam");
	ck_assert(mp_canvas_at(c, 5, 4)->st.attr & MP_ATTR_UNDERLINE);
	ck_assert(!(mp_canvas_at(c, 8, 4)->st.attr & MP_ATTR_UNDERLINE));
}
END_TEST

START_TEST(test_filter)
{
	struct mp_canvas *c = screen(mono, "|f1");
	ck_assert(!strncmp(row(c, 2), "1    alpha", 10));
	ck_assert(!strncmp(row(c, 3), "2    beta", 9));
	ck_assert_str_eq(row(c, 4), "");
	ck_assert(!strncmp(row(c, 22), "2 models matching \"f1\", sorted by id", 36));
	ck_assert_str_eq(row(c, 23), bottom("|f1", "1/2"));
	/* Enter keeps the filter, the list is then used as usual */
	c = screen(mono, "|F1<Enter>j<Enter>");
	ck_assert(shows(c, "detail"));
	ck_assert_str_eq(row(c, 1), "beta");
	c = screen(mono, "|gam<Enter>");
	ck_assert(!strncmp(row(c, 2), "3    gamma", 10));
	ck_assert_str_eq(row(c, 23), bottom("", "1/1"));
	/* Esc drops it; Backspace widens it as you type */
	c = screen(mono, "|f1<Esc>");
	ck_assert(!strncmp(row(c, 4), "3    gamma", 10));
	c = screen(mono, "|f2<Backspace>");
	ck_assert(!strncmp(row(c, 4), "3    gamma", 10));
	c = screen(mono, "|zzz<Enter>");
	ck_assert_str_eq(row(c, 2), "");
	ck_assert_str_eq(row(c, 23), bottom("", "0/0"));
	c = screen(mono, "|zzz<Enter><Enter>j");
	ck_assert(shows(c, "models"));
	/* pairs naming gamma: beta-gamma 0.2, alpha-gamma null */
	c = screen(mono, "4|gam");
	ck_assert_str_eq(row(c, 22), "2 all pairs naming \"gam\", highest first"
				     " | f: filter  Enter: side by side");
	ck_assert(strstr(row(c, 2), " 0.2  beta"));
	ck_assert(strstr(row(c, 3), "null  alpha"));
	/* the heatmap has no filter */
	c = screen(mono, "2|");
	ck_assert_str_eq(row(c, 23), "nothing to filter in this view");
}
END_TEST

START_TEST(test_move_keys)
{
	/* the wheel moves three rows a notch (two here: three models) */
	struct mp_canvas *c = screen(mono, "<WheelDown>");
	ck_assert(mp_canvas_at(c, 0, 4)->st.attr & MP_ATTR_REVERSE);
	ck_assert_str_eq(row(c, 23), bottom("", "3/3"));
	c = screen(mono, "G<WheelUp>");
	ck_assert_str_eq(row(c, 23), bottom("", "1/3"));
	/* half pages: 20 rows show, so 10 rows a press */
	c = screen(mono, "<C-d>");
	ck_assert_str_eq(row(c, 23), bottom("", "3/3"));
	c = screen(mono, "G<C-u>");
	ck_assert_str_eq(row(c, 23), bottom("", "1/3"));
	/* the position: models 2 of 3, pairs 1 of 3 */
	c = screen(mono, "j");
	ck_assert_str_eq(row(c, 23), bottom("", "2/3"));
	c = screen(mono, "4j<C-d>");
	ck_assert_str_eq(row(c, 23), bottom("", "3/3"));
	size_t cur = 5, top = 0;
	ck_assert(mp_list_move(&cur, &top, 40, 21, MP_ACT_HALF_DOWN));
	ck_assert_uint_eq(cur, 15);
	ck_assert(mp_list_move(&cur, &top, 40, 21, MP_ACT_HALF_UP));
	ck_assert_uint_eq(cur, 5);
}
END_TEST

START_TEST(test_matrix_keys)
{
	struct mp_canvas *c = screen(mono, "M");
	ck_assert(shows(c, "matrices"));
	ck_assert_str_eq(row(c, 1), "      method         metric");
	ck_assert_str_eq(row(c, 2), "  1*  tensors        cosine");
	ck_assert_str_eq(row(c, 3), "  2   spectral       js");
	ck_assert(mp_canvas_at(c, 0, 2)->st.attr & MP_ATTR_REVERSE);
	ck_assert_str_eq(row(c, 23), bottom("", "1/2"));
	/* Enter holds the selected one and closes the picker */
	c = screen(mono, "Mj<Enter>");
	ck_assert(shows(c, "models"));
	ck_assert(strstr(row(c, 0), "spectral/js (2/2)"));
	c = screen(mono, "2Mj<Enter>");
	ck_assert(shows(c, "heatmap"));
	ck_assert(strstr(row(c, 0), "spectral/js (2/2)"));
	c = screen(mono, "Mjq");
	ck_assert(strstr(row(c, 0), "tensors/cosine (1/2)"));
	c = screen(mono, "M/js<Enter><Enter>");
	ck_assert(strstr(row(c, 0), "spectral/js (2/2)"));
	/* p: the previous matrix, wrapping around */
	c = screen(mono, "p");
	ck_assert(strstr(row(c, 0), "spectral/js (2/2)"));
	c = screen(mono, "mp");
	ck_assert(strstr(row(c, 0), "tensors/cosine (1/2)"));
}
END_TEST

/* cosine: F1 = {alpha, beta}, F2 = {gamma}. Intrafamily F1: alpha-beta
 * 0.5. Interfamily F1 vs F2: beta-gamma 0.2 and alpha-gamma null. Type
 * pair T1-T2 within F1: alpha-beta 0.5. */
START_TEST(test_stats_view)
{
	struct mp_canvas *c = screen(mono, "3");
	ck_assert_str_eq(row(c, 1), " intrafamily   interfamily   type pairs");
	ck_assert(mp_canvas_at(c, 1, 1)->st.attr & MP_ATTR_REVERSE);
	ck_assert_str_eq(row(c, 2), "group                    pairs null     mean"
				    " variance      min      max   median");
	ck_assert_str_eq(row(c, 3), "F1                           1    0      0.5"
				    "        0      0.5      0.5      0.5");
	ck_assert_str_eq(row(c, 4), ""); /* F2 has one model: no pairs */
	c = screen(mono, "3f");
	ck_assert_str_eq(row(c, 3), "F1 vs F2                     1    1      0.2"
				    "        0      0.2      0.2      0.2");
	c = screen(mono, "3ff");
	ck_assert(!strncmp(row(c, 3), "T1-T2                        1    0      0.5", 44));
	c = screen(mono, "3f/f2<Enter>");
	ck_assert(mp_canvas_at(c, 0, 3)->st.attr & MP_ATTR_REVERSE);
	c = screen(mono, "3/zz<Enter>");
	ck_assert_str_eq(row(c, 23), bottom("not found: zz", "1/1"));
	c = screen(mono, "3sS");
	ck_assert(strstr(row(c, 22), "sorted by group (reversed)"));
	/* Enter: the pairs of F1 vs F2, the null one last */
	c = screen(mono, "3f<Enter>");
	ck_assert_str_eq(row(c, 2), "     1        0.2  beta  F1      gamma F2");
	ck_assert_str_eq(row(c, 3), "     2       null  alpha F1      gamma F2");
	ck_assert_str_eq(row(c, 22), "2 group F1 vs F2, highest first | f: filter  Enter: side by side");
}
END_TEST

START_TEST(test_cluster_view)
{
	/* cosine: alpha-beta 0.5, beta-gamma 0.2, alpha-gamma null (taken
	 * as the least alike value, 0.2): alpha,beta merge at 0.5, then
	 * gamma at (0.2 + 0.2)/2 = 0.2. Median cut (0.5 + 0.2)/2 keeps the
	 * first merge: [gamma] (F2) and [alpha beta] (F1, purity 1). Leaves
	 * in dendrogram order: gamma, alpha, beta. */
	struct mp_canvas *c = screen(mono, "5");
	ck_assert_str_eq(row(c, 0) + strlen(row(c, 0)) - 13, "?:help q:quit");
	ck_assert_str_eq(row(c, 1), "tensors/cosine: 2 clusters at 0.5 (higher "
				    "= more alike), 1 of 2 merges");
	ck_assert(!strncmp(row(c, 2), " gamma ", 7));
	ck_assert(!strncmp(row(c, 3), " alpha ", 7));
	ck_assert(!strncmp(row(c, 4), " beta ", 6));
	ck_assert(strstr(row(c, 3), "1       1   1.00  F2"));
	ck_assert(strstr(row(c, 4), "2       2   1.00  F1"));
	/* the cursor on gamma: its cluster below the list */
	ck_assert(strstr(row(c, 2 + 10), "cluster 1: 1 models"));
	/* > joins everything: F1 2 of 3, gamma disagrees */
	c = screen(mono, "5>");
	ck_assert_str_eq(row(c, 1), "tensors/cosine: 1 cluster at 0.2 (higher "
				    "= more alike), 2 of 2 merges");
	ck_assert(strstr(row(c, 3), "1       3   0.67  F1 !"));
	ck_assert(!strncmp(row(c, 2), "!gamma ", 7));
	c = screen(mono, "5<");
	ck_assert(!strncmp(row(c, 1), "tensors/cosine: 3 clusters before any "
				      "merge (", 45));
	/* c on alpha collapses alpha+beta into one row */
	c = screen(mono, "5jc");
	ck_assert(!strncmp(row(c, 3), "[+2] alpha ", 11));
	ck_assert(!strncmp(row(c, 4), "                      ", 22));
	c = screen(mono, "5jcc");
	ck_assert(!strncmp(row(c, 4), " beta ", 6));
	/* Enter on alpha: the heatmap of alpha and beta only */
	c = screen(mono, "5j<Enter>");
	ck_assert(strstr(row(c, 0), "heatmap"));
	ck_assert_str_eq(row(c, 23), "heatmap of cluster 2 (2 models)");
	/* the row labels, whatever the fitted cell height: alpha, beta */
	char labels[3][16];
	size_t nl = 0;
	for (int y = 2; y < 20; y++)
		if (row(c, y)[0] != ' ' && row(c, y)[0] != '\0' &&
		    strncmp(row(c, y), "?=null", 6) != 0 && nl < 3)
			snprintf(labels[nl++], sizeof labels[0], "%s", row(c, y));
	ck_assert_uint_eq(nl, 2);
	ck_assert(!strncmp(labels[0], "alpha", 5));
	ck_assert(!strncmp(labels[1], "beta", 4));
	/* search and Esc */
	c = screen(mono, "5/beta<Enter><Enter><Esc>");
	ck_assert(strstr(row(c, 0), "clusters"));
	ck_assert(strstr(row(c, 2 + 10), "cluster 2: 2 models"));
}
END_TEST

START_TEST(test_pairs_view)
{
	struct mp_canvas *c = screen(mono, "4");
	/* name columns as wide as the longest name (5), families as the
	   heading "family" (6) */
	ck_assert_str_eq(row(c, 1), "  rank     cosine  model family  model family");
	ck_assert_str_eq(row(c, 2), "     1        0.5  alpha F1      beta  F1");
	ck_assert_str_eq(row(c, 3), "     2        0.2  beta  F1      gamma F2");
	ck_assert_str_eq(row(c, 4), "     3       null  alpha F1      gamma F2");
	/* the full names of the pair under the cursor */
	ck_assert_str_eq(row(c, 21), "alpha  |  beta");
	c = screen(mono, "4j");
	ck_assert_str_eq(row(c, 21), "beta  |  gamma");
	c = screen(mono, "4f");
	ck_assert_str_eq(row(c, 22), "1 intrafamily pairs, highest first | f: filter  Enter: side by side");
	c = screen(mono, "4ff");
	ck_assert_str_eq(row(c, 22), "2 interfamily pairs, highest first | f: filter  Enter: side by side");
	c = screen(mono, "4fff");
	ck_assert_str_eq(row(c, 22), "1 T1-T2, highest first | f: filter  Enter: side by side");
	c = screen(mono, "4ffff");
	ck_assert(!strncmp(row(c, 22), "3 all pairs", 11));
	/* the divergence: lowest first (0.1, 0.3, 0.6) */
	c = screen(mono, "4m");
	ck_assert_str_eq(row(c, 2), "     1        0.1  alpha F1      beta  F1");
	ck_assert_str_eq(row(c, 4), "     3        0.6  alpha F1      gamma F2");
	ck_assert(!strncmp(row(c, 22), "3 all pairs, lowest (most alike) first", 38));
	/* side by side: alpha has 1 tensor, beta none */
	c = screen(mono, "4<Enter>");
	ck_assert_str_eq(row(c, 1), "             model A                          model B");
	ck_assert_str_eq(row(c, 3), "name         alpha                            beta");
	ck_assert_str_eq(row(c, 7), "parameters   1.5k                             20");
	ck_assert_str_eq(row(c, 9), "tensors      1                                0");
	ck_assert_str_eq(row(c, 11), "0 tensors in common (same name and shape)");
	ck_assert_str_eq(row(c, 12), "tensors/cosine: 0.5 (higher is more alike)");
	ck_assert_str_eq(row(c, 13), "sketch estimate from 1024 values per tensor");
	c = screen(mono, "4jj<Enter>");
	ck_assert_str_eq(row(c, 12), "tensors/cosine: null (no tensors in common)");
	c = screen(mono, "4/gam<Enter>");
	ck_assert(mp_canvas_at(c, 0, 3)->st.attr & MP_ATTR_REVERSE);
}
END_TEST

struct seen {
	int calls, stop_at;
	size_t last_done, last_total;
};

static bool on_progress(void *ctx, const char *what, size_t done, size_t total)
{
	struct seen *s = ctx;
	ck_assert(done <= total);
	s->last_done = done;
	s->last_total = total;
	return ++s->calls != s->stop_at;
}

/* Loading reports progress (3 fingerprints, then the results) and stops
 * when the callback says so. */
START_TEST(test_progress)
{
	struct mp_error err;
	struct mp_tui_data *d;
	char *res = tu_path(dir, "sim.json");
	struct mp_tui_paths p = {.registry = dir, .results = res};
	struct seen s = {0, -1, 0, 0};
	struct mp_tui_progress prog = {on_progress, &s};
	ck_assert_int_eq(mp_tui_data_load(&p, &prog, &d, &err), MP_OK);
	/* fingerprints 0,1,2,3 of 3; results 0 of 1; matrix 0 and 1 of 1 */
	ck_assert_int_eq(s.calls, 7);
	ck_assert_uint_eq(s.last_done, 1);
	ck_assert_uint_eq(s.last_total, 1);
	mp_tui_data_free(d);
	s = (struct seen){0, 2, 0, 0};
	ck_assert_int_eq(mp_tui_data_load(&p, &prog, &d, &err), MP_EINVAL);
	ck_assert_str_eq(err.msg, "interrupted");
	free(res);
}
END_TEST

START_TEST(test_bad_input)
{
	struct mp_error err;
	struct mp_tui_data *d;
	char *res = tu_path(dir, "bad.json");
	tu_write_str(res, "{\"matrices\":{\"tensors\":{\"cosine\":{\"models\":[\"1\"],"
			  "\"values\":[[1,2]]}}}}");
	struct mp_tui_paths p = {.results = res};
	ck_assert_int_eq(mp_tui_data_load(&p, NULL, &d, &err), MP_EFORMAT);
	ck_assert(strstr(err.msg, "bad.json"));
	tu_write_str(res, "{\"matrices\":{}}");
	ck_assert_int_eq(mp_tui_data_load(&p, NULL, &d, &err), MP_EFORMAT);
	ck_assert(strstr(err.msg, "no matrices"));
	free(res);
	res = tu_path(dir, "missing.json");
	p.results = res;
	ck_assert_int_ne(mp_tui_data_load(&p, NULL, &d, &err), MP_OK);
	ck_assert(strstr(err.msg, "missing.json"));
	free(res);
	/* models only in the results: shown by id */
	res = tu_path(dir, "only.json");
	tu_write_str(res, "{\"matrices\":{\"tensors\":{\"cosine\":{\"models\":"
			  "[\"x\",\"y\"],\"values\":[[1,0],[0,1]]}}}}");
	p.results = res;
	ck_assert_int_eq(mp_tui_data_load(&p, NULL, &d, &err), MP_OK);
	ck_assert_uint_eq(d->n, 2);
	ck_assert_str_eq(d->models[1].name, "y");
	mp_tui_data_free(d);
	/* the second matrix brings a model the first did not have: every
	   view follows the longer list */
	tu_write_str(res, "{\"matrices\":{\"tensors\":{\"cosine\":{\"models\":"
			  "[\"x\"],\"values\":[[1]]},\"l1\":{\"models\":[\"x\","
			  "\"y\"],\"values\":[[1,0.5],[0.5,1]]}}}}");
	ck_assert_int_eq(mp_tui_data_load(&p, NULL, &d, &err), MP_OK);
	ck_assert_uint_eq(d->n, 1);
	struct mp_tui *t = mp_tui_new(d, mono);
	struct mp_canvas *c = mp_canvas_new(80, 24);
	int keys[] = {'2', 'm', 'j', '1', 'G', MP_KEY_ENTER, '3', '4', 'q'};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		mp_tui_key(t, keys[i]);
		mp_tui_draw(t, c);
		if (keys[i] == 'G')
			ck_assert(!strncmp(row(c, 3), "y ", 2));
		if (keys[i] == MP_KEY_ENTER)
			ck_assert_str_eq(row(c, 5), "         0.5  x (/)");
	}
	ck_assert_uint_eq(d->n, 2);
	mp_tui_free(t);
	mp_canvas_free(c);
	mp_tui_data_free(d);
	free(res);
}
END_TEST

Suite *suite_tui(void)
{
	Suite *s = suite_create("tui");
	TCase *tc = tcase_create("basics");
	tcase_add_test(tc, test_canvas_text);
	tcase_add_test(tc, test_canvas_fit_middle);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_ramps);
	tcase_add_test(tc, test_namecut);
	tcase_add_test(tc, test_heat_cells);
	suite_add_tcase(s, tc);
	TCase *tv = tcase_create("views");
	tcase_add_unchecked_fixture(tv, world, unworld);
	tcase_add_test(tv, test_data);
	tcase_add_test(tv, test_models_view);
	tcase_add_test(tv, test_detail_view);
	tcase_add_test(tv, test_detail_gguf);
	tcase_add_test(tv, test_detail_long_type);
	tcase_add_test(tv, test_heatmap_view);
	tcase_add_test(tv, test_heatmap_blocks);
	tcase_add_test(tv, test_densest);
	tcase_add_test(tv, test_click);
	tcase_add_test(tv, test_help_view);
	tcase_add_test(tv, test_stats_view);
	tcase_add_test(tv, test_pairs_view);
	tcase_add_test(tv, test_cluster_view);
	tcase_add_test(tv, test_quit_keys);
	tcase_add_test(tv, test_history);
	tcase_add_test(tv, test_search_keys);
	tcase_add_test(tv, test_filter);
	tcase_add_test(tv, test_move_keys);
	tcase_add_test(tv, test_matrix_keys);
	tcase_add_test(tv, test_progress);
	tcase_add_test(tv, test_bad_input);
	suite_add_tcase(s, tv);
	return s;
}
