/* actions.h — the one table that maps keys to actions. It drives the key
 * handling of every view, the help screen and `modelprint tui --keys`, from
 * which tests check the key table of man/modelprint-tui.1. Keys are Unicode
 * code points or the MP_KEY_* codes below (term_curses.c translates the
 * curses key codes). Everything here is static data. */
#ifndef MP_ACTIONS_H
#define MP_ACTIONS_H

#include <stddef.h>

enum {
	MP_KEY_BASE = 0x110000,
	MP_KEY_UP, MP_KEY_DOWN, MP_KEY_LEFT, MP_KEY_RIGHT,
	MP_KEY_PGUP, MP_KEY_PGDN, MP_KEY_HOME, MP_KEY_END,
	MP_KEY_ENTER, MP_KEY_ESC, MP_KEY_BACKSPACE, MP_KEY_TAB,
	MP_KEY_RESIZE, MP_KEY_MOUSE,
	MP_KEY_F1, MP_KEY_F10, MP_KEY_WHEEL_UP, MP_KEY_WHEEL_DOWN,
};
#define MP_KEY_CTRL(c) ((c) & 0x1f)

#define MP_ACTION_LIST(X)                                                     \
	X(NONE) X(QUIT) X(HELP) X(BACK) X(REDRAW) X(UP) X(DOWN) X(LEFT)      \
	X(RIGHT) X(PAGE_UP) X(PAGE_DOWN) X(TOP) X(BOTTOM) X(ENTER)           \
	X(SEARCH) X(SEARCH_NEXT) X(SORT) X(SORT_REVERSE) X(ZOOM_IN)          \
	X(ZOOM_OUT) X(METRIC) X(ORDER) X(FILTER) X(VIEW_MODELS)              \
	X(VIEW_HEATMAP) X(VIEW_STATS) X(VIEW_PAIRS) X(FIT) X(SCALE)          \
	X(AGGREGATE) X(COLUMNS) X(VIEW_CLUSTERS) X(CUT_LOOSER)               \
	X(CUT_TIGHTER) X(COLLAPSE) X(QUIT_ALL) X(SEARCH_PREV) X(HALF_UP)     \
	X(HALF_DOWN) X(LIST_FILTER) X(MATRIX_PICK) X(MATRIX_PREV)    \
	X(IDENTIFY) X(SPARSITY) X(FEATURE_NEXT) X(FEATURE_PREV)             \
	X(FEATURE_ASK) X(CLUSTERS_MORE) X(CLUSTERS_FEWER) X(CLUSTERS_ASK)    \
	X(NFEAT_MORE) X(NFEAT_FEWER) X(NFEAT_ASK) X(SEED_NEXT) X(SEED_ASK)   \
	X(AXIS) X(SWEEP_METRIC) X(SWEEP_METRIC_PREV)

enum mp_action {
#define MP_X_ACT(a) MP_ACT_##a,
	MP_ACTION_LIST(MP_X_ACT)
#undef MP_X_ACT
	MP_ACT_COUNT
};

/* The key table: key, its name (as written in the help screen and the man
 * page), action, scope and help text. Scope "all" applies in every view;
 * a view's own scope is searched first. Consecutive rows with the same
 * action and scope share one help line. */
