/* canvas.c — the cell grid views draw into. */
#include "canvas.h"
#include "namecut.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mp_canvas *mp_canvas_new(int w, int h)
{
	struct mp_canvas *c = calloc(1, sizeof *c);
	if (!c || !mp_canvas_resize(c, w, h)) {
		free(c);
		return NULL;
	}
	return c;
}

void mp_canvas_free(struct mp_canvas *c)
{
	if (!c)
		return;
	free(c->cells);
	free(c);
}

bool mp_canvas_resize(struct mp_canvas *c, int w, int h)
{
	if (w < 1 || h < 1 || w > 4096 || h > 4096)
		return false;
	struct mp_cell *cells = malloc((size_t)w * (size_t)h * sizeof *cells);
	if (!cells)
		return false;
	free(c->cells);
	c->cells = cells;
	c->w = w;
	c->h = h;
	mp_canvas_clear(c);
	return true;
}

void mp_canvas_clear(struct mp_canvas *c)
{
	size_t n = (size_t)c->w * (size_t)c->h;
	for (size_t i = 0; i < n; i++)
		c->cells[i] = (struct mp_cell){' ', MP_STYLE_PLAIN};
}

void mp_canvas_put(struct mp_canvas *c, int x, int y, uint32_t ch,
		   struct mp_style st)
{
	if (x < 0 || y < 0 || x >= c->w || y >= c->h)
		return;
	c->cells[(size_t)y * c->w + x] = (struct mp_cell){ch, st};
}

const struct mp_cell *mp_canvas_at(const struct mp_canvas *c, int x, int y)
{
	if (x < 0 || y < 0 || x >= c->w || y >= c->h)
		return NULL;
	return &c->cells[(size_t)y * c->w + x];
}

void mp_canvas_fill(struct mp_canvas *c, int x, int y, int w, int h,
		    uint32_t ch, struct mp_style st)
{
	for (int j = y; j < y + h; j++)
		for (int i = x; i < x + w; i++)
			mp_canvas_put(c, i, j, ch, st);
}

/* Decode one UTF-8 sequence at s; *len gets its length (>= 1). Returns
 * the code point or '?' for anything invalid. */
static uint32_t utf8_get(const unsigned char *s, int *len)
{
	unsigned char b = s[0];
	int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3
				: (b >> 3) == 30 ? 4 : 0;
	if (n == 0) {
		*len = 1;
		return '?';
	}
	uint32_t cp = n == 1 ? b : b & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*len = i;
			return '?';
		}
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*len = n;
	static const uint32_t minv[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < minv[n] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		return '?';
	return cp;
}

/* One column wide in every terminal: printable ASCII, Latin, Greek,
 * Cyrillic, punctuation, arrows, box drawing, blocks and geometric shapes. */
static bool narrow(uint32_t cp)
{
	return (cp >= 0x20 && cp < 0x7f) || (cp >= 0xa0 && cp < 0x300) ||
	       (cp >= 0x370 && cp < 0x530) || (cp >= 0x2010 && cp < 0x2028) ||
	       (cp >= 0x2190 && cp < 0x2200) || (cp >= 0x2500 && cp < 0x2600);
}

int mp_canvas_text(struct mp_canvas *c, int x, int y, int maxw,
		   struct mp_style st, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0;
	while (*p && n < maxw && x + n < c->w) {
		int len;
		uint32_t cp = utf8_get(p, &len);
		p += len;
		mp_canvas_put(c, x + n, y, narrow(cp) ? cp : '?', st);
		n++;
	}
	return n;
}

int mp_canvas_printf(struct mp_canvas *c, int x, int y, int maxw,
		     struct mp_style st, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return mp_canvas_text(c, x, y, maxw, st, buf);
}

int mp_canvas_fit_middle(struct mp_canvas *c, int x, int y, int w,
			 struct mp_style st, const struct mp_caps *caps,
			 const char *s)
{
	char buf[1024];
	return mp_canvas_text(c, x, y, w, st,
			      mp_tui_cut_middle(s, w, caps->unicode, buf,
						sizeof buf));
}

void mp_canvas_attr(struct mp_canvas *c, int x, int y, int w, uint8_t attr)
{
	for (int i = x; i < x + w; i++)
		if (i >= 0 && y >= 0 && i < c->w && y < c->h)
			c->cells[(size_t)y * c->w + i].st.attr |= attr;
}

int mp_utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

char *mp_canvas_row(const struct mp_canvas *c, int y, char *buf, size_t size)
{
	size_t n = 0, keep = 0;
	buf[0] = '\0';
	if (y < 0 || y >= c->h || size < 1)
		return buf;
	for (int x = 0; x < c->w; x++) {
		char u[5];
		int len = mp_utf8_put(c->cells[(size_t)y * c->w + x].ch, u);
		if (n + (size_t)len + 1 > size)
			break;
		memcpy(buf + n, u, (size_t)len);
		n += (size_t)len;
		if (!(len == 1 && u[0] == ' '))
			keep = n;
	}
	buf[keep] = '\0';
	return buf;
}

char *mp_canvas_to_text(const struct mp_canvas *c)
{
	size_t rowmax = (size_t)c->w * 4 + 1;
	char *out = malloc(rowmax * (size_t)c->h + 1), *row = malloc(rowmax);
	if (!out || !row) {
		free(out);
		free(row);
		return NULL;
	}
	size_t n = 0;
	for (int y = 0; y < c->h; y++) {
		mp_canvas_row(c, y, row, rowmax);
		size_t len = strlen(row);
		memcpy(out + n, row, len);
		n += len;
		out[n++] = '\n';
	}
	out[n] = '\0';
	free(row);
	return out;
}
