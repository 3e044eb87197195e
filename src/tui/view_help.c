/* view_help.c — every key of the key table, grouped by where it applies. */
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct help {
	struct mp_view base;
	size_t top, n;
	int rows;
	char (*lines)[128];
};

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct help *h = (struct help *)v;
	h->rows = c->h - 3;
	for (int r = 0; r < h->rows && h->top + (size_t)r < h->n; r++) {
		const char *s = h->lines[h->top + (size_t)r];
		bool head = s[0] != ' ' && s[0];
		mp_canvas_text(c, 0, 1 + r, c->w,
			       head ? mp_style_head : MP_STYLE_PLAIN, s);
	}
	mp_canvas_text(c, 0, c->h - 2, c->w, mp_style_dim,
		       "j/k: scroll  q, Esc: back  Q: quit");
}

static bool action(struct mp_view *v, enum mp_action a)
{
	struct help *h = (struct help *)v;
	size_t page = h->rows > 1 ? (size_t)h->rows - 1 : 1;
	switch (a) {
	case MP_ACT_UP: h->top -= h->top > 0; break;
	case MP_ACT_DOWN: h->top++; break;
	case MP_ACT_PAGE_UP: h->top = h->top > page ? h->top - page : 0; break;
	case MP_ACT_PAGE_DOWN: h->top += page; break;
	case MP_ACT_HALF_UP: h->top = h->top > page / 2 ? h->top - page / 2 : 0; break;
	case MP_ACT_HALF_DOWN: h->top += page / 2 + 1; break;
	case MP_ACT_TOP: h->top = 0; break;
	case MP_ACT_BOTTOM: h->top = h->n; break;
	default: return false;
	}
	if (h->top + (size_t)h->rows > h->n)
		h->top = h->n > (size_t)h->rows ? h->n - (size_t)h->rows : 0;
	return true;
}

static void free_view(struct mp_view *v)
{
	struct help *h = (struct help *)v;
	if (!h)
		return;
	free(h->lines);
	free(h);
}

static const struct mp_view_ops ops = {"help", draw, action, NULL, NULL,
				       NULL, free_view};

static const char *const scope_title[][2] = {
	{"all", "Everywhere"}, {"models", "Models"}, {"heatmap", "Heatmap"},
	{"stats", "Family and type statistics"}, {"pairs", "Pairs"},
	{"clusters", "Clusters"}, {"identify", "Identify"},
	{"detail", "Model detail"}, {"sparsity", "Cluster explorer"},
	{"sweep", "Sweep"}};

struct mp_view *mp_view_help_new(struct mp_tui *t)
{
	size_t nk;
	const struct mp_keydef *km = mp_keymap(&nk);
	struct help *h = calloc(1, sizeof *h);
	size_t cap = nk + 3 * (sizeof scope_title / sizeof scope_title[0]);
	if (!h || !(h->lines = calloc(cap, sizeof *h->lines))) {
		free(h);
		return NULL;
	}
	h->base.ops = &ops;
	h->base.app = t;
	h->rows = 20;
	for (size_t s = 0; s < sizeof scope_title / sizeof scope_title[0]; s++) {
		if (s)
			h->lines[h->n++][0] = '\0';
		snprintf(h->lines[h->n++], 128, "%s", scope_title[s][1]);
		for (size_t i = 0; i < nk; i++) {
			if (strcmp(km[i].scope, scope_title[s][0]))
				continue;
			char keys[64] = "";
			size_t j = i;
			for (; j < nk && km[j].action == km[i].action &&
			       !strcmp(km[j].scope, km[i].scope);
			     j++)
				snprintf(keys + strlen(keys),
					 sizeof keys - strlen(keys), "%s%s",
					 j > i ? ", " : "", km[j].name);
			snprintf(h->lines[h->n++], 128, "  %-18s %s", keys,
				 km[i].help);
			i = j - 1;
		}
	}
	return &h->base;
}
