/* view.c — the view stack, key dispatch, title and bottom lines, and the
 * helpers the views share. */
#include "view.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct mp_style mp_style_head = {MP_COLOR_DEFAULT, MP_COLOR_DEFAULT,
				       MP_ATTR_BOLD | MP_ATTR_UNDERLINE};
const struct mp_style mp_style_sel = {MP_COLOR_DEFAULT, MP_COLOR_DEFAULT,
				      MP_ATTR_REVERSE};
const struct mp_style mp_style_dim = {MP_COLOR_DEFAULT, MP_COLOR_DEFAULT,
				      MP_ATTR_DIM};

struct mp_tui *mp_tui_new(struct mp_tui_data *data, struct mp_caps caps)
{
	struct mp_tui *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->data = data;
	t->caps = caps;
	t->w = 80;
	t->h = 24;
	struct mp_view *v = mp_view_models_new(t);
	if (!v) {
		free(t);
		return NULL;
	}
	t->stack[t->depth++] = v;
	if (data->origin) /* where the data came from, until the first key */
		mp_tui_message(t, "%s", data->origin);
	return t;
}

void mp_tui_free(struct mp_tui *t)
{
	if (!t)
		return;
	while (t->depth > 0) {
		struct mp_view *v = t->stack[--t->depth];
		v->ops->free(v);
	}
	free(t);
}

void mp_tui_ask(struct mp_tui *t, char kind, const char *label)
{
	t->prompting = true;
	t->prompt_kind = kind;
	t->prompt[0] = '\0';
	snprintf(t->prompt_label, sizeof t->prompt_label, "%s", label);
}

void mp_tui_message(struct mp_tui *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->message, sizeof t->message, fmt, ap);
	va_end(ap);
}

void mp_tui_busy(struct mp_tui *t, const char *what)
{
	if (t->busy)
		t->busy(t->busy_ctx, what);
}

void mp_tui_push(struct mp_tui *t, struct mp_view *v)
{
	if (!v) {
		mp_tui_message(t, "out of memory");
		return;
	}
	if (t->depth == MP_VIEW_DEPTH) { /* forget the oldest view */
		t->stack[0]->ops->free(t->stack[0]);
		memmove(t->stack, t->stack + 1,
			(size_t)(t->depth - 1) * sizeof *t->stack);
		t->depth--;
	}
	t->stack[t->depth++] = v;
}

void mp_tui_pop(struct mp_tui *t)
{
	if (t->depth <= 1)
		return;
	struct mp_view *v = t->stack[--t->depth];
	v->ops->free(v);
}

static struct mp_view *top(struct mp_tui *t)
{
	return t->stack[t->depth - 1];
}

const struct mp_simmatrix *mp_tui_matrix(const struct mp_tui *t)
{
	return t->data->m;
}

const char *mp_tui_matrix_name(const struct mp_tui *t, char *buf, size_t size)
{
	const struct mp_simmatrix *m = mp_tui_matrix(t);
	if (!m)
		snprintf(buf, size, "no matrix");
	else
		snprintf(buf, size, "%s/%s", m->method, m->metric);
	return buf;
}

bool mp_tui_select_matrix(struct mp_tui *t, size_t k)
{
	mp_tui_busy(t, "reading the matrix");
	struct mp_error err;
	if (mp_tui_data_select(t->data, k, NULL, &err) != MP_OK) {
		mp_tui_message(t, "%s", err.msg);
		return false;
	}
	for (int i = 0; i < t->depth; i++)
		if (t->stack[i]->ops->matrix_changed)
			t->stack[i]->ops->matrix_changed(t->stack[i]);
	return true;
}

static void run_search(struct mp_tui *t, int dir)
{
	struct mp_view *v = top(t);
	if (!t->search[0])
		mp_tui_message(t, "no search yet: press /");
	else if (!v->ops->search)
		mp_tui_message(t, "nothing to search in this view");
	else if (!v->ops->search(v, t->search, dir))
		mp_tui_message(t, "not found: %s", t->search);
}

