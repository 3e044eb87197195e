/* view_heatmap.c — the current similarity matrix as coloured cells (two
 * rows per cell with half blocks where the terminal has colour), a legend,
 * and the cursor's pair with its exact value. Zoom in gives an entry
 * several cells; zoom out makes a cell the mean of a block of entries
 * (sampled on at most an 8 x 8 grid so a frame costs the same at any size).
 * Rows are ordered by family or by average-linkage clustering. */
#include "cluster.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZOOM_MIN -8
#define ZOOM_MAX 3
#define LABEL_W 16

struct heatmap {
	struct mp_view base;
	const struct mp_simmatrix *m;
	size_t n;
	size_t *ord; /* [n] matrix row at each display position */
	size_t *pos; /* [n] display position of each matrix row */
	bool clustered;
	int zoom;
	size_t cx, cy, ox, oy; /* cursor and origin, display positions */
	double vmin, vmax;
	size_t keep_r, keep_c; /* model indices under the cursor */
	int gw, gsub;          /* grid size at the last draw: columns, sub-rows */
};

static void remember(struct heatmap *h);

static bool halfblock(const struct heatmap *h)
{
	return h->base.app->caps.colors >= 256 && h->base.app->caps.unicode;
}

static const struct mp_tui_model *model_at(const struct heatmap *h,
					   size_t row)
{
	const struct mp_tui *t = h->base.app;
	return &t->data->models[t->data->row_model[row]];
}

/* 0 = least alike .. 1 = most alike, whatever the direction; NAN for null */
static double alike(const struct heatmap *h, double v)
{
	if (isnan(v))
		return NAN;
	double span = h->vmax - h->vmin;
	if (!(span > 0))
		return 1;
	return h->m->higher_is_more_alike ? (v - h->vmin) / span
					  : (h->vmax - v) / span;
}

/* Distances for clustering: 0 for the most alike value, nulls farthest. */
static mp_status cluster_order(struct heatmap *h, struct mp_error *err)
{
	size_t n = h->n;
	double *d = malloc(n * n * sizeof *d);
	struct mp_merge *mg = malloc((n > 1 ? n - 1 : 1) * sizeof *mg);
	if (!d || !mg) {
		free(d);
		free(mg);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double a = alike(h, h->m->value[i * n + j]);
			double b = alike(h, h->m->value[j * n + i]);
			double x = isnan(a) ? 0 : a, y = isnan(b) ? 0 : b;
			d[i * n + j] = 1 - (x + y) / 2;
		}
	mp_status st = mp_cluster_average(d, n, mg, h->ord, err);
	free(d);
	free(mg);
	return st;
}

