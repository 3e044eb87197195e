/* check_tui_ident.c — the identify view on results built by hand, rendered
 * into an 80x24 canvas: the verdict line, the evidence wrapped at 80
 * columns, the merge coefficients as bars of known length, the ranking
 * rows, Enter on a ranking row, and scrolling a long ranking. */
#include "check_suites.h"
#include "tui_ident.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ref_names[] = {"alpha", "beta", "gamma"};
static char ref_ids[40][8];

/* The evidence wraps (python3 textwrap.wrap(s, 80) of "Relation: merge,
 * decided on the sketches. " + EVIDENCE) into WRAP1..WRAP4. */
#define EVIDENCE                                                              \
	"The unknown is a non-negative mix of two references: every key "     \
	"tensor is fitted by 0.3 alpha + 0.7 beta with a relative residual "  \
	"of 0.010, twenty times below the best single reference (0.200)."
#define WRAP1 "Relation: merge, decided on the sketches. The unknown is a non-negative mix of"
#define WRAP2 "two references: every key tensor is fitted by 0.3 alpha + 0.7 beta with a"
#define WRAP3 "relative residual of 0.010, twenty times below the best single reference"
#define WRAP4 "(0.200)."
/* gamma's ranking row: python3 "%3d %-20s %-12s %6s %7s %4s%% %s" cut at
 * 80 columns */
#define GAMMA                                                                 \
	"  3 gamma                llama-2           -       -  100% "           \
	"architecture llama-2,"

static struct mp_ident_score score(size_t ref, double final, double pearson,
				   bool compatible, const char *why)
{
	struct mp_ident_score s = {.ref = ref, .compatible = compatible,
				   .arch = compatible ? "sd1" : "llama-2",
				   .matched = 12, .overlap = 1, .shape = 1,
				   .exact = 0.25, .stats = 0.9, .cosine = 0.97,
				   .pearson = pearson, .coverage = 1,
				   .raw_final = final, .final = final};
	snprintf(s.why, sizeof s.why, "%s", why ? why : "");
	return s;
}

/* A merge of alpha (0.3) and beta (0.7); n >= 3 references (3 named ones,
 * then "ref4".. "refN", all compatible, final decreasing). */
static struct mp_tui_ident *merge_result(size_t n)
{
	struct mp_tui_ident *id = calloc(1, sizeof *id);
	struct mp_ident_result *r = calloc(1, sizeof *r);
	ck_assert(id && r);
	id->unknown = strdup("mystery");
	id->refs = calloc(n, sizeof *id->refs);
	id->fps = calloc(n, sizeof *id->fps);
	id->nrefs = n;
	id->result = r;
	r->scores = calloc(n, sizeof *r->scores);
	ck_assert(id->unknown && id->refs && id->fps && r->scores);
	for (size_t i = 0; i < n; i++) {
		snprintf(ref_ids[i], sizeof ref_ids[i], "ref%zu", i + 1);
		id->refs[i].id = ref_ids[i];
		id->refs[i].name = i < 3 ? ref_names[i] : ref_ids[i];
	}
	r->nscores = n;
	r->scores[0] = score(1, 0.95, 0.99, true, NULL);
	r->scores[1] = score(0, 0.40, 0.30, true, NULL);
	r->scores[2] = score(2, NAN, NAN, false, "architecture llama-2, not sd1");
	for (size_t i = 3; i < n; i++)
		r->scores[i] = score(i, 0.3 - 0.01 * (double)i, 0.1, true, NULL);
	r->ncompatible = n - 1;
	r->match = true;
	struct mp_ident_relation *rel = &r->relation;
	rel->kind = MP_ID_MERGE;
	rel->parent = 1;
	rel->confidence = "high";
	snprintf(rel->evidence, sizeof rel->evidence, "%s", EVIDENCE);
	rel->nparents = 2;
	rel->parents[0] = 0;
	rel->parents[1] = 1;
	rel->coef[0] = 0.3;
	rel->coef[1] = 0.7;
	rel->merge_sum = 1;
	rel->merge_residual = 0.01;
	rel->single_residual = 0.2;
	rel->linear = true;
	rel->ntop = 1;
	rel->top[0] = (struct mp_ident_tensor){"down.0.weight", 0.0125};
	return id;
}

static struct mp_tui_data nodata; /* no models, no matrix */
static struct mp_tui *app;
static struct mp_canvas *canvas;

/* The identify view of id after keys, on an 80x24 screen. */
static struct mp_canvas *show(struct mp_tui_ident *id, struct mp_caps caps,
			      const char *keys)
{
	mp_tui_free(app);
	mp_canvas_free(canvas);
	app = mp_tui_new(&nodata, caps);
	canvas = mp_canvas_new(80, 24);
	ck_assert(app && canvas);
	mp_tui_draw(app, canvas);
	struct mp_view *v = mp_view_identify_new(app, id);
	ck_assert_ptr_nonnull(v);
	mp_tui_push(app, v);
	mp_tui_draw(app, canvas);
	int k[64];
	char bad[32];
	int n = mp_keys_parse(keys, k, 64, bad);
	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		mp_tui_key(app, k[i]);
		mp_tui_draw(app, canvas);
	}
	return canvas;
}