static void prompt_key(struct mp_tui *t, int key)
{
	size_t n = strlen(t->prompt);
	struct mp_view *v = top(t);
	bool filter = t->prompt_kind == '|';
	if (key == MP_KEY_ESC) {
		t->prompting = false;
		if (filter)
			v->filter(v, "");
		return;
	} else if (key == MP_KEY_ENTER) {
		t->prompting = false;
		if (filter)
			return;
		if (t->prompt_kind != '/') {
			if (v->answer)
				v->answer(v, t->prompt_kind, t->prompt);
			return;
		}
		if (t->prompt[0])
			memcpy(t->search, t->prompt, sizeof t->search);
		run_search(t, MP_SEARCH_FROM);
		return;
	} else if (key == MP_KEY_BACKSPACE || key == 0x7f || key == 8) {
		while (n > 0 && (t->prompt[n - 1] & 0xc0) == 0x80)
			n--; /* a whole UTF-8 character */
		if (n > 0)
			t->prompt[n - 1] = '\0';
	} else if (key >= 0x20 && key < 0x110000) {
		char u[5];
		int len = mp_utf8_put((uint32_t)key, u);
		if (n + (size_t)len < sizeof t->prompt) {
			memcpy(t->prompt + n, u, (size_t)len);
			t->prompt[n + (size_t)len] = '\0';
		}
	}
	if (filter)
		v->filter(v, t->prompt);
}

/* The name of the view an action 1-5 opens. */
static const char *view_name(enum mp_action a)
{
	switch (a) {
	case MP_ACT_VIEW_MODELS:
		return "models";
	case MP_ACT_VIEW_HEATMAP:
		return "heatmap";
	case MP_ACT_VIEW_STATS:
		return "stats";
	case MP_ACT_VIEW_CLUSTERS:
		return "clusters";
	default:
		return "pairs";
	}
}

/* 1-5 push the view asked for (unless it is the one shown), so that Esc
 * walks back through the views actually visited. */
static void switch_view(struct mp_tui *t, enum mp_action a)
{
	if (!strcmp(top(t)->ops->name, view_name(a)))
		return;
	if (a == MP_ACT_VIEW_MODELS)
		mp_tui_push(t, mp_view_models_new(t));
	else if (!mp_tui_matrix(t))
		mp_tui_message(t, "no similarity matrix: give --results");
	else if (a == MP_ACT_VIEW_HEATMAP)
		mp_tui_push(t, mp_view_heatmap_new(t));
	else if (a == MP_ACT_VIEW_STATS)
		mp_tui_push(t, mp_view_stats_new(t));
	else if (a == MP_ACT_VIEW_CLUSTERS)
		mp_tui_push(t, mp_view_cluster_new(t));
	else
		mp_tui_push(t, mp_view_pairs_new(t, -1, 0));
}

