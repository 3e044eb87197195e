/* view_pairs.c — every pair of models of the current matrix, most alike
 * first (nulls last), filtered by category: all, intrafamily, interfamily
 * or one type pair; or the pairs of one group when opened from the stats
 * view. Enter shows the two models side by side. */
#include "namecut.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pairs {
	struct mp_view base;
	int filter;     /* 0 all, 1 intra, 2 inter, 3+k type pair k, -1 group */
	int gkind;      /* with filter -1: the group */
	char *glabel;
	size_t *idx, n; /* indices into analysis->pairs */
	size_t cur, top;
	int rows;
	char what[160], err[MP_ERRMSG_MAX];
	char text[128]; /* filter as you type: a model name contains it */
};

static const struct mp_group_stats *find_group(const struct mp_analysis *a,
					       int kind, const char *label)
{
	const struct mp_group_stats *g = kind == MP_GROUP_INTRA ? a->intra
				       : kind == MP_GROUP_INTER ? a->inter
								: a->typepair;
	size_t n = kind == MP_GROUP_INTRA ? a->n_intra
		 : kind == MP_GROUP_INTER ? a->n_inter : a->n_typepair;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(g[i].label, label))
			return &g[i];
	return NULL;
}

static bool keep(const struct mp_pair *p, int f)
{
	if (f == 0)
		return true;
	if (f == 1)
		return p->same_family;
	if (f == 2)
		return !p->same_family && p->intra_or_inter >= 0;
	return p->typepair == (long)(f - 3);
}

static bool named(const struct mp_analysis *a, const struct mp_pair *p,
		  const char *text)
{
	return mp_tui_match(a->name[p->i], text) ||
	       mp_tui_match(a->name[p->j], text);
}

static void build(struct pairs *s)
{
	struct mp_error err;
	const struct mp_analysis *a = mp_tui_data_analysis(s->base.app->data, &err);
	free(s->idx);
	s->idx = NULL;
	s->n = 0;
	if (!a) {
		snprintf(s->err, sizeof s->err, "%s", err.msg);
		return;
	}
	const struct mp_group_stats *g = NULL;
	if (s->filter < 0 && !(g = find_group(a, s->gkind, s->glabel)))
		s->filter = 0; /* the group is gone with the matrix */
	if (s->filter > 2 + (int)a->n_typepair)
		s->filter = 0;
	s->idx = malloc((a->npairs ? a->npairs : 1) * sizeof *s->idx);
	if (!s->idx) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return;
	}
	if (g) {
		for (size_t i = 0; i < g->n_pairs + g->n_null; i++)
			if (named(a, &a->pairs[g->pairs[i]], s->text))
				s->idx[s->n++] = g->pairs[i];
		snprintf(s->what, sizeof s->what, "group %s", g->label);
	} else {
		for (size_t i = 0; i < a->npairs; i++)
			if (keep(&a->pairs[i], s->filter) &&
			    named(a, &a->pairs[i], s->text))
				s->idx[s->n++] = i;
		snprintf(s->what, sizeof s->what, "%s",
			 s->filter == 0 ? "all pairs"
			 : s->filter == 1 ? "intrafamily pairs"
			 : s->filter == 2 ? "interfamily pairs"
					  : a->typepair[s->filter - 3].label);
	}
	mp_list_clamp(&s->cur, &s->top, s->n, s->rows);
}

