/* namecut.h — names fitted to a column width: cut in the middle with an
 * ellipsis so that both ends stay readable ("facemesh-…-detector"). Widths
 * count code points, one column each, as mp_canvas_text draws them. */
#ifndef MP_NAMECUT_H
#define MP_NAMECUT_H

#include <stdbool.h>
#include <stddef.h>

/* Columns s takes (code points; an invalid byte counts as one). */
int mp_tui_text_width(const char *s);

/* s itself into buf when it fits in w columns, else its first and last
 * code points around "…" (unicode) or "..." so the result is w columns
 * wide (just the start when w is smaller than the ellipsis). Always
 * terminates buf (size bytes); returns buf. */
char *mp_tui_cut_middle(const char *s, int w, bool unicode, char *buf,
			size_t size);

#endif