void mp_tui_key(struct mp_tui *t, int key)
{
	if (key == MP_KEY_RESIZE || key == MP_KEY_MOUSE)
		return;
	if ((key == MP_KEY_WHEEL_UP || key == MP_KEY_WHEEL_DOWN) &&
	    !t->prompting) { /* three rows a notch */
		mp_tui_key(t, key == MP_KEY_WHEEL_UP ? MP_KEY_UP : MP_KEY_DOWN);
		mp_tui_key(t, key == MP_KEY_WHEEL_UP ? MP_KEY_UP : MP_KEY_DOWN);
		key = key == MP_KEY_WHEEL_UP ? MP_KEY_UP : MP_KEY_DOWN;
	}
	t->message[0] = '\0';
	if (t->prompting) {
		prompt_key(t, key);
		return;
	}
	struct mp_view *v = top(t);
	enum mp_action a = mp_action_for(key, v->ops->name);
	switch (a) {
	case MP_ACT_NONE: {
		char buf[8];
		mp_tui_message(t, "key %s does nothing here; ? shows the keys",
			       mp_key_name(key, buf));
		return;
	}
	case MP_ACT_QUIT:
		if (t->depth > 1)
			mp_tui_pop(t);
		else
			t->quit = true;
		return;
	case MP_ACT_QUIT_ALL: t->quit = true; return;
	case MP_ACT_HELP:
		if (strcmp(v->ops->name, "help"))
			mp_tui_push(t, mp_view_help_new(t));
		return;
	case MP_ACT_VIEW_MODELS:
	case MP_ACT_VIEW_HEATMAP:
	case MP_ACT_VIEW_STATS:
	case MP_ACT_VIEW_CLUSTERS:
	case MP_ACT_VIEW_PAIRS: switch_view(t, a); return;
	case MP_ACT_LIST_FILTER:
		if (!v->filter) {
			mp_tui_message(t, "nothing to filter in this view");
			return;
		}
		/* fall through */
	case MP_ACT_SEARCH:
		t->prompting = true;
		t->prompt_kind = a == MP_ACT_SEARCH ? '/' : '|';
		t->prompt[0] = '\0';
		if (v->filter && a == MP_ACT_LIST_FILTER)
			v->filter(v, "");
		return;
	case MP_ACT_SEARCH_NEXT: run_search(t, MP_SEARCH_NEXT); return;
	case MP_ACT_SEARCH_PREV: run_search(t, MP_SEARCH_PREV); return;
	case MP_ACT_REDRAW: return;
	case MP_ACT_METRIC:
	case MP_ACT_MATRIX_PREV:
		if (t->data->nmats < 2) {
			mp_tui_message(t, "the results file has %zu matrix",
				       t->data->nmats);
			return;
		}
		mp_tui_select_matrix(t, (t->data->cur + (a == MP_ACT_METRIC
							  ? 1 : t->data->nmats - 1)) %
					       t->data->nmats);
		return;
	case MP_ACT_MATRIX_PICK:
		if (!t->data->nmats)
			mp_tui_message(t, "no similarity matrix: give --results");
		else if (strcmp(v->ops->name, "matrices"))
			mp_tui_push(t, mp_view_matrices_new(t));
		return;
	default: break;
	}
	if (v->ops->action(v, a))
		return;
	if (a == MP_ACT_BACK || a == MP_ACT_LEFT)
		mp_tui_pop(t);
}

void mp_tui_click(struct mp_tui *t, int x, int y)
{
	struct mp_view *v = top(t);
	t->message[0] = '\0';
	if (v->ops->click)
		v->ops->click(v, x, y);
}

static uint32_t fold(uint32_t ch)
{
	return ch < 0x80 ? (uint32_t)tolower((int)ch) : ch;
}

/* Mark every occurrence of text (case-insensitive) in the rows the view
 * drew: yellow background in colour, bold underline without. */
static void highlight(const struct mp_tui *t, struct mp_canvas *c,
		      const char *text)
{
	uint32_t want[128];
	size_t n = 0;
	for (const unsigned char *s = (const unsigned char *)text;
	     *s && n < sizeof want / sizeof want[0]; n++) {
		uint32_t cp = *s++;
		int more = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : cp >= 0xc0 ? 1 : 0;
		cp &= more ? 0x3fu >> more : 0x7fu;
		for (; more && (*s & 0xc0) == 0x80; more--)
			cp = cp << 6 | (*s++ & 0x3fu);
		want[n] = fold(cp);
	}
	if (n == 0 || (size_t)c->w < n)
		return;
	for (int y = 1; y < c->h - 1; y++) {
		struct mp_cell *row = c->cells + (size_t)y * (size_t)c->w;
		for (size_t x = 0; x + n <= (size_t)c->w; x++) {
			size_t k = 0;
			while (k < n && fold(row[x + k].ch) == want[k])
				k++;
			if (k < n)
				continue;
			for (k = 0; k < n; k++, x++) {
				struct mp_style *st = &row[x].st;
				if (t->caps.colors) {
					st->fg = 0;
					st->bg = 3;
				}
				st->attr |= MP_ATTR_BOLD | MP_ATTR_UNDERLINE;
			}
			x--;
		}
	}
}