static int cmp_str(const char *a, const char *b)
{
	if (!*a != !*b) /* unknown families last */
		return *a ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_family(const void *pa, const void *pb, void *ctx)
{
	const struct heatmap *h = ctx;
	size_t ra = *(const size_t *)pa, rb = *(const size_t *)pb;
	const struct mp_tui_model *a = model_at(h, ra), *b = model_at(h, rb);
	int c = cmp_str(a->family, b->family);
	if (!c)
		c = cmp_str(a->type, b->type);
	if (!c)
		c = strcmp(a->name, b->name);
	return c ? c : ra < rb ? -1 : ra > rb;
}

static void reorder(struct heatmap *h)
{
	size_t kr = h->n ? h->ord[h->cy] : 0, kc = h->n ? h->ord[h->cx] : 0;
	bool fam = !h->clustered;
	if (h->clustered) {
		struct mp_error err;
		mp_tui_busy(h->base.app, "clustering");
		if (cluster_order(h, &err) != MP_OK) {
			mp_tui_message(h->base.app, "%s", err.msg);
			h->clustered = false;
			fam = true;
		}
	}
	if (fam) {
		for (size_t i = 0; i < h->n; i++)
			h->ord[i] = i;
		qsort_r(h->ord, h->n, sizeof *h->ord, cmp_family, h);
	}
	for (size_t i = 0; i < h->n; i++)
		h->pos[h->ord[i]] = i;
	if (h->n) {
		h->cy = h->pos[kr];
		h->cx = h->pos[kc];
	}
}

/* Take the current matrix: range, order, cursor on the same models. */
static bool load_matrix(struct heatmap *h)
{
	const struct mp_tui *t = h->base.app;
	const struct mp_simmatrix *m = mp_tui_matrix(t);
	size_t *ord = malloc((m->n ? m->n : 1) * sizeof *ord);
	size_t *pos = malloc((m->n ? m->n : 1) * sizeof *pos);
	if (!ord || !pos) {
		free(ord);
		free(pos);
		return false;
	}
	free(h->ord);
	free(h->pos);
	h->ord = ord;
	h->pos = pos;
	h->m = m;
	h->n = m->n;
	h->vmin = INFINITY;
	h->vmax = -INFINITY;
	for (size_t i = 0; i < m->n * m->n; i++)
		if (!isnan(m->value[i])) {
			h->vmin = fmin(h->vmin, m->value[i]);
			h->vmax = fmax(h->vmax, m->value[i]);
		}
	for (size_t i = 0; i < h->n; i++)
		ord[i] = pos[i] = i;
	h->cx = h->cy = 0;
	reorder(h);
	h->cx = h->cy = 0;
	long r = mp_tui_data_row(t->data, h->keep_r);
	long c = mp_tui_data_row(t->data, h->keep_c);
	if (r >= 0 && c >= 0) {
		h->cy = h->pos[r];
		h->cx = h->pos[c];
	}
	return true;
}

/* Entries per cell (zoom out) and cells per entry (zoom in). */
static size_t block(const struct heatmap *h)
{
	return h->zoom < 0 ? (size_t)1 << -h->zoom : 1;
}
static size_t span(const struct heatmap *h)
{
	return h->zoom > 0 ? (size_t)1 << h->zoom : 1;
}

/* Entries visible across `cells` cells (or sub-rows). */
static size_t visible(const struct heatmap *h, int cells)
{
	size_t c = cells > 0 ? (size_t)cells : 1;
	return h->zoom >= 0 ? (c / span(h) ? c / span(h) : 1) : c * block(h);
}

static void keep_cursor_visible(struct heatmap *h)
{
	size_t vw = visible(h, h->gw), vh = visible(h, h->gsub);
	if (h->cx < h->ox)
		h->ox = h->cx;
	if (h->cx >= h->ox + vw)
		h->ox = h->cx - vw + 1;
	if (h->cy < h->oy)
		h->oy = h->cy;
	if (h->cy >= h->oy + vh)
		h->oy = h->cy - vh + 1;
	size_t b = block(h); /* origins on block boundaries when zoomed out */
	h->ox -= h->ox % b;
	h->oy -= h->oy % b;
}

/* Display position of grid cell x (or sub-row y) from origin o; SIZE_MAX
 * past the end. */
static size_t entry_at(const struct heatmap *h, size_t o, int x)
{
	size_t e = h->zoom >= 0 ? o + (size_t)x / span(h)
				: o + (size_t)x * block(h);
	return e < h->n ? e : SIZE_MAX;
}

/* alike() of the cell whose first entry is (r, c) in display order. */
static double cell_value(const struct heatmap *h, size_t r, size_t c)
{
	size_t n = h->n, b = block(h);
	if (b == 1)
		return alike(h, h->m->value[h->ord[r] * n + h->ord[c]]);
	size_t step = b > 8 ? b / 8 : 1;
	double sum = 0;
	size_t k = 0;
	for (size_t i = r; i < r + b && i < n; i += step) {
		const double *row = h->m->value + h->ord[i] * n;
		for (size_t j = c; j < c + b && j < n; j += step) {
			double v = row[h->ord[j]];
			if (!isnan(v)) {
				sum += v;
				k++;
			}
		}
	}
	return k ? alike(h, sum / (double)k) : NAN;
}

static bool in_cell(const struct heatmap *h, size_t e, size_t cur)
{
	return cur >= e && cur < e + block(h);
}

static uint32_t null_color(const struct mp_caps *caps)
{
	return caps->truecolor ? MP_RGB(128, 128, 128) : 244;
}

static void draw_grid(struct heatmap *h, struct mp_canvas *c, int x0, int y0,
		      int rows)
{
	const struct mp_caps *caps = &h->base.app->caps;
	bool hb = halfblock(h);
	int sub = hb ? 2 : 1;
	for (int y = 0; y < rows; y++) {
		size_t r[2];
		for (int k = 0; k < sub; k++)
			r[k] = entry_at(h, h->oy, y * sub + k);
		if (r[0] == SIZE_MAX)
			break;
		for (int x = 0; x < h->gw; x++) {
			size_t col = entry_at(h, h->ox, x);
			if (col == SIZE_MAX)
				break;
			double t[2];
			bool cursor = in_cell(h, col, h->cx) &&
				      (in_cell(h, r[0], h->cy) ||
				       (hb && r[1] != SIZE_MAX &&
					in_cell(h, r[1], h->cy)));
			for (int k = 0; k < sub; k++)
				t[k] = r[k] == SIZE_MAX ? -1
							: cell_value(h, r[k], col);
			struct mp_style st = MP_STYLE_PLAIN;
			uint32_t ch;
			if (hb) {
				st.fg = isnan(t[0]) ? null_color(caps)
						    : mp_tui_ramp_color(caps, t[0]);
				st.bg = t[1] < 0 ? MP_COLOR_DEFAULT
				      : isnan(t[1]) ? null_color(caps)
						    : mp_tui_ramp_color(caps, t[1]);
				ch = 0x2580; /* upper half block */
				if (cursor) {
					ch = '+';
					st = (struct mp_style){16, 231, MP_ATTR_BOLD};
				}
			} else {
				ch = isnan(t[0]) ? '?'
						 : (uint32_t)mp_tui_plain_ramp(t[0]);
				if (caps->colors && !isnan(t[0]))
					st.fg = mp_tui_ramp_color(caps, t[0]);
				if (cursor)
					st.attr = MP_ATTR_REVERSE;
			}
			mp_canvas_put(c, x0 + x, y0 + y, ch, st);
		}
		size_t lr = r[0];
		bool cur_row = in_cell(h, lr, h->cy) ||
			       (hb && r[1] != SIZE_MAX && in_cell(h, r[1], h->cy));
		if (cur_row)
			lr = h->cy;
		mp_canvas_text(c, 0, y0 + y, LABEL_W - 1,
			       cur_row ? mp_style_sel : MP_STYLE_PLAIN,
			       model_at(h, h->ord[lr])->name);
	}
}

static void draw_legend(struct heatmap *h, struct mp_canvas *c, int y)
{
	const struct mp_caps *caps = &h->base.app->caps;
	int x = mp_canvas_text(c, 0, y, c->w, MP_STYLE_PLAIN, "less ");
	for (int i = 0; i < 16; i++) {
		double t = i / 15.0;
		struct mp_style st = MP_STYLE_PLAIN;
		uint32_t ch = (uint32_t)mp_tui_plain_ramp(t);
		if (caps->colors >= 256) {
			st.bg = mp_tui_ramp_color(caps, t);
			ch = ' ';
		} else if (caps->colors) {
			st.fg = mp_tui_ramp_color(caps, t);
		}
		mp_canvas_put(c, x++, y, ch, st);
	}
	bool hi = h->m->higher_is_more_alike;
	x += mp_canvas_printf(c, x, y, c->w - x, MP_STYLE_PLAIN,
			      " more alike  %.4g..%.4g%s", hi ? h->vmin : h->vmax,
			      hi ? h->vmax : h->vmin,
			      hi ? "" : " (lower = more alike)");
	struct mp_style ns = MP_STYLE_PLAIN;
	uint32_t nch = '?';
	if (halfblock(h)) {
		ns.bg = null_color(caps);
		nch = ' ';
	}
	if (x + 8 < c->w) {
		mp_canvas_put(c, x + 2, y, nch, ns);
		mp_canvas_text(c, x + 3, y, c->w, MP_STYLE_PLAIN, "=null");
	}
}

static void draw_status(struct heatmap *h, struct mp_canvas *c, int y)
{
	size_t r = h->ord[h->cy], col = h->ord[h->cx];
	const struct mp_tui_model *a = model_at(h, r), *b = model_at(h, col);
	double v = h->m->value[r * h->n + col];
	const char *why = h->m->reason ? h->m->reason[r * h->n + col] : NULL;
	char val[96];
	if (isnan(v))
		snprintf(val, sizeof val, "null (%s)", why ? why : "undefined");
	else /* the shortest text that reads back as the same double */
		for (int prec = 6; prec <= 17; prec++) {
			snprintf(val, sizeof val, "%.*g", prec, v);
			if (strtod(val, NULL) == v)
				break;
		}
	char est[96];
	int x = mp_canvas_printf(c, 0, y, c->w, mp_style_head, "%s = %s",
				 h->m->metric, val);
	mp_canvas_printf(c, x, y, c->w - x, mp_style_dim, "  %s",
			 mp_simmatrix_estimate_phrase(h->m, est, sizeof est));
	mp_canvas_printf(c, 0, y + 1, c->w, MP_STYLE_PLAIN,
			 "row %s %s (%s) x col %s %s (%s)", a->id, a->name,
			 a->family, b->id, b->name, b->family);
}

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct heatmap *h = (struct heatmap *)v;
	int rows = c->h - 6;
	h->gw = c->w - LABEL_W;
	h->gsub = rows * (halfblock(h) ? 2 : 1);
	if (rows < 1 || h->gw < 1 || h->n == 0)
		return;
	keep_cursor_visible(h);
	remember(h);
	size_t b = block(h), s = span(h);
	char zoom[16];
	snprintf(zoom, sizeof zoom, b > 1 ? "1:%zu" : "%zu:1", b > 1 ? b : s);
	mp_canvas_printf(c, 0, 1, LABEL_W - 1, mp_style_dim, "%s %s",
			 h->clustered ? "cluster" : "family", zoom);
	for (int x = 0; x < h->gw; x++) {
		size_t e = entry_at(h, h->ox, x);
		if (e != SIZE_MAX && in_cell(h, e, h->cx)) {
			mp_canvas_put(c, LABEL_W + x, 1,
				      v->app->caps.unicode ? 0x25bcu : 'v',
				      MP_STYLE_PLAIN);
			break;
		}
	}
	draw_grid(h, c, LABEL_W, 2, rows);
	draw_legend(h, c, c->h - 4);
	draw_status(h, c, c->h - 3);
}

