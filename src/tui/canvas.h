/* canvas.h — a grid of character cells with colours and attributes that the
 * views draw into. It knows nothing of curses: term_curses.c copies it to
 * the screen, tests read its text. The canvas owns its cells. */
#ifndef MP_CANVAS_H
#define MP_CANVAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Colours: MP_COLOR_DEFAULT, an xterm-256 palette index (0..255), or a
 * 24-bit colour MP_RGB(r, g, b) (only produced when the terminal has true
 * colour, see struct mp_caps). */
#define MP_COLOR_DEFAULT 0xffffffffu
#define MP_RGB_FLAG 0x01000000u
#define MP_RGB(r, g, b)                                                       \
	(MP_RGB_FLAG | ((uint32_t)(r) << 16) | ((uint32_t)(g) << 8) |         \
	 (uint32_t)(b))

enum { MP_ATTR_BOLD = 1, MP_ATTR_REVERSE = 2, MP_ATTR_UNDERLINE = 4,
       MP_ATTR_DIM = 8 };

struct mp_style {
	uint32_t fg, bg;
	uint8_t attr;
};
#define MP_STYLE_PLAIN ((struct mp_style){MP_COLOR_DEFAULT, MP_COLOR_DEFAULT, 0})

struct mp_cell {
	uint32_t ch; /* a Unicode code point of width 1 */
	struct mp_style st;
};

struct mp_canvas {
	int w, h;
	struct mp_cell *cells; /* [h*w] row-major */
};

/* What the terminal can show; views choose characters and colours by it. */
struct mp_caps {
	int colors;     /* 0 (monochrome or NO_COLOR), 8, 256 */
	bool truecolor; /* MP_RGB colours are shown as such */
	bool unicode;   /* block characters are available */
};

/* A w x h canvas of blanks; NULL on allocation failure or bad size. */
struct mp_canvas *mp_canvas_new(int w, int h);
void mp_canvas_free(struct mp_canvas *c);
/* Change the size (contents become blank); false on allocation failure. */
bool mp_canvas_resize(struct mp_canvas *c, int w, int h);
/* Blank every cell. */
void mp_canvas_clear(struct mp_canvas *c);

/* Set one cell; out-of-range coordinates are ignored. */
void mp_canvas_put(struct mp_canvas *c, int x, int y, uint32_t ch,
		   struct mp_style st);
/* The cell at (x, y) or NULL outside. */
const struct mp_cell *mp_canvas_at(const struct mp_canvas *c, int x, int y);
/* Fill a rectangle with ch. */
void mp_canvas_fill(struct mp_canvas *c, int x, int y, int w, int h,
		    uint32_t ch, struct mp_style st);
/* Draw UTF-8 text from (x, y), at most maxw columns (clipped at the right
 * edge too). Control characters, invalid UTF-8 and characters that are not
 * one column wide are drawn as '?'. Returns the columns drawn. */
int mp_canvas_text(struct mp_canvas *c, int x, int y, int maxw,
		   struct mp_style st, const char *s);
/* printf-style mp_canvas_text. */
int mp_canvas_printf(struct mp_canvas *c, int x, int y, int maxw,
		     struct mp_style st, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Draw s in at most w columns from (x, y); when it is longer, keep both
 * ends and cut the middle, marked by "…" (caps->unicode) or "..."
 * (mp_tui_cut_middle). Returns the columns drawn. */
int mp_canvas_fit_middle(struct mp_canvas *c, int x, int y, int w,
			 struct mp_style st, const struct mp_caps *caps,
			 const char *s);
/* Apply attr (OR) to every cell of a row segment. */
void mp_canvas_attr(struct mp_canvas *c, int x, int y, int w, uint8_t attr);

/* Text of row y as UTF-8 without trailing blanks into buf (size bytes,
 * always terminated); returns buf. */
char *mp_canvas_row(const struct mp_canvas *c, int y, char *buf, size_t size);
/* The whole canvas as text: rows without trailing blanks, each ended by
 * '\n'. Caller frees; NULL on allocation failure. */
char *mp_canvas_to_text(const struct mp_canvas *c);

/* Encode one code point as UTF-8 into out (at least 5 bytes); returns the
 * length. */
int mp_utf8_put(uint32_t cp, char *out);

#endif