void mp_tui_draw(struct mp_tui *t, struct mp_canvas *c)
{
	struct mp_view *v = top(t);
	t->w = c->w;
	t->h = c->h;
	mp_canvas_clear(c);
	v->ops->draw(v, c);
	char mat[96];
	mp_canvas_fill(c, 0, 0, c->w, 1, ' ', mp_style_sel);
	int x = mp_canvas_printf(c, 0, 0, c->w, mp_style_sel,
				 " modelprint | %s | %s", v->ops->name,
				 mp_tui_matrix_name(t, mat, sizeof mat));
	if (t->data->nmats > 1)
		mp_canvas_printf(c, x, 0, c->w - x, mp_style_sel, " (%zu/%zu)",
				 t->data->cur + 1, t->data->nmats);
	const char *hint = "?:help q:quit ";
	int hl = (int)strlen(hint);
	if (c->w - hl > x + 12)
		mp_canvas_text(c, c->w - hl, 0, hl, mp_style_sel, hint);
	int y = c->h - 1;
	mp_canvas_fill(c, 0, y, c->w, 1, ' ', MP_STYLE_PLAIN);
	int used = 0;
	if (t->prompting) {
		bool own = t->prompt_kind != '/' && t->prompt_kind != '|';
		if (own)
			used = mp_canvas_printf(c, 0, y, c->w, MP_STYLE_PLAIN,
						"%s%s", t->prompt_label,
						t->prompt);
		else
			used = mp_canvas_printf(c, 0, y, c->w, MP_STYLE_PLAIN,
						"%c%s", t->prompt_kind,
						t->prompt);
		mp_canvas_put(c, used++, y, ' ', mp_style_sel);
	} else if (t->message[0]) {
		used = mp_canvas_text(c, 0, y, c->w, MP_STYLE_PLAIN, t->message);
	}
	if (v->pos_cur && v->pos_n) {
		char pos[48];
		int n = snprintf(pos, sizeof pos, "%zu/%zu",
				 *v->pos_n ? *v->pos_cur + 1 : 0, *v->pos_n);
		if (c->w - n > used + 1)
			mp_canvas_text(c, c->w - n, y, n, MP_STYLE_PLAIN, pos);
	}
	highlight(t, c,
		  t->prompting && t->prompt_kind == '/' ? t->prompt
		  : t->prompting                        ? ""
							: t->search);
}

bool mp_list_move(size_t *cur, size_t *top_, size_t n, int rows,
		  enum mp_action a)
{
	size_t page = rows > 1 ? (size_t)rows - 1 : 1;
	size_t half = rows > 1 ? (size_t)rows / 2 : 1;
	switch (a) {
	case MP_ACT_HALF_UP: *cur = *cur > half ? *cur - half : 0; break;
	case MP_ACT_HALF_DOWN:
		*cur = n == 0 ? 0 : *cur + half < n ? *cur + half : n - 1;
		break;
	case MP_ACT_UP: if (*cur > 0) (*cur)--; break;
	case MP_ACT_DOWN: if (*cur + 1 < n) (*cur)++; break;
	case MP_ACT_PAGE_UP: *cur = *cur > page ? *cur - page : 0; break;
	case MP_ACT_PAGE_DOWN:
		*cur = n == 0 ? 0 : *cur + page < n ? *cur + page : n - 1;
		break;
	case MP_ACT_TOP: *cur = 0; break;
	case MP_ACT_BOTTOM: *cur = n ? n - 1 : 0; break;
	default: return false;
	}
	mp_list_clamp(cur, top_, n, rows);
	return true;
}