/* Widest name and family of the matrix's models, in columns. */
static void widest(const struct mp_analysis *a, int *nw, int *fw)
{
	*nw = 5;
	*fw = 6;
	for (size_t i = 0; i < a->m->n; i++) {
		int n = mp_tui_text_width(a->name[i]), f = mp_tui_text_width(a->family[i]);
		*nw = n > *nw ? n : *nw;
		*fw = f > *fw ? f : *fw;
	}
}

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct pairs *s = (struct pairs *)v;
	const struct mp_analysis *a = v->app->data->an;
	const struct mp_caps *caps = &v->app->caps;
	s->rows = c->h - 5;
	if (!a || !s->idx) {
		mp_canvas_text(c, 0, 1, c->w, MP_STYLE_PLAIN, s->err);
		return;
	}
	mp_list_clamp(&s->cur, &s->top, s->n, s->rows);
	/* rank and score take 19 columns, then name family  name family */
	int nw, fw;
	widest(a, &nw, &fw);
	/* names first: the family columns shrink to 9 columns for them */
	int avail = c->w - 19 - 4;
	fw = fw > 24 ? 24 : fw;
	if (2 * (nw + fw) > avail)
		fw = (avail - 2 * nw) / 2 < 9 ? 9 : (avail - 2 * nw) / 2;
	fw = fw > 24 ? 24 : fw;
	int room = (avail - 2 * fw) / 2;
	nw = nw < room ? nw : room < 10 ? 10 : room;
	mp_canvas_printf(c, 0, 1, c->w, mp_style_head, "%6s %10s  %-*s %-*s  %-*s %s",
			 "rank", a->m->metric, nw, "model", fw, "family", nw,
			 "model", "family");
	for (int r = 0; r < s->rows && s->top + (size_t)r < s->n; r++) {
		size_t i = s->top + (size_t)r;
		const struct mp_pair *p = &a->pairs[s->idx[i]];
		struct mp_style st = i == s->cur ? mp_style_sel : MP_STYLE_PLAIN;
		int y = 2 + r;
		if (i == s->cur)
			mp_canvas_fill(c, 0, y, c->w, 1, ' ', st);
		char score[24];
		if (p->defined)
			snprintf(score, sizeof score, "%10.6g", p->value);
		else
			snprintf(score, sizeof score, "%10s", "null");
		int x = mp_canvas_printf(c, 0, y, c->w, st, "%6zu %s  ", i + 1, score);
		mp_canvas_fit_middle(c, x, y, nw, st, caps, a->name[p->i]);
		mp_canvas_fit_middle(c, x + nw + 1, y, fw, st, caps, a->family[p->i]);
		x += nw + fw + 3;
		mp_canvas_fit_middle(c, x, y, nw, st, caps, a->name[p->j]);
		mp_canvas_fit_middle(c, x + nw + 1, y, c->w - x - nw - 1, st,
				     caps, a->family[p->j]);
	}
	if (s->n) {
		const struct mp_pair *p = &a->pairs[s->idx[s->cur]];
		mp_canvas_printf(c, 0, c->h - 3, c->w, mp_style_dim, "%s  |  %s",
				 a->name[p->i], a->name[p->j]);
	}
	mp_canvas_printf(c, 0, c->h - 2, c->w, mp_style_dim,
			 "%zu %s%s%s%s, %s | f: filter  Enter: side by side",
			 s->n, s->what, s->text[0] ? " naming \"" : "", s->text,
			 s->text[0] ? "\"" : "",
			 a->m->higher_is_more_alike ? "highest first"
						    : "lowest (most alike) first");
}

static void open_pair(struct pairs *s)
{
	const struct mp_analysis *a = s->base.app->data->an;
	if (!a || s->n == 0)
		return;
	const struct mp_pair *p = &a->pairs[s->idx[s->cur]];
	const size_t *rm = s->base.app->data->row_model;
	mp_tui_push(s->base.app, mp_view_pair_new(s->base.app, rm[p->i], rm[p->j]));
}

static bool action(struct mp_view *v, enum mp_action a)
{
	struct pairs *s = (struct pairs *)v;
	if (mp_list_move(&s->cur, &s->top, s->n, s->rows, a))
		return true;
	switch (a) {
	case MP_ACT_ENTER:
	case MP_ACT_RIGHT: open_pair(s); return true;
	case MP_ACT_FILTER:
		s->filter = s->filter < 0 ? 0 : s->filter + 1;
		s->cur = s->top = 0;
		build(s);
		return true;
	default: return false;
	}
}

static void click(struct mp_view *v, int x, int y)
{
	struct pairs *s = (struct pairs *)v;
	size_t i = s->top + (size_t)(y - 2);
	if (y >= 2 && y < 2 + s->rows && i < s->n) {
		if (i == s->cur)
			open_pair(s);
		s->cur = i;
	}
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct pairs *s = ctx;
	const struct mp_analysis *a = s->base.app->data->an;
	const struct mp_pair *p = &a->pairs[s->idx[i]];
	return named(a, p, text);
}

static bool search(struct mp_view *v, const char *text, int dir)
{
	struct pairs *s = (struct pairs *)v;
	if (!v->app->data->an || !mp_list_search(&s->cur, s->n, dir, hit, s, text))
		return false;
	mp_list_clamp(&s->cur, &s->top, s->n, s->rows);
	return true;
}

static void matrix_changed(struct mp_view *v)
{
	build((struct pairs *)v);
}

static void filter(struct mp_view *v, const char *text)
{
	struct pairs *s = (struct pairs *)v;
	snprintf(s->text, sizeof s->text, "%s", text);
	s->cur = s->top = 0;
	build(s);
}

static void free_view(struct mp_view *v)
{
	struct pairs *s = (struct pairs *)v;
	if (!s)
		return;
	free(s->idx);
	free(s->glabel);
	free(s);
}

static const struct mp_view_ops ops = {"pairs", draw, action, click,
				       search, matrix_changed, free_view};

struct mp_view *mp_view_pairs_new(struct mp_tui *t, int kind, size_t group)
{
	struct pairs *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->base.ops = &ops;
	s->base.app = t;
	s->base.pos_cur = &s->cur;
	s->base.pos_n = &s->n;
	s->base.filter = filter;
	s->rows = 20;
	struct mp_error err;
	const struct mp_analysis *a;
	mp_tui_busy(t, "analysing families and types");
	if (kind >= 0 && (a = mp_tui_data_analysis(t->data, &err))) {
		const struct mp_group_stats *g =
			kind == MP_GROUP_INTRA ? &a->intra[group]
			: kind == MP_GROUP_INTER ? &a->inter[group]
						 : &a->typepair[group];
		s->filter = -1;
		s->gkind = kind;
		if (!(s->glabel = mp_strdup(g->label))) {
			free(s);
			return NULL;
		}
	}
	build(s);
	return &s->base;
}
