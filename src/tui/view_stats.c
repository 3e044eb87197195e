/* view_stats.c — the family/type tables of the analysis of the current
 * matrix: intrafamily, interfamily and type-pair groups with their pair
 * counts and statistics. f switches table, s sorts by the next column,
 * Enter lists the pairs of the selected group. */
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C_LABEL, C_PAIRS, C_NULL, C_MEAN, C_VAR, C_MIN, C_MAX, C_MEDIAN,
       NCOLS };
static const char *const col_name[NCOLS] = {"group", "pairs", "null", "mean",
					     "variance", "min", "max", "median"};
static const char *const table_name[3] = {"intrafamily", "interfamily",
					  "type pairs"};

struct stats {
	struct mp_view base;
	int table; /* enum mp_group_kind */
	int sort_col;
	bool reverse;
	size_t *order, n; /* group indices of the table in display order */
	size_t cur, top;
	int rows;
	char err[MP_ERRMSG_MAX];
};

static const struct mp_analysis *analysis(struct stats *s)
{
	struct mp_error err;
	const struct mp_analysis *a = mp_tui_data_analysis(s->base.app->data, &err);
	if (!a)
		snprintf(s->err, sizeof s->err, "%s", err.msg);
	return a;
}

static const struct mp_group_stats *groups(const struct mp_analysis *a,
					   int table, size_t *n)
{
	*n = table == MP_GROUP_INTRA ? a->n_intra
	   : table == MP_GROUP_INTER ? a->n_inter : a->n_typepair;
	return table == MP_GROUP_INTRA ? a->intra
	     : table == MP_GROUP_INTER ? a->inter : a->typepair;
}

static double num(const struct mp_group_stats *g, int col)
{
	switch (col) {
	case C_PAIRS: return (double)g->n_pairs;
	case C_NULL: return (double)g->n_null;
	case C_MEAN: return g->mean;
	case C_VAR: return g->variance;
	case C_MIN: return g->min;
	case C_MAX: return g->max;
	default: return g->median;
	}
}

static int cmp_group(const void *pa, const void *pb, void *ctx)
{
	struct stats *s = ctx;
	size_t n, ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct mp_group_stats *g = groups(s->base.app->data->an, s->table, &n);
	const struct mp_group_stats *a = &g[ia], *b = &g[ib];
	int c = 0;
	if (s->sort_col == C_LABEL) {
		c = strcmp(a->label, b->label);
	} else {
		double x = num(a, s->sort_col), y = num(b, s->sort_col);
		if (isnan(x) != isnan(y)) /* empty groups last either way */
			return isnan(x) ? 1 : -1;
		c = x < y ? -1 : x > y;
	}
	if (s->reverse)
		c = -c;
	return c ? c : ia < ib ? -1 : ia > ib; /* the analysis order */
}

/* (Re)build the display order; sort_col -1 keeps the analysis order. */
static void build(struct stats *s)
{
	const struct mp_analysis *a = analysis(s);
	free(s->order);
	s->order = NULL;
	s->n = 0;
	if (!a)
		return;
	size_t n;
	groups(a, s->table, &n);
	s->order = malloc((n ? n : 1) * sizeof *s->order);
	if (!s->order) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		s->order[i] = i;
	s->n = n;
	if (s->sort_col >= 0)
		qsort_r(s->order, n, sizeof *s->order, cmp_group, s);
	mp_list_clamp(&s->cur, &s->top, s->n, s->rows);
}

/* v in at most 8 columns, with the 6 significant digits of every score
 * (MP_SCORE_FMT) when they fit; "-" for an empty group */