#define MP_KEYMAP(X)                                                          \
	X('q', "q", QUIT, "all",                                              \
	  "close the view; quit from the last one")                           \
	X('Q', "Q", QUIT_ALL, "all", "quit from any view")                    \
	X(MP_KEY_F10, "F10", QUIT_ALL, "all", "quit from any view")           \
	X('?', "?", HELP, "all", "this help")                                 \
	X(MP_KEY_F1, "F1", HELP, "all", "this help")                          \
	X(MP_KEY_ESC, "Esc", BACK, "all",                                     \
	  "back to the view shown before")                                    \
	X('1', "1", VIEW_MODELS, "all", "models view")                        \
	X('2', "2", VIEW_HEATMAP, "all", "heatmap of the current matrix")     \
	X('3', "3", VIEW_STATS, "all", "family and type statistics")          \
	X('4', "4", VIEW_PAIRS, "all", "every pair sorted by score")          \
	X('5', "5", VIEW_CLUSTERS, "all",                                     \
	  "clusters: dendrogram and its cut")                                 \
	X('m', "m", METRIC, "all",                                            \
	  "next matrix (method/metric) of the results file")                  \
	X('p', "p", MATRIX_PREV, "all", "previous matrix")                    \
	X('M', "M", MATRIX_PICK, "all", "choose the matrix from a list")      \
	X('/', "/", SEARCH, "all", "search (Enter to go, Esc to cancel)")     \
	X('n', "n", SEARCH_NEXT, "all", "next match of the search")           \
	X('N', "N", SEARCH_PREV, "all", "previous match of the search")       \
	X('|', "|", LIST_FILTER, "all",                                       \
	  "filter the list as you type (Enter keeps it, Esc clears it)")      \
	X(MP_KEY_CTRL('l'), "C-l", REDRAW, "all", "redraw the screen")        \
	X('k', "k", UP, "all", "up")                                          \
	X(MP_KEY_UP, "Up", UP, "all", "up")                                   \
	X(MP_KEY_WHEEL_UP, "WheelUp", UP, "all", "up")                        \
	X('j', "j", DOWN, "all", "down")                                      \
	X(MP_KEY_DOWN, "Down", DOWN, "all", "down")                           \
	X(MP_KEY_WHEEL_DOWN, "WheelDown", DOWN, "all", "down")                \
	X('h', "h", LEFT, "all",                                              \
	  "left; back in lists and at the left edge of the heatmap")         \
	X(MP_KEY_LEFT, "Left", LEFT, "all",                                   \
	  "left; back in lists and at the left edge of the heatmap")         \
	X('l', "l", RIGHT, "all", "right; open in lists")                     \
	X(MP_KEY_RIGHT, "Right", RIGHT, "all", "right; open in lists")        \
	X(MP_KEY_PGUP, "PgUp", PAGE_UP, "all", "one screen up")               \
	X(MP_KEY_CTRL('b'), "C-b", PAGE_UP, "all", "one screen up")           \
	X(MP_KEY_PGDN, "PgDn", PAGE_DOWN, "all", "one screen down")           \
	X(' ', "Space", PAGE_DOWN, "all", "one screen down")                  \
	X(MP_KEY_CTRL('f'), "C-f", PAGE_DOWN, "all", "one screen down")       \
	X(MP_KEY_CTRL('u'), "C-u", HALF_UP, "all", "half a screen up")        \
	X(MP_KEY_CTRL('d'), "C-d", HALF_DOWN, "all", "half a screen down")    \
	X('g', "g", TOP, "all", "first row")                                  \
	X(MP_KEY_HOME, "Home", TOP, "all", "first row")                       \
	X('G', "G", BOTTOM, "all", "last row")                                \
	X(MP_KEY_END, "End", BOTTOM, "all", "last row")                       \
	X(MP_KEY_ENTER, "Enter", ENTER, "all",                                \
	  "open the selected model, group or pair")                           \
	X('s', "s", SORT, "models", "sort by the next column")                \
	X('S', "S", SORT_REVERSE, "models", "reverse the sort order")         \
	X('i', "i", IDENTIFY, "models",                                       \
	  "identify the model against the other models")                      \
	X(MP_KEY_ENTER, "Enter", ENTER, "identify",                           \
	  "show or hide the scores of the reference of the row")              \
	X('+', "+", ZOOM_IN, "heatmap", "zoom in")                            \
	X('=', "=", ZOOM_IN, "heatmap", "zoom in")                            \
	X('-', "-", ZOOM_OUT, "heatmap", "zoom out")                          \
	X('o', "o", ORDER, "heatmap",                                         \
	  "order rows by family or by hierarchical clustering")               \
	X('0', "0", FIT, "heatmap", "fit the matrix to the window")           \
	X('r', "r", SCALE, "heatmap",                                         \
	  "colour scale: 2nd-98th percentile or min-max")                     \
	X('a', "a", AGGREGATE, "heatmap",                                     \
	  "zoomed-out cells: mean or most alike of the block")                \
	X('c', "c", COLUMNS, "heatmap", "column names above the matrix")      \
	X('f', "f", FILTER, "stats",                                          \
	  "next table: intrafamily, interfamily, type pairs")                 \
	X('s', "s", SORT, "stats", "sort by the next column")                 \
	X('S', "S", SORT_REVERSE, "stats", "reverse the sort order")          \
	X('f', "f", FILTER, "pairs",                                          \
	  "next filter: all, intrafamily, interfamily, each type pair")       \
	X('>', ">", CUT_LOOSER, "clusters",                                   \
	  "move the cut one merge up: fewer, larger clusters")                \
	X('<', "<", CUT_TIGHTER, "clusters",                                  \
	  "move the cut one merge down: more, smaller clusters")              \
	X('c', "c", COLLAPSE, "clusters",                                     \
	  "collapse the subtree of the row, or expand a collapsed one")        \
	X('z', "z", SPARSITY, "detail",                                       \
	  "cluster explorer: the sparsity of the model's matrices")           \
	X(MP_KEY_ENTER, "Enter", ENTER, "sparsity",                           \
	  "analyse the tensor of the row")                                    \
	X(']', "]", FEATURE_NEXT, "sparsity", "next feature")                 \
	X('[', "[", FEATURE_PREV, "sparsity", "previous feature")             \
	X('f', "f", FEATURE_ASK, "sparsity", "type the feature index")        \
	X('+', "+", CLUSTERS_MORE, "sparsity", "one cluster more")            \
	X('=', "=", CLUSTERS_MORE, "sparsity", "one cluster more")            \
	X('-', "-", CLUSTERS_FEWER, "sparsity", "one cluster fewer")          \
	X('K', "K", CLUSTERS_ASK, "sparsity", "type the number of clusters")  \
	X('>', ">", NFEAT_MORE, "sparsity", "twice the nearest features")     \
	X('<', "<", NFEAT_FEWER, "sparsity", "half the nearest features")     \
	X('F', "F", NFEAT_ASK, "sparsity",                                    \
	  "type the number of nearest features")                              \
	X('r', "r", SEED_NEXT, "sparsity",                                    \
	  "next seed: a new random feature and k-means")                      \
	X('R', "R", SEED_ASK, "sparsity", "type the seed")                    \
	X('a', "a", AXIS, "sparsity", "features along rows or columns")    \
	X('m', "m", SWEEP_METRIC, "sweep",                                    \
	  "next metric: TN, logit cosine, frequency JS")                      \
	X(MP_KEY_TAB, "Tab", SWEEP_METRIC, "sweep",                           \
	  "next metric: TN, logit cosine, frequency JS")                      \
	X('p', "p", SWEEP_METRIC_PREV, "sweep", "previous metric")

struct mp_keydef {
	int key;
	const char *name;
	enum mp_action action;
	const char *scope;
	const char *help;
};

/* The table above; *n receives its length. */
const struct mp_keydef *mp_keymap(size_t *n);

/* The action of key in a view of the given scope (its own rows first,
 * then "all"); MP_ACT_NONE when the key means nothing there. */
enum mp_action mp_action_for(int key, const char *scope);

/* Name of a key as in the table ("q", "Enter", "C-l"); printable keys not
 * in the table are written into buf (at least 8 bytes). */
const char *mp_key_name(int key, char buf[8]);

/* Parse a key script such as "jjl+<Enter>/blaze<Enter>": characters stand
 * for themselves, <Name> for a named key of the table (<Esc>, <Up>, ...).
 * Writes at most max keys; returns the count, or -1 on an unknown <name>
 * (its text is copied to bad, at most 32 bytes). */
int mp_keys_parse(const char *script, int *keys, int max, char bad[32]);

#endif
