/* view.h — the interface without a terminal: a stack of views over the
 * loaded data, key and mouse handling, the title and bottom lines, and the
 * search prompt. term_curses.c feeds it keys and copies its canvas to the
 * screen; tests feed it key scripts and read the canvas. The app owns its
 * views and borrows the data. */
#ifndef MP_VIEW_H
#define MP_VIEW_H

#include "actions.h"
#include "canvas.h"
#include "tui_data.h"

struct mp_tui;
struct mp_view;

struct mp_view_ops {
	const char *name; /* scope in the key table, shown in the title */
	/* Draw rows 1 .. c->h-2 (row 0 is the title, row c->h-1 the
	 * bottom line, both drawn by the app). */
	void (*draw)(struct mp_view *v, struct mp_canvas *c);
	/* Handle an action; false when it means nothing here. */
	bool (*action)(struct mp_view *v, enum mp_action a);
	/* Mouse click at canvas (x, y); may be NULL. */
	void (*click)(struct mp_view *v, int x, int y);
	/* Find text from the current position (dir MP_SEARCH_FROM), after it
	 * (MP_SEARCH_NEXT) or before it (MP_SEARCH_PREV); false when nothing
	 * matches. May be NULL. */
	bool (*search)(struct mp_view *v, const char *text, int dir);
	/* The current matrix changed; may be NULL. */
	void (*matrix_changed)(struct mp_view *v);
	void (*free)(struct mp_view *v);
};

enum { MP_SEARCH_PREV = -1, MP_SEARCH_FROM = 0, MP_SEARCH_NEXT = 1 };

struct mp_view {
	const struct mp_view_ops *ops;
	struct mp_tui *app;
	/* Optional, set by list views: their cursor and row count, shown as
	 * "20/48" at the right of the bottom line. */
	const size_t *pos_cur, *pos_n;
	/* Optional, set by list views: keep only the rows matching text
	 * (case-insensitive; "" keeps every row). */
	void (*filter)(struct mp_view *v, const char *text);
	/* Optional, set by views that ask for a value (mp_tui_ask): the
	 * text typed at the prompt of that kind, on Enter. */
	void (*answer)(struct mp_view *v, char kind, const char *text);
};

#define MP_VIEW_DEPTH 16

struct mp_tui {
	struct mp_tui_data *data; /* borrowed; views may switch its matrix */
	struct mp_caps caps;
	struct mp_view *stack[MP_VIEW_DEPTH];
	int depth;
	bool quit;
	int w, h;          /* size of the last draw */
	char message[256]; /* bottom line message, cleared by the next key */
	bool prompting;    /* the search or filter prompt is open */
	char prompt_kind;  /* '/' search, '|' filter, else a view's question */
	char prompt_label[48]; /* the question's words (mp_tui_ask) */
	char prompt[128];  /* text typed so far */
	char search[128];  /* the last search */
	/* Set by views that take a while (clustering): shown as progress
	 * through this callback when non-NULL. */
	void (*busy)(void *ctx, const char *what);
	void *busy_ctx;
};

/* An app showing the models view of data; NULL on allocation failure. */
struct mp_tui *mp_tui_new(struct mp_tui_data *data,
			  struct mp_caps caps);
void mp_tui_free(struct mp_tui *t);

/* Feed one key (MP_KEY_RESIZE only redraws; MP_KEY_MOUSE goes through
 * mp_tui_click). */
void mp_tui_key(struct mp_tui *t, int key);
void mp_tui_click(struct mp_tui *t, int x, int y);
/* Draw the whole screen into c. */
void mp_tui_draw(struct mp_tui *t, struct mp_canvas *c);

/* Push a view (taking ownership); when the stack is full the view is
 * freed and a message shown. */
void mp_tui_push(struct mp_tui *t, struct mp_view *v);
/* Pop the top view unless it is the last one. */
void mp_tui_pop(struct mp_tui *t);
/* Hold matrix k of the results file and tell every view; false (and a
 * message) on failure. */
bool mp_tui_select_matrix(struct mp_tui *t, size_t k);
/* Open the prompt for a value the top view asks for: label (e.g.
 * "feature: ") then the text typed; Enter gives it to the view's answer
 * with kind (any but '/' and '|'), Esc cancels. */