static const char *fmt8(double v, char buf[16])
{
	static const char *const f[] = {MP_SCORE_FMT, "%.5g", "%.4g", "%.3g",
					"%.2g", "%.1e"};
	if (isnan(v))
		return "-";
	for (size_t i = 0; i < 6; i++) {
		snprintf(buf, 16, f[i], v);
		if (strlen(buf) <= 8)
			break;
	}
	return buf;
}

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct stats *s = (struct stats *)v;
	const struct mp_analysis *a = v->app->data->an;
	s->rows = c->h - 5;
	if (!a) {
		mp_canvas_text(c, 0, 1, c->w, MP_STYLE_PLAIN, s->err);
		return;
	}
	mp_list_clamp(&s->cur, &s->top, s->n, s->rows);
	for (int t = 0, x = 0; t < 3; t++) {
		x += mp_canvas_printf(c, x, 1, c->w, t == s->table ? mp_style_sel
								    : MP_STYLE_PLAIN,
				      " %s ", table_name[t]);
		x++;
	}
	int nw = c->w - 56 > 16 ? c->w - 56 : 16;
	char head[256];
	snprintf(head, sizeof head, "%-*s %5s %4s %8s %8s %8s %8s %8s", nw,
		 col_name[0], col_name[1], col_name[2], col_name[3], col_name[4],
		 col_name[5], col_name[6], col_name[7]);
	mp_canvas_text(c, 0, 2, c->w, mp_style_head, head);
	size_t n;
	const struct mp_group_stats *g = groups(a, s->table, &n);
	for (int r = 0; r < s->rows && s->top + (size_t)r < s->n; r++) {
		size_t i = s->top + (size_t)r;
		const struct mp_group_stats *gr = &g[s->order[i]];
		struct mp_style st = i == s->cur ? mp_style_sel : MP_STYLE_PLAIN;
		if (i == s->cur)
			mp_canvas_fill(c, 0, 3 + r, c->w, 1, ' ', st);
		mp_canvas_text(c, 0, 3 + r, nw, st, gr->label);
		char b[5][16];
		mp_canvas_printf(c, nw + 1, 3 + r, c->w, st,
				 "%5zu %4zu %8s %8s %8s %8s %8s", gr->n_pairs,
				 gr->n_null, fmt8(gr->mean, b[0]),
				 fmt8(gr->variance, b[1]), fmt8(gr->min, b[2]),
				 fmt8(gr->max, b[3]), fmt8(gr->median, b[4]));
	}
	if (s->n == 0)
		mp_canvas_text(c, 0, 3, c->w, MP_STYLE_PLAIN,
			       "no groups: the models need families (and "
			       "types) in the registry or --model-info");
	mp_canvas_printf(c, 0, c->h - 2, c->w, mp_style_dim,
			 "%zu groups, sorted by %s%s | f: table  s: sort  "
			 "Enter: pairs of the group",
			 s->n, s->sort_col < 0 ? "mean, most alike first"
					       : col_name[s->sort_col],
			 s->reverse ? " (reversed)" : "");
}

static void open_group(struct stats *s)
{
	if (s->n == 0)
		return;
	mp_tui_push(s->base.app, mp_view_pairs_new(s->base.app, s->table,
						   s->order[s->cur]));
}

static bool action(struct mp_view *v, enum mp_action a)
{
	struct stats *s = (struct stats *)v;
	if (mp_list_move(&s->cur, &s->top, s->n, s->rows, a))
		return true;
	switch (a) {
	case MP_ACT_ENTER:
	case MP_ACT_RIGHT: open_group(s); return true;
	case MP_ACT_FILTER:
		s->table = (s->table + 1) % 3;
		s->cur = s->top = 0;
		build(s);
		return true;
	case MP_ACT_SORT:
		s->sort_col = s->sort_col + 1 >= NCOLS ? -1 : s->sort_col + 1;
		s->reverse = s->sort_col >= C_PAIRS;
		build(s);
		return true;
	case MP_ACT_SORT_REVERSE:
		s->reverse = !s->reverse;
		build(s);
		return true;
	default: return false;
	}
}

static void click(struct mp_view *v, int x, int y)
{
	struct stats *s = (struct stats *)v;
	if (y == 1) {
		int t = x < 14 ? 0 : x < 28 ? 1 : 2;
		if (t != s->table) {
			s->table = t;
			s->cur = s->top = 0;
			build(s);
		}
		return;
	}
	size_t i = s->top + (size_t)(y - 3);
	if (y >= 3 && y < 3 + s->rows && i < s->n) {
		if (i == s->cur)
			open_group(s);
		s->cur = i;
	}
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct stats *s = ctx;
	size_t n;
	const struct mp_group_stats *g = groups(s->base.app->data->an, s->table, &n);
	return mp_tui_match(g[s->order[i]].label, text);
}

static bool search(struct mp_view *v, const char *text, int dir)
{
	struct stats *s = (struct stats *)v;
	if (!v->app->data->an || !mp_list_search(&s->cur, s->n, dir, hit, s, text))
		return false;
	mp_list_clamp(&s->cur, &s->top, s->n, s->rows);
	return true;
}

static void matrix_changed(struct mp_view *v)
{
	build((struct stats *)v);
}

static void free_view(struct mp_view *v)
{
	struct stats *s = (struct stats *)v;
	if (!s)
		return;
	free(s->order);
	free(s);
}

static const struct mp_view_ops ops = {"stats", draw, action, click,
				       search, matrix_changed, free_view};

struct mp_view *mp_view_stats_new(struct mp_tui *t)
{
	struct stats *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->base.ops = &ops;
	s->base.app = t;
	s->base.pos_cur = &s->cur;
	s->base.pos_n = &s->n;
	s->rows = 19;
	s->sort_col = -1;
	mp_tui_busy(t, "analysing families and types");
	build(s);
	return &s->base;
}