void mp_list_clamp(size_t *cur, size_t *top_, size_t n, int rows)
{
	if (rows < 1)
		rows = 1;
	if (*cur >= n)
		*cur = n ? n - 1 : 0;
	if (*cur < *top_)
		*top_ = *cur;
	if (*cur >= *top_ + (size_t)rows)
		*top_ = *cur - (size_t)rows + 1;
	if (n > (size_t)rows && *top_ > n - (size_t)rows)
		*top_ = n - (size_t)rows;
	if (n <= (size_t)rows)
		*top_ = 0;
}

bool mp_list_search(size_t *cur, size_t n, int dir,
		    bool (*hit)(const void *ctx, size_t i, const char *text),
		    const void *ctx, const char *text)
{
	for (size_t k = dir ? 1 : 0; k <= n && n; k++) {
		size_t i = dir < 0 ? (*cur % n + n - k % n) % n : (*cur + k) % n;
		if (hit(ctx, i, text)) {
			*cur = i;
			return true;
		}
	}
	return false;
}

bool mp_list_click(size_t *cur, size_t top, size_t n, int rows, int y0,
		   int y)
{
	size_t i = top + (size_t)(y - y0);
	if (y < y0 || y >= y0 + rows || i >= n)
		return false;
	if (i == *cur)
		return true;
	*cur = i;
	return false;
}

void *mp_tui_grow(void *arr, size_t *n, size_t *cap, size_t size)
{
	void **a = arr;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *p = realloc(*a, nc * size);
		if (!p)
			return NULL;
		*a = p;
		*cap = nc;
	}
	char *e = (char *)*a + (*n)++ * size;
	memset(e, 0, size);
	return e;
}

bool mp_tui_match(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] &&
		       tolower((unsigned char)hay[i]) ==
			       tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return n == 0;
}

char mp_tui_plain_ramp(double t)
{
	static const char ramp[] = " .:-=+*#%@";
	if (!(t > 0))
		return ramp[0];
	int i = (int)(t * 9 + 0.5);
	return ramp[i > 9 ? 9 : i];
}

/* viridis at nine evenly spaced points */
static const unsigned char viridis[9][3] = {
	{68, 1, 84},    {71, 45, 123},  {59, 82, 139},
	{44, 114, 142}, {33, 145, 140}, {40, 174, 128},
	{94, 201, 98},  {173, 220, 48}, {253, 231, 37}};

static int cube_level(int v)
{
	static const int lv[6] = {0, 95, 135, 175, 215, 255};
	int best = 0;
	for (int i = 1; i < 6; i++)
		if (abs(lv[i] - v) < abs(lv[best] - v))
			best = i;
	return best;
}

uint32_t mp_tui_ramp_color(const struct mp_caps *caps, double t)
{
	if (!(t >= 0))
		t = 0;
	if (t > 1)
		t = 1;
	if (caps->colors < 256) {
		static const uint32_t basic[4] = {4, 6, 2, 3};
		int i = (int)(t * 4);
		return caps->colors ? basic[i > 3 ? 3 : i] : MP_COLOR_DEFAULT;
	}
	double p = t * 8;
	int i = (int)p;
	if (i > 7)
		i = 7;
	double f = p - i;
	int rgb[3];
	for (int k = 0; k < 3; k++)
		rgb[k] = (int)lround(viridis[i][k] * (1 - f) +
				     viridis[i + 1][k] * f);
	if (caps->truecolor)
		return MP_RGB(rgb[0], rgb[1], rgb[2]);
	return 16u + 36u * (uint32_t)cube_level(rgb[0]) +
	       6u * (uint32_t)cube_level(rgb[1]) +
	       (uint32_t)cube_level(rgb[2]);
}

uint32_t mp_tui_bar_char(const struct mp_caps *caps, double t)
{
	if (!caps->unicode)
		return (uint32_t)mp_tui_plain_ramp(t);
	if (!(t > 0))
		return ' ';
	int l = (int)ceil(t * 8);
	return 0x2580u + (uint32_t)(l > 8 ? 8 : l);
}