static const char *row(int y)
{
	static char buf[512];
	return mp_canvas_row(canvas, y, buf, sizeof buf);
}

/* The row of the canvas that is want, or -1. */
static int find_row(const char *want)
{
	for (int y = 0; y < canvas->h; y++)
		if (!strcmp(row(y), want))
			return y;
	return -1;
}

static void teardown(void)
{
	mp_tui_free(app);
	mp_canvas_free(canvas);
	app = NULL;
	canvas = NULL;
}

/* The bar of a coefficient c: 50 columns (80 - 30) for the largest
 * coefficient or 1, so round(0.3 * 50) = 15 and round(0.7 * 50) = 35
 * cells, the value at column 72. */
static const char *bar_row(const char *name, int cells, const char *cell,
			   double coef)
{
	static char buf[512];
	char bar[256] = "";
	for (int i = 0; i < cells; i++)
		strcat(bar, cell);
	snprintf(buf, sizeof buf, "  %-18s %s%*s %6.3f", name, bar, 50 - cells,
		 "", coef);
	return buf;
}

START_TEST(test_identify_view)
{
	struct mp_caps ascii = {0, false, false};
	int g;
	show(merge_result(3), ascii, "");
	ck_assert_str_eq(row(1), "Unknown  mystery");
	ck_assert_str_eq(row(2), "Architecture  unknown");
	/* the verdict and the relation with its evidence, wrapped at spaces
	   within 80 columns (python3 textwrap.wrap) */
	ck_assert_str_eq(row(3), "Verdict: the unknown is most likely a merge of "
				 "alpha (0.30) and beta (0.70)");
	ck_assert_str_eq(row(4), "(high confidence)");
	ck_assert_str_eq(row(5), WRAP1);
	ck_assert_str_eq(row(6), WRAP2);
	ck_assert_str_eq(row(7), WRAP3);
	ck_assert_str_eq(row(8), WRAP4);
	ck_assert_str_eq(row(10), "Merge coefficients (sum 1.000, residual 0.010, "
				  "best single 0.200, linear)");
	ck_assert_str_eq(row(11), bar_row("alpha", 15, "#", 0.3));
	ck_assert_str_eq(row(12), bar_row("beta", 35, "#", 0.7));
	/* the bars are 15 and 35 cells from column 21 */
	ck_assert_uint_eq(mp_canvas_at(canvas, 21 + 14, 11)->ch, '#');
	ck_assert_uint_eq(mp_canvas_at(canvas, 21 + 15, 11)->ch, ' ');
	ck_assert_uint_eq(mp_canvas_at(canvas, 21 + 34, 12)->ch, '#');
	ck_assert_uint_eq(mp_canvas_at(canvas, 21 + 35, 12)->ch, ' ');
	/* the ranking after the merge: lines 13 (title) .. 17 (gamma) on rows
	   14 .. 18 */
	ck_assert_str_eq(row(14), "Ranking (3 references, 2 compatible)");
	ck_assert_str_eq(row(15), "  # name                 architecture  final "
				  "pearson cover compatible");
	ck_assert_str_eq(row(16), "  1 beta                 sd1           0.950 "
				  "  0.990  100% yes");
	ck_assert_str_eq(row(17), "  2 alpha                sd1           0.400 "
				  "  0.300  100% yes");
	ck_assert_str_eq(row(18), GAMMA);
	ck_assert_str_eq(row(20), "Tensor evidence");
	ck_assert_str_eq(row(21), "  matched exactly: exact score 0.250 over 12 "
				  "matched tensors (sketches)");
	/* the cursor starts on the first line, drawn reversed */
	ck_assert(mp_canvas_at(canvas, 0, 1)->st.attr & MP_ATTR_REVERSE);
	ck_assert(!(mp_canvas_at(canvas, 0, 2)->st.attr & MP_ATTR_REVERSE));

	/* in Unicode the cells are full blocks */
	show(merge_result(3), (struct mp_caps){256, false, true}, "");
	ck_assert_str_eq(row(11), bar_row("alpha", 15, "\xe2\x96\x88", 0.3));
	ck_assert_str_eq(row(12), bar_row("beta", 35, "\xe2\x96\x88", 0.7));

	/* j moves the highlight; Enter on gamma's row opens its scores below
	   it, Enter again closes them */
	show(merge_result(3), ascii, "j");
	ck_assert(mp_canvas_at(canvas, 0, 2)->st.attr & MP_ATTR_REVERSE);
	/* 23 lines, 21 rows: G shows lines 2 .. 22, the last on row 21 */
	show(merge_result(3), ascii, "G");
	ck_assert_str_eq(row(20), "  moved most (1 - Pearson):");
	ck_assert_str_eq(row(21), "    0.0125  down.0.weight");
	ck_assert(mp_canvas_at(canvas, 0, 21)->st.attr & MP_ATTR_REVERSE);
	ck_assert_str_eq(row(16), GAMMA);
	/* a search moves the cursor to gamma's row (line 17, row 18) */
	show(merge_result(3), ascii, "/gamma<Enter>");
	ck_assert_int_eq(find_row(GAMMA), 18);
	ck_assert(mp_canvas_at(canvas, 0, 18)->st.attr & MP_ATTR_REVERSE);
	ck_assert_str_eq(row(22), "Enter: show or hide this reference's scores"
				  "  Esc: back");
	/* the scores open below, scrolled into view */
	mp_tui_key(app, MP_KEY_ENTER);
	mp_tui_draw(app, canvas);
	g = find_row(GAMMA);
	ck_assert_int_ge(g, 1);
	ck_assert(mp_canvas_at(canvas, 0, g)->st.attr & MP_ATTR_REVERSE);
	ck_assert_str_eq(row(g + 1), "      shape 1.000  exact 0.250  stats "
				     "0.900  cosine 0.970  pearson -");
	ck_assert_int_ge(find_row("      not compatible: architecture llama-2, "
				  "not sd1"), 0);
	mp_tui_key(app, MP_KEY_ENTER);
	mp_tui_draw(app, canvas);
	ck_assert_int_lt(find_row("      not compatible: architecture llama-2, "
				  "not sd1"), 0);
	/* Esc goes back to the models view */
	mp_tui_key(app, MP_KEY_ESC);
	mp_tui_draw(app, canvas);
	ck_assert_str_eq(app->stack[app->depth - 1]->ops->name, "models");
	teardown();
}
END_TEST