static void step(size_t *x, long d, size_t n)
{
	long v = (long)*x + d;
	*x = v < 0 ? 0 : (size_t)v >= n ? n - 1 : (size_t)v;
}

static void remember(struct heatmap *h)
{
	const struct mp_tui *t = h->base.app;
	h->keep_r = t->data->row_model[h->ord[h->cy]];
	h->keep_c = t->data->row_model[h->ord[h->cx]];
}

static bool action(struct mp_view *v, enum mp_action a)
{
	struct heatmap *h = (struct heatmap *)v;
	if (h->n == 0)
		return false;
	long b = (long)block(h);
	long page = (long)visible(h, h->gsub);
	switch (a) {
	case MP_ACT_UP: step(&h->cy, -b, h->n); break;
	case MP_ACT_DOWN: step(&h->cy, b, h->n); break;
	case MP_ACT_LEFT:
		if (h->cx == 0)
			return false; /* back */
		step(&h->cx, -b, h->n);
		break;
	case MP_ACT_RIGHT: step(&h->cx, b, h->n); break;
	case MP_ACT_PAGE_UP: step(&h->cy, -page, h->n); break;
	case MP_ACT_PAGE_DOWN: step(&h->cy, page, h->n); break;
	case MP_ACT_TOP: h->cx = h->cy = 0; break;
	case MP_ACT_BOTTOM: h->cx = h->cy = h->n - 1; break;
	case MP_ACT_ZOOM_IN: if (h->zoom < ZOOM_MAX) h->zoom++; break;
	case MP_ACT_ZOOM_OUT:
		if (h->zoom > ZOOM_MIN && visible(h, h->gw) < h->n)
			h->zoom--;
		break;
	case MP_ACT_ORDER:
		h->clustered = !h->clustered;
		reorder(h);
		break;
	case MP_ACT_ENTER:
		mp_tui_push(v->app, mp_view_detail_new(v->app, h->keep_r));
		break;
	default: return false;
	}
	remember(h);
	return true;
}