void mp_tui_ask(struct mp_tui *t, char kind, const char *label);
/* Set the bottom-line message. */
void mp_tui_message(struct mp_tui *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Announce long work (a no-op without a busy callback). */
void mp_tui_busy(struct mp_tui *t, const char *what);

/* Views (view_<name>.c). Each returns NULL on allocation failure. */
struct mp_view *mp_view_models_new(struct mp_tui *t);
struct mp_view *mp_view_detail_new(struct mp_tui *t, size_t model);
struct mp_view *mp_view_heatmap_new(struct mp_tui *t);
struct mp_view *mp_view_help_new(struct mp_tui *t);
struct mp_view *mp_view_stats_new(struct mp_tui *t);
/* kind -1: every pair; else the pairs of group `group` of that kind
 * (enum mp_group_kind). */
struct mp_view *mp_view_pairs_new(struct mp_tui *t, int kind, size_t group);
/* The heatmap of only models[0..n) (indices into data->models, copied);
 * models absent from the current matrix are left out. */
struct mp_view *mp_view_heatmap_subset_new(struct mp_tui *t,
					   const size_t *models, size_t n);
/* The current matrix restricted to models[0..n) present in it, in that
 * order; *rows receives [result->n] its rows in the current matrix
 * (caller frees both). NULL when out of memory. */
struct mp_simmatrix *mp_tui_submatrix(const struct mp_tui *t,
				      const size_t *models, size_t n,
				      size_t **rows);
/* Position of row r in rows[0..n), -1 when absent or r < 0. */
long mp_tui_subrow(const size_t *rows, size_t n, long r);
/* The dendrogram of the current matrix and its clusters. */
struct mp_view *mp_view_cluster_new(struct mp_tui *t);
/* Models a and b (indices into data->models) side by side. */
struct mp_view *mp_view_pair_new(struct mp_tui *t, size_t a, size_t b);
/* The matrices of the results file; Enter holds the one selected. */
struct mp_view *mp_view_matrices_new(struct mp_tui *t);
/* Where a model comes from (tui_ident.h): takes id (freed when the view
 * is, or at once on failure). */
struct mp_tui_ident;
struct mp_view *mp_view_identify_new(struct mp_tui *t,
				     struct mp_tui_ident *id);
/* Identify model mi of the data against the other models and push the
 * identify view; false (and a message) on failure. */
bool mp_tui_identify_model(struct mp_tui *t, size_t mi);
/* Fingerprint the model file or directory at path, identify it against
 * the models of the data and push the identify view; errors name the
 * file. */
mp_status mp_tui_identify_file(struct mp_tui *t, const char *path,
			       struct mp_error *err);

/* The cluster explorer (view_sparsity.c, tui_sparsity.h): takes sp
 * (freed when the view is, or at once on failure). */
struct mp_tui_sp;
struct mp_view *mp_view_sparsity_new(struct mp_tui *t, struct mp_tui_sp *sp);
/* Open the model file or directory at path and push its cluster explorer;
 * errors name the file. */
mp_status mp_tui_sparsity_file(struct mp_tui *t, const char *path,
			       struct mp_error *err);
/* The same for model mi of the data, through its registry path; false
 * (and a message) on failure. */
bool mp_tui_sparsity_model(struct mp_tui *t, size_t mi);

/* A sweep's heatmaps, accuracy plot, profile and metric correlation
 * (view_sweep.c, tui_sweep.h): takes sw (freed when the view is, or at
 * once on failure). */
struct mp_tui_sw;
struct mp_view *mp_view_sweep_new(struct mp_tui *t, struct mp_tui_sw *sw);
/* Load and compute the sweep of path (a manifest or a directory holding
 * manifest.json) and push its view; errors name the file. */
mp_status mp_tui_sweep_file(struct mp_tui *t, const char *path,
			    struct mp_error *err);

/* Shared drawing helpers (view.c). */
extern const struct mp_style mp_style_head, mp_style_sel, mp_style_dim;
/* The current matrix or NULL when the results file gave none. */
const struct mp_simmatrix *mp_tui_matrix(const struct mp_tui *t);
/* "tensors/cosine" of the current matrix, or "no matrix". */
const char *mp_tui_matrix_name(const struct mp_tui *t, char *buf,
			       size_t size);
/* A list cursor and scroll offset kept in range for rows visible rows of
 * n; handles UP/DOWN/PAGE_UP/PAGE_DOWN/HALF_UP/HALF_DOWN/TOP/BOTTOM,
 * false for others. */
bool mp_list_move(size_t *cur, size_t *top, size_t n, int rows,
		  enum mp_action a);
/* Keep cur visible. */
void mp_list_clamp(size_t *cur, size_t *top, size_t n, int rows);
/* Search a list of n rows from *cur (after it for MP_SEARCH_NEXT,
 * backwards before it for MP_SEARCH_PREV), wrapping around, for the first
 * row i with hit(ctx, i, text); moves *cur there and returns true, false
 * when no row matches. */
bool mp_list_search(size_t *cur, size_t n, int dir,
		    bool (*hit)(const void *ctx, size_t i, const char *text),
		    const void *ctx, const char *text);
/* A click at screen row y on a list whose row `top` is drawn at screen row
 * y0, rows rows high, of n rows: on the cursor's row true (open it), on
 * another row the cursor moves there (false), outside nothing (false). */
bool mp_list_click(size_t *cur, size_t top, size_t n, int rows, int y0,
		   int y);
/* One more zeroed element of size bytes at the end of *arr (n used, cap
 * allocated, doubling from 64); NULL when out of memory (nothing
 * changes). */
void *mp_tui_grow(void *arr, size_t *n, size_t *cap, size_t size);
/* Case-insensitive substring test. */
bool mp_tui_match(const char *hay, const char *needle);
/* A character of the plain ramp " .:-=+*#%@" for t in [0, 1]. */
char mp_tui_plain_ramp(double t);
/* Colour of t in [0, 1] on the heatmap ramp (dark blue = less alike,
 * yellow = more alike) for these capabilities. */
uint32_t mp_tui_ramp_color(const struct mp_caps *caps, double t);
/* A bar of height t in [0, 1] in one cell: ▁..█ or the plain ramp. */
uint32_t mp_tui_bar_char(const struct mp_caps *caps, double t);

#endif