/* 30 references: 15 lines before the ranking's first row, 30 rows, then
 * 5 lines of tensor evidence: 50 lines, 21 rows visible. G shows lines
 * 29 .. 49: the last rank (line 44) on row 16; g the top again; the
 * position counts lines. */
START_TEST(test_identify_scroll)
{
	struct mp_caps ascii = {0, false, false};
	show(merge_result(30), ascii, "G");
	ck_assert_ptr_eq(strstr(row(16), " 30 ref30 "), row(16));
	ck_assert_str_eq(row(21), "    0.0125  down.0.weight");
	ck_assert(mp_canvas_at(canvas, 0, 21)->st.attr & MP_ATTR_REVERSE);
	ck_assert_str_ne(row(1), "Unknown  mystery");
	size_t n = *app->stack[app->depth - 1]->pos_n;
	char pos[32];
	ck_assert_uint_eq(n, 50);
	snprintf(pos, sizeof pos, "%zu/%zu", n, n);
	ck_assert_ptr_nonnull(strstr(row(23), pos));
	mp_tui_key(app, 'g');
	mp_tui_draw(app, canvas);
	ck_assert_str_eq(row(1), "Unknown  mystery");
	/* a page down moves the cursor 20 lines (21 rows less one) */
	mp_tui_key(app, MP_KEY_PGDN);
	mp_tui_draw(app, canvas);
	ck_assert_ptr_nonnull(strstr(row(23), "21/"));
	teardown();
}
END_TEST

/* No reference, no match: the view says so. */
START_TEST(test_identify_none)
{
	struct mp_tui_ident *id = merge_result(3);
	struct mp_ident_result *r = id->result;
	r->nscores = 0;
	r->ncompatible = 0;
	r->match = false;
	memset(&r->relation, 0, sizeof r->relation);
	r->relation.kind = MP_ID_NONE;
	snprintf(r->relation.evidence, sizeof r->relation.evidence,
		 "no reference to compare with");
	show(id, (struct mp_caps){0, false, false}, "");
	ck_assert_str_eq(row(3), "Verdict: no match: no reference of a "
				 "compatible architecture");
	ck_assert_str_eq(row(4), "Relation: no match, decided on the sketches. "
				 "no reference to compare with");
	ck_assert_int_ge(find_row("Ranking (0 references, 0 compatible)"), 0);
	ck_assert_int_ge(find_row("  no reference: nothing to compare with"), 0);
	teardown();
}
END_TEST

Suite *suite_tui_ident(void)
{
	Suite *s = suite_create("tui_ident");
	TCase *tc = tcase_create("view");
	tcase_add_test(tc, test_identify_view);
	tcase_add_test(tc, test_identify_scroll);
	tcase_add_test(tc, test_identify_none);
	suite_add_tcase(s, tc);
	return s;
}