static void click(struct mp_view *v, int x, int y)
{
	struct heatmap *h = (struct heatmap *)v;
	int sub = halfblock(h) ? 2 : 1;
	int rows = h->gsub / sub;
	if (h->n == 0 || y < 2 || y >= 2 + rows || x >= LABEL_W + h->gw)
		return;
	size_t r = entry_at(h, h->oy, (y - 2) * sub);
	if (r == SIZE_MAX)
		return;
	h->cy = r;
	if (x >= LABEL_W) {
		size_t col = entry_at(h, h->ox, x - LABEL_W);
		if (col != SIZE_MAX)
			h->cx = col;
	}
	remember(h);
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct heatmap *h = ctx;
	const struct mp_tui_model *mo = model_at(h, h->ord[i]);
	return mp_tui_match(mo->name, text) || mp_tui_match(mo->id, text);
}

static bool search(struct mp_view *v, const char *text, int dir)
{
	struct heatmap *h = (struct heatmap *)v;
	if (!mp_list_search(&h->cy, h->n, dir, hit, h, text))
		return false;
	remember(h);
	return true;
}

static void matrix_changed(struct mp_view *v)
{
	if (!load_matrix((struct heatmap *)v))
		mp_tui_message(v->app, "out of memory");
}

static void free_view(struct mp_view *v)
{
	struct heatmap *h = (struct heatmap *)v;
	if (!h)
		return;
	free(h->ord);
	free(h->pos);
	free(h);
}

static const struct mp_view_ops ops = {"heatmap", draw, action, click,
				       search, matrix_changed, free_view};

struct mp_view *mp_view_heatmap_new(struct mp_tui *t)
{
	if (!mp_tui_matrix(t))
		return NULL;
	struct heatmap *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->base.ops = &ops;
	h->base.app = t;
	h->gw = 64;
	h->gsub = 36;
	h->keep_r = h->keep_c = SIZE_MAX;
	if (!load_matrix(h)) {
		free_view(&h->base);
		return NULL;
	}
	return &h->base;
}
