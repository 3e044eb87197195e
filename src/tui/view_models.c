/* view_models.c — every model with id, name, family, type, format,
 * parameter count and dtype mix; sortable, searchable, Enter opens it. */
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COL_ID, COL_NAME, COL_FAMILY, COL_TYPE, COL_FORMAT, COL_PARAMS,
       COL_DTYPES, NCOLS };
static const char *const col_name[NCOLS] = {"id", "name", "family", "type",
					     "format", "params", "dtypes"};

struct models {
	struct mp_view base;
	size_t *order; /* [norder] model indices in display order */
	size_t norder; /* the list grows when a matrix brings new models */
	size_t nshown; /* the first nshown of order match the filter */
	char filter[128];
	size_t cur, top;
	int sort_col;
	bool reverse;
	int rows; /* visible rows at the last draw */
	int colx[NCOLS + 1];
};

static const struct mp_tui_data *data_of(struct models *m)
{
	return m->base.app->data;
}

/* Numeric ids compare as numbers ("9" < "10"). */
static int cmp_id(const char *a, const char *b)
{
	size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
	if (la && lb && !a[la] && !b[lb] && la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_models(const struct mp_tui_model *a,
		      const struct mp_tui_model *b, int col)
{
	switch (col) {
	case COL_NAME: return strcmp(a->name, b->name);
	case COL_FAMILY: return strcmp(a->family, b->family);
	case COL_TYPE: return strcmp(a->type, b->type);
	case COL_FORMAT: return strcmp(a->format, b->format);
	case COL_PARAMS:
		return a->params < b->params ? -1 : a->params > b->params;
	case COL_DTYPES: return strcmp(a->dtypes, b->dtypes);
	default: return 0;
	}
}

static int cmp_order(const void *pa, const void *pb, void *ctx)
{
	const struct models *m = ctx;
	const struct mp_tui_data *d = m->base.app->data;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct mp_tui_model *a = &d->models[ia], *b = &d->models[ib];
	int c = cmp_models(a, b, m->sort_col);
	if (c == 0)
		c = cmp_id(a->id, b->id);
	if (c == 0)
		c = ia < ib ? -1 : ia > ib;
	return m->reverse ? -c : c;
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct models *m = ctx;
	const struct mp_tui_model *mo = &m->base.app->data->models[m->order[i]];
	return mp_tui_match(mo->id, text) || mp_tui_match(mo->name, text) ||
	       mp_tui_match(mo->family, text) || mp_tui_match(mo->type, text);
}

/* Sort, then move the rows matching the filter to the front. */
static void sort(struct models *m)
{
	const struct mp_tui_data *d = data_of(m);
	size_t keep = m->cur < m->nshown ? m->order[m->cur] : 0;
	for (size_t i = 0; i < d->n; i++)
		m->order[i] = i;
	qsort_r(m->order, d->n, sizeof *m->order, cmp_order, m);
	m->nshown = 0;
	for (size_t i = 0; i < d->n; i++) /* matches keep their order */
		if (hit(m, i, m->filter)) {
			size_t k = m->order[i];
			m->order[i] = m->order[m->nshown];
			m->order[m->nshown++] = k;
		}
	m->cur = 0;
	for (size_t i = 0; i < m->nshown; i++)
		if (m->order[i] == keep)
			m->cur = i;
}

/* Follow the model list when it grew; false when out of memory. */
static bool sync(struct models *m)
{
	size_t n = data_of(m)->n;
	if (m->norder == n)
		return true;
	size_t *o = realloc(m->order, (n ? n : 1) * sizeof *o);
	if (!o)
		return false;
	for (size_t i = m->norder; i < n; i++)
		o[i] = i;
	m->order = o;
	m->norder = n;
	sort(m);
	return true;
}

/* Column positions for a screen w wide: 80 columns get the base widths;
 * wider screens give the name up to 20 more, then family and type up to 8
 * more each, then the name up to 10 more, and the rest to the dtypes. */
static void layout(struct models *m, int w)
{
	static const int base[NCOLS] = {4, 20, 12, 10, 11, 7, 9};
	static const int grow[][2] = {
		{COL_NAME, 20}, {COL_FAMILY, 8}, {COL_TYPE, 8}, {COL_NAME, 10}};
	int width[NCOLS];
	memcpy(width, base, sizeof width);
	int extra = w - 80;
	for (size_t g = 0; g < sizeof grow / sizeof grow[0] && extra > 0; g++) {
		int n = extra < grow[g][1] ? extra : grow[g][1];
		width[grow[g][0]] += n;
		extra -= n;
	}
	if (extra > 0)
		width[COL_DTYPES] += extra;
	int x = 0;
	for (int i = 0; i < NCOLS; i++) {
		m->colx[i] = x;
		x += width[i] + 1;
	}
	m->colx[NCOLS] = x;
}

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct models *m = (struct models *)v;
	const struct mp_tui_data *d = data_of(m);
	if (!sync(m)) {
		mp_canvas_text(c, 0, 1, c->w, MP_STYLE_PLAIN, "out of memory");
		return;
	}
	layout(m, c->w);
	m->rows = c->h - 4;
	mp_list_clamp(&m->cur, &m->top, m->nshown, m->rows);
	for (int i = 0; i < NCOLS; i++) {
		int w = m->colx[i + 1] - m->colx[i] - 1;
		int n = mp_canvas_text(c, m->colx[i], 1, w, mp_style_head,
				       col_name[i]);
		if (i == m->sort_col)
			mp_canvas_put(c, m->colx[i] + n, 1,
				      v->app->caps.unicode
					      ? (m->reverse ? 0x25bcu : 0x25b2u)
					      : (m->reverse ? 'v' : '^'),
				      mp_style_head);
	}
	for (int r = 0; r < m->rows && m->top + (size_t)r < m->nshown; r++) {
		size_t i = m->top + (size_t)r;
		const struct mp_tui_model *mo = &d->models[m->order[i]];
		int y = 2 + r;
		struct mp_style st = i == m->cur ? mp_style_sel : MP_STYLE_PLAIN;
		if (i == m->cur)
			mp_canvas_fill(c, 0, y, c->w, 1, ' ', st);
		char pbuf[16];
		const char *cell[NCOLS] = {
			mo->id, mo->name, mo->family, mo->type, mo->format,
			mo->has_fp ? mp_tui_fmt_count(mo->params, pbuf) : "-",
			mo->dtypes};
		for (int k = 0; k < NCOLS; k++) {
			int w = m->colx[k + 1] - m->colx[k] - 1;
			if (k == COL_PARAMS) {
				int len = (int)strlen(cell[k]);
				mp_canvas_text(c, m->colx[k] + (w > len ? w - len : 0),
					       y, w, st, cell[k]);
			} else {
				mp_canvas_text(c, m->colx[k], y, w, st, cell[k]);
			}
		}
	}
	char mat[96];
	mp_canvas_printf(c, 0, c->h - 2, c->w, mp_style_dim,
			 "%zu models%s%s%s, sorted by %s%s | Enter: open  "
			 "s: sort  /: search  2: heatmap (%s)",
			 m->nshown, m->filter[0] ? " matching \"" : "",
			 m->filter, m->filter[0] ? "\"" : "",
			 col_name[m->sort_col],
			 m->reverse ? " (reversed)" : "",
			 mp_tui_matrix_name(v->app, mat, sizeof mat));
}

static void open_model(struct models *m)
{
	if (m->cur < m->nshown)
		mp_tui_push(m->base.app,
			    mp_view_detail_new(m->base.app, m->order[m->cur]));
}

static bool action(struct mp_view *v, enum mp_action a)
{
	struct models *m = (struct models *)v;
	if (!sync(m))
		return false;
	if (mp_list_move(&m->cur, &m->top, m->nshown, m->rows, a))
		return true;
	switch (a) {
	case MP_ACT_ENTER:
	case MP_ACT_RIGHT: open_model(m); return true;
	case MP_ACT_SORT:
		m->sort_col = (m->sort_col + 1) % NCOLS;
		m->reverse = m->sort_col == COL_PARAMS;
		sort(m);
		return true;
	case MP_ACT_SORT_REVERSE:
		m->reverse = !m->reverse;
		sort(m);
		return true;
	case MP_ACT_IDENTIFY:
		if (m->cur < m->nshown)
			mp_tui_identify_model(m->base.app, m->order[m->cur]);
		return true;
	default: return false;
	}
}

static void click(struct mp_view *v, int x, int y)
{
	struct models *m = (struct models *)v;
	if (!sync(m))
		return;
	if (y == 1) {
		for (int i = 0; i < NCOLS; i++)
			if (x >= m->colx[i] && x < m->colx[i + 1]) {
				m->reverse = m->sort_col == i ? !m->reverse
							      : i == COL_PARAMS;
				m->sort_col = i;
				sort(m);
			}
		return;
	}
	size_t i = m->top + (size_t)(y - 2);
	if (y >= 2 && y < 2 + m->rows && i < m->nshown) {
		if (i == m->cur)
			open_model(m);
		m->cur = i;
	}
}


static bool search(struct mp_view *v, const char *text, int dir)
{
	struct models *m = (struct models *)v;
	if (!sync(m) || !mp_list_search(&m->cur, m->nshown, dir, hit, m, text))
		return false;
	size_t n = m->nshown;
	mp_list_clamp(&m->cur, &m->top, n, m->rows);
	return true;
}

static void free_view(struct mp_view *v)
{
	struct models *m = (struct models *)v;
	if (!m)
		return;
	free(m->order);
	free(m);
}

static void filter(struct mp_view *v, const char *text)
{
	struct models *m = (struct models *)v;
	snprintf(m->filter, sizeof m->filter, "%s", text);
	sort(m);
	mp_list_clamp(&m->cur, &m->top, m->nshown, m->rows);
}

static const struct mp_view_ops ops = {"models", draw, action, click,
				       search, NULL, free_view};

struct mp_view *mp_view_models_new(struct mp_tui *t)
{
	struct models *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->base.ops = &ops;
	m->base.app = t;
	m->base.pos_cur = &m->cur;
	m->base.pos_n = &m->nshown;
	m->base.filter = filter;
	m->rows = 20;
	m->order = calloc(t->data->n ? t->data->n : 1, sizeof *m->order);
	if (!m->order) {
		free(m);
		return NULL;
	}
	m->norder = t->data->n;
	sort(m);
	m->cur = 0;
	return &m->base;
}
