/* view_matrices.c — the matrix picker (M): every method/metric of the
 * results file, the one held marked; Enter holds the selected one and
 * closes the picker. Names come from the file's index, so opening the
 * picker reads no matrix. */
#include "view.h"

#include <stdlib.h>

struct matrices {
	struct mp_view base;
	size_t cur, top, n;
	int rows;
};

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct matrices *p = (struct matrices *)v;
	const struct mp_tui_data *d = v->app->data;
	p->n = d->nmats;
	p->rows = c->h - 4;
	mp_list_clamp(&p->cur, &p->top, p->n, p->rows);
	mp_canvas_printf(c, 0, 1, c->w, mp_style_head, "%4s  %-14s %s", "",
			 "method", "metric");
	for (int r = 0; r < p->rows && p->top + (size_t)r < p->n; r++) {
		size_t i = p->top + (size_t)r;
		struct mp_style st = i == p->cur ? mp_style_sel : MP_STYLE_PLAIN;
		int y = 2 + r;
		if (i == p->cur)
			mp_canvas_fill(c, 0, y, c->w, 1, ' ', st);
		mp_canvas_printf(c, 0, y, c->w, st, "%3zu%c  %-14s %s", i + 1,
				 i == d->cur ? '*' : ' ', d->file->method[i],
				 d->file->metric[i]);
	}
	mp_canvas_text(c, 0, c->h - 2, c->w, mp_style_dim,
		       "* held now | Enter: hold the selected matrix  "
		       "q, Esc: back");
}

static void choose(struct matrices *p)
{
	struct mp_tui *t = p->base.app;
	if (p->cur < t->data->nmats && mp_tui_select_matrix(t, p->cur))
		mp_tui_pop(t); /* frees p: touch nothing after */
}

static bool action(struct mp_view *v, enum mp_action a)
{
	struct matrices *p = (struct matrices *)v;
	if (mp_list_move(&p->cur, &p->top, p->n, p->rows, a))
		return true;
	if (a == MP_ACT_ENTER || a == MP_ACT_RIGHT) {
		choose(p);
		return true;
	}
	return false;
}

static void click(struct mp_view *v, int x, int y)
{
	struct matrices *p = (struct matrices *)v;
	size_t i = p->top + (size_t)(y - 2);
	if (y < 2 || y >= 2 + p->rows || i >= p->n)
		return;
	if (i == p->cur)
		choose(p);
	else
		p->cur = i;
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct matrices *p = ctx;
	const struct mp_simmatrix_file *f = p->base.app->data->file;
	return mp_tui_match(f->method[i], text) ||
	       mp_tui_match(f->metric[i], text);
}

static bool search(struct mp_view *v, const char *text, int dir)
{
	struct matrices *p = (struct matrices *)v;
	if (!mp_list_search(&p->cur, p->n, dir, hit, p, text))
		return false;
	mp_list_clamp(&p->cur, &p->top, p->n, p->rows);
	return true;
}

static void free_view(struct mp_view *v)
{
	free(v);
}

static const struct mp_view_ops ops = {"matrices", draw, action, click,
				       search, NULL, free_view};

struct mp_view *mp_view_matrices_new(struct mp_tui *t)
{
	struct matrices *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->base.ops = &ops;
	p->base.app = t;
	p->base.pos_cur = &p->cur;
	p->base.pos_n = &p->n;
	p->rows = 20;
	p->n = t->data->nmats;
	p->cur = t->data->cur;
	return &p->base;
}
